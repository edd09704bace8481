// vnet-bench: vnet next to kernel macvlan (bridge mode), the Linux bridge and
// the floor (a bare redirect), measured in the same run on identical veth
// topologies built in fresh namespaces. See docs/benchmarks.md.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/cases.h"
#include "bench/cni.h"
#include "bench/control_plane.h"
#include "bench/guest_bench.h"
#include "bench/flood.h"
#include "bench/json_out.h"
#include "bench/options.h"
#include "bench/plot.h"
#include "bench/report.h"
#include "bench/runner.h"
#include "bench/tcp.h"
#include "bench/teardown.h"
#include "bench/vxlan.h"

namespace {

// A section measured on its own (--cni, --control-plane): its header, its
// runs, the cleanup, the table and the JSON document; exit 130 when
// interrupted, 1 when a measurement failed.
int RunTimedSection(const vnet::bench::Config& cfg, const char* variant_note, const char* key,
                    nlohmann::json (*run)(const vnet::bench::Config&, int&), void (*print)(const nlohmann::json&),
                    const std::function<void(const nlohmann::json&)>& announce) {
  using namespace vnet::bench;
  nlohmann::json doc = RunHeader(cfg, variant_note);
  announce(doc);
  int seq = 0;
  doc[key] = run(cfg, seq);
  doc["loadavg_after"] = LoadAverage();
  doc["complete"] = !g_stop.load();
  CleanupAll();
  std::printf("kernel %s, %ld CPUs, %s; load average before %s, after %s\n", doc["kernel"].get<std::string>().c_str(),
              cfg.cpus, doc["date"].get<std::string>().c_str(), doc["loadavg_before"].get<std::string>().c_str(),
              doc["loadavg_after"].get<std::string>().c_str());
  print(doc[key]);
  if (!cfg.json_path.empty()) WriteJson(cfg.json_path, doc);
  if (g_stop) {
    std::fprintf(stderr, "vnet-bench: interrupted; everything it built has been removed\n");
    return 130;
  }
  return doc[key].contains("errors") ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vnet::bench;
  using nlohmann::json;
  Config cfg;
  if (std::optional<int> exit_code = ParseCommandLine(argc, argv, &cfg)) return *exit_code;
  if (::geteuid() != 0) {
    std::fprintf(stderr, "vnet-bench: needs root (namespaces, BPF)\n");
    return 77;
  }
  CompleteConfig(&cfg);

  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = true; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);

  if (cfg.cni) {
    return RunTimedSection(cfg, "none (CNI plugins)", "cni", RunCni, PrintCni, [&](const json& doc) {
      std::fprintf(stderr, "vnet-bench: CNI plugins, kernel %s, %ld CPUs, containers %s, %d samples each, %d at once\n",
                   doc["kernel"].get<std::string>().c_str(), cfg.cpus, json(cfg.cni_containers).dump().c_str(),
                   cfg.cni_samples, cfg.cni_parallel);
    });
  }
  if (cfg.vxlan) {
    return RunTimedSection(cfg, "vnet-pktgen (XDP live frames) inside container A", "vxlan", RunVxlan, PrintVxlan,
                           [&](const json& doc) {
                             std::fprintf(stderr,
                                          "vnet-bench: VXLAN cross-host, kernel %s, %ld CPUs, sizes %s, %d reps x "
                                          "%.1f s, %.1f s of TCP\n",
                                          doc["kernel"].get<std::string>().c_str(), cfg.cpus,
                                          json(cfg.vxlan_sizes).dump().c_str(), cfg.reps, cfg.duration,
                                          cfg.tcp_seconds);
                           });
  }
  if (cfg.guests) {
    return RunTimedSection(cfg, "iperf3 in a QEMU guest (TCG)", "guests", RunGuests, PrintGuests, [&](const json& doc) {
      std::fprintf(stderr, "vnet-bench: guests, kernel %s, %ld CPUs, %d reps x %g s of TCP each way\n",
                   doc["kernel"].get<std::string>().c_str(), cfg.cpus, cfg.reps, cfg.guest_seconds);
    });
  }
  if (WantsFlood(cfg)) {
    return RunTimedSection(cfg, "vnet-pktgen (XDP live frames) on the external host's wire", "flood", RunFlood,
                           PrintFlood, [&](const json& doc) {
                             std::fprintf(stderr, "vnet-bench: flooding at scale, kernel %s, %ld CPUs, ports %s, "
                                                  "trials of %.2f s\n",
                                          doc["kernel"].get<std::string>().c_str(), cfg.cpus,
                                          json(cfg.cp_ports).dump().c_str(), cfg.flood_trial);
                           });
  }
  if (cfg.control_plane) {
    return RunTimedSection(cfg, "none (control plane)", "control_plane", RunControlPlane, PrintControlPlane,
                           [&](const json& doc) {
                             std::fprintf(stderr, "vnet-bench: control plane, kernel %s, %ld CPUs, ports %s, %d samples each\n",
                                          doc["kernel"].get<std::string>().c_str(), cfg.cpus,
                                          json(cfg.cp_ports).dump().c_str(), cfg.cp_samples);
                           });
  }
  std::string gen_note = ChooseGenerator(&cfg);

  std::vector<Case> cases = BuildCases(cfg);
  std::string ipvlan_note = KernelIpvlanNote(cases);

  json doc = RunHeader(cfg, gen_note);
  if (!ipvlan_note.empty()) doc["kernel_ipvlan"] = ipvlan_note;
  std::fprintf(stderr, "vnet-bench: %s, kernel %s, %ld CPUs, %d reps x %.1f s; generator: %s\n",
               cfg.quick ? "quick mode" : "full run", doc["kernel"].get<std::string>().c_str(), cfg.cpus, cfg.reps,
               cfg.duration, gen_note.c_str());

  json pps = json::array();
  int seq = 0;
  for (std::size_t i = 0; i < cases.size() && !g_stop; ++i)
    pps.push_back(RunCase(cases[i], cfg, static_cast<int>(i + 1), static_cast<int>(cases.size()), seq));
  doc["pps"] = pps;
  json tcp = json::object();
  if (cfg.tcp && !g_stop) tcp = RunTcp(cfg, seq);
  doc["tcp"] = tcp;
  doc["targets"] = Targets(pps, tcp);
  doc["loadavg_after"] = LoadAverage();
  doc["complete"] = !g_stop.load();
  CleanupAll();

  PrintReport(doc, cfg, cases);
  if (!cfg.json_path.empty()) WriteJson(cfg.json_path, doc);
  if (!cfg.plot_path.empty() && !pps.empty()) Plot(pps, cfg.plot_path);
  if (g_stop) {
    std::fprintf(stderr, "vnet-bench: interrupted; everything it built has been removed\n");
    return 130;
  }
  return 0;
}
