#include "fabric/handle.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "fabric/operations.h"
#include "fabric/registry.h"
#include "fabric/vxlan.h"
#include "maps/fabric_maps.h"
#include "netlink/rtnl.h"

namespace vnet {

// What a handle opens once: the namespace's fabrics indexed for every
// lookup its operations make, and the netlink socket they share.
struct Fabric::Opened {
  FabricIndexScope index;
  Rtnl rtnl;
  explicit Opened(Rtnl r) : rtnl(std::move(r)) {}
};

namespace {

absl::StatusOr<std::unique_ptr<Fabric::Opened>> OpenState() {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  return std::make_unique<Fabric::Opened>(std::move(rtnl));
}

}  // namespace

Fabric::Fabric(std::string name, std::unique_ptr<Opened> opened) : name_(std::move(name)), opened_(std::move(opened)) {}
Fabric::Fabric(Fabric&&) noexcept = default;
Fabric& Fabric::operator=(Fabric&&) noexcept = default;
Fabric::~Fabric() = default;

absl::StatusOr<Fabric> Fabric::Attach(const AttachOptions& options, FabricInfo* made) {
  absl::StatusOr<FabricInfo> attached;
  {
    FabricIndexPause pause;  // an enclosing scope's index must not serve a change of the set
    attached = AttachFabric(options);
  }
  VNET_ASSIGN_OR_RETURN(FabricInfo info, std::move(attached));
  VNET_ASSIGN_OR_RETURN(auto opened, OpenState());
  std::string name = info.name;
  if (made) *made = std::move(info);
  return Fabric(std::move(name), std::move(opened));
}

absl::StatusOr<Fabric> Fabric::Open(absl::string_view name_or_uplink) {
  VNET_ASSIGN_OR_RETURN(auto opened, OpenState());
  VNET_ASSIGN_OR_RETURN(std::string name, ResolveFabric(name_or_uplink));
  return Fabric(std::move(name), std::move(opened));
}

absl::StatusOr<Fabric> Fabric::OfDevice(absl::string_view dev) {
  VNET_ASSIGN_OR_RETURN(auto opened, OpenState());
  VNET_ASSIGN_OR_RETURN(LinkInfo link, opened->rtnl.GetLink(dev));
  auto m = FindMembership(static_cast<std::uint32_t>(link.ifindex));
  if (!m) return absl::NotFoundError(absl::StrCat(dev, ": not a port of any fabric"));
  return Fabric(m->fabric, std::move(opened));
}

absl::Status Fabric::CheckOwns(absl::string_view dev, absl::string_view command) {
  auto link = opened_->rtnl.GetLink(dev);
  if (!link.ok()) return absl::OkStatus();
  auto m = FindMembership(static_cast<std::uint32_t>(link->ifindex));
  if (m && m->fabric != name_)
    return absl::FailedPreconditionError(absl::StrCat(command, " ", dev, ": ", m->as_uplink ? "the uplink" : "a port",
                                                      " of fabric ", m->fabric, ", not of ", name_));
  return absl::OkStatus();
}

absl::StatusOr<PortInfo> Fabric::AddPort(PortOptions options) {
  options.fabric = name_;
  return AddPortWith(opened_->rtnl, options);
}

absl::Status Fabric::DeletePort(absl::string_view dev) {
  VNET_RETURN_IF_ERROR(CheckOwns(dev, "port del"));
  return DeletePortWith(opened_->rtnl, dev);
}

absl::StatusOr<PortInfo> Fabric::ChangePort(const PortChange& change) {
  VNET_RETURN_IF_ERROR(CheckOwns(change.dev, "port set"));
  return ChangePortWith(opened_->rtnl, change);
}

absl::StatusOr<int> Fabric::PruneGonePorts() { return vnet::PruneGonePorts(name_); }

absl::Status Fabric::AddAddress(absl::string_view dev, const PortIp& ip) {
  VNET_RETURN_IF_ERROR(CheckOwns(dev, "ip add"));
  return AddPortAddressWith(opened_->rtnl, dev, ip);
}

absl::Status Fabric::DeleteAddress(absl::string_view dev, const PortIp& ip, bool plen_given) {
  VNET_RETURN_IF_ERROR(CheckOwns(dev, "ip del"));
  return DeletePortAddressWith(opened_->rtnl, dev, ip, plen_given);
}

absl::Status Fabric::FlushAddresses(absl::string_view dev) {
  VNET_RETURN_IF_ERROR(CheckOwns(dev, "ip flush"));
  return FlushPortAddressesWith(opened_->rtnl, dev);
}

absl::Status Fabric::AddSource(absl::string_view dev, const MacAddress& mac) {
  VNET_RETURN_IF_ERROR(CheckOwns(dev, "source add"));
  return AddPortSourceWith(opened_->rtnl, dev, mac);
}

absl::Status Fabric::DeleteSource(absl::string_view dev, const MacAddress& mac) {
  VNET_RETURN_IF_ERROR(CheckOwns(dev, "source del"));
  return DeletePortSourceWith(opened_->rtnl, dev, mac);
}

absl::Status Fabric::FlushSources(absl::string_view dev) {
  VNET_RETURN_IF_ERROR(CheckOwns(dev, "source flush"));
  return FlushPortSourcesWith(opened_->rtnl, dev);
}

absl::Status Fabric::AddRemote(const IpAddress& remote) { return AddVxlanRemote(opened_->rtnl, name_, remote); }

absl::Status Fabric::DeleteRemote(const IpAddress& remote) {
  return DeleteVxlanRemote(opened_->rtnl, name_, remote);
}

absl::StatusOr<std::vector<IpAddress>> Fabric::Remotes() { return ListVxlanRemotes(opened_->rtnl, name_); }

absl::Status Fabric::SetPolicy(const FabricPolicy& policy) { return SetFabricPolicy(name_, policy); }

absl::StatusOr<FabricInfo> Fabric::Describe() {
  VNET_ASSIGN_OR_RETURN(auto fabrics, DescribeFabrics(name_));
  return std::move(fabrics.front());
}

absl::StatusOr<FabricInfo> Fabric::Settings() { return DescribeFabricSettings(name_); }

absl::StatusOr<std::vector<Counters>> Fabric::ReadCounters() {
  VNET_ASSIGN_OR_RETURN(auto rows, vnet::ReadCounters(name_));
  std::vector<Counters> mine;
  for (auto& row : rows)
    if (row.fabric == name_) mine.push_back(std::move(row));  // not a device of another fabric by this name
  return mine;
}

absl::StatusOr<ReloadReport> Fabric::Reload() {
  // Reload may migrate the tables to this build's layout: it runs without
  // the index, whose open tables would be the old ones.
  FabricIndexPause pause;
  return ReloadFabric(name_);
}

absl::Status Fabric::CopyMacEntry(const MacAddress& like, const std::vector<MacAddress>& macs) {
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(name_));
  VNET_ASSIGN_OR_RETURN(auto entry, maps.LookupMac(like));
  if (!entry) return absl::NotFoundError(absl::StrCat(like.ToString(), " is not in ", name_, "'s MAC table"));
  for (const auto& mac : macs) VNET_RETURN_IF_ERROR(maps.PutMac(mac, *entry));
  return absl::OkStatus();
}

absl::Status Fabric::CopyIpEntry(const IpAddress& like, const std::vector<IpAddress>& ips) {
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(name_));
  VNET_ASSIGN_OR_RETURN(auto entry, maps.LookupIp(like));
  if (!entry) return absl::NotFoundError(absl::StrCat(like.ToString(), " is not in ", name_, "'s IP table"));
  for (const auto& ip : ips) VNET_RETURN_IF_ERROR(maps.PutIp(ip, *entry));
  return absl::OkStatus();
}

absl::Status Fabric::Detach() && {
  absl::Status status;
  {
    FabricIndexPause pause;  // detach runs as it always has: it changes the set
    status = DetachFabric(name_);
  }
  opened_.reset();
  return status;
}

}  // namespace vnet
