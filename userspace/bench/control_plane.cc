#include "bench/control_plane.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "bench/exec.h"
#include "bench/ip_batch.h"
#include "bench/latency.h"
#include "bench/progress.h"
#include "bench/teardown.h"
#include "bench/vnet_driver.h"
#include "base/errors.h"

namespace vnet::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Times `op` in milliseconds; nullopt (and the error on stderr, once per
// label) when it fails.
std::optional<double> Time(const std::string& label, const std::function<absl::Status()>& op,
                           std::map<std::string, std::string>* errors) {
  auto t0 = Clock::now();
  absl::Status st = op();
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (!st.ok()) {
    if (!errors->count(label)) {
      ProgressDone();
      std::fprintf(stderr, "vnet-bench: control plane %s: %s\n", label.c_str(), std::string(st.message()).c_str());
    }
    (*errors)[label] = std::string(st.message());
    return std::nullopt;
  }
  return ms;
}

absl::Status AddNetns(const std::string& name) {
  VNET_RETURN_IF_ERROR(Run({"ip", "netns", "add", name}).status());
  TrackNetns(name);
  return Run({"ip", "-n", name, "link", "set", "lo", "up"}).status();
}

// The two systems' namespaces: host (the uplink up0, a veth whose peer stays
// there too), fill (the ports already present) and sample (the measured one).
struct Side {
  std::string host, fill, sample;
};

absl::Status BuildSide(const Side& s) {
  for (const auto& ns : {s.host, s.fill, s.sample}) VNET_RETURN_IF_ERROR(AddNetns(ns));
  VNET_RETURN_IF_ERROR(Run({"ip", "-n", s.host, "link", "add", "up0", "type", "veth", "peer", "name", "up0p"}).status());
  VNET_RETURN_IF_ERROR(Run({"ip", "-n", s.host, "link", "set", "up0p", "up"}).status());
  return Run({"ip", "-n", s.host, "link", "set", "up0", "up"}).status();
}

}  // namespace

json RunControlPlane(const Config& cfg, int& seq) {
  const std::string tag = absl::StrCat("vb", ::getpid() % 100000, "n", ++seq);
  const Side vs{tag + "vh", tag + "vf", tag + "vs"};  // vnet
  const Side ks{tag + "kh", tag + "kf", tag + "ks"};  // kernel macvlan
  const std::string fabric = tag + "f";
  json out{{"samples", cfg.cp_samples},
           {"sizes", cfg.cp_ports},
           {"method",
            {{"in_process",
              "vnet: libvnet calls in this process (control lock and recovery check included, as vnetctl does); "
              "kernel: one long-lived `ip -batch -` per namespace fed through a pipe, each step ended by a "
              "`link show dev lo` marker (its round trip is sync_overhead_ms)"},
             {"cli",
              "vnet: one vnetctl process per operation; kernel: the ip commands a user types (add: ip link add, "
              "ip link set netns, ip -n NS link set up; del: ip -n NS link del)"},
             {"kernel_add", "ip link add link up0 name s0 type macvlan mode bridge; link set s0 netns NS; "
                            "(in NS) link set s0 up"},
             {"vnet_add", "port add --fabric F --netns NS --mode bridge (a veth pair, peer eth0 in NS)"}}}};
  std::map<std::string, std::string> errors;
  auto fail = [&](const absl::Status& st) {
    ProgressDone();
    std::fprintf(stderr, "vnet-bench: control plane: %s\n", std::string(st.message()).c_str());
    out["errors"]["setup"] = std::string(st.message());
    CleanupAll();
    return out;
  };

  Progress("[control-plane] building namespaces");
  for (const Side* s : {&vs, &ks})
    if (absl::Status st = BuildSide(*s); !st.ok()) return fail(st);
  VnetDriver vnet(vs.host);
  TrackFabric(fabric, vs.host);
  {
    VnetAttachRequest a;
    a.uplink = "up0";
    a.fabric = fabric;
    if (absl::Status st = vnet.Attach(a); !st.ok()) return fail(st);
  }
  std::optional<IpBatch> host_batch, fill_batch, sample_batch;
  for (auto [batch, ns] : {std::pair{&host_batch, ks.host}, {&fill_batch, ks.fill}, {&sample_batch, ks.sample}}) {
    absl::StatusOr<IpBatch> b = IpBatch::Start(ns);
    if (!b.ok()) return fail(b.status());
    batch->emplace(std::move(*b));
  }

  // The marker's own round trip, for the reader to weigh the kernel's
  // in-process numbers (each add pays two, each del one).
  {
    std::vector<double> sync;
    for (int i = 0; i < 20; ++i)
      if (auto ms = Time("sync", [&] { return sample_batch->Do({}); }, &errors)) sync.push_back(*ms);
    out["sync_overhead_ms"] = Percentile(sync, 50);
  }

  const std::string vnetctl = cfg.vnetctl;
  std::uint32_t have = 0;  // ports present on each side
  std::vector<double> vnet_fill_ms;
  json sizes = json::array();
  for (std::uint32_t want : cfg.cp_ports) {
    if (g_stop) break;
    // Fill both sides up to `want` ports (vnet's fill times kept: its cost
    // per port as the fabric grows).
    std::vector<std::string> kernel_fill;
    for (std::uint32_t i = have; i < want && !g_stop; ++i) {
      if (i % 50 == 0) Progress(absl::StrFormat("[control-plane] filling to %u ports: %u", want, i));
      VnetPortRequest p;
      p.fabric = fabric;
      p.netns = vs.fill;
      p.ifname = absl::StrCat("f", i);
      auto t0 = Clock::now();
      absl::StatusOr<std::string> dev = vnet.AddPort(p);
      if (!dev.ok()) return fail(dev.status());
      vnet_fill_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      kernel_fill.push_back(absl::StrCat("link add link up0 name f", i, " type macvlan mode bridge"));
      kernel_fill.push_back(absl::StrCat("link set f", i, " netns ", ks.fill));
    }
    if (g_stop) break;
    if (absl::Status st = host_batch->Do(kernel_fill, 600); !st.ok()) return fail(st);
    std::vector<std::string> ups;
    for (std::uint32_t i = have; i < want; ++i) ups.push_back(absl::StrCat("link set f", i, " up"));
    if (absl::Status st = fill_batch->Do(ups, 600); !st.ok()) return fail(st);
    have = want;

    // Samples: one of each method per round, so drift hits all alike.
    std::map<std::string, std::vector<double>> m;
    for (int k = 0; k < cfg.cp_samples && !g_stop; ++k) {
      Progress(absl::StrFormat("[control-plane] %u ports: sample %d/%d", want, k + 1, cfg.cp_samples));
      // vnet, in process.
      std::string dev;
      if (auto ms = Time("vnet add (in process)", [&]() -> absl::Status {
            VnetPortRequest p;
            p.fabric = fabric;
            p.netns = vs.sample;
            VNET_ASSIGN_OR_RETURN(dev, vnet.AddPort(p));
            return absl::OkStatus();
          }, &errors)) {
        m["vnet_add_lib"].push_back(*ms);
        if (auto ms2 = Time("vnet del (in process)", [&] { return vnet.DeletePort(dev); }, &errors))
          m["vnet_del_lib"].push_back(*ms2);
      }
      // Kernel, in process (ip -batch).
      if (auto ms = Time("kernel add (ip -batch)", [&]() -> absl::Status {
            VNET_RETURN_IF_ERROR(host_batch->Do({"link add link up0 name s0 type macvlan mode bridge",
                                                 absl::StrCat("link set s0 netns ", ks.sample)}));
            return sample_batch->Do({"link set s0 up"});
          }, &errors)) {
        m["kernel_add_lib"].push_back(*ms);
        if (auto ms2 = Time("kernel del (ip -batch)", [&] { return sample_batch->Do({"link del s0"}); }, &errors))
          m["kernel_del_lib"].push_back(*ms2);
      }
      // vnet, CLI.
      if (auto ms = Time("vnet add (vnetctl)", [&]() -> absl::Status {
            VNET_ASSIGN_OR_RETURN(std::string o, Run({vnetctl, "port", "add", "--fabric", fabric, "--netns",
                                                      vs.sample, "--mode", "bridge"}, 60, vs.host));
            dev = std::string(absl::StripAsciiWhitespace(o));
            return absl::OkStatus();
          }, &errors)) {
        m["vnet_add_cli"].push_back(*ms);
        if (auto ms2 = Time("vnet del (vnetctl)", [&] {
              return Run({vnetctl, "port", "del", dev}, 60, vs.host).status();
            }, &errors))
          m["vnet_del_cli"].push_back(*ms2);
      }
      // Kernel, CLI.
      if (auto ms = Time("kernel add (ip)", [&]() -> absl::Status {
            VNET_RETURN_IF_ERROR(Run({"ip", "-n", ks.host, "link", "add", "link", "up0", "name", "s0", "type",
                                      "macvlan", "mode", "bridge"}).status());
            VNET_RETURN_IF_ERROR(Run({"ip", "-n", ks.host, "link", "set", "s0", "netns", ks.sample}).status());
            return Run({"ip", "-n", ks.sample, "link", "set", "s0", "up"}).status();
          }, &errors)) {
        m["kernel_add_cli"].push_back(*ms);
        if (auto ms2 = Time("kernel del (ip)", [&] {
              return Run({"ip", "-n", ks.sample, "link", "del", "s0"}).status();
            }, &errors))
          m["kernel_del_cli"].push_back(*ms2);
      }
    }
    json size{{"ports", want}};
    for (const char* op : {"add", "del"}) {
      for (const char* how : {"lib", "cli"}) {
        const auto& v = m[absl::StrCat("vnet_", op, "_", how)];
        const auto& kk = m[absl::StrCat("kernel_", op, "_", how)];
        json entry{{"vnet", Latency(v)}, {"kernel", Latency(kk)}};
        json vp = Percentile(v, 50), kp = Percentile(kk, 50);
        entry["ratio_p50_vnet_kernel"] =
            (vp.is_number() && kp.is_number() && kp.get<double>() > 0) ? json(vp.get<double>() / kp.get<double>())
                                                                       : json(nullptr);
        size[op][std::string(how) == "lib" ? "in_process" : "cli"] = entry;
      }
    }
    sizes.push_back(size);
  }
  out["by_size"] = sizes;
  // vnet's cost per port while filling, by decile of the fill: growth shows.
  if (!vnet_fill_ms.empty()) {
    json fill = json::array();
    std::size_t n = vnet_fill_ms.size(), parts = std::min<std::size_t>(10, n);
    for (std::size_t i = 0; i < parts; ++i) {
      std::vector<double> part(vnet_fill_ms.begin() + i * n / parts, vnet_fill_ms.begin() + (i + 1) * n / parts);
      fill.push_back({{"ports_from", i * n / parts}, {"ports_to", (i + 1) * n / parts}, {"p50_ms", Percentile(part, 50)}});
    }
    out["vnet_fill_add_ms"] = fill;
  }

  // show and stats with `have` ports, in process and by CLI.
  if (!g_stop && have > 0) {
    std::map<std::string, std::vector<double>> m;
    for (int k = 0; k < std::max(5, cfg.cp_samples / 4) && !g_stop; ++k) {
      Progress(absl::StrFormat("[control-plane] show/stats at %u ports: %d", have, k + 1));
      if (auto ms = Time("show (in process)", [&]() -> absl::Status {
            VNET_ASSIGN_OR_RETURN(std::size_t ports, vnet.Show());
            if (ports != have) return absl::InternalError(absl::StrCat("show listed ", ports, " ports, want ", have));
            return absl::OkStatus();
          }, &errors))
        m["show_lib"].push_back(*ms);
      if (auto ms = Time("stats (in process)", [&] { return vnet.Stats().status(); }, &errors))
        m["stats_lib"].push_back(*ms);
      if (auto ms = Time("show (vnetctl)", [&] { return Run({vnetctl, "show"}, 60, vs.host).status(); }, &errors))
        m["show_cli"].push_back(*ms);
      if (auto ms = Time("stats (vnetctl)", [&] { return Run({vnetctl, "stats"}, 60, vs.host).status(); }, &errors))
        m["stats_cli"].push_back(*ms);
      // The kernel's listing of as many macvlans with their counters.
      if (auto ms = Time("ip -s -d link show", [&] { return Run({"ip", "-n", ks.fill, "-s", "-d", "link", "show"}).status(); },
                         &errors))
        m["kernel_show_cli"].push_back(*ms);
    }
    json ss{{"ports", have}};
    ss["show"] = {{"in_process", Latency(m["show_lib"])}, {"cli", Latency(m["show_cli"])}};
    ss["stats"] = {{"in_process", Latency(m["stats_lib"])}, {"cli", Latency(m["stats_cli"])}};
    ss["kernel_ip_link_show_cli"] = Latency(m["kernel_show_cli"]);
    out["show_stats"] = ss;
  }

  // Detach of the whole fabric, against deleting as many macvlans.
  if (!g_stop && have > 0) {
    Progress(absl::StrFormat("[control-plane] detach at %u ports", have));
    json d{{"ports", have}};
    if (auto ms = Time("detach (in process)", [&] { return vnet.Detach(fabric); }, &errors)) d["vnet_ms"] = *ms;
    std::vector<std::string> dels;
    for (std::uint32_t i = 0; i < have; ++i) dels.push_back(absl::StrCat("link del f", i));
    if (auto ms = Time("kernel delete all (ip -batch)", [&] { return fill_batch->Do(dels, 600); }, &errors))
      d["kernel_ms"] = *ms;
    d["kernel"] = "one `ip -batch` deleting every macvlan (link del fN)";
    if (d.contains("vnet_ms") && d.contains("kernel_ms") && d["kernel_ms"].get<double>() > 0)
      d["ratio_vnet_kernel"] = d["vnet_ms"].get<double>() / d["kernel_ms"].get<double>();
    out["detach"] = d;
  }
  for (const auto& [label, message] : errors) out["errors"][label] = message;
  Progress("[control-plane] tearing down");
  host_batch.reset();
  fill_batch.reset();
  sample_batch.reset();
  CleanupAll();
  ProgressDone();
  return out;
}

void PrintControlPlane(const json& cp) {
  auto f = [](const json& v) { return v.is_number() ? absl::StrFormat("%.2f", v.get<double>()) : std::string("n/a"); };
  auto r = [](const json& v) { return v.is_number() ? absl::StrFormat("%.2fx", v.get<double>()) : std::string("n/a"); };
  std::printf("control plane (ms; p50 / p99 of %d samples; ratio = vnet p50 / kernel p50)\n",
              cp.value("samples", 0));
  std::printf("%-6s %-4s %-11s %17s %17s %7s\n", "ports", "op", "how", "vnet p50/p99", "kernel p50/p99", "ratio");
  for (const auto& s : cp.value("by_size", json::array())) {
    for (const char* op : {"add", "del"}) {
      for (const char* how : {"in_process", "cli"}) {
        const json& e = s[op][how];
        std::printf("%-6u %-4s %-11s %17s %17s %7s\n", s["ports"].get<unsigned>(), op, how,
                    (f(e["vnet"]["p50_ms"]) + " / " + f(e["vnet"]["p99_ms"])).c_str(),
                    (f(e["kernel"]["p50_ms"]) + " / " + f(e["kernel"]["p99_ms"])).c_str(),
                    r(e["ratio_p50_vnet_kernel"]).c_str());
      }
    }
  }
  if (cp.contains("show_stats")) {
    const json& ss = cp["show_stats"];
    std::printf("at %u ports: show %s ms in process, %s ms vnetctl; stats %s ms in process, %s ms vnetctl; "
                "ip -s -d link show %s ms (p50)\n",
                ss["ports"].get<unsigned>(), f(ss["show"]["in_process"]["p50_ms"]).c_str(),
                f(ss["show"]["cli"]["p50_ms"]).c_str(), f(ss["stats"]["in_process"]["p50_ms"]).c_str(),
                f(ss["stats"]["cli"]["p50_ms"]).c_str(), f(ss["kernel_ip_link_show_cli"]["p50_ms"]).c_str());
  }
  if (cp.contains("detach")) {
    const json& d = cp["detach"];
    std::printf("detach of %u ports: vnet %s ms, kernel (delete as many macvlans, ip -batch) %s ms, ratio %s\n",
                d["ports"].get<unsigned>(), f(d.value("vnet_ms", json())).c_str(),
                f(d.value("kernel_ms", json())).c_str(), r(d.value("ratio_vnet_kernel", json())).c_str());
  }
  if (cp.contains("sync_overhead_ms"))
    std::printf("ip -batch marker round trip: %s ms (inside each kernel in-process number: 2 per add, 1 per del)\n",
                f(cp["sync_overhead_ms"]).c_str());
  if (cp.contains("errors"))
    for (const auto& [k, v] : cp["errors"].items()) std::printf("error: %s: %s\n", k.c_str(), v.get<std::string>().c_str());
}

}  // namespace vnet::bench
