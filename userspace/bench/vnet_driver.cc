#include "bench/vnet_driver.h"

#include <unistd.h>

#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "vnet/vnet.h"
#include "base/errors.h"
#include "netlink/netns.h"

namespace vnet::bench {
namespace {

// The calling thread in `host` for a scope.
absl::StatusOr<ScopedNetns> EnterHost(const std::string& host) {
  VNET_ASSIGN_OR_RETURN(UniqueFd ns, OpenNamedNetns(host));
  return ScopedNetns::Enter(ns.get(), host);
}

// What vnetctl does before every command that changes state.
absl::StatusOr<UniqueFd> LockForChange() {
  VNET_ASSIGN_OR_RETURN(UniqueFd lock, AcquireControlLock());
  (void)RecoverInterrupted();
  return lock;
}

}  // namespace

MacAddress OffsetMac(const MacAddress& base, std::uint32_t i) {
  MacAddress m = base;
  std::uint32_t low = (base.bytes[3] << 16 | base.bytes[4] << 8 | base.bytes[5]) + i;
  m.bytes[3] = (low >> 16) & 0xff;
  m.bytes[4] = (low >> 8) & 0xff;
  m.bytes[5] = low & 0xff;
  return m;
}

absl::Status VnetDriver::Attach(const VnetAttachRequest& r) const {
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, EnterHost(host_));
  VNET_ASSIGN_OR_RETURN(UniqueFd lock, LockForChange());
  AttachOptions o;
  o.uplink = r.uplink;
  o.fabric = r.fabric;
  if (r.ipvlan_l2) {
    o.type = PortKind::kIpvlan;
    o.ipvlan_mode = IpvlanMode::kL2;
  }
  o.unknown_drop = r.unknown_drop;
  o.xdp_redirect = r.xdp_redirect;
  if (r.xdp_off) o.xdp_mode = ::vnet::XdpMode::kNone;
  return Annotate(Fabric::Attach(o).status(), absl::StrCat("attach ", r.uplink, " as ", r.fabric));
}

absl::Status VnetDriver::Detach(const std::string& fabric) const {
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, EnterHost(host_));
  VNET_ASSIGN_OR_RETURN(UniqueFd lock, LockForChange());
  VNET_ASSIGN_OR_RETURN(Fabric handle, Fabric::Open(fabric));
  return Annotate(std::move(handle).Detach(), absl::StrCat("detach ", fabric));
}

absl::StatusOr<std::string> VnetDriver::AddPort(const VnetPortRequest& r) const {
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, EnterHost(host_));
  VNET_ASSIGN_OR_RETURN(UniqueFd lock, LockForChange());
  PortOptions o;
  o.netns = r.netns;
  o.ifname = r.ifname;
  if (!r.ip.empty()) {
    VNET_ASSIGN_OR_RETURN(PortIp ip, PortIp::Parse(r.ip));
    o.ips.push_back(ip);
  } else {
    o.mode = PortMode::kBridge;
    o.macvlan_options.push_back("--mode");
  }
  auto handle = Fabric::Open(r.fabric);
  if (!handle.ok()) return Annotate(handle.status(), absl::StrCat("port add --netns ", r.netns, " to ", r.fabric));
  absl::StatusOr<PortInfo> port = handle->AddPort(o);
  if (!port.ok()) return Annotate(port.status(), absl::StrCat("port add --netns ", r.netns, " to ", r.fabric));
  return port->name;
}

absl::Status VnetDriver::DeletePort(const std::string& dev) const {
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, EnterHost(host_));
  VNET_ASSIGN_OR_RETURN(UniqueFd lock, LockForChange());
  auto handle = Fabric::OfDevice(dev);
  if (!handle.ok()) return Prefix(handle.status(), "port del");
  return Annotate(handle->DeletePort(dev), absl::StrCat("port del ", dev));
}

absl::StatusOr<std::size_t> VnetDriver::Show() const {
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, EnterHost(host_));
  VNET_ASSIGN_OR_RETURN(std::vector<FabricInfo> fabrics, DescribeFabrics(std::nullopt));
  std::size_t ports = 0;
  for (const auto& f : fabrics) ports += f.ports.size();
  return ports;
}

absl::StatusOr<std::size_t> VnetDriver::Stats() const {
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, EnterHost(host_));
  VNET_ASSIGN_OR_RETURN(std::vector<Counters> rows, ReadCounters(std::nullopt));
  return rows.size();
}

absl::StatusOr<std::string> VnetDriver::UplinkXdpMode(const std::string& fabric) const {
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, EnterHost(host_));
  VNET_ASSIGN_OR_RETURN(std::vector<FabricInfo> fabrics, DescribeFabrics(fabric));
  if (fabrics.empty()) return absl::NotFoundError(absl::StrCat("show ", fabric, ": no such fabric"));
  return fabrics[0].xdp_mode;
}

absl::StatusOr<std::uint64_t> VnetDriver::UnknownDrops(const std::string& fabric) const {
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, EnterHost(host_));
  VNET_ASSIGN_OR_RETURN(std::vector<Counters> rows, ReadCounters(std::nullopt));
  for (const auto& c : rows) {
    if (c.fabric != fabric || !c.is_uplink) continue;
    // By the reason's name: the drop reasons' numbering is the ABI's.
    for (std::size_t i = 0; i < std::size(c.stats.drops); ++i)
      if (DropReasonName(static_cast<int>(i)) == "unknown_dst") return c.stats.drops[i];
    return absl::NotFoundError("no unknown_dst drop counter");
  }
  return absl::NotFoundError(absl::StrCat("no counters of ", fabric, "'s uplink"));
}

// The table-size cases: entries copied from c1's, through the handle.
absl::Status VnetDriver::FillMacs(const std::string& fabric, const MacAddress& like, const MacAddress& base,
                                  std::uint32_t n) const {
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, EnterHost(host_));
  VNET_ASSIGN_OR_RETURN(Fabric handle, Fabric::Open(fabric));
  std::vector<MacAddress> macs;
  for (std::uint32_t i = 0; i < n; ++i) macs.push_back(OffsetMac(base, i));
  return handle.CopyMacEntry(like, macs);
}
absl::Status VnetDriver::FillIps(const std::string& fabric, const std::string& like, std::uint32_t base,
                                 std::uint32_t n) const {
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, EnterHost(host_));
  VNET_ASSIGN_OR_RETURN(Fabric handle, Fabric::Open(fabric));
  VNET_ASSIGN_OR_RETURN(IpAddress addr, IpAddress::Parse(like));
  std::vector<IpAddress> ips;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t a = base + i;
    const std::uint8_t b[4] = {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
                               static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)};
    ips.push_back(IpAddress::FromBytes(4, b));
  }
  return handle.CopyIpEntry(addr, ips);
}
void RemoveVnetFabric(const std::string& fabric, const std::string& host) {
  if (::access(("/run/netns/" + host).c_str(), F_OK) == 0 && VnetDriver(host).Detach(fabric).ok()) return;
  // The netns is gone or detach failed: what is left goes by the pins.
  auto lock = AcquireControlLock();
  (void)TearDownFabric(fabric);
}

}  // namespace vnet::bench
