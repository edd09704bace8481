// The datapath's tables of one fabric as an interface: every read and write
// the port operations and their rules make (port add, set, del, source lists,
// ipvlan addresses, allow lists). FabricMaps is the implementation over the
// pinned maps; unit tests put an in-memory one behind it
// (tests/unit/memory_tables.h) and run the fabric logic without a kernel, the
// way Katran tests KatranLb through BpfAdapter. Attach, reload, DHCP host
// addresses, counters and the MAC front cache stay FabricMaps-only: they are
// about programs and pins, which have no in-memory equivalent.
#ifndef VNET_MAPS_TABLES_BACKEND_H
#define VNET_MAPS_TABLES_BACKEND_H

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/ip_address.h"
#include "base/mac_address.h"
#include "vnet/abi.h"

namespace vnet {

class TablesBackend {
 public:
  virtual ~TablesBackend() = default;

  virtual absl::StatusOr<vnet_config> ReadConfig() const = 0;
  virtual absl::Status WriteConfig(const vnet_config& config) = 0;

  virtual absl::StatusOr<std::optional<vnet_mac_entry>> LookupMac(const MacAddress& mac) const = 0;
  virtual absl::Status PutMac(const MacAddress& mac, const vnet_mac_entry& entry) = 0;
  virtual absl::Status DeleteMac(const MacAddress& mac) = 0;

  virtual absl::StatusOr<std::optional<vnet_port>> LookupPort(std::uint32_t ifindex) const = 0;
  virtual absl::Status PutPort(std::uint32_t ifindex, const vnet_port& port) = 0;
  virtual absl::Status DeletePort(std::uint32_t ifindex) = 0;
  virtual absl::StatusOr<std::vector<std::pair<std::uint32_t, vnet_port>>> ListPorts() const = 0;

  virtual absl::Status WriteFloodList(const std::vector<vnet_flood_entry>& entries) = 0;
  virtual absl::StatusOr<std::vector<vnet_flood_entry>> ReadFloodList() const = 0;

  virtual absl::StatusOr<std::optional<vnet_source_entry>> LookupSource(const MacAddress& mac) const = 0;
  virtual absl::Status PutSource(const MacAddress& mac, const vnet_source_entry& entry) = 0;
  virtual absl::Status DeleteSource(const MacAddress& mac) = 0;
  virtual absl::StatusOr<std::vector<std::pair<MacAddress, vnet_source_entry>>> ListSources() const = 0;

  virtual absl::StatusOr<std::optional<vnet_ip_entry>> LookupIp(const IpAddress& ip) const = 0;
  virtual absl::Status PutIp(const IpAddress& ip, const vnet_ip_entry& entry) = 0;
  virtual absl::Status DeleteIp(const IpAddress& ip) = 0;
  virtual absl::StatusOr<std::vector<std::pair<IpAddress, vnet_ip_entry>>> ListIps() const = 0;
  virtual absl::Status PutIpNet(const IpPrefix& net, const vnet_ip_entry& entry) = 0;
  virtual absl::Status DeleteIpNet(const IpPrefix& net) = 0;
  virtual absl::StatusOr<std::vector<std::pair<IpPrefix, vnet_ip_entry>>> ListIpNets() const = 0;
  virtual absl::StatusOr<bool> HasIpNets() const = 0;
  virtual absl::StatusOr<std::vector<std::pair<std::uint32_t, vnet_dhcp_xact>>> ListDhcp() const = 0;
  virtual absl::Status DeleteDhcp(std::uint32_t xid) = 0;
  virtual absl::StatusOr<std::vector<std::pair<IpAddress, vnet_lease>>> ListLeases() const = 0;
  virtual absl::Status DeleteLease(const IpAddress& ip) = 0;

  virtual absl::Status PutAllow(std::uint16_t slot, const IpPrefix& prefix) = 0;
  virtual absl::Status DeleteAllow(std::uint16_t slot, const IpPrefix& prefix) = 0;
  virtual absl::StatusOr<std::vector<std::pair<std::uint16_t, IpPrefix>>> ListAllow() const = 0;

  virtual absl::Status AddTxTarget(std::uint32_t ifindex) = 0;
  virtual absl::Status DeleteTxTarget(std::uint32_t ifindex) = 0;

  // A new port's slot starts from zero (no counts of the port that had it).
  virtual absl::Status ClearStats(std::uint32_t slot) = 0;

  // Storm control (vnet_storm) by slot, in frames per second (0: no limit);
  // slot VNET_UPLINK_SLOT is the fabric's. Writing restarts the bucket.
  virtual absl::Status WriteStormLimit(std::uint32_t slot, std::uint32_t pps) = 0;
  virtual absl::StatusOr<std::uint32_t> ReadStormLimit(std::uint32_t slot) const = 0;
};

}  // namespace vnet

#endif
