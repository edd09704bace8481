#include "fabric/teardown_ports.h"

#include <sys/random.h>

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fabric/ip_ports.h"
#include "fabric/l3s.h"
#include "fabric/port_tables.h"
#include "fabric/registry.h"
#include "loader/tc_hook.h"
#include "base/errors.h"
#include "loader/pins.h"
#include "netlink/rtnl.h"

namespace vnet {
namespace {

// A device group no device of this netns is in: deleting it deletes only the
// devices vnet put in it (the control lock keeps other vnetctls out).
absl::StatusOr<std::uint32_t> UnusedGroup(Rtnl& rtnl) {
  VNET_ASSIGN_OR_RETURN(auto links, rtnl.ListLinks());
  std::set<std::uint32_t> used;
  for (const auto& link : links) used.insert(link.group);
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::uint32_t group = 0;
    if (getrandom(&group, sizeof(group), 0) != sizeof(group)) break;
    group = 0x40000000u | (group & 0x3fffffffu);  // far from 0 (default) and small admin-chosen groups
    if (!used.count(group)) return group;
  }
  return absl::InternalError("no free device group to delete ports in one batch");
}

// Deletes `devices` (ifindex, name), in one batch when it can, one by one when it cannot.
absl::Status DeleteDevices(Rtnl& rtnl, const std::vector<LinkInfo>& devices) {
  if (devices.empty()) return absl::OkStatus();
  if (devices.size() > 1) {
    auto group = UnusedGroup(rtnl);
    bool grouped = group.ok();
    for (const auto& dev : devices)
      if (grouped && !rtnl.SetGroup(dev.ifindex, *group, dev.name).ok()) grouped = false;
    if (grouped && rtnl.DeleteGroup(*group).ok()) return absl::OkStatus();
  }
  for (const auto& dev : devices) {  // what the batch left (it deletes all or none)
    auto status = rtnl.DeleteLink(dev.ifindex, dev.name);
    if (!status.ok() && !absl::IsNotFound(status)) return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RemoveAllPorts(FabricMaps& maps, const std::string& fabric) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  if (ports.empty()) return absl::OkStatus();
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  bool l3s = config.ipvlan_mode == VNET_IPVLAN_L3S;
  std::vector<std::pair<LinkInfo, vnet_port>> present;  // ports whose device is still there
  for (const auto& [ifindex, port] : ports) {
    auto dev = rtnl.GetLink(static_cast<int>(ifindex));
    if (!dev.ok()) continue;
    if (l3s && port.mode == VNET_MODE_IPVLAN) {
      VNET_ASSIGN_OR_RETURN(auto addresses, AddressesOf(maps, ifindex));
      RemoveL3sEntries(rtnl, *dev, L3sEntriesFor(dev->ifindex, addresses));
    }
    present.emplace_back(std::move(*dev), port);
  }
  // Stop delivering to them first, then stop listening to them.
  VNET_RETURN_IF_ERROR(WithdrawPorts(maps, ports));
  TcHook hook = FabricTcHook(config);
  std::vector<LinkInfo> owned;
  for (const auto& [dev, port] : present) {
    VNET_RETURN_IF_ERROR(DetachTc(hook, TcDirection::kIngress, dev.ifindex, dev.name,
                                  FabricPinPath(fabric, PortLinkPin(static_cast<std::uint32_t>(dev.ifindex)))));
    // RTM_DELLINK works for taps too, even while a VM holds them (as for macvtap).
    if (PortOwned(port)) owned.push_back(dev);
  }
  // A port whose device vanished: its link died with it; its pin goes.
  for (const auto& [ifindex, port] : ports) (void)Unpin(FabricPinPath(fabric, PortLinkPin(ifindex)));
  return DeleteDevices(rtnl, owned);
}

}  // namespace vnet
