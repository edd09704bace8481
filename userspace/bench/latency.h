// Latency samples as the control-plane and CNI sections report them.
#ifndef VNET_BENCH_LATENCY_H
#define VNET_BENCH_LATENCY_H

#include <vector>

#include <nlohmann/json.hpp>

namespace vnet::bench {

// Nearest-rank percentile of `v` (p in 0..100); null when empty.
nlohmann::json Percentile(std::vector<double> v, double p);
// {p50_ms, p99_ms, samples, runs_ms} of one series of samples in ms.
nlohmann::json Latency(const std::vector<double>& ms);

}  // namespace vnet::bench

#endif
