#include "docker/fabric_ops.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"

namespace vnet::docker {
namespace {

absl::Status Differs(const FabricInfo& f, absl::string_view what, absl::string_view running, absl::string_view wanted) {
  return absl::FailedPreconditionError(absl::StrCat("fabric ", f.name, " on parent ", f.uplink, " runs with ", what, " ",
                                                    running, ", the network asks for ", wanted,
                                                    " (the driver never changes a running fabric's policies)"));
}

}  // namespace

std::string EndpointAlias(const std::string& network_id, const std::string& endpoint_id) {
  return absl::StrCat("docker:", network_id, ":", endpoint_id);
}

std::string ContainerEndName(const std::string& endpoint_id) {
  return absl::StrCat("vdc", endpoint_id.substr(0, 12));
}

absl::StatusOr<FabricInfo> FabricSettings(const std::string& fabric) {
  auto f = Fabric::Open(fabric);
  if (!f.ok()) return f.status();
  return f->Settings();
}

absl::StatusOr<std::string> EnsureFabric(const NetworkConfig& config, bool* created) {
  *created = false;
  bool ipvlan = config.kind == PortKind::kIpvlan;
  auto found = FabricSettings(config.parent);
  if (found.ok()) {
    const FabricInfo& f = *found;
    if (f.defunct) return absl::FailedPreconditionError(absl::StrCat("fabric ", f.name, " is defunct (its uplink is gone)"));
    if (f.uplink != config.parent)
      return absl::FailedPreconditionError(absl::StrCat("fabric ", f.name, " runs on ", f.uplink, ", not on parent ", config.parent));
    if (config.host && *config.host != f.host) return Differs(f, "vnet.host", f.host ? "true" : "false", *config.host ? "true" : "false");
    if (config.unknown && *config.unknown != f.unknown_drop)
      return Differs(f, "vnet.unknown", f.unknown_drop ? "drop" : "pass", *config.unknown ? "drop" : "pass");
    if (ipvlan && f.ipvlan_mode != config.ipvlan_mode)
      return Differs(f, "ipvlan_mode", IpvlanModeName(f.ipvlan_mode), IpvlanModeName(config.ipvlan_mode));
    if (ipvlan && f.ipvlan_flag != config.ipvlan_flag)
      return Differs(f, "ipvlan_flag", IpvlanFlagName(f.ipvlan_flag), IpvlanFlagName(config.ipvlan_flag));
    return f.name;
  }
  if (!absl::IsNotFound(found.status())) return found.status();
  // A parent that is not there is the user's mistake: say so plainly.
  if (auto mtu = DeviceMtu(config.parent); !mtu.ok())
    return absl::NotFoundError(absl::StrCat("parent ", config.parent, ": no such device"));
  AttachOptions attach;
  attach.uplink = config.parent;
  attach.type = config.kind;
  attach.ipvlan_mode = config.ipvlan_mode;  // Docker's defaults (l2, bridge) also for a macvlan-kind network
  attach.ipvlan_flag = config.ipvlan_flag;
  attach.host = config.host.value_or(false);
  attach.unknown_drop = config.unknown.value_or(false);
  FabricInfo made;
  auto fabric = Fabric::Attach(attach, &made);
  if (!fabric.ok()) return fabric.status();
  *created = true;
  return made.name;
}

absl::StatusOr<std::vector<EndpointPort>> FindPorts(const std::string& alias, bool prefix) {
  std::vector<EndpointPort> out;
  if (!prefix) {
    // One link dump, not a description of every fabric.
    auto devs = DevicesByAlias(alias);
    if (!devs.ok()) return devs.status();
    for (const auto& dev : *devs) {
      auto fabric = Fabric::OfDevice(dev);
      if (!fabric.ok()) continue;  // a device with our alias that is no port (a half-made pair)
      PortInfo p;
      p.name = dev;
      p.alias = alias;
      out.push_back(EndpointPort{fabric->name(), p});
    }
    return out;
  }
  auto fabrics = DescribeFabrics(std::nullopt);
  if (!fabrics.ok()) return fabrics.status();
  for (const auto& f : *fabrics)
    for (const auto& p : f.ports)
      if (absl::StartsWith(p.alias, alias)) out.push_back(EndpointPort{f.name, p});
  return out;
}

absl::StatusOr<PortInfo> AddEndpointPort(const NetworkConfig& config, const std::string& fabric,
                                         const NewEndpoint& want) {
  PortOptions o;
  // The pair's "container namespace" is this one: the container end waits
  // here until Docker moves it into the sandbox after Join.
  o.netns = "/proc/thread-self/ns/net";
  o.ifname = ContainerEndName(want.endpoint_id);
  o.alias = EndpointAlias(want.network_id, want.endpoint_id);
  o.mtu = config.mtu;
  o.hairpin = config.hairpin;
  o.isolated = config.isolated;
  o.spoofchk = true;
  o.mac = want.mac;
  o.type = config.kind;
  if (config.kind == PortKind::kMacvlan) {
    o.mode = config.macvlan_mode;
    for (const auto& a : want.addresses) o.allow_ips.push_back(IpPrefix{a.address, a.address.MaxPrefix()});
    std::sort(o.allow_ips.begin(), o.allow_ips.end());
    o.allow_ips.erase(std::unique(o.allow_ips.begin(), o.allow_ips.end()), o.allow_ips.end());
  }
  auto handle = Fabric::Open(fabric);
  if (!handle.ok()) return handle.status();
  auto port = handle->AddPort(o);
  if (!port.ok() || config.kind != PortKind::kIpvlan) return port;
  // The ipvlan port's addresses are the fabric's to route; added one by one
  // after the pair exists, so none is configured on the container end while
  // it waits in this namespace (Docker configures it in the sandbox).
  for (const auto& a : want.addresses) {
    auto added = handle->AddAddress(port->name, PortIp{IpPrefix{a.address, a.address.MaxPrefix()}, false});
    if (!added.ok()) {
      (void)handle->DeletePort(port->name);
      return added;
    }
  }
  return port;
}

absl::Status RemovePort(const std::string& fabric, const std::string& dev) {
  auto handle = Fabric::Open(fabric);
  if (!handle.ok()) return handle.status();
  return handle->DeletePort(dev);
}

absl::Status PruneFabric(const std::string& fabric) {
  auto handle = Fabric::Open(fabric);
  if (!handle.ok()) return absl::IsNotFound(handle.status()) ? absl::OkStatus() : handle.status();
  return handle->PruneGonePorts().status();
}

absl::StatusOr<bool> DetachIfEmpty(const std::string& fabric) {
  auto handle = Fabric::Open(fabric);
  if (!handle.ok()) return absl::IsNotFound(handle.status()) ? absl::StatusOr<bool>(true) : handle.status();
  if (auto pruned = handle->PruneGonePorts(); !pruned.ok()) return pruned.status();
  auto info = handle->Describe();
  if (!info.ok()) return info.status();
  if (!info->ports.empty()) return false;
  auto detached = std::move(*handle).Detach();
  if (!detached.ok()) return detached;
  return true;
}

}  // namespace vnet::docker
