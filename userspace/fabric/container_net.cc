#include "fabric/container_net.h"

#include <linux/if_addr.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "netlink/netns.h"
#include "netlink/rtnl.h"

namespace vnet {
namespace {

std::uint32_t Hex32(const std::string& s) {
  std::uint32_t v = 0;
  (void)absl::SimpleHexAtoi(s, &v);
  return v;
}

struct ProcRoute {
  std::string dev;
  IpPrefix dst;
  std::uint32_t metric = 0;
};

// The routes of the calling thread's namespace, from /proc: a few lines to
// read, where a netlink route dump would need a parser of its own.
std::vector<ProcRoute> ReadProcRoutes() {
  std::vector<ProcRoute> out;
  std::ifstream v4("/proc/thread-self/net/route");
  std::string line;
  std::getline(v4, line);  // the header
  while (std::getline(v4, line)) {
    std::istringstream in(line);
    std::string dev, dst, gw, flags, refcnt, use, metric, mask;
    if (!(in >> dev >> dst >> gw >> flags >> refcnt >> use >> metric >> mask)) continue;
    ProcRoute r;
    r.dev = dev;
    std::uint32_t d = Hex32(dst), m = Hex32(mask);  // in network order, printed as host-order hex
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
    for (int i = 0; i < 16; ++i) r.dst.address.bytes[i] = static_cast<std::uint8_t>(Hex32(dst.substr(i * 2, 2)));
    r.dst.plen = static_cast<int>(Hex32(plen));
    r.metric = Hex32(metric);
    out.push_back(r);
  }
  return out;
}

// Runs `fn` with an rtnetlink socket inside the namespace at `netns`.
template <typename Fn>
auto InNetns(absl::string_view netns, Fn fn) -> decltype(fn(std::declval<Rtnl&>())) {
  VNET_ASSIGN_OR_RETURN(UniqueFd fd, OpenNetns(netns));
  VNET_ASSIGN_OR_RETURN(ScopedNetns inside, ScopedNetns::Enter(fd.get(), netns));
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  return fn(rtnl);
}

}  // namespace

absl::StatusOr<std::string> DefaultRouteDevice() {
  auto routes = ReadProcRoutes();
  for (int family : {4, 6}) {
    const ProcRoute* best = nullptr;
    for (const auto& r : routes)
      if (r.dst.address.family == family && r.dst.plen == 0 && r.dev != "lo" && (!best || r.metric < best->metric))
        best = &r;
    if (best) return best->dev;
  }
  return absl::NotFoundError("default route: none in this namespace");
}

absl::StatusOr<unsigned> DeviceMtu(absl::string_view dev) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(LinkInfo link, rtnl.GetLink(dev));
  return link.mtu;
}

absl::StatusOr<bool> DeviceExistsIn(absl::string_view netns, absl::string_view ifname) {
  return InNetns(netns, [&](Rtnl& rtnl) -> absl::StatusOr<bool> { return rtnl.GetLink(ifname).ok(); });
}

absl::Status ConfigureIn(absl::string_view netns, absl::string_view ifname, const std::vector<IpPrefix>& addresses,
                         const std::vector<ContainerRoute>& routes) {
  return InNetns(netns, [&](Rtnl& rtnl) -> absl::Status {
    VNET_ASSIGN_OR_RETURN(LinkInfo link, rtnl.GetLink(ifname));
    for (const auto& a : addresses) {
      auto added = rtnl.AddAddress(link.ifindex, a, IFA_F_NODAD, ifname);
      if (!added.ok() && !absl::IsAlreadyExists(added)) return Annotate(added, absl::StrCat("address ", a.ToString()));
    }
    for (const auto& r : routes) {
      auto added = rtnl.AddRoute(Route{r.dst, link.ifindex, r.gateway}, ifname);
      if (!added.ok() && !absl::IsAlreadyExists(added))
        return Annotate(added, absl::StrCat("route to ", r.dst.ToString()));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<ContainerLink> ReadLinkIn(absl::string_view netns, absl::string_view ifname) {
  return InNetns(netns, [&](Rtnl& rtnl) -> absl::StatusOr<ContainerLink> {
    VNET_ASSIGN_OR_RETURN(LinkInfo link, rtnl.GetLink(ifname));
    ContainerLink out;
    if (link.mac) out.mac = *link.mac;
    out.mtu = link.mtu;
    VNET_ASSIGN_OR_RETURN(out.addresses, rtnl.ListAddresses(link.ifindex, ifname));
    for (const auto& r : ReadProcRoutes())
      if (r.dev == ifname) out.route_dsts.push_back(r.dst);
    return out;
  });
}

absl::StatusOr<int> DeleteDevicesByAlias(absl::string_view alias) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(auto links, rtnl.ListLinks());
  int n = 0;
  for (const auto& l : links) {
    if (l.alias != alias) continue;
    auto s = rtnl.DeleteLink(l.ifindex, l.name);
    if (!s.ok() && !absl::IsNotFound(s)) return s;
    ++n;
  }
  return n;
}

absl::StatusOr<std::vector<std::string>> DevicesByAlias(absl::string_view alias) {
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(auto links, rtnl.ListLinks());
  std::vector<std::string> out;
  for (const auto& l : links)
    if (l.alias == alias) out.push_back(l.name);
  return out;
}

}  // namespace vnet
