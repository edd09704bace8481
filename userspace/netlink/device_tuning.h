// Per-device settings outside rtnetlink: ethtool features and sysctls, applied
// in the caller's current netns.
#ifndef VNET_NETLINK_DEVICE_TUNING_H
#define VNET_NETLINK_DEVICE_TUNING_H

#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vnet {

// GRO on a veth gives it NAPI, which an XDP redirect into its peer needs.
absl::Status SetGro(absl::string_view ifname, bool on);

// TSO (all its kinds) on or off. A veth hands what it transmits to its
// peer's own NAPI ring (when the peer has one) only if it has no TSO, else to
// the shared per-CPU backlog.
absl::Status SetTso(absl::string_view ifname, bool on);

// A port's host end is plumbing, not a host interface: no IPv6 autoconf, no
// router solicitations leaking into the container.
absl::Status DisableIpv6(absl::string_view ifname);
// ipvlan l3s routes through the host end, which then needs IPv6 back.
absl::Status EnableIpv6(absl::string_view ifname);
// net.ipv6.conf.IF.addr_gen_mode = 0 (eui64), through the sysctl, which
// (unlike rtnetlink) makes the kernel generate the link-local at once when
// the device is up. Ok when IPv6 is absent.
absl::Status SetAddrGenModeEui64(absl::string_view ifname);
// IPv6 is off on the device (in the calling thread's netns), or absent.
bool Ipv6Disabled(absl::string_view ifname);

// net.ipv4.conf.IF.forwarding and net.ipv6.conf.IF.forwarding; returns
// whether either changed.
absl::StatusOr<bool> SetForwarding(absl::string_view ifname, bool on);

}  // namespace vnet

#endif
