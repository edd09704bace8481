// attach / detach: a fabric's programs, maps and uplink attachments.
#include <linux/if_arp.h>
#include <linux/if.h>
#include <linux/if_link.h>

#include <cstring>

#include "absl/strings/string_view.h"
#include "absl/strings/str_cat.h"
#include "loader/checkpoint.h"
#include "fabric/fabric.h"
#include "fabric/operations.h"
#include "fabric/host_ips.h"
#include "fabric/gc.h"
#include "fabric/ipvlan_peer.h"
#include "fabric/l3s.h"
#include "loader/tc_hook.h"
#include "fabric/teardown_ports.h"
#include "fabric/registry.h"
#include "fabric/undo.h"
#include "fabric/vxlan.h"
#include "fabric/vxlan_guard.h"
#include "base/errors.h"
#include "loader/links.h"
#include "loader/pins.h"
#include "loader/programs.h"
#include "maps/fabric_maps.h"
#include "netlink/rtnl.h"

namespace vnet {
namespace {

constexpr const char* kOurXdpProgram = "vnet_uplink_xdp";

absl::Status CheckUplink(const LinkInfo& uplink) {
  std::string what = absl::StrCat("attach ", uplink.name);
  if (uplink.type != ARPHRD_ETHER || !uplink.mac)
    return absl::InvalidArgumentError(absl::StrCat(what, ": not an Ethernet device"));
  if (auto m = FindMembership(uplink.ifindex)) {
    if (m->as_uplink)
      return absl::AlreadyExistsError(absl::StrCat(what, ": already the uplink of fabric ", m->fabric));
    return absl::AlreadyExistsError(absl::StrCat(what, ": is a port of fabric ", m->fabric));
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

// The steps of AttachFabric. A rollback that cannot put a foreign XDP
// program back says so in *unrestored (it runs as this function returns).
absl::StatusOr<FabricInfo> AttachFabricSteps(const AttachOptions& options, std::string* unrestored) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  auto uplink_or = rtnl.GetLink(options.uplink);
  if (!uplink_or.ok()) return Prefix(uplink_or.status(), "attach");
  LinkInfo uplink = std::move(*uplink_or);
  std::string fabric = options.fabric.empty() ? uplink.name : options.fabric;
  std::string what = absl::StrCat("attach ", uplink.name);
  VNET_RETURN_IF_ERROR(Annotate(ValidateFabricName(fabric), what));
  // A dead fabric by this name, or on this uplink, is collected first: it
  // forwards nothing, and would otherwise keep the name or the device.
  auto collected = CollectDeadFabrics(false, [&](const DeadFabric& dead) {
    if (dead.name == fabric) return true;
    if (dead.where == DeadWhere::kHere && dead.config.uplink_ifindex == static_cast<std::uint32_t>(uplink.ifindex))
      return true;
    return uplink.mac && std::memcmp(dead.config.uplink_mac, uplink.mac->bytes.data(), 6) == 0;
  });
  if (!collected.ok()) return Annotate(collected.status(), what);
  VNET_RETURN_IF_ERROR(CheckUplink(uplink));
  VNET_RETURN_IF_ERROR(Annotate(EnsureBpffs(), what));
  if (FabricDirExists(fabric)) {
    auto why = WhyLeftAlone(fabric);
    return absl::AlreadyExistsError(
        absl::StrCat(what, ": fabric ", fabric, " already exists", why ? absl::StrCat(" (", *why, ")") : ""));
  }

  // On a veth uplink frames are skbs already, and an XDP program there would
  // take GSO from the veth's peer (TCP from the wire fell to a third): auto
  // leaves XDP off, and the tc program does its checks and drops. A VXLAN
  // device hands up decapsulated skbs the same way (SkbUplinkKind).
  XdpMode xdp_mode = options.xdp_mode;
  if (xdp_mode == XdpMode::kAuto && SkbUplinkKind(uplink.kind) && !options.xdp_redirect.value_or(false))
    xdp_mode = XdpMode::kNone;
  if (xdp_mode == XdpMode::kNone && options.xdp_redirect.value_or(false))
    return absl::InvalidArgumentError(absl::StrCat(what, ": --xdp-redirect on needs XDP (--xdp-mode is none)"));
  XdpState xdp;
  if (xdp_mode != XdpMode::kNone) {
    VNET_ASSIGN_OR_RETURN(xdp, QueryXdp(uplink.ifindex, uplink.name));
  }
  if (xdp.prog_id && !options.force)
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": XDP program '", xdp.prog_name, "' (id ", xdp.prog_id,
        ") is already attached and is not vnet's; use --force to replace it"));

  // Declared before `undo`, whose steps use them: they must outlive it.
  UniqueFd foreign;
  vnet_config config{};
  Undo undo;
  VNET_RETURN_IF_ERROR(Annotate(MakeFabricDir(fabric), what));
  undo.Push([fabric] { (void)RemoveFabricDir(fabric); });
  // Marked before anything else is pinned, cleared last: a vnetctl killed in
  // between leaves a fabric the next command knows it may remove.
  VNET_RETURN_IF_ERROR(Annotate(MarkIncomplete(fabric), what));
  Checkpoint("attach: marked incomplete");

  VNET_ASSIGN_OR_RETURN(FabricPrograms programs, FabricPrograms::Load(fabric));
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric));

  config.abi_version = VNET_ABI_VERSION;
  config.uplink_ifindex = static_cast<std::uint32_t>(uplink.ifindex);
  std::memcpy(config.uplink_mac, uplink.mac->bytes.data(), 6);
  config.unknown_policy = options.unknown_drop ? VNET_UNKNOWN_DROP : VNET_UNKNOWN_PASS;
  config.netns_cookie = CurrentNetnsCookie();
  bool xdp_redirect = xdp_mode != XdpMode::kNone && options.xdp_redirect.value_or(!SkbUplinkKind(uplink.kind));
  FabricFlags flags = FabricFlagsOf(config);
  flags.no_xdp_redirect |= !xdp_redirect;
  flags.no_xdp |= xdp_mode == XdpMode::kNone;
  flags.host |= options.host;
  flags.ipvlan |= options.type == PortKind::kIpvlan;
  SetFabricFlags(config, flags);
  TcHook tc_hook = ResolveTcHook(options.tc_hook);
  RecordTcHook(tc_hook, config);
  config.ipvlan_mode = static_cast<std::uint8_t>(options.ipvlan_mode);
  config.ipvlan_flags = static_cast<std::uint8_t>(options.ipvlan_flag);
  VNET_RETURN_IF_ERROR(maps.WriteConfig(config));
  VNET_RETURN_IF_ERROR(maps.ClearStats(VNET_UPLINK_SLOT));
  VNET_RETURN_IF_ERROR(maps.WriteDhcpConfig(vnet_dhcp_cfg{options.dhcp_max_leases, 0}));
  VNET_RETURN_IF_ERROR(maps.WriteStormLimit(VNET_UPLINK_SLOT, options.storm_limit));
  VNET_RETURN_IF_ERROR(PublishHostIps(rtnl, maps));

  VNET_RETURN_IF_ERROR(PinFd(programs.port_tc_fd(), FabricPinPath(fabric, kPortProgPin)));

  // tc first: it only adds flooding for frames XDP passes, harmless alone.
  std::string tc_pin = FabricPinPath(fabric, kUplinkTcLinkPin);
  VNET_RETURN_IF_ERROR(
      AttachTc(tc_hook, TcDirection::kIngress, programs.uplink_tc_fd(), uplink.ifindex, uplink.name, tc_pin));
  undo.Push([tc_hook, &uplink, tc_pin] {
    (void)DetachTc(tc_hook, TcDirection::kIngress, uplink.ifindex, uplink.name, tc_pin);
  });
  // Egress sees what the host stack sends: idle unless `host on`.
  std::string egress_pin = FabricPinPath(fabric, kUplinkEgressLinkPin);
  VNET_RETURN_IF_ERROR(AttachTc(tc_hook, TcDirection::kEgress, programs.uplink_egress_fd(), uplink.ifindex,
                                uplink.name, egress_pin));
  undo.Push([tc_hook, &uplink, egress_pin] {
    (void)DetachTc(tc_hook, TcDirection::kEgress, uplink.ifindex, uplink.name, egress_pin);
  });

  if (xdp.prog_id) {
    auto held = HoldXdpProgram(uplink.name, xdp);
    if (!held.ok()) return Annotate(held.status(), "attach --force");
    foreign = std::move(*held);
    VNET_RETURN_IF_ERROR(Annotate(DetachXdpProgram(uplink.ifindex, uplink.name, xdp), "attach --force"));
    // Put the foreign program back, in its mode, if anything after this fails.
    undo.Push([&foreign, &uplink, &xdp, unrestored] {
      auto restored = RestoreXdpProgram(uplink.ifindex, uplink.name, foreign.get(), xdp);
      if (!restored.ok())
        *unrestored = absl::StrCat("attach --force: could not put XDP program '", xdp.prog_name, "' back on ",
                                   uplink.name, ": ", restored.message());
    });
    Checkpoint("attach --force: foreign XDP program removed");
  }
  // Like macvlan, the NIC must accept frames for the ports' MACs: vnet makes
  // it promiscuous (undone at detach) unless someone already did.
  if (!(uplink.flags & IFF_PROMISC)) {
    VNET_RETURN_IF_ERROR(rtnl.SetPromisc(uplink.ifindex, true, uplink.name));
    undo.Push([&rtnl, &uplink] { (void)rtnl.SetPromisc(uplink.ifindex, false, uplink.name); });
    FabricFlags flags = FabricFlagsOf(config);
    flags.set_promisc = true;
    SetFabricFlags(config, flags);
    VNET_RETURN_IF_ERROR(maps.WriteConfig(config));
  }
  if (options.ipvlan_mode == IpvlanMode::kL3s) {
    VNET_RETURN_IF_ERROR(Annotate(EnableUplinkForwarding(config, uplink.name), what));
    undo.Push([&config, &uplink] { RestoreUplinkForwarding(config, uplink.name); });
    VNET_RETURN_IF_ERROR(maps.WriteConfig(config));
  }
  XdpAttachment xdp_link{UniqueFd(), XdpMode::kNone};
  if (xdp_mode != XdpMode::kNone) {
    VNET_ASSIGN_OR_RETURN(xdp_link, AttachXdp(programs.uplink_xdp_fd(), uplink.ifindex, uplink.name, xdp_mode));
    VNET_RETURN_IF_ERROR(PinFd(xdp_link.link.get(), FabricPinPath(fabric, kUplinkXdpLinkPin)));
  }

  VNET_RETURN_IF_ERROR(Annotate(ClearIncomplete(fabric), what));
  undo.Commit();
  FabricInfo info;
  info.name = fabric;
  info.uplink = uplink.name;
  info.uplink_ifindex = config.uplink_ifindex;
  info.uplink_mac = *uplink.mac;
  info.xdp_mode = std::string(XdpModeName(xdp_link.mode));
  info.unknown_drop = options.unknown_drop;
  info.host = options.host;
  info.xdp_redirect = xdp_redirect;
  info.tc_hook = TcHookName(tc_hook);
  info.type = options.type;
  info.ipvlan_mode = options.ipvlan_mode;
  info.ipvlan_flag = options.ipvlan_flag;
  if (options.dhcp_max_leases) info.dhcp_max_leases = options.dhcp_max_leases;
  info.storm_limit = options.storm_limit;
  if (uplink.kind == "vxlan") {
    auto vxlan = DescribeVxlan(rtnl, uplink.ifindex, fabric, true);
    if (vxlan.ok()) info.vxlan = std::move(*vxlan);
  }
  return info;
}

}  // namespace

absl::StatusOr<FabricInfo> AttachFabric(const AttachOptions& options) {
  // It creates the VXLAN device, then comes back here without `vxlan`.
  if (options.vxlan) return AttachVxlanFabric(options);
  std::string unrestored;
  auto info = AttachFabricSteps(options, &unrestored);
  // The caller must hear that the program it replaced is gone for good.
  if (!info.ok() && !unrestored.empty())
    return absl::Status(info.status().code(), absl::StrCat(info.status().message(), "; ", unrestored));
  return info;
}

absl::Status SetFabricPolicy(absl::string_view name, const FabricPolicy& policy) {
  auto fabric = ResolveFabric(name);
  if (!fabric.ok()) return Prefix(fabric.status(), "set policy of");
  std::string what = absl::StrCat("fabric set ", *fabric);
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(*fabric));
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  vnet_config old = config;
  FabricFlags flags = FabricFlagsOf(config);
  flags.host = policy.host;
  SetFabricFlags(config, flags);
  config.unknown_policy = policy.unknown_drop ? VNET_UNKNOWN_DROP : VNET_UNKNOWN_PASS;
  config.ipvlan_flags = static_cast<std::uint8_t>(policy.ipvlan_flag);
  if (policy.dhcp_max_leases)
    VNET_RETURN_IF_ERROR(Annotate(maps.WriteDhcpConfig(vnet_dhcp_cfg{*policy.dhcp_max_leases, 0}), what));
  if (policy.storm_limit)
    VNET_RETURN_IF_ERROR(Annotate(maps.WriteStormLimit(VNET_UPLINK_SLOT, *policy.storm_limit), what));
  VNET_RETURN_IF_ERROR(Annotate(PublishHostIps(rtnl, maps), what));
  auto from = static_cast<IpvlanMode>(old.ipvlan_mode);
  if (from != policy.ipvlan_mode) {
    // The host side first: in l3s the datapath relies on the host's routes,
    // so they exist before it switches, and go only after it left.
    if (policy.ipvlan_mode == IpvlanMode::kL3s) {
      auto status = EnterL3s(rtnl, maps, config);
      if (!status.ok()) {
        LeaveL3s(rtnl, maps, config);
        return Annotate(status, what);
      }
    }
    VNET_RETURN_IF_ERROR(Annotate(SetIpvlanPeersMode(rtnl, maps, policy.ipvlan_mode), what));
  }
  auto mode = static_cast<std::uint8_t>(policy.ipvlan_mode);
  // Host ends ready for a routed mode before the datapath uses them.
  if (from != policy.ipvlan_mode && policy.ipvlan_mode != IpvlanMode::kL2)
    VNET_RETURN_IF_ERROR(Annotate(PrepareIpvlanHostEnds(rtnl, maps, mode), what));
  config.ipvlan_mode = mode;
  VNET_RETURN_IF_ERROR(maps.WriteConfig(config));
  if (from == IpvlanMode::kL3s && policy.ipvlan_mode != IpvlanMode::kL3s) {
    LeaveL3s(rtnl, maps, config);
    VNET_RETURN_IF_ERROR(maps.WriteConfig(config));
  }
  if (from != policy.ipvlan_mode && policy.ipvlan_mode == IpvlanMode::kL2)
    (void)PrepareIpvlanHostEnds(rtnl, maps, mode);
  return absl::OkStatus();
}

absl::Status DetachFabric(absl::string_view name) {
  auto fabric_or = ResolveFabric(name);
  if (!fabric_or.ok()) return Prefix(fabric_or.status(), "detach");
  std::string fabric = *fabric_or;
  // What this vnetctl cannot open is removed only when it marked it
  // half-built here; another ABI's fabric is never taken apart blind.
  if (!FabricMaps::Open(fabric).ok() && !IncompleteHere(fabric)) {
    auto why = WhyLeftAlone(fabric);
    return absl::FailedPreconditionError(
        absl::StrCat("detach ", fabric, ": ", why ? *why : "cannot be opened", "; left as it is"));
  }
  return TearDownFabric(fabric);
}

absl::Status TearDownFabric(const std::string& fabric) {
  auto maps_or = FabricMaps::Open(fabric);
  if (!maps_or.ok()) {
    // Half-built by an interrupted vnetctl, or dead: its pins are all there is to remove.
    return Annotate(RemoveFabricDir(fabric), absl::StrCat("detach ", fabric));
  }
  FabricMaps maps = std::move(*maps_or);
  // A VXLAN fabric's underlay guard before its pins go: a cls_bpf guard
  // would outlive them.
  VNET_RETURN_IF_ERROR(Annotate(VxlanGuard::DetachIfPresent(fabric), absl::StrCat("detach ", fabric)));
  // Ports first, so nothing is redirected to a port whose fabric is half gone.
  VNET_RETURN_IF_ERROR(Annotate(RemoveAllPorts(maps, fabric), absl::StrCat("detach ", fabric)));
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  if (FabricTcHook(config) == TcHook::kClsBpf) {
    (void)DetachClsBpf(static_cast<int>(config.uplink_ifindex), fabric, TcDirection::kIngress);
    (void)DetachClsBpf(static_cast<int>(config.uplink_ifindex), fabric, TcDirection::kEgress);
  }
  if (FabricFlags flags = FabricFlagsOf(config); flags.set_promisc || flags.set_forwarding) {
    auto rtnl = Rtnl::Open();
    auto uplink = rtnl.ok() ? rtnl->GetLink(static_cast<int>(config.uplink_ifindex)) : absl::StatusOr<LinkInfo>();
    if (uplink.ok() && flags.set_promisc)
      (void)rtnl->SetPromisc(uplink->ifindex, false, fabric);
    if (uplink.ok()) RestoreUplinkForwarding(config, uplink->name);
  }
  VNET_RETURN_IF_ERROR(Annotate(RemoveFabricDir(fabric), absl::StrCat("detach ", fabric)));
  // Last, with nothing of the fabric left on it: the VXLAN device attach
  // --vxlan made (a user's device stays).
  if (auto rtnl = Rtnl::Open(); rtnl.ok())
    VNET_RETURN_IF_ERROR(Annotate(RemoveCreatedVxlan(*rtnl, static_cast<int>(config.uplink_ifindex), fabric),
                                  absl::StrCat("detach ", fabric)));
  return absl::OkStatus();
}

absl::StatusOr<DownReport> DetachAll() {
  DownReport report;
  report.removed = RemoveIncompleteFabrics();
  for (const auto& fabric : ListLocalFabrics()) {
    VNET_RETURN_IF_ERROR(DetachFabric(fabric));
    report.removed.push_back(fabric);
  }
  // Dead fabrics of this namespace (another ABI's too: they forward nothing)
  // and those whose namespace is gone, which nobody else can name.
  VNET_ASSIGN_OR_RETURN(auto collected, CollectDeadFabrics(false, [](const DeadFabric&) { return true; }));
  for (const auto& c : collected) report.removed.push_back(c.fabric);
  for (const auto& fabric : ListFabricDirs()) {
    auto config = ReadPinnedConfig(fabric);
    if (config.ok() && !AttachedHere(*config)) continue;  // another namespace's business
    if (auto why = WhyLeftAlone(fabric)) report.left.push_back(absl::StrCat(fabric, ": ", *why));
  }
  return report;
}

}  // namespace vnet
