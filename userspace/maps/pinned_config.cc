#include "maps/pinned_config.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "base/unique_fd.h"
#include "loader/pins.h"

namespace vnet {

absl::StatusOr<vnet_config> ReadConfigMapAt(const std::string& path) {
  VNET_ASSIGN_OR_RETURN(UniqueFd fd, OpenPinned(path));
  bpf_map_info info{};
  std::uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return ErrnoStatus(errno, "inspect", path);
  if (info.value_size != sizeof(vnet_config))
    return absl::FailedPreconditionError(absl::StrCat(path, ": a configuration of ", info.value_size,
                                                      " bytes, not of any vnet ABI this vnetctl knows"));
  vnet_config config{};
  std::uint32_t zero = 0;
  if (bpf_map_lookup_elem(fd.get(), &zero, &config) != 0 && errno != ENOENT) return ErrnoStatus(errno, "read", path);
  return config;
}

absl::Status WriteConfigMapAt(const std::string& path, const vnet_config& config) {
  VNET_ASSIGN_OR_RETURN(UniqueFd fd, OpenPinned(path));
  std::uint32_t zero = 0;
  if (bpf_map_update_elem(fd.get(), &zero, &config, BPF_ANY) != 0) return ErrnoStatus(errno, "write", path);
  return absl::OkStatus();
}

}  // namespace vnet
