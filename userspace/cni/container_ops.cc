#include "cni/container_ops.h"

#include <linux/if_addr.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cni/cni_error.h"
#include "netlink/netns.h"
#include "netlink/rtnl.h"

namespace vnet::cni {
namespace {

using nlohmann::json;

absl::StatusOr<UniqueFd> OpenContainerNetns(const std::string& netns) {
  auto fd = OpenNetns(netns);
  if (!fd.ok()) return Error(kInvalidEnvironment, "invalid environment: CNI_NETNS", fd.status().message());
  return fd;
}

std::uint32_t Hex32(const std::string& s) {
  std::uint32_t v = 0;
  (void)absl::SimpleHexAtoi(s, &v);
  return v;
}

// Routes of this netns from /proc (the calling thread's namespace).
struct ProcRoute {
  std::string dev;
  IpPrefix dst;
  std::uint32_t metric = 0;
};
std::vector<ProcRoute> ReadProcRoutes() {
  std::vector<ProcRoute> out;
  std::ifstream v4("/proc/thread-self/net/route");
  std::string line;
  std::getline(v4, line);  // header
  while (std::getline(v4, line)) {
    std::istringstream in(line);
    std::string dev, dst, gw, flags, refcnt, use, metric, mask;
    if (!(in >> dev >> dst >> gw >> flags >> refcnt >> use >> metric >> mask)) continue;
    ProcRoute r;
    r.dev = dev;
    std::uint32_t d = Hex32(dst), m = Hex32(mask);  // little-endian as the kernel prints them
    r.dst.address.family = 4;
    std::memcpy(r.dst.address.bytes.data(), &d, 4);
    r.dst.plen = __builtin_popcount(m);
    (void)absl::SimpleAtoi(metric, &r.metric);
    out.push_back(r);
  }
  std::ifstream v6("/proc/thread-self/net/ipv6_route");
  while (std::getline(v6, line)) {
    std::istringstream in(line);
    std::string dst, plen, src, splen, nh, metric, refcnt, use, flags, dev;
    if (!(in >> dst >> plen >> src >> splen >> nh >> metric >> refcnt >> use >> flags >> dev)) continue;
    if (dst.size() != 32) continue;
    ProcRoute r;
    r.dev = dev;
    r.dst.address.family = 6;
    for (int i = 0; i < 16; ++i) {
      std::uint32_t b = 0;
      (void)absl::SimpleHexAtoi(dst.substr(i * 2, 2), &b);
      r.dst.address.bytes[i] = static_cast<std::uint8_t>(b);
    }
    r.dst.plen = static_cast<int>(Hex32(plen));
    r.metric = Hex32(metric);
    out.push_back(r);
  }
  return out;
}

}  // namespace

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
  const ProcRoute* best = nullptr;
  auto routes = ReadProcRoutes();
  for (int family : {4, 6}) {
    for (const auto& r : routes)
      if (r.dst.address.family == family && r.dst.plen == 0 && r.dev != "lo" && (!best || r.metric < best->metric))
        best = &r;
    if (best) return best->dev;
  }
  return Error(kInvalidConfig, "invalid config: master",
               "key 'master': not given, and this namespace has no default route to take it from");
}

absl::StatusOr<unsigned> MasterMtu(const std::string& master) {
  auto rtnl = Rtnl::Open();
  if (!rtnl.ok()) return WithCode(rtnl.status(), kGeneric, "netlink");
  auto link = rtnl->GetLink(master);
  if (!link.ok())
    return Error(kInvalidConfig, "invalid config: master", absl::StrCat("key 'master': no device ", master, " here"));
  return link->mtu;
}

absl::Status CheckIfnameFree(const std::string& netns, const std::string& ifname) {
  auto fd = OpenContainerNetns(netns);
  if (!fd.ok()) return fd.status();
  auto inside = ScopedNetns::Enter(fd->get(), netns);
  if (!inside.ok()) return WithCode(inside.status(), kInvalidEnvironment, "invalid environment: CNI_NETNS");
  auto rtnl = Rtnl::Open();
  if (!rtnl.ok()) return WithCode(rtnl.status(), kGeneric, "netlink");
  if (rtnl->GetLink(ifname).ok())
    return Error(kGeneric, "interface exists",
                 absl::StrCat("CNI_IFNAME ", ifname, " already exists in ", netns));
  return absl::OkStatus();
}

absl::Status ConfigureContainer(const std::string& netns, const std::string& ifname, const json& result,
                                bool add_addresses) {
  auto fd = OpenContainerNetns(netns);
  if (!fd.ok()) return fd.status();
  auto inside = ScopedNetns::Enter(fd->get(), netns);
  if (!inside.ok()) return WithCode(inside.status(), kGeneric, "entering the container");
  auto rtnl = Rtnl::Open();
  if (!rtnl.ok()) return WithCode(rtnl.status(), kGeneric, "netlink");
  auto link = rtnl->GetLink(ifname);
  if (!link.ok()) return WithCode(link.status(), kGeneric, "configuring the container");
  std::optional<IpAddress> gw4, gw6;
  for (const auto& ip : result.value("ips", json::array())) {
    auto prefix = ParseCidr(ip.value("address", ""));
    if (!prefix.ok()) return prefix.status();
    if (ip.contains("gateway") && ip["gateway"].is_string()) {
      auto gw = IpAddress::Parse(ip["gateway"].get<std::string>());
      if (gw.ok()) (gw->family == 4 ? gw4 : gw6) = *gw;
    }
    if (!add_addresses) continue;
    // No duplicate address detection: IPAM owns the address, and a tentative
    // one would not carry the container's first packets.
    auto added = rtnl->AddAddress(link->ifindex, *prefix, IFA_F_NODAD, ifname);
    if (!added.ok() && !absl::IsAlreadyExists(added))
      return WithCode(added, kGeneric, absl::StrCat("adding ", prefix->ToString(), " in the container"));
  }
  for (const auto& r : result.value("routes", json::array())) {
    auto dst = ParseCidr(r.value("dst", ""));
    if (!dst.ok()) return dst.status();
    Route route;
    route.dst = *dst;
    route.oif = link->ifindex;
    if (r.contains("gw") && r["gw"].is_string()) {
      auto gw = IpAddress::Parse(r["gw"].get<std::string>());
      if (!gw.ok()) return Error(kDecodeFailure, "decoding result", absl::StrCat("route gw '", r["gw"].dump(), "'"));
      route.gateway = *gw;
    } else {
      route.gateway = dst->address.family == 4 ? gw4 : gw6;
    }
    auto added = rtnl->AddRoute(route, ifname);
    // An ipvlan l3 port has its default routes already (the port made them).
    if (!added.ok() && !absl::IsAlreadyExists(added))
      return WithCode(added, kGeneric, absl::StrCat("adding the route to ", dst->ToString(), " in the container"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ContainerLink> ReadContainerLink(const std::string& netns, const std::string& ifname) {
  auto fd = OpenContainerNetns(netns);
  if (!fd.ok()) return fd.status();
  auto inside = ScopedNetns::Enter(fd->get(), netns);
  if (!inside.ok()) return WithCode(inside.status(), kGeneric, "entering the container");
  auto rtnl = Rtnl::Open();
  if (!rtnl.ok()) return WithCode(rtnl.status(), kGeneric, "netlink");
  auto link = rtnl->GetLink(ifname);
  if (!link.ok())
    return Error(kGeneric, "check failed", absl::StrCat("interface ", ifname, " is gone from ", netns));
  ContainerLink out;
  if (link->mac) out.mac = *link->mac;
  out.mtu = link->mtu;
  auto addresses = rtnl->ListAddresses(link->ifindex, ifname);
  if (!addresses.ok()) return WithCode(addresses.status(), kGeneric, "reading the container's addresses");
  out.addresses = *addresses;
  for (const auto& r : ReadProcRoutes())
    if (r.dev == ifname) out.route_dsts.push_back(r.dst);
  return out;
}

absl::StatusOr<int> DeleteLinksByAlias(const std::string& alias) {
  auto rtnl = Rtnl::Open();
  if (!rtnl.ok()) return WithCode(rtnl.status(), kGeneric, "netlink");
  auto links = rtnl->ListLinks();
  if (!links.ok()) return WithCode(links.status(), kGeneric, "listing links");
  int n = 0;
  for (const auto& l : *links) {
    if (l.alias != alias) continue;
    auto s = rtnl->DeleteLink(l.ifindex, l.name);
    if (!s.ok() && !absl::IsNotFound(s)) return WithCode(s, kGeneric, "deleting a left-over link");
    ++n;
  }
  return n;
}

}  // namespace vnet::cni
