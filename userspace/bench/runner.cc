#include "bench/runner.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench/exec.h"
#include "bench/kernel_pktgen.h"
#include "bench/pktgen.h"
#include "bench/progress.h"
#include "bench/report.h"
#include "bench/teardown.h"
#include "bench/variant_setup.h"

namespace vnet::bench {
namespace {

using nlohmann::json;

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

}  // namespace

std::string ChooseGenerator(Config* cfg) {
  std::string gen_note;
  if (KernelPktgenAvailable()) {
    cfg->kernel_pktgen = cfg->generator == "pktgen";
    gen_note = cfg->kernel_pktgen
                   ? absl::StrFormat("kernel pktgen (kpktgend_%d in the generator's namespace; each case's "
                                     "\"generator\" says where vnet-pktgen stood in)",
                                     cfg->gen_cpu)
                   : "vnet-pktgen (XDP live frames)";
  } else {
    gen_note = "vnet-pktgen (XDP live frames); kernel pktgen is unavailable (no /proc/net/pktgen)";
    if (cfg->generator == "pktgen")
      std::fprintf(stderr, "vnet-bench: kernel pktgen is unavailable on this machine (no /proc/net/pktgen): "
                           "using vnet-pktgen, the XDP live-frames generator\n");
  }
  return gen_note;
}

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
    absl::Status st = SetUpVariant(c, l, cfg, tag);
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

  std::vector<VariantRuns> measured;
  for (const auto& l : lives) measured.push_back({l.variant, l.generator, l.table_note, l.runs});
  out["systems"] = SystemsJson(measured);
  out["ratios"] = RatiosJson(c, measured);
  return out;
}

}  // namespace vnet::bench
