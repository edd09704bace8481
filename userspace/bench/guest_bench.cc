#include "bench/guest_bench.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/errors.h"
#include "bench/exec.h"
#include "bench/guest_vm.h"
#include "bench/progress.h"
#include "bench/report.h"
#include "bench/tcp.h"
#include "bench/teardown.h"
#include "bench/topology.h"

namespace vnet::bench {
namespace {

using nlohmann::json;

constexpr char kExt[] = "198.18.0.100";  // the external host (Topology's wire)
constexpr char kGuestMac[] = "02:76:6d:00:05:01";
constexpr char kGuestIp[] = "198.18.0.51/24";
constexpr double kBootTimeout = 120;  // TCG on a loaded 2-core machine; an idle one boots in ~3 s

// The two directions, as the guest's iperf3 client runs them.
struct Direction {
  const char* key;
  const char* label;
  const char* flags;  // -R: the external host sends
};
constexpr Direction kDirections[] = {{"guest_to_ext", "guest->ext", ""}, {"ext_to_guest", "ext->guest", " -R"}};

// One iperf3 run: what the receiver got, and where the time went meanwhile.
struct GuestRun {
  double mbit_s = 0;
  std::optional<double> retransmits;
  double qemu_cpu_pct = 0;     // QEMU's CPU time over the run's wall time (100 = one core)
  double qemu_sys_pct = 0;     // the part of it in the host kernel
  double mbit_per_core = 0;    // Mbit/s per QEMU core: the rate with the CPU share QEMU got factored out
  double host_softirq_pct = 0;  // softirq share of all CPUs' time, machine-wide
  double wire_frames_s = 0;     // frames the external host's wire took in (or sent, for -R) per second
  double wire_frame_bytes = 0;  // their average size: ~1514 means segmented, tens of KB means GSO intact
  double dev_drops = 0;         // frames the tap or macvtap dropped (either way) during the run
  double acks_per_mb = 0;       // frames the other way (the receiver's ACKs) per MB of data
};

// Packets, bytes and drops of one device, from `ip -s -j link`.
struct LinkCounters {
  double rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, drops = 0;
};
LinkCounters ReadCounters(const std::string& netns, const std::string& dev) {
  LinkCounters c;
  ExecResult r = Exec({"ip", "-n", netns, "-s", "-j", "link", "show", "dev", dev}, 15);
  json j = json::parse(r.output, nullptr, false);
  if (!j.is_array() || j.empty() || !j[0].contains("stats64")) return c;
  const json& st = j[0]["stats64"];
  c.rx_packets = st["rx"].value("packets", 0.0);
  c.rx_bytes = st["rx"].value("bytes", 0.0);
  c.tx_packets = st["tx"].value("packets", 0.0);
  c.tx_bytes = st["tx"].value("bytes", 0.0);
  c.drops = st["rx"].value("dropped", 0.0) + st["tx"].value("dropped", 0.0);
  return c;
}

// /proc/stat's first line: all CPUs' ticks, total and softirq.
struct CpuTicks {
  double total = 0, softirq = 0;
};
CpuTicks ReadCpuTicks() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  CpuTicks t;
  double v[10] = {};
  in >> cpu;
  for (double& x : v) in >> x;
  for (double x : v) t.total += x;
  t.softirq = v[6];
  return t;
}

// ethtool -k of the device the guest's frames enter the host through: the
// offloads QEMU negotiated for it (TUNSETOFFLOAD), the usual suspects when
// a guest's TCP differs.
json Offloads(const std::string& netns, const std::string& dev) {
  json j = json::object();
  ExecResult r = Exec({"ip", "netns", "exec", netns, "ethtool", "-k", dev}, 15);
  for (absl::string_view line : absl::StrSplit(r.output, '\n')) {
    std::vector<absl::string_view> kv = absl::StrSplit(line, absl::MaxSplits(':', 1));
    if (kv.size() != 2) continue;
    std::string key(absl::StripAsciiWhitespace(kv[0]));
    static const char* kKeys[] = {"tx-checksumming", "scatter-gather", "tcp-segmentation-offload",
                                  "generic-segmentation-offload", "generic-receive-offload"};
    if (std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys)) {
      std::vector<absl::string_view> words = absl::StrSplit(absl::StripAsciiWhitespace(kv[1]), ' ');
      j[key] = std::string(words[0]);
    }
  }
  return j;
}

// One system: its topology (ext --- up0 in the host namespace), the device
// on up0 the guest sits on, the guest, the iperf3 server in ext.
struct GuestSystem {
  std::string kind;  // "vnet" or "macvtap"
  std::unique_ptr<Topology> topo;
  std::string dev;
  std::unique_ptr<IperfServer> server;
  std::unique_ptr<GuestVm> vm;  // last: QEMU goes before the devices do
  json offloads;
  std::map<std::string, std::vector<std::optional<GuestRun>>> runs;  // by direction, index = rep - 1
};

absl::Status BuildSystem(GuestSystem& s, const GuestKit& kit, const Config& cfg, const std::string& tag) {
  const bool vnet = s.kind == "vnet";
  VNET_ASSIGN_OR_RETURN(s.topo, Topology::Build(vnet ? System::kVnet : System::kMacvlan, TopoOptions{0}, tag));
  const std::string& host = s.topo->host_ns();
  s.dev = vnet ? "gtap0" : "gmvt0";
  if (vnet) {
    VNET_RETURN_IF_ERROR(Run({cfg.vnetctl, "port", "add", "--fabric", s.topo->fabric(), "--tap", s.dev, "--mac",
                              kGuestMac, "--mode", "bridge"},
                             60, host)
                             .status());
  } else {
    VNET_RETURN_IF_ERROR(Run({"ip", "-n", host, "link", "add", "link", "up0", "name", s.dev, "address", kGuestMac,
                              "type", "macvtap", "mode", "bridge"})
                             .status());
    VNET_RETURN_IF_ERROR(Run({"ip", "-n", host, "link", "set", s.dev, "up"}).status());
  }
  GuestSpec spec;
  spec.name = absl::StrCat(s.kind, " guest");
  spec.netns = host;
  spec.mac = kGuestMac;
  spec.ip = kGuestIp;
  (vnet ? spec.tap : spec.macvtap) = s.dev;
  VNET_ASSIGN_OR_RETURN(s.vm, GuestVm::Start(kit, spec));
  s.server = std::make_unique<IperfServer>(s.topo->wire().netns, kExt, cfg.rx_cpu);
  return absl::OkStatus();
}

// After boot: iperf3 runs in the guest and the external host answers.
absl::Status CheckGuest(GuestSystem& s) {
  VNET_RETURN_IF_ERROR(s.vm->WaitReady(kBootTimeout));
  VNET_ASSIGN_OR_RETURN(GuestVm::Result v, s.vm->Run("iperf3 --version", 60));
  if (v.status != 0)
    return absl::FailedPreconditionError(absl::StrCat(s.vm->name(), ": iperf3 does not run: ", v.output));
  for (int i = 0; i < 10 && !g_stop; ++i) {
    VNET_ASSIGN_OR_RETURN(GuestVm::Result p, s.vm->Run(absl::StrCat("ping -c 1 -W 2 ", kExt, " >/dev/null"), 30));
    if (p.status == 0) {
      s.offloads = Offloads(s.topo->host_ns(), s.dev);
      return absl::OkStatus();
    }
  }
  return absl::UnavailableError(absl::StrCat(s.vm->name(), ": ", kExt, " never answered ping"));
}

absl::StatusOr<GuestRun> Measure(GuestSystem& s, const Direction& d, double seconds) {
  const std::string cmd = absl::StrFormat("iperf3 -c %s%s -t %g -i 0 -J", kExt, d.flags, seconds);
  const Device& wire = s.topo->wire();
  LinkCounters w0 = ReadCounters(wire.netns, wire.name), d0 = ReadCounters(s.topo->host_ns(), s.dev);
  GuestVm::CpuTimes cpu0 = s.vm->Cpu();
  CpuTicks t0 = ReadCpuTicks();
  auto start = std::chrono::steady_clock::now();
  VNET_ASSIGN_OR_RETURN(GuestVm::Result r, s.vm->Run(cmd, seconds + 90));
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CpuTicks t1 = ReadCpuTicks();
  GuestVm::CpuTimes cpu1 = s.vm->Cpu();
  LinkCounters w1 = ReadCounters(wire.netns, wire.name), d1 = ReadCounters(s.topo->host_ns(), s.dev);
  std::size_t open = r.output.find('{'), close = r.output.rfind('}');
  json j = open == std::string::npos || close == std::string::npos
               ? json()
               : json::parse(r.output.substr(open, close - open + 1), nullptr, false);
  if (r.status != 0 || j.is_discarded() || !j.contains("end") || !j["end"].contains("sum_received"))
    return absl::InternalError(absl::StrCat(s.vm->name(), ": `", cmd, "` exited ", r.status, ": ",
                                            j.is_object() && j.contains("error") ? j["error"].dump()
                                                                                 : r.output.substr(0, 300)));
  GuestRun g;
  g.mbit_s = j["end"]["sum_received"].value("bits_per_second", 0.0) / 1e6;
  if (j["end"].contains("sum_sent") && j["end"]["sum_sent"].contains("retransmits"))
    g.retransmits = j["end"]["sum_sent"]["retransmits"].get<double>();
  if (wall > 0) {
    g.qemu_sys_pct = 100 * (cpu1.sys - cpu0.sys) / wall;
    g.qemu_cpu_pct = g.qemu_sys_pct + 100 * (cpu1.user - cpu0.user) / wall;
  }
  g.mbit_per_core = g.qemu_cpu_pct > 0 ? g.mbit_s / (g.qemu_cpu_pct / 100) : 0;
  g.host_softirq_pct = t1.total > t0.total ? 100 * (t1.softirq - t0.softirq) / (t1.total - t0.total) : 0;
  const bool to_ext = d.flags[0] == 0;
  double frames = to_ext ? w1.rx_packets - w0.rx_packets : w1.tx_packets - w0.tx_packets;
  double bytes = to_ext ? w1.rx_bytes - w0.rx_bytes : w1.tx_bytes - w0.tx_bytes;
  g.wire_frames_s = wall > 0 ? frames / wall : 0;
  g.wire_frame_bytes = frames > 0 ? bytes / frames : 0;
  double acks = to_ext ? w1.tx_packets - w0.tx_packets : w1.rx_packets - w0.rx_packets;
  g.acks_per_mb = bytes > 0 ? acks / (bytes / 1e6) : 0;
  g.dev_drops = d1.drops - d0.drops;
  return g;
}

template <typename F>
json Series(const std::vector<std::optional<GuestRun>>& runs, F get) {
  std::vector<double> v;
  for (const auto& r : runs)
    if (r) v.push_back(get(*r));
  return Summary(v);
}

json RunJson(const std::optional<GuestRun>& r) {
  if (!r) return nullptr;
  return {{"mbit_s", r->mbit_s},
          {"retransmits", r->retransmits ? json(*r->retransmits) : json(nullptr)},
          {"qemu_cpu_pct", r->qemu_cpu_pct},
          {"qemu_sys_pct", r->qemu_sys_pct},
          {"mbit_per_qemu_core", r->mbit_per_core},
          {"host_softirq_pct", r->host_softirq_pct},
          {"wire_frames_s", r->wire_frames_s},
          {"wire_frame_bytes", r->wire_frame_bytes},
          {"dev_drops", r->dev_drops},
          {"acks_per_mb", r->acks_per_mb}};
}

}  // namespace

json RunGuests(const Config& cfg, int& seq) {
  const std::string tag = absl::StrCat("vb", ::getpid() % 100000, "n", ++seq);
  const double secs = cfg.guest_seconds;
  json out{{"seconds", secs},
           {"reps", cfg.reps},
           {"systems_measured", {"vnet", "macvtap"}},
           {"guest", {{"accel", "tcg"}, {"vcpus", 1}, {"memory_mb", 256}, {"nic", "virtio-net-pci, 1 queue"},
                      {"mac", kGuestMac}, {"ip", kGuestIp}}},
           {"method",
            "two systems built once, side by side, each the standard topology (ext: wire 198.18.0.100 == veth == "
            "up0 in a host namespace) plus one QEMU guest: on a vnet tap port (vnetctl port add --tap, bridge "
            "mode; QEMU attaches by name) or on a kernel macvtap of up0 (bridge mode; QEMU gets /dev/tapN as "
            "fd=N); iperf3 -s in ext; each repetition runs the guest's iperf3 client to ext, then with -R (ext "
            "sends), for --guest-seconds each, one system after the other (order alternating by repetition, "
            "never both at once: TCG is CPU-bound); Mbit/s as the receiver counted; ratios vnet / macvtap run "
            "by run"}};
  signal(SIGPIPE, SIG_IGN);  // a QEMU that died answers writes to its console with EPIPE
  Progress("[guests] preparing the guest kit");
  absl::StatusOr<GuestKit> kit = PrepareGuestKit(cfg.guest_kit);
  if (!kit.ok()) {
    ProgressDone();
    out["errors"]["kit"] = std::string(kit.status().message());
    return out;
  }
  out["guest"]["kernel"] = kit->kernel;
  std::vector<GuestSystem> systems(2);
  systems[0].kind = "vnet";
  systems[1].kind = "macvtap";
  for (auto& s : systems)
    for (const auto& d : kDirections) s.runs[d.key].resize(cfg.reps);
  int phase = 0;
  for (auto& s : systems) {
    if (g_stop) break;
    Progress(absl::StrCat("[guests] ", s.kind, ": building and booting the guest"));
    absl::Status st = BuildSystem(s, *kit, cfg, absl::StrCat(tag, "s", ++phase));
    if (st.ok()) st = CheckGuest(s);
    if (!st.ok() && !g_stop) {
      ProgressDone();
      out["errors"][s.kind] = absl::StrCat("setup: ", st.message());
      std::fprintf(stderr, "vnet-bench: guests %s: %s\n", s.kind.c_str(), std::string(st.message()).c_str());
    }
  }
  out["loadavg_start"] = absl::StripTrailingAsciiWhitespace(Exec({"cat", "/proc/loadavg"}, 5).output);
  for (int rep = 1; rep <= cfg.reps && !g_stop && !out.contains("errors"); ++rep) {
    std::vector<GuestSystem*> order = {&systems[0], &systems[1]};
    if (rep % 2 == 0) std::reverse(order.begin(), order.end());
    for (GuestSystem* s : order)
      for (const auto& d : kDirections) {
        if (g_stop || out.contains("errors")) break;
        Progress(absl::StrFormat("[guests] rep %d/%d %s: %s TCP, %g s", rep, cfg.reps, s->kind, d.label, secs));
        absl::StatusOr<GuestRun> r = Measure(*s, d, secs);
        // iperf3's server refuses connections for a moment after each test
        // while it resets: try again then.
        for (int again = 0; again < 3 && !r.ok() && !g_stop &&
                            absl::StrContains(r.status().message(), "unable to connect");
             ++again) {
          std::this_thread::sleep_for(std::chrono::seconds(1));
          r = Measure(*s, d, secs);
        }
        if (!r.ok() && g_stop) break;  // interrupted: no error, the run says it is incomplete
        if (!r.ok()) {
          ProgressDone();
          out["errors"][s->kind] = absl::StrCat("rep ", rep, " ", d.label, ": ", r.status().message());
          std::fprintf(stderr, "vnet-bench: guests: %s\n", out["errors"][s->kind].get<std::string>().c_str());
          break;
        }
        s->runs[d.key][rep - 1] = *r;
      }
  }
  Progress("[guests] tearing down");
  for (auto& s : systems) {  // QEMU first, then the server, then the namespaces and the fabric
    s.vm.reset();
    s.server.reset();
    s.topo.reset();
  }
  CleanupAll();
  ProgressDone();

  json sys = json::object();
  for (const auto& s : systems) {
    json j{{"device", s.kind == "vnet" ? "tap (vnet port)" : "macvtap (bridge mode)"}, {"offloads", s.offloads}};
    for (const auto& d : kDirections) {
      const auto& runs = s.runs.at(d.key);
      json rj = json::array();
      for (const auto& r : runs) rj.push_back(RunJson(r));
      j[d.key] = {{"runs", rj},
                  {"mbit_s", Series(runs, [](const GuestRun& r) { return r.mbit_s; })},
                  {"qemu_cpu_pct", Series(runs, [](const GuestRun& r) { return r.qemu_cpu_pct; })},
                  {"qemu_sys_pct", Series(runs, [](const GuestRun& r) { return r.qemu_sys_pct; })},
                  {"mbit_per_qemu_core", Series(runs, [](const GuestRun& r) { return r.mbit_per_core; })},
                  {"host_softirq_pct", Series(runs, [](const GuestRun& r) { return r.host_softirq_pct; })},
                  {"wire_frame_bytes", Series(runs, [](const GuestRun& r) { return r.wire_frame_bytes; })},
                  {"dev_drops", Series(runs, [](const GuestRun& r) { return r.dev_drops; })},
                  {"acks_per_mb", Series(runs, [](const GuestRun& r) { return r.acks_per_mb; })}};
    }
    sys[s.kind] = j;
  }
  out["systems"] = sys;
  // vnet / macvtap from the runs of the same repetition (about the same load).
  json ratios = json::object();
  for (const auto& d : kDirections) {
    const auto &a = systems[0].runs.at(d.key), &b = systems[1].runs.at(d.key);
    auto ratio = [&](double GuestRun::*field) {
      std::vector<double> v;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] && b[i] && (*b[i]).*field > 0) v.push_back((*a[i]).*field / (*b[i]).*field);
      return Summary(v);
    };
    ratios[d.key] = ratio(&GuestRun::mbit_s);
    ratios[absl::StrCat(d.key, "_per_qemu_core")] = ratio(&GuestRun::mbit_per_core);
  }
  out["ratios"]["vnet/macvtap"] = ratios;
  return out;
}

void PrintGuests(const json& g) {
  auto num = [](const json& j, const char* fmt) {
    return j.is_number() ? absl::StrFormat(fmt, j.get<double>()) : std::string("n/a");
  };
  const json sys = g.value("systems", json::object());
  const std::vector<std::string> names = {"vnet", "macvtap"};
  std::printf("Guests: QEMU (TCG, 1 vCPU, virtio-net) TCP with the external host, on a vnet tap port and on a kernel "
              "macvtap; medians of %d reps x %g s\n",
              g.value("reps", 0), g.value("seconds", 0.0));
  std::printf("%-34s %12s %12s\n", "metric", "vnet", "macvtap");
  for (const auto& d : kDirections) {
    const std::pair<const char*, const char*> rows[] = {
        {"mbit_s", "Mbit/s"},
        {"qemu_cpu_pct", "QEMU CPU %"},
        {"qemu_sys_pct", "QEMU CPU % in kernel"},
        {"mbit_per_qemu_core", "Mbit/s per QEMU core"},
        {"host_softirq_pct", "host softirq %"},
        {"wire_frame_bytes", "wire frame bytes"},
        {"dev_drops", "device drops"},
        {"acks_per_mb", "ACK frames per MB"}};
    for (const auto& [field, label] : rows) {
      std::printf("%-34s", absl::StrCat(d.label, " ", label).c_str());
      for (const auto& n : names) {
        json m = sys.contains(n) ? sys[n][d.key][field]["median"] : json();
        std::printf(" %12s", num(m, "%.1f").c_str());
      }
      std::printf("\n");
    }
  }
  for (const auto& n : names)
    if (sys.contains(n) && !sys[n]["offloads"].empty()) {
      std::vector<std::string> kv;
      for (const auto& [k, v] : sys[n]["offloads"].items()) kv.push_back(absl::StrCat(k, " ", v.get<std::string>()));
      std::printf("  %s device offloads: %s\n", n.c_str(), absl::StrJoin(kv, ", ").c_str());
    }
  const json ratios = g.contains("ratios") ? g["ratios"].value("vnet/macvtap", json::object()) : json::object();
  for (const auto& d : kDirections)
    for (const std::string& key : {std::string(d.key), absl::StrCat(d.key, "_per_qemu_core")}) {
      if (!ratios.contains(key)) continue;
      const json& r = ratios[key];
      std::vector<std::string> runs;
      for (const auto& x : r.value("runs", json::array())) runs.push_back(absl::StrFormat("%.2f", x.get<double>()));
      std::string label = absl::StrCat(d.label, key == d.key ? "" : " per QEMU core");
      std::printf("vnet/macvtap %-26s %s (runs %s)\n", label.c_str(),
                  r["median"].is_number() ? absl::StrFormat("%.2fx", r["median"].get<double>()).c_str() : "n/a",
                  absl::StrJoin(runs, " ").c_str());
    }
  if (g.contains("errors"))
    for (const auto& [k, e] : g["errors"].items()) std::printf("error: %s: %s\n", k.c_str(), e.get<std::string>().c_str());
}

}  // namespace vnet::bench
