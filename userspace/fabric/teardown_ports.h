// Taking every port off a fabric that is being removed (detach, down, gc).
#ifndef VNET_FABRIC_TEARDOWN_PORTS_H
#define VNET_FABRIC_TEARDOWN_PORTS_H

#include <string>

#include "absl/status/status.h"
#include "maps/fabric_maps.h"

namespace vnet {

// What `port del` does to each port, for all of them at once: the tables
// withdrawn in one pass (the datapath stops delivering to any port first),
// every port program detached, then the devices vnet created deleted in one
// kernel batch (a device group), which costs one RCU grace period instead
// of one per device. Linear in the number of ports.
absl::Status RemoveAllPorts(FabricMaps& maps, const std::string& fabric);

}  // namespace vnet

#endif
