// The tc attachments of a fabric's programs (uplink and ports): a
// pinned tcx link where the kernel has tcx, a cls_bpf filter otherwise. The
// choice is made once per fabric at attach time and kept in its config.
#ifndef VNET_FABRIC_TC_HOOK_H
#define VNET_FABRIC_TC_HOOK_H

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "loader/links.h"

namespace vnet {

enum class TcHook { kAuto, kTcx, kClsBpf };
absl::StatusOr<TcHook> ParseTcHook(absl::string_view text);
// kAuto resolved for this kernel.
TcHook ResolveTcHook(TcHook requested);

// `pin` is where a tcx link is pinned (unused for cls_bpf).
absl::Status AttachTc(TcHook hook, TcDirection direction, int prog_fd, int ifindex, absl::string_view ifname,
                      const std::string& pin);
absl::Status DetachTc(TcHook hook, TcDirection direction, int ifindex, absl::string_view ifname,
                      const std::string& pin);

}  // namespace vnet

#endif
