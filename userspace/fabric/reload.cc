// reload: a new vnet build takes over a live fabric. The new programs are
// loaded against the pinned maps (tables and counters carry over); only when
// every one of them has loaded are the attachments switched, each atomically
// and only if it still runs the program we expect. A fabric made by an older
// ABI has its changed maps migrated first (loader/migrate.h).
//
// Crash safety: until the commit (this ABI stamped in vnet_config) nothing
// the old programs use has changed but the names of pins, so a vnetctl
// killed before it leaves the old datapath serving, and the next command
// puts the pins back. After the commit the new maps hold everything, and
// the next command rolls forward: it loads this build's programs, switches
// what is left and drops the old maps (RecoverInterrupted).
#include <cstdio>
#include <optional>

#include "absl/strings/str_cat.h"
#include "fabric/fabric.h"
#include "fabric/operations.h"
#include "fabric/port_tables.h"
#include "fabric/registry.h"
#include "fabric/vxlan_guard.h"
#include "loader/tc_hook.h"
#include "loader/checkpoint.h"
#include "base/errors.h"
#include "loader/links.h"
#include "loader/migrate.h"
#include "loader/pins.h"
#include "loader/programs.h"
#include "maps/fabric_maps.h"
#include "netlink/rtnl.h"

namespace vnet {
namespace {

absl::Status SwapTc(const std::string& fabric, bool cls_bpf, int prog_fd, int ifindex, absl::string_view dev,
                    TcDirection direction, const std::string& link_pin_name) {
  std::string what = absl::StrCat(dev, " (fabric ", fabric, ")");
  if (cls_bpf) return ReplaceClsBpf(prog_fd, ifindex, dev, direction);
  VNET_ASSIGN_OR_RETURN(UniqueFd link, OpenPinned(FabricPinPath(fabric, link_pin_name)));
  return ReplaceLinkProgram(link.get(), prog_fd, what);
}

// The oldest ABI whose fabrics reload migrates. ABI 2 -> 3: vnet_stats grew
// by five drop counters at the end of its value; vnet_config's two pad bytes
// became ipvlan_mode/ipvlan_flags (zero: l2, bridge; an ABI 2 fabric has no
// IP-demux ports); vnet_ips, vnet_ip_nets and vnet_dhcp are new. ABI 3 -> 4:
// vnet_mac_front is new. ABI 4 -> 5: vnet_stats grew by two drop counters,
// vnet_allow is new, vnet_config.netns_ino became netns_cookie (rewritten at
// the commit), vnet_config and vnet_flood became single-entry hash maps
// replaced whole (the flood list is rebuilt from vnet_ports), vnet_mac_front's
// entries became single words with vnet_slots beside them (refilled), the
// DHCP tables changed (recreated; learned addresses are kept and get a lease
// at their next renewal), and the held-down mark moved out of bit 6 of
// vnet_port.flags (ConvertPortFlags). ABI 5 -> 6: vnet_stats grew by one drop
// counter (storm), and vnet_storm is new (created empty by the load: no storm
// limits, which older fabrics could not have). Map by map, loader/migrate.cc's
// kMapRules says what is done.
constexpr std::uint32_t kOldestMigratableAbi = 2;

// Tables derived from others, refilled after a migration recreated them
// (kMapRules' kRecreate entries that are not transient), before the switch.
absl::Status RefillDerivedMaps(const std::string& fabric) {
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric));
  VNET_RETURN_IF_ERROR(maps.RefillMacFront());
  VNET_RETURN_IF_ERROR(RepublishFloodList(maps));
  Checkpoint("migrate: derived maps refilled");
  return absl::OkStatus();
}

absl::Status SwapAll(const std::string& fabric, const vnet_config& config, const FabricPrograms& programs,
                     ReloadReport& report) {
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric));
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(LinkInfo uplink, rtnl.GetLink(static_cast<int>(config.uplink_ifindex)));
  bool cls_bpf = FabricTcHook(config) == TcHook::kClsBpf;

  // Ports first: port programs only read maps the new uplink programs share.
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  for (const auto& [ifindex, port] : ports) {
    (void)port;
    auto dev = rtnl.GetLink(static_cast<int>(ifindex));
    if (!dev.ok()) continue;  // gone with its device; port del cleans up
    VNET_RETURN_IF_ERROR(SwapTc(fabric, cls_bpf, programs.port_tc_fd(), dev->ifindex, dev->name,
                                TcDirection::kIngress, PortLinkPin(ifindex)));
    ++report.replaced;
    Checkpoint("reload: a port switched");
  }
  VNET_RETURN_IF_ERROR(RepinFd(programs.port_tc_fd(), FabricPinPath(fabric, kPortProgPin)));
  Checkpoint("reload: port program re-pinned");
  VNET_RETURN_IF_ERROR(SwapTc(fabric, cls_bpf, programs.uplink_tc_fd(), uplink.ifindex, uplink.name,
                              TcDirection::kIngress, kUplinkTcLinkPin));
  Checkpoint("reload: uplink tc ingress switched");
  VNET_RETURN_IF_ERROR(SwapTc(fabric, cls_bpf, programs.uplink_egress_fd(), uplink.ifindex, uplink.name,
                              TcDirection::kEgress, kUplinkEgressLinkPin));
  Checkpoint("reload: uplink tc egress switched");
  report.replaced += 2;
  if (!FabricFlagsOf(config).no_xdp) {
    VNET_ASSIGN_OR_RETURN(UniqueFd xdp_link, OpenPinned(FabricPinPath(fabric, kUplinkXdpLinkPin)));
    VNET_RETURN_IF_ERROR(
        ReplaceLinkProgram(xdp_link.get(), programs.uplink_xdp_fd(), absl::StrCat("XDP on ", uplink.name)));
    ++report.replaced;
    Checkpoint("reload: uplink XDP switched");
  }
  return absl::OkStatus();
}

// A migration killed after its commit: this build's programs take over
// whatever still runs the old ones, then the old maps go.
absl::Status RollForward(const std::string& fabric, const vnet_config& config) {
  VNET_ASSIGN_OR_RETURN(FabricPrograms programs, FabricPrograms::Load(fabric));
  ReloadReport ignored;
  VNET_RETURN_IF_ERROR(RefillDerivedMaps(fabric));
  VNET_RETURN_IF_ERROR(SwapAll(fabric, config, programs, ignored));
  return DropSetAside(fabric);
}

}  // namespace

absl::StatusOr<ReloadReport> ReloadFabric(absl::string_view name) {
  auto resolved = ResolveFabric(name);
  if (!resolved.ok()) return Prefix(resolved.status(), "reload");
  std::string fabric = *resolved;
  std::string what = absl::StrCat("reload ", fabric);
  auto read = ReadPinnedConfig(fabric);
  if (!read.ok()) return Prefix(read.status(), what);
  vnet_config config = *read;
  if (FabricFlagsOf(config).defunct)
    return absl::FailedPreconditionError(absl::StrCat(what, ": the fabric's uplink is gone; detach it"));
  if (config.abi_version > VNET_ABI_VERSION || config.abi_version < kOldestMigratableAbi)
    return absl::FailedPreconditionError(absl::StrCat(what, ": pinned state has ABI version ", config.abi_version,
                                                      "; this vnetctl speaks ", VNET_ABI_VERSION,
                                                      " and migrates from ", kOldestMigratableAbi, " on"));
  std::string unchanged = absl::StrCat(what, " (the running datapath is unchanged)");
  // Everything new is built before anything live is touched: maps of an
  // older layout are set aside and copied into new ones first.
  std::optional<MapMigration> migration;
  if (config.abi_version != VNET_ABI_VERSION) {
    auto prepared = MapMigration::Prepare(fabric, config.abi_version);
    if (!prepared.ok()) return Annotate(prepared.status(), unchanged);
    migration.emplace(std::move(*prepared));
    Checkpoint("migrate: maps set aside");
  }
  auto programs = FabricPrograms::Load(fabric);
  if (!programs.ok()) return Annotate(programs.status(), unchanged);
  Checkpoint("reload: new programs loaded");
  ReloadReport report{fabric, 0, {}};
  if (migration) {
    if (auto s = migration->Copy(); !s.ok()) return Annotate(s, unchanged);
    if (auto s = ConvertPortFlags(fabric, config.abi_version); !s.ok()) return Annotate(s, unchanged);
    Checkpoint("migrate: maps copied");
    // The commit: from here a killed migration is finished, not undone.
    config.abi_version = VNET_ABI_VERSION;
    config.netns_cookie = CurrentNetnsCookie();
    if (auto s = WritePinnedConfig(fabric, config); !s.ok()) return Annotate(s, unchanged);
    migration->Commit();
    Checkpoint("migrate: committed");
    report.migrated = migration->names();
    // The derived tables (flood list, front cache) are filled before any new
    // program runs: a port program switched first must already flood.
    if (auto s = RefillDerivedMaps(fabric); !s.ok())
      return Prefix(s, absl::StrCat(what, " (the next vnetctl command finishes the migration)"));
  }
  if (auto s = SwapAll(fabric, config, *programs, report); !s.ok())
    return Prefix(s, migration ? absl::StrCat(what, " (the next vnetctl command finishes the migration)") : what);
  if (migration) VNET_RETURN_IF_ERROR(migration->Finish());
  // A VXLAN fabric's underlay guard has its own version and maps: only its
  // program changes hands.
  if (VxlanGuard::Exists(fabric)) {
    VNET_ASSIGN_OR_RETURN(VxlanGuard guard, VxlanGuard::Open(fabric));
    VNET_RETURN_IF_ERROR(Prefix(guard.Reload(), what));
    ++report.replaced;
  }
  return report;
}

std::vector<std::string> RecoverInterrupted() {
  std::vector<std::string> done;
  for (const auto& fabric : ListFabricDirs()) {
    auto config = ReadPinnedConfig(fabric);
    if (!config.ok() || !AttachedHere(*config)) continue;
    // A pin being replaced (RepinFd) when the vnetctl died.
    for (const auto& pin : ListPins(fabric))
      if (pin.size() > 4 && pin.compare(pin.size() - 4, 4, "_new") == 0) {
        (void)Unpin(FabricPinPath(fabric, pin));
        done.push_back(absl::StrCat(fabric, ": removed the staging pin ", pin));
      }
    if (SetAsidePins(fabric).empty()) continue;
    if (config->abi_version != VNET_ABI_VERSION) {
      auto s = RollBackSetAside(fabric);
      done.push_back(s.ok() ? absl::StrCat(fabric, ": undid a migration interrupted before its commit")
                            : absl::StrCat(fabric, ": undo an interrupted migration: ", s.message()));
    } else {
      auto s = RollForward(fabric, *config);
      done.push_back(s.ok() ? absl::StrCat(fabric, ": finished a migration interrupted after its commit")
                            : absl::StrCat(fabric, ": finish an interrupted migration: ", s.message()));
    }
  }
  return done;
}

}  // namespace vnet
