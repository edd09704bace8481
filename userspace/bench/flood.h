// Flooding at scale (--paths broadcast|multicast --ports LIST): broadcast or
// multicast frames from the wire to N bridge-mode ports, for vnet, kernel
// macvlan and the Linux bridge in turn, each topology grown through the
// --ports sizes. Per N: (a) the highest offered rate every port receives
// >= 99 % of, (b) delivered copies/s and CPU time per copy at the
// generator's full rate, (c) unicast between two ports alone and during a
// storm from the wire (with storm control too when asked).
#ifndef VNET_BENCH_FLOOD_H
#define VNET_BENCH_FLOOD_H

#include <nlohmann/json.hpp>

#include "bench/options.h"

namespace vnet::bench {

// Whether the command line asks for this section (--ports with a flood path,
// not --control-plane).
bool WantsFlood(const Config& cfg);

nlohmann::json RunFlood(const Config& cfg, int& seq);

// The tables: per path, per system, per N; then how each grows with N and
// vnet against the better of macvlan and the bridge.
void PrintFlood(const nlohmann::json& flood);

}  // namespace vnet::bench

#endif
