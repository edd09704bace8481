// What the runner hands the report: one repetition's rates, and all of one
// variant's repetitions.
#ifndef VNET_BENCH_MEASUREMENT_H
#define VNET_BENCH_MEASUREMENT_H

#include <cstdint>
#include <string>
#include <vector>

#include "bench/cases.h"

namespace vnet::bench {

struct RunResult {
  double pps = 0;           // the case's metric: delivered (absorbed for unknown)
  double delivered_pps = 0; // at the receivers' tc ingress (per port for broadcast)
  double offered_pps = 0;   // frames the generator transmitted
  double accepted_pps = 0;  // frames the first device's ring took (the rest: ring full)
  double drop_pct = 0;      // 1 - delivered/offered (for unknown: 1 - accepted/offered)
  std::uint64_t vnet_unknown_drops = 0;
};

struct VariantRuns {
  Variant variant;
  std::string generator;   // "vnet-pktgen" or "pktgen"
  std::string table_note;  // how the table-size cases filled the table
  std::vector<RunResult> runs;  // in repetition order, for the run-by-run ratios
};

}  // namespace vnet::bench

#endif
