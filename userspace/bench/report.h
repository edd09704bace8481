// The report: medians and spreads, the vnet/peer ratios run by run, the
// targets DESIGN.md sets, and the table printed at the end.
#ifndef VNET_BENCH_REPORT_H
#define VNET_BENCH_REPORT_H

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/cases.h"
#include "bench/measurement.h"
#include "bench/options.h"

namespace vnet::bench {

// {runs, median, min, max, spread_pct}; median null when there are no runs.
nlohmann::json Summary(const std::vector<double>& v);

// A case's "systems": per variant label, every run and the summaries.
nlohmann::json SystemsJson(const std::vector<VariantRuns>& measured);
// A case's "ratios": vnet against each peer, and N table entries against
// one, computed from runs of the same repetition index.
nlohmann::json RatiosJson(const Case& c, const std::vector<VariantRuns>& measured);

// The targets, from the cases' JSON ("pps") and the TCP JSON.
nlohmann::json Targets(const nlohmann::json& pps, const nlohmann::json& tcp);

// Prints the run's header, the table (pps[i] is cases[i]'s JSON, for as many
// cases as ran) and the targets to stdout.
void PrintReport(const nlohmann::json& doc, const Config& cfg, const std::vector<Case>& cases);

}  // namespace vnet::bench

#endif
