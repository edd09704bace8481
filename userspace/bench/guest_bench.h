// vnet-bench --guests: TCP between a QEMU guest (TCG, virtio-net) and the
// external host, both directions, with the guest on a vnet tap port and the
// same guest on a kernel macvtap (QEMU on its /dev/tapN), in one run: the
// systems interleaved repetition by repetition, ratios vnet / macvtap taken
// run by run. See docs/benchmarks.md, "Guests".
#ifndef VNET_BENCH_GUEST_BENCH_H
#define VNET_BENCH_GUEST_BENCH_H

#include <nlohmann/json.hpp>

#include "bench/options.h"

namespace vnet::bench {

// Returns the run's "guests" JSON; `seq` numbers namespace tags.
nlohmann::json RunGuests(const Config& cfg, int& seq);

// The table of the JSON above, to stdout.
void PrintGuests(const nlohmann::json& guests);

}  // namespace vnet::bench

#endif
