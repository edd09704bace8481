#include "loader/kernel_objects.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/errors.h"
#include "base/unique_fd.h"
#include "loader/libbpf_log.h"
#include "loader/pins.h"

namespace vnet {

std::optional<bool> PinnedLinkHasDevice(const std::string& path) {
  auto fd = OpenPinned(path);
  if (!fd.ok()) return std::nullopt;
  bpf_link_info info{};
  std::uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd->get(), &info, &len) != 0) return std::nullopt;
  // Both put the ifindex first in the union.
  return info.xdp.ifindex != 0;
}

std::optional<std::uint32_t> MapId(int map_fd) {
  bpf_map_info info{};
  std::uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(map_fd, &info, &len) != 0) return std::nullopt;
  return info.id;
}

bool ProgramUsingMapLoaded(absl::string_view prog_name, std::uint32_t map_id) {
  std::uint32_t id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    UniqueFd fd(bpf_prog_get_fd_by_id(id));
    if (!fd.valid()) continue;
    std::uint32_t map_ids[64] = {};
    bpf_prog_info info{};
    info.nr_map_ids = 64;
    info.map_ids = reinterpret_cast<std::uint64_t>(map_ids);
    std::uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) continue;
    if (absl::string_view(info.name, strnlen(info.name, sizeof(info.name))) != prog_name) continue;
    for (std::uint32_t i = 0; i < std::min<std::uint32_t>(info.nr_map_ids, 64); ++i)
      if (map_ids[i] == map_id) return true;
  }
  return false;
}

bool KernelHasHelper(int prog_type, int func_id) {
  CaptureLibbpfLog();
  int ret = libbpf_probe_bpf_helper(static_cast<bpf_prog_type>(prog_type), static_cast<bpf_func_id>(func_id), nullptr);
  (void)TakeLibbpfWarning();
  return ret > 0;
}

}  // namespace vnet
