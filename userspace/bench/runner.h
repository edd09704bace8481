// Running a case: every variant built, warmed up, then measured in
// interleaved repetitions (so drift hits all systems alike), then torn down.
#ifndef VNET_BENCH_RUNNER_H
#define VNET_BENCH_RUNNER_H

#include <string>

#include <nlohmann/json.hpp>

#include "bench/cases.h"
#include "bench/options.h"

namespace vnet::bench {

// Decides whether kernel pktgen drives the frames (cfg->kernel_pktgen) and
// returns the generator line for the report; says on stderr when pktgen was
// asked for and this machine has none.
std::string ChooseGenerator(Config* cfg);

// Runs case `index` of `total`; `seq` numbers the namespaces' tags across
// the run. Returns the case's JSON: every run, the medians, the ratios.
nlohmann::json RunCase(const Case& c, const Config& cfg, int index, int total, int& seq);

}  // namespace vnet::bench

#endif
