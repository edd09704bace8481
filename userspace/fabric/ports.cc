// port add / port del: putting a veth host end (or a tap) on a fabric.
#include <fcntl.h>
#include <linux/if_arp.h>
#include <sys/random.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "absl/strings/string_view.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "fabric/fabric.h"
#include "fabric/ingress_hook.h"
#include "fabric/registry.h"
#include "fabric/undo.h"
#include "loader/errors.h"
#include "loader/links.h"
#include "loader/pins.h"
#include "maps/fabric_maps.h"
#include "netlink/device_tuning.h"
#include "netlink/netns.h"
#include "netlink/rtnl.h"

namespace vnet {
namespace {

// libvnet created this veth pair (port add --netns) and deletes it with the port.
// Kept in the port table's flags byte, which the datapath ignores for this bit.
constexpr std::uint8_t kPortOwned = 1u << 7;

// What libvnet learns about the container-side end of a port.
struct PeerFacts {
  MacAddress mac;
  bool other_netns = false;
  bool napi = false;  // GRO enabled: XDP may redirect into the port
};

// Finds the veth peer, enables GRO on it (NAPI for XDP redirects), and sets
// its MAC when the operator asked for another one. `check_mac` vets the port's
// MAC before anything is changed, so a refusal leaves the peer as it was.
absl::StatusOr<PeerFacts> PreparePeer(Rtnl& rtnl, const LinkInfo& dev, const std::optional<MacAddress>& want_mac,
                                      absl::string_view what,
                                      const std::function<absl::Status(const MacAddress&)>& check_mac) {
  PeerFacts facts;
  if (dev.kind != "veth") {
    // A tap: the VM owns the MAC behind it; frames go through tc.
    facts.mac = want_mac ? *want_mac : *dev.mac;
    VNET_RETURN_IF_ERROR(check_mac(facts.mac));
    return facts;
  }
  if (!dev.link_ifindex) return absl::FailedPreconditionError(absl::StrCat(what, ": veth has no peer"));
  auto apply = [&](Rtnl& peer_rtnl) -> absl::Status {
    auto peer = peer_rtnl.GetLink(dev.link_ifindex);
    if (!peer.ok()) return Annotate(peer.status(), absl::StrCat(what, ": peer"));
    VNET_RETURN_IF_ERROR(check_mac(want_mac ? *want_mac : *peer->mac));
    if (want_mac && *want_mac != *peer->mac) {
      VNET_RETURN_IF_ERROR(Annotate(peer_rtnl.SetMac(peer->ifindex, *want_mac, peer->name), what));
      facts.mac = *want_mac;
    } else {
      facts.mac = *peer->mac;
    }
    facts.napi = SetGro(peer->name, true).ok();
    return absl::OkStatus();
  };
  if (!dev.link_netnsid) {
    VNET_RETURN_IF_ERROR(apply(rtnl));
    return facts;
  }
  facts.other_netns = true;
  auto ns = FindNetnsByNsid(rtnl, *dev.link_netnsid);
  if (!ns.ok()) {
    if (want_mac)
      return absl::FailedPreconditionError(
          absl::StrCat(what, ": cannot find the peer's network namespace to set its MAC"));
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": cannot find the peer's network namespace; give --mac"));
  }
  VNET_ASSIGN_OR_RETURN(ScopedNetns inside, ScopedNetns::Enter(ns->get(), absl::StrCat("peer of ", dev.name)));
  VNET_ASSIGN_OR_RETURN(Rtnl peer_rtnl, Rtnl::Open());
  VNET_RETURN_IF_ERROR(apply(peer_rtnl));
  return facts;
}

absl::StatusOr<std::uint16_t> FreeSlot(const std::vector<std::pair<std::uint32_t, vnet_port>>& ports) {
  std::vector<bool> used(VNET_MAX_PORTS, false);
  used[VNET_UPLINK_SLOT] = true;
  for (const auto& [ifindex, port] : ports) used[port.slot % VNET_MAX_PORTS] = true;
  for (std::uint16_t slot = 1; slot < VNET_MAX_PORTS; ++slot)
    if (!used[slot]) return slot;
  return absl::ResourceExhaustedError(absl::StrCat("fabric is full (", VNET_MAX_PORTS - 1, " ports)"));
}

absl::Status RebuildFloodList(FabricMaps& maps) {
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  std::sort(ports.begin(), ports.end(), [](auto& a, auto& b) { return a.second.slot < b.second.slot; });
  std::vector<vnet_flood_entry> flood;
  for (const auto& [ifindex, port] : ports)
    flood.push_back(vnet_flood_entry{ifindex, port.slot, port.mode, port.flags});
  return maps.WriteFloodList(flood);
}

std::string RandomPortName() {
  std::uint32_t r = 0;
  if (getrandom(&r, sizeof(r), 0) != sizeof(r)) r = static_cast<std::uint32_t>(getpid()) * 2654435761u;
  return absl::StrFormat("vnp%08x", r);
}

// Attaches an existing device as a port. `owned`: delete the device on failure
// and on port del.
absl::StatusOr<PortInfo> AttachPort(Rtnl& rtnl, const LinkInfo& dev, const PortOptions& options, bool owned) {
  std::string what = absl::StrCat("port add ", dev.name);
  if (dev.kind != "veth" && dev.kind != "tun")
    return absl::InvalidArgumentError(absl::StrCat(what, ": not a veth or tap device"));
  if (dev.type != ARPHRD_ETHER) return absl::InvalidArgumentError(absl::StrCat(what, ": not an Ethernet device"));
  if (auto m = FindMembership(dev.ifindex))
    return absl::AlreadyExistsError(absl::StrCat(
        what, m->as_uplink ? ": is the uplink of fabric " : ": already a port of fabric ", m->fabric));
  auto fabric_or = ResolveFabric(options.fabric);
  if (!fabric_or.ok()) return Annotate(fabric_or.status(), what);
  std::string fabric = *fabric_or;
  if (options.mode == PortMode::kPassthru || options.mode == PortMode::kSource)
    return absl::UnimplementedError(absl::StrCat(what, ": mode ", PortModeName(options.mode), " is not implemented yet"));
  if (options.hairpin || options.isolated || options.nodst)
    return absl::UnimplementedError(absl::StrCat(what, ": --hairpin, --isolated and --nodst are not implemented yet"));
  if (options.mac && !options.mac->IsValidUnicast())
    return absl::InvalidArgumentError(absl::StrCat(what, ": MAC ", options.mac->ToString(), " is not a unicast address"));

  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric));
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  MacAddress uplink_mac = MacAddress::FromBytes(config.uplink_mac);
  // Refuse a bad MAC or a conflict before touching anything (the peer's MAC included).
  auto check_mac = [&](const MacAddress& mac) -> absl::Status {
    if (!mac.IsValidUnicast())
      return absl::InvalidArgumentError(absl::StrCat(what, ": MAC ", mac.ToString(), " is not a unicast address"));
    if (mac == uplink_mac)
      return absl::AlreadyExistsError(absl::StrCat(what, ": MAC ", mac.ToString(), " is the uplink's (address in use)"));
    VNET_ASSIGN_OR_RETURN(auto existing, maps.LookupMac(mac));
    if (existing)
      return absl::AlreadyExistsError(absl::StrCat(what, ": MAC ", mac.ToString(), " is in use by another port"));
    return absl::OkStatus();
  };
  VNET_ASSIGN_OR_RETURN(PeerFacts peer, PreparePeer(rtnl, dev, options.mac, what, check_mac));

  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  VNET_ASSIGN_OR_RETURN(std::uint16_t slot, FreeSlot(ports));
  auto ifindex = static_cast<std::uint32_t>(dev.ifindex);

  std::uint8_t flags = 0;
  if (options.spoofchk) flags |= VNET_PORT_F_SPOOFCHK;
  if (peer.other_netns) flags |= VNET_PORT_F_PEER_NETNS;
  if (peer.napi) flags |= VNET_PORT_F_XDP_TARGET;

  (void)DisableIpv6(dev.name);
  Undo undo;
  if (!dev.admin_up()) {
    VNET_RETURN_IF_ERROR(Annotate(rtnl.SetUp(dev.ifindex, true, dev.name), what));
    undo.Push([&rtnl, &dev] { (void)rtnl.SetUp(dev.ifindex, false, dev.name); });
  }

  VNET_RETURN_IF_ERROR(maps.ClearStats(slot));
  vnet_port port{};
  std::memcpy(port.mac, peer.mac.bytes.data(), 6);
  port.slot = slot;
  port.mode = static_cast<std::uint8_t>(options.mode);
  port.flags = flags | (owned ? kPortOwned : 0);
  // The port program must know its port before it sees the first frame.
  VNET_RETURN_IF_ERROR(maps.PutPort(ifindex, port));
  undo.Push([&maps, ifindex] { (void)maps.DeletePort(ifindex); (void)RebuildFloodList(maps); });

  VNET_ASSIGN_OR_RETURN(UniqueFd prog, OpenPinned(FabricPinPath(fabric, kPortProgPin)));
  TcHook hook = (config.flags & VNET_FABRIC_F_CLS_BPF) ? TcHook::kClsBpf : TcHook::kTcx;
  std::string link_pin = FabricPinPath(fabric, PortLinkPin(ifindex));
  VNET_RETURN_IF_ERROR(AttachIngress(hook, prog.get(), dev.ifindex, dev.name, link_pin));
  undo.Push([hook, &dev, link_pin] { (void)DetachIngress(hook, dev.ifindex, dev.name, link_pin); });

  if (peer.napi) {
    VNET_RETURN_IF_ERROR(maps.AddTxTarget(ifindex));
    undo.Push([&maps, ifindex] { (void)maps.DeleteTxTarget(ifindex); });
  }
  VNET_RETURN_IF_ERROR(RebuildFloodList(maps));
  // Last: from here on the wire side delivers to this port.
  vnet_mac_entry entry{ifindex, slot, port.mode, flags};
  VNET_RETURN_IF_ERROR(maps.PutMac(peer.mac, entry));

  undo.Commit();
  PortInfo info;
  info.name = dev.name;
  info.ifindex = ifindex;
  info.mac = peer.mac;
  info.mode = options.mode;
  info.flags = flags;
  info.slot = slot;
  info.up = true;
  return info;
}

absl::StatusOr<PortInfo> AddPortInNetns(Rtnl& rtnl, const PortOptions& options) {
  std::string what = absl::StrCat("port add --netns ", options.netns);
  VNET_RETURN_IF_ERROR(Annotate(ResolveFabric(options.fabric).status(), what));
  if (options.ifname.empty() || options.ifname.size() >= IFNAMSIZ || options.ifname.find('/') != std::string::npos)
    return absl::InvalidArgumentError(absl::StrCat(what, ": --ifname '", options.ifname, "' is not a valid device name"));
  if (options.mac && !options.mac->IsValidUnicast())
    return absl::InvalidArgumentError(absl::StrCat(what, ": MAC ", options.mac->ToString(), " is not a unicast address"));
  auto ns = OpenNamedNetns(options.netns);
  if (!ns.ok()) return Annotate(ns.status(), "port add");

  std::string host_name = RandomPortName();
  VNET_RETURN_IF_ERROR(Annotate(rtnl.CreateVeth(host_name, options.ifname, ns->get(), options.mac), what));
  Undo undo;
  auto host = rtnl.GetLink(host_name);
  if (!host.ok()) {
    return host.status();
  }
  int host_ifindex = host->ifindex;
  undo.Push([&rtnl, host_ifindex, host_name] { (void)rtnl.DeleteLink(host_ifindex, host_name); });
  {
    // The container side comes up with GRO on, so XDP frames reach it via NAPI.
    VNET_ASSIGN_OR_RETURN(ScopedNetns inside, ScopedNetns::Enter(ns->get(), options.netns));
    VNET_ASSIGN_OR_RETURN(Rtnl inner, Rtnl::Open());
    VNET_ASSIGN_OR_RETURN(LinkInfo peer, inner.GetLink(options.ifname));
    VNET_RETURN_IF_ERROR(Annotate(inner.SetUp(peer.ifindex, true, peer.name), what));
  }
  PortOptions attach = options;
  attach.mac.reset();  // already set on the peer
  if (options.mac) attach.mac = options.mac;
  VNET_ASSIGN_OR_RETURN(PortInfo info, AttachPort(rtnl, *host, attach, /*owned=*/true));
  undo.Commit();
  return info;
}

}  // namespace

absl::StatusOr<PortInfo> AddPort(const PortOptions& options) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  if (!options.netns.empty()) {
    if (!options.dev.empty())
      return absl::InvalidArgumentError("port add: give either DEV or --netns, not both");
    return AddPortInNetns(rtnl, options);
  }
  if (options.dev.empty()) return absl::InvalidArgumentError("port add: missing DEV (or --netns NS)");
  auto dev = rtnl.GetLink(options.dev);
  if (!dev.ok()) return Annotate(dev.status(), "port add");
  return AttachPort(rtnl, *dev, options, /*owned=*/false);
}

absl::Status DeletePort(absl::string_view dev_name) {
  std::string what = absl::StrCat("port del ", dev_name);
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  auto dev = rtnl.GetLink(dev_name);
  if (!dev.ok()) return Annotate(dev.status(), "port del");
  auto ifindex = static_cast<std::uint32_t>(dev->ifindex);
  auto m = FindMembership(ifindex);
  if (!m || m->as_uplink) return absl::NotFoundError(absl::StrCat(what, ": not a port of any fabric"));
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(m->fabric));
  VNET_ASSIGN_OR_RETURN(auto port, maps.LookupPort(ifindex));
  if (!port) return absl::NotFoundError(absl::StrCat(what, ": not a port of any fabric"));
  MacAddress mac = MacAddress::FromBytes(port->mac);

  // Stop delivering to it first, then stop listening to it.
  VNET_RETURN_IF_ERROR(maps.DeleteMac(mac));
  VNET_RETURN_IF_ERROR(maps.DeleteTxTarget(ifindex));
  VNET_RETURN_IF_ERROR(maps.DeletePort(ifindex));
  VNET_RETURN_IF_ERROR(RebuildFloodList(maps));
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  TcHook hook = (config.flags & VNET_FABRIC_F_CLS_BPF) ? TcHook::kClsBpf : TcHook::kTcx;
  VNET_RETURN_IF_ERROR(DetachIngress(hook, dev->ifindex, dev->name, FabricPinPath(m->fabric, PortLinkPin(ifindex))));
  if (port->flags & kPortOwned) VNET_RETURN_IF_ERROR(rtnl.DeleteLink(dev->ifindex, dev->name));
  return absl::OkStatus();
}

}  // namespace vnet
