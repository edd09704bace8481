// CHECK: the port and the container's interface still are what ADD made
// (prevResult): kind, mode, MAC, addresses and routes; then IPAM's CHECK.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "cni/cni_error.h"
#include "cni/commands.h"
#include "cni/container_ops.h"
#include "cni/fabric_ops.h"
#include "cni/ipam.h"
#include "cni/version.h"

namespace vnet::cni {
namespace {

using nlohmann::json;

absl::Status Failed(absl::string_view what) { return Error(kGeneric, "check failed", what); }

bool Has(const std::vector<IpPrefix>& list, const IpPrefix& p) {
  return std::find(list.begin(), list.end(), p) != list.end();
}

}  // namespace

absl::StatusOr<Output> CmdCheck(const CniEnv& env, const NetConf& conf) {
  if (CompareVersions(conf.cni_version, "0.4.0") < 0)
    return Error(kIncompatibleVersion, "incompatible CNI versions",
                 absl::StrCat("config version ", conf.cni_version, " does not allow CHECK (0.4.0 and later)"));
  std::vector<std::string> need = {"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"};
  if (!conf.ipam_type.empty()) need.push_back("CNI_PATH");
  if (auto s = RequireEnv(env, need); !s.ok()) return s;
  if (!conf.prev_result) return Error(kInvalidConfig, "invalid config: prevResult", "key 'prevResult': CHECK needs it");
  const json& prev = *conf.prev_result;

  auto ports = FindNetworkPorts(conf.name);
  if (!ports.ok()) return ports.status();
  auto port = std::find_if(ports->begin(), ports->end(), [&](const FoundPort& p) {
    return p.container_id == env.container_id && p.ifname == env.ifname;
  });
  if (port == ports->end())
    return Failed(absl::StrCat("no vnet port for container ", env.container_id, " interface ", env.ifname));
  bool ipvlan = conf.kind == Kind::kIpvlan;
  if ((port->port.type == PortKind::kIpvlan) != ipvlan)
    return Failed(absl::StrCat("port ", port->port.name, " is of kind ", PortKindName(port->port.type)));
  if (!ipvlan && port->port.mode != conf.mode)
    return Failed(absl::StrCat("port ", port->port.name, " has mode ", PortModeName(port->port.mode), ", not ",
                               PortModeName(conf.mode)));
  if (ipvlan) {
    auto fabric = DescribeFabric(port->fabric);
    if (!fabric.ok()) return WithCode(fabric.status(), kGeneric, "check failed");
    if (fabric->ipvlan_mode != conf.ipvlan_mode)
      return Failed(absl::StrCat("fabric ", fabric->name, " has ipvlan mode ", IpvlanModeName(fabric->ipvlan_mode)));
  }

  // The interface prevResult gave, by name and sandbox.
  int index = -1;
  const json interfaces = prev.value("interfaces", json::array());
  for (std::size_t i = 0; i < interfaces.size(); ++i)
    if (interfaces[i].value("name", "") == env.ifname &&
        (!interfaces[i].contains("sandbox") || interfaces[i].value("sandbox", "") == env.netns))
      index = static_cast<int>(i);
  if (index < 0) return Failed(absl::StrCat("prevResult has no interface ", env.ifname, " in ", env.netns));
  auto link = ReadContainerLink(env.netns, env.ifname);
  if (!link.ok()) return link.status();
  auto want_mac = MacAddress::Parse(interfaces[index].value("mac", ""));
  if (!want_mac.ok() || *want_mac != link->mac)
    return Failed(absl::StrCat(env.ifname, " has MAC ", link->mac.ToString(), ", prevResult says ",
                               interfaces[index].value("mac", "")));
  if (link->mac != port->port.mac)
    return Failed(absl::StrCat(env.ifname, " has MAC ", link->mac.ToString(), ", its port ", port->port.mac.ToString()));
  for (const auto& ip : prev.value("ips", json::array())) {
    if (ip.contains("interface") && ip["interface"] != index) continue;
    auto prefix = ParseCidr(ip.value("address", ""));
    if (!prefix.ok()) return prefix.status();
    if (!Has(link->addresses, *prefix))
      return Failed(absl::StrCat(env.ifname, " lacks its address ", prefix->ToString()));
  }
  for (const auto& r : prev.value("routes", json::array())) {
    auto dst = ParseCidr(r.value("dst", ""));
    if (!dst.ok()) return dst.status();
    if (!Has(link->route_dsts, *dst)) return Failed(absl::StrCat(env.ifname, " lacks its route to ", dst->ToString()));
  }
  if (!conf.ipam_type.empty()) {
    auto checked = ExecIpam(env, conf.ipam_type, "CHECK", conf.raw);
    if (!checked.ok()) return checked.status();
  }
  return Output();
}

}  // namespace vnet::cni
