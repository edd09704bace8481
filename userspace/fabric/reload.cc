// reload: a new vnet build takes over a live fabric. The new programs are
// loaded against the pinned maps (tables and counters carry over); only when
// every one of them has loaded are the attachments switched, each atomically
// and only if it still runs the program we expect.
#include "absl/strings/str_cat.h"
#include "fabric/fabric.h"
#include "fabric/registry.h"
#include "fabric/tc_hook.h"
#include "loader/errors.h"
#include "loader/links.h"
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

}  // namespace

absl::StatusOr<ReloadReport> ReloadFabric(absl::string_view name) {
  auto resolved = ResolveFabric(name);
  if (!resolved.ok()) return Prefix(resolved.status(), "reload");
  std::string fabric = *resolved;
  std::string what = absl::StrCat("reload ", fabric);
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric));
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  if (config.flags & VNET_FABRIC_F_DEFUNCT)
    return absl::FailedPreconditionError(absl::StrCat(what, ": the fabric's uplink is gone; detach it"));
  if (config.abi_version != VNET_ABI_VERSION)
    return absl::FailedPreconditionError(absl::StrCat(what, ": pinned state has ABI version ", config.abi_version,
                                                      ", this vnetctl speaks ", VNET_ABI_VERSION));
  // Everything new is built before anything live is touched.
  auto programs = FabricPrograms::Load(fabric);
  if (!programs.ok()) return Annotate(programs.status(), absl::StrCat(what, " (the running datapath is unchanged)"));
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(LinkInfo uplink, rtnl.GetLink(static_cast<int>(config.uplink_ifindex)));
  bool cls_bpf = config.flags & VNET_FABRIC_F_CLS_BPF;

  ReloadReport report{fabric, 0};
  // Ports first: port programs only read maps the new uplink programs share.
  VNET_ASSIGN_OR_RETURN(auto ports, maps.ListPorts());
  for (const auto& [ifindex, port] : ports) {
    (void)port;
    auto dev = rtnl.GetLink(static_cast<int>(ifindex));
    if (!dev.ok()) continue;  // gone with its device; port del cleans up
    VNET_RETURN_IF_ERROR(SwapTc(fabric, cls_bpf, programs->port_tc_fd(), dev->ifindex, dev->name,
                                TcDirection::kIngress, PortLinkPin(ifindex)));
    ++report.replaced;
  }
  VNET_RETURN_IF_ERROR(RepinFd(programs->port_tc_fd(), FabricPinPath(fabric, kPortProgPin)));
  VNET_RETURN_IF_ERROR(SwapTc(fabric, cls_bpf, programs->uplink_tc_fd(), uplink.ifindex, uplink.name,
                              TcDirection::kIngress, kUplinkTcLinkPin));
  VNET_RETURN_IF_ERROR(SwapTc(fabric, cls_bpf, programs->uplink_egress_fd(), uplink.ifindex, uplink.name,
                              TcDirection::kEgress, kUplinkEgressLinkPin));
  report.replaced += 2;
  if (!(config.flags & VNET_FABRIC_F_NO_XDP)) {
    VNET_ASSIGN_OR_RETURN(UniqueFd xdp_link, OpenPinned(FabricPinPath(fabric, kUplinkXdpLinkPin)));
    VNET_RETURN_IF_ERROR(
        ReplaceLinkProgram(xdp_link.get(), programs->uplink_xdp_fd(), absl::StrCat("XDP on ", uplink.name)));
    ++report.replaced;
  }
  return report;
}

}  // namespace vnet
