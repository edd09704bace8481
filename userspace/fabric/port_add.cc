// port add: putting a veth host end or a tap on a fabric, or creating one
// (--netns, --tap) first, with macvlan's rules for modes and addresses.
#include <linux/if_arp.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "fabric/fabric.h"
#include "fabric/ip_ports.h"
#include "fabric/operations.h"
#include "fabric/ipvlan_peer.h"
#include "fabric/l3s.h"
#include "fabric/port_helpers.h"
#include "fabric/port_record.h"
#include "fabric/port_tables.h"
#include "fabric/registry.h"
#include "loader/tc_hook.h"
#include "fabric/undo.h"
#include "base/errors.h"
#include "loader/links.h"
#include "loader/checkpoint.h"
#include "loader/pins.h"
#include "maps/fabric_maps.h"
#include "netlink/device_tuning.h"
#include "netlink/netns.h"
#include "netlink/rtnl.h"
#include "netlink/tap.h"

namespace vnet {
namespace {

std::string RandomPortName() {
  std::uint32_t r = 0;
  if (getrandom(&r, sizeof(r), 0) != sizeof(r)) r = static_cast<std::uint32_t>(getpid()) * 2654435761u;
  return absl::StrFormat("vnp%08x", r);
}

// Attaches an existing device as a port. `owned`: vnet created it and deletes
// it with the port. `link_local`: register the link-local vnet gives the
// container side of an ipvlan port (port add --netns).
// `what` names the command in errors ("port add vnp1234", "port add --netns web").
// `peer_netns_fd`: the namespace holding a veth's peer, when the caller has it.
absl::StatusOr<PortInfo> AttachPort(Rtnl& rtnl, const LinkInfo& dev, const PortOptions& options, bool owned,
                                    const std::string& what, bool link_local = false, int peer_netns_fd = -1) {
  if (dev.kind != "veth" && dev.kind != "tun")
    return absl::InvalidArgumentError(absl::StrCat(what, ": not a veth or tap device"));
  if (dev.type != ARPHRD_ETHER) return absl::InvalidArgumentError(absl::StrCat(what, ": not an Ethernet device"));
  if (auto m = FindMembership(dev.ifindex))
    return absl::AlreadyExistsError(absl::StrCat(
        what, m->as_uplink ? ": is the uplink of fabric " : ": already a port of fabric ", m->fabric));
  auto fabric_or = ResolveFabric(options.fabric);
  if (!fabric_or.ok()) return Annotate(fabric_or.status(), what);
  std::string fabric = *fabric_or;

  VNET_RETURN_IF_ERROR(PruneGonePorts(fabric).status());  // their MACs and slots are free again
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric));
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  VNET_ASSIGN_OR_RETURN(PortKind kind, ResolvePortKind(options, config, what));
  bool ipvlan = kind == PortKind::kIpvlan;
  VNET_RETURN_IF_ERROR(CheckIpsFree(options.ips, what));
  bool l3s = ipvlan && config.ipvlan_mode == VNET_IPVLAN_L3S;
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  auto uplink_or = rtnl.GetLink(static_cast<int>(config.uplink_ifindex));
  if (!uplink_or.ok() || FabricFlagsOf(config).defunct)
    return absl::FailedPreconditionError(absl::StrCat(what, ": fabric ", fabric, "'s uplink is gone; detach it"));
  LinkInfo uplink = std::move(*uplink_or);
  auto ifindex = static_cast<std::uint32_t>(dev.ifindex);

  std::optional<MacAddress> want_mac = options.mac;
  if (options.mode == PortMode::kPassthru && !want_mac) want_mac = uplink.mac;  // kernel: inherits the lower MAC
  Undo undo;
  VNET_ASSIGN_OR_RETURN(PeerFacts peer, PreparePeer(rtnl, dev, want_mac, what, undo, [&](const MacAddress& mac) {
                          if (ipvlan) return CheckNoPassthru(ports, ifindex, what);
                          return CheckPortRules(MapsTables(maps), config, ports, ifindex, options.mode, mac, what);
                        }, peer_netns_fd));
  unsigned mtu = std::max(peer.mtu, dev.mtu);
  if (mtu > uplink.mtu)
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": MTU ", mtu, " exceeds the uplink ", uplink.name, "'s ", uplink.mtu));
  VNET_ASSIGN_OR_RETURN(std::uint16_t slot, FreeSlot(ports));

  PortFlags flags = FlagsFor(options.spoofchk, options.hairpin, options.isolated, options.nodst);
  flags.peer_netns = peer.other_netns;
  flags.xdp_target = peer.napi;
  flags.allow_ip = !options.allow_ips.empty();

  if (ipvlan)
    VNET_RETURN_IF_ERROR(Annotate(PrepareIpvlanHostEnd(dev.name, config.ipvlan_mode), what));
  else
    (void)DisableIpv6(dev.name);
  // NAPI on the host end too: what the container sends is taken from the
  // veth's ring and GRO-merged, instead of queued to the backlog per packet.
  if (dev.kind == "veth") (void)SetGro(dev.name, true);
  // No TSO on the host end of a veth whose peer has NAPI: the veth then puts
  // what it sends (each flood copy) in the peer's own ring instead of the one
  // per-CPU backlog all copies would share, which overflows past a few dozen
  // ports (docs/architecture.md, "Flooding").
  if (dev.kind == "veth" && flags.xdp_target) (void)SetTso(dev.name, false);
  if (!dev.admin_up()) {
    VNET_RETURN_IF_ERROR(Annotate(rtnl.SetUp(dev.ifindex, true, dev.name), what));
    undo.Push([&rtnl, &dev] { (void)rtnl.SetUp(dev.ifindex, false, dev.name); });
  }

  vnet_port port{};
  std::memcpy(port.mac, peer.mac.bytes.data(), 6);
  port.slot = slot;
  port.mode = ipvlan ? std::uint8_t{VNET_MODE_IPVLAN} : static_cast<std::uint8_t>(options.mode);
  SetPortFlags(port, flags);
  SetPortOwned(port, owned);
  NewPortRecord record{ifindex, port, options.allow_ips, options.sources, std::nullopt, options.ips,
                       options.storm_limit};
  if (link_local) record.link_local = PortLinkLocal(*uplink.mac, slot);
  // Listening starts between the port entry and its publication (port_record.h).
  auto listen = [&]() -> absl::Status {
    VNET_ASSIGN_OR_RETURN(UniqueFd prog, OpenPinned(FabricPinPath(fabric, kPortProgPin)));
    TcHook hook = FabricTcHook(config);
    std::string link_pin = FabricPinPath(fabric, PortLinkPin(ifindex));
    VNET_RETURN_IF_ERROR(AttachTc(hook, TcDirection::kIngress, prog.get(), dev.ifindex, dev.name, link_pin));
    undo.Push([hook, &dev, link_pin] { (void)DetachTc(hook, TcDirection::kIngress, dev.ifindex, dev.name, link_pin); });
    return absl::OkStatus();
  };
  VNET_RETURN_IF_ERROR(RecordNewPort(maps, record, undo, listen, what));
  VNET_ASSIGN_OR_RETURN(auto addresses, AddressesOf(maps, ifindex));
  if (l3s) {
    auto entries = L3sEntriesFor(dev.ifindex, addresses);
    undo.Push([&rtnl, &dev, entries] { RemoveL3sEntries(rtnl, dev, entries); });
    VNET_RETURN_IF_ERROR(Annotate(AddL3sEntries(rtnl, dev, peer.mac, entries), what));
  }

  undo.Commit();
  PortInfo info = Describe(dev, ifindex, port);
  info.up = true;
  info.sources = options.sources;
  info.addresses = std::move(addresses);
  info.allow_ips = options.allow_ips;
  info.storm_limit = options.storm_limit;
  return info;
}

// A veth pair vnet created for a port but never recorded (vnetctl killed in
// between) holds the container-side name; it is vnet's to remove: a vnp*
// host end here, in no fabric, whose peer is `ifname` in the port's netns.
absl::Status RemoveOrphanPair(Rtnl& rtnl, int netns_fd, const std::string& netns, const std::string& ifname) {
  int peer_ifindex = 0, inner_ifindex = 0;
  {
    VNET_ASSIGN_OR_RETURN(ScopedNetns inside, ScopedNetns::Enter(netns_fd, netns));
    VNET_ASSIGN_OR_RETURN(Rtnl inner, Rtnl::Open());
    auto dev = inner.GetLink(ifname);
    if (!dev.ok() || dev->kind != "veth" || !dev->link_netnsid) return absl::OkStatus();
    peer_ifindex = dev->link_ifindex;
    inner_ifindex = dev->ifindex;
  }
  auto host_end = rtnl.GetLink(peer_ifindex);
  if (!host_end.ok() || host_end->name.rfind("vnp", 0) != 0 || host_end->link_ifindex != inner_ifindex ||
      FindMembership(static_cast<std::uint32_t>(peer_ifindex)))
    return absl::OkStatus();
  return rtnl.DeleteLink(host_end->ifindex, host_end->name);
}

absl::StatusOr<PortInfo> AddPortInNetns(Rtnl& rtnl, const PortOptions& options) {
  std::string what = absl::StrCat("port add --netns ", options.netns);
  auto fabric = ResolveFabric(options.fabric);
  if (!fabric.ok()) return Annotate(fabric.status(), what);
  if (options.ifname.empty() || options.ifname.size() >= IFNAMSIZ || options.ifname.find('/') != std::string::npos)
    return absl::InvalidArgumentError(absl::StrCat(what, ": --ifname '", options.ifname, "' is not a valid device name"));
  if (options.mac && !options.mac->IsValidUnicast())
    return absl::InvalidArgumentError(absl::StrCat(what, ": MAC ", options.mac->ToString(), " is not a unicast address"));
  auto ns = OpenNetns(options.netns);
  if (!ns.ok()) return Prefix(ns.status(), "port add");
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(*fabric));
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  VNET_ASSIGN_OR_RETURN(LinkInfo uplink, rtnl.GetLink(static_cast<int>(config.uplink_ifindex)));
  // Refusals that need no device come before the veth pair exists.
  VNET_ASSIGN_OR_RETURN(PortKind kind, ResolvePortKind(options, config, what));
  bool ipvlan = kind == PortKind::kIpvlan;
  VNET_RETURN_IF_ERROR(CheckIpsFree(options.ips, what));
  auto ipvlan_mode = static_cast<IpvlanMode>(config.ipvlan_mode);
  std::optional<MacAddress> mac = options.mac;
  // An ipvlan slave has its lower device's MAC; so does the container side here.
  if ((options.mode == PortMode::kPassthru || ipvlan) && !mac) mac = uplink.mac;

  VNET_RETURN_IF_ERROR(Annotate(RemoveOrphanPair(rtnl, ns->get(), options.netns, options.ifname), what));
  std::string host_name = RandomPortName();
  // Until the port is recorded, a note says the pair is vnet's: a vnetctl
  // killed in between leaves it to the next apply (RemoveOrphanPairs).
  std::string pending = FabricPinPath(*fabric, PendingVethPin(host_name));
  VNET_RETURN_IF_ERROR(Annotate(PinNote(pending, PinnedNote{}), what));
  Undo undo;
  undo.Push([pending] { (void)Unpin(pending); });
  if (options.mtu > uplink.mtu)
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": MTU ", options.mtu, " exceeds the uplink ", uplink.name, "'s ", uplink.mtu));
  // Like a macvlan child, the port starts with the uplink's MTU.
  auto created = rtnl.CreateVeth(host_name, options.ifname, ns->get(), mac, options.mtu ? options.mtu : uplink.mtu);
  if (absl::IsAlreadyExists(created))
    return absl::AlreadyExistsError(absl::StrCat(what, ": ", options.ifname, " already exists in netns ", options.netns));
  VNET_RETURN_IF_ERROR(Annotate(created, what));
  VNET_ASSIGN_OR_RETURN(LinkInfo host, rtnl.GetLink(host_name));
  undo.Push([&rtnl, &host] { (void)rtnl.DeleteLink(host.ifindex, host.name); });
  if (!options.alias.empty()) VNET_RETURN_IF_ERROR(Annotate(rtnl.SetAlias(host.ifindex, options.alias, host_name), what));
  {
    VNET_ASSIGN_OR_RETURN(ScopedNetns inside, ScopedNetns::Enter(ns->get(), options.netns));
    VNET_ASSIGN_OR_RETURN(Rtnl inner, Rtnl::Open());
    VNET_ASSIGN_OR_RETURN(LinkInfo peer, inner.GetLink(options.ifname));
    if (ipvlan) VNET_RETURN_IF_ERROR(Annotate(PrepareIpvlanPeer(inner, peer, ipvlan_mode), what));
    VNET_RETURN_IF_ERROR(Annotate(inner.SetUp(peer.ifindex, true, peer.name), what));
  }
  VNET_ASSIGN_OR_RETURN(host, rtnl.GetLink(host_name));  // now with its peer's netns id
  PortOptions attach = options;
  attach.mac = mac;
  attach.type = kind;
  VNET_ASSIGN_OR_RETURN(PortInfo info, AttachPort(rtnl, host, attach, /*owned=*/true, what, /*link_local=*/ipvlan,
                                                         /*peer_netns_fd=*/ns->get()));
  if (ipvlan) {
    undo.Push([host_name] { (void)DeletePort(host_name); });  // its tables, then the pair
    VNET_ASSIGN_OR_RETURN(ScopedNetns inside, ScopedNetns::Enter(ns->get(), options.netns));
    VNET_ASSIGN_OR_RETURN(Rtnl inner, Rtnl::Open());
    VNET_ASSIGN_OR_RETURN(LinkInfo peer, inner.GetLink(options.ifname));
    VNET_RETURN_IF_ERROR(Annotate(
        ConfigureIpvlanPeer(inner, peer, PortLinkLocal(*uplink.mac, info.slot), options.ips, ipvlan_mode), what));
  }
  undo.Commit();
  (void)Unpin(pending);  // recorded in vnet_ports now
  return info;
}

absl::StatusOr<PortInfo> AddTapPort(Rtnl& rtnl, const PortOptions& options) {
  std::string what = absl::StrCat("port add --tap ", options.tap);
  auto fabric = ResolveFabric(options.fabric);
  if (!fabric.ok()) return Annotate(fabric.status(), what);
  auto existing = rtnl.GetLink(options.tap);
  // apply adopts a tap in no fabric by the configured name only if vnet was
  // creating it (the pending note below) and was interrupted before
  // recording it: a tap someone else made is never taken, nor later deleted.
  std::string pending = FabricPinPath(*fabric, PendingTapPin(options.tap));
  bool adopt = existing.ok() && options.adopt_orphan && existing->kind == "tun" &&
               !FindMembership(static_cast<std::uint32_t>(existing->ifindex)) && OpenPinned(pending).ok();
  if (existing.ok() && !adopt)
    return absl::AlreadyExistsError(absl::StrCat(what, ": a device by that name exists",
                                                 options.adopt_orphan ? " (vnet did not create it)" : ""));
  if (!adopt) {
    VNET_RETURN_IF_ERROR(Annotate(PinNote(pending, PinnedNote{}), what));
    auto created = CreatePersistentTap(options.tap, options.tap_user, options.tap_group, options.tap_multi_queue);
    if (!created.ok()) {
      (void)Unpin(pending);
      return Annotate(created, "port add");
    }
    Checkpoint("port add: tap created");
  }
  VNET_ASSIGN_OR_RETURN(LinkInfo tap, rtnl.GetLink(options.tap));
  Undo undo;
  undo.Push([pending] { (void)Unpin(pending); });
  undo.Push([&rtnl, ifindex = tap.ifindex, name = options.tap] { (void)rtnl.DeleteLink(ifindex, name); });
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(*fabric));
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  VNET_ASSIGN_OR_RETURN(LinkInfo uplink, rtnl.GetLink(static_cast<int>(config.uplink_ifindex)));
  if (tap.mtu > uplink.mtu) VNET_RETURN_IF_ERROR(rtnl.SetMtu(tap.ifindex, uplink.mtu, tap.name));
  VNET_ASSIGN_OR_RETURN(tap, rtnl.GetLink(options.tap));
  VNET_ASSIGN_OR_RETURN(PortInfo info, AttachPort(rtnl, tap, options, /*owned=*/true, what));
  undo.Commit();
  (void)Unpin(pending);  // recorded in vnet_ports now
  return info;
}

// Names the caller gave, checked before anything is looked up or created.
absl::Status CheckNames(const PortOptions& options) {
  if (!options.dev.empty()) VNET_RETURN_IF_ERROR(ValidateDeviceName("DEV", options.dev));
  if (!options.tap.empty()) VNET_RETURN_IF_ERROR(ValidateDeviceName("--tap", options.tap));
  if (!options.netns.empty()) {
    if (options.netns[0] != '/') VNET_RETURN_IF_ERROR(ValidateNetnsName("--netns", options.netns));
    VNET_RETURN_IF_ERROR(ValidateDeviceName("--ifname", options.ifname));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> RemoveOrphanPairs() {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  std::vector<std::string> removed;
  for (const auto& fabric : ListLocalFabrics()) {
    for (const auto& pin : ListPins(fabric)) {
      if (pin.rfind(kPendingVethPrefix, 0) != 0) continue;
      std::string host_name = pin.substr(std::string_view(kPendingVethPrefix).size());
      auto link = rtnl.GetLink(host_name);
      if (link.ok() && link->kind == "veth" && !FindMembership(static_cast<std::uint32_t>(link->ifindex))) {
        VNET_RETURN_IF_ERROR(rtnl.DeleteLink(link->ifindex, link->name));
        removed.push_back(host_name);
      }
      VNET_RETURN_IF_ERROR(Unpin(FabricPinPath(fabric, pin)));
    }
  }
  return removed;
}


absl::StatusOr<PortInfo> AddPort(const PortOptions& options) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  return AddPortWith(rtnl, options);
}

absl::StatusOr<PortInfo> AddPortWith(Rtnl& rtnl, const PortOptions& options) {
  FabricIndexScope index;  // one scan of the fabrics for the whole operation
  VNET_RETURN_IF_ERROR(Annotate(CheckNames(options), "port add"));
  int forms = !options.dev.empty() + !options.netns.empty() + !options.tap.empty();
  if (forms > 1) return absl::InvalidArgumentError("port add: give one of DEV, --netns NS or --tap NAME");
  if (!options.netns.empty()) return AddPortInNetns(rtnl, options);
  if (!options.tap.empty()) return AddTapPort(rtnl, options);
  if (options.dev.empty()) return absl::InvalidArgumentError("port add: missing DEV (or --netns NS, --tap NAME)");
  auto dev = rtnl.GetLink(options.dev);
  if (!dev.ok()) return Prefix(dev.status(), "port add");
  return AttachPort(rtnl, *dev, options, /*owned=*/false, absl::StrCat("port add ", dev->name));
}

}  // namespace vnet
