// Dead fabrics: those whose uplink is gone (deleted, or its network namespace
// died), found in any namespace from the pins alone, and their collection
// (`vnetctl gc`, and attach and down for the ones they concern).
#ifndef VNET_FABRIC_GC_H
#define VNET_FABRIC_GC_H

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "vnet/abi.h"

namespace vnet {

enum class DeadWhere {
  kHere,           // attached in the caller's namespace; its uplink is gone
  kNamespaceGone,  // its namespace no longer exists: it belongs to nobody
  kElsewhere,      // attached in another live namespace whose uplink is gone
};

struct DeadFabric {
  std::string name;
  vnet_config config{};  // as pinned (any ABI)
  DeadWhere where = DeadWhere::kHere;
};

// Every dead fabric, of any ABI. `all_namespaces` false leaves out kElsewhere
// (and skips the search of live namespaces when nothing needs it).
std::vector<DeadFabric> ListDeadFabrics(bool all_namespaces);

struct Collected {
  std::string fabric;
  std::string why;  // "its network namespace is gone", "its uplink is gone", ...
};
// Removes the dead fabrics `want` selects: every pin, and in a live
// namespace (entered for the purpose) the ports' programs and the devices
// vnet created. Only call with the control lock held.
absl::StatusOr<std::vector<Collected>> CollectDeadFabrics(bool all_namespaces,
                                                          const std::function<bool(const DeadFabric&)>& want);

std::string DescribeWhere(DeadWhere where);

}  // namespace vnet

#endif
