// Questions libvnet asks the kernel about BPF objects it did not just create:
// whether a pinned link still has its device, whether a program is still
// loaded, which helpers the kernel offers. Answers only; nothing is changed.
#ifndef VNET_LOADER_KERNEL_OBJECTS_H
#define VNET_LOADER_KERNEL_OBJECTS_H

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vnet {

// Whether the bpf_link pinned at `path` still has its device (XDP and tcx
// links report ifindex 0 once the device is gone); nullopt when it cannot be
// opened or inspected.
std::optional<bool> PinnedLinkHasDevice(const std::string& path);

// The kernel's id of the map behind `map_fd`; nullopt when it cannot be inspected.
std::optional<std::uint32_t> MapId(int map_fd);

// Whether a loaded program named `prog_name` uses the map with id `map_id`
// (a cls_bpf filter holds its program, and goes with its device).
bool ProgramUsingMapLoaded(absl::string_view prog_name, std::uint32_t map_id);

// Whether programs of `prog_type` may call helper `func_id` (both from
// <linux/bpf.h>); libbpf's complaints while probing are swallowed.
bool KernelHasHelper(int prog_type, int func_id);

}  // namespace vnet

#endif
