// vnet-bench --control-plane: how long vnet's control operations take next
// to the kernel's equivalent, measured in the same run. Port add (veth pair
// into a netns) against macvlan add + move into the netns + up, port del
// against link del, at several numbers of ports already present; show and
// stats at the largest; detach of the largest fabric against deleting as
// many macvlans. Each is measured two ways, side by side:
//   in process: libvnet's calls (vnet_driver) against one long-lived
//     `ip -batch` per namespace (ip_batch), so no process start in either;
//   CLI: a vnetctl process per operation against the `ip` commands a user
//     types (three for an add: link add, link set netns, link set up).
#ifndef VNET_BENCH_CONTROL_PLANE_H
#define VNET_BENCH_CONTROL_PLANE_H

#include <nlohmann/json.hpp>

#include "bench/options.h"

namespace vnet::bench {

// Returns the run's "control_plane" JSON; `seq` numbers namespace tags.
nlohmann::json RunControlPlane(const Config& cfg, int& seq);

// The table of the JSON above, to stdout.
void PrintControlPlane(const nlohmann::json& cp);

}  // namespace vnet::bench

#endif
