#include "fabric/uplink_state.h"

#include <linux/if.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "fabric/fabric.h"
#include "fabric/operations.h"
#include "fabric/host_ips.h"
#include "fabric/lock.h"
#include "fabric/port_tables.h"
#include "fabric/registry.h"
#include "base/errors.h"
#include "maps/fabric_maps.h"
#include "netlink/link_events.h"
#include "netlink/netns.h"
#include "netlink/rtnl.h"

namespace vnet {
namespace {

// Clamps the container side of a veth port to `mtu` (the host end is done by the caller).
absl::Status ClampPeerMtu(Rtnl& rtnl, const LinkInfo& dev, unsigned mtu) {
  if (dev.kind != "veth" || !dev.link_ifindex) return absl::OkStatus();
  if (!dev.link_netnsid) {
    VNET_ASSIGN_OR_RETURN(LinkInfo peer, rtnl.GetLink(dev.link_ifindex));
    return peer.mtu > mtu ? rtnl.SetMtu(peer.ifindex, mtu, peer.name) : absl::OkStatus();
  }
  VNET_ASSIGN_OR_RETURN(UniqueFd ns, FindNetnsByNsid(rtnl, *dev.link_netnsid));
  VNET_ASSIGN_OR_RETURN(ScopedNetns inside, ScopedNetns::Enter(ns.get(), absl::StrCat("peer of ", dev.name)));
  VNET_ASSIGN_OR_RETURN(Rtnl inner, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(LinkInfo peer, inner.GetLink(dev.link_ifindex));
  return peer.mtu > mtu ? inner.SetMtu(peer.ifindex, mtu, peer.name) : absl::OkStatus();
}

}  // namespace

absl::StatusOr<SyncReport> SyncUplinkState(const std::string& fabric) {
  SyncReport report{fabric, {}};
  VNET_ASSIGN_OR_RETURN(int pruned, PruneGonePorts(fabric));
  if (pruned) report.changes.push_back(absl::StrCat(pruned, " port(s) deleted outside vnet forgotten"));
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric));
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  auto uplink = rtnl.GetLink(static_cast<int>(config.uplink_ifindex));
  bool gone = !uplink.ok();
  bool down = gone || !uplink->admin_up() || !uplink->has_carrier;

  FabricFlags was = FabricFlagsOf(config), flags = was;
  flags.defunct |= gone;
  flags.uplink_down = down;
  if (flags != was) {
    vnet_config next = config;
    SetFabricFlags(next, flags);
    VNET_RETURN_IF_ERROR(maps.WriteConfig(next));
    if (gone && !was.defunct) report.changes.push_back("uplink deleted: fabric defunct");
    else if (down) report.changes.push_back("uplink down: ports stop forwarding");
    else report.changes.push_back("uplink up: ports forward again");
  }

  // DHCP leases must never take the host's addresses (fabric/host_ips.h).
  if (!gone) VNET_RETURN_IF_ERROR(PublishHostIps(rtnl, maps));
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  for (auto [ifindex, port] : ports) {
    auto dev = rtnl.GetLink(static_cast<int>(ifindex));
    if (!dev.ok()) continue;
    bool held = PortHeldDown(port);
    if (down && dev->admin_up()) {
      // The container side sees no carrier while its host end is down.
      VNET_RETURN_IF_ERROR(rtnl.SetUp(dev->ifindex, false, dev->name));
      SetPortHeldDown(port, true);
      VNET_RETURN_IF_ERROR(maps.PutPort(ifindex, port));
      report.changes.push_back(absl::StrCat(dev->name, ": down with its uplink"));
    } else if (!down && held) {
      VNET_RETURN_IF_ERROR(rtnl.SetUp(dev->ifindex, true, dev->name));
      SetPortHeldDown(port, false);
      VNET_RETURN_IF_ERROR(maps.PutPort(ifindex, port));
      report.changes.push_back(absl::StrCat(dev->name, ": up with its uplink"));
    }
    if (!gone && dev->mtu > uplink->mtu) {
      VNET_RETURN_IF_ERROR(rtnl.SetMtu(dev->ifindex, uplink->mtu, dev->name));
      VNET_RETURN_IF_ERROR(ClampPeerMtu(rtnl, *dev, uplink->mtu));
      report.changes.push_back(absl::StrCat(dev->name, ": MTU clamped to ", uplink->mtu));
    }
  }
  return report;
}

namespace {

absl::Status SyncAll(const MonitorReporter& report) {
  VNET_ASSIGN_OR_RETURN(UniqueFd lock, AcquireControlLock());
  for (const auto& fabric : ListLocalFabrics()) {
    auto synced = SyncUplinkState(fabric);
    if (!synced.ok()) {
      report(fabric, synced.status());  // one fabric's failure stops no other
      continue;
    }
    for (const auto& change : synced->changes) report(fabric, change);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MonitorUplinks(bool once, const MonitorReporter& report, const std::atomic<bool>& stop) {
  VNET_ASSIGN_OR_RETURN(LinkEvents events, LinkEvents::Subscribe());
  VNET_RETURN_IF_ERROR(SyncAll(report));  // subscribe first, then sync: no event is missed
  if (once) return absl::OkStatus();
  while (!stop.load()) {
    VNET_ASSIGN_OR_RETURN(bool changed, events.WaitForChange(1000));
    if (changed) VNET_RETURN_IF_ERROR(SyncAll(report));
  }
  return absl::OkStatus();
}

}  // namespace vnet
