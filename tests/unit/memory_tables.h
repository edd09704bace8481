// An in-memory TablesBackend: fabric logic's tables without a kernel, for
// unit tests of the port rules (fabric/tables_backend.h).
#ifndef VNET_TESTS_UNIT_MEMORY_TABLES_H
#define VNET_TESTS_UNIT_MEMORY_TABLES_H

#include <cstring>
#include <map>

#include "fabric/tables_backend.h"

namespace vnet {

class MemoryTables final : public TablesBackend {
 public:
  vnet_config config{};
  std::map<std::uint32_t, vnet_port> ports;
  std::map<std::string, vnet_mac_entry> macs;  // by MacAddress::ToString()

  // A port as port add publishes it: its entry and (MAC-demux) its MAC.
  void AddPort(std::uint32_t ifindex, std::uint16_t slot, const MacAddress& mac, std::uint8_t mode = VNET_MODE_VEPA) {
    vnet_port port{};
    std::memcpy(port.mac, mac.bytes.data(), 6);
    port.slot = slot;
    port.mode = mode;
    ports[ifindex] = port;
    if (mode != VNET_MODE_IPVLAN) macs[mac.ToString()] = vnet_mac_entry{ifindex, slot, mode, 0};
  }

  absl::StatusOr<vnet_config> ReadConfig() const override { return config; }
  absl::StatusOr<std::optional<vnet_mac_entry>> LookupMac(const MacAddress& mac) const override {
    auto it = macs.find(mac.ToString());
    if (it == macs.end()) return std::nullopt;
    return it->second;
  }
  absl::StatusOr<std::vector<std::pair<std::uint32_t, vnet_port>>> ListPorts() const override {
    return std::vector<std::pair<std::uint32_t, vnet_port>>(ports.begin(), ports.end());
  }
};

}  // namespace vnet

#endif
