// port set / del, source lists, and forgetting ports whose device is gone.
#include <linux/if_arp.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "fabric/fabric.h"
#include "fabric/ip_ports.h"
#include "fabric/operations.h"
#include "fabric/ipvlan_peer.h"
#include "fabric/l3s.h"
#include "fabric/port_helpers.h"
#include "fabric/port_options.h"
#include "fabric/port_tables.h"
#include "fabric/registry.h"
#include "loader/tc_hook.h"
#include "fabric/undo.h"
#include "base/errors.h"
#include "loader/links.h"
#include "loader/pins.h"
#include "maps/fabric_maps.h"
#include "netlink/device_tuning.h"
#include "netlink/netns.h"
#include "netlink/rtnl.h"
#include "netlink/tap.h"

namespace vnet {

absl::StatusOr<int> PruneGonePorts(const std::string& fabric) {
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric));
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  LinkPresence presence;  // port add runs this each time: one ioctl per port, not a netlink round trip
  int pruned = 0;
  for (const auto& [ifindex, port] : ports) {
    if (presence.Exists(ifindex)) continue;
    // The device took its tc attachment with it; only vnet's records remain.
    VNET_RETURN_IF_ERROR(WithdrawPort(maps, ifindex, port));
    VNET_RETURN_IF_ERROR(Unpin(FabricPinPath(fabric, PortLinkPin(ifindex))));
    ++pruned;
  }
  return pruned;
}

absl::Status DeletePort(absl::string_view dev_name) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  return DeletePortWith(rtnl, dev_name);
}

absl::Status DeletePortWith(Rtnl& rtnl, absl::string_view dev_name) {
  FabricIndexScope index;  // one scan of the fabrics for the whole operation
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindPort(rtnl, dev_name, "port del"));
  auto ifindex = static_cast<std::uint32_t>(found.dev.ifindex);
  VNET_ASSIGN_OR_RETURN(vnet_config config, found.maps.ReadConfig());
  if (found.port.mode == VNET_MODE_IPVLAN && config.ipvlan_mode == VNET_IPVLAN_L3S) {
    VNET_ASSIGN_OR_RETURN(auto addresses, AddressesOf(found.maps, ifindex));
    RemoveL3sEntries(rtnl, found.dev, L3sEntriesFor(found.dev.ifindex, addresses));
  }
  // A pair vnet made outlives the port's record for a moment: noted, so that
  // a vnetctl killed before deleting it leaves it to the next apply.
  bool owned_pair = PortOwned(found.port) && found.dev.kind == "veth";
  std::string pending = FabricPinPath(found.fabric, PendingVethPin(found.dev.name));
  if (owned_pair) VNET_RETURN_IF_ERROR(Annotate(PinNote(pending, PinnedNote{}), "port del"));
  // Stop delivering to it first, then stop listening to it.
  VNET_RETURN_IF_ERROR(WithdrawPort(found.maps, ifindex, found.port));
  std::string link_pin = FabricPinPath(found.fabric, PortLinkPin(ifindex));
  auto detach = [&] {
    return DetachTc(FabricTcHook(config), TcDirection::kIngress, found.dev.ifindex, found.dev.name, link_pin);
  };
  if (!PortOwned(found.port)) return detach();
  // A device vnet made goes, and its tc attachment with it. Detaching first
  // would cost a second RCU grace period, under RTNL, before the kernel's
  // delete could start: releasing a tcx link waits for one. Deleted first,
  // the link's pin is only a name. RTM_DELLINK works for taps too, even while
  // a VM holds them (as for macvtap).
  if (auto deleted = rtnl.DeleteLink(found.dev.ifindex, found.dev.name); !deleted.ok()) {
    (void)detach();  // the device stays: it must not keep the program
    return deleted;
  }
  VNET_RETURN_IF_ERROR(Unpin(link_pin));
  if (owned_pair) (void)Unpin(pending);
  return absl::OkStatus();
}

namespace {

PortKind KindOf(const vnet_port& port) {
  return port.mode == VNET_MODE_IPVLAN ? PortKind::kIpvlan : PortKind::kMacvlan;
}

// `port set --type`: what the kind change needs checked before anything moves.
absl::Status CheckKindChange(const FoundPort& found, const PortChange& change, PortKind from, PortKind to,
                             absl::string_view what) {
  VNET_RETURN_IF_ERROR(CheckChangeForKind(change, from, to, OptionDialect::kCli, CliReporter(std::string(what))));
  if (from == PortKind::kIpvlan && to == PortKind::kMacvlan) {
    VNET_ASSIGN_OR_RETURN(auto addresses, AddressesOf(found.maps, static_cast<std::uint32_t>(found.dev.ifindex)));
    auto n = std::count_if(addresses.begin(), addresses.end(), [](const PortAddress& a) { return !a.link_local; });
    if (n)
      return absl::FailedPreconditionError(absl::StrCat(what, ": would orphan ", n, " addresses; vnetctl ip flush ",
                                                        found.dev.name, " first"));
  }
  if (from == PortKind::kMacvlan && to == PortKind::kIpvlan && !change.allow_ips) {
    VNET_ASSIGN_OR_RETURN(auto allowed, AllowIpsOf(found.maps, found.port.slot));
    // Not dropped silently: the operator chose that filter.
    if (!allowed.empty())
      return absl::FailedPreconditionError(absl::StrCat(what, ": would drop its ", allowed.size(),
                                                        " --allow-ip entries; add --allow-ip none"));
  }
  if (from == PortKind::kMacvlan && to == PortKind::kIpvlan && found.port.mode == VNET_MODE_PASSTHRU)
    return absl::InvalidArgumentError(absl::StrCat(what, ": cannot change a port to or from passthru mode"));
  return absl::OkStatus();
}

std::array<std::uint8_t, 6> RandomBytes() {
  std::array<std::uint8_t, 6> bytes{};
  if (getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    for (auto& b : bytes) b = static_cast<std::uint8_t>(std::rand());
  return bytes;
}

// The port's MAC after `port set`. A kind change without --mac: a port vnet
// created gets the uplink's MAC (to ipvlan) or a fresh one of its own (to
// macvlan); on a DEV port the container side is the operator's, so it must
// already have the uplink's MAC (to ipvlan), or --mac must give it one (to
// macvlan, from the uplink's).
absl::StatusOr<MacAddress> MacAfterChange(Rtnl& rtnl, const FoundPort& found, const PortChange& change, PortKind from,
                                          PortKind to, const MacAddress& uplink_mac,
                                          const std::vector<std::pair<std::uint32_t, vnet_port>>& ports,
                                          absl::string_view what) {
  MacAddress old = PortMac(found.port);
  if (change.mac) return *change.mac;
  if (from == to) return old;
  if (to == PortKind::kIpvlan) {
    if (VnetMadePeer(found.port, found.dev)) return uplink_mac;
    if (found.dev.kind != "veth") return old;  // a tap: the VM's MAC is not visible here
    MacAddress peer_mac;
    bool other_netns = false;
    VNET_RETURN_IF_ERROR(WithVethPeer(rtnl, found.dev, what, &other_netns, [&](Rtnl&, const LinkInfo& peer) {
      peer_mac = peer.mac.value_or(MacAddress{});
      return absl::OkStatus();
    }));
    if (peer_mac != uplink_mac)
      return absl::FailedPreconditionError(absl::StrCat(
          what, ": ", found.dev.name, "'s container side still has MAC ", peer_mac.ToString(),
          ": set it to the uplink's MAC ", uplink_mac.ToString(), " first (ipvlan ports share the uplink's MAC)"));
    return uplink_mac;
  }
  if (VnetMadePeer(found.port, found.dev))
  {
    auto fresh = PickFreeLocalMac(RandomBytes, [&](const MacAddress& mac) {
      if (mac == uplink_mac) return true;
      for (const auto& [ifindex, port] : ports)
        if (PortMac(port) == mac) return true;
      auto entry = found.maps.LookupMac(mac);
      return !entry.ok() || entry->has_value();
    });
    if (!fresh.ok()) return Annotate(fresh.status(), what);
    return *fresh;
  }
  if (old == uplink_mac)
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": ", found.dev.name, "'s container side has the uplink's MAC ", uplink_mac.ToString(),
        ", which a macvlan port may not have: pass --mac with one of its own (vnet sets it on the container side)"));
  return old;
}

}  // namespace

absl::StatusOr<PortInfo> ChangePort(const PortChange& change) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  return ChangePortWith(rtnl, change);
}

absl::StatusOr<PortInfo> ChangePortWith(Rtnl& rtnl, const PortChange& change) {
  FabricIndexScope index;  // one scan of the fabrics for the whole operation
  std::string what = absl::StrCat("port set ", change.dev);
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
  PortFlags old_flags = FlagsOf(old);
  bool nodst = !ipvlan && change.nodst.value_or(old_flags.nodst);
  VNET_RETURN_IF_ERROR(CheckSourceModeOptions(nodst, false, mode, OptionDialect::kCli, CliReporter(what)));
  VNET_ASSIGN_OR_RETURN(vnet_config config, found.maps.ReadConfig());
  VNET_ASSIGN_OR_RETURN(auto ports, found.maps.ListPorts());
  MacAddress uplink_mac = MacAddress::FromBytes(config.uplink_mac);
  VNET_ASSIGN_OR_RETURN(MacAddress mac, MacAfterChange(rtnl, found, change, from, to, uplink_mac, ports, what));
  bool converts_peer = from != to && VnetMadePeer(found.port, found.dev);
  auto ipvlan_mode = static_cast<IpvlanMode>(config.ipvlan_mode);
  IpAddress link_local = PortLinkLocal(uplink_mac, old.slot);
  if (ipvlan)
    VNET_RETURN_IF_ERROR(CheckNoPassthru(ports, ifindex, what));
  else
    VNET_RETURN_IF_ERROR(CheckPortRules(MapsTables(found.maps), config, ports, ifindex, mode, mac, what));
  VNET_ASSIGN_OR_RETURN(auto sources, SourcesOf(found.maps, ifindex));
  if (mode != PortMode::kSource && !sources.empty() && old_mode == PortMode::kSource && (change.mode || ipvlan))
    sources.clear();  // leaving source mode drops the list, as the kernel flushes it

  Undo undo;
  if (converts_peer) {
    // The container side first, as port add prepares it before publishing.
    // The way back is pushed before the way there: a half-done conversion
    // is undone too.
    auto convert = [&rtnl, dev = found.dev, what, link_local, ipvlan_mode](PortKind kind, const MacAddress& m) {
      bool other_netns = false;
      return WithVethPeer(rtnl, dev, what, &other_netns, [&](Rtnl& inner, const LinkInfo& peer) {
        return ConvertPeer(inner, peer, kind, m, link_local, ipvlan_mode);
      });
    };
    undo.Push([convert, from, old_mac = PortMac(old)] { (void)convert(from, old_mac); });
    VNET_RETURN_IF_ERROR(Annotate(convert(to, mac), what));
  } else if (change.mac && *change.mac != PortMac(old)) {  // the container side takes the new MAC
    VNET_RETURN_IF_ERROR(
        PreparePeer(rtnl, found.dev, change.mac, what, undo, [](const MacAddress&) { return absl::OkStatus(); })
            .status());
  }
  std::memcpy(port.mac, mac.bytes.data(), 6);
  port.mode = ipvlan ? std::uint8_t{VNET_MODE_IPVLAN} : static_cast<std::uint8_t>(mode);
  PortFlags flags = FlagsFor(change.spoofchk.value_or(old_flags.spoofchk),
                             !ipvlan && change.hairpin.value_or(old_flags.hairpin),
                             change.isolated.value_or(old_flags.isolated), nodst);
  flags.peer_netns = old_flags.peer_netns;  // facts of the device, kept (as is ownership)
  flags.xdp_target = old_flags.xdp_target;
  // The allow-ip list: entries the new list adds go in before the flag is
  // published (below), entries it drops go after; the undo restores the old
  // list the same way round (complete before the old flag is back).
  VNET_ASSIGN_OR_RETURN(auto old_allowed, AllowIpsOf(found.maps, old.slot));
  std::vector<IpPrefix> allowed = ipvlan ? std::vector<IpPrefix>{} : change.allow_ips.value_or(old_allowed);
  flags.allow_ip = !allowed.empty();
  SetPortFlags(port, flags);
  undo.Push([&found, slot = old.slot, old_allowed] { (void)SyncAllowIps(found.maps, slot, old_allowed); });
  VNET_RETURN_IF_ERROR(Annotate(AddAllowIps(found.maps, old.slot, allowed), what));

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
  undo.Push([&found, slot = old.slot, old_allowed] { (void)AddAllowIps(found.maps, slot, old_allowed); });
  VNET_RETURN_IF_ERROR(Annotate(SyncAllowIps(found.maps, old.slot, allowed), what));
  // vnet's link-local of the converted container side, registered as port add does.
  if (converts_peer && ipvlan)
    VNET_RETURN_IF_ERROR(AddPortIp(found.maps, ifindex, port, PortIp{IpPrefix{link_local, 128}, false},
                                   VNET_IP_F_LINK_LOCAL, undo));
  // A former ipvlan port keeps nothing of its addresses (its link-local,
  // learned ones, DHCP transactions).
  if (from == PortKind::kIpvlan && !ipvlan) {
    VNET_ASSIGN_OR_RETURN(auto kept, AddressesOf(found.maps, ifindex));
    undo.Push([&found, ifindex, old, kept] {
      Undo ignored;
      for (const auto& a : kept)
        (void)AddPortIp(found.maps, ifindex, old, PortIp{a.prefix, a.prefix.plen != a.prefix.address.MaxPrefix()},
                        (a.link_local ? VNET_IP_F_LINK_LOCAL : 0) | (a.learned ? VNET_IP_F_LEARNED : 0), ignored);
      ignored.Commit();
    });
    VNET_RETURN_IF_ERROR(ForgetPortIps(found.maps, ifindex));
    VNET_RETURN_IF_ERROR(RefreshFabricFlags(found.maps));
  }
  // The storm limit restarts the port's bucket (a limit given again too).
  VNET_ASSIGN_OR_RETURN(std::uint32_t old_storm, found.maps.ReadStormLimit(old.slot));
  if (change.storm_limit) {
    undo.Push([&found, slot = old.slot, old_storm] { (void)found.maps.WriteStormLimit(slot, old_storm); });
    VNET_RETURN_IF_ERROR(Annotate(found.maps.WriteStormLimit(old.slot, *change.storm_limit), what));
  }
  undo.Commit();
  PortInfo info = Describe(found.dev, ifindex, port);
  info.sources = sources;
  info.allow_ips = allowed;
  info.storm_limit = change.storm_limit.value_or(old_storm);
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
  return AddPortSourceWith(rtnl, dev, mac);
}

absl::Status AddPortSourceWith(Rtnl& rtnl, absl::string_view dev, const MacAddress& mac) {
  FabricIndexScope index;  // one scan of the fabrics for the whole operation
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindSourcePort(rtnl, dev, "source add"));
  if (!mac.IsValidUnicast())
    return absl::InvalidArgumentError(absl::StrCat("source add ", dev, ": MAC ", mac.ToString(), " is not a unicast address"));
  return Annotate(AddSource(found.maps, static_cast<std::uint32_t>(found.dev.ifindex), found.port, mac),
                  absl::StrCat("source add ", dev));
}

absl::Status DeletePortSource(absl::string_view dev, const MacAddress& mac) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  return DeletePortSourceWith(rtnl, dev, mac);
}

absl::Status DeletePortSourceWith(Rtnl& rtnl, absl::string_view dev, const MacAddress& mac) {
  FabricIndexScope index;  // one scan of the fabrics for the whole operation
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindSourcePort(rtnl, dev, "source del"));
  return Annotate(RemoveSource(found.maps, static_cast<std::uint32_t>(found.dev.ifindex), mac),
                  absl::StrCat("source del ", dev));
}

absl::Status FlushPortSources(absl::string_view dev) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  return FlushPortSourcesWith(rtnl, dev);
}

absl::Status FlushPortSourcesWith(Rtnl& rtnl, absl::string_view dev) {
  FabricIndexScope index;  // one scan of the fabrics for the whole operation
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindSourcePort(rtnl, dev, "source flush"));
  return FlushSources(found.maps, static_cast<std::uint32_t>(found.dev.ifindex));
}

}  // namespace vnet
