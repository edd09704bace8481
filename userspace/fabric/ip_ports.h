// The addresses of IP-demux (ipvlan) ports: what vnet_ips and vnet_ip_nets
// hold, the rule that an address has one owner in this netns, and reading
// them back for show.
#ifndef VNET_FABRIC_IP_PORTS_H
#define VNET_FABRIC_IP_PORTS_H

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabric/types.h"
#include "fabric/undo.h"
#include "maps/tables_backend.h"

namespace vnet {

// Refuses an address or prefix that any port of any fabric in this netns
// already owns, and the same one twice in `ips`:
//   "198.18.0.5 is already an address of port vnp1".
absl::Status CheckIpsFree(const std::vector<PortIp>& ips, absl::string_view what);

// Publishes one address (vnet_ips) or routed prefix (vnet_ip_nets) of a port.
// `ip_flags`: enum vnet_ip_flag. The inverse is pushed on `undo`.
absl::Status AddPortIp(TablesBackend& maps, std::uint32_t ifindex, const vnet_port& port, const PortIp& ip,
                       std::uint8_t ip_flags, Undo& undo);
// NotFound when `ip` is not the port's.
absl::Status RemovePortIp(TablesBackend& maps, std::uint32_t ifindex, const PortIp& ip);
// Rewrites the port's entries after its slot or flags changed.
absl::Status RefreshPortIps(TablesBackend& maps, std::uint32_t ifindex, const vnet_port& port);
// Removes every address, prefix and open DHCP transaction of the port,
// learned ones included.
absl::Status ForgetPortIps(TablesBackend& maps, std::uint32_t ifindex);
// The same for every port `of` selects, each table walked once.
absl::Status ForgetPortsIps(TablesBackend& maps, const std::function<bool(std::uint32_t)>& of);

// Every port's addresses, by ifindex, sorted (link-local last).
absl::StatusOr<std::map<std::uint32_t, std::vector<PortAddress>>> AddressesByPort(const TablesBackend& maps);
absl::StatusOr<std::vector<PortAddress>> AddressesOf(const TablesBackend& maps, std::uint32_t ifindex);

}  // namespace vnet

#endif
