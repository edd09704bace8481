#include <linux/if_arp.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
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


absl::StatusOr<PeerFacts> PreparePeer(Rtnl& rtnl, const LinkInfo& dev, const std::optional<MacAddress>& want_mac,
                                      absl::string_view what, Undo& undo, const MacCheck& check,
                                      int peer_netns_fd) {
  PeerFacts facts;
  if (dev.kind == "tun") {
    // A tap: the VM behind it owns its MAC; frames reach it through tc.
    facts.mac = want_mac ? *want_mac : *dev.mac;
    facts.mtu = dev.mtu;
    VNET_RETURN_IF_ERROR(check(facts.mac));
    return facts;
  }
  VNET_RETURN_IF_ERROR(WithVethPeer(rtnl, dev, what, &facts.other_netns, [&](Rtnl& r, const LinkInfo& peer) {
    facts.mac = want_mac.value_or(*peer.mac);
    facts.mtu = peer.mtu;
    VNET_RETURN_IF_ERROR(check(facts.mac));
    if (want_mac && *want_mac != *peer.mac) {
      VNET_RETURN_IF_ERROR(Annotate(r.SetMac(peer.ifindex, *want_mac, peer.name), what));
      MacAddress old = *peer.mac;
      LinkInfo dev_copy = dev;
      undo.Push([&rtnl, dev_copy, old, what = std::string(what)] {
        bool ignored;
        (void)WithVethPeer(rtnl, dev_copy, what, &ignored,
                           [&](Rtnl& rr, const LinkInfo& p) { return rr.SetMac(p.ifindex, old, p.name); });
      });
    }
    facts.napi = SetGro(peer.name, true).ok();
    return absl::OkStatus();
  }, peer_netns_fd));
  return facts;
}

absl::Status CheckPortRules(const TablesBackend& tables, const vnet_config& config,
                            const std::vector<std::pair<std::uint32_t, vnet_port>>& ports, std::uint32_t self,
                            PortMode mode, const MacAddress& mac, absl::string_view what) {
  if (!mac.IsValidUnicast())
    return absl::InvalidArgumentError(absl::StrCat(what, ": MAC ", mac.ToString(), " is not a unicast address"));
  VNET_RETURN_IF_ERROR(CheckNoPassthru(ports, self, what));
  bool others = std::any_of(ports.begin(), ports.end(), [self](const auto& p) { return p.first != self; });
  if (mode == PortMode::kPassthru) {
    if (others)
      return absl::InvalidArgumentError(absl::StrCat(what, ": a passthru port must be the fabric's only port"));
    return absl::OkStatus();  // passthru inherits the uplink's MAC
  }
  if (mac == MacAddress::FromBytes(config.uplink_mac))
    return absl::AlreadyExistsError(absl::StrCat(what, ": MAC ", mac.ToString(), " is the uplink's (address in use)"));
  VNET_ASSIGN_OR_RETURN(auto existing, tables.LookupMac(mac));
  if (existing && existing->ifindex != self)
    return absl::AlreadyExistsError(absl::StrCat(what, ": MAC ", mac.ToString(), " is in use by another port"));
  return absl::OkStatus();
}

absl::StatusOr<FoundPort> FindPort(Rtnl& rtnl, absl::string_view dev_name, absl::string_view what) {
  auto dev = rtnl.GetLink(dev_name);
  if (!dev.ok()) return Prefix(dev.status(), what);
  auto ifindex = static_cast<std::uint32_t>(dev->ifindex);
  auto m = FindMembership(ifindex);
  if (!m || m->as_uplink) return absl::NotFoundError(absl::StrCat(what, " ", dev_name, ": not a port of any fabric"));
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(m->fabric));
  VNET_ASSIGN_OR_RETURN(auto port, maps.LookupPort(ifindex));
  if (!port) return absl::NotFoundError(absl::StrCat(what, " ", dev_name, ": not a port of any fabric"));
  return FoundPort{std::move(*dev), m->fabric, std::move(maps), *port};
}

absl::StatusOr<std::uint16_t> FreeSlot(const std::vector<std::pair<std::uint32_t, vnet_port>>& ports) {
  std::vector<bool> used(VNET_MAX_PORTS, false);
  used[VNET_UPLINK_SLOT] = true;
  for (const auto& [ifindex, port] : ports) used[port.slot % VNET_MAX_PORTS] = true;
  for (std::uint16_t slot = 1; slot < VNET_MAX_PORTS; ++slot)
    if (!used[slot]) return slot;
  return absl::ResourceExhaustedError(absl::StrCat("fabric is full (", VNET_MAX_PORTS - 1, " ports)"));
}

absl::StatusOr<PortKind> ResolvePortKind(const PortOptions& options, const vnet_config& config,
                                         absl::string_view what) {
  PortKind fabric_kind = FabricFlagsOf(config).ipvlan ? PortKind::kIpvlan : PortKind::kMacvlan;
  return CheckPortKind(options, fabric_kind, OptionDialect::kCli, CliReporter(std::string(what)));
}

absl::Status CheckNoPassthru(const std::vector<std::pair<std::uint32_t, vnet_port>>& ports, std::uint32_t self,
                                  absl::string_view what) {
  for (const auto& [ifindex, port] : ports)
    if (ifindex != self && port.mode == VNET_MODE_PASSTHRU)
      return absl::InvalidArgumentError(absl::StrCat(what, ": the fabric has a passthru port, which takes it alone"));
  return absl::OkStatus();
}

bool VnetMadePeer(const vnet_port& port, const LinkInfo& dev) {
  return PortOwned(port) && FlagsOf(port).peer_netns && dev.kind == "veth";
}

PortFlags FlagsFor(bool spoofchk, bool hairpin, bool isolated, bool nodst) {
  PortFlags flags;
  flags.spoofchk = spoofchk;
  flags.hairpin = hairpin;
  flags.isolated = isolated;
  flags.nodst = nodst;
  return flags;
}

PortInfo Describe(const LinkInfo& dev, std::uint32_t ifindex, const vnet_port& port) {
  PortInfo info;
  info.name = dev.name;
  info.ifindex = ifindex;
  info.mac = PortMac(port);
  info.type = port.mode == VNET_MODE_IPVLAN ? PortKind::kIpvlan : PortKind::kMacvlan;
  if (info.type == PortKind::kMacvlan) info.mode = static_cast<PortMode>(port.mode);
  info.flags = FlagsOf(port);
  info.slot = port.slot;
  info.up = dev.admin_up();
  info.carrier = dev.has_carrier;
  info.kind = dev.kind;
  return info;
}

}  // namespace vnet
