// What each device's driver says it can do with XDP, from the kernel's
// "netdev" generic netlink family (Linux 6.3+): native XDP, being an XDP
// redirect target, multi-buffer frames.
#ifndef VNET_NETLINK_XDP_FEATURES_H
#define VNET_NETLINK_XDP_FEATURES_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vnet {

// Bits of NETDEV_A_DEV_XDP_FEATURES (linux/netdev.h; not in Debian 12's headers).
enum XdpFeature : std::uint64_t {
  kXdpBasic = 1u << 0,
  kXdpRedirect = 1u << 1,
  kXdpNdoXmit = 1u << 2,
  kXdpXskZerocopy = 1u << 3,
  kXdpHwOffload = 1u << 4,
  kXdpRxSg = 1u << 5,
  kXdpNdoXmitSg = 1u << 6,
};
std::vector<std::string> XdpFeatureNames(std::uint64_t features);

// ifindex -> feature bits for every device of the caller's netns. Unavailable
// (kUnimplemented) on kernels without the netdev family.
absl::StatusOr<std::map<int, std::uint64_t>> QueryXdpFeatures();

}  // namespace vnet

#endif
