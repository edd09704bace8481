#include "bench/flood.h"

#include <arpa/inet.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "bench/exec.h"
#include "bench/flood_topology.h"
#include "bench/pktgen.h"
#include "bench/progress.h"
#include "bench/teardown.h"
#include "base/errors.h"

namespace vnet::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Every port must receive this share of the offered frames for (a).
constexpr double kEnough = 0.99;
// (a)'s search: geometric bisection between these bounds and the full rate.
constexpr double kLowestRate = 200;
constexpr int kSearchSteps = 7;
// Under a rate, frames per generator call: a call is a burst at full speed,
// and a NIC's ring (256 here, veth's) is what absorbs a burst.
constexpr std::uint32_t kBurst = 128;

// Kernel CPU seconds (system + irq + softirq) of every CPU so far: where the
// switching happens, without the user time of whatever else the machine runs.
double KernelCpuSeconds() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
  f >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq;
  return static_cast<double>(system + irq + softirq) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double ThreadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// The generator in a thread of its own at the highest priority; `cpu_s` gets
// that thread's CPU time.
absl::StatusOr<GenResult> Generate(const GenOptions& g, double* cpu_s) {
  absl::StatusOr<GenResult> result = absl::UnknownError("generator did not run");
  std::thread gen([&] {
    setpriority(PRIO_PROCESS, 0, -20);  // this thread only (Linux)
    double t0 = ThreadCpuSeconds();
    result = RunGenerator(g, &g_stop);
    if (cpu_s) *cpu_s = ThreadCpuSeconds() - t0;
  });
  gen.join();
  return result;
}

struct Trial {
  double requested = 0;  // frames/s asked of the generator (0: full rate)
  std::uint64_t frames = 0;
  double seconds = 0;    // the generator's wall time
  std::vector<std::uint64_t> got;
  double kernel_cpu_s = 0;
  std::uint64_t copies() const {
    std::uint64_t s = 0;
    for (auto v : got) s += v;
    return s;
  }
  double offered_pps() const { return seconds > 0 ? frames / seconds : 0; }
  double min_fraction() const {
    if (!frames || got.empty()) return 0;
    return static_cast<double>(*std::min_element(got.begin(), got.end())) / frames;
  }
  double mean_fraction() const { return frames && !got.empty() ? static_cast<double>(copies()) / got.size() / frames : 0; }
  json ToJson() const {
    return json{{"requested_pps", requested},   {"offered_pps", offered_pps()},   {"frames", frames},
                {"seconds", seconds},           {"copies", copies()},             {"min_fraction", min_fraction()},
                {"mean_fraction", mean_fraction()}};
  }
};

absl::StatusOr<Trial> RunTrial(FloodTopology& t, GenOptions g, double rate, bool subtract_generator) {
  Trial r;
  r.requested = rate;
  g.rate = static_cast<std::uint64_t>(rate);
  g.max_burst = kBurst;
  VNET_ASSIGN_OR_RETURN(std::vector<std::uint64_t> before, t.RxPackets());
  double k0 = KernelCpuSeconds(), gen_cpu = 0;
  VNET_ASSIGN_OR_RETURN(GenResult res, Generate(g, &gen_cpu));
  // Let the rings, backlogs and macvlan's broadcast queue drain.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  double k1 = KernelCpuSeconds();
  VNET_ASSIGN_OR_RETURN(std::vector<std::uint64_t> after, t.RxPackets());
  r.frames = res.frames;
  r.seconds = res.seconds;
  for (std::size_t i = 0; i < after.size(); ++i) r.got.push_back(after[i] - before[i]);
  r.kernel_cpu_s = std::max(0.0, k1 - k0 - (subtract_generator ? gen_cpu : 0));
  return r;
}

FrameSpec FloodFrame(const std::string& path, const MacAddress& src) {
  FrameSpec f;
  f.size = 64;
  f.proto = Proto::kUdp;
  f.src = src;
  if (path == "multicast") {
    // All-hosts: every port with IPv4 up is a member (macvlan filters
    // multicast by membership; vnet and the bridge flood it).
    f.dst = *MacAddress::Parse("01:00:5e:00:00:01");
    f.dst4.s_addr = htonl(0xe0000001);
  } else {
    f.dst = *MacAddress::Parse("ff:ff:ff:ff:ff:ff");
    f.dst4.s_addr = htonl(0xc61200ff);  // 198.18.0.255
  }
  return f;
}

// (a): the highest rate at which every port gets kEnough of the frames.
absl::StatusOr<json> SearchRate(FloodTopology& t, const GenOptions& g, const Trial& full, bool subtract) {
  json trials = json::array();
  double best = 0;
  if (full.min_fraction() >= kEnough) {
    best = full.offered_pps();
  } else {
    double lo = kLowestRate, hi = std::max(full.offered_pps(), kLowestRate * 2);
    VNET_ASSIGN_OR_RETURN(Trial low, RunTrial(t, g, lo, subtract));
    trials.push_back(low.ToJson());
    if (low.min_fraction() >= kEnough) {
      best = low.offered_pps();
      for (int i = 0; i < kSearchSteps && !g_stop; ++i) {
        double mid = std::sqrt(lo * hi);
        VNET_ASSIGN_OR_RETURN(Trial m, RunTrial(t, g, mid, subtract));
        trials.push_back(m.ToJson());
        if (m.min_fraction() >= kEnough) {
          lo = mid;
          best = std::max(best, m.offered_pps());
        } else {
          hi = mid;
        }
      }
    }
  }
  return json{{"rate_pps", best}, {"copies_per_s", best * t.ports()}, {"trials", trials}};
}

// (c): unicast e0 -> e1 at full rate, alone and during a full-rate storm
// from the wire; `limit` > 0: with `fabric set --storm-limit` too (vnet).
absl::StatusOr<json> UnicastDuringStorm(FloodTopology& t, const Config& cfg, const GenOptions& storm,
                                        const Device& gi, std::uint64_t limit) {
  VNET_ASSIGN_OR_RETURN(Device e0, t.Port(0));
  VNET_ASSIGN_OR_RETURN(Device e1, t.Port(1));
  GenOptions u;
  u.netns = gi.netns;
  u.dev = gi.name;
  u.frame.size = 64;
  u.frame.proto = Proto::kUdp;
  u.frame.src = e0.mac;
  u.frame.dst = e1.mac;
  u.frame.dst4.s_addr = htonl(0xc612000c);
  u.duration = std::max(0.5, cfg.flood_trial);
  u.cpu = cfg.gen_cpu;
  auto unicast = [&](bool with_storm) -> absl::StatusOr<double> {
    std::uint64_t n0 = t.UnicastReceived();
    absl::StatusOr<GenResult> storm_result = GenResult{};
    std::thread storm_thread;
    GenOptions s = storm;
    s.rate = 0;
    s.duration = u.duration + 0.2;  // the storm outlasts the measurement
    s.cpu = cfg.split ? cfg.rx_cpu : cfg.gen_cpu;
    if (with_storm) {
      storm_thread = std::thread([&] { storm_result = Generate(s, nullptr); });
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    absl::StatusOr<GenResult> r = Generate(u, nullptr);
    if (storm_thread.joinable()) storm_thread.join();
    if (!storm_result.ok()) return storm_result.status();
    if (!r.ok()) return r.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!(r->seconds > 0)) return absl::InternalError("unicast generator: no time reported");
    return (t.UnicastReceived() - n0) / r->seconds;
  };
  json out;
  VNET_ASSIGN_OR_RETURN(double alone, unicast(false));
  VNET_ASSIGN_OR_RETURN(double stormy, unicast(true));
  out["alone_pps"] = alone;
  out["storm_pps"] = stormy;
  out["storm_ratio"] = alone > 0 ? stormy / alone : 0;
  if (limit) {
    std::string L = absl::StrCat(limit);
    absl::StatusOr<std::string> set =
        Run({cfg.vnetctl, "fabric", "set", t.fabric(), "--storm-limit", L}, 60, t.host_ns());
    if (!set.ok()) {
      out["storm_limit_error"] = absl::StrCat("storm control unavailable: ", set.status().message());
    } else {
      absl::StatusOr<double> limited = unicast(true);
      absl::Status off =
          Run({cfg.vnetctl, "fabric", "set", t.fabric(), "--storm-limit", "off"}, 60, t.host_ns()).status();
      if (!limited.ok()) return limited.status();
      if (!off.ok()) return Prefix(off, "fabric set --storm-limit off");
      out["storm_limit_pps"] = limit;
      out["storm_limited_pps"] = *limited;
      out["storm_limited_ratio"] = alone > 0 ? *limited / alone : 0;
    }
  }
  return out;
}

absl::Status ConfigureBridgeFdb(FloodTopology& t) {
  // The unicast pair's MACs, so that e0 -> e1 is not flooded as unknown.
  for (std::uint32_t i = 0; i < 2; ++i) {
    VNET_ASSIGN_OR_RETURN(Device e, t.Port(i));
    VNET_RETURN_IF_ERROR(Run({"bridge", "-n", t.host_ns(), "fdb", "replace", e.mac.ToString(), "dev",
                              absl::StrCat("vh", i), "master", "static"})
                             .status());
  }
  return absl::OkStatus();
}

// A column of the tables: a system, and for vnet-backlog, vnet with its
// ports' host ends' TSO back on (copies through the shared backlog).
struct FloodSystem {
  System system;
  bool host_tso = false;
  std::string name;
};

json RunSystem(const Config& cfg, const std::string& path, const FloodSystem& fs, int& seq) {
  const System system = fs.system;
  json out{{"sizes", json::array()}};
  const std::string tag = absl::StrCat("vb", ::getpid() % 100000, "n", ++seq);
  const std::string label = absl::StrCat("[flood ", path, "] ", fs.name);
  auto fail = [&](const absl::Status& st, const std::string& step) {
    ProgressDone();
    std::fprintf(stderr, "vnet-bench: flood %s %s: %s: %s\n", path.c_str(), fs.name.c_str(), step.c_str(),
                 std::string(st.message()).c_str());
    out["error"] = absl::StrCat(step, ": ", st.message());
    return out;
  };
  Progress(absl::StrCat(label, ": building"));
  absl::StatusOr<std::unique_ptr<FloodTopology>> built =
      FloodTopology::Build(system, tag, cfg.split ? cfg.rx_cpu : -1, fs.host_tso);
  if (!built.ok()) return fail(built.status(), "build");
  FloodTopology& t = **built;
  const bool subtract = cfg.split;  // the flood runs on the NAPI thread's CPU, not in the generator's
  GenOptions g;
  g.netns = t.wire().netns;
  g.dev = t.wire().name;
  g.frame = FloodFrame(path, t.wire().mac);
  g.duration = cfg.flood_trial;
  g.cpu = cfg.gen_cpu;
  std::optional<Device> gi;
  for (std::uint32_t n : cfg.cp_ports) {
    if (g_stop) break;
    if (n < 2 && path == "broadcast") continue;
    Progress(absl::StrFormat("%s: %u ports: adding ports", label, n));
    auto t0 = Clock::now();
    if (absl::Status st = t.GrowTo(n); !st.ok()) return fail(st, absl::StrCat("grow to ", n, " ports"));
    json size{{"ports", n}, {"grow_s", std::chrono::duration<double>(Clock::now() - t0).count()}};
    Progress(absl::StrFormat("%s: %u ports: full rate", label, n));
    (void)RunTrial(t, g, 1000, subtract);  // warm up: learning, caches, page pools
    absl::StatusOr<Trial> full = RunTrial(t, g, 0, subtract);
    if (!full.ok()) return fail(full.status(), absl::StrCat(n, " ports: full rate"));
    std::uint64_t copies = full->copies();
    size["saturation"] = full->ToJson();
    size["saturation"]["copies_per_s"] = full->seconds > 0 ? copies / full->seconds : 0.0;
    size["saturation"]["kernel_cpu_s"] = full->kernel_cpu_s;
    size["saturation"]["cpu_ns_per_copy"] = copies ? json(full->kernel_cpu_s * 1e9 / copies) : json(nullptr);
    Progress(absl::StrFormat("%s: %u ports: searching the 99 %% rate", label, n));
    absl::StatusOr<json> a = SearchRate(t, g, *full, subtract);
    if (!a.ok()) return fail(a.status(), absl::StrCat(n, " ports: rate search"));
    size["max_rate"] = *a;
    if (path == "broadcast" && !g_stop) {
      Progress(absl::StrFormat("%s: %u ports: unicast during a storm", label, n));
      if (!gi) {
        if (system == System::kBridge)
          if (absl::Status st = ConfigureBridgeFdb(t); !st.ok()) return fail(st, "bridge fdb");
        absl::StatusOr<Device> pair = t.AddUnicastPair();
        if (!pair.ok()) return fail(pair.status(), "unicast generator");
        gi = *pair;
      }
      absl::StatusOr<json> c = UnicastDuringStorm(t, cfg, g, *gi, system == System::kVnet ? cfg.storm_limit : 0);
      if (!c.ok()) return fail(c.status(), absl::StrCat(n, " ports: unicast during a storm"));
      size["unicast"] = *c;
    }
    out["sizes"].push_back(size);
  }
  Progress(absl::StrCat(label, ": tearing down"));
  built->reset();
  ProgressDone();
  return out;
}

std::string Num(const json& v) { return v.is_number() ? absl::StrFormat("%.0f", v.get<double>()) : "n/a"; }

std::string Rate(const json& v) {
  if (!v.is_number()) return "n/a";
  double x = v.get<double>();
  if (x >= 1e6) return absl::StrFormat("%.2fM", x / 1e6);
  if (x >= 1e3) return absl::StrFormat("%.1fk", x / 1e3);
  return absl::StrFormat("%.0f", x);
}

// A pointer into `sys` itself: json::value() would return a copy, and a
// pointer into it would dangle.
const json* SizeOf(const json& sys, unsigned ports) {
  auto sizes = sys.find("sizes");
  if (sizes == sys.end() || !sizes->is_array()) return nullptr;
  for (const auto& s : *sizes)
    if (s["ports"].get<unsigned>() == ports) return &s;
  return nullptr;
}

}  // namespace

bool WantsFlood(const Config& cfg) {
  if (!cfg.ports_set || cfg.control_plane) return false;
  for (const auto& p : cfg.paths)
    if (p == "broadcast" || p == "multicast") return true;
  return false;
}

json RunFlood(const Config& cfg, int& seq) {
  json out{{"ports", cfg.cp_ports},
           {"trial_s", cfg.flood_trial},
           {"enough", kEnough},
           {"burst", kBurst},
           {"method",
            {{"topology", "wire (external netns) == up0 (host netns: vnet fabric, macvlans on up0, or br0 with "
                          "up0 and one veth per port); the ports' container ends e0..eN-1 share one netns; "
                          "bridge mode everywhere; IPv6 off"},
             {"counting", "per port: rx_packets of its container end (ip -s -j link show there)"},
             {"max_rate", "geometric bisection on the generator's rate (bursts of `burst` frames), trials of "
                          "trial_s; the highest offered rate at which every port got >= 99 % of the frames"},
             {"saturation", "the generator at full rate for trial_s: delivered copies per second of its time"},
             {"cpu", "system+irq+softirq time of every CPU (/proc/stat) over the trial and 150 ms of drain, less "
                     "the generator thread's own CPU time (split mode), per delivered copy"},
             {"unicast", "e0 -> e1, 64-byte frames at full rate from a generator inside the ports' netns (out "
                         "of e0 by a tc redirect), counted by a unicast-only sink on e1; alone, then during a "
                         "full-rate broadcast storm from the wire (its generator on the NAPI CPU)"}}}};
  // vnet-backlog only when asked for by name.
  std::vector<FloodSystem> systems;
  for (const FloodSystem& s : {FloodSystem{System::kVnet, false, "vnet"}, FloodSystem{System::kVnet, true, "vnet-backlog"},
                               FloodSystem{System::kMacvlan, false, "macvlan"},
                               FloodSystem{System::kBridge, false, "bridge"}}) {
    bool named = std::find(cfg.systems.begin(), cfg.systems.end(), s.name) != cfg.systems.end();
    if (named || (cfg.systems.empty() && !s.host_tso)) systems.push_back(s);
  }
  json paths = json::array();
  for (const auto& p : cfg.paths) {
    if (p != "broadcast" && p != "multicast") continue;
    json pj{{"path", p}, {"systems", json::object()}};
    for (const FloodSystem& s : systems) {
      if (g_stop) break;
      json sys = RunSystem(cfg, p, s, seq);
      if (sys.contains("error")) out["errors"][absl::StrCat(p, " ", s.name)] = sys["error"];
      pj["systems"][s.name] = sys;
    }
    paths.push_back(pj);
  }
  out["paths"] = paths;
  return out;
}

void PrintFlood(const json& flood) {
  for (const auto& pj : flood.value("paths", json::array())) {
    const std::string path = pj["path"];
    std::printf("\nflooding at scale: %s, 64-byte frames from the wire to N bridge-mode ports\n", path.c_str());
    std::printf("(a) highest offered rate with every port >= 99 %%; (b) at full rate: copies/s, the worst "
                "port's share, kernel CPU ns per copy%s\n",
                path == "broadcast" ? "; (c) unicast pps e0->e1 alone / during a storm (ratio)" : "");
    std::printf("%-12s %6s %10s %10s %10s %7s %8s", "system", "ports", "(a) pps", "(a) copy/s", "(b) copy/s",
                "worst", "ns/copy");
    if (path == "broadcast") std::printf(" %10s %10s %6s %10s", "(c) alone", "storm", "ratio", "limited");
    std::printf("\n");
    for (const auto& [name, sys] : pj["systems"].items()) {
      if (sys.contains("error")) std::printf("%-12s error: %s\n", name.c_str(), sys["error"].get<std::string>().c_str());
      for (const auto& s : sys.value("sizes", json::array())) {
        const json& sat = s["saturation"];
        std::printf("%-12s %6u %10s %10s %10s %6.1f%% %8s", name.c_str(), s["ports"].get<unsigned>(),
                    Rate(s["max_rate"]["rate_pps"]).c_str(), Rate(s["max_rate"]["copies_per_s"]).c_str(),
                    Rate(sat["copies_per_s"]).c_str(), 100 * sat.value("min_fraction", 0.0),
                    Num(sat["cpu_ns_per_copy"]).c_str());
        if (s.contains("unicast")) {
          const json& u = s["unicast"];
          std::printf(" %10s %10s %5.2fx %10s", Rate(u["alone_pps"]).c_str(), Rate(u["storm_pps"]).c_str(),
                      u.value("storm_ratio", 0.0),
                      u.contains("storm_limited_pps")
                          ? absl::StrFormat("%s (%.2fx)", Rate(u["storm_limited_pps"]), u.value("storm_limited_ratio", 0.0)).c_str()
                          : (u.contains("storm_limit_error") ? "unavailable" : "-"));
        }
        std::printf("\n");
      }
    }
    // Growth: each measure at the largest N over the smallest, per system.
    std::printf("growth from the smallest to the largest N (value at largest / value at smallest):\n");
    for (const auto& [name, sys] : pj["systems"].items()) {
      const auto& sizes = sys.value("sizes", json::array());
      if (sizes.size() < 2) continue;
      const json& lo = sizes.front();
      const json& hi = sizes.back();
      auto ratio = [](const json& a, const json& b) {
        return a.is_number() && b.is_number() && b.get<double>() > 0 ? absl::StrFormat("%.2fx", a.get<double>() / b.get<double>())
                                                                    : std::string("n/a");
      };
      std::printf("  %-12s %u -> %u ports: (a) rate %s, (b) copies/s %s, ns/copy %s\n", name.c_str(),
                  lo["ports"].get<unsigned>(), hi["ports"].get<unsigned>(),
                  ratio(hi["max_rate"]["rate_pps"], lo["max_rate"]["rate_pps"]).c_str(),
                  ratio(hi["saturation"]["copies_per_s"], lo["saturation"]["copies_per_s"]).c_str(),
                  ratio(hi["saturation"]["cpu_ns_per_copy"], lo["saturation"]["cpu_ns_per_copy"]).c_str());
    }
    // vnet against the better of macvlan and the bridge, per N.
    if (pj["systems"].contains("vnet")) {
      std::printf("vnet / better of macvlan and bridge:");
      for (const auto& s : pj["systems"]["vnet"].value("sizes", json::array())) {
        unsigned n = s["ports"].get<unsigned>();
        double best_a = 0, best_b = 0;
        for (const char* other : {"macvlan", "bridge"}) {
          if (!pj["systems"].contains(other)) continue;
          if (const json* o = SizeOf(pj["systems"][other], n)) {
            best_a = std::max(best_a, (*o)["max_rate"].value("rate_pps", 0.0));
            best_b = std::max(best_b, (*o)["saturation"].value("copies_per_s", 0.0));
          }
        }
        std::printf("  N=%u (a) %s (b) %s;", n,
                    best_a > 0 ? absl::StrFormat("%.2fx", s["max_rate"].value("rate_pps", 0.0) / best_a).c_str() : "n/a",
                    best_b > 0 ? absl::StrFormat("%.2fx", s["saturation"].value("copies_per_s", 0.0) / best_b).c_str()
                               : "n/a");
      }
      std::printf("\n");
    }
  }
}

}  // namespace vnet::bench
