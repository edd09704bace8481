#include "bench/latency.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace vnet::bench {

nlohmann::json Percentile(std::vector<double> v, double p) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * v.size()));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

nlohmann::json Latency(const std::vector<double>& ms) {
  return nlohmann::json{{"p50_ms", Percentile(ms, 50)}, {"p99_ms", Percentile(ms, 99)}, {"samples", ms.size()},
                        {"runs_ms", ms}};
}

}  // namespace vnet::bench
