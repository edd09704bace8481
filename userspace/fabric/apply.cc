#include "fabric/apply.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fabric/fabric.h"
#include "fabric/port_helpers.h"
#include "fabric/port_tables.h"
#include "fabric/registry.h"
#include "loader/checkpoint.h"
#include "base/errors.h"
#include "loader/pins.h"
#include "maps/fabric_maps.h"
#include "netlink/netns.h"
#include "netlink/rtnl.h"

namespace vnet {
namespace {

// A running port, as apply sees it.
struct RunningPort {
  PortInfo info;
  std::string identity;  // same form as DesiredPort::Identity()
  bool healthy = true;   // fully published and attached
  // The addresses on the container side vnet configures (an ipvlan port it
  // created): where the prefix lengths are, which the tables do not hold.
  std::optional<std::vector<IpPrefix>> peer_addresses;
};

struct RunningFabric {
  FabricInfo info;
  std::vector<RunningPort> ports;
  bool healthy = true;
};

// The per-port lease cap a fabric entry asks for (dhcp_max_leases; 0: default).
std::uint32_t WantedMaxLeases(const AttachOptions& a) {
  return a.dhcp_max_leases ? a.dhcp_max_leases : VNET_DHCP_DEFAULT_MAX_LEASES;
}

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
      bool owned = raw && (raw->flags & kPortOwned);
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

// Attach-time choices that can only change by attaching again.
bool SameAttachment(const AttachOptions& want, const FabricInfo& have, const LinkInfo& uplink) {
  if (want.uplink != have.uplink || want.type != have.type) return false;
  if (want.xdp_mode != XdpMode::kAuto && XdpModeName(want.xdp_mode) != have.xdp_mode) return false;
  if (want.tc_hook == TcHook::kTcx && have.tc_hook != "tcx") return false;
  if (want.tc_hook == TcHook::kClsBpf && have.tc_hook != "cls_bpf") return false;
  return want.xdp_redirect.value_or(uplink.kind != "veth") == have.xdp_redirect;
}

// What `port set` must change to make `have` into `want`, if it can.
std::optional<PortChange> Difference(const DesiredPort& want, const PortInfo& have) {
  const PortOptions& o = want.options;
  PortChange change;
  change.dev = have.name;
  bool ipvlan = have.type == PortKind::kIpvlan;  // the kinds agree here
  if (!ipvlan && o.mode != have.mode) change.mode = o.mode;
  if (!ipvlan && o.mac && *o.mac != have.mac) change.mac = o.mac;
  auto flag = [&](bool wanted, bool had, std::optional<bool>& field) {
    if (wanted != had) field = wanted;
  };
  flag(o.hairpin, have.flags.hairpin, change.hairpin);
  flag(o.isolated, have.flags.isolated, change.isolated);
  flag(o.spoofchk, have.flags.spoofchk, change.spoofchk);
  flag(o.nodst, have.flags.nodst, change.nodst);
  if (!ipvlan && AllowIpsNeedChange(o.allow_ips, have)) change.allow_ips = o.allow_ips;
  if (!change.mode && !change.mac && !change.hairpin && !change.isolated && !change.spoofchk && !change.nodst &&
      !change.allow_ips)
    return std::nullopt;
  return change;
}

}  // namespace

IpDiff DiffIps(const std::vector<PortIp>& want, const std::vector<PortAddress>& have,
               const std::optional<std::vector<IpPrefix>>& peer_addresses) {
  std::set<std::string> want_owned, have_owned;
  for (const auto& ip : want) want_owned.insert(ip.Owned());
  IpDiff diff;
  for (const auto& a : have) {
    if (a.learned || a.link_local) continue;
    PortIp ip{a.prefix, a.prefix.plen != a.prefix.address.MaxPrefix()};
    have_owned.insert(ip.Owned());
    if (!want_owned.count(ip.Owned())) diff.remove.push_back(ip);
  }
  for (const auto& ip : want) {
    if (!have_owned.count(ip.Owned()))
      diff.add.push_back(ip);
    else if (peer_addresses && !ip.routed &&
             std::find(peer_addresses->begin(), peer_addresses->end(), ip.prefix) == peer_addresses->end())
      diff.relength.push_back(ip);  // the table's entry stays; the container side changes
  }
  return diff;
}

namespace {

// Everything that can be checked against the system before changing it.
absl::Status Preflight(Rtnl& rtnl, const DesiredState& desired) {
  for (const auto& fabric : desired.fabrics) {
    if (!rtnl.GetLink(fabric.attach.uplink).ok())
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
    names.push_back(fabric.attach.uplink);
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
  std::map<std::string, const DesiredFabric*> wanted;
  for (const auto& f : desired.fabrics) wanted[f.attach.fabric] = &f;

  // 1. Fabrics that must go: not in the file, broken, or attached differently.
  std::set<std::string> keep;
  for (const auto& have : running) {
    auto it = wanted.find(have.info.name);
    bool same = false;
    if (it != wanted.end() && have.healthy) {
      auto uplink = rtnl.GetLink(it->second->attach.uplink);
      same = uplink.ok() && SameAttachment(it->second->attach, have.info, *uplink);
    }
    if (same) {
      keep.insert(have.info.name);
      continue;
    }
    VNET_RETURN_IF_ERROR(act(absl::StrCat("detach fabric ", have.info.name), [&] { return DetachFabric(have.info.name); }));
  }

  for (const auto& want : desired.fabrics) {
    const std::string& name = want.attach.fabric;
    const RunningFabric* have = nullptr;
    for (const auto& r : running)
      if (r.info.name == name && keep.count(name)) have = &r;
    // 2. The fabric itself.
    if (!have) {
      VNET_RETURN_IF_ERROR(act(absl::StrCat("attach fabric ", name, " to ", want.attach.uplink),
                               [&] { return AttachFabric(want.attach).status(); }));
    } else if (have->info.host != want.attach.host || have->info.unknown_drop != want.attach.unknown_drop ||
               have->info.ipvlan_mode != want.attach.ipvlan_mode || have->info.ipvlan_flag != want.attach.ipvlan_flag ||
               have->info.dhcp_max_leases != WantedMaxLeases(want.attach)) {
      FabricPolicy policy{want.attach.host, want.attach.unknown_drop, want.attach.ipvlan_mode, want.attach.ipvlan_flag,
                          WantedMaxLeases(want.attach)};
      VNET_RETURN_IF_ERROR(
          act(absl::StrCat("set policies of fabric ", name), [&] { return SetFabricPolicy(name, policy); }));
    }
    // 3. Ports: remove what is not wanted or cannot be changed in place, then
    // change and add. Removals first, so a MAC can move between ports.
    std::map<std::string, const DesiredPort*> want_ports;
    for (const auto& p : want.ports) want_ports[p.Identity()] = &p;
    std::set<std::string> present;
    std::vector<std::pair<const DesiredPort*, PortChange>> changes;
    std::vector<std::pair<std::string, IpDiff>> ip_changes;
    if (have) {
      for (const auto& port : have->ports) {
        auto it = want_ports.find(port.identity);
        bool passthru_flip = it != want_ports.end() &&
                             (it->second->options.mode == PortMode::kPassthru) != (port.info.mode == PortMode::kPassthru);
        // A port of the other kind is made again rather than converted: its
        // container side differs (MAC, addresses).
        bool kind_flip = it != want_ports.end() &&
                         it->second->options.type.value_or(want.attach.type) != port.info.type;
        if (it == want_ports.end() || !port.healthy || passthru_flip || kind_flip) {
          VNET_RETURN_IF_ERROR(act(absl::StrCat("remove port ", port.info.name, " (", port.identity, ") from ", name),
                                   [&] { return DeletePort(port.info.name); }));
          continue;
        }
        present.insert(port.identity);
        if (auto change = Difference(*it->second, port.info)) changes.emplace_back(it->second, *change);
        if (IpDiff diff = DiffIps(it->second->options.ips, port.info.addresses, port.peer_addresses);
            !diff.remove.empty() || !diff.add.empty() || !diff.relength.empty())
          ip_changes.emplace_back(port.info.name, std::move(diff));
        std::set<std::string> have_sources, want_sources;
        for (const auto& m : port.info.sources) have_sources.insert(m.ToString());
        for (const auto& m : it->second->options.sources) want_sources.insert(m.ToString());
        if (have_sources != want_sources && it->second->options.mode == PortMode::kSource) {
          PortChange resync;  // sources are replaced after the mode is right
          resync.dev = port.info.name;
          changes.emplace_back(it->second, resync);
        }
      }
    }
    for (const auto& [port, change] : changes) {
      bool sources_only = !change.mode && !change.mac && !change.hairpin && !change.isolated && !change.spoofchk &&
                          !change.nodst && !change.allow_ips;
      if (!sources_only)
        VNET_RETURN_IF_ERROR(act(absl::StrCat("change port ", change.dev, " (", port->Identity(), ")"),
                                 [&] { return ChangePort(change).status(); }));
      if (port->options.mode == PortMode::kSource)
        VNET_RETURN_IF_ERROR(act(absl::StrCat("set sources of port ", change.dev), [&]() -> absl::Status {
          VNET_RETURN_IF_ERROR(FlushPortSources(change.dev));
          for (const auto& m : port->options.sources) VNET_RETURN_IF_ERROR(AddPortSource(change.dev, m));
          return absl::OkStatus();
        }));
    }
    // Addresses: every removal before any addition, so one can move between ports.
    for (const auto& [dev, diff] : ip_changes)
      for (const auto& ip : diff.remove)
        VNET_RETURN_IF_ERROR(act(absl::StrCat("remove address ", ip.Owned(), " from port ", dev),
                                 [&] { return DeletePortAddress(dev, ip, /*plen_given=*/false); }));
    for (const auto& [dev, diff] : ip_changes)
      for (const auto& ip : diff.relength)  // `ip add` of its own address sets the new length
        VNET_RETURN_IF_ERROR(act(absl::StrCat("set address ", ip.ToString(), " of port ", dev),
                                 [&] { return AddPortAddress(dev, ip); }));
    for (const auto& [dev, diff] : ip_changes)
      for (const auto& ip : diff.add)
        VNET_RETURN_IF_ERROR(act(absl::StrCat("add address ", ip.ToString(), " to port ", dev),
                                 [&] { return AddPortAddress(dev, ip); }));
    for (const auto& port : want.ports) {
      if (present.count(port.Identity())) continue;
      VNET_RETURN_IF_ERROR(act(absl::StrCat("add port ", port.Identity(), " to ", name),
                               [&] { return AddPort(port.options).status(); }));
    }
  }
  return report;
}

}  // namespace vnet
