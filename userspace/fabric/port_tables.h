// How one port is published to, and withdrawn from, the datapath's tables.
// Every change to a port (add, set, del, source lists) goes through here, so
// the port table, MAC table, flood list, XDP targets, passthru slot and
// source lists never disagree.
#ifndef VNET_FABRIC_PORT_TABLES_H
#define VNET_FABRIC_PORT_TABLES_H

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "maps/tables_backend.h"
#include "maps/port_bits.h"
#include "base/mac_address.h"

namespace vnet {

// Writes the port everywhere; the MAC table entry last, since from then on
// the wire side delivers to it. An ipvlan port has no MAC entry: its
// address entries are rewritten instead (they carry its slot and flags).
absl::Status PublishPort(TablesBackend& maps, std::uint32_t ifindex, const vnet_port& port);
// Removes the port everywhere (addresses and DHCP transactions too); the MAC
// table entry first.
absl::Status WithdrawPort(TablesBackend& maps, std::uint32_t ifindex, const vnet_port& port);
// Removes every port of `ports` (a fabric being taken down) the way
// WithdrawPort removes one, with the flood list emptied once, first, and the
// fabric's flags recomputed once, last: linear in the number of ports.
absl::Status WithdrawPorts(TablesBackend& maps, const std::vector<std::pair<std::uint32_t, vnet_port>>& ports);

// Recomputes the config flags that follow the tables (HAS_IP_NETS after an
// address change, HAS_SOURCES, HAS_HAIRPIN, HAS_IP_PORTS, passthru).
absl::Status RefreshFabricFlags(TablesBackend& maps);
// Rewrites the flood list from vnet_ports (after a migration recreated it).
absl::Status RepublishFloodList(TablesBackend& maps);

// Source-mode list of one port.
absl::StatusOr<std::vector<MacAddress>> SourcesOf(const TablesBackend& maps, std::uint32_t ifindex);
absl::Status AddSource(TablesBackend& maps, std::uint32_t ifindex, const vnet_port& port, const MacAddress& source);
absl::Status RemoveSource(TablesBackend& maps, std::uint32_t ifindex, const MacAddress& source);
absl::Status FlushSources(TablesBackend& maps, std::uint32_t ifindex);

// --allow-ip lists (vnet_allow), keyed by slot. The datapath consults them
// only for a port whose flags have allow_ip (PortFlags), so a change keeps
// every list it can see whole: entries are written before the flag is set,
// the flag is cleared before they are deleted, and a list replaced under a
// set flag gets its new entries before the old ones go (a reader sees the
// old list, the union, or the new one).
absl::StatusOr<std::vector<IpPrefix>> AllowIpsOf(const TablesBackend& maps, std::uint16_t slot);
// Adds the entries of `want` the slot lacks (removes nothing).
absl::Status AddAllowIps(TablesBackend& maps, std::uint16_t slot, const std::vector<IpPrefix>& want);
// Makes the slot's entries exactly `want`: additions first, then removals.
absl::Status SyncAllowIps(TablesBackend& maps, std::uint16_t slot, const std::vector<IpPrefix>& want);

}  // namespace vnet

#endif
