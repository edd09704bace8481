// ipvlan l3s: the datapath hands traffic between ports and the outside to the
// host stack (so netfilter sees it), which must then route each port address
// to the port's host end: a host route and a permanent neighbour (the port's
// MAC) per address, a route through one of the port's addresses for each
// routed prefix, forwarding on the uplink and the host ends, and IPv6 kept
// enabled on the host ends.
#ifndef VNET_FABRIC_L3S_H
#define VNET_FABRIC_L3S_H

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "fabric/types.h"
#include "maps/fabric_maps.h"
#include "netlink/rtnl.h"

namespace vnet {

struct L3sEntry {
  Route route;
  std::optional<IpAddress> neighbour;  // an address: `ADDR lladdr PORTMAC` too
};

// What the host end `oif` needs for a port with `addresses` (link-local ones
// excepted: they never leave the link). Host routes come before the prefix
// routes that use them as gateways; a prefix without a same-family address
// gets a plain device route.
std::vector<L3sEntry> L3sEntriesFor(int oif, const std::vector<PortAddress>& addresses);

// Adds (existing ones are fine) or removes (best effort) entries on `host_end`.
absl::Status AddL3sEntries(Rtnl& rtnl, const LinkInfo& host_end, const MacAddress& port_mac,
                           const std::vector<L3sEntry>& entries);
void RemoveL3sEntries(Rtnl& rtnl, const LinkInfo& host_end, const std::vector<L3sEntry>& entries);

// An ipvlan port's host end for the fabric's mode. l3 and l3s: forwarding on
// and IPv6 enabled, because the datapath's FIB lookup is done as if the packet
// arrived there (l3), or the host stack really routes it from there (l3s);
// the uplink's own forwarding stays the operator's in l3. l2: forwarding
// and IPv6 off again.
absl::Status PrepareIpvlanHostEnd(absl::string_view host_end, std::uint8_t ipvlan_mode);
// The same for every ipvlan port of the fabric (a mode change).
absl::Status PrepareIpvlanHostEnds(Rtnl& rtnl, FabricMaps& maps, std::uint8_t ipvlan_mode);
// Forwarding on the uplink; records set_forwarding (FabricFlags) in `config`
// (the caller writes it) when vnet turned it on.
absl::Status EnableUplinkForwarding(vnet_config& config, absl::string_view uplink);
// Undoes that, if vnet did it; clears the flag.
void RestoreUplinkForwarding(vnet_config& config, absl::string_view uplink);

// Every ipvlan port of the fabric enters (routes, neighbours, forwarding) or
// leaves (routes and neighbours removed, host ends back to IPv6 off) l3s.
absl::Status EnterL3s(Rtnl& rtnl, FabricMaps& maps, vnet_config& config);
void LeaveL3s(Rtnl& rtnl, FabricMaps& maps, vnet_config& config);

}  // namespace vnet

#endif
