// The container side of an ipvlan port vnet created (--netns): the interface
// gets what an ipvlan slave would have: the uplink's MAC (set at creation),
// a link-local vnet chooses, the port's addresses, and in l3/l3s no ARP and
// a default route out of the interface. Every call runs in the peer's netns
// (`inner` is an Rtnl opened there).
#ifndef VNET_FABRIC_IPVLAN_PEER_H
#define VNET_FABRIC_IPVLAN_PEER_H

#include <vector>

#include "absl/status/status.h"
#include "fabric/types.h"
#include "maps/fabric_maps.h"
#include "netlink/rtnl.h"

namespace vnet {

// Before the interface goes up: no automatic IPv6 link-local (its EUI-64
// would be the same in every port); NOARP in l3/l3s.
absl::Status PrepareIpvlanPeer(Rtnl& inner, const LinkInfo& peer, IpvlanMode mode);
// After it is up: the link-local (no DAD), the addresses (routed prefixes
// are not configured), and the l3 default routes.
absl::Status ConfigureIpvlanPeer(Rtnl& inner, const LinkInfo& peer, const IpAddress& link_local,
                                 const std::vector<PortIp>& ips, IpvlanMode mode);
// `ip add|del`: one address; a delete without /PLEN matches any length.
absl::Status AddPeerAddress(Rtnl& inner, const LinkInfo& peer, const PortIp& ip);
absl::Status DeletePeerAddress(Rtnl& inner, const LinkInfo& peer, const PortIp& ip, bool plen_given);
// `ip add` of an address the port has, and apply: makes the container side
// have exactly ADDR/PLEN, replacing ADDR with another prefix length (the
// fabric's tables hold ADDR alone and do not change). False when it was so
// already (and for a routed prefix, which is not configured there).
absl::StatusOr<bool> SetPeerPrefixLength(Rtnl& inner, const LinkInfo& peer, const PortIp& ip);
// `fabric set --ipvlan-mode`: NOARP and the default routes follow the mode,
// as the kernel flips IFF_NOARP on its slaves.
absl::Status SetPeerIpvlanMode(Rtnl& inner, const LinkInfo& peer, IpvlanMode mode);
// `port set --type` on a port vnet created: makes the container side what
// `port add --netns` gives that kind. To ipvlan: addr_gen_mode none, the
// EUI-64 link-local of its current MAC removed, `mac` (the uplink's), NOARP
// in l3/l3s, `link_local` and the l3 default routes. To macvlan: the default
// routes, NOARP and `link_local` removed, `mac` (its own), addr_gen_mode
// eui64 (the kernel makes the link-local of the new MAC). Each step
// tolerates being done already, so converting back undoes a partial one.
absl::Status ConvertPeer(Rtnl& inner, const LinkInfo& peer, PortKind to, const MacAddress& mac,
                         const IpAddress& link_local, IpvlanMode mode);
// The same for every ipvlan port of the fabric that vnet created (`rtnl`:
// the fabric's netns; each peer's netns is entered in turn).
absl::Status SetIpvlanPeersMode(Rtnl& rtnl, const FabricMaps& maps, IpvlanMode mode);

}  // namespace vnet

#endif
