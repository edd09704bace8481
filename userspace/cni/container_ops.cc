#include "cni/container_ops.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cni/cni_error.h"
#include "vnet/vnet.h"

namespace vnet::cni {

using nlohmann::json;

absl::StatusOr<IpPrefix> ParseCidr(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos)
    return Error(kDecodeFailure, "decoding result", absl::StrCat("'", text, "' is not ADDRESS/PREFIXLEN"));
  auto addr = IpAddress::Parse(text.substr(0, slash));
  int plen = -1;
  if (!addr.ok() || !absl::SimpleAtoi(text.substr(slash + 1), &plen) || plen < 0 || plen > addr->MaxPrefix())
    return Error(kDecodeFailure, "decoding result", absl::StrCat("'", text, "' is not ADDRESS/PREFIXLEN"));
  return IpPrefix{*addr, plen};
}

absl::StatusOr<std::string> DefaultRouteInterface() {
  auto dev = DefaultRouteDevice();
  if (!dev.ok())
    return Error(kInvalidConfig, "invalid config: master",
                 "key 'master': not given, and this namespace has no default route to take it from");
  return dev;
}

absl::StatusOr<unsigned> MasterMtu(const std::string& master) {
  auto mtu = DeviceMtu(master);
  if (absl::IsNotFound(mtu.status()))
    return Error(kInvalidConfig, "invalid config: master", absl::StrCat("key 'master': no device ", master, " here"));
  if (!mtu.ok()) return WithCode(mtu.status(), kGeneric, absl::StrCat("reading master ", master));
  return mtu;
}

absl::Status CheckIfnameFree(const std::string& netns, const std::string& ifname) {
  auto exists = DeviceExistsIn(netns, ifname);
  if (!exists.ok()) return Error(kInvalidEnvironment, "invalid environment: CNI_NETNS", exists.status().message());
  if (*exists)
    return Error(kGeneric, "interface exists", absl::StrCat("CNI_IFNAME ", ifname, " already exists in ", netns));
  return absl::OkStatus();
}

absl::Status ConfigureContainer(const std::string& netns, const std::string& ifname, const json& result,
                                bool add_addresses) {
  std::vector<IpPrefix> addresses;
  std::optional<IpAddress> gw4, gw6;
  for (const auto& ip : result.value("ips", json::array())) {
    auto prefix = ParseCidr(ip.value("address", ""));
    if (!prefix.ok()) return prefix.status();
    if (add_addresses) addresses.push_back(*prefix);
    if (ip.contains("gateway") && ip["gateway"].is_string()) {
      auto gw = IpAddress::Parse(ip["gateway"].get<std::string>());
      if (gw.ok()) (gw->family == 4 ? gw4 : gw6) = *gw;
    }
  }
  std::vector<ContainerRoute> routes;
  for (const auto& r : result.value("routes", json::array())) {
    auto dst = ParseCidr(r.value("dst", ""));
    if (!dst.ok()) return dst.status();
    ContainerRoute route{*dst, std::nullopt};
    if (r.contains("gw") && r["gw"].is_string()) {
      auto gw = IpAddress::Parse(r["gw"].get<std::string>());
      if (!gw.ok()) return Error(kDecodeFailure, "decoding result", absl::StrCat("route gw ", r["gw"].dump()));
      route.gateway = *gw;
    } else {
      // As the reference plugins: a route without gw goes through its family's gateway.
      route.gateway = dst->address.family == 4 ? gw4 : gw6;
    }
    routes.push_back(route);
  }
  return WithCode(ConfigureIn(netns, ifname, addresses, routes), kGeneric,
                  absl::StrCat("configuring ", ifname, " in the container"));
}

absl::StatusOr<ContainerLink> ReadContainerLink(const std::string& netns, const std::string& ifname) {
  auto link = ReadLinkIn(netns, ifname);
  if (absl::IsNotFound(link.status()))
    return Error(kGeneric, "check failed", absl::StrCat("interface ", ifname, " is gone from ", netns, ": ",
                                                        link.status().message()));
  if (!link.ok()) return WithCode(link.status(), kGeneric, "check failed");
  return link;
}

absl::StatusOr<int> DeleteLinksByAlias(const std::string& alias) {
  auto n = DeleteDevicesByAlias(alias);
  if (!n.ok()) return WithCode(n.status(), kGeneric, absl::StrCat("deleting the devices of ", alias));
  return n;
}

absl::StatusOr<std::vector<std::string>> FindDevicesByAlias(const std::string& alias) {
  auto names = DevicesByAlias(alias);
  if (!names.ok()) return WithCode(names.status(), kGeneric, absl::StrCat("finding the devices of ", alias));
  return names;
}

}  // namespace vnet::cni
