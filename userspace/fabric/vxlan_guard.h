// The underlay guard of a VXLAN fabric: the fabric's remote list enforced on
// receive. A kernel VXLAN device takes frames for its VNI from any underlay
// source, and vnet's programs on the VXLAN device see only the inner frame,
// so a host that is not (or no longer) a remote could inject frames into the
// segment. The guard is a tc ingress program on the underlay device that drops
// UDP-to-dstport frames carrying the fabric's VNI whose outer source address is
// not in the allowed set, and counts them (bpf/lib/underlay_guard.h has the
// parse rules, fragments included). Everything else continues untouched, so
// several fabrics (VNIs) can each have a guard on one underlay.
//
// Interface for the VXLAN control plane (stable; additions only):
//   attach:      attach the fabric on the VXLAN device, then
//                VxlanGuard::Attach({fabric, underlay, vni, dstport, remotes}).
//                The fabric's pin directory must exist. One guard per fabric.
//   remote add:  VxlanGuard::Open(fabric) -> AddRemote(addr)   (idempotent)
//   remote del:  VxlanGuard::Open(fabric) -> RemoveRemote(addr) (NotFound if absent)
//   list/show:   Remotes(), Describe() (settings, remotes, counters)
//   detach:      VxlanGuard::DetachIfPresent(fabric) BEFORE the fabric itself is
//                detached (a fabric detach removes the pins, which detaches a
//                tcx guard, but not a cls_bpf one).
// Open() and Exists() work from the pins alone, in any later process of the
// same network namespace (the underlay is kept by ifindex; resolve the fabric
// in the caller's namespace first). The set holds the remotes' unicast
// addresses (outer sources), IPv4 and IPv6 alike. Like the rest of
// fabric/, these calls take no lock: the caller holds the control lock
// (fabric/lock.h) around changes. Errors name the step and the object.
//
// Pins (only in a guarded fabric's directory; abi.h): vxguard_cfg,
// vxguard_remotes, vxguard_stats, and link_vxguard (the tcx link). Kernels
// without tcx get a cls_bpf filter at handle 0x76000000|VNI, priority 0xbf00.
#ifndef VNET_FABRIC_VXLAN_GUARD_H
#define VNET_FABRIC_VXLAN_GUARD_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/ip_address.h"

namespace vnet {

struct VxlanGuardSpec {
  std::string fabric;               // an attached fabric: its pin directory holds the guard
  std::string underlay;             // the VXLAN device's underlay (an Ethernet device)
  std::uint32_t vni = 0;            // 0 .. 2^24-1
  std::uint16_t dstport = 4789;     // the VXLAN device's UDP port
  std::vector<IpAddress> remotes;   // the allowed outer sources (IPv4 and/or IPv6)
  bool cls_bpf = false;             // a cls_bpf filter even where tcx exists (kernels without tcx get one anyway)
};

struct VxlanGuardCounters {
  std::uint64_t dropped_packets = 0;   // frames of this VNI/port from a source not allowed
  std::uint64_t dropped_bytes = 0;
  std::uint64_t allowed_packets = 0;   // frames of this VNI/port from an allowed remote
  std::uint64_t fragments_passed = 0;  // UDP fragments after the first, passed (cannot be reassembled without it)
};

struct VxlanGuardInfo {
  std::string fabric;
  std::string underlay;  // "" when the device is gone
  int underlay_ifindex = 0;
  std::uint32_t vni = 0;
  std::uint16_t dstport = 0;
  bool cls_bpf = false;   // a cls_bpf filter rather than a tcx link
  bool attached = false;  // the tcx link is pinned (always true for cls_bpf)
  std::vector<IpAddress> remotes;  // sorted
  VxlanGuardCounters counters;
};

class VxlanGuard {
 public:
  // Loads the guard, fills the allowed set, then attaches it to the
  // underlay's tc ingress. On failure nothing is left behind.
  static absl::StatusOr<VxlanGuard> Attach(const VxlanGuardSpec& spec);
  // The guard of a running fabric, from its pins. NotFound when it has none.
  static absl::StatusOr<VxlanGuard> Open(absl::string_view fabric);
  static bool Exists(absl::string_view fabric);
  // Detaches and unpins the fabric's guard; OK when there is none.
  static absl::Status DetachIfPresent(absl::string_view fabric);

  VxlanGuard(VxlanGuard&&) noexcept;
  VxlanGuard& operator=(VxlanGuard&&) noexcept;
  ~VxlanGuard();

  // Takes effect for the next frame. Adding an allowed remote is a no-op.
  absl::Status AddRemote(const IpAddress& remote);
  // NotFound when `remote` is not in the set.
  absl::Status RemoveRemote(const IpAddress& remote);
  absl::StatusOr<std::vector<IpAddress>> Remotes() const;  // sorted
  absl::StatusOr<VxlanGuardCounters> Counters() const;
  absl::StatusOr<VxlanGuardInfo> Describe() const;
  // This build's guard program takes over the attachment (vnetctl reload):
  // loaded against the pinned maps, so the allowed set and the counters
  // carry over, and switched atomically.
  absl::Status Reload();
  // Detaches the program and removes every pin of the guard.
  absl::Status Detach() &&;

  const std::string& fabric() const { return fabric_; }

 private:
  struct State;
  explicit VxlanGuard(std::string fabric);
  std::string fabric_;
  std::unique_ptr<State> state_;
};

}  // namespace vnet

#endif
