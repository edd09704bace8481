// The host's own addresses on a fabric's uplink, published in vnet_host_ips:
// no DHCP lease an l2 port receives may take one (bpf/lib/dhcp.h), since the
// lease's vnet_ips entry would divert the host's traffic to the port. The
// datapath cannot list them itself (bpf_fib_lookup answers nothing while
// forwarding is off on the device), so libvnet publishes them at attach and
// `fabric set`, and `vnetctl monitor` on every address change.
#ifndef VNET_FABRIC_HOST_IPS_H
#define VNET_FABRIC_HOST_IPS_H

#include "absl/status/status.h"
#include "maps/fabric_maps.h"
#include "netlink/rtnl.h"

namespace vnet {

// vnet_host_ips := the addresses on the fabric's uplink now.
absl::Status PublishHostIps(Rtnl& rtnl, FabricMaps& maps);

}  // namespace vnet

#endif
