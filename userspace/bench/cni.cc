#include "bench/cni.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/cni_exec.h"
#include "bench/exec.h"
#include "bench/latency.h"
#include "bench/progress.h"
#include "bench/teardown.h"
#include "base/errors.h"

namespace vnet::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

json Ratio(const json& a, const json& b) {
  return (a.is_number() && b.is_number() && b.get<double>() > 0) ? json(a.get<double>() / b.get<double>())
                                                                 : json(nullptr);
}

// Runs `ip -force -batch FILE` over `lines` (netns add/del by the hundred,
// one process instead of one per namespace).
absl::Status IpBatchFile(const std::vector<std::string>& lines) {
  char path[] = "/tmp/vnet-bench-cni-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return absl::InternalError("mkstemp for an ip batch file failed");
  ::close(fd);
  {
    std::ofstream f(path);
    for (const auto& l : lines) f << l << '\n';
  }
  absl::Status st = Run({"ip", "-force", "-batch", path}, 600).status();
  ::unlink(path);
  return st;
}

// One plugin's world: its runtime ("host") namespace holding the master
// up0, the containers' namespaces, its own host-local dataDir.
struct Side {
  std::string label;   // "vnet" or "reference"
  std::string plugin;  // the binary
  std::string tag;     // namespace and container-id prefix
  std::string host;
  std::string fabric;  // vnet's; the reference plugin ignores the key
  std::string ipam_dir;
  std::string cni_path;
  json config;
  std::uint32_t filled = 0;
  std::string Ns(const std::string& what) const { return tag + what; }
  std::string NsPath(const std::string& what) const { return "/run/netns/" + Ns(what); }
};

CniCall Call(const Side& s, const std::string& command, const std::string& id, const std::string& ns,
             const json& prev_result = nullptr) {
  json config = s.config;
  // A runtime hands DEL the cached ADD result, as libcni does.
  if (!prev_result.is_null()) config["prevResult"] = prev_result;
  return CniCall{s.plugin, command, id, s.NsPath(ns), "eth0", s.cni_path, config.dump(), s.host};
}

// Each call's outcome, `parallel` of them running at any moment.
std::vector<CniOutcome> ExecAll(const std::vector<CniCall>& calls, int parallel) {
  std::vector<CniOutcome> out(calls.size());
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < std::min<int>(parallel, calls.size()); ++t)
    workers.emplace_back([&] {
      for (std::size_t i; (i = next++) < calls.size();) out[i] = ExecCni(calls[i]);
    });
  for (auto& w : workers) w.join();
  return out;
}

// The ADD result's JSON, or an error when the plugin failed or assigned no
// address.
absl::StatusOr<json> AddResult(const CniCall& call, const CniOutcome& o) {
  if (o.status != 0)
    return absl::InternalError(absl::StrCat(call.plugin, " ADD of ", call.container_id, " -> ", o.status, ": ", o.out,
                                            " ", o.err));
  json r = json::parse(o.out, nullptr, false);
  if (r.is_discarded() || !r.contains("ips") || r["ips"].empty())
    return absl::InternalError(absl::StrCat(call.plugin, " ADD of ", call.container_id, ": no address in ", o.out));
  return r;
}

absl::Status BuildSide(Side& s, int parallel, std::uint32_t max_fill, int& ipam_seq) {
  VNET_RETURN_IF_ERROR(Run({"ip", "netns", "add", s.host}).status());
  TrackNetns(s.host);
  VNET_RETURN_IF_ERROR(Run({"ip", "-n", s.host, "link", "add", "up0", "type", "veth", "peer", "name", "up0p"}).status());
  VNET_RETURN_IF_ERROR(Run({"ip", "-n", s.host, "link", "set", "up0p", "up"}).status());
  VNET_RETURN_IF_ERROR(Run({"ip", "-n", s.host, "link", "set", "up0", "up"}).status());
  std::vector<std::string> names = {s.Ns("s")};
  for (std::uint32_t i = 0; i < max_fill; ++i) names.push_back(s.Ns(absl::StrCat("f", i)));
  for (int i = 0; i < parallel; ++i) names.push_back(s.Ns(absl::StrCat("p", i)));
  std::vector<std::string> lines;
  for (const auto& n : names) {
    lines.push_back("netns add " + n);
    TrackNetns(n);
  }
  VNET_RETURN_IF_ERROR(IpBatchFile(lines));
  char dir[] = "/tmp/vnet-bench-ipam-XXXXXX";
  if (!::mkdtemp(dir)) return absl::InternalError("mkdtemp for host-local's dataDir failed");
  s.ipam_dir = dir;
  s.config = json{{"cniVersion", "1.0.0"},
                  {"name", absl::StrCat("vbcni", ++ipam_seq)},
                  {"type", s.plugin.substr(s.plugin.rfind('/') + 1)},
                  {"master", "up0"},
                  {"mode", "bridge"},
                  {"ipam",
                   {{"type", "host-local"},
                    {"ranges", json::array({json::array({{{"subnet", "198.18.0.0/16"}}})})},
                    {"dataDir", s.ipam_dir}}}};
  if (!s.fabric.empty()) s.config["fabric"] = s.fabric;
  return absl::OkStatus();
}

void TearDownSide(const Side& s, std::uint32_t max_fill, int parallel) {
  if (!s.fabric.empty()) RemoveTrackedFabric(s.fabric, s.host);
  std::vector<std::string> lines;
  for (std::uint32_t i = 0; i < max_fill; ++i) lines.push_back("netns del " + s.Ns(absl::StrCat("f", i)));
  for (int i = 0; i < parallel; ++i) lines.push_back("netns del " + s.Ns(absl::StrCat("p", i)));
  lines.push_back("netns del " + s.Ns("s"));
  (void)IpBatchFile(lines);  // -force: whatever is missing is skipped; CleanupAll gets the rest
  if (!s.ipam_dir.empty()) Exec({"rm", "-rf", s.ipam_dir});
}

}  // namespace

json RunCni(const Config& cfg, int& seq) {
  const std::string tag = absl::StrCat("vb", ::getpid() % 100000, "n", ++seq);
  const std::uint32_t max_fill = cfg.cni_containers.back();
  const int parallel = cfg.cni_parallel;
  const std::string ipam_dir = cfg.cni_ipam_dir;
  Side vnet, ref;
  vnet.label = "vnet";
  vnet.plugin = cfg.cni_plugin;
  vnet.tag = tag + "v";
  vnet.fabric = tag + "c";
  ref.label = "reference";
  ref.plugin = cfg.cni_reference;
  ref.tag = tag + "r";
  // The reference plugin ignores the key; naming a fabric there too lets
  // --cni-reference be another vnet build (an A/B of two versions) without
  // its fabric taking the master's name machine-wide.
  ref.fabric = tag + "d";
  for (Side* s : {&vnet, &ref}) s->host = s->Ns("h");
  for (Side* s : {&vnet, &ref}) {
    std::string dir = s->plugin.substr(0, s->plugin.rfind('/'));
    s->cni_path = dir == ipam_dir ? dir : dir + ":" + ipam_dir;
  }
  json out{{"samples", cfg.cni_samples},
           {"sizes", cfg.cni_containers},
           {"parallel", parallel},
           {"plugins", {{"vnet", vnet.plugin}, {"reference", ref.plugin}}},
           {"ipam", "host-local, 198.18.0.0/16, a private dataDir per plugin"},
           {"method",
            "each call a process started from the side's runtime namespace (the master up0 there), CNI_* in its "
            "environment, the configuration (cniVersion 1.0.0, mode bridge) on stdin, DEL given the ADD result as "
            "prevResult; every container in a namespace of its own; latency = fork to reap; samples interleaved "
            "vnet/reference; parallel = N ADDs started at once, then N DELs, containers per second = N / wall time"}};
  std::map<std::string, std::string> errors;
  auto note = [&](const std::string& label, const std::string& message) {
    if (!errors.count(label)) {
      ProgressDone();
      std::fprintf(stderr, "vnet-bench: cni %s: %s\n", label.c_str(), message.c_str());
    }
    errors[label] = message;
  };
  auto finish = [&] {
    Progress("[cni] tearing down");
    for (const Side* s : {&vnet, &ref}) TearDownSide(*s, max_fill, parallel);
    CleanupAll();
    ProgressDone();
    for (const auto& [label, message] : errors) out["errors"][label] = message;
    return out;
  };
  for (const Side* s : {&vnet, &ref})
    if (::access(s->plugin.c_str(), X_OK) != 0) {
      note("setup", absl::StrCat("no executable ", s->label, " plugin at ", s->plugin));
      return finish();
    }

  Progress("[cni] building namespaces");
  int ipam_seq = 0;
  for (const Side* s : {&vnet, &ref}) TrackFabric(s->fabric, s->host);
  for (Side* s : {&vnet, &ref})
    if (absl::Status st = BuildSide(*s, parallel, max_fill, ipam_seq); !st.ok()) {
      note("setup", std::string(st.message()));
      return finish();
    }

  json& sizes = out["by_size"] = json::array();  // kept as far as it got when a step fails
  for (std::size_t si = 0; si < cfg.cni_containers.size() && !g_stop; ++si) {
    const std::uint32_t want = cfg.cni_containers[si];
    // Fill both sides to `want` containers, `parallel` ADDs at a time; the
    // very first ADD alone (the vnet plugin creates its fabric there).
    for (Side* s : {&vnet, &ref}) {
      while (s->filled < want && !g_stop) {
        Progress(absl::StrFormat("[cni] %s: filling to %u containers: %u", s->label, want, s->filled));
        std::uint32_t n = s->filled == 0 ? 1 : std::min<std::uint32_t>(want - s->filled, parallel);
        std::vector<CniCall> calls;
        for (std::uint32_t i = s->filled; i < s->filled + n; ++i)
          calls.push_back(Call(*s, "ADD", absl::StrCat(s->tag, "-f", i), absl::StrCat("f", i)));
        std::vector<CniOutcome> got = ExecAll(calls, parallel);
        for (std::size_t i = 0; i < got.size(); ++i)
          if (auto r = AddResult(calls[i], got[i]); !r.ok()) {
            note(s->label + " fill", std::string(r.status().message()));
            return finish();
          }
        if (s->filled == 0) out["first_add_ms"][s->label] = got[0].ms;
        s->filled += n;
      }
    }
    if (g_stop) break;

    // Latency: one ADD and its DEL per side per round, the order swapped
    // every round so drift and caches hit both alike.
    std::map<std::string, std::vector<double>> m;
    for (int k = 0; k < cfg.cni_samples && !g_stop; ++k) {
      Progress(absl::StrFormat("[cni] %u containers: sample %d/%d", want, k + 1, cfg.cni_samples));
      for (Side* s : (k % 2 == 0) ? std::vector<Side*>{&vnet, &ref} : std::vector<Side*>{&ref, &vnet}) {
        const std::string id = absl::StrCat(s->tag, "-s", si, "-", k);
        CniCall add = Call(*s, "ADD", id, "s");
        CniOutcome a = ExecCni(add);
        absl::StatusOr<json> result = AddResult(add, a);
        if (!result.ok()) {
          note(s->label + " add", std::string(result.status().message()));
          // Whatever the failed ADD left, so the next sample starts clean.
          (void)ExecCni(Call(*s, "DEL", id, "s"));
          continue;
        }
        m[s->label + " add"].push_back(a.ms);
        CniCall del = Call(*s, "DEL", id, "s", *result);
        CniOutcome d = ExecCni(del);
        if (d.status != 0) {
          note(s->label + " del", absl::StrCat(s->plugin, " DEL of ", id, " -> ", d.status, ": ", d.out, " ", d.err));
          continue;
        }
        m[s->label + " del"].push_back(d.ms);
      }
    }
    json size{{"containers", want}};
    for (const char* op : {"add", "del"}) {
      const auto& v = m[absl::StrCat("vnet ", op)];
      const auto& r = m[absl::StrCat("reference ", op)];
      size[op] = {{"vnet", Latency(v)},
                  {"reference", Latency(r)},
                  {"ratio_p50_vnet_reference", Ratio(Percentile(v, 50), Percentile(r, 50))},
                  {"ratio_p99_vnet_reference", Ratio(Percentile(v, 99), Percentile(r, 99))}};
    }

    // Throughput: `parallel` containers started at once, then removed at
    // once, on top of the `want` already there.
    json par{{"containers", parallel}};
    for (Side* s : (si % 2 == 0) ? std::vector<Side*>{&vnet, &ref} : std::vector<Side*>{&ref, &vnet}) {
      if (g_stop) break;
      Progress(absl::StrFormat("[cni] %u containers: %d %s ADDs at once", want, parallel, s->label));
      std::vector<CniCall> adds;
      for (int i = 0; i < parallel; ++i)
        adds.push_back(Call(*s, "ADD", absl::StrCat(s->tag, "-p", si, "-", i), absl::StrCat("p", i)));
      auto t0 = Clock::now();
      std::vector<CniOutcome> got = ExecAll(adds, parallel);
      double add_s = std::chrono::duration<double>(Clock::now() - t0).count();
      std::vector<CniCall> dels;
      std::vector<double> add_ms, del_ms;
      bool ok = true;
      for (int i = 0; i < parallel; ++i) {
        absl::StatusOr<json> r = AddResult(adds[i], got[i]);
        if (!r.ok()) {
          note(s->label + " parallel add", std::string(r.status().message()));
          ok = false;
        }
        add_ms.push_back(got[i].ms);
        dels.push_back(Call(*s, "DEL", adds[i].container_id, absl::StrCat("p", i), r.ok() ? *r : json(nullptr)));
      }
      t0 = Clock::now();
      std::vector<CniOutcome> gone = ExecAll(dels, parallel);
      double del_s = std::chrono::duration<double>(Clock::now() - t0).count();
      for (int i = 0; i < parallel; ++i) {
        if (gone[i].status != 0) {
          note(s->label + " parallel del", absl::StrCat(s->plugin, " DEL of ", dels[i].container_id, " -> ",
                                                        gone[i].status, ": ", gone[i].out, " ", gone[i].err));
          ok = false;
        }
        del_ms.push_back(gone[i].ms);
      }
      if (!ok) continue;
      par[s->label] = {{"add_wall_s", add_s},
                       {"add_per_s", parallel / add_s},
                       {"del_wall_s", del_s},
                       {"del_per_s", parallel / del_s},
                       {"add_latency", Latency(add_ms)},
                       {"del_latency", Latency(del_ms)}};
    }
    if (par.contains("vnet") && par.contains("reference")) {
      par["ratio_add_per_s_vnet_reference"] = Ratio(par["vnet"]["add_per_s"], par["reference"]["add_per_s"]);
      par["ratio_del_per_s_vnet_reference"] = Ratio(par["vnet"]["del_per_s"], par["reference"]["del_per_s"]);
    }
    size["parallel"] = par;
    // The target: at or below the reference plugin's latency, at or above
    // its rate.
    auto at_most = [](const json& r) { return r.is_number() && r.get<double>() <= 1.0; };
    auto at_least = [](const json& r) { return r.is_number() && r.get<double>() >= 1.0; };
    size["target_met"] = at_most(size["add"]["ratio_p50_vnet_reference"]) &&
                         at_most(size["add"]["ratio_p99_vnet_reference"]) &&
                         at_most(size["del"]["ratio_p50_vnet_reference"]) &&
                         at_most(size["del"]["ratio_p99_vnet_reference"]) &&
                         at_least(par.value("ratio_add_per_s_vnet_reference", json())) &&
                         at_least(par.value("ratio_del_per_s_vnet_reference", json()));
    sizes.push_back(size);
  }
  return finish();
}

void PrintCni(const json& c) {
  auto f = [](const json& v) { return v.is_number() ? absl::StrFormat("%.1f", v.get<double>()) : std::string("n/a"); };
  auto r = [](const json& v) { return v.is_number() ? absl::StrFormat("%.2fx", v.get<double>()) : std::string("n/a"); };
  std::printf("CNI plugins (ms; p50 / p99 of %d samples; ratio = vnet / reference, p50 and p99)\n  vnet:      %s\n"
              "  reference: %s\n",
              c.value("samples", 0), c["plugins"].value("vnet", "").c_str(), c["plugins"].value("reference", "").c_str());
  std::printf("%-10s %-4s %17s %17s %15s\n", "containers", "op", "vnet p50/p99", "reference p50/p99", "ratio p50/p99");
  for (const auto& s : c.value("by_size", json::array())) {
    for (const char* op : {"add", "del"}) {
      const json& e = s[op];
      std::printf("%-10u %-4s %17s %17s %15s\n", s["containers"].get<unsigned>(), op,
                  (f(e["vnet"]["p50_ms"]) + " / " + f(e["vnet"]["p99_ms"])).c_str(),
                  (f(e["reference"]["p50_ms"]) + " / " + f(e["reference"]["p99_ms"])).c_str(),
                  (r(e["ratio_p50_vnet_reference"]) + " / " + r(e["ratio_p99_vnet_reference"])).c_str());
    }
  }
  std::printf("%d containers at once (containers per second; ratio = vnet / reference)\n", c.value("parallel", 0));
  std::printf("%-10s %-4s %10s %10s %7s\n", "containers", "op", "vnet", "reference", "ratio");
  for (const auto& s : c.value("by_size", json::array())) {
    const json& p = s["parallel"];
    for (const char* op : {"add", "del"}) {
      std::string key = absl::StrCat(op, "_per_s");
      std::printf("%-10u %-4s %10s %10s %7s\n", s["containers"].get<unsigned>(), op,
                  f(p.contains("vnet") ? p["vnet"][key] : json()).c_str(),
                  f(p.contains("reference") ? p["reference"][key] : json()).c_str(),
                  r(p.value(absl::StrCat("ratio_", key, "_vnet_reference"), json())).c_str());
    }
  }
  for (const auto& s : c.value("by_size", json::array()))
    std::printf("target (at or below the reference at %u containers): %s\n", s["containers"].get<unsigned>(),
                s.value("target_met", false) ? "met" : "not met");
  if (c.contains("first_add_ms"))
    std::printf("first ADD (vnet creates its fabric): vnet %s ms, reference %s ms\n",
                f(c["first_add_ms"].value("vnet", json())).c_str(), f(c["first_add_ms"].value("reference", json())).c_str());
  if (c.contains("errors"))
    for (const auto& [k, v] : c["errors"].items()) std::printf("error: %s: %s\n", k.c_str(), v.get<std::string>().c_str());
}

}  // namespace vnet::bench
