// TCP throughput (iperf3) and latency (ping) port to port and to the
// external host, vnet next to kernel macvlan.
#ifndef VNET_BENCH_TCP_H
#define VNET_BENCH_TCP_H

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/options.h"

namespace vnet::bench {

// Returns the run's "tcp" JSON: throughput_gbps and latency_us per
// direction and system, and vnet/macvlan run by run. `seq` numbers the
// namespaces' tags across the run.
nlohmann::json RunTcp(const Config& cfg, int& seq);

struct TcpRun {
  double gbps = 0;
  double retransmits = 0;
};
// One iperf3 TCP run from `client_ns` to `dst` (a server must listen there),
// the client pinned to `cpu`; nothing when it failed.
std::optional<TcpRun> IperfTcp(const std::string& client_ns, const std::string& dst, double secs, int cpu);

// ping's average RTT in microseconds over `count` pings 10 ms apart;
// nothing when no reply came.
std::optional<double> PingAvgUs(const std::string& ns, const std::string& dst, int count);

// An iperf3 server daemon in `ns` bound to `bind`, pinned to `cpu`, stopped
// (by its pid file, only if that pid is still iperf3) when this goes.
class IperfServer {
 public:
  IperfServer(const std::string& ns, const std::string& bind, int cpu);
  ~IperfServer();
  IperfServer(const IperfServer&) = delete;
  IperfServer& operator=(const IperfServer&) = delete;

 private:
  std::string pidfile_;
};

}  // namespace vnet::bench

#endif
