#include "fabric/apply.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fabric/fabric.h"
#include "fabric/operations.h"
#include "fabric/port_helpers.h"
#include "fabric/port_tables.h"
#include "fabric/registry.h"
#include "fabric/vxlan.h"
#include "loader/checkpoint.h"
#include "base/errors.h"
#include "loader/pins.h"
#include "maps/fabric_maps.h"
#include "netlink/netns.h"
#include "netlink/rtnl.h"

namespace vnet {
namespace {

// "netns NAME/IFNAME" of an owned veth's peer, searched among named netns.
std::string NetnsIdentity(Rtnl& rtnl, const LinkInfo& dev) {
  if (!dev.link_netnsid) return "";
  for (const auto& entry : ListNamedNetns()) {
    auto fd = OpenNamedNetns(entry);
    if (!fd.ok()) continue;
    auto nsid = rtnl.GetNsid(fd->get());
    if (!nsid.ok() || *nsid != *dev.link_netnsid) continue;
    auto inside = ScopedNetns::Enter(fd->get(), entry);
    if (!inside.ok()) return "";
    auto inner = Rtnl::Open();
    if (!inner.ok()) return "";
    auto peer = inner->GetLink(dev.link_ifindex);
    return peer.ok() ? absl::StrCat("netns ", entry, "/", peer->name) : "";
  }
  return "";
}

absl::StatusOr<std::vector<RunningFabric>> ReadRunning(Rtnl& rtnl) {
  VNET_ASSIGN_OR_RETURN(auto fabrics, DescribeFabrics(std::nullopt));
  std::vector<RunningFabric> running;
  for (auto& info : fabrics) {
    RunningFabric f;
    for (const char* pin : {kUplinkXdpLinkPin, kPortProgPin})
      if (!OpenPinned(FabricPinPath(info.name, pin)).ok() && !(pin == kUplinkXdpLinkPin && info.xdp_mode == "none"))
        f.healthy = false;
    f.healthy = f.healthy && !info.defunct;
    VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(info.name));
    for (auto& port : info.ports) {
      RunningPort p;
      p.info = port;
      auto dev = rtnl.GetLink(static_cast<int>(port.ifindex));
      VNET_ASSIGN_OR_RETURN(auto raw, maps.LookupPort(port.ifindex));
      bool owned = raw && PortOwned(*raw);
      if (!dev.ok()) {
        p.healthy = false;
      } else if (!owned) {
        p.identity = absl::StrCat("device ", dev->name);
      } else if (dev->kind == "tun") {
        p.identity = absl::StrCat("tap ", dev->name);
      } else {
        p.identity = NetnsIdentity(rtnl, *dev);
      }
      if (dev.ok() && raw && port.type == PortKind::kIpvlan && VnetMadePeer(*raw, *dev)) {
        bool other_netns = false;
        std::vector<IpPrefix> configured;
        auto read = WithVethPeer(rtnl, *dev, dev->name, &other_netns, [&](Rtnl& inner, const LinkInfo& peer) {
          VNET_ASSIGN_OR_RETURN(configured, inner.ListAddresses(peer.ifindex, peer.name));
          return absl::OkStatus();
        });
        if (read.ok()) p.peer_addresses = std::move(configured);
      }
      // Published: its MAC leads to it (an ipvlan port: its addresses,
      // checked by the comparison of address lists). Attached: its link is
      // pinned (tcx).
      VNET_ASSIGN_OR_RETURN(auto entry, maps.LookupMac(port.mac));
      if (port.type == PortKind::kMacvlan && (!entry || entry->ifindex != port.ifindex)) p.healthy = false;
      if (info.tc_hook == "tcx" && !OpenPinned(FabricPinPath(info.name, PortLinkPin(port.ifindex))).ok())
        p.healthy = false;
      f.ports.push_back(std::move(p));
    }
    f.info = std::move(info);
    running.push_back(std::move(f));
  }
  return running;
}

}  // namespace

namespace {

// Everything that can be checked against the system before changing it.
absl::Status Preflight(Rtnl& rtnl, const DesiredState& desired) {
  for (const auto& fabric : desired.fabrics) {
    if (fabric.attach.vxlan && !rtnl.GetLink(fabric.attach.vxlan->underlay).ok())
      return absl::NotFoundError(absl::StrCat("apply ", fabric.where, ": fabric.", fabric.attach.fabric,
                                              ".underlay: device ", fabric.attach.vxlan->underlay, " does not exist"));
    if (!fabric.attach.vxlan && !rtnl.GetLink(fabric.attach.uplink).ok())
      return absl::NotFoundError(absl::StrCat("apply ", fabric.where, ": fabric.", fabric.attach.fabric,
                                              ".uplink: device ", fabric.attach.uplink, " does not exist"));
    for (const auto& port : fabric.ports) {
      const PortOptions& o = port.options;
      if (port.origin == PortOrigin::kNetns && !OpenNamedNetns(o.netns).ok())
        return absl::NotFoundError(
            absl::StrCat("apply ", port.where, ": ", port.field, ".netns: no network namespace ", o.netns));
      if (port.origin == PortOrigin::kDevice && !rtnl.GetLink(o.dev).ok())
        return absl::NotFoundError(
            absl::StrCat("apply ", port.where, ": ", port.field, ".device: device ", o.dev, " does not exist"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WaitForDevices(const DesiredState& desired, int seconds) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  std::vector<std::string> names;
  for (const auto& fabric : desired.fabrics) {
    // A VXLAN fabric's uplink is made by apply: its underlay is what must appear.
    names.push_back(fabric.attach.vxlan ? fabric.attach.vxlan->underlay : fabric.attach.uplink);
    for (const auto& port : fabric.ports)
      if (port.origin == PortOrigin::kDevice) names.push_back(port.options.dev);
  }
  auto deadline = absl::Now() + absl::Seconds(seconds);
  for (;;) {
    bool all = true;
    for (const auto& name : names) all = all && rtnl.GetLink(name).ok();
    if (all || absl::Now() >= deadline) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(100));
  }
}

absl::Status Execute(const PlanAction& action) {
  switch (action.kind) {
    case PlanAction::Kind::kDetachFabric: return DetachFabric(action.fabric);
    case PlanAction::Kind::kAttachFabric: return AttachFabric(action.want_fabric->attach).status();
    case PlanAction::Kind::kSetPolicy: return SetFabricPolicy(action.fabric, action.policy);
    case PlanAction::Kind::kRemovePort: return DeletePort(action.dev);
    case PlanAction::Kind::kChangePort: return ChangePort(action.change).status();
    case PlanAction::Kind::kSetSources:
      VNET_RETURN_IF_ERROR(FlushPortSources(action.dev));
      for (const auto& m : action.want_port->options.sources) VNET_RETURN_IF_ERROR(AddPortSource(action.dev, m));
      return absl::OkStatus();
    case PlanAction::Kind::kRemoveAddress: return DeletePortAddress(action.dev, action.ip, /*plen_given=*/false);
    case PlanAction::Kind::kSetAddress:  // `ip add` of its own address sets the new length
    case PlanAction::Kind::kAddAddress: return AddPortAddress(action.dev, action.ip);
    case PlanAction::Kind::kAddPort: return AddPort(action.want_port->options).status();
    case PlanAction::Kind::kRemoveRemote:
    case PlanAction::Kind::kAddRemote: {
      VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
      return action.kind == PlanAction::Kind::kAddRemote ? AddVxlanRemote(rtnl, action.fabric, action.remote)
                                                          : DeleteVxlanRemote(rtnl, action.fabric, action.remote);
    }
  }
  return absl::InternalError("apply: unknown action");
}

absl::StatusOr<ApplyReport> Apply(const DesiredState& desired, bool dry_run,
                                  const std::function<void(const std::string&)>& progress) {
  ApplyReport report;
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_RETURN_IF_ERROR(Preflight(rtnl, desired));
  // A port add killed before it recorded its veth pair left the pair behind;
  // it is vnet's, and nothing else would ever remove it.
  if (!dry_run) {
    VNET_ASSIGN_OR_RETURN(auto orphans, RemoveOrphanPairs());
    for (const auto& name : orphans) report.actions.push_back(absl::StrCat("remove unrecorded veth pair ", name));
  }
  auto act = [&](const std::string& action, const std::function<absl::Status()>& fn) -> absl::Status {
    report.actions.push_back(action);
    if (progress) progress(action);
    if (dry_run) return absl::OkStatus();
    VNET_RETURN_IF_ERROR(Annotate(fn(), absl::StrCat("apply: ", action)));
    Checkpoint("apply: an action done");
    return absl::OkStatus();
  };

  if (!dry_run)
    for (const auto& fabric : RemoveIncompleteFabrics())
      report.actions.push_back(absl::StrCat("removed half-built fabric ", fabric));
  // Another vnet version's fabric here that cannot be migrated is never
  // taken apart: say it is left.
  for (const auto& fabric : ListFabricDirs()) {
    auto config = ReadPinnedConfig(fabric);
    // (An older one is migrated below; a directory without a readable
    // configuration is nobody's fabric here.)
    if (!config.ok() || !AttachedHere(*config) || config->abi_version <= VNET_ABI_VERSION) continue;
    if (auto why = WhyLeftAlone(fabric)) report.actions.push_back(absl::StrCat("left fabric ", fabric, ": ", *why));
  }
  // Fabrics of an older vnet are taken over the way `reload` does (their maps
  // migrated, no outage) before being compared with the file.
  for (const auto& fabric : ListOlderLocalFabrics())
    VNET_RETURN_IF_ERROR(act(absl::StrCat("migrate fabric ", fabric, " to ABI ", VNET_ABI_VERSION),
                             [&] { return ReloadFabric(fabric).status(); }));
  if (!dry_run)
    for (const auto& fabric : ListLocalFabrics()) {
      VNET_ASSIGN_OR_RETURN(int pruned, PruneGonePorts(fabric));
      if (pruned) report.actions.push_back(absl::StrCat("forgot ", pruned, " deleted port(s) of ", fabric));
    }
  VNET_ASSIGN_OR_RETURN(auto running, ReadRunning(rtnl));
  std::map<std::string, std::string> uplinks;  // the file's uplinks that exist, and their kinds
  for (const auto& f : desired.fabrics)
    if (auto uplink = rtnl.GetLink(f.attach.uplink); uplink.ok()) uplinks[f.attach.uplink] = uplink->kind;
  for (const auto& action : Plan(desired, running, uplinks))
    VNET_RETURN_IF_ERROR(act(action.text, [&] { return Execute(action); }));
  return report;
}

}  // namespace vnet
