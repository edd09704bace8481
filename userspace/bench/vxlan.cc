#include "bench/vxlan.h"

#include <arpa/inet.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/pktgen.h"
#include "bench/progress.h"
#include "bench/report.h"
#include "bench/tcp.h"
#include "bench/teardown.h"
#include "bench/vxlan_topology.h"
#include "base/errors.h"

namespace vnet::bench {
namespace {

using nlohmann::json;

// One packet-rate run, per second of the generator's transmission.
struct PpsRun {
  double offered = 0;    // frames the generator sent into cA's injector
  double a_vx_tx = 0;    // host A's vx0 transmitted (encapsulated)
  double b_vx_rx = 0;    // host B's vx0 received (decapsulated)
  double delivered = 0;  // UDP datagrams cB's stack took in
  double drop_pct = 0;   // 1 - delivered / offered
};

// One system in one repetition.
struct Rep {
  std::optional<double> tcp_gbps, tcp_retransmits;
  std::map<std::uint32_t, PpsRun> pps;  // by frame size
};

struct SystemRuns {
  System system;
  std::string xdp_mode;
  std::vector<Rep> reps;  // index = repetition - 1
};

std::vector<System> VxlanSystems(const Config& cfg) {
  std::vector<System> out;
  for (System s : {System::kVnet, System::kVnetTc, System::kMacvlan}) {
    bool wanted = cfg.systems.empty() ? s != System::kVnetTc
                                      : std::find(cfg.systems.begin(), cfg.systems.end(), SystemName(s)) !=
                                            cfg.systems.end();
    if (wanted) out.push_back(s);
  }
  return out;
}

// Small UDP frames from cA to cB's MAC and address, port 9 (nobody listens:
// cB's stack counts them in NoPorts once it has checked them).
FrameSpec PpsFrame(const VxlanContainers& c, std::uint32_t size) {
  FrameSpec f;
  f.size = size;
  f.proto = Proto::kUdp;
  f.src = c.container(0).mac;
  f.dst = c.container(1).mac;
  inet_pton(AF_INET, kContainerA, &f.src4);
  inet_pton(AF_INET, kContainerB, &f.dst4);
  return f;
}

absl::StatusOr<PpsRun> MeasurePps(const VxlanUnderlay& u, const VxlanContainers& c, std::uint32_t size,
                                  const Config& cfg, double duration) {
  const std::string& cb = c.container(1).netns;
  VNET_ASSIGN_OR_RETURN(std::uint64_t d0, ReadUdpDelivered(cb));
  VNET_ASSIGN_OR_RETURN(LinkPackets a0, ReadLinkPackets(u.host(0), "vx0"));
  VNET_ASSIGN_OR_RETURN(LinkPackets b0, ReadLinkPackets(u.host(1), "vx0"));
  GenOptions g;
  g.netns = c.injector().netns;
  g.dev = c.injector().name;
  g.frame = PpsFrame(c, size);
  g.duration = duration;
  g.cpu = cfg.gen_cpu;
  absl::StatusOr<GenResult> result = absl::UnknownError("generator did not run");
  std::thread gen([&] {
    setpriority(PRIO_PROCESS, 0, -20);  // this thread only (Linux)
    result = RunGenerator(g, &g_stop);
  });
  gen.join();
  if (!result.ok()) return Prefix(result.status(), "vnet-pktgen in the container");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // let the rings and backlogs drain
  VNET_ASSIGN_OR_RETURN(std::uint64_t d1, ReadUdpDelivered(cb));
  VNET_ASSIGN_OR_RETURN(LinkPackets a1, ReadLinkPackets(u.host(0), "vx0"));
  VNET_ASSIGN_OR_RETURN(LinkPackets b1, ReadLinkPackets(u.host(1), "vx0"));
  // Per second of transmission (see GenResult::busy_seconds).
  double secs = result->busy_seconds > 0 ? result->busy_seconds : result->seconds;
  if (!(secs > 0)) return absl::InternalError("vnet-pktgen: no transmission time reported");
  PpsRun r;
  r.offered = result->frames / secs;
  r.a_vx_tx = (a1.tx - a0.tx) / secs;
  r.b_vx_rx = (b1.rx - b0.rx) / secs;
  r.delivered = (d1 - d0) / secs;
  r.drop_pct = result->frames ? 100.0 * (1 - static_cast<double>(d1 - d0) / result->frames) : 0;
  return r;
}

// cB answers cA (ARP resolved both ways, the VXLAN FDBs learned).
bool Reachable(const VxlanContainers& c) {
  for (int i = 0; i < 20 && !g_stop; ++i)
    if (PingAvgUs(c.container(0).netns, kContainerB, 1)) return true;
  return false;
}

// Builds `system` over the underlay, measures TCP and every size once,
// removes it. Errors name the step; what was measured before one is kept.
absl::Status MeasureSystem(const VxlanUnderlay& u, SystemRuns& s, Rep& rep, const Config& cfg,
                           const std::vector<std::uint32_t>& sizes, const std::string& tag, int rep_no) {
  const char* name = SystemName(s.system);
  auto step = [&](const std::string& what) {
    Progress(absl::StrFormat("[vxlan] rep %d/%d %s: %s", rep_no, cfg.reps, name, what));
  };
  step("building");
  VNET_ASSIGN_OR_RETURN(std::unique_ptr<VxlanContainers> c, VxlanContainers::Build(u, s.system, tag));
  if (s.system != System::kMacvlan) s.xdp_mode = c->xdp_mode();
  IperfServer server(c->container(1).netns, kContainerB, cfg.rx_cpu);
  if (!Reachable(*c)) return absl::UnavailableError(absl::StrCat(name, ": ", kContainerB, " never answered ping"));
  if (g_stop) return absl::OkStatus();
  step("TCP");
  std::optional<TcpRun> t = IperfTcp(c->container(0).netns, kContainerB, cfg.tcp_seconds, cfg.gen_cpu);
  if (!t && !g_stop) t = IperfTcp(c->container(0).netns, kContainerB, cfg.tcp_seconds, cfg.gen_cpu);  // server late
  if (t) {
    rep.tcp_gbps = t->gbps;
    rep.tcp_retransmits = t->retransmits;
  }
  for (std::uint32_t size : sizes) {
    if (g_stop) break;
    step(absl::StrCat(size, "B frames"));
    (void)MeasurePps(u, *c, size, cfg, 0.2);  // warm-up: learning, caches, page pools
    VNET_ASSIGN_OR_RETURN(rep.pps[size], MeasurePps(u, *c, size, cfg, cfg.duration));
  }
  if (!t && !g_stop) return absl::InternalError(absl::StrCat(name, ": iperf3 cA -> cB failed twice"));
  step("tearing down");
  return absl::OkStatus();
}

// Summaries of one metric over the repetitions that measured it.
template <typename F>
json Series(const SystemRuns& s, F get) {
  std::vector<double> v;
  for (const Rep& r : s.reps)
    if (std::optional<double> x = get(r)) v.push_back(*x);
  return Summary(v);
}

// vnet / macvlan per repetition where both measured it.
template <typename F>
json RatioSeries(const SystemRuns& a, const SystemRuns& b, F get) {
  std::vector<double> v;
  for (std::size_t i = 0; i < std::min(a.reps.size(), b.reps.size()); ++i) {
    std::optional<double> x = get(a.reps[i]), y = get(b.reps[i]);
    if (x && y && *y > 0) v.push_back(*x / *y);
  }
  return Summary(v);
}

json RepJson(const Rep& r) {
  json j{{"tcp_gbps", r.tcp_gbps ? json(*r.tcp_gbps) : json(nullptr)},
         {"tcp_retransmits", r.tcp_retransmits ? json(*r.tcp_retransmits) : json(nullptr)},
         {"pps", json::object()}};
  for (const auto& [size, p] : r.pps)
    j["pps"][absl::StrCat(size)] = {{"offered_pps", p.offered},     {"a_vx0_tx_pps", p.a_vx_tx},
                                    {"b_vx0_rx_pps", p.b_vx_rx},    {"delivered_pps", p.delivered},
                                    {"drop_pct", p.drop_pct}};
  return j;
}

auto PpsOf(std::uint32_t size, double PpsRun::*field) {
  return [size, field](const Rep& r) -> std::optional<double> {
    auto it = r.pps.find(size);
    if (it == r.pps.end()) return std::nullopt;
    return it->second.*field;
  };
}

}  // namespace

json RunVxlan(const Config& cfg, int& seq) {
  const std::string tag = absl::StrCat("vb", ::getpid() % 100000, "n", ++seq);
  const std::vector<std::uint32_t>& sizes = cfg.vxlan_sizes;
  std::vector<SystemRuns> systems;
  for (System s : VxlanSystems(cfg)) systems.push_back({s, "", std::vector<Rep>(cfg.reps)});
  json out{{"vni", kVxlanVni},
           {"overlay_mtu", kOverlayMtu},
           {"sizes", sizes},
           {"reps", cfg.reps},
           {"duration_s", cfg.duration},
           {"tcp_seconds", cfg.tcp_seconds},
           {"cpu_mode", cfg.split ? "split" : "shared"},
           {"systems_measured", json::array()},
           {"generator",
            "vnet-pktgen (XDP live frames) on gi inside container A; its peer go's tc ingress redirects every frame "
            "out of cA's eth0, so frames leave the container as cA's own would (the kernel's transmit path from "
            "eth0 on)"},
           {"delivered",
            "UDP datagrams container B's stack took in (Udp InDatagrams + NoPorts in cB's namespace, port 9, no "
            "listener): a frame lost on the way, dropped by cB's device or by IP/UDP's checks is not counted"},
           {"method",
            "the underlay and both VXLAN devices built once; each repetition builds each system on them afresh "
            "(new container namespaces; vnet: attach vx0 + port add --netns, macvlan: link add link vx0 type "
            "macvlan mode bridge, moved into the container), pings cA -> cB until answered, runs iperf3 TCP cA -> "
            "cB (client on the generator's CPU, server on the receive CPU), then each frame size (0.2 s warm-up, "
            "then the measured run), and removes the system; the systems' order alternates by repetition; ratios "
            "vnet / macvlan run by run"}};
  for (const auto& s : systems) out["systems_measured"].push_back(SystemName(s.system));
  for (std::uint32_t size : sizes)
    if (size < 60 || size > kOverlayMtu + 14) {
      out["errors"]["setup"] = absl::StrCat("frame size ", size, " outside 60..", kOverlayMtu + 14,
                                            " (the overlay MTU plus the Ethernet header)");
      return out;
    }

  Progress("[vxlan] building the underlay and the VXLAN devices");
  auto underlay = VxlanUnderlay::Build(tag + "u", cfg.split ? cfg.rx_cpu : -1);
  if (!underlay.ok()) {
    ProgressDone();
    out["errors"]["underlay"] = std::string(underlay.status().message());
    std::fprintf(stderr, "vnet-bench: vxlan underlay: %s\n", out["errors"]["underlay"].get<std::string>().c_str());
    CleanupAll();
    return out;
  }
  out["underlay"] = (*underlay)->Describe();
  int phase = 0;
  for (int rep = 1; rep <= cfg.reps && !g_stop; ++rep) {
    std::vector<SystemRuns*> order;
    for (auto& s : systems) order.push_back(&s);
    if (rep % 2 == 0) std::reverse(order.begin(), order.end());
    for (SystemRuns* s : order) {
      if (g_stop) break;
      absl::Status st =
          MeasureSystem(**underlay, *s, s->reps[rep - 1], cfg, sizes, absl::StrCat(tag, "s", ++phase), rep);
      if (!st.ok()) {
        ProgressDone();
        std::string msg = absl::StrCat("rep ", rep, ": ", st.message());
        std::fprintf(stderr, "vnet-bench: vxlan %s: %s\n", SystemName(s->system), msg.c_str());
        out["errors"][SystemName(s->system)] = msg;
      }
    }
  }
  Progress("[vxlan] tearing down");
  underlay->reset();
  CleanupAll();
  ProgressDone();

  json sys = json::object();
  const SystemRuns* mac = nullptr;
  for (const auto& s : systems) {
    if (s.system == System::kMacvlan) mac = &s;
    json j{{"runs", json::array()},
           {"tcp_gbps", Series(s, [](const Rep& r) { return r.tcp_gbps; })},
           {"tcp_retransmits", Series(s, [](const Rep& r) { return r.tcp_retransmits; })},
           {"pps", json::object()}};
    if (IsVnet(s.system)) j["xdp_mode"] = s.xdp_mode;
    for (const Rep& r : s.reps) j["runs"].push_back(RepJson(r));
    for (std::uint32_t size : sizes)
      j["pps"][absl::StrCat(size)] = {{"delivered_pps", Series(s, PpsOf(size, &PpsRun::delivered))},
                                      {"offered_pps", Series(s, PpsOf(size, &PpsRun::offered))},
                                      {"a_vx0_tx_pps", Series(s, PpsOf(size, &PpsRun::a_vx_tx))},
                                      {"b_vx0_rx_pps", Series(s, PpsOf(size, &PpsRun::b_vx_rx))},
                                      {"drop_pct", Series(s, PpsOf(size, &PpsRun::drop_pct))}};
    sys[SystemName(s.system)] = j;
  }
  out["systems"] = sys;
  // Ratios against macvlan, and the target (at least equal) for vnet.
  json ratios = json::object(), targets = json::array();
  for (const auto& s : systems) {
    if (!mac || s.system == System::kMacvlan) continue;
    const std::string key = absl::StrCat(SystemName(s.system), "/macvlan");
    ratios[key]["tcp_gbps"] = RatioSeries(s, *mac, [](const Rep& r) { return r.tcp_gbps; });
    for (std::uint32_t size : sizes)
      ratios[key][absl::StrCat("pps_", size)] = RatioSeries(s, *mac, PpsOf(size, &PpsRun::delivered));
    if (s.system != System::kVnet) continue;
    for (const auto& [metric, r] : ratios[key].items())
      targets.push_back({{"metric", metric},
                         {"ratio", r["median"]},
                         {"target", "vnet/macvlan >= 1.0"},
                         {"met", r["median"].is_number() && r["median"].get<double>() >= 1.0}});
  }
  out["ratios"] = ratios;
  out["targets"] = targets;
  return out;
}

void PrintVxlan(const json& v) {
  auto num = [](const json& j, const char* fmt, double scale = 1) {
    return j.is_number() ? absl::StrFormat(fmt, j.get<double>() / scale) : std::string("n/a");
  };
  auto runs = [](const json& j) {
    if (!j.contains("runs")) return std::string();
    return absl::StrJoin(j["runs"].get<std::vector<double>>(), " ",
                         [](std::string* o, double d) { absl::StrAppendFormat(o, "%.2f", d); });
  };
  const json sys_all = v.value("systems", json::object());
  const json ratios = v.value("ratios", json::object());
  const json targets = v.value("targets", json::array());
  const json sizes = v.value("sizes", json::array());
  // In the order measured (vnet, vnet-tc, macvlan), not the JSON's.
  std::vector<std::pair<std::string, json>> sys;
  for (const auto& name : v.value("systems_measured", json::array()))
    if (sys_all.contains(name.get<std::string>())) sys.push_back({name.get<std::string>(), sys_all[name.get<std::string>()]});
  std::printf("VXLAN (cross-host): container A on host A -> container B on host B, VNI %u, overlay MTU %u; medians "
              "of %d reps\n",
              v.value("vni", 0u), v.value("overlay_mtu", 0u), v.value("reps", 0));
  for (const auto& [name, s] : sys)
    if (s.contains("xdp_mode")) std::printf("  %s: XDP on vx0 %s\n", name.c_str(), s["xdp_mode"].get<std::string>().c_str());
  std::printf("%-22s", "metric");
  for (const auto& [name, s] : sys) std::printf(" %12s", name.c_str());
  std::printf("\n%-22s", "tcp Gbit/s");
  for (const auto& [name, s] : sys) std::printf(" %12s", num(s["tcp_gbps"]["median"], "%.2f").c_str());
  std::printf("\n%-22s", "tcp retransmits");
  for (const auto& [name, s] : sys) std::printf(" %12s", num(s["tcp_retransmits"]["median"], "%.0f").c_str());
  std::printf("\n");
  for (const auto& size : sizes) {
    const std::string k = absl::StrCat(size.get<unsigned>());
    const std::pair<const char*, const char*> rows[] = {{"offered_pps", "offered"},
                                                        {"a_vx0_tx_pps", "A vx0 tx"},
                                                        {"b_vx0_rx_pps", "B vx0 rx"},
                                                        {"delivered_pps", "delivered"}};
    for (const auto& [field, label] : rows) {
      std::printf("%-22s", absl::StrCat(k, "B Mpps ", label).c_str());
      for (const auto& [name, s] : sys)
        std::printf(" %12s", num(s["pps"][k][field]["median"], "%.3f", 1e6).c_str());
      std::printf("\n");
    }
  }
  for (const auto& [key, metrics] : ratios.items())
    for (const auto& [metric, r] : metrics.items())
      std::printf("%-10s %-12s %s (runs %s)\n", key.c_str(), metric.c_str(),
                  r["median"].is_number() ? absl::StrFormat("%.2fx", r["median"].get<double>()).c_str() : "n/a",
                  runs(r).c_str());
  for (const auto& t : targets)
    std::printf("target %s (%s): %s\n", t["metric"].get<std::string>().c_str(), t["target"].get<std::string>().c_str(),
                t["met"].get<bool>() ? "met" : "missed");
  if (v.contains("errors"))
    for (const auto& [k, e] : v["errors"].items()) std::printf("error: %s: %s\n", k.c_str(), e.get<std::string>().c_str());
}

}  // namespace vnet::bench
