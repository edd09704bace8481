// vnetctl ip add|del|flush: the addresses of a live ipvlan port, in the
// fabric's tables, on the container side vnet created, and (l3s) in the
// host's routes.
#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "fabric/fabric.h"
#include "fabric/ip_ports.h"
#include "fabric/operations.h"
#include "fabric/ipvlan_peer.h"
#include "fabric/l3s.h"
#include "fabric/port_helpers.h"
#include "fabric/registry.h"
#include "fabric/port_tables.h"
#include "fabric/undo.h"
#include "base/errors.h"

namespace vnet {
namespace {

absl::StatusOr<FoundPort> FindIpPort(Rtnl& rtnl, absl::string_view dev, absl::string_view what) {
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindPort(rtnl, dev, what));
  if (found.port.mode != VNET_MODE_IPVLAN)
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", dev, ": not an ipvlan port (a macvlan port is found by its MAC)"));
  return found;
}

// Runs fn(inner, peer) on the container side when vnet created it (--netns);
// the operator configures the container side of any other port.
template <typename Fn>
absl::Status OnCreatedPeer(Rtnl& rtnl, const FoundPort& found, Fn fn) {
  if (!VnetMadePeer(found.port, found.dev)) return absl::OkStatus();
  bool other_netns = false;
  return WithVethPeer(rtnl, found.dev, found.dev.name, &other_netns, fn);
}

// The l3s routes (and neighbour) `ip` needs on the port's host end.
absl::StatusOr<std::vector<L3sEntry>> L3sEntriesOf(const FoundPort& found, const PortIp& ip) {
  VNET_ASSIGN_OR_RETURN(auto addresses, AddressesOf(found.maps, static_cast<std::uint32_t>(found.dev.ifindex)));
  IpPrefix dst = ip.routed ? ip.prefix : IpPrefix{ip.prefix.address, ip.prefix.address.MaxPrefix()};
  std::vector<L3sEntry> mine;
  for (const auto& e : L3sEntriesFor(found.dev.ifindex, addresses))
    if (e.route.dst == dst) mine.push_back(e);
  return mine;
}

bool IsL3s(const FoundPort& found) {
  auto config = found.maps.ReadConfig();
  return config.ok() && config->ipvlan_mode == VNET_IPVLAN_L3S;
}

absl::Status RemoveOne(Rtnl& rtnl, FoundPort& found, const PortIp& ip, bool plen_given, bool on_peer,
                       absl::string_view what) {
  auto ifindex = static_cast<std::uint32_t>(found.dev.ifindex);
  if (IsL3s(found)) {
    VNET_ASSIGN_OR_RETURN(auto entries, L3sEntriesOf(found, ip));
    RemoveL3sEntries(rtnl, found.dev, entries);
  }
  VNET_RETURN_IF_ERROR(Annotate(RemovePortIp(found.maps, ifindex, ip), what));
  if (!on_peer) return absl::OkStatus();
  return Annotate(OnCreatedPeer(rtnl, found,
                                [&](Rtnl& inner, const LinkInfo& peer) {
                                  return DeletePeerAddress(inner, peer, ip, plen_given);
                                }),
                  what);
}

// `ip` (as the port owns it) is already the port's: its table entry.
absl::StatusOr<std::optional<PortAddress>> OwnAddress(const FoundPort& found, const PortIp& ip) {
  VNET_ASSIGN_OR_RETURN(auto addresses, AddressesOf(found.maps, static_cast<std::uint32_t>(found.dev.ifindex)));
  for (const auto& a : addresses) {
    bool routed = a.prefix.plen != a.prefix.address.MaxPrefix();
    if (routed == ip.routed && (routed ? a.prefix == ip.prefix : a.prefix.address == ip.prefix.address)) return a;
  }
  return std::nullopt;
}

// `ip add` of an address the port has: on a container side vnet configures,
// a new prefix length replaces the old one there (as apply does); anything
// else is refused, naming the port itself.
absl::Status ReaddOwnAddress(Rtnl& rtnl, const FoundPort& found, const PortAddress& have, const PortIp& ip,
                             absl::string_view what) {
  bool changed = false;
  if (!have.learned && !have.link_local && !ip.routed && VnetMadePeer(found.port, found.dev))
    VNET_RETURN_IF_ERROR(Annotate(OnCreatedPeer(rtnl, found,
                                                [&](Rtnl& inner, const LinkInfo& peer) -> absl::Status {
                                                  VNET_ASSIGN_OR_RETURN(changed, SetPeerPrefixLength(inner, peer, ip));
                                                  return absl::OkStatus();
                                                }),
                                  what));
  if (changed) return absl::OkStatus();
  bool configured = VnetMadePeer(found.port, found.dev) && !ip.routed;
  return absl::AlreadyExistsError(
      absl::StrCat(what, ": ", found.dev.name, " already has ", configured ? ip.ToString() : ip.Owned(),
                   have.learned ? " (learned)" : "", have.link_local ? " (its link-local)" : ""));
}

}  // namespace

absl::Status AddPortAddress(absl::string_view dev, const PortIp& ip) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  return AddPortAddressWith(rtnl, dev, ip);
}

absl::Status AddPortAddressWith(Rtnl& rtnl, absl::string_view dev, const PortIp& ip) {
  FabricIndexScope index;  // one scan of the fabrics for the whole operation
  std::string what = absl::StrCat("ip add ", dev);
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindIpPort(rtnl, dev, "ip add"));
  VNET_ASSIGN_OR_RETURN(auto have, OwnAddress(found, ip));
  if (have) return ReaddOwnAddress(rtnl, found, *have, ip, what);
  VNET_RETURN_IF_ERROR(CheckIpsFree({ip}, what));
  auto ifindex = static_cast<std::uint32_t>(found.dev.ifindex);
  Undo undo;
  VNET_RETURN_IF_ERROR(AddPortIp(found.maps, ifindex, found.port, ip, 0, undo));
  undo.Push([&found] { (void)RefreshFabricFlags(found.maps); });
  VNET_RETURN_IF_ERROR(RefreshFabricFlags(found.maps));
  if (IsL3s(found)) {
    VNET_ASSIGN_OR_RETURN(auto entries, L3sEntriesOf(found, ip));
    undo.Push([&rtnl, &found, entries] { RemoveL3sEntries(rtnl, found.dev, entries); });
    VNET_RETURN_IF_ERROR(Annotate(AddL3sEntries(rtnl, found.dev, PortMac(found.port), entries), what));
  }
  VNET_RETURN_IF_ERROR(Annotate(
      OnCreatedPeer(rtnl, found, [&](Rtnl& inner, const LinkInfo& peer) { return AddPeerAddress(inner, peer, ip); }),
      what));
  undo.Commit();
  return absl::OkStatus();
}

absl::Status DeletePortAddress(absl::string_view dev, const PortIp& ip, bool plen_given) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  return DeletePortAddressWith(rtnl, dev, ip, plen_given);
}

absl::Status DeletePortAddressWith(Rtnl& rtnl, absl::string_view dev, const PortIp& ip, bool plen_given) {
  FabricIndexScope index;  // one scan of the fabrics for the whole operation
  std::string what = absl::StrCat("ip del ", dev);
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindIpPort(rtnl, dev, "ip del"));
  VNET_RETURN_IF_ERROR(RemoveOne(rtnl, found, ip, plen_given, /*on_peer=*/true, what));
  return RefreshFabricFlags(found.maps);
}

absl::Status FlushPortAddresses(absl::string_view dev) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  return FlushPortAddressesWith(rtnl, dev);
}

absl::Status FlushPortAddressesWith(Rtnl& rtnl, absl::string_view dev) {
  FabricIndexScope index;  // one scan of the fabrics for the whole operation
  std::string what = absl::StrCat("ip flush ", dev);
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindIpPort(rtnl, dev, "ip flush"));
  VNET_ASSIGN_OR_RETURN(auto addresses, AddressesOf(found.maps, static_cast<std::uint32_t>(found.dev.ifindex)));
  // The link-local stays: vnet gave it, as the kernel keeps fe80:: on flush of globals.
  for (const auto& a : addresses) {
    if (a.link_local) continue;
    PortIp ip{a.prefix, a.prefix.plen != a.prefix.address.MaxPrefix()};
    // A learned address is the container's DHCP client's to remove.
    VNET_RETURN_IF_ERROR(RemoveOne(rtnl, found, ip, /*plen_given=*/false, /*on_peer=*/!a.learned, what));
  }
  return RefreshFabricFlags(found.maps);
}

}  // namespace vnet
