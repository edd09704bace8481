// VXLAN fabrics: a fabric whose uplink is a VXLAN device (docs/multihost.md).
// attach --vxlan creates the device and marks it as vnet's (its IFLA_IFALIAS,
// fabric/vxlan_settings.h), so detach, down and gc remove what vnet made and
// never a device the user made; the VXLAN settings themselves live in the
// device (VNI, underlay, local, port) and its FDB (the remotes), read back
// from the kernel, so nothing can disagree with them. Internal: callers use
// the Fabric handle.
#ifndef VNET_FABRIC_VXLAN_H
#define VNET_FABRIC_VXLAN_H

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/ip_address.h"
#include "fabric/types.h"
#include "netlink/rtnl.h"

namespace vnet {

// Creates the VXLAN device (MTU from the underlay, remotes appended), then
// attaches the fabric to it. A failure at any step deletes the device again.
absl::StatusOr<FabricInfo> AttachVxlanFabric(const AttachOptions& options);

// The VXLAN side of a fabric's uplink; nullopt when it is not a VXLAN device.
absl::StatusOr<std::optional<VxlanInfo>> DescribeVxlan(Rtnl& rtnl, int uplink_ifindex, absl::string_view fabric,
                                                       bool with_remotes);

// Teardown: deletes the uplink if it is the VXLAN device vnet created for
// `fabric`; any other device (a user's VXLAN, a NIC) is left alone.
absl::Status RemoveCreatedVxlan(Rtnl& rtnl, int uplink_ifindex, absl::string_view fabric);

// `vxlan remote add|del|list FABRIC`: FailedPrecondition when the fabric's
// uplink is not a VXLAN device. Deleting a remote also forgets the MACs
// learned behind it, so no unicast goes there any more.
absl::Status AddVxlanRemote(Rtnl& rtnl, absl::string_view fabric, const IpAddress& remote);
absl::Status DeleteVxlanRemote(Rtnl& rtnl, absl::string_view fabric, const IpAddress& remote);
absl::StatusOr<std::vector<IpAddress>> ListVxlanRemotes(Rtnl& rtnl, absl::string_view fabric);

}  // namespace vnet

#endif
