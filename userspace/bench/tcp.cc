#include "bench/tcp.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
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

struct UdpRun {
  double rx_pps = 0, tx_pps = 0, loss_pct = 0;
};

// Small datagrams as fast as iperf3 sends them (-l 18 -b 0): packets per
// second the receiver got, over its own interval, and the loss it counted.
std::optional<UdpRun> IperfUdp(const std::string& client_ns, const std::string& dst, double secs, int cpu) {
  auto r = Exec({"taskset", "-c", absl::StrCat(cpu), "ip", "netns", "exec", client_ns, "iperf3", "-c", dst, "-u", "-l",
                 "18", "-b", "0", "-t", absl::StrFormat("%g", secs), "-J"},
                secs + 15);
  if (r.status != 0) return std::nullopt;
  auto j = json::parse(r.output, nullptr, false);
  if (j.is_discarded() || !j.contains("end")) return std::nullopt;
  try {
    const json& end = j["end"];
    const json& rx = end.contains("sum_received") ? end["sum_received"] : end["sum"];
    const json& tx = end.contains("sum_sent") ? end["sum_sent"] : end["sum"];
    UdpRun run;
    double rx_secs = rx.value("seconds", 0.0), tx_secs = tx.value("seconds", 0.0);
    if (!(rx_secs > 0) || !(tx_secs > 0)) return std::nullopt;
    run.rx_pps = (rx.value("packets", 0.0) - rx.value("lost_packets", 0.0)) / rx_secs;
    run.tx_pps = tx.value("packets", 0.0) / tx_secs;
    run.loss_pct = rx.value("lost_percent", 0.0);
    return run;
  } catch (...) {
    return std::nullopt;
  }
}

// TcpInCsumErrors of a namespace (nstat's absolute counter).
std::optional<std::uint64_t> TcpCsumErrors(const std::string& ns) {
  auto r = Exec({"ip", "netns", "exec", ns, "nstat", "-az", "TcpInCsumErrors"}, 15);
  for (absl::string_view line : absl::StrSplit(r.output, '\n')) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    std::uint64_t v = 0;
    if (f.size() >= 2 && f[0] == "TcpInCsumErrors" && absl::SimpleAtoi(f[1], &v)) return v;
  }
  return std::nullopt;
}

}  // namespace

std::optional<TcpRun> IperfTcp(const std::string& client_ns, const std::string& dst, double secs, int cpu) {
  auto r = Exec({"taskset", "-c", absl::StrCat(cpu), "ip", "netns", "exec", client_ns, "iperf3", "-c", dst, "-t",
                 absl::StrFormat("%g", secs), "-J"},
                secs + 15);
  if (r.status != 0) return std::nullopt;
  auto j = json::parse(r.output, nullptr, false);
  if (j.is_discarded() || !j.contains("end")) return std::nullopt;
  try {
    TcpRun run;
    run.gbps = j["end"]["sum_received"]["bits_per_second"].get<double>() / 1e9;
    run.retransmits = j["end"]["sum_sent"].value("retransmits", 0.0);
    return run;
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

IperfServer::IperfServer(const std::string& ns, const std::string& bind, int cpu)
    : pidfile_(absl::StrCat("/tmp/vnet-bench-iperf3-", ::getpid(), "-", ns, ".pid")) {
  Exec({"taskset", "-c", absl::StrCat(cpu), "ip", "netns", "exec", ns, "iperf3", "-s", "-D", "-B", bind, "-I",
        pidfile_});
}

IperfServer::~IperfServer() {
  std::ifstream in(pidfile_);
  pid_t pid = 0;
  if (in >> pid && pid > 0) {
    std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
    std::string name;
    std::getline(comm, name);
    if (name == "iperf3" && ::kill(pid, SIGTERM) == 0) {  // the server this object started
      // Gone before its namespace is: a loaded machine may take a while.
      for (int i = 0; i < 50 && ::kill(pid, 0) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ::unlink(pidfile_.c_str());
}

json RunTcp(const Config& cfg, int& seq) {
  struct Sys {
    System system;
    std::unique_ptr<Topology> topo;
    std::vector<std::string> pidfiles;
    std::map<std::string, std::vector<double>> gbps, lat, retrans;
    std::vector<double> udp_rx, udp_tx, udp_loss;
  };
  // [0] vnet (XDP redirect wire->port), [1] macvlan: the ratios below; [2]
  // vnet-tc (wire->port through tc).
  std::vector<Sys> systems;
  for (System sys : {System::kVnet, System::kMacvlan, System::kVnetTc}) {
    if (!cfg.systems.empty() &&
        std::find(cfg.systems.begin(), cfg.systems.end(), SystemName(sys)) == cfg.systems.end())
      continue;
    Sys s;
    s.system = sys;
    systems.push_back(std::move(s));
  }
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
      auto tcp = [&](const char* path, const std::string& client, const char* dst) {
        std::optional<TcpRun> r = IperfTcp(client, dst, cfg.tcp_seconds, cfg.gen_cpu);
        add(s.gbps, path, r ? std::optional<double>(r->gbps) : std::nullopt);
        add(s.retrans, path, r ? std::optional<double>(r->retransmits) : std::nullopt);
      };
      tcp("port->port", c1, "198.18.0.12");
      tcp("port->ext", c1, "198.18.0.100");
      tcp("ext->port", ext, "198.18.0.11");
      if (std::optional<UdpRun> u = IperfUdp(ext, "198.18.0.11", cfg.tcp_seconds, cfg.gen_cpu)) {
        s.udp_rx.push_back(u->rx_pps);
        s.udp_tx.push_back(u->tx_pps);
        s.udp_loss.push_back(u->loss_pct);
      }
      add(s.lat, "port->port", PingAvgUs(c1, "198.18.0.12", cfg.ping_count));
      add(s.lat, "port->ext", PingAvgUs(c1, "198.18.0.100", cfg.ping_count));
    }
  }
  // Correctness probe, once per system, not in the medians: the external
  // host with tx checksum offload on (a veth's default), so the uplink gets
  // CHECKSUM_PARTIAL skbs whose TCP checksum is not filled in yet.
  json probe = json::object();
  for (auto& s : systems) {
    if (!s.topo || g_stop) continue;
    Progress(absl::StrFormat("[tcp] checksum offload probe %s", SystemName(s.system)));
    const std::string c1 = s.topo->container(0).netns, ext = s.topo->wire().netns;
    if (!s.topo->In(ext, {"ethtool", "-K", "wire", "tx", "on"}).ok()) continue;
    std::optional<std::uint64_t> e0 = TcpCsumErrors(c1);
    std::optional<TcpRun> r = IperfTcp(ext, "198.18.0.11", std::max(1.0, cfg.tcp_seconds), cfg.gen_cpu);
    std::optional<std::uint64_t> e1 = TcpCsumErrors(c1);
    (void)s.topo->In(ext, {"ethtool", "-K", "wire", "tx", "off"});
    probe[SystemName(s.system)] = {{"tcp_gbps", r ? json(r->gbps) : json(nullptr)},
                                   {"tcp_in_csum_errors", (e0 && e1) ? json(*e1 - *e0) : json(nullptr)}};
  }
  out["csum_offload_probe"] = probe;

  Progress("[tcp] tearing down");
  for (auto& s : systems) {
    stop_servers(s);
    s.topo.reset();
  }
  ProgressDone();
  json tcp = json::object(), lat = json::object(), retrans = json::object(), udp = json::object();
  for (auto& s : systems) {
    for (auto& [k, v] : s.gbps) tcp[k][SystemName(s.system)] = Summary(v);
    for (auto& [k, v] : s.lat) lat[k][SystemName(s.system)] = Summary(v);
    for (auto& [k, v] : s.retrans) retrans[k][SystemName(s.system)] = Summary(v);
    udp[SystemName(s.system)] = {{"rx_pps", Summary(s.udp_rx)}, {"tx_pps", Summary(s.udp_tx)},
                                 {"loss_pct", Summary(s.udp_loss)}};
  }
  // vnet and vnet-tc against macvlan, run by run.
  auto ratio = [](const std::vector<double>& v, const std::vector<double>& m) {
    std::vector<double> r;
    for (std::size_t i = 0; i < std::min(v.size(), m.size()); ++i)
      if (m[i] > 0) r.push_back(v[i] / m[i]);
    return Summary(r);
  };
  const Sys* mac = nullptr;
  for (const auto& s : systems)
    if (s.system == System::kMacvlan) mac = &s;
  for (const auto& s : systems) {
    if (!mac || s.system == System::kMacvlan) continue;
    const std::string key = absl::StrCat("ratio_", s.system == System::kVnet ? "vnet" : "vnet_tc", "_macvlan");
    for (const auto& [k, v] : s.gbps) tcp[k][key] = ratio(v, mac->gbps.count(k) ? mac->gbps.at(k) : std::vector<double>{});
    udp[key] = ratio(s.udp_rx, mac->udp_rx);
  }
  out["throughput_gbps"] = tcp;
  out["latency_us"] = lat;
  out["retransmits"] = retrans;
  out["udp_ext_to_port"] = udp;
  return out;
}

}  // namespace vnet::bench
