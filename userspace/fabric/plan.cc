#include "fabric/plan.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "fabric/vxlan_settings.h"

namespace vnet {
namespace {

// The per-port lease cap a fabric entry asks for (dhcp_max_leases; 0: default).
std::uint32_t WantedMaxLeases(const AttachOptions& a) {
  return a.dhcp_max_leases ? a.dhcp_max_leases : VNET_DHCP_DEFAULT_MAX_LEASES;
}

// Attach-time choices that can only change by attaching again.
bool SameAttachment(const AttachOptions& want, const FabricInfo& have, const std::string& uplink_kind) {
  if (want.uplink != have.uplink || want.type != have.type) return false;
  // A VXLAN device's settings are fixed at creation: another VNI, underlay,
  // port or local address is a new device. The remotes change in place.
  if (want.vxlan) {
    const VxlanOptions& w = *want.vxlan;
    if (!have.vxlan || !have.vxlan->created || have.vxlan->vni != w.vni || have.vxlan->underlay != w.underlay ||
        have.vxlan->dstport != w.dstport || (w.local && have.vxlan->local != w.local))
      return false;
  } else if (have.vxlan && have.vxlan->created) {
    return false;  // the file now names it as a plain uplink: vnet's device goes
  }
  if (want.xdp_mode != XdpMode::kAuto && XdpModeName(want.xdp_mode) != have.xdp_mode) return false;
  if (want.tc_hook == TcHook::kTcx && have.tc_hook != "tcx") return false;
  if (want.tc_hook == TcHook::kClsBpf && have.tc_hook != "cls_bpf") return false;
  return want.xdp_redirect.value_or(!SkbUplinkKind(uplink_kind)) == have.xdp_redirect;
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
  if (o.storm_limit != have.storm_limit) change.storm_limit = o.storm_limit;
  if (!change.mode && !change.mac && !change.hairpin && !change.isolated && !change.spoofchk && !change.nodst &&
      !change.allow_ips && !change.storm_limit)
    return std::nullopt;
  return change;
}

PlanAction Action(PlanAction::Kind kind, std::string text) {
  PlanAction a{};
  a.kind = kind;
  a.text = std::move(text);
  return a;
}

// Step 3 of one fabric of the file that is running as it should: its ports.
void PlanPorts(const DesiredFabric& want, const RunningFabric& have, std::vector<PlanAction>& out,
               std::set<std::string>& present) {
  const std::string& name = want.attach.fabric;
  std::map<std::string, const DesiredPort*> want_ports;
  for (const auto& p : want.ports) want_ports[p.Identity()] = &p;
  std::vector<std::pair<const DesiredPort*, PortChange>> changes;
  std::vector<std::pair<std::string, IpDiff>> ip_changes;
  for (const auto& port : have.ports) {
    auto it = want_ports.find(port.identity);
    bool passthru_flip = it != want_ports.end() &&
                         (it->second->options.mode == PortMode::kPassthru) != (port.info.mode == PortMode::kPassthru);
    // A port of the other kind is made again rather than converted: its
    // container side differs (MAC, addresses).
    bool kind_flip = it != want_ports.end() && it->second->options.type.value_or(want.attach.type) != port.info.type;
    if (it == want_ports.end() || !port.healthy || passthru_flip || kind_flip) {
      PlanAction a = Action(PlanAction::Kind::kRemovePort,
                            absl::StrCat("remove port ", port.info.name, " (", port.identity, ") from ", name));
      a.dev = port.info.name;
      out.push_back(std::move(a));
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
  for (const auto& [port, change] : changes) {
    bool sources_only = !change.mode && !change.mac && !change.hairpin && !change.isolated && !change.spoofchk &&
                        !change.nodst && !change.allow_ips && !change.storm_limit;
    if (!sources_only) {
      PlanAction a = Action(PlanAction::Kind::kChangePort,
                            absl::StrCat("change port ", change.dev, " (", port->Identity(), ")"));
      a.dev = change.dev;
      a.change = change;
      out.push_back(std::move(a));
    }
    if (port->options.mode == PortMode::kSource) {
      PlanAction a = Action(PlanAction::Kind::kSetSources, absl::StrCat("set sources of port ", change.dev));
      a.dev = change.dev;
      a.want_port = port;
      out.push_back(std::move(a));
    }
  }
  // Addresses: every removal before any addition, so one can move between ports.
  auto address = [&](PlanAction::Kind kind, std::string text, const std::string& dev, const PortIp& ip) {
    PlanAction a = Action(kind, std::move(text));
    a.dev = dev;
    a.ip = ip;
    out.push_back(std::move(a));
  };
  for (const auto& [dev, diff] : ip_changes)
    for (const auto& ip : diff.remove)
      address(PlanAction::Kind::kRemoveAddress, absl::StrCat("remove address ", ip.Owned(), " from port ", dev), dev,
              ip);
  for (const auto& [dev, diff] : ip_changes)
    for (const auto& ip : diff.relength)
      address(PlanAction::Kind::kSetAddress, absl::StrCat("set address ", ip.ToString(), " of port ", dev), dev, ip);
  for (const auto& [dev, diff] : ip_changes)
    for (const auto& ip : diff.add)
      address(PlanAction::Kind::kAddAddress, absl::StrCat("add address ", ip.ToString(), " to port ", dev), dev, ip);
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

std::vector<PlanAction> Plan(const DesiredState& desired, const std::vector<RunningFabric>& running,
                             const std::map<std::string, std::string>& uplinks) {
  std::vector<PlanAction> out;
  std::map<std::string, const DesiredFabric*> wanted;
  for (const auto& f : desired.fabrics) wanted[f.attach.fabric] = &f;

  // 1. Fabrics that must go: not in the file, broken, or attached differently.
  std::set<std::string> keep;
  for (const auto& have : running) {
    auto it = wanted.find(have.info.name);
    bool same = false;
    if (it != wanted.end() && have.healthy) {
      auto uplink = uplinks.find(it->second->attach.uplink);
      same = uplink != uplinks.end() && SameAttachment(it->second->attach, have.info, uplink->second);
    }
    if (same) {
      keep.insert(have.info.name);
      continue;
    }
    PlanAction a = Action(PlanAction::Kind::kDetachFabric, absl::StrCat("detach fabric ", have.info.name));
    a.fabric = have.info.name;
    out.push_back(std::move(a));
  }

  for (const auto& want : desired.fabrics) {
    const std::string& name = want.attach.fabric;
    const RunningFabric* have = nullptr;
    for (const auto& r : running)
      if (r.info.name == name && keep.count(name)) have = &r;
    // 2. The fabric itself.
    if (!have) {
      std::string text = absl::StrCat("attach fabric ", name, " to ", want.attach.uplink);
      if (const auto& v = want.attach.vxlan)
        absl::StrAppend(&text, " (create VXLAN ", v->vni, " on ", v->underlay,
                        v->remotes.empty() ? "" : absl::StrCat(", ", v->remotes.size(), " remote(s)"), ")");
      PlanAction a = Action(PlanAction::Kind::kAttachFabric, text);
      a.fabric = name;
      a.want_fabric = &want;
      out.push_back(std::move(a));
    } else if (have->info.host != want.attach.host || have->info.unknown_drop != want.attach.unknown_drop ||
               have->info.ipvlan_mode != want.attach.ipvlan_mode || have->info.ipvlan_flag != want.attach.ipvlan_flag ||
               have->info.dhcp_max_leases != WantedMaxLeases(want.attach) ||
               have->info.storm_limit != want.attach.storm_limit) {
      PlanAction a = Action(PlanAction::Kind::kSetPolicy, absl::StrCat("set policies of fabric ", name));
      a.fabric = name;
      a.policy = FabricPolicy{want.attach.host, want.attach.unknown_drop, want.attach.ipvlan_mode,
                              want.attach.ipvlan_flag, WantedMaxLeases(want.attach), want.attach.storm_limit};
      out.push_back(std::move(a));
    }
    // A VXLAN fabric's remotes: one delete or append per difference, so the
    // others keep their traffic.
    if (have && want.attach.vxlan && have->info.vxlan) {
      RemoteDiff diff = DiffRemotes(want.attach.vxlan->remotes, have->info.vxlan->remotes);
      for (const auto& r : diff.remove) {
        PlanAction a = Action(PlanAction::Kind::kRemoveRemote,
                              absl::StrCat("delete remote ", r.ToString(), " of fabric ", name));
        a.fabric = name;
        a.remote = r;
        out.push_back(std::move(a));
      }
      for (const auto& r : diff.add) {
        PlanAction a =
            Action(PlanAction::Kind::kAddRemote, absl::StrCat("add remote ", r.ToString(), " to fabric ", name));
        a.fabric = name;
        a.remote = r;
        out.push_back(std::move(a));
      }
    }
    // 3. Ports: remove what is not wanted or cannot be changed in place, then
    // change and add. Removals first, so a MAC can move between ports.
    std::set<std::string> present;
    if (have) PlanPorts(want, *have, out, present);
    for (const auto& port : want.ports) {
      if (present.count(port.Identity())) continue;
      PlanAction a = Action(PlanAction::Kind::kAddPort, absl::StrCat("add port ", port.Identity(), " to ", name));
      a.fabric = name;
      a.want_port = &port;
      out.push_back(std::move(a));
    }
  }
  return out;
}

}  // namespace vnet
