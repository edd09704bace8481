// Typed access to one fabric's pinned maps (layouts from include/vnet/abi.h).
// The only userspace code that reads or writes datapath tables.
#ifndef VNET_MAPS_FABRIC_MAPS_H
#define VNET_MAPS_FABRIC_MAPS_H

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "maps/fabric_bits.h"
#include "maps/mac_front.h"
#include "maps/tables_backend.h"
#include "base/ip_address.h"
#include "base/mac_address.h"
#include "vnet/abi.h"

namespace vnet {

// The pinned maps behind TablesBackend, and what only pinned maps have.
class FabricMaps final : public TablesBackend {
 public:
  static absl::StatusOr<FabricMaps> Open(const std::string& fabric);

  absl::StatusOr<vnet_config> ReadConfig() const override;
  absl::Status WriteConfig(const vnet_config& config) override;

  absl::StatusOr<std::optional<vnet_mac_entry>> LookupMac(const MacAddress& mac) const override;
  // vnet_macs, and the datapath's front cache of it (maps/mac_front.h).
  absl::Status PutMac(const MacAddress& mac, const vnet_mac_entry& entry) override;
  absl::Status DeleteMac(const MacAddress& mac) override;
  // Refills the front cache from vnet_macs (after a migration created it empty).
  absl::Status RefillMacFront();
  // Mapped on first use: most operations never touch it, and mapping and
  // unmapping 4 MB costs more than everything else an open does.
  const MacFront& mac_front() const;

  absl::StatusOr<std::optional<vnet_port>> LookupPort(std::uint32_t ifindex) const override;
  absl::Status PutPort(std::uint32_t ifindex, const vnet_port& port) override;
  absl::Status DeletePort(std::uint32_t ifindex) override;
  absl::StatusOr<std::vector<std::pair<std::uint32_t, vnet_port>>> ListPorts() const override;

  // Replaces the flood list whole (one map update: readers see the old list
  // or the new one).
  absl::Status WriteFloodList(const std::vector<vnet_flood_entry>& entries) override;
  absl::StatusOr<std::vector<vnet_flood_entry>> ReadFloodList() const override;

  // Source-mode lists (vnet_sources), keyed by the listed source MAC.
  absl::StatusOr<std::optional<vnet_source_entry>> LookupSource(const MacAddress& mac) const override;
  absl::Status PutSource(const MacAddress& mac, const vnet_source_entry& entry) override;
  absl::Status DeleteSource(const MacAddress& mac) override;
  absl::StatusOr<std::vector<std::pair<MacAddress, vnet_source_entry>>> ListSources() const override;

  // IP-demux tables. vnet_ip_nets is keyed exactly here (the datapath does
  // the longest-prefix match); vnet_dhcp maps a DHCP xid to its client port.
  absl::StatusOr<std::optional<vnet_ip_entry>> LookupIp(const IpAddress& ip) const override;
  absl::Status PutIp(const IpAddress& ip, const vnet_ip_entry& entry) override;
  absl::Status DeleteIp(const IpAddress& ip) override;
  absl::StatusOr<std::vector<std::pair<IpAddress, vnet_ip_entry>>> ListIps() const override;
  absl::Status PutIpNet(const IpPrefix& net, const vnet_ip_entry& entry) override;
  absl::Status DeleteIpNet(const IpPrefix& net) override;
  absl::StatusOr<std::vector<std::pair<IpPrefix, vnet_ip_entry>>> ListIpNets() const override;
  absl::StatusOr<bool> HasIpNets() const override;
  // DHCP of l2 ports (abi.h): open transactions by xid, learned leases, the
  // host's uplink addresses no lease may take, the fabric's lease cap.
  absl::StatusOr<std::vector<std::pair<std::uint32_t, vnet_dhcp_xact>>> ListDhcp() const override;
  absl::Status DeleteDhcp(std::uint32_t xid) override;
  absl::StatusOr<std::vector<std::pair<IpAddress, vnet_lease>>> ListLeases() const override;
  absl::Status DeleteLease(const IpAddress& ip) override;
  // Makes vnet_host_ips hold exactly `ips`.
  absl::Status SetHostIps(const std::vector<IpAddress>& ips);
  absl::StatusOr<std::vector<IpAddress>> ListHostIps() const;
  absl::StatusOr<vnet_dhcp_cfg> ReadDhcpConfig() const;
  absl::Status WriteDhcpConfig(const vnet_dhcp_cfg& cfg);

  // --allow-ip of MAC-demux ports (vnet_allow), keyed by the port's slot.
  absl::Status PutAllow(std::uint16_t slot, const IpPrefix& prefix) override;
  absl::Status DeleteAllow(std::uint16_t slot, const IpPrefix& prefix) override;
  absl::StatusOr<std::vector<std::pair<std::uint16_t, IpPrefix>>> ListAllow() const override;

  absl::Status AddTxTarget(std::uint32_t ifindex) override;
  absl::Status DeleteTxTarget(std::uint32_t ifindex) override;

  // Sums the per-CPU counters of one slot.
  absl::StatusOr<vnet_stats> ReadStats(std::uint32_t slot) const;
  absl::Status ClearStats(std::uint32_t slot) override;

  absl::Status WriteStormLimit(std::uint32_t slot, std::uint32_t pps) override;
  absl::StatusOr<std::uint32_t> ReadStormLimit(std::uint32_t slot) const override;

 private:
  FabricMaps() = default;
  std::string fabric_;
  UniqueFd config_, macs_, ports_, flood_, tx_, stats_, sources_, ips_, ip_nets_, dhcp_, allow_, mac_front_fd_, slots_fd_;
  absl::StatusOr<MacFront*> Front() const;
  mutable std::optional<MacFront> mac_front_;  // vnet_mac_front and vnet_slots, mmapped
  UniqueFd dhcp_ring_, leases_, host_ips_, dhcp_cfg_, storm_;
};

}  // namespace vnet

#endif
