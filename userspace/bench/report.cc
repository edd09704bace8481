#include "bench/report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace vnet::bench {
namespace {

using nlohmann::json;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string Mpps(double pps) { return absl::StrFormat("%.3f", pps / 1e6); }

// The table's rows for one case: a row per system, then the ratios.
std::vector<std::string> CaseRows(const Case& c, const json& out) {
  std::vector<std::string> rows;
  const json& systems = out["systems"];
  const json& ratios = out["ratios"];
  for (const auto& v : c.variants) {
    const json& s = systems[v.label()];
    std::string med = s["pps"]["median"].is_null() ? "n/a" : Mpps(s["pps"]["median"].get<double>());
    std::string spread = s["pps"].contains("spread_pct") ? absl::StrFormat("%.1f%%", s["pps"]["spread_pct"].get<double>()) : "-";
    std::string drop = s["drop_pct"]["median"].is_null() ? "-" : absl::StrFormat("%.1f%%", s["drop_pct"]["median"].get<double>());
    std::string offered = s["offered_pps"]["median"].is_null() ? "-" : Mpps(s["offered_pps"]["median"].get<double>());
    rows.push_back(absl::StrFormat("%-12s %5u  %-18s %10s %8s %10s %7s", c.path, c.size, v.label(), med,
                                   spread, offered, drop));
  }
  for (auto it = ratios.begin(); it != ratios.end(); ++it) {
    if (it.value()["median"].is_null()) continue;
    rows.push_back(absl::StrFormat("%-12s %5s  %-34s %.2fx (runs %s)", "", "", it.key(),
                                   it.value()["median"].get<double>(),
                                   absl::StrJoin(it.value()["runs"].get<std::vector<double>>(), " ",
                                                 [](std::string* o, double d) { absl::StrAppendFormat(o, "%.2f", d); })));
  }
  return rows;
}

// The table's rows for the TCP section (none when it did not run).
std::vector<std::string> TcpRows(const json& out) {
  std::vector<std::string> rows;
  if (!out.contains("throughput_gbps")) return rows;
  auto med = [](const json& j, const char* key, const char* fmt) -> std::string {
    if (!j.contains(key) || !j[key].contains("median") || j[key]["median"].is_null()) return "n/a";
    return absl::StrFormat(fmt, j[key]["median"].get<double>());
  };
  for (const auto& [path, v] : out["throughput_gbps"].items())
    rows.push_back(absl::StrFormat(
        "tcp %-10s Gbit/s  vnet %6s  vnet-tc %6s  macvlan %6s  vnet/macvlan %s  vnet-tc/macvlan %s", path,
        med(v, "vnet", "%.2f"), med(v, "vnet-tc", "%.2f"), med(v, "macvlan", "%.2f"),
        med(v, "ratio_vnet_macvlan", "%.2f"), med(v, "ratio_vnet_tc_macvlan", "%.2f")));
  if (out.contains("udp_ext_to_port")) {
    const json& u = out["udp_ext_to_port"];
    auto sys = [&](const char* s, const char* key, const char* fmt) {
      return u.contains(s) ? med(u[s], key, fmt) : std::string("n/a");
    };
    rows.push_back(absl::StrFormat(
        "udp ext->port  pps     vnet %6s  vnet-tc %6s  macvlan %6s  vnet/macvlan %s  (18-byte datagrams, "
        "loss %% vnet %s, vnet-tc %s, macvlan %s)",
        sys("vnet", "rx_pps", "%.0f"),
        sys("vnet-tc", "rx_pps", "%.0f"), sys("macvlan", "rx_pps", "%.0f"), med(u, "ratio_vnet_macvlan", "%.2f"),
        sys("vnet", "loss_pct", "%.1f"), sys("vnet-tc", "loss_pct", "%.1f"), sys("macvlan", "loss_pct", "%.1f")));
  }
  for (const auto& [path, v] : out["latency_us"].items())
    rows.push_back(absl::StrFormat("rtt %-10s us      vnet %6s  vnet-tc %6s  macvlan %6s", path, med(v, "vnet", "%.1f"),
                                   med(v, "vnet-tc", "%.1f"), med(v, "macvlan", "%.1f")));
  if (out.contains("csum_offload_probe"))
    for (const auto& [sys, p] : out["csum_offload_probe"].items())
      rows.push_back(absl::StrFormat(
          "csum probe %-8s (ext tx offload on, tcp ext->port, not in the medians): %s, TcpInCsumErrors %s",
          sys, p["tcp_gbps"].is_number() ? absl::StrFormat("%.2f Gbit/s", p["tcp_gbps"].get<double>()) : "stalled",
          p["tcp_in_csum_errors"].is_number() ? absl::StrCat(p["tcp_in_csum_errors"].get<std::uint64_t>()) : "n/a"));
  return rows;
}

}  // namespace

json Summary(const std::vector<double>& v) {
  if (v.empty()) return json{{"runs", json::array()}, {"median", nullptr}};
  double med = Median(v);
  double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  return json{{"runs", v},
              {"median", med},
              {"min", lo},
              {"max", hi},
              {"spread_pct", med > 0 ? (hi - lo) / med * 100 : 0}};
}

json SystemsJson(const std::vector<VariantRuns>& measured) {
  json systems = json::object();
  for (const auto& l : measured) {
    std::vector<double> pps, delivered, offered, accepted, drops;
    json runs = json::array();
    for (const auto& r : l.runs) {
      pps.push_back(r.pps);
      delivered.push_back(r.delivered_pps);
      offered.push_back(r.offered_pps);
      accepted.push_back(r.accepted_pps);
      drops.push_back(r.drop_pct);
      json jr{{"pps", r.pps},
              {"delivered_pps", r.delivered_pps},
              {"offered_pps", r.offered_pps},
              {"accepted_pps", r.accepted_pps},
              {"drop_pct", r.drop_pct}};
      if (IsVnet(l.variant.system)) jr["vnet_unknown_drops"] = r.vnet_unknown_drops;
      runs.push_back(jr);
    }
    json s{{"system", SystemName(l.variant.system)}, {"runs", runs},   {"pps", Summary(pps)},
           {"offered_pps", Summary(offered)},      {"accepted_pps", Summary(accepted)},
           {"drop_pct", Summary(drops)}};
    if (l.variant.macs) s["macs"] = l.variant.macs;
    if (l.variant.ips) s["ips"] = l.variant.ips;
    if (!l.table_note.empty()) s["table"] = l.table_note;
    s["generator"] = l.generator;
    systems[l.variant.label()] = s;
  }
  return systems;
}

json RatiosJson(const Case& c, const std::vector<VariantRuns>& measured) {
  std::map<std::string, const VariantRuns*> by_label;
  for (const auto& l : measured) by_label[l.variant.label()] = &l;

  // vnet / peer, run by run (same repetition index).
  json ratios = json::object();
  auto ratio = [&](const std::string& a, const std::string& b) {
    auto ia = by_label.find(a), ib = by_label.find(b);
    if (ia == by_label.end() || ib == by_label.end()) return;
    std::vector<double> v;
    for (std::size_t i = 0; i < std::min(ia->second->runs.size(), ib->second->runs.size()); ++i)
      if (ib->second->runs[i].pps > 0) v.push_back(ia->second->runs[i].pps / ib->second->runs[i].pps);
    ratios[a + ":" + b] = Summary(v);
  };
  for (const auto& l : measured) {
    if (!IsVnet(l.variant.system)) continue;
    if (l.variant.system == System::kVnetIpvlan) {
      // No kernel ipvlan here: vnet's ipvlan family against vnet's MAC
      // demultiplexing and the floor.
      ratio(l.variant.label(), "vnet");
      ratio(l.variant.label(), "floor");
      continue;
    }
    for (const auto& p : measured)
      if (!IsVnet(p.variant.system) && p.variant.macs == l.variant.macs) ratio(l.variant.label(), p.variant.label());
  }
  if (c.path == "macs" || c.path == "ips") {
    for (const auto& l : measured)
      if (l.variant.macs > 1 || l.variant.ips > 1) {
        std::string base = absl::StrCat(SystemName(l.variant.system), "/1");
        if (by_label.count(base)) ratio(l.variant.label(), base);
      }
  }
  return ratios;
}

json Targets(const json& pps, const json& tcp) {
  json out = json::array();
  auto find_ratio = [&](const std::string& path, std::uint32_t size, const std::string& key) -> std::optional<double> {
    for (const auto& c : pps)
      if (c["path"] == path && c["size"] == size && c["ratios"].contains(key) && !c["ratios"][key]["median"].is_null())
        return c["ratios"][key]["median"].get<double>();
    return std::nullopt;
  };
  auto add = [&](const std::string& name, std::optional<double> v, double need) {
    json t{{"target", name}, {"required", need}};
    t["measured"] = v ? json(*v) : json(nullptr);
    t["met"] = v ? json(*v >= need) : json(nullptr);
    out.push_back(t);
  };
  add("wire->port 64B vnet/macvlan", find_ratio("wire->port", 64, "vnet:macvlan"), 1.0);
  add("wire->port 64B vnet/bridge", find_ratio("wire->port", 64, "vnet:bridge"), 2.5);
  add("wire->port 64B vnet/floor", find_ratio("wire->port", 64, "vnet:floor"), 0.9);
  add("100000 MACs / 1 MAC (vnet, 64B)", find_ratio("macs", 64, "vnet/100000:vnet/1"), 0.8);
  add("unknown drop 64B vnet/macvlan", find_ratio("unknown", 64, "vnet:macvlan"), 3.0);
  add("unknown drop 64B vnet/bridge", find_ratio("unknown", 64, "vnet:bridge"), 3.0);
  std::optional<double> tcp_ratio;
  // Any level may be missing (a TCP topology that failed to build).
  const auto ratio = tcp.value("/throughput_gbps/port->port/ratio_vnet_macvlan/median"_json_pointer, nlohmann::json());
  if (ratio.is_number()) tcp_ratio = ratio.get<double>();
  add("port->port TCP vnet/macvlan", tcp_ratio, 1.0);
  return out;
}

void PrintReport(const json& doc, const Config& cfg, const std::vector<Case>& cases) {
  std::printf("kernel %s, %ld CPUs, %s, median of %d x %.1f s; %s\n", doc["kernel"].get<std::string>().c_str(),
              doc["cpus"].get<long>(), doc["date"].get<std::string>().c_str(), cfg.reps, cfg.duration,
              doc["generator"].get<std::string>().c_str());
  std::printf("load average before/after: %s / %s\n", doc["loadavg_before"].get<std::string>().c_str(),
              doc["loadavg_after"].get<std::string>().c_str());
  if (doc.contains("kernel_ipvlan"))
    std::printf("vnet-ipvlan: attach --type ipvlan --ipvlan-mode l2, ports by --ip; %s\n",
                doc["kernel_ipvlan"].get<std::string>().c_str());
  std::printf("\n");
  std::printf("%-12s %5s  %-18s %10s %8s %10s %7s\n", "path", "size", "system", "Mpps", "spread", "offered", "drops");
  const json& pps = doc["pps"];
  for (std::size_t i = 0; i < pps.size() && i < cases.size(); ++i)
    for (const auto& line : CaseRows(cases[i], pps[i])) std::printf("%s\n", line.c_str());
  for (const auto& line : TcpRows(doc["tcp"])) std::printf("%s\n", line.c_str());
  std::printf("\ntargets (DESIGN.md, ratios in one run):\n");
  for (const auto& t : doc["targets"]) {
    std::string m = t["measured"].is_null() ? "n/a" : absl::StrFormat("%.2fx", t["measured"].get<double>());
    std::string met = t["met"].is_null() ? "not measured" : (t["met"].get<bool>() ? "met" : "MISSED");
    std::printf("  %-34s %8s  (>= %.1fx)  %s\n", t["target"].get<std::string>().c_str(), m.c_str(),
                t["required"].get<double>(), met.c_str());
  }
}

}  // namespace vnet::bench
