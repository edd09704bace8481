// port set / del, source lists, and forgetting ports whose device is gone.
#include <linux/if_arp.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "fabric/fabric.h"
#include "fabric/ip_ports.h"
#include "fabric/l3s.h"
#include "fabric/port_helpers.h"
#include "fabric/port_tables.h"
#include "fabric/registry.h"
#include "fabric/tc_hook.h"
#include "fabric/undo.h"
#include "loader/errors.h"
#include "loader/links.h"
#include "loader/pins.h"
#include "maps/fabric_maps.h"
#include "netlink/device_tuning.h"
#include "netlink/netns.h"
#include "netlink/rtnl.h"
#include "netlink/tap.h"

namespace vnet {

absl::StatusOr<int> PruneGonePorts(const std::string& fabric) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric));
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  int pruned = 0;
  for (const auto& [ifindex, port] : ports) {
    if (rtnl.GetLink(static_cast<int>(ifindex)).ok()) continue;
    // The device took its tc attachment with it; only vnet's records remain.
    VNET_RETURN_IF_ERROR(WithdrawPort(maps, ifindex, port));
    VNET_RETURN_IF_ERROR(Unpin(FabricPinPath(fabric, PortLinkPin(ifindex))));
    ++pruned;
  }
  return pruned;
}

absl::Status DeletePort(absl::string_view dev_name) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindPort(rtnl, dev_name, "port del"));
  auto ifindex = static_cast<std::uint32_t>(found.dev.ifindex);
  VNET_ASSIGN_OR_RETURN(vnet_config config, found.maps.ReadConfig());
  if (found.port.mode == VNET_MODE_IPVLAN && config.ipvlan_mode == VNET_IPVLAN_L3S) {
    VNET_ASSIGN_OR_RETURN(auto addresses, AddressesOf(found.maps, ifindex));
    RemoveL3sEntries(rtnl, found.dev, L3sEntriesFor(found.dev.ifindex, addresses));
  }
  // Stop delivering to it first, then stop listening to it.
  VNET_RETURN_IF_ERROR(WithdrawPort(found.maps, ifindex, found.port));
  TcHook hook = (config.flags & VNET_FABRIC_F_CLS_BPF) ? TcHook::kClsBpf : TcHook::kTcx;
  VNET_RETURN_IF_ERROR(DetachTc(hook, TcDirection::kIngress, found.dev.ifindex, found.dev.name,
                                FabricPinPath(found.fabric, PortLinkPin(ifindex))));
  // RTM_DELLINK works for taps too, even while a VM holds them (as for macvtap).
  if (found.port.flags & kPortOwned) return rtnl.DeleteLink(found.dev.ifindex, found.dev.name);
  return absl::OkStatus();
}

namespace {

PortKind KindOf(const vnet_port& port) {
  return port.mode == VNET_MODE_IPVLAN ? PortKind::kIpvlan : PortKind::kMacvlan;
}

// `port set --type`: what the kind change needs checked before anything moves.
absl::Status CheckKindChange(const FoundPort& found, const PortChange& change, PortKind from, PortKind to,
                             absl::string_view what) {
  std::vector<std::string> given;
  if (change.mode) given.push_back("--mode");
  if (change.mac) given.push_back("--mac");
  if (change.hairpin) given.push_back("--hairpin");
  if (change.nodst) given.push_back("--nodst");
  if (to == PortKind::kIpvlan && !given.empty())
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", absl::StrJoin(given, ", "),
                                                   ": ipvlan ports share the uplink's MAC; their mode is the "
                                                   "fabric's --ipvlan-flag"));
  if (from == PortKind::kIpvlan && to == PortKind::kMacvlan) {
    VNET_ASSIGN_OR_RETURN(auto addresses, AddressesOf(found.maps, static_cast<std::uint32_t>(found.dev.ifindex)));
    auto n = std::count_if(addresses.begin(), addresses.end(), [](const PortAddress& a) { return !a.link_local; });
    if (n)
      return absl::FailedPreconditionError(absl::StrCat(what, ": would orphan ", n, " addresses; vnetctl ip flush ",
                                                        found.dev.name, " first"));
  }
  if (from == PortKind::kMacvlan && to == PortKind::kIpvlan && found.port.mode == VNET_MODE_PASSTHRU)
    return absl::InvalidArgumentError(absl::StrCat(what, ": cannot change a port to or from passthru mode"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PortInfo> ChangePort(const PortChange& change) {
  std::string what = absl::StrCat("port set ", change.dev);
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindPort(rtnl, change.dev, "port set"));
  auto ifindex = static_cast<std::uint32_t>(found.dev.ifindex);
  vnet_port old = found.port;
  vnet_port port = old;
  PortKind from = KindOf(old), to = change.type.value_or(from);
  bool ipvlan = to == PortKind::kIpvlan;
  VNET_RETURN_IF_ERROR(CheckKindChange(found, change, from, to, what));
  // An ipvlan port has no macvlan mode: one that becomes macvlan starts at vepa.
  auto old_mode = from == PortKind::kIpvlan ? PortMode::kVepa : static_cast<PortMode>(old.mode);
  PortMode mode = change.mode.value_or(old_mode);
  if ((mode == PortMode::kPassthru) != (old_mode == PortMode::kPassthru))
    return absl::InvalidArgumentError(absl::StrCat(what, ": cannot change a port to or from passthru mode"));
  bool nodst = !ipvlan && change.nodst.value_or(old.flags & VNET_PORT_F_NODST);
  if (nodst && mode != PortMode::kSource)
    return absl::InvalidArgumentError(absl::StrCat(what, ": --nodst needs mode source"));
  VNET_ASSIGN_OR_RETURN(vnet_config config, found.maps.ReadConfig());
  VNET_ASSIGN_OR_RETURN(auto ports, found.maps.ListPorts());
  MacAddress mac = change.mac.value_or(PortMac(old));
  if (ipvlan)
    VNET_RETURN_IF_ERROR(CheckNoPassthru(ports, ifindex, what));
  else
    VNET_RETURN_IF_ERROR(CheckPortRules(found.maps, config, ports, ifindex, mode, mac, what));
  VNET_ASSIGN_OR_RETURN(auto sources, SourcesOf(found.maps, ifindex));
  if (mode != PortMode::kSource && !sources.empty() && old_mode == PortMode::kSource && (change.mode || ipvlan))
    sources.clear();  // leaving source mode drops the list, as the kernel flushes it

  Undo undo;
  if (change.mac && *change.mac != PortMac(old))  // the container side takes the new MAC
    VNET_RETURN_IF_ERROR(
        PreparePeer(rtnl, found.dev, change.mac, what, undo, [](const MacAddress&) { return absl::OkStatus(); })
            .status());
  std::memcpy(port.mac, mac.bytes.data(), 6);
  port.mode = ipvlan ? std::uint8_t{VNET_MODE_IPVLAN} : static_cast<std::uint8_t>(mode);
  std::uint8_t keep = old.flags & (VNET_PORT_F_PEER_NETNS | VNET_PORT_F_XDP_TARGET | kPortOwned | kPortHeldDown);
  port.flags = keep | FlagsFor(change.spoofchk.value_or(old.flags & VNET_PORT_F_SPOOFCHK),
                               !ipvlan && change.hairpin.value_or(old.flags & VNET_PORT_F_HAIRPIN),
                               change.isolated.value_or(old.flags & VNET_PORT_F_ISOLATED), nodst);

  // Publish the new state over the old: a changed MAC gets its new entry
  // before the old one goes, so the port is never unreachable in between.
  VNET_ASSIGN_OR_RETURN(auto old_sources, SourcesOf(found.maps, ifindex));
  undo.Push([&found, ifindex, old, old_sources] {
    (void)FlushSources(found.maps, ifindex);
    (void)PublishPort(found.maps, ifindex, old);
    for (const auto& source : old_sources) (void)AddSource(found.maps, ifindex, old, source);
  });
  VNET_RETURN_IF_ERROR(FlushSources(found.maps, ifindex));
  if (from != to && to == PortKind::kIpvlan)
    VNET_RETURN_IF_ERROR(Annotate(PrepareIpvlanHostEnd(found.dev.name, config.ipvlan_mode), what));
  VNET_RETURN_IF_ERROR(PublishPort(found.maps, ifindex, port));
  // Its old MAC entry goes when the MAC changed or the port now demuxes by IP.
  if (PortMac(old) != mac || (ipvlan && from == PortKind::kMacvlan)) {
    VNET_ASSIGN_OR_RETURN(auto entry, found.maps.LookupMac(PortMac(old)));
    if (entry && entry->ifindex == ifindex) VNET_RETURN_IF_ERROR(found.maps.DeleteMac(PortMac(old)));
  }
  for (const auto& source : sources) VNET_RETURN_IF_ERROR(AddSource(found.maps, ifindex, port, source));
  // A former ipvlan port keeps nothing of its addresses (its link-local,
  // learned ones, DHCP transactions).
  if (from == PortKind::kIpvlan && !ipvlan) {
    VNET_RETURN_IF_ERROR(ForgetPortIps(found.maps, ifindex));
    VNET_RETURN_IF_ERROR(RefreshFabricFlags(found.maps));
  }
  undo.Commit();
  PortInfo info = Describe(found.dev, ifindex, port);
  info.sources = sources;
  VNET_ASSIGN_OR_RETURN(info.addresses, AddressesOf(found.maps, ifindex));
  return info;
}

namespace {

absl::StatusOr<FoundPort> FindSourcePort(Rtnl& rtnl, absl::string_view dev, absl::string_view what) {
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindPort(rtnl, dev, what));
  if (found.port.mode != VNET_MODE_SOURCE)
    return absl::InvalidArgumentError(absl::StrCat(what, " ", dev, ": not a source-mode port"));
  return found;
}

}  // namespace

absl::Status AddPortSource(absl::string_view dev, const MacAddress& mac) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindSourcePort(rtnl, dev, "source add"));
  if (!mac.IsValidUnicast())
    return absl::InvalidArgumentError(absl::StrCat("source add ", dev, ": MAC ", mac.ToString(), " is not a unicast address"));
  return Annotate(AddSource(found.maps, static_cast<std::uint32_t>(found.dev.ifindex), found.port, mac),
                  absl::StrCat("source add ", dev));
}

absl::Status DeletePortSource(absl::string_view dev, const MacAddress& mac) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindSourcePort(rtnl, dev, "source del"));
  return Annotate(RemoveSource(found.maps, static_cast<std::uint32_t>(found.dev.ifindex), mac),
                  absl::StrCat("source del ", dev));
}

absl::Status FlushPortSources(absl::string_view dev) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindSourcePort(rtnl, dev, "source flush"));
  return FlushSources(found.maps, static_cast<std::uint32_t>(found.dev.ifindex));
}

}  // namespace vnet
