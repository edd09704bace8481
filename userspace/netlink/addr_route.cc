// Rtnl's address, route and neighbour requests (declared in rtnl.h): what an
// ipvlan port's container side (addresses, default routes) and an l3s host
// end (host routes, permanent neighbours) need.
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "netlink/nl_message.h"
#include "netlink/rtnl.h"

namespace vnet {
namespace {

Message AddressRequest(std::uint16_t type, std::uint16_t flags, int ifindex, const IpPrefix& address,
                       std::uint32_t ifa_flags) {
  Message msg(type, flags);
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<std::uint8_t>(address.address.AddressFamily());
  ifa.ifa_prefixlen = static_cast<std::uint8_t>(address.plen);
  ifa.ifa_index = static_cast<std::uint32_t>(ifindex);
  ifa.ifa_scope = address.address.IsLinkLocal() ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  msg.Put(ifa);
  msg.Attr(IFA_LOCAL, address.address.bytes.data(), address.address.Size());
  msg.Attr(IFA_ADDRESS, address.address.bytes.data(), address.address.Size());
  if (ifa_flags) msg.AttrU32(IFA_FLAGS, ifa_flags);
  return msg;
}

Message RouteRequest(std::uint16_t type, std::uint16_t flags, const Route& route) {
  Message msg(type, flags);
  rtmsg rt{};
  rt.rtm_family = static_cast<std::uint8_t>(route.dst.address.AddressFamily());
  rt.rtm_dst_len = static_cast<std::uint8_t>(route.dst.plen);
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_protocol = RTPROT_STATIC;
  rt.rtm_scope = route.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rt.rtm_type = RTN_UNICAST;
  msg.Put(rt);
  if (route.dst.plen) msg.Attr(RTA_DST, route.dst.address.bytes.data(), route.dst.address.Size());
  if (route.gateway) msg.Attr(RTA_GATEWAY, route.gateway->bytes.data(), route.gateway->Size());
  msg.AttrU32(RTA_OIF, static_cast<std::uint32_t>(route.oif));
  msg.AttrU32(RTA_PRIORITY, kVnetRouteMetric);
  return msg;
}

Message NeighbourRequest(std::uint16_t type, std::uint16_t flags, int ifindex, const IpAddress& ip) {
  Message msg(type, flags);
  ndmsg nd{};
  nd.ndm_family = static_cast<std::uint8_t>(ip.AddressFamily());
  nd.ndm_ifindex = ifindex;
  nd.ndm_state = NUD_PERMANENT;
  msg.Put(nd);
  msg.Attr(NDA_DST, ip.bytes.data(), ip.Size());
  return msg;
}

}  // namespace

absl::Status Rtnl::AddAddress(int ifindex, const IpPrefix& address, std::uint32_t flags,
                              absl::string_view name_for_errors) {
  Message msg = AddressRequest(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, address, flags);
  return Transact(msg.Finish(), absl::StrCat("add address ", address.ToString(), " to"), name_for_errors);
}

absl::Status Rtnl::DeleteAddress(int ifindex, const IpPrefix& address, absl::string_view name_for_errors) {
  Message msg = AddressRequest(RTM_DELADDR, 0, ifindex, address, 0);
  return Transact(msg.Finish(), absl::StrCat("remove address ", address.ToString(), " from"), name_for_errors);
}

absl::StatusOr<std::vector<IpPrefix>> Rtnl::ListAddresses(int ifindex, absl::string_view name_for_errors) {
  Message msg(RTM_GETADDR, NLM_F_DUMP);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_UNSPEC;
  msg.Put(ifa);
  std::vector<IpPrefix> out;
  VNET_RETURN_IF_ERROR(Dump(msg.Finish(), "list addresses of", name_for_errors, [&](const nlmsghdr* m) {
    if (m->nlmsg_type != RTM_NEWADDR) return;
    auto* a = reinterpret_cast<const ifaddrmsg*>(NLMSG_DATA(m));
    if (static_cast<int>(a->ifa_index) != ifindex || (a->ifa_family != AF_INET && a->ifa_family != AF_INET6)) return;
    int family = a->ifa_family == AF_INET ? 4 : 6;
    auto* attrs = reinterpret_cast<const std::uint8_t*>(a) + NLMSG_ALIGN(sizeof(*a));
    std::size_t len = m->nlmsg_len - NLMSG_LENGTH(sizeof(*a));
    std::optional<IpAddress> local, address;
    ForEachAttr(attrs, len, [&](int type, const std::uint8_t* d, std::size_t n) {
      if (n < (family == 4 ? 4u : 16u)) return;
      if (type == IFA_LOCAL) local = IpAddress::FromBytes(family, d);
      if (type == IFA_ADDRESS) address = IpAddress::FromBytes(family, d);
    });
    if (local || address) out.push_back(IpPrefix{local ? *local : *address, a->ifa_prefixlen});
  }));
  return out;
}

absl::Status Rtnl::AddRoute(const Route& route, absl::string_view name_for_errors) {
  Message msg = RouteRequest(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, route);
  return Transact(msg.Finish(), absl::StrCat("add route to ", route.dst.ToString(), " via"), name_for_errors);
}

absl::Status Rtnl::DeleteRoute(const Route& route, absl::string_view name_for_errors) {
  Message msg = RouteRequest(RTM_DELROUTE, 0, route);
  return Transact(msg.Finish(), absl::StrCat("remove route to ", route.dst.ToString(), " via"), name_for_errors);
}

absl::Status Rtnl::SetNeighbour(int ifindex, const IpAddress& ip, const MacAddress& mac,
                                absl::string_view name_for_errors) {
  Message msg = NeighbourRequest(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ifindex, ip);
  msg.Attr(NDA_LLADDR, mac.bytes.data(), 6);
  return Transact(msg.Finish(), absl::StrCat("add neighbour ", ip.ToString(), " on"), name_for_errors);
}

absl::Status Rtnl::DeleteNeighbour(int ifindex, const IpAddress& ip, absl::string_view name_for_errors) {
  Message msg = NeighbourRequest(RTM_DELNEIGH, 0, ifindex, ip);
  return Transact(msg.Finish(), absl::StrCat("remove neighbour ", ip.ToString(), " on"), name_for_errors);
}

}  // namespace vnet
