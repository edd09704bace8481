#include "absl/strings/string_view.h"
#include "fabric/registry.h"

#include <bpf/bpf.h>
#include <net/if.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "fabric/types.h"
#include "loader/errors.h"
#include "loader/pins.h"

namespace vnet {

std::uint64_t CurrentNetnsIno() {
  struct stat st {};
  if (::stat("/proc/thread-self/ns/net", &st) != 0) return 0;
  return st.st_ino;
}

std::vector<std::string> ListLocalFabrics() {
  std::vector<std::string> local;
  std::uint64_t here = CurrentNetnsIno();
  for (const auto& fabric : ListFabricDirs()) {
    auto maps = FabricMaps::Open(fabric);
    if (!maps.ok()) continue;
    auto config = maps->ReadConfig();
    if (config.ok() && config->netns_cookie == here) local.push_back(fabric);
  }
  return local;
}

absl::StatusOr<vnet_config> ReadPinnedConfig(const std::string& fabric) {
  std::string path = FabricPinPath(fabric, VNET_MAP_CONFIG);
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

absl::Status WritePinnedConfig(const std::string& fabric, const vnet_config& config) {
  std::string path = FabricPinPath(fabric, VNET_MAP_CONFIG);
  VNET_ASSIGN_OR_RETURN(UniqueFd fd, OpenPinned(path));
  std::uint32_t zero = 0;
  if (bpf_map_update_elem(fd.get(), &zero, &config, BPF_ANY) != 0) return ErrnoStatus(errno, "write", path);
  return absl::OkStatus();
}

std::vector<std::string> ListOlderLocalFabrics() {
  std::vector<std::string> older;
  std::uint64_t here = CurrentNetnsIno();
  for (const auto& fabric : ListFabricDirs()) {
    auto config = ReadPinnedConfig(fabric);
    if (config.ok() && config->netns_cookie == here && config->abi_version != 0 &&
        config->abi_version < VNET_ABI_VERSION)
      older.push_back(fabric);
  }
  return older;
}

std::vector<std::string> RemoveIncompleteFabrics() {
  std::vector<std::string> removed;
  for (const auto& fabric : ListFabricDirs()) {
    auto maps = FabricMaps::Open(fabric);
    // Another vnet version's fabric is not half-built: leave it to that version.
    if (!maps.ok() && absl::IsFailedPrecondition(maps.status())) continue;
    auto config = maps.ok() ? maps->ReadConfig() : absl::StatusOr<vnet_config>(maps.status());
    if (config.ok() && config->netns_cookie != 0) continue;
    if (RemoveFabricDir(fabric).ok()) removed.push_back(fabric);
  }
  return removed;
}

std::string PortLinkPin(std::uint32_t ifindex) { return absl::StrCat("link_port_", ifindex); }

absl::StatusOr<std::string> ResolveFabric(absl::string_view name_or_uplink) {
  auto local = ListLocalFabrics();
  for (const auto& fabric : local)
    if (fabric == name_or_uplink) return fabric;
  unsigned ifindex = if_nametoindex(std::string(name_or_uplink).c_str());
  if (ifindex) {
    for (const auto& fabric : local) {
      auto maps = FabricMaps::Open(fabric);
      if (!maps.ok()) continue;
      auto config = maps->ReadConfig();
      if (config.ok() && config->uplink_ifindex == ifindex) return fabric;
    }
    for (const auto& fabric : ListOlderLocalFabrics()) {
      auto config = ReadPinnedConfig(fabric);
      if (config.ok() && config->uplink_ifindex == ifindex) return fabric;
    }
  }
  // A fabric whose maps this vnetctl cannot read (another version, or
  // half-built) can still be named, so that detach can remove it.
  if (ValidateFabricName(name_or_uplink).ok() && FabricDirExists(name_or_uplink) &&
      !FabricMaps::Open(std::string(name_or_uplink)).ok())
    return std::string(name_or_uplink);
  return absl::NotFoundError(absl::StrCat(name_or_uplink, ": no fabric by that name or uplink"));
}

std::optional<Membership> FindMembership(std::uint32_t ifindex) {
  for (const auto& fabric : ListLocalFabrics()) {
    auto maps = FabricMaps::Open(fabric);
    if (!maps.ok()) continue;
    auto config = maps->ReadConfig();
    if (config.ok() && config->uplink_ifindex == ifindex) return Membership{fabric, true};
    auto port = maps->LookupPort(ifindex);
    if (port.ok() && port->has_value()) return Membership{fabric, false};
  }
  return std::nullopt;
}

}  // namespace vnet
