#include "fabric/l3s.h"

#include "absl/strings/str_cat.h"
#include "fabric/ip_ports.h"
#include "fabric/port_tables.h"
#include "base/errors.h"
#include "netlink/device_tuning.h"

namespace vnet {

std::vector<L3sEntry> L3sEntriesFor(int oif, const std::vector<PortAddress>& addresses) {
  std::vector<L3sEntry> hosts, nets;
  std::optional<IpAddress> gateway4, gateway6;
  for (const auto& a : addresses) {
    if (a.link_local || a.prefix.plen != a.prefix.address.MaxPrefix()) continue;
    hosts.push_back(L3sEntry{Route{a.prefix, oif, std::nullopt}, a.prefix.address});
    auto& gateway = a.prefix.address.family == 4 ? gateway4 : gateway6;
    if (!gateway) gateway = a.prefix.address;
  }
  for (const auto& a : addresses) {
    if (a.link_local || a.prefix.plen == a.prefix.address.MaxPrefix()) continue;
    nets.push_back(L3sEntry{Route{a.prefix, oif, a.prefix.address.family == 4 ? gateway4 : gateway6}, std::nullopt});
  }
  hosts.insert(hosts.end(), nets.begin(), nets.end());
  return hosts;
}

absl::Status AddL3sEntries(Rtnl& rtnl, const LinkInfo& host_end, const MacAddress& port_mac,
                           const std::vector<L3sEntry>& entries) {
  for (const auto& e : entries) {
    if (e.neighbour) VNET_RETURN_IF_ERROR(rtnl.SetNeighbour(host_end.ifindex, *e.neighbour, port_mac, host_end.name));
    auto status = rtnl.AddRoute(e.route, host_end.name);
    if (!absl::IsAlreadyExists(status)) VNET_RETURN_IF_ERROR(status);
  }
  return absl::OkStatus();
}

void RemoveL3sEntries(Rtnl& rtnl, const LinkInfo& host_end, const std::vector<L3sEntry>& entries) {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    (void)rtnl.DeleteRoute(it->route, host_end.name);
    if (it->neighbour) (void)rtnl.DeleteNeighbour(host_end.ifindex, *it->neighbour, host_end.name);
  }
}

absl::Status PrepareIpvlanHostEnd(absl::string_view host_end, std::uint8_t ipvlan_mode) {
  // Only l3s cannot work without these settings. Where /proc/sys is read
  // only (a container), l2 and l3 still forward: l3's FIB lookup then falls
  // back to the kernel's own routing (bpf_redirect_neigh).
  if (ipvlan_mode == VNET_IPVLAN_L2) {
    (void)SetForwarding(host_end, false);  // what a routed mode turned on
    (void)DisableIpv6(host_end);
    return absl::OkStatus();
  }
  absl::Status status = EnableIpv6(host_end);
  if (status.ok()) status = SetForwarding(host_end, true).status();
  return ipvlan_mode == VNET_IPVLAN_L3S ? status : absl::OkStatus();
}

absl::Status EnableUplinkForwarding(vnet_config& config, absl::string_view uplink) {
  VNET_ASSIGN_OR_RETURN(bool changed, SetForwarding(uplink, true));
  if (!changed) return absl::OkStatus();
  FabricFlags flags = FabricFlagsOf(config);
  flags.set_forwarding = true;
  SetFabricFlags(config, flags);
  return absl::OkStatus();
}

void RestoreUplinkForwarding(vnet_config& config, absl::string_view uplink) {
  FabricFlags flags = FabricFlagsOf(config);
  if (!flags.set_forwarding) return;
  (void)SetForwarding(uplink, false);
  flags.set_forwarding = false;
  SetFabricFlags(config, flags);
}

namespace {

// Calls fn(host end, port, addresses) for every live ipvlan port.
template <typename Fn>
absl::Status ForEachIpPort(Rtnl& rtnl, FabricMaps& maps, Fn fn) {
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  VNET_ASSIGN_OR_RETURN(auto addresses, AddressesByPort(maps));
  for (const auto& [ifindex, port] : ports) {
    if (port.mode != VNET_MODE_IPVLAN) continue;
    auto dev = rtnl.GetLink(static_cast<int>(ifindex));
    if (!dev.ok()) continue;  // deleted behind vnet's back: pruned later
    VNET_RETURN_IF_ERROR(fn(*dev, port, addresses[ifindex]));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnterL3s(Rtnl& rtnl, FabricMaps& maps, vnet_config& config) {
  auto uplink = rtnl.GetLink(static_cast<int>(config.uplink_ifindex));
  if (!uplink.ok()) return Annotate(uplink.status(), "l3s: uplink");
  VNET_RETURN_IF_ERROR(EnableUplinkForwarding(config, uplink->name));
  return ForEachIpPort(rtnl, maps, [&](const LinkInfo& dev, const vnet_port& port,
                                       const std::vector<PortAddress>& addresses) -> absl::Status {
    VNET_RETURN_IF_ERROR(PrepareIpvlanHostEnd(dev.name, VNET_IPVLAN_L3S));
    return AddL3sEntries(rtnl, dev, PortMac(port), L3sEntriesFor(dev.ifindex, addresses));
  });
}

absl::Status PrepareIpvlanHostEnds(Rtnl& rtnl, FabricMaps& maps, std::uint8_t ipvlan_mode) {
  return ForEachIpPort(rtnl, maps, [&](const LinkInfo& dev, const vnet_port&,
                                       const std::vector<PortAddress>&) -> absl::Status {
    return PrepareIpvlanHostEnd(dev.name, ipvlan_mode);
  });
}

void LeaveL3s(Rtnl& rtnl, FabricMaps& maps, vnet_config& config) {
  (void)ForEachIpPort(rtnl, maps, [&](const LinkInfo& dev, const vnet_port&,
                                      const std::vector<PortAddress>& addresses) -> absl::Status {
    RemoveL3sEntries(rtnl, dev, L3sEntriesFor(dev.ifindex, addresses));
    return absl::OkStatus();
  });
  auto uplink = rtnl.GetLink(static_cast<int>(config.uplink_ifindex));
  if (uplink.ok()) RestoreUplinkForwarding(config, uplink->name);
}

}  // namespace vnet
