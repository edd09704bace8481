#include "bench/tcp.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/exec.h"
#include "bench/progress.h"
#include "bench/report.h"
#include "bench/teardown.h"
#include "bench/topology.h"

namespace vnet::bench {
namespace {

using nlohmann::json;

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

}  // namespace

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
    auto t = Topology::Build(s.system, o, absl::StrCat("vb", ::getpid() % 100000, "n", ++seq));
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
  return out;
}

}  // namespace vnet::bench
