// Attaching programs to devices as bpf_links (XDP links and tcx), and asking a
// device what is attached to it. Links are what libvnet pins: a pinned link
// keeps its program attached after vnetctl exits, and unpinning it detaches.
#ifndef VNET_LOADER_LINKS_H
#define VNET_LOADER_LINKS_H

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace vnet {

enum class XdpMode { kAuto, kNative, kGeneric, kNone };
absl::string_view XdpModeName(XdpMode mode);

struct XdpAttachment {
  UniqueFd link;
  XdpMode mode = XdpMode::kNative;  // what was actually used
};

absl::StatusOr<XdpAttachment> AttachXdp(int prog_fd, int ifindex, absl::string_view ifname, XdpMode mode);
enum class TcDirection { kIngress, kEgress };
absl::string_view TcDirectionName(TcDirection direction);

// tcx (Linux 6.6+): multi-program, so other tc users keep their programs.
absl::StatusOr<UniqueFd> AttachTcx(int prog_fd, int ifindex, absl::string_view ifname, TcDirection direction);

// cls_bpf on the clsact ingress hook, for kernels without tcx. vnet's filter
// has a fixed handle and priority, so it never replaces another user's filter
// and can be found again by a later vnetctl (cls_bpf filters cannot be pinned).
absl::Status AttachClsBpf(int prog_fd, int ifindex, absl::string_view ifname, TcDirection direction);
absl::Status DetachClsBpf(int ifindex, absl::string_view ifname, TcDirection direction);
// The same at a handle and priority of the caller's (the VXLAN underlay guard
// has one filter per fabric on a shared device). Detaching a filter, or from
// a device, that is gone is not an error.
absl::Status AttachClsBpfAt(int prog_fd, int ifindex, absl::string_view ifname, TcDirection direction,
                            std::uint32_t handle, std::uint32_t priority);
absl::Status DetachClsBpfAt(int ifindex, absl::string_view ifname, TcDirection direction, std::uint32_t handle,
                            std::uint32_t priority);

struct XdpState {
  std::uint32_t prog_id = 0;  // 0: nothing attached
  std::string prog_name;
  XdpMode mode = XdpMode::kNative;
  bool via_link = false;  // attached through a bpf_link (cannot be replaced by netlink)
};
absl::StatusOr<XdpState> QueryXdp(int ifindex, absl::string_view ifname);
// Removes a netlink-attached XDP program (the foreign one `--force` replaces).
absl::Status DetachXdpProgram(int ifindex, absl::string_view ifname, const XdpState& state);
// Holds the attached program by fd, so it outlives its detachment and can go back.
absl::StatusOr<UniqueFd> HoldXdpProgram(absl::string_view ifname, const XdpState& state);
// Puts a held program back on the device through netlink, in its mode, unless
// something is attached there by then.
absl::Status RestoreXdpProgram(int ifindex, absl::string_view ifname, int prog_fd, const XdpState& state);

// Replaces the program behind a link atomically, only if it still runs the
// program it ran when we looked (BPF_F_REPLACE): no window without a program.
absl::Status ReplaceLinkProgram(int link_fd, int new_prog_fd, absl::string_view what);
// Replaces vnet's cls_bpf filter program in place (BPF_TC_F_REPLACE).
absl::Status ReplaceClsBpf(int prog_fd, int ifindex, absl::string_view ifname, TcDirection direction);
// The same for a filter at the caller's handle and priority (AttachClsBpfAt).
absl::Status ReplaceClsBpfAt(int prog_fd, int ifindex, absl::string_view ifname, TcDirection direction,
                             std::uint32_t handle, std::uint32_t priority);
// The id of the program a link runs.
absl::StatusOr<std::uint32_t> LinkProgramId(int link_fd, absl::string_view what);

// True when this kernel accepts tcx links.
bool KernelHasTcx();

}  // namespace vnet

#endif
