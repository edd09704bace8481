// Per-device settings outside rtnetlink: ethtool features and sysctls, applied
// in the caller's current netns.
#ifndef VNET_NETLINK_DEVICE_TUNING_H
#define VNET_NETLINK_DEVICE_TUNING_H

#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"

namespace vnet {

// GRO on a veth gives it NAPI, which an XDP redirect into its peer needs.
absl::Status SetGro(absl::string_view ifname, bool on);

// A port's host end is plumbing, not a host interface: no IPv6 autoconf, no
// router solicitations leaking into the container.
absl::Status DisableIpv6(absl::string_view ifname);

}  // namespace vnet

#endif
