// show / stats: reading a fabric back from its pinned state.
#include <linux/if_link.h>
#include <time.h>

#include <algorithm>
#include <map>

#include "absl/strings/string_view.h"
#include "absl/strings/str_cat.h"
#include "fabric/fabric.h"
#include "fabric/gc.h"
#include "fabric/operations.h"
#include "fabric/ip_ports.h"
#include "fabric/port_tables.h"
#include "fabric/registry.h"
#include "fabric/vxlan.h"
#include "base/errors.h"
#include "loader/links.h"
#include "loader/pins.h"
#include "loader/tc_hook.h"
#include "maps/fabric_maps.h"
#include "netlink/rtnl.h"

namespace vnet {
namespace {

// The time each learned address's lease has left, by port (vnet_leases;
// CLOCK_BOOTTIME like the datapath's bpf_ktime_get_boot_ns()).
absl::StatusOr<std::map<std::uint32_t, std::vector<LeaseTime>>> LeaseTimes(const FabricMaps& maps) {
  VNET_ASSIGN_OR_RETURN(auto leases, maps.ListLeases());
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  std::uint64_t now = static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
  std::map<std::uint32_t, std::vector<LeaseTime>> out;
  for (const auto& [ip, lease] : leases) {
    LeaseTime t{ip, std::nullopt};
    if (lease.expires_ns != VNET_LEASE_INFINITE)
      t.seconds = lease.expires_ns > now ? (lease.expires_ns - now) / 1000000000ull : 0;
    out[lease.ifindex].push_back(t);
  }
  return out;
}

absl::StatusOr<FabricInfo> Describe(Rtnl& rtnl, const std::string& fabric, bool with_ports = true) {
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric));
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  FabricInfo info;
  info.name = fabric;
  info.uplink_ifindex = config.uplink_ifindex;
  info.uplink_mac = MacAddress::FromBytes(config.uplink_mac);
  info.unknown_drop = config.unknown_policy == VNET_UNKNOWN_DROP;
  FabricFlags flags = FabricFlagsOf(config);
  info.host = flags.host;
  info.xdp_redirect = !flags.no_xdp_redirect;
  info.tc_hook = TcHookName(FabricTcHook(config));
  info.type = flags.ipvlan ? PortKind::kIpvlan : PortKind::kMacvlan;
  info.ipvlan_mode = static_cast<IpvlanMode>(config.ipvlan_mode);
  info.ipvlan_flag = static_cast<IpvlanFlag>(config.ipvlan_flags);
  // A dead fabric's uplink ifindex may name another device by now.
  auto uplink = UplinkGone(fabric, config) ? absl::StatusOr<LinkInfo>(absl::NotFoundError("uplink gone"))
                                           : rtnl.GetLink(static_cast<int>(config.uplink_ifindex));
  if (uplink.ok()) {
    info.uplink = uplink->name;
    // From the link just read: a QueryXdp would dump every link of the
    // namespace, and a CNI ADD describes the fabric with hundreds of ports.
    if (uplink->xdp_prog_id)
      info.xdp_mode = std::string(
          XdpModeName(uplink->xdp_attached == XDP_ATTACHED_SKB ? XdpMode::kGeneric : XdpMode::kNative));
  }
  bool no_xdp = flags.no_xdp;
  if (no_xdp && uplink.ok()) info.xdp_mode = "none";
  info.defunct = !uplink.ok() || info.xdp_mode.empty() || flags.defunct;
  if (uplink.ok() && uplink->kind == "vxlan") {
    VNET_ASSIGN_OR_RETURN(info.vxlan, DescribeVxlan(rtnl, uplink->ifindex, fabric, with_ports));
  }
  VNET_ASSIGN_OR_RETURN(info.storm_limit, maps.ReadStormLimit(VNET_UPLINK_SLOT));
  if (!with_ports) return info;
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  VNET_ASSIGN_OR_RETURN(auto addresses, AddressesByPort(maps));
  VNET_ASSIGN_OR_RETURN(auto allowed, maps.ListAllow());
  VNET_ASSIGN_OR_RETURN(auto leases, LeaseTimes(maps));
  VNET_ASSIGN_OR_RETURN(vnet_dhcp_cfg dhcp, maps.ReadDhcpConfig());
  if (dhcp.max_leases) info.dhcp_max_leases = dhcp.max_leases;
  // The ports' devices from one link dump, not one netlink round trip per
  // port: `show` of a 1000-port fabric stays one request.
  std::map<int, LinkInfo> links;
  if (!ports.empty()) {
    VNET_ASSIGN_OR_RETURN(auto all, rtnl.ListLinks());
    for (auto& link : all) links.emplace(link.ifindex, std::move(link));
  }
  for (const auto& [ifindex, port] : ports) {
    PortInfo p;
    p.ifindex = ifindex;
    p.mac = MacAddress::FromBytes(port.mac);
    if (port.mode == VNET_MODE_IPVLAN) {
      p.type = PortKind::kIpvlan;
      p.addresses = addresses[ifindex];
      p.leases = leases[ifindex];
    } else {
      p.mode = static_cast<PortMode>(port.mode);
    }
    p.slot = port.slot;
    VNET_ASSIGN_OR_RETURN(p.storm_limit, maps.ReadStormLimit(port.slot));
    if (port.mode == VNET_MODE_SOURCE) {
      VNET_ASSIGN_OR_RETURN(p.sources, SourcesOf(maps, ifindex));
    }
    p.flags = FlagsOf(port);
    for (const auto& [slot, prefix] : allowed)
      if (slot == port.slot) p.allow_ips.push_back(prefix);
    std::sort(p.allow_ips.begin(), p.allow_ips.end());
    auto found = links.find(static_cast<int>(ifindex));
    auto dev = found != links.end() ? absl::StatusOr<LinkInfo>(found->second)
                                     : absl::StatusOr<LinkInfo>(absl::NotFoundError("no such device"));
    if (dev.ok()) {
      p.kind = dev->kind;
      p.name = dev->name;
      p.up = dev->admin_up();
      p.carrier = dev->has_carrier;
      p.alias = dev->alias;
    }
    info.ports.push_back(std::move(p));
  }
  std::sort(info.ports.begin(), info.ports.end(), [](auto& a, auto& b) { return a.slot < b.slot; });
  return info;
}

}  // namespace

absl::StatusOr<std::vector<FabricInfo>> DescribeFabrics(std::optional<absl::string_view> name) {
  FabricIndexScope index;  // one scan of the fabrics for the whole operation
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  std::vector<std::string> fabrics;
  if (name) {
    auto fabric = ResolveFabric(*name);
    if (!fabric.ok()) return Prefix(fabric.status(), "show");
    fabrics.push_back(*fabric);
  } else {
    fabrics = ListLocalFabrics();
    std::sort(fabrics.begin(), fabrics.end());
  }
  std::vector<FabricInfo> out;
  for (const auto& fabric : fabrics) {
    VNET_ASSIGN_OR_RETURN(FabricInfo info, Describe(rtnl, fabric));
    out.push_back(std::move(info));
  }
  return out;
}

absl::StatusOr<FabricInfo> DescribeFabricSettings(absl::string_view name) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  auto fabric = ResolveFabric(name);
  if (!fabric.ok()) return Prefix(fabric.status(), "show");
  return Describe(rtnl, *fabric, /*with_ports=*/false);
}

std::vector<FabricInfo> DescribeOrphanFabrics() {
  std::vector<FabricInfo> out;
  for (const auto& dead : ListDeadFabrics(false)) {
    if (dead.where != DeadWhere::kNamespaceGone) continue;
    FabricInfo info;
    info.name = dead.name;
    info.uplink_mac = MacAddress::FromBytes(dead.config.uplink_mac);
    info.defunct = true;
    info.tc_hook = TcHookName(FabricTcHook(dead.config));
    out.push_back(std::move(info));
  }
  return out;
}

absl::StatusOr<std::vector<Counters>> ReadCounters(std::optional<absl::string_view> dev) {
  FabricIndexScope index;  // one scan of the fabrics for the whole operation
  VNET_ASSIGN_OR_RETURN(auto fabrics, DescribeFabrics(std::nullopt));
  std::vector<Counters> out;
  for (const auto& fabric : fabrics) {
    VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric.name));
    if (!dev || *dev == fabric.uplink || *dev == fabric.name) {
      Counters c{fabric.name, fabric.uplink.empty() ? fabric.name : fabric.uplink, true, {}};
      VNET_ASSIGN_OR_RETURN(c.stats, maps.ReadStats(VNET_UPLINK_SLOT));
      out.push_back(std::move(c));
    }
    for (const auto& port : fabric.ports) {
      if (dev && *dev != port.name && *dev != fabric.name) continue;
      Counters c{fabric.name, port.name, false, {}};
      VNET_ASSIGN_OR_RETURN(c.stats, maps.ReadStats(port.slot));
      out.push_back(std::move(c));
    }
  }
  if (dev && out.empty())
    return absl::NotFoundError(absl::StrCat("stats ", *dev, ": not a fabric, uplink or port"));
  return out;
}

}  // namespace vnet
