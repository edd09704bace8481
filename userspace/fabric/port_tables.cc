#include "fabric/port_tables.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "fabric/ip_ports.h"
#include "maps/fabric_bits.h"
#include "base/errors.h"

namespace vnet {
namespace {

using PortList = std::vector<std::pair<std::uint32_t, vnet_port>>;

absl::Status WriteFloodList(TablesBackend& maps, PortList ports) {
  std::sort(ports.begin(), ports.end(), [](auto& a, auto& b) { return a.second.slot < b.second.slot; });
  std::vector<vnet_flood_entry> flood;
  for (const auto& [ifindex, port] : ports)
    flood.push_back(vnet_flood_entry{ifindex, port.slot, port.mode, DatapathFlags(port)});
  return maps.WriteFloodList(flood);
}

// The config's passthru slot and has-* flags follow the tables (`ports`: the
// ports table as just read).
absl::Status RefreshFlags(TablesBackend& maps, const PortList& ports) {
  VNET_ASSIGN_OR_RETURN(auto sources, maps.ListSources());
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  config.passthru_ifindex = 0;
  config.passthru_slot = 0;
  config.passthru_flags = 0;
  VNET_ASSIGN_OR_RETURN(bool has_nets, maps.HasIpNets());
  FabricFlags flags = FabricFlagsOf(config);
  flags.has_hairpin = flags.has_ip_ports = false;
  flags.has_ip_nets = has_nets;
  flags.has_sources = !sources.empty();
  for (const auto& [ifindex, port] : ports) {
    flags.has_hairpin |= FlagsOf(port).hairpin;
    flags.has_ip_ports |= port.mode == VNET_MODE_IPVLAN;
    if (port.mode != VNET_MODE_PASSTHRU) continue;
    config.passthru_ifindex = ifindex;
    config.passthru_slot = port.slot;
    config.passthru_flags = DatapathFlags(port);
  }
  SetFabricFlags(config, flags);
  return maps.WriteConfig(config);
}

// The flood list and the config's flags after a port came or went, from one
// read of the ports table.
absl::Status RepublishPorts(TablesBackend& maps) {
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  VNET_RETURN_IF_ERROR(WriteFloodList(maps, ports));
  return RefreshFlags(maps, ports);
}

// One source MAC's list without `ifindex`; false when it was not listed.
absl::StatusOr<bool> DropSourcePort(TablesBackend& maps, std::uint32_t ifindex, const MacAddress& source) {
  VNET_ASSIGN_OR_RETURN(auto existing, maps.LookupSource(source));
  if (!existing) return false;
  vnet_source_entry entry{};
  for (std::uint32_t i = 0; i < existing->count && i < VNET_MAX_SOURCE_PORTS; ++i)
    if (existing->port[i].ifindex != ifindex) entry.port[entry.count++] = existing->port[i];
  if (entry.count == existing->count) return false;
  VNET_RETURN_IF_ERROR(entry.count ? maps.PutSource(source, entry) : maps.DeleteSource(source));
  return true;
}

}  // namespace

absl::Status RepublishFloodList(TablesBackend& maps) {
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  return WriteFloodList(maps, std::move(ports));
}

absl::Status RefreshFabricFlags(TablesBackend& maps) {
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  return RefreshFlags(maps, ports);
}

absl::Status PublishPort(TablesBackend& maps, std::uint32_t ifindex, const vnet_port& port) {
  VNET_RETURN_IF_ERROR(maps.PutPort(ifindex, port));
  if (FlagsOf(port).xdp_target)
    VNET_RETURN_IF_ERROR(maps.AddTxTarget(ifindex));
  else
    VNET_RETURN_IF_ERROR(maps.DeleteTxTarget(ifindex));
  VNET_RETURN_IF_ERROR(RepublishPorts(maps));
  // An IP-demux port is found by its addresses, never by its MAC (which it
  // shares with the uplink and its siblings).
  if (port.mode == VNET_MODE_IPVLAN) return RefreshPortIps(maps, ifindex, port);
  vnet_mac_entry entry{ifindex, port.slot, port.mode, DatapathFlags(port)};
  return maps.PutMac(PortMac(port), entry);
}

absl::Status WithdrawPort(TablesBackend& maps, std::uint32_t ifindex, const vnet_port& port) {
  VNET_ASSIGN_OR_RETURN(auto entry, maps.LookupMac(PortMac(port)));
  if (entry && entry->ifindex == ifindex) VNET_RETURN_IF_ERROR(maps.DeleteMac(PortMac(port)));
  VNET_RETURN_IF_ERROR(ForgetPortIps(maps, ifindex));
  VNET_RETURN_IF_ERROR(FlushSources(maps, ifindex));
  VNET_RETURN_IF_ERROR(maps.DeleteTxTarget(ifindex));
  VNET_RETURN_IF_ERROR(maps.DeletePort(ifindex));
  VNET_RETURN_IF_ERROR(RepublishPorts(maps));
  // Last, the port gone: its slot's list must not pass to the next port given the slot.
  return SyncAllowIps(maps, port.slot, {});
}

absl::Status WithdrawPorts(TablesBackend& maps, const std::vector<std::pair<std::uint32_t, vnet_port>>& ports) {
  VNET_RETURN_IF_ERROR(maps.WriteFloodList({}));
  std::set<std::uint32_t> gone;
  std::set<std::uint16_t> slots;
  for (const auto& [ifindex, port] : ports) {
    VNET_ASSIGN_OR_RETURN(auto entry, maps.LookupMac(PortMac(port)));
    if (entry && entry->ifindex == ifindex) VNET_RETURN_IF_ERROR(maps.DeleteMac(PortMac(port)));
    gone.insert(ifindex);
    slots.insert(port.slot);
  }
  // Each address and source table walked once for all ports, not per port.
  VNET_RETURN_IF_ERROR(ForgetPortsIps(maps, [&gone](std::uint32_t i) { return gone.count(i) > 0; }));
  VNET_ASSIGN_OR_RETURN(auto sources, maps.ListSources());
  for (const auto& [mac, listed] : sources) {
    vnet_source_entry kept{};
    for (std::uint32_t i = 0; i < listed.count && i < VNET_MAX_SOURCE_PORTS; ++i)
      if (!gone.count(listed.port[i].ifindex)) kept.port[kept.count++] = listed.port[i];
    if (kept.count != listed.count)
      VNET_RETURN_IF_ERROR(kept.count ? maps.PutSource(mac, kept) : maps.DeleteSource(mac));
  }
  for (const auto& [ifindex, port] : ports) {
    VNET_RETURN_IF_ERROR(maps.DeleteTxTarget(ifindex));
    VNET_RETURN_IF_ERROR(maps.DeletePort(ifindex));
  }
  VNET_RETURN_IF_ERROR(RepublishPorts(maps));  // what a port added meanwhile would need
  VNET_ASSIGN_OR_RETURN(auto allowed, maps.ListAllow());
  for (const auto& [slot, prefix] : allowed)
    if (slots.count(slot)) VNET_RETURN_IF_ERROR(maps.DeleteAllow(slot, prefix));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<IpPrefix>> AllowIpsOf(const TablesBackend& maps, std::uint16_t slot) {
  VNET_ASSIGN_OR_RETURN(auto all, maps.ListAllow());
  std::vector<IpPrefix> out;
  for (const auto& [s, prefix] : all)
    if (s == slot) out.push_back(prefix);
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status AddAllowIps(TablesBackend& maps, std::uint16_t slot, const std::vector<IpPrefix>& want) {
  VNET_ASSIGN_OR_RETURN(auto have, AllowIpsOf(maps, slot));
  for (const auto& prefix : want)
    if (std::find(have.begin(), have.end(), prefix) == have.end()) VNET_RETURN_IF_ERROR(maps.PutAllow(slot, prefix));
  return absl::OkStatus();
}

absl::Status SyncAllowIps(TablesBackend& maps, std::uint16_t slot, const std::vector<IpPrefix>& want) {
  VNET_RETURN_IF_ERROR(AddAllowIps(maps, slot, want));
  VNET_ASSIGN_OR_RETURN(auto have, AllowIpsOf(maps, slot));
  for (const auto& prefix : have)
    if (std::find(want.begin(), want.end(), prefix) == want.end()) VNET_RETURN_IF_ERROR(maps.DeleteAllow(slot, prefix));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<MacAddress>> SourcesOf(const TablesBackend& maps, std::uint32_t ifindex) {
  VNET_ASSIGN_OR_RETURN(auto sources, maps.ListSources());
  std::vector<MacAddress> out;
  for (const auto& [mac, entry] : sources)
    for (std::uint32_t i = 0; i < entry.count && i < VNET_MAX_SOURCE_PORTS; ++i)
      if (entry.port[i].ifindex == ifindex) out.push_back(mac);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.bytes < b.bytes; });
  return out;
}

absl::Status AddSource(TablesBackend& maps, std::uint32_t ifindex, const vnet_port& port, const MacAddress& source) {
  VNET_ASSIGN_OR_RETURN(auto existing, maps.LookupSource(source));
  vnet_source_entry entry = existing.value_or(vnet_source_entry{});
  for (std::uint32_t i = 0; i < entry.count; ++i)
    if (entry.port[i].ifindex == ifindex) return absl::OkStatus();  // already listed, as the kernel treats it
  if (entry.count >= VNET_MAX_SOURCE_PORTS)
    return absl::ResourceExhaustedError(absl::StrCat("source MAC ", source.ToString(), " is listed by ",
                                                     VNET_MAX_SOURCE_PORTS, " ports already"));
  entry.port[entry.count++] = vnet_source_port{ifindex, port.slot, DatapathFlags(port), 0};
  VNET_RETURN_IF_ERROR(maps.PutSource(source, entry));
  return RefreshFabricFlags(maps);
}

absl::Status RemoveSource(TablesBackend& maps, std::uint32_t ifindex, const MacAddress& source) {
  VNET_ASSIGN_OR_RETURN(bool dropped, DropSourcePort(maps, ifindex, source));
  if (!dropped) return absl::NotFoundError(absl::StrCat("source MAC ", source.ToString(), " is not listed"));
  return RefreshFabricFlags(maps);
}

absl::Status FlushSources(TablesBackend& maps, std::uint32_t ifindex) {
  VNET_ASSIGN_OR_RETURN(auto mine, SourcesOf(maps, ifindex));
  if (mine.empty()) return absl::OkStatus();  // nothing changed: the flags stand
  for (const auto& mac : mine) VNET_RETURN_IF_ERROR(DropSourcePort(maps, ifindex, mac).status());
  return RefreshFabricFlags(maps);
}

}  // namespace vnet
