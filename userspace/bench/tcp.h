// TCP throughput (iperf3) and latency (ping) port to port and to the
// external host, vnet next to kernel macvlan.
#ifndef VNET_BENCH_TCP_H
#define VNET_BENCH_TCP_H

#include <nlohmann/json.hpp>

#include "bench/options.h"

namespace vnet::bench {

// Returns the run's "tcp" JSON: throughput_gbps and latency_us per
// direction and system, and vnet/macvlan run by run. `seq` numbers the
// namespaces' tags across the run.
nlohmann::json RunTcp(const Config& cfg, int& seq);

}  // namespace vnet::bench

#endif
