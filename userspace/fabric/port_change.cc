// port set / del, source lists, and forgetting ports whose device is gone.
#include <linux/if_arp.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "fabric/fabric.h"
#include "fabric/port_helpers.h"
#include "fabric/port_tables.h"
#include "fabric/registry.h"
#include "fabric/tc_hook.h"
#include "fabric/undo.h"
#include "loader/errors.h"
#include "loader/links.h"
#include "loader/pins.h"
#include "maps/fabric_maps.h"
#include "netlink/device_tuning.h"
#include "netlink/netns.h"
#include "netlink/rtnl.h"
#include "netlink/tap.h"

namespace vnet {
namespace {

struct FoundPort {
  LinkInfo dev;
  std::string fabric;
  FabricMaps maps;
  vnet_port port;
};

absl::StatusOr<FoundPort> FindPort(Rtnl& rtnl, absl::string_view dev_name, absl::string_view what) {
  auto dev = rtnl.GetLink(dev_name);
  if (!dev.ok()) return Prefix(dev.status(), what);
  auto ifindex = static_cast<std::uint32_t>(dev->ifindex);
  auto m = FindMembership(ifindex);
  if (!m || m->as_uplink) return absl::NotFoundError(absl::StrCat(what, " ", dev_name, ": not a port of any fabric"));
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(m->fabric));
  VNET_ASSIGN_OR_RETURN(auto port, maps.LookupPort(ifindex));
  if (!port) return absl::NotFoundError(absl::StrCat(what, " ", dev_name, ": not a port of any fabric"));
  return FoundPort{std::move(*dev), m->fabric, std::move(maps), *port};
}

}  // namespace

absl::StatusOr<int> PruneGonePorts(const std::string& fabric) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric));
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  int pruned = 0;
  for (const auto& [ifindex, port] : ports) {
    if (rtnl.GetLink(static_cast<int>(ifindex)).ok()) continue;
    // The device took its tc attachment with it; only vnet's records remain.
    VNET_RETURN_IF_ERROR(WithdrawPort(maps, ifindex, port));
    VNET_RETURN_IF_ERROR(Unpin(FabricPinPath(fabric, PortLinkPin(ifindex))));
    ++pruned;
  }
  return pruned;
}

absl::Status DeletePort(absl::string_view dev_name) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindPort(rtnl, dev_name, "port del"));
  auto ifindex = static_cast<std::uint32_t>(found.dev.ifindex);
  // Stop delivering to it first, then stop listening to it.
  VNET_RETURN_IF_ERROR(WithdrawPort(found.maps, ifindex, found.port));
  VNET_ASSIGN_OR_RETURN(vnet_config config, found.maps.ReadConfig());
  TcHook hook = (config.flags & VNET_FABRIC_F_CLS_BPF) ? TcHook::kClsBpf : TcHook::kTcx;
  VNET_RETURN_IF_ERROR(DetachTc(hook, TcDirection::kIngress, found.dev.ifindex, found.dev.name,
                                FabricPinPath(found.fabric, PortLinkPin(ifindex))));
  // RTM_DELLINK works for taps too, even while a VM holds them (as for macvtap).
  if (found.port.flags & kPortOwned) return rtnl.DeleteLink(found.dev.ifindex, found.dev.name);
  return absl::OkStatus();
}

absl::StatusOr<PortInfo> ChangePort(const PortChange& change) {
  std::string what = absl::StrCat("port set ", change.dev);
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindPort(rtnl, change.dev, "port set"));
  auto ifindex = static_cast<std::uint32_t>(found.dev.ifindex);
  vnet_port old = found.port;
  vnet_port port = old;
  auto old_mode = static_cast<PortMode>(old.mode);
  PortMode mode = change.mode.value_or(old_mode);
  if ((mode == PortMode::kPassthru) != (old_mode == PortMode::kPassthru))
    return absl::InvalidArgumentError(absl::StrCat(what, ": cannot change a port to or from passthru mode"));
  bool nodst = change.nodst.value_or(old.flags & VNET_PORT_F_NODST);
  if (nodst && mode != PortMode::kSource)
    return absl::InvalidArgumentError(absl::StrCat(what, ": --nodst needs mode source"));
  VNET_ASSIGN_OR_RETURN(vnet_config config, found.maps.ReadConfig());
  VNET_ASSIGN_OR_RETURN(auto ports, found.maps.ListPorts());
  MacAddress mac = change.mac.value_or(PortMac(old));
  VNET_RETURN_IF_ERROR(CheckPortRules(found.maps, config, ports, ifindex, mode, mac, what));
  VNET_ASSIGN_OR_RETURN(auto sources, SourcesOf(found.maps, ifindex));
  if (mode != PortMode::kSource && !sources.empty() && old_mode == PortMode::kSource && change.mode)
    sources.clear();  // leaving source mode drops the list, as the kernel flushes it

  Undo undo;
  if (change.mac && *change.mac != PortMac(old))  // the container side takes the new MAC
    VNET_RETURN_IF_ERROR(
        PreparePeer(rtnl, found.dev, change.mac, what, undo, [](const MacAddress&) { return absl::OkStatus(); })
            .status());
  std::memcpy(port.mac, mac.bytes.data(), 6);
  port.mode = static_cast<std::uint8_t>(mode);
  std::uint8_t keep = old.flags & (VNET_PORT_F_PEER_NETNS | VNET_PORT_F_XDP_TARGET | kPortOwned | kPortHeldDown);
  port.flags = keep | FlagsFor(change.spoofchk.value_or(old.flags & VNET_PORT_F_SPOOFCHK),
                               change.hairpin.value_or(old.flags & VNET_PORT_F_HAIRPIN),
                               change.isolated.value_or(old.flags & VNET_PORT_F_ISOLATED), nodst);

  // Publish the new state over the old: a changed MAC gets its new entry
  // before the old one goes, so the port is never unreachable in between.
  VNET_ASSIGN_OR_RETURN(auto old_sources, SourcesOf(found.maps, ifindex));
  undo.Push([&found, ifindex, old, old_sources] {
    (void)FlushSources(found.maps, ifindex);
    (void)PublishPort(found.maps, ifindex, old);
    for (const auto& source : old_sources) (void)AddSource(found.maps, ifindex, old, source);
  });
  VNET_RETURN_IF_ERROR(FlushSources(found.maps, ifindex));
  VNET_RETURN_IF_ERROR(PublishPort(found.maps, ifindex, port));
  if (PortMac(old) != mac) VNET_RETURN_IF_ERROR(found.maps.DeleteMac(PortMac(old)));
  for (const auto& source : sources) VNET_RETURN_IF_ERROR(AddSource(found.maps, ifindex, port, source));
  undo.Commit();
  PortInfo info = Describe(found.dev, ifindex, port);
  info.sources = sources;
  return info;
}

namespace {

absl::StatusOr<FoundPort> FindSourcePort(Rtnl& rtnl, absl::string_view dev, absl::string_view what) {
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindPort(rtnl, dev, what));
  if (found.port.mode != VNET_MODE_SOURCE)
    return absl::InvalidArgumentError(absl::StrCat(what, " ", dev, ": not a source-mode port"));
  return found;
}

}  // namespace

absl::Status AddPortSource(absl::string_view dev, const MacAddress& mac) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindSourcePort(rtnl, dev, "source add"));
  if (!mac.IsValidUnicast())
    return absl::InvalidArgumentError(absl::StrCat("source add ", dev, ": MAC ", mac.ToString(), " is not a unicast address"));
  return Annotate(AddSource(found.maps, static_cast<std::uint32_t>(found.dev.ifindex), found.port, mac),
                  absl::StrCat("source add ", dev));
}

absl::Status DeletePortSource(absl::string_view dev, const MacAddress& mac) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindSourcePort(rtnl, dev, "source del"));
  return Annotate(RemoveSource(found.maps, static_cast<std::uint32_t>(found.dev.ifindex), mac),
                  absl::StrCat("source del ", dev));
}

absl::Status FlushPortSources(absl::string_view dev) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(FoundPort found, FindSourcePort(rtnl, dev, "source flush"));
  return FlushSources(found.maps, static_cast<std::uint32_t>(found.dev.ifindex));
}

}  // namespace vnet
