// vnet-bench --vxlan: cross-host throughput over a VXLAN underlay, vnet next
// to kernel macvlan (bridge mode) on the same two VXLAN devices, in one run:
// TCP (iperf3) and small-frame packet rates from a container on host A to a
// container on host B, the systems interleaved repetition by repetition,
// ratios vnet / macvlan taken run by run. See vxlan_topology.h for the
// topology and docs/benchmarks.md, "VXLAN (cross-host)".
#ifndef VNET_BENCH_VXLAN_H
#define VNET_BENCH_VXLAN_H

#include <nlohmann/json.hpp>

#include "bench/options.h"

namespace vnet::bench {

// Returns the run's "vxlan" JSON; `seq` numbers namespace tags.
nlohmann::json RunVxlan(const Config& cfg, int& seq);

// The table of the JSON above, to stdout.
void PrintVxlan(const nlohmann::json& vxlan);

}  // namespace vnet::bench

#endif
