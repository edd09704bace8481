// The tc attachments of a fabric's programs (uplink and ports): a
// pinned tcx link where the kernel has tcx, a cls_bpf filter otherwise. The
// choice is made once per fabric at attach time and kept in its config.
#ifndef VNET_LOADER_TC_HOOK_H
#define VNET_LOADER_TC_HOOK_H

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "loader/links.h"
#include "vnet/abi.h"

namespace vnet {

enum class TcHook { kAuto, kTcx, kClsBpf };
absl::StatusOr<TcHook> ParseTcHook(absl::string_view text);
// kAuto resolved for this kernel.
TcHook ResolveTcHook(TcHook requested);
// The choice, recorded in the fabric's config at attach and read back by
// everything that later attaches, replaces, detaches or shows its programs.
void RecordTcHook(TcHook hook, vnet_config& config);
TcHook FabricTcHook(const vnet_config& config);
// "tcx" or "cls_bpf", as show and the config file name them.
const char* TcHookName(TcHook hook);

// `pin` is where a tcx link is pinned (unused for cls_bpf).
absl::Status AttachTc(TcHook hook, TcDirection direction, int prog_fd, int ifindex, absl::string_view ifname,
                      const std::string& pin);
absl::Status DetachTc(TcHook hook, TcDirection direction, int ifindex, absl::string_view ifname,
                      const std::string& pin);

}  // namespace vnet

#endif
