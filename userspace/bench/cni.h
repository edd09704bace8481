// vnet-bench --cni: the vnet CNI plugin (`vnet-macvlan`) next to the
// reference `macvlan` plugin, both with host-local IPAM in a private
// dataDir, both executed as a container runtime executes them (a process per
// call, the configuration on stdin, from the runtime's network namespace).
// ADD and DEL latency (p50, p99) with 1, 100, 500 containers already
// attached, and containers per second with 50 ADDs (then 50 DELs) at once;
// ratios vnet / reference from the same run, interleaved.
#ifndef VNET_BENCH_CNI_H
#define VNET_BENCH_CNI_H

#include <nlohmann/json.hpp>

#include "bench/options.h"

namespace vnet::bench {

// Returns the run's "cni" JSON; `seq` numbers namespace tags.
nlohmann::json RunCni(const Config& cfg, int& seq);

// The table of the JSON above, to stdout.
void PrintCni(const nlohmann::json& cni);

}  // namespace vnet::bench

#endif
