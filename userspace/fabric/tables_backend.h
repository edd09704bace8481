// The seam between fabric logic and the datapath's tables: the reads the
// port rules need, as an interface (the way Katran tests KatranLb through
// BpfAdapter). libvnet puts the pinned maps behind it (MapsTables); unit
// tests put an in-memory table behind it (tests/unit/memory_tables.h) and
// run the rules without a kernel.
#ifndef VNET_FABRIC_TABLES_BACKEND_H
#define VNET_FABRIC_TABLES_BACKEND_H

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "base/mac_address.h"
#include "maps/fabric_maps.h"
#include "vnet/abi.h"

namespace vnet {

class TablesBackend {
 public:
  virtual ~TablesBackend() = default;
  virtual absl::StatusOr<vnet_config> ReadConfig() const = 0;
  virtual absl::StatusOr<std::optional<vnet_mac_entry>> LookupMac(const MacAddress& mac) const = 0;
  virtual absl::StatusOr<std::vector<std::pair<std::uint32_t, vnet_port>>> ListPorts() const = 0;
};

// One fabric's pinned maps as a TablesBackend (borrowed: `maps` outlives it).
class MapsTables final : public TablesBackend {
 public:
  explicit MapsTables(const FabricMaps& maps) : maps_(maps) {}
  absl::StatusOr<vnet_config> ReadConfig() const override { return maps_.ReadConfig(); }
  absl::StatusOr<std::optional<vnet_mac_entry>> LookupMac(const MacAddress& mac) const override {
    return maps_.LookupMac(mac);
  }
  absl::StatusOr<std::vector<std::pair<std::uint32_t, vnet_port>>> ListPorts() const override {
    return maps_.ListPorts();
  }

 private:
  const FabricMaps& maps_;
};

}  // namespace vnet

#endif
