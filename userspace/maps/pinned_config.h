// A fabric's vnet_config read and written by pin path, without opening the
// fabric's other maps: what the registry needs for fabrics of another ABI
// (a migration's set-aside "_old" config included), where FabricMaps::Open
// would refuse the layouts.
#ifndef VNET_MAPS_PINNED_CONFIG_H
#define VNET_MAPS_PINNED_CONFIG_H

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "vnet/abi.h"

namespace vnet {

// Refuses a config of another size than this ABI's (no vnet ABI this vnetctl knows).
absl::StatusOr<vnet_config> ReadConfigMapAt(const std::string& path);
absl::Status WriteConfigMapAt(const std::string& path, const vnet_config& config);

}  // namespace vnet

#endif
