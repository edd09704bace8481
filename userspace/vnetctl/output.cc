#include "vnetctl/output.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace vnet {

std::vector<std::string> PortFlagNames(const PortFlags& flags) {
  std::vector<std::string> names;
  if (flags.spoofchk) names.push_back("spoofchk");
  if (flags.hairpin) names.push_back("hairpin");
  if (flags.isolated) names.push_back("isolated");
  if (flags.nodst) names.push_back("nodst");
  if (flags.allow_ip) names.push_back("allow-ip");
  if (flags.xdp_target) names.push_back("xdp");
  if (flags.peer_netns) names.push_back("peer-netns");
  return names;
}

namespace {

std::vector<std::string> Sources(const PortInfo& port) {
  std::vector<std::string> out;
  for (const auto& mac : port.sources) out.push_back(mac.ToString());
  return out;
}

// The lease of a learned address (nullptr: none known).
const LeaseTime* LeaseOf(const std::vector<LeaseTime>* leases, const PortAddress& a) {
  if (!leases || !a.learned) return nullptr;
  for (const auto& l : *leases)
    if (l.address == a.prefix.address) return &l;
  return nullptr;
}

// " lease 3594s" after a learned address, " lease forever" for an endless one.
std::string LeaseText(const std::vector<LeaseTime>& leases, const PortAddress& a) {
  const LeaseTime* l = LeaseOf(&leases, a);
  if (!l) return "";
  return l->seconds ? absl::StrCat(" lease ", *l->seconds, "s") : " lease forever";
}

std::vector<std::string> AddressTexts(const PortInfo& port) {
  std::vector<std::string> out;
  for (const auto& a : port.addresses)
    out.push_back(absl::StrCat(a.prefix.ToString(), a.learned ? " (learned)" : "", a.link_local ? " (link-local)" : "",
                               LeaseText(port.leases, a)));
  return out;
}

std::vector<std::string> RemoteTexts(const VxlanInfo& v) {
  std::vector<std::string> out;
  for (const auto& r : v.remotes) out.push_back(r.ToString());
  return out;
}

}  // namespace

nlohmann::json VxlanToJson(const std::optional<VxlanInfo>& vxlan) {
  if (!vxlan) return nullptr;
  const VxlanInfo& v = *vxlan;
  return {
      {"vni", v.vni},
      {"underlay", v.underlay},
      {"local", v.local ? nlohmann::json(v.local->ToString()) : nlohmann::json(nullptr)},
      {"dstport", v.dstport},
      {"remotes", RemoteTexts(v)},
      {"mtu", v.mtu},
      // true: vnet made the device and detach removes it; false: the user's.
      {"created", v.created},
      // the underlay guard drops this VNI's frames from anyone not in remotes
      {"guarded", v.guarded},
  };
}

nlohmann::json AddressesToJson(const std::vector<PortAddress>& addresses, const std::vector<LeaseTime>* leases) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : addresses) {
    nlohmann::json one = {{"address", a.prefix.ToString()}, {"learned", a.learned}, {"link_local", a.link_local}};
    // A learned address's lease: seconds left, null when it never ends.
    if (const LeaseTime* l = LeaseOf(leases, a))
      one["lease_seconds"] = l->seconds ? nlohmann::json(*l->seconds) : nlohmann::json(nullptr);
    out.push_back(one);
  }
  return out;
}

nlohmann::json PortToJson(const PortInfo& port) {
  bool ipvlan = port.type == PortKind::kIpvlan;
  nlohmann::json doc = {
      {"name", port.name},
      {"type", std::string(PortKindName(port.type))},
      {"ifindex", port.ifindex},
      {"mac", port.mac.ToString()},
      // An ipvlan port has no macvlan mode: the fabric's ipvlan_flag rules it.
      {"mode", ipvlan ? nlohmann::json(nullptr) : nlohmann::json(std::string(PortModeName(port.mode)))},
      {"flags", PortFlagNames(port.flags)},
      {"spoofchk", port.flags.spoofchk},
      {"hairpin", port.flags.hairpin},
      {"isolated", port.flags.isolated},
      {"slot", port.slot},
      {"kind", port.kind},
      {"sources", Sources(port)},
      // Empty: no IP source check (an ipvlan port's are its addresses).
      {"allow_ips", AllowIpTexts(port.allow_ips)},
      // Group frames the port may send per second; 0: no limit.
      {"storm_limit", port.storm_limit},
      {"up", port.up},
      {"carrier", port.carrier},
      // Who made the port, as engines record it (cni:NETWORK:CONTAINER:IFNAME,
      // docker:NETWORK:ENDPOINT); "" when none did.
      {"alias", port.alias},
  };
  if (ipvlan) doc["addresses"] = AddressesToJson(port.addresses, &port.leases);
  return doc;
}

nlohmann::json FabricToJson(const FabricInfo& fabric) {
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& p : fabric.ports) ports.push_back(PortToJson(p));
  return {
      {"name", fabric.name},
      {"type", std::string(PortKindName(fabric.type))},
      {"ipvlan_mode", std::string(IpvlanModeName(fabric.ipvlan_mode))},
      {"ipvlan_flag", std::string(IpvlanFlagName(fabric.ipvlan_flag))},
      {"uplink", fabric.uplink},
      {"uplink_ifindex", fabric.uplink_ifindex},
      {"uplink_mac", fabric.uplink_mac.ToString()},
      {"xdp_mode", fabric.xdp_mode},
      {"xdp_redirect", fabric.xdp_redirect},
      {"tc_hook", fabric.tc_hook},
      {"unknown", fabric.unknown_drop ? "drop" : "pass"},
      {"host", fabric.host},
      {"dhcp_max_leases", fabric.dhcp_max_leases},
      // Group frames flooded in the fabric per second; 0: no limit.
      {"storm_limit", fabric.storm_limit},
      {"defunct", fabric.defunct},
      {"vxlan", VxlanToJson(fabric.vxlan)},
      {"ports", ports},
  };
}

nlohmann::json CountersToJson(const Counters& c) {
  nlohmann::json drops = nlohmann::json::object();
  std::uint64_t total = 0;
  for (int r = 0; r < VNET_DROP__MAX; ++r) {
    drops[std::string(DropReasonName(r))] = c.stats.drops[r];
    total += c.stats.drops[r];
  }
  return {
      {"fabric", c.fabric},
      {"device", c.device},
      {"role", c.is_uplink ? "uplink" : "port"},
      {"rx_packets", c.stats.rx_packets},
      {"rx_bytes", c.stats.rx_bytes},
      {"tx_packets", c.stats.tx_packets},
      {"tx_bytes", c.stats.tx_bytes},
      {"flood_packets", c.stats.flood_packets},
      {"dropped", total},
      {"drops", drops},
  };
}

std::string FabricsToText(const std::vector<FabricInfo>& fabrics) {
  if (fabrics.empty()) return "no fabrics\n";
  std::string out;
  for (const auto& f : fabrics) {
    absl::StrAppendFormat(&out, "fabric %s: uplink %s (%s) type %s ipvlan %s/%s xdp %s%s tc %s unknown %s host %s%s\n",
                          f.name, f.uplink.empty() ? "<gone>" : f.uplink, f.uplink_mac.ToString(),
                          PortKindName(f.type), IpvlanModeName(f.ipvlan_mode), IpvlanFlagName(f.ipvlan_flag),
                          f.xdp_mode.empty() ? "none" : f.xdp_mode, f.xdp_redirect ? "" : " (redirect off)", f.tc_hook, f.unknown_drop ? "drop" : "pass",
                          f.host ? "on" : "off", f.defunct ? " DEFUNCT" : "");
    if (f.storm_limit) absl::StrAppend(&out, "  storm-limit: ", StormLimitText(f.storm_limit), "\n");
    if (f.vxlan) {
      const VxlanInfo& v = *f.vxlan;
      absl::StrAppendFormat(&out, "  vxlan vni %d underlay %s local %s dstport %d mtu %d (%s)\n", v.vni,
                            v.underlay.empty() ? std::string("<none>") : v.underlay,
                            v.local ? v.local->ToString() : std::string("<any>"),
                            v.dstport, v.mtu, v.created ? "created by vnet" : "made by the user");
      if (v.guarded) out += "    underlay guard: on\n";
      absl::StrAppend(&out, "    remotes: ", v.remotes.empty() ? "none" : absl::StrJoin(RemoteTexts(v), " "), "\n");
    }
    if (f.ports.empty()) {
      out += "  no ports\n";
      continue;
    }
    absl::StrAppendFormat(&out, "  %-15s %-17s %-8s %-10s %s\n", "PORT", "MAC", "MODE", "STATE", "FLAGS");
    for (const auto& p : f.ports) {
      std::string state = !p.up ? "down" : (p.carrier ? "up" : "no-carrier");
      absl::StrAppendFormat(&out, "  %-15s %-17s %-8s %-10s %s\n", p.name.empty() ? "<gone>" : p.name,
                            p.mac.ToString(), p.type == PortKind::kIpvlan ? "-" : PortModeName(p.mode), state,
                            absl::StrJoin(PortFlagNames(p.flags), ","));
      if (!p.alias.empty()) absl::StrAppend(&out, "    alias: ", p.alias, "\n");
      if (!p.sources.empty()) absl::StrAppend(&out, "    sources: ", absl::StrJoin(Sources(p), " "), "\n");
      if (!p.allow_ips.empty())
        absl::StrAppend(&out, "    allow-ip: ", absl::StrJoin(AllowIpTexts(p.allow_ips), " "), "\n");
      if (p.storm_limit) absl::StrAppend(&out, "    storm-limit: ", StormLimitText(p.storm_limit), "\n");
      if (p.type == PortKind::kIpvlan)
        absl::StrAppend(&out, "    ipvlan, addresses: ", p.addresses.empty() ? "none" : absl::StrJoin(AddressTexts(p), " "),
                        "\n");
    }
  }
  return out;
}

std::string CountersToText(const std::vector<Counters>& counters) {
  std::string out = absl::StrFormat("%-15s %-12s %-6s %10s %12s %10s %12s %8s %8s\n", "DEVICE", "FABRIC", "ROLE",
                                    "RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES", "FLOODED", "DROPPED");
  for (const auto& c : counters) {
    std::uint64_t total = 0;
    std::vector<std::string> reasons;
    for (int r = 0; r < VNET_DROP__MAX; ++r) {
      total += c.stats.drops[r];
      if (c.stats.drops[r]) reasons.push_back(absl::StrCat(DropReasonName(r), "=", c.stats.drops[r]));
    }
    absl::StrAppendFormat(&out, "%-15s %-12s %-6s %10d %12d %10d %12d %8d %8d\n", c.device, c.fabric,
                          c.is_uplink ? "uplink" : "port", c.stats.rx_packets, c.stats.rx_bytes, c.stats.tx_packets,
                          c.stats.tx_bytes, c.stats.flood_packets, total);
    if (!reasons.empty()) absl::StrAppend(&out, "    drops: ", absl::StrJoin(reasons, " "), "\n");
  }
  return out;
}

nlohmann::json DoctorToJson(const DoctorReport& report) {
  nlohmann::json caps = nlohmann::json::array();
  for (const auto& c : report.capabilities) caps.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& d : report.devices)
    devices.push_back({{"name", d.name},
                       {"ifindex", d.ifindex},
                       {"kind", d.kind},
                       {"xdp_features", d.xdp_features},
                       {"native_xdp", d.native_xdp},
                       {"xdp_redirect_target", d.redirect_target},
                       {"xdp_program", d.xdp_program},
                       {"fabric", d.fabric},
                       {"role", d.role},
                       {"notes", d.notes}});
  return {{"kernel", report.kernel}, {"capabilities", caps}, {"devices", devices}, {"problems", report.problems}};
}

std::string DoctorToText(const DoctorReport& report) {
  std::string out = absl::StrCat("kernel: ", report.kernel, "\n");
  for (const auto& c : report.capabilities)
    absl::StrAppendFormat(&out, "  %-4s %-24s %s\n", c.ok ? "ok" : "no", c.name, c.detail);
  out += "devices:\n";
  for (const auto& d : report.devices) {
    absl::StrAppendFormat(&out, "  %-15s %-7s xdp: %s%s%s\n", d.name, d.kind,
                          d.xdp_features.empty() ? "-" : absl::StrJoin(d.xdp_features, ","),
                          d.xdp_program.empty() ? "" : absl::StrCat("  attached: ", d.xdp_program),
                          d.fabric.empty() ? "" : absl::StrCat("  ", d.role, " of ", d.fabric));
    for (const auto& n : d.notes) absl::StrAppend(&out, "      ", n, "\n");
  }
  if (report.problems.empty()) {
    out += "nothing vnet needs is missing\n";
  } else {
    out += "will not work here:\n";
    for (const auto& p : report.problems) absl::StrAppend(&out, "  - ", p, "\n");
  }
  return out;
}

}  // namespace vnet
