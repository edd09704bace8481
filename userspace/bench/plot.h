// The PNG: delivered Mpps per path and system (medians), drawn by gnuplot.
#ifndef VNET_BENCH_PLOT_H
#define VNET_BENCH_PLOT_H

#include <string>

#include <nlohmann/json.hpp>

namespace vnet::bench {

// Draws the cases' JSON ("pps") into `png`; says on stderr when gnuplot
// cannot.
void Plot(const nlohmann::json& pps, const std::string& png);

}  // namespace vnet::bench

#endif
