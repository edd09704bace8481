// vnet-bench: vnet next to kernel macvlan (bridge mode), the Linux bridge and
// the floor (a bare redirect), measured in the same run on identical veth
// topologies built in fresh namespaces. See docs/benchmarks.md.
#include <signal.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench/harness.h"
#include "bench/kernel_pktgen.h"
#include "bench/pktgen.h"
#include "loader/errors.h"

namespace vnet::bench {
namespace {

using nlohmann::json;

constexpr char kUsage[] = R"(usage: vnet-bench [--quick] [--reps N] [--duration SECONDS] [--json FILE] [--plot FILE.png]
                  [--paths LIST] [--sizes LIST] [--macs LIST] [--ips LIST] [--systems LIST] [--no-tcp]
                  [--cpu-mode split|shared] [--generator xdp|pktgen] [--vnetctl PATH]

Builds each topology in fresh namespaces for vnet, kernel macvlan (bridge
mode), the Linux bridge (static FDB) and the floor (a bare redirect, no
lookup), and vnet's ipvlan family (vnet-ipvlan: ports by IP sharing the
uplink's MAC; this kernel's ipvlan is looked for and reported, never
measured), drives frames with vnet-pktgen's XDP live-frames generator from the
external namespace (or from inside c1 for port-originated paths), counts the
frames delivered at the receiver's tc ingress, and prints the median of N
interleaved repetitions with the vnet/peer ratio computed run by run.
  --quick          < 60 s: 1 repetition of 0.5 s, 64-byte frames, 1 and 100
                   MACs and IPs, 1 s of TCP (the test suite's mode)
  --reps N         repetitions per case (default 5)
  --duration S     seconds per repetition (default 2)
  --paths LIST     wire-port,port-port,port-wire,broadcast,unknown,macs,ips
                   (default all); ips: vnet-ipvlan wire->port with N addresses
                   in vnet_ips, destination IPs rotating over all
  --sizes LIST     frame sizes (default 64,1500)
  --macs LIST      MAC table sizes (default 1,100,10000,100000)
  --ips LIST       IP table sizes for ips (default 1,100,10000,100000)
  --systems LIST   only these: vnet,vnet-tc,vnet-ipvlan,macvlan,bridge,floor,floor-tc
                   (e.g. to profile one system while it runs)
  --no-tcp         skip iperf3 throughput and ping latency
  --cpu-mode M     split (default): generator on CPU 0, the uplink's NAPI
                   thread (threaded NAPI) pinned to CPU 1; shared: all on CPU 0.
                   Port-originated paths always run shared (see the doc).
  --generator G    xdp (default): vnet-pktgen, XDP live frames; pktgen: the
                   kernel's pktgen where /proc/net/pktgen exists (driven in the
                   generator's namespace, kpktgend on the generator's CPU);
                   without it, says so and uses vnet-pktgen
  --json FILE      write every run, the medians and the target checks
  --plot FILE      PNG of pps per path per system (gnuplot; default: the
                   --json name with .png)
)";

struct Config {
  bool quick = false;
  int reps = 5;
  double duration = 2.0;
  std::vector<std::string> paths = {"wire-port", "port-port", "port-wire", "broadcast", "unknown", "macs", "ips"};
  std::vector<std::uint32_t> sizes = {64, 1500};
  std::vector<std::uint32_t> macs = {1, 100, 10000, 100000};
  std::vector<std::uint32_t> ips = {1, 100, 10000, 100000};
  std::vector<std::string> systems;  // empty: all
  bool tcp = true;
  double tcp_seconds = 3;
  int ping_count = 200;
  bool split = true;
  int gen_cpu = 0, rx_cpu = 1;
  std::string vnetctl;
  bool kernel_pktgen = false;  // --generator pktgen and /proc/net/pktgen exists
  std::string json_path, plot_path;
  std::string command;
  std::uint32_t macvlan_max_macs = 100;
};

struct Variant {
  System system;
  std::uint32_t macs = 0;  // 0: not a table-size case
  std::uint32_t ips = 0;   // vnet_ips entries (the ips case); 0: not one
  std::string label() const {
    if (macs) return absl::StrCat(SystemName(system), "/", macs);
    if (ips) return absl::StrCat(SystemName(system), "/", ips);
    return std::string(SystemName(system));
  }
};

struct Case {
  std::string path;  // wire->port, port->port, port->wire, broadcast, unknown, macs, ips
  std::uint32_t size = 64;
  std::vector<Variant> variants;
  bool from_port() const { return path == "port->port" || path == "port->wire"; }
  std::string label() const { return absl::StrCat(path, " ", size, "B"); }
};

struct RunResult {
  double pps = 0;           // the case's metric: delivered (absorbed for unknown)
  double delivered_pps = 0; // at the receivers' tc ingress (per port for broadcast)
  double offered_pps = 0;   // frames the generator transmitted
  double accepted_pps = 0;  // frames the first device's ring took (the rest: ring full)
  double drop_pct = 0;      // 1 - delivered/offered (for unknown: 1 - accepted/offered)
  std::uint64_t vnet_unknown_drops = 0;
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

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

std::string Mpps(double pps) { return absl::StrFormat("%.3f", pps / 1e6); }

// ---- progress -----------------------------------------------------------------

bool g_tty = false;
void Progress(const std::string& line) {
  if (g_tty) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}
void ProgressDone() {
  if (g_tty) std::fprintf(stderr, "\r\033[K");
}

// ---- counters ------------------------------------------------------------------

struct XmitStats {
  std::uint64_t ok = 0, errors = 0;
};

// veth's ethtool counters for frames transmitted by XDP (the generator's):
// xdp_xmit went into the peer's ring, xdp_xmit_errors found it full.
XmitStats ReadXmit(const Device& dev) {
  XmitStats s;
  auto out = Exec({"ip", "netns", "exec", dev.netns, "ethtool", "-S", dev.name}, 20);
  for (absl::string_view line : absl::StrSplit(out.output, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, absl::MaxSplits(':', 1));
    std::uint64_t v = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(kv.second), &v)) continue;
    if (absl::EndsWith(kv.first, "_xdp_xmit")) s.ok += v;
    if (absl::EndsWith(kv.first, "_xdp_xmit_errors")) s.errors += v;
  }
  return s;
}

// ---- one pps case ------------------------------------------------------------------

struct Live {
  Variant variant;
  std::unique_ptr<Topology> topo;
  std::vector<Sink*> sinks;
  FrameSpec frame;
  Device gen_dev;
  // Which generator drives this variant: "vnet-pktgen" or "pktgen" (the
  // kernel's), and why not pktgen when it was asked for and cannot.
  std::string generator = "vnet-pktgen";
  std::string generator_note;
  KernelPktgenRequest kreq;
  std::string table_note;
  std::vector<RunResult> runs;
};

const MacAddress kMacBase = *MacAddress::Parse("02:be:00:00:00:00");
const MacAddress kUnknownBase = *MacAddress::Parse("02:dd:00:00:00:00");
// The ips case's addresses: 10.0.0.0 + 0..N-1, away from the topology's
// 198.18.0.0/24.
constexpr std::uint32_t kIpBase = 0x0a000000;

absl::Status Setup(const Case& c, Live& l, const Config& cfg, const std::string& tag) {
  TopoOptions o;
  o.ports = c.path == "broadcast" ? 4 : 2;
  o.unknown_drop = c.path == "unknown";
  o.injector = c.from_port();
  o.threaded_napi = cfg.split && !c.from_port();
  o.napi_cpu = cfg.rx_cpu;
  VNET_ASSIGN_OR_RETURN(l.topo, Topology::Build(l.variant.system, o, cfg.vnetctl, tag));
  Topology& t = *l.topo;
  FrameSpec f;
  f.size = c.size;
  f.proto = Proto::kUdp;
  if (c.from_port()) {
    l.gen_dev = t.injector();
    f.src = t.container(0).mac;
    f.src4.s_addr = htonl(0xc612000b);  // 198.18.0.11
  } else {
    l.gen_dev = t.wire();
    f.src = t.wire().mac;
  }
  bool is_floor = IsFloor(l.variant.system);
  // vnet-ipvlan: every port shares the uplink's MAC; frames go to it and the
  // destination IP picks the port.
  const bool ipvlan = l.variant.system == System::kVnetIpvlan;
  FloorKind wire_floor = l.variant.system == System::kFloorTc ? FloorKind::kTcPeer : FloorKind::kXdp;
  if (c.path == "ips") {
    if (!ipvlan) return absl::InvalidArgumentError("the ips case is vnet-ipvlan's");
    f.dst = t.uplink().mac;
    VNET_ASSIGN_OR_RETURN(Sink * s, t.AddSink(t.container(0)));
    l.sinks.push_back(s);
    VNET_ASSIGN_OR_RETURN(l.table_note, t.FillIps(kIpBase, l.variant.ips));
    f.dst4.s_addr = htonl(kIpBase);
    f.dst4_count = l.variant.ips;
  } else if (c.path == "wire->port" || c.path == "macs") {
    f.dst = ipvlan ? t.uplink().mac : t.container(0).mac;
    VNET_ASSIGN_OR_RETURN(Sink * s, t.AddSink(t.container(0)));
    l.sinks.push_back(s);
    if (is_floor) VNET_RETURN_IF_ERROR(t.AddFloor(wire_floor, t.uplink(), t.host_end(0).ifindex));
    if (c.path == "macs" && !is_floor) {
      VNET_ASSIGN_OR_RETURN(l.table_note, t.FillMacs(kMacBase, l.variant.macs));
      if (l.variant.system != System::kMacvlan) {
        f.dst = kMacBase;
        f.dst_count = l.variant.macs;
      }
    }
  } else if (c.path == "port->port") {
    f.dst = ipvlan ? t.uplink().mac : t.container(1).mac;  // by IP: c2's 198.18.0.12
    f.dst4.s_addr = htonl(0xc612000c);
    VNET_ASSIGN_OR_RETURN(Sink * s, t.AddSink(t.container(1)));
    l.sinks.push_back(s);
    if (is_floor) VNET_RETURN_IF_ERROR(t.AddFloor(FloorKind::kTcPeer, t.host_end(0), t.host_end(1).ifindex));
  } else if (c.path == "port->wire") {
    f.dst = t.wire().mac;
    f.dst4.s_addr = htonl(0xc6120064);
    VNET_ASSIGN_OR_RETURN(Sink * s, t.AddSink(t.wire()));
    l.sinks.push_back(s);
    if (is_floor) VNET_RETURN_IF_ERROR(t.AddFloor(FloorKind::kTcEgress, t.host_end(0), t.uplink().ifindex));
  } else if (c.path == "broadcast") {
    f.dst = *MacAddress::Parse("ff:ff:ff:ff:ff:ff");
    f.dst4.s_addr = htonl(0xc61200ff);
    for (int i = 0; i < o.ports; ++i) {
      VNET_ASSIGN_OR_RETURN(Sink * s, t.AddSink(t.container(i)));
      l.sinks.push_back(s);
    }
  } else if (c.path == "unknown") {
    f.dst = kUnknownBase;
    f.dst_count = 4096;
    // Flood copies (bridge) are counted where they land, for the record.
    VNET_ASSIGN_OR_RETURN(Sink * s, t.AddSink(t.container(0)));
    l.sinks.push_back(s);
  }
  l.frame = f;
  if (cfg.kernel_pktgen) {
    auto req = PktgenRequestFromFrame(l.gen_dev.name, f, cfg.gen_cpu);
    if (req.ok()) {
      l.kreq = *req;
      l.generator = "pktgen";
    } else {
      l.generator_note = absl::StrCat("vnet-pktgen here: ", req.status().message());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RunResult> MeasureOnce(const Case& c, Live& l, const Config& cfg, double duration) {
  std::vector<std::uint64_t> before;
  for (Sink* s : l.sinks) before.push_back(s->Packets());
  const bool kernel = l.generator == "pktgen";
  XmitStats x0 = kernel ? XmitStats{} : ReadXmit(l.gen_dev);
  std::uint64_t u0 = IsVnet(l.variant.system) ? l.topo->VnetUnknownDrops() : 0;

  // offered: frames the generator tried to send; accepted: those the first
  // device's ring took; secs: the generator's time for them.
  std::uint64_t offered = 0, accepted = 0;
  double secs = 0;
  if (kernel) {
    // The kernel's pktgen, in the generator's netns: kpktgend_<gen_cpu>
    // sends; "sent" counts what veth took, "errors" what found its peer's
    // ring full (NET_XMIT_DROP).
    absl::StatusOr<KernelPktgenRun> run = absl::UnknownError("pktgen did not run");
    std::thread gen([&] { run = RunKernelPktgen(l.gen_dev.netns, l.kreq, duration, &g_stop); });
    gen.join();
    if (!run.ok()) return run.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the rings drain
    offered = run->offered();
    accepted = run->sent;
    secs = run->seconds > 0 ? run->seconds : duration;
  }
  GenOptions g;
  g.netns = l.gen_dev.netns;
  g.dev = l.gen_dev.name;
  g.frame = l.frame;
  g.duration = duration;
  g.cpu = cfg.gen_cpu;
  if (!kernel) {
    absl::StatusOr<GenResult> result = absl::UnknownError("generator did not run");
    std::thread gen([&] {
      setpriority(PRIO_PROCESS, 0, -20);  // this thread only (Linux)
      result = RunGenerator(g, &g_stop);
    });
    gen.join();
    if (!result.ok()) return result.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the rings drain
    XmitStats x1 = ReadXmit(l.gen_dev);
    offered = result->frames;
    accepted = x1.ok - x0.ok;
    // Per second of transmission (see GenResult::busy_seconds).
    secs = result->busy_seconds > 0 ? result->busy_seconds : result->seconds;
  }
  if (!(secs > 0)) return absl::InternalError(absl::StrCat(l.generator, ": no transmission time reported"));

  std::uint64_t delivered = 0;
  for (std::size_t i = 0; i < l.sinks.size(); ++i) delivered += l.sinks[i]->Packets() - before[i];
  RunResult r;
  double per_port = l.sinks.empty() ? 0 : static_cast<double>(delivered) / l.sinks.size();
  r.offered_pps = offered / secs;
  r.delivered_pps = per_port / secs;
  r.accepted_pps = accepted / secs;
  if (IsVnet(l.variant.system)) r.vnet_unknown_drops = l.topo->VnetUnknownDrops() - u0;
  if (c.path == "unknown") {
    r.pps = r.accepted_pps;
    r.drop_pct = offered ? 100.0 * (1 - static_cast<double>(accepted) / offered) : 0;
  } else {
    r.pps = r.delivered_pps;
    r.drop_pct = offered ? 100.0 * (1 - per_port / offered) : 0;
  }
  return r;
}

std::vector<std::string> g_table;  // lines of the final table

json RunCase(const Case& c, const Config& cfg, int index, int total, int& seq) {
  std::vector<Live> lives;
  json out{{"path", c.path}, {"size", c.size}, {"cpu_mode", (cfg.split && !c.from_port()) ? "split" : "shared"}};
  for (const auto& v : c.variants) {
    Live l;
    l.variant = v;
    lives.push_back(std::move(l));
  }
  auto cleanup = [&] {
    for (auto& l : lives) l.topo.reset();
  };
  for (auto& l : lives) {
    if (g_stop) break;
    Progress(absl::StrFormat("[%d/%d] %s: building %s", index, total, c.label(), l.variant.label()));
    std::string tag = absl::StrCat("vb", ::getpid() % 100000, "n", ++seq);
    absl::Status st = Setup(c, l, cfg, tag);
    if (!st.ok()) {
      ProgressDone();
      std::fprintf(stderr, "vnet-bench: %s %s: %s\n", c.label().c_str(), l.variant.label().c_str(),
                   std::string(st.message()).c_str());
      l.topo.reset();
      l.runs.clear();
      out["errors"][l.variant.label()] = std::string(st.message());
    }
  }
  // The generator per case (and per system, should they differ).
  {
    std::set<std::string> used;
    for (const auto& l : lives) {
      if (!l.topo) continue;
      used.insert(l.generator);
      if (!l.generator_note.empty()) {
        ProgressDone();
        std::fprintf(stderr, "vnet-bench: %s %s: %s\n", c.label().c_str(), l.variant.label().c_str(),
                     l.generator_note.c_str());
        out["generator_note"][l.variant.label()] = l.generator_note;
      }
    }
    out["generator"] = used.size() == 1 ? *used.begin() : used.empty() ? std::string("none") : std::string("mixed");
  }
  // Warm up (ARP-free, but caches, page pools and learning), then interleave.
  for (auto& l : lives)
    if (l.topo && !g_stop) (void)MeasureOnce(c, l, cfg, 0.2);
  for (int rep = 1; rep <= cfg.reps && !g_stop; ++rep) {
    for (auto& l : lives) {
      if (!l.topo || g_stop) continue;
      Progress(absl::StrFormat("[%d/%d] %s: rep %d/%d %s", index, total, c.label(), rep, cfg.reps, l.variant.label()));
      auto r = MeasureOnce(c, l, cfg, cfg.duration);
      if (!r.ok()) {
        ProgressDone();
        std::fprintf(stderr, "vnet-bench: %s %s: %s\n", c.label().c_str(), l.variant.label().c_str(),
                     std::string(r.status().message()).c_str());
        out["errors"][l.variant.label()] = std::string(r.status().message());
        l.topo.reset();
        continue;
      }
      l.runs.push_back(*r);
    }
  }
  Progress(absl::StrFormat("[%d/%d] %s: tearing down", index, total, c.label()));
  cleanup();
  ProgressDone();

  json systems = json::object();
  std::map<std::string, const Live*> by_label;
  for (const auto& l : lives) {
    by_label[l.variant.label()] = &l;
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
  out["systems"] = systems;

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
  for (const auto& l : lives) {
    if (!IsVnet(l.variant.system)) continue;
    if (l.variant.system == System::kVnetIpvlan) {
      // No kernel ipvlan here: vnet's ipvlan family against vnet's MAC
      // demultiplexing and the floor.
      ratio(l.variant.label(), "vnet");
      ratio(l.variant.label(), "floor");
      continue;
    }
    for (const auto& p : lives)
      if (!IsVnet(p.variant.system) && p.variant.macs == l.variant.macs) ratio(l.variant.label(), p.variant.label());
  }
  if (c.path == "macs" || c.path == "ips") {
    for (const auto& l : lives)
      if (l.variant.macs > 1 || l.variant.ips > 1) {
        std::string base = absl::StrCat(SystemName(l.variant.system), "/1");
        if (by_label.count(base)) ratio(l.variant.label(), base);
      }
  }
  out["ratios"] = ratios;

  // Table rows.
  for (const auto& l : lives) {
    const json& s = systems[l.variant.label()];
    std::string med = s["pps"]["median"].is_null() ? "n/a" : Mpps(s["pps"]["median"].get<double>());
    std::string spread = s["pps"].contains("spread_pct") ? absl::StrFormat("%.1f%%", s["pps"]["spread_pct"].get<double>()) : "-";
    std::string drop = s["drop_pct"]["median"].is_null() ? "-" : absl::StrFormat("%.1f%%", s["drop_pct"]["median"].get<double>());
    std::string offered = s["offered_pps"]["median"].is_null() ? "-" : Mpps(s["offered_pps"]["median"].get<double>());
    g_table.push_back(absl::StrFormat("%-12s %5u  %-18s %10s %8s %10s %7s", c.path, c.size, l.variant.label(), med,
                                      spread, offered, drop));
  }
  for (auto it = ratios.begin(); it != ratios.end(); ++it) {
    if (it.value()["median"].is_null()) continue;
    g_table.push_back(absl::StrFormat("%-12s %5s  %-34s %.2fx (runs %s)", "", "", it.key(),
                                      it.value()["median"].get<double>(),
                                      absl::StrJoin(it.value()["runs"].get<std::vector<double>>(), " ",
                                                    [](std::string* o, double d) { absl::StrAppendFormat(o, "%.2f", d); })));
  }
  return out;
}

// ---- TCP throughput and latency --------------------------------------------------------

std::optional<double> IperfGbps(const std::string& client_ns, const std::string& dst, double secs, int cpu) {
  auto r = Exec({"taskset", "-c", absl::StrCat(cpu), "ip", "netns", "exec", client_ns, "iperf3", "-c", dst, "-t",
                 absl::StrFormat("%g", secs), "-J"},
                secs + 15);
  if (r.status != 0) return std::nullopt;
  auto j = json::parse(r.output, nullptr, false);
  if (j.is_discarded() || !j.contains("end")) return std::nullopt;
  try {
    return j["end"]["sum_received"]["bits_per_second"].get<double>() / 1e9;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<double> PingAvgUs(const std::string& ns, const std::string& dst, int count) {
  auto r = Exec({"ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", absl::StrCat(count), "-i", "0.01", "-W", "1", dst},
                count * 0.05 + 15);
  auto at = r.output.find("rtt min/avg/max/mdev = ");
  if (at == std::string::npos) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(r.output.substr(at + 23), '/');
  double avg = 0;
  if (parts.size() < 2 || !absl::SimpleAtod(parts[1], &avg)) return std::nullopt;
  return avg * 1000;
}

json RunTcp(const Config& cfg, int& seq) {
  struct Sys {
    System system;
    std::unique_ptr<Topology> topo;
    std::vector<std::string> pidfiles;
    std::map<std::string, std::vector<double>> gbps, lat;
  };
  std::vector<Sys> systems;
  systems.push_back({System::kVnet, nullptr, {}, {}, {}});
  systems.push_back({System::kMacvlan, nullptr, {}, {}, {}});  // [0] vnet, [1] macvlan: the ratio below
  json out{{"tcp_seconds", cfg.tcp_seconds}, {"ping_count", cfg.ping_count}};
  auto stop_servers = [&](Sys& s) {
    for (const auto& f : s.pidfiles) {
      std::ifstream in(f);
      pid_t pid = 0;
      if (in >> pid && pid > 0) {
        std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
        std::string name;
        std::getline(comm, name);
        if (name == "iperf3") ::kill(pid, SIGTERM);  // the server we started
      }
      ::unlink(f.c_str());
    }
    s.pidfiles.clear();
  };
  for (auto& s : systems) {
    if (g_stop) break;
    Progress(absl::StrFormat("[tcp] building %s", SystemName(s.system)));
    TopoOptions o;
    o.ports = 2;
    auto t = Topology::Build(s.system, o, cfg.vnetctl, absl::StrCat("vb", ::getpid() % 100000, "n", ++seq));
    if (!t.ok()) {
      out["errors"][SystemName(s.system)] = std::string(t.status().message());
      continue;
    }
    s.topo = std::move(*t);
    // Servers on the receive CPU, clients on the generator's.
    auto server = [&](const std::string& ns, const std::string& ip) {
      std::string pidfile = absl::StrCat("/tmp/vnet-bench-iperf3-", ::getpid(), "-", ns, ".pid");
      s.pidfiles.push_back(pidfile);
      Exec({"taskset", "-c", absl::StrCat(cfg.rx_cpu), "ip", "netns", "exec", ns, "iperf3", "-s", "-D", "-B", ip, "-I",
            pidfile});
    };
    server(s.topo->container(0).netns, "198.18.0.11");
    server(s.topo->container(1).netns, "198.18.0.12");
    server(s.topo->wire().netns, "198.18.0.100");
    // Reachability (ARP) before timing anything.
    for (int i = 0; i < 20; ++i) {
      bool a = PingAvgUs(s.topo->container(0).netns, "198.18.0.12", 1).has_value();
      bool b = PingAvgUs(s.topo->container(0).netns, "198.18.0.100", 1).has_value();
      if (a && b) break;
    }
  }
  for (int rep = 1; rep <= cfg.reps && !g_stop; ++rep) {
    for (auto& s : systems) {
      if (!s.topo || g_stop) continue;
      Progress(absl::StrFormat("[tcp] rep %d/%d %s", rep, cfg.reps, SystemName(s.system)));
      const std::string c1 = s.topo->container(0).netns, ext = s.topo->wire().netns;
      auto add = [&](std::map<std::string, std::vector<double>>& m, const std::string& k, std::optional<double> v) {
        m[k];
        if (v) m[k].push_back(*v);
      };
      add(s.gbps, "port->port", IperfGbps(c1, "198.18.0.12", cfg.tcp_seconds, cfg.gen_cpu));
      add(s.gbps, "port->ext", IperfGbps(c1, "198.18.0.100", cfg.tcp_seconds, cfg.gen_cpu));
      add(s.gbps, "ext->port", IperfGbps(ext, "198.18.0.11", cfg.tcp_seconds, cfg.gen_cpu));
      add(s.lat, "port->port", PingAvgUs(c1, "198.18.0.12", cfg.ping_count));
      add(s.lat, "port->ext", PingAvgUs(c1, "198.18.0.100", cfg.ping_count));
    }
  }
  Progress("[tcp] tearing down");
  for (auto& s : systems) {
    stop_servers(s);
    s.topo.reset();
  }
  ProgressDone();
  json tcp = json::object(), lat = json::object();
  for (auto& s : systems) {
    for (auto& [k, v] : s.gbps) tcp[k][SystemName(s.system)] = Summary(v);
    for (auto& [k, v] : s.lat) lat[k][SystemName(s.system)] = Summary(v);
  }
  // vnet/macvlan run by run.
  for (auto& [k, v] : systems[0].gbps) {
    const auto& m = systems[1].gbps[k];
    std::vector<double> r;
    for (std::size_t i = 0; i < std::min(v.size(), m.size()); ++i)
      if (m[i] > 0) r.push_back(v[i] / m[i]);
    tcp[k]["ratio_vnet_macvlan"] = Summary(r);
  }
  out["throughput_gbps"] = tcp;
  out["latency_us"] = lat;
  for (auto it = tcp.begin(); it != tcp.end(); ++it) {
    auto med = [&](const char* sys) -> std::string {
      if (!it.value().contains(sys) || it.value()[sys]["median"].is_null()) return "n/a";
      return absl::StrFormat("%.2f", it.value()[sys]["median"].get<double>());
    };
    g_table.push_back(absl::StrFormat("tcp %-10s Gbit/s  vnet %6s  macvlan %6s  vnet/macvlan %s", it.key(),
                                      med("vnet"), med("macvlan"), med("ratio_vnet_macvlan")));
  }
  for (auto it = lat.begin(); it != lat.end(); ++it) {
    auto med = [&](const char* sys) -> std::string {
      if (!it.value().contains(sys) || it.value()[sys]["median"].is_null()) return "n/a";
      return absl::StrFormat("%.1f", it.value()[sys]["median"].get<double>());
    };
    g_table.push_back(absl::StrFormat("rtt %-10s us      vnet %6s  macvlan %6s", it.key(), med("vnet"), med("macvlan")));
  }
  return out;
}

// ---- targets, plot --------------------------------------------------------------------

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
  if (tcp.contains("throughput_gbps") && tcp["throughput_gbps"].contains("port->port") &&
      !tcp["throughput_gbps"]["port->port"]["ratio_vnet_macvlan"]["median"].is_null())
    tcp_ratio = tcp["throughput_gbps"]["port->port"]["ratio_vnet_macvlan"]["median"].get<double>();
  add("port->port TCP vnet/macvlan", tcp_ratio, 1.0);
  return out;
}

void Plot(const json& pps, const std::string& png) {
  std::string dat = png + ".dat", gp = png + ".gp";
  {
    std::ofstream f(dat);
    f << "# case vnet macvlan bridge floor vnet-tc floor-tc vnet-ipvlan\n";
    for (const auto& c : pps) {
      // One row per case and table size; columns per system.
      std::map<std::uint32_t, std::map<std::string, double>> rows;
      for (auto it = c["systems"].begin(); it != c["systems"].end(); ++it) {
        std::uint32_t macs = it.value().value("macs", 0u) + it.value().value("ips", 0u);
        const auto& med = it.value()["pps"]["median"];
        rows[macs][it.value()["system"].get<std::string>()] = med.is_null() ? 0 : med.get<double>() / 1e6;
      }
      for (auto& [macs, cols] : rows) {
        std::string label = absl::StrCat(c["path"].get<std::string>(), "-", c["size"].get<int>(), "B");
        if (macs) label = absl::StrCat(c["path"].get<std::string>(), "=", macs, "-", c["size"].get<int>(), "B");
        f << '"' << label << '"';
        for (const char* s : {"vnet", "macvlan", "bridge", "floor", "vnet-tc", "floor-tc", "vnet-ipvlan"}) f << ' ' << (cols.count(s) ? cols[s] : 0);
        f << '\n';
      }
    }
  }
  {
    std::ofstream f(gp);
    f << "set terminal pngcairo size 1400,600 noenhanced\n"
      << "set output '" << png << "'\n"
      << "set title 'vnet-bench: delivered Mpps per path (unknown: absorbed), median'\n"
      << "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
      << "set boxwidth 0.9\nset ylabel 'Mpps'\nset xtics rotate by -30 offset -1,0\nset bmargin 7\nset rmargin 6\n"
      << "set grid ytics\nset key top right\n"
      << "plot '" << dat << "' using 2:xtic(1) title 'vnet', '' using 3 title 'macvlan', "
      << "'' using 4 title 'bridge', '' using 5 title 'floor', '' using 6 title 'vnet-tc', "
      << "'' using 7 title 'floor-tc', '' using 8 title 'vnet-ipvlan'\n";
  }
  auto r = Exec({"gnuplot", gp}, 60);
  if (r.status != 0) {
    // pngcairo may be missing (gnuplot-nox has it; a minimal build may not).
    Exec({"sed", "-i", "s/pngcairo/png/", gp});
    r = Exec({"gnuplot", gp}, 60);
  }
  if (r.status != 0)
    std::fprintf(stderr, "vnet-bench: no plot (gnuplot: %s); install gnuplot-nox\n", r.output.c_str());
  ::unlink(dat.c_str());
  ::unlink(gp.c_str());
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

std::string FindVnetctl() {
  if (const char* env = std::getenv("VNETCTL"); env && *env) return env;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    self[n] = 0;
    std::string dir(self);
    dir = dir.substr(0, dir.rfind('/'));
    for (const std::string& c : {dir + "/vnetctl", dir + "/../vnetctl"})
      if (::access(c.c_str(), X_OK) == 0) return c;
  }
  return "vnetctl";
}

}  // namespace
}  // namespace vnet::bench

int main(int argc, char** argv) {
  using namespace vnet::bench;
  Config cfg;
  std::string generator = "xdp";
  bool reps_set = false, duration_set = false;
  cfg.command = absl::StrJoin(std::vector<std::string>(argv, argv + argc), " ");
  auto list_u32 = [](const char* s, std::vector<std::uint32_t>& out) {
    out.clear();
    for (absl::string_view p : absl::StrSplit(s, ',', absl::SkipEmpty())) {
      std::uint32_t v = 0;
      if (!absl::SimpleAtoi(p, &v) || v == 0) return false;
      out.push_back(v);
    }
    return !out.empty();
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "vnet-bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    auto bad = [&](const char* v) {
      std::fprintf(stderr, "vnet-bench: %s %s: invalid value\n", a.c_str(), v);
      std::exit(2);
    };
    if (a == "-h" || a == "--help" || a == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--quick") {
      cfg.quick = true;
    } else if (a == "--reps") {
      const char* v = value();
      if (!absl::SimpleAtoi(v, &cfg.reps) || cfg.reps < 1) bad(v);
      reps_set = true;
    } else if (a == "--duration") {
      const char* v = value();
      if (!absl::SimpleAtod(v, &cfg.duration) || cfg.duration <= 0) bad(v);
      duration_set = true;
    } else if (a == "--json") {
      cfg.json_path = value();
    } else if (a == "--plot") {
      cfg.plot_path = value();
    } else if (a == "--paths") {
      cfg.paths = absl::StrSplit(value(), ',', absl::SkipEmpty());
    } else if (a == "--sizes") {
      const char* v = value();
      if (!list_u32(v, cfg.sizes)) bad(v);
    } else if (a == "--macs") {
      const char* v = value();
      if (!list_u32(v, cfg.macs)) bad(v);
    } else if (a == "--ips") {
      const char* v = value();
      if (!list_u32(v, cfg.ips)) bad(v);
      for (auto n : cfg.ips)
        if (n > 131072 - 16) bad(v);  // VNET_MAX_IPS, less the ports' own addresses
    } else if (a == "--systems") {
      cfg.systems = absl::StrSplit(value(), ',', absl::SkipEmpty());
    } else if (a == "--no-tcp") {
      cfg.tcp = false;
    } else if (a == "--cpu-mode") {
      std::string v = value();
      if (v != "split" && v != "shared") bad(v.c_str());
      cfg.split = v == "split";
    } else if (a == "--generator") {
      generator = value();
      if (generator != "xdp" && generator != "pktgen") bad(generator.c_str());
    } else if (a == "--vnetctl") {
      cfg.vnetctl = value();
    } else {
      std::fprintf(stderr, "vnet-bench: unknown argument '%s'\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (cfg.quick) {
    if (!reps_set) cfg.reps = 1;
    if (!duration_set) cfg.duration = 0.5;
    cfg.sizes = {64};
    cfg.macs = {1, 100};
    cfg.ips = {1, 100};
    cfg.tcp_seconds = 1;
    cfg.ping_count = 20;
  }
  for (const auto& p : cfg.paths)
    if (p != "wire-port" && p != "port-port" && p != "port-wire" && p != "broadcast" && p != "unknown" && p != "macs" &&
        p != "ips") {
      std::fprintf(stderr, "vnet-bench: --paths: unknown path '%s'\n", p.c_str());
      return 2;
    }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "vnet-bench: needs root (namespaces, BPF)\n");
    return 77;
  }
  if (cfg.vnetctl.empty()) cfg.vnetctl = FindVnetctl();
  if (cfg.plot_path.empty() && !cfg.json_path.empty()) {
    cfg.plot_path = cfg.json_path;
    if (absl::EndsWith(cfg.plot_path, ".json")) cfg.plot_path.resize(cfg.plot_path.size() - 5);
    cfg.plot_path += ".png";
  }
  long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu < 2) {
    cfg.split = false;
    cfg.rx_cpu = 0;
  }
  g_tty = ::isatty(2);

  std::string gen_note;
  if (KernelPktgenAvailable()) {
    cfg.kernel_pktgen = generator == "pktgen";
    gen_note = cfg.kernel_pktgen
                   ? absl::StrFormat("kernel pktgen (kpktgend_%d in the generator's namespace; each case's "
                                     "\"generator\" says where vnet-pktgen stood in)",
                                     cfg.gen_cpu)
                   : "vnet-pktgen (XDP live frames)";
  } else {
    gen_note = "vnet-pktgen (XDP live frames); kernel pktgen is unavailable (no /proc/net/pktgen)";
    if (generator == "pktgen")
      std::fprintf(stderr, "vnet-bench: kernel pktgen is unavailable on this machine (no /proc/net/pktgen): "
                           "using vnet-pktgen, the XDP live-frames generator\n");
  }

  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);

  // Cases.
  auto want = [&](const char* p) { return std::find(cfg.paths.begin(), cfg.paths.end(), p) != cfg.paths.end(); };
  auto want_system = [&](System s) {
    return cfg.systems.empty() ||
           std::find(cfg.systems.begin(), cfg.systems.end(), SystemName(s)) != cfg.systems.end();
  };
  const std::vector<System> all = {System::kVnet, System::kMacvlan, System::kBridge, System::kFloor};
  const std::vector<System> no_floor = {System::kVnet, System::kMacvlan, System::kBridge};
  std::vector<Case> cases;
  auto add = [&](const char* key, const char* path, const std::vector<System>& systems) {
    if (!want(key)) return;
    for (auto size : cfg.sizes) {
      Case c{path, size, {}};
      for (auto s : systems)
        if (want_system(s)) c.variants.push_back({s, 0});
      if (!c.variants.empty()) cases.push_back(c);
    }
  };
  // wire->port also runs vnet's tc path and the tc floor (redirect_peer):
  // the data behind the doc's proposal for the wire->port path.
  add("wire-port", "wire->port",
      {System::kVnet, System::kMacvlan, System::kBridge, System::kFloor, System::kVnetTc, System::kFloorTc,
       System::kVnetIpvlan});
  add("port-port", "port->port",
      {System::kVnet, System::kMacvlan, System::kBridge, System::kFloor, System::kVnetIpvlan});
  add("port-wire", "port->wire", all);
  add("broadcast", "broadcast", no_floor);
  add("unknown", "unknown", no_floor);
  if (want("macs")) {
    Case c{"macs", 64, {}};
    for (auto s : {System::kVnet, System::kBridge, System::kMacvlan})
      for (auto n : cfg.macs)
        if ((s != System::kMacvlan || n <= cfg.macvlan_max_macs) && want_system(s)) c.variants.push_back({s, n});
    if (!c.variants.empty()) cases.push_back(c);
  }
  if (want("ips") && want_system(System::kVnetIpvlan)) {
    Case c{"ips", 64, {}};
    for (auto n : cfg.ips) c.variants.push_back({System::kVnetIpvlan, 0, n});
    cases.push_back(c);
  }
  // Kernel ipvlan, for the record: vnet-bench never measures it (the
  // vnet-ipvlan rows are set against vnet and the floor), and this machine
  // usually has no ipvlan driver at all.
  bool any_ipvlan = false;
  for (const auto& c : cases)
    for (const auto& v : c.variants) any_ipvlan |= v.system == System::kVnetIpvlan;
  std::string ipvlan_note;
  if (any_ipvlan) {
    std::string why;
    bool have = KernelIpvlanAvailable(absl::StrCat("vb", ::getpid() % 100000, "n0"), &why);
    ipvlan_note = have ? "kernel ipvlan is available but not measured by vnet-bench: vnet-ipvlan rows are "
                         "compared with vnet (MAC demultiplexing) and the floor"
                       : absl::StrCat("no kernel ipvlan on this machine (", why.empty() ? "no driver" : why,
                                      "): nothing to compare vnet-ipvlan with but vnet (MAC demultiplexing) "
                                      "and the floor");
  }

  utsname u{};
  ::uname(&u);
  char date[64];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  json doc{{"kernel", u.release},
           {"date", date},
           {"command", cfg.command},
           {"cpus", ncpu},
           {"generator", gen_note},
           {"generator_requested", generator},
           {"generator_used", cfg.kernel_pktgen ? "pktgen" : "vnet-pktgen"},
           {"reps", cfg.reps},
           {"duration_s", cfg.duration},
           {"quick", cfg.quick},
           {"cpu_mode", cfg.split ? "split" : "shared"},
           {"cpu_layout", cfg.split ? absl::StrFormat("generator on CPU %d; the uplink's NAPI thread (and "
                                                      "all the softirq work it triggers) on CPU %d "
                                                      "(wire-originated paths); port-originated paths: all "
                                                      "on CPU %d",
                                                      cfg.gen_cpu, cfg.rx_cpu, cfg.gen_cpu)
                                    : absl::StrFormat("generator and datapath on CPU %d", cfg.gen_cpu)},
           {"loadavg_before", ReadFirstLine("/proc/loadavg")}};
  if (any_ipvlan) doc["kernel_ipvlan"] = ipvlan_note;
  std::fprintf(stderr, "vnet-bench: %s, kernel %s, %ld CPUs, %d reps x %.1f s; generator: %s\n",
               cfg.quick ? "quick mode" : "full run", u.release, ncpu, cfg.reps, cfg.duration, gen_note.c_str());

  json pps = json::array();
  int seq = 0;
  for (std::size_t i = 0; i < cases.size() && !g_stop; ++i)
    pps.push_back(RunCase(cases[i], cfg, static_cast<int>(i + 1), static_cast<int>(cases.size()), seq));
  doc["pps"] = pps;
  json tcp = json::object();
  if (cfg.tcp && !g_stop) tcp = RunTcp(cfg, seq);
  doc["tcp"] = tcp;
  doc["targets"] = Targets(pps, tcp);
  doc["loadavg_after"] = ReadFirstLine("/proc/loadavg");
  doc["complete"] = !g_stop.load();
  CleanupAll();

  std::printf("kernel %s, %ld CPUs, %s, median of %d x %.1f s; %s\n", u.release, ncpu, date, cfg.reps, cfg.duration,
              gen_note.c_str());
  std::printf("load average before/after: %s / %s\n", doc["loadavg_before"].get<std::string>().c_str(),
              doc["loadavg_after"].get<std::string>().c_str());
  if (any_ipvlan)
    std::printf("vnet-ipvlan: attach --type ipvlan --ipvlan-mode l2, ports by --ip; %s\n", ipvlan_note.c_str());
  std::printf("\n");
  std::printf("%-12s %5s  %-18s %10s %8s %10s %7s\n", "path", "size", "system", "Mpps", "spread", "offered", "drops");
  for (const auto& line : g_table) std::printf("%s\n", line.c_str());
  std::printf("\ntargets (DESIGN.md, ratios in one run):\n");
  for (const auto& t : doc["targets"]) {
    std::string m = t["measured"].is_null() ? "n/a" : absl::StrFormat("%.2fx", t["measured"].get<double>());
    std::string met = t["met"].is_null() ? "not measured" : (t["met"].get<bool>() ? "met" : "MISSED");
    std::printf("  %-34s %8s  (>= %.1fx)  %s\n", t["target"].get<std::string>().c_str(), m.c_str(),
                t["required"].get<double>(), met.c_str());
  }
  if (!cfg.json_path.empty()) {
    std::ofstream f(cfg.json_path);
    f << doc.dump(2) << '\n';
  }
  if (!cfg.plot_path.empty() && !pps.empty()) Plot(pps, cfg.plot_path);
  if (g_stop) {
    std::fprintf(stderr, "vnet-bench: interrupted; everything it built has been removed\n");
    return 130;
  }
  return 0;
}
