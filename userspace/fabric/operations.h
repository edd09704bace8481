// libvnet's operations on one fabric as the Fabric handle (fabric/handle.h)
// runs them: on the handle's netlink socket, inside its index of the
// namespace's fabrics. Internal: callers outside libvnet use the handle.
#ifndef VNET_FABRIC_OPERATIONS_H
#define VNET_FABRIC_OPERATIONS_H

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabric/fabric.h"
#include "fabric/types.h"
#include "netlink/rtnl.h"

namespace vnet {

absl::StatusOr<PortInfo> AddPortWith(Rtnl& rtnl, const PortOptions& options);
absl::Status DeletePortWith(Rtnl& rtnl, absl::string_view dev);
absl::StatusOr<PortInfo> ChangePortWith(Rtnl& rtnl, const PortChange& change);

absl::Status AddPortAddressWith(Rtnl& rtnl, absl::string_view dev, const PortIp& ip);
absl::Status DeletePortAddressWith(Rtnl& rtnl, absl::string_view dev, const PortIp& ip, bool plen_given);
absl::Status FlushPortAddressesWith(Rtnl& rtnl, absl::string_view dev);

absl::Status AddPortSourceWith(Rtnl& rtnl, absl::string_view dev, const MacAddress& mac);
absl::Status DeletePortSourceWith(Rtnl& rtnl, absl::string_view dev, const MacAddress& mac);
absl::Status FlushPortSourcesWith(Rtnl& rtnl, absl::string_view dev);

}  // namespace vnet

#endif
