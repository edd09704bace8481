#include "fabric/ip_ports.h"

#include <functional>

#include <algorithm>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "fabric/port_tables.h"
#include "fabric/registry.h"
#include "base/errors.h"
#include "maps/fabric_maps.h"
#include "netlink/rtnl.h"

namespace vnet {
namespace {

vnet_ip_entry EntryFor(std::uint32_t ifindex, const vnet_port& port, std::uint8_t ip_flags) {
  return vnet_ip_entry{ifindex, port.slot, DatapathFlags(port), ip_flags};
}

std::string DeviceName(Rtnl* rtnl, std::uint32_t ifindex) {
  if (rtnl) {
    auto link = rtnl->GetLink(static_cast<int>(ifindex));
    if (link.ok()) return link->name;
  }
  return absl::StrCat("ifindex ", ifindex);
}

}  // namespace

absl::Status CheckIpsFree(const std::vector<PortIp>& ips, absl::string_view what) {
  std::set<std::string> seen;
  for (const auto& ip : ips)
    if (!seen.insert(ip.Owned()).second)
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", ip.Owned(), " is given twice"));
  if (ips.empty()) return absl::OkStatus();
  auto rtnl = Rtnl::Open();
  Rtnl* names = rtnl.ok() ? &*rtnl : nullptr;
  for (const auto& fabric : ListLocalFabrics()) {
    auto maps = FabricMaps::Open(fabric);
    if (!maps.ok()) continue;  // another vnet version's fabric: its tables are not readable here
    VNET_ASSIGN_OR_RETURN(auto addresses, maps->ListIps());
    VNET_ASSIGN_OR_RETURN(auto nets, maps->ListIpNets());
    for (const auto& ip : ips) {
      for (const auto& [address, entry] : addresses)
        if (!ip.routed && address == ip.prefix.address)
          return absl::AlreadyExistsError(absl::StrCat(what, ": ", ip.Owned(), " is already an address of port ",
                                                       DeviceName(names, entry.ifindex)));
      for (const auto& [net, entry] : nets)
        if (ip.routed && net == ip.prefix)
          return absl::AlreadyExistsError(absl::StrCat(what, ": ", ip.Owned(), " is already a prefix of port ",
                                                       DeviceName(names, entry.ifindex)));
    }
  }
  return absl::OkStatus();
}

absl::Status AddPortIp(TablesBackend& maps, std::uint32_t ifindex, const vnet_port& port, const PortIp& ip,
                       std::uint8_t ip_flags, Undo& undo) {
  if (ip.routed) {
    VNET_RETURN_IF_ERROR(maps.PutIpNet(ip.prefix, EntryFor(ifindex, port, ip_flags)));
    undo.Push([&maps, net = ip.prefix] { (void)maps.DeleteIpNet(net); });
  } else {
    VNET_RETURN_IF_ERROR(maps.PutIp(ip.prefix.address, EntryFor(ifindex, port, ip_flags)));
    undo.Push([&maps, address = ip.prefix.address] { (void)maps.DeleteIp(address); });
  }
  return absl::OkStatus();
}

absl::Status RemovePortIp(TablesBackend& maps, std::uint32_t ifindex, const PortIp& ip) {
  if (ip.routed) {
    VNET_ASSIGN_OR_RETURN(auto nets, maps.ListIpNets());
    for (const auto& [net, entry] : nets)
      if (net == ip.prefix && entry.ifindex == ifindex) return maps.DeleteIpNet(net);
  } else {
    VNET_ASSIGN_OR_RETURN(auto entry, maps.LookupIp(ip.prefix.address));
    if (entry && entry->ifindex == ifindex) return maps.DeleteIp(ip.prefix.address);
  }
  return absl::NotFoundError(absl::StrCat(ip.Owned(), " is not an address of this port"));
}

absl::Status RefreshPortIps(TablesBackend& maps, std::uint32_t ifindex, const vnet_port& port) {
  VNET_ASSIGN_OR_RETURN(auto addresses, maps.ListIps());
  for (const auto& [address, entry] : addresses)
    if (entry.ifindex == ifindex) VNET_RETURN_IF_ERROR(maps.PutIp(address, EntryFor(ifindex, port, entry.ip_flags)));
  VNET_ASSIGN_OR_RETURN(auto nets, maps.ListIpNets());
  for (const auto& [net, entry] : nets)
    if (entry.ifindex == ifindex) VNET_RETURN_IF_ERROR(maps.PutIpNet(net, EntryFor(ifindex, port, entry.ip_flags)));
  return absl::OkStatus();
}

absl::Status ForgetPortIps(TablesBackend& maps, std::uint32_t ifindex) {
  return ForgetPortsIps(maps, [ifindex](std::uint32_t i) { return i == ifindex; });
}

absl::Status ForgetPortsIps(TablesBackend& maps, const std::function<bool(std::uint32_t)>& of) {
  VNET_ASSIGN_OR_RETURN(auto addresses, maps.ListIps());
  for (const auto& [address, entry] : addresses)
    if (of(entry.ifindex)) VNET_RETURN_IF_ERROR(maps.DeleteIp(address));
  VNET_ASSIGN_OR_RETURN(auto nets, maps.ListIpNets());
  for (const auto& [net, entry] : nets)
    if (of(entry.ifindex)) VNET_RETURN_IF_ERROR(maps.DeleteIpNet(net));
  VNET_ASSIGN_OR_RETURN(auto dhcp, maps.ListDhcp());
  for (const auto& [xid, entry] : dhcp)
    if (of(entry.ifindex)) VNET_RETURN_IF_ERROR(maps.DeleteDhcp(xid));
  VNET_ASSIGN_OR_RETURN(auto leases, maps.ListLeases());
  for (const auto& [address, lease] : leases)
    if (of(lease.ifindex)) VNET_RETURN_IF_ERROR(maps.DeleteLease(address));
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::uint32_t, std::vector<PortAddress>>> AddressesByPort(const TablesBackend& maps) {
  std::map<std::uint32_t, std::vector<PortAddress>> out;
  VNET_ASSIGN_OR_RETURN(auto addresses, maps.ListIps());
  for (const auto& [address, entry] : addresses)
    out[entry.ifindex].push_back(PortAddress{IpPrefix{address, address.MaxPrefix()},
                                             (entry.ip_flags & VNET_IP_F_LEARNED) != 0,
                                             (entry.ip_flags & VNET_IP_F_LINK_LOCAL) != 0});
  VNET_ASSIGN_OR_RETURN(auto nets, maps.ListIpNets());
  for (const auto& [net, entry] : nets)
    out[entry.ifindex].push_back(PortAddress{net, (entry.ip_flags & VNET_IP_F_LEARNED) != 0, false});
  for (auto& [ifindex, list] : out)
    std::sort(list.begin(), list.end(), [](const PortAddress& a, const PortAddress& b) {
      if (a.link_local != b.link_local) return b.link_local;
      return a.prefix < b.prefix;
    });
  return out;
}

absl::StatusOr<std::vector<PortAddress>> AddressesOf(const TablesBackend& maps, std::uint32_t ifindex) {
  VNET_ASSIGN_OR_RETURN(auto all, AddressesByPort(maps));
  return all[ifindex];
}

}  // namespace vnet
