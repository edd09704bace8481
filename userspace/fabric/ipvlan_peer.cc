#include "fabric/ipvlan_peer.h"

#include <linux/if_addr.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "fabric/port_helpers.h"
#include "fabric/port_tables.h"
#include "base/errors.h"
#include "netlink/device_tuning.h"

namespace vnet {
namespace {

bool IsL3(IpvlanMode mode) { return mode != IpvlanMode::kL2; }

Route DefaultRoute(int family, int oif) {
  Route route;
  route.dst.address.family = family;
  route.dst.plen = 0;
  route.oif = oif;
  return route;
}

// `default dev IF`, v4 and v6: with NOARP every next hop resolves to the
// interface's own MAC (the uplink's), which is what the datapath routes by.
absl::Status SetDefaultRoutes(Rtnl& inner, const LinkInfo& peer, bool present) {
  for (int family : {4, 6}) {
    Route route = DefaultRoute(family, peer.ifindex);
    if (!present) {
      (void)inner.DeleteRoute(route, peer.name);  // gone already is fine
      continue;
    }
    auto status = inner.AddRoute(route, peer.name);
    if (!absl::IsAlreadyExists(status)) VNET_RETURN_IF_ERROR(status);
  }
  return absl::OkStatus();
}

// Deletes ADDR/64 from the peer when it has it.
absl::Status DeleteLinkLocal(Rtnl& inner, const LinkInfo& peer, const IpAddress& address) {
  VNET_ASSIGN_OR_RETURN(auto configured, inner.ListAddresses(peer.ifindex, peer.name));
  for (const auto& prefix : configured)
    if (prefix.address == address) VNET_RETURN_IF_ERROR(inner.DeleteAddress(peer.ifindex, prefix, peer.name));
  return absl::OkStatus();
}

}  // namespace

absl::Status ConvertPeer(Rtnl& inner, const LinkInfo& peer, PortKind to, const MacAddress& mac,
                         const IpAddress& link_local, IpvlanMode mode) {
  bool v6 = !Ipv6Disabled(peer.name);
  if (to == PortKind::kIpvlan) {
    VNET_RETURN_IF_ERROR(inner.SetAddrGenModeNone(peer.ifindex, peer.name));
    if (v6 && peer.mac) VNET_RETURN_IF_ERROR(DeleteLinkLocal(inner, peer, Eui64LinkLocal(*peer.mac)));
    if (peer.mac != mac) VNET_RETURN_IF_ERROR(inner.SetMac(peer.ifindex, mac, peer.name));
    VNET_RETURN_IF_ERROR(inner.SetNoArp(peer.ifindex, IsL3(mode), peer.name));
    return ConfigureIpvlanPeer(inner, peer, link_local, {}, mode);
  }
  VNET_RETURN_IF_ERROR(SetDefaultRoutes(inner, peer, false));
  VNET_RETURN_IF_ERROR(inner.SetNoArp(peer.ifindex, false, peer.name));
  if (v6) VNET_RETURN_IF_ERROR(DeleteLinkLocal(inner, peer, link_local));
  if (peer.mac != mac) VNET_RETURN_IF_ERROR(inner.SetMac(peer.ifindex, mac, peer.name));
  return v6 ? SetAddrGenModeEui64(peer.name) : absl::OkStatus();
}

absl::Status PrepareIpvlanPeer(Rtnl& inner, const LinkInfo& peer, IpvlanMode mode) {
  VNET_RETURN_IF_ERROR(inner.SetAddrGenModeNone(peer.ifindex, peer.name));
  if (IsL3(mode)) VNET_RETURN_IF_ERROR(inner.SetNoArp(peer.ifindex, true, peer.name));
  return absl::OkStatus();
}

absl::Status ConfigureIpvlanPeer(Rtnl& inner, const LinkInfo& peer, const IpAddress& link_local,
                                 const std::vector<PortIp>& ips, IpvlanMode mode) {
  // A namespace with IPv6 turned off gets no link-local (IPv4 still works);
  // asking for IPv6 addresses there is an error that says why.
  bool v6_off = Ipv6Disabled(peer.name);
  if (!v6_off) {
    auto status = inner.AddAddress(peer.ifindex, IpPrefix{link_local, 64}, IFA_F_NODAD, peer.name);
    if (!absl::IsAlreadyExists(status)) VNET_RETURN_IF_ERROR(status);
  }
  for (const auto& ip : ips) {
    if (v6_off && ip.prefix.address.family == 6 && !ip.routed)
      return absl::FailedPreconditionError(
          absl::StrCat(ip.ToString(), ": IPv6 is disabled on ", peer.name, " (net.ipv6.conf.", peer.name,
                       ".disable_ipv6 in its namespace)"));
    VNET_RETURN_IF_ERROR(AddPeerAddress(inner, peer, ip));
  }
  if (IsL3(mode)) VNET_RETURN_IF_ERROR(SetDefaultRoutes(inner, peer, true));
  return absl::OkStatus();
}

absl::Status AddPeerAddress(Rtnl& inner, const LinkInfo& peer, const PortIp& ip) {
  if (ip.routed) return absl::OkStatus();  // routed to the port, not an address of it
  auto status = inner.AddAddress(peer.ifindex, ip.prefix, 0, peer.name);
  return absl::IsAlreadyExists(status) ? absl::OkStatus() : status;
}

absl::Status DeletePeerAddress(Rtnl& inner, const LinkInfo& peer, const PortIp& ip, bool plen_given) {
  if (ip.routed) return absl::OkStatus();
  VNET_ASSIGN_OR_RETURN(auto configured, inner.ListAddresses(peer.ifindex, peer.name));
  for (const auto& prefix : configured)
    if (prefix.address == ip.prefix.address && (!plen_given || prefix.plen == ip.prefix.plen))
      return inner.DeleteAddress(peer.ifindex, prefix, peer.name);
  return absl::OkStatus();  // the operator removed it already
}

absl::StatusOr<bool> SetPeerPrefixLength(Rtnl& inner, const LinkInfo& peer, const PortIp& ip) {
  if (ip.routed) return false;
  VNET_ASSIGN_OR_RETURN(auto configured, inner.ListAddresses(peer.ifindex, peer.name));
  if (std::find(configured.begin(), configured.end(), ip.prefix) != configured.end()) return false;
  std::vector<IpPrefix> others;
  for (const auto& prefix : configured)
    if (prefix.address == ip.prefix.address) others.push_back(prefix);
  for (const auto& prefix : others) VNET_RETURN_IF_ERROR(inner.DeleteAddress(peer.ifindex, prefix, peer.name));
  auto status = inner.AddAddress(peer.ifindex, ip.prefix, 0, peer.name);
  if (!status.ok() && !absl::IsAlreadyExists(status)) {
    for (const auto& prefix : others) (void)inner.AddAddress(peer.ifindex, prefix, 0, peer.name);  // as it was
    return status;
  }
  return true;
}

absl::Status SetPeerIpvlanMode(Rtnl& inner, const LinkInfo& peer, IpvlanMode mode) {
  VNET_RETURN_IF_ERROR(inner.SetNoArp(peer.ifindex, IsL3(mode), peer.name));
  return SetDefaultRoutes(inner, peer, IsL3(mode));
}

absl::Status SetIpvlanPeersMode(Rtnl& rtnl, const FabricMaps& maps, IpvlanMode mode) {
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  for (const auto& [ifindex, port] : ports) {
    if (port.mode != VNET_MODE_IPVLAN) continue;
    auto dev = rtnl.GetLink(static_cast<int>(ifindex));
    if (!dev.ok() || !VnetMadePeer(port, *dev)) continue;
    bool other_netns = false;
    VNET_RETURN_IF_ERROR(WithVethPeer(rtnl, *dev, dev->name, &other_netns, [&](Rtnl& inner, const LinkInfo& peer) {
      return SetPeerIpvlanMode(inner, peer, mode);
    }));
  }
  return absl::OkStatus();
}

}  // namespace vnet
