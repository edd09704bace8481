// The network around a port that a container runtime's plugin (CNI) needs
// besides the fabric operations: the master's facts in this namespace, and
// the container's interface (given by a netns path) configured and read back.
#ifndef VNET_FABRIC_CONTAINER_NET_H
#define VNET_FABRIC_CONTAINER_NET_H

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/ip_address.h"
#include "base/mac_address.h"

namespace vnet {

// The device of this namespace's default route (IPv4 first, then IPv6; the
// lowest metric); NotFound when there is none.
absl::StatusOr<std::string> DefaultRouteDevice();
// NotFound when `dev` does not exist here.
absl::StatusOr<unsigned> DeviceMtu(absl::string_view dev);

// Whether `ifname` exists in the netns at `netns` (a path or a /run/netns
// name). An error only when the namespace cannot be opened or entered.
absl::StatusOr<bool> DeviceExistsIn(absl::string_view netns, absl::string_view ifname);

struct ContainerRoute {
  IpPrefix dst;
  std::optional<IpAddress> gateway;
};
// Adds `addresses` (ADDR/PLEN, no duplicate address detection) and `routes`
// (out of `ifname`) in that namespace; ones already there are kept.
absl::Status ConfigureIn(absl::string_view netns, absl::string_view ifname, const std::vector<IpPrefix>& addresses,
                         const std::vector<ContainerRoute>& routes);

struct ContainerLink {
  MacAddress mac;
  unsigned mtu = 0;
  std::vector<IpPrefix> addresses;
  std::vector<IpPrefix> route_dsts;  // destinations of the routes out of it
};
// NotFound when `ifname` is not in the namespace.
absl::StatusOr<ContainerLink> ReadLinkIn(absl::string_view netns, absl::string_view ifname);

// Deletes this namespace's devices whose alias (IFLA_IFALIAS) is `alias`;
// returns how many.
absl::StatusOr<int> DeleteDevicesByAlias(absl::string_view alias);
// Names of this namespace's devices whose alias is `alias`, from one link
// dump (a plugin finds its port by it without describing every fabric).
absl::StatusOr<std::vector<std::string>> DevicesByAlias(absl::string_view alias);

}  // namespace vnet

#endif
