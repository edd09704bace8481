#include "absl/strings/string_view.h"
#include "netlink/rtnl.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "netlink/nl_message.h"

namespace vnet {
namespace {

LinkInfo ParseLink(const nlmsghdr* h) {
  LinkInfo info;
  auto* ifi = reinterpret_cast<const ifinfomsg*>(NLMSG_DATA(h));
  info.ifindex = ifi->ifi_index;
  info.flags = ifi->ifi_flags;
  info.type = ifi->ifi_type;
  auto* attrs = reinterpret_cast<const std::uint8_t*>(ifi) + NLMSG_ALIGN(sizeof(*ifi));
  std::size_t len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
  ForEachAttr(attrs, len, [&](int type, const std::uint8_t* d, std::size_t n) {
    switch (type) {
      case IFLA_IFNAME:
        info.name.assign(reinterpret_cast<const char*>(d), strnlen(reinterpret_cast<const char*>(d), n));
        break;
      case IFLA_ADDRESS:
        if (n == 6) info.mac = MacAddress::FromBytes(d);
        break;
      case IFLA_MTU:
        if (n >= 4) std::memcpy(&info.mtu, d, 4);
        break;
      case IFLA_LINK:
        if (n >= 4) std::memcpy(&info.link_ifindex, d, 4);
        break;
      case IFLA_LINK_NETNSID:
        if (n >= 4) {
          int id;
          std::memcpy(&id, d, 4);
          info.link_netnsid = id;
        }
        break;
      case IFLA_GROUP:
        if (n >= 4) std::memcpy(&info.group, d, 4);
        break;
      case IFLA_IFALIAS:
        info.alias.assign(reinterpret_cast<const char*>(d), strnlen(reinterpret_cast<const char*>(d), n));
        break;
      case IFLA_CARRIER:
        if (n >= 1) info.has_carrier = d[0] != 0;
        break;
      case IFLA_XDP:
        ForEachAttr(d, n, [&](int t, const std::uint8_t* xd, std::size_t xn) {
          if (t == IFLA_XDP_ATTACHED && xn >= 1) info.xdp_attached = xd[0];
          if (t == IFLA_XDP_PROG_ID && xn >= 4) std::memcpy(&info.xdp_prog_id, xd, 4);
        });
        break;
      case IFLA_LINKINFO:
        ForEachAttr(d, n, [&](int t, const std::uint8_t* kd, std::size_t kn) {
          if (t == IFLA_INFO_KIND)
            info.kind.assign(reinterpret_cast<const char*>(kd), strnlen(reinterpret_cast<const char*>(kd), kn));
        });
        break;
      default:
        break;
    }
  });
  return info;
}

}  // namespace

bool LinkInfo::admin_up() const { return flags & IFF_UP; }

absl::StatusOr<Rtnl> Rtnl::Open() {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return ErrnoStatus(errno, "open", "rtnetlink socket");
  UniqueFd owned(fd);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0)
    return ErrnoStatus(errno, "bind", "rtnetlink socket");
  int one = 1;
  ::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  return Rtnl(std::move(owned));
}

absl::Status Rtnl::Transact(std::vector<std::uint8_t>& request, absl::string_view step,
                            absl::string_view object, std::vector<std::uint8_t>* reply) {
  auto* h = reinterpret_cast<nlmsghdr*>(request.data());
  h->nlmsg_seq = ++seq_;
  if (::send(fd_.get(), request.data(), request.size(), 0) < 0)
    return ErrnoStatus(errno, step, object);
  std::vector<std::uint8_t> buf(64 * 1024);
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, step, object);
    }
    for (auto* m = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(m, static_cast<unsigned>(n));
         m = NLMSG_NEXT(m, n)) {
      if (m->nlmsg_seq != seq_) continue;
      if (m->nlmsg_type == NLMSG_ERROR) {
        auto* e = reinterpret_cast<nlmsgerr*>(NLMSG_DATA(m));
        if (e->error == 0) return absl::OkStatus();
        return ErrnoStatus(e->error, step, object);
      }
      if (reply) reply->assign(reinterpret_cast<std::uint8_t*>(m), reinterpret_cast<std::uint8_t*>(m) + m->nlmsg_len);
    }
  }
}

absl::StatusOr<LinkInfo> Rtnl::GetLinkBy(int ifindex, absl::string_view name) {
  Message msg(RTM_GETLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  msg.Put(ifi);
  if (!name.empty()) {
    if (name.size() >= IFNAMSIZ)
      return absl::InvalidArgumentError(absl::StrCat(name, ": device name longer than ", IFNAMSIZ - 1));
    msg.AttrStr(IFLA_IFNAME, name);
  }
  msg.AttrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  std::vector<std::uint8_t> reply;
  std::string object = name.empty() ? absl::StrCat("ifindex ", ifindex) : std::string(name);
  auto status = Transact(msg.Finish(), "look up device", object, &reply);
  if (!status.ok()) {
    if (absl::IsNotFound(status)) return absl::NotFoundError(absl::StrCat(object, ": no such device"));
    return status;
  }
  if (reply.empty()) return absl::NotFoundError(absl::StrCat(object, ": no such device"));
  return ParseLink(reinterpret_cast<nlmsghdr*>(reply.data()));
}

absl::StatusOr<LinkInfo> Rtnl::GetLink(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("empty device name");
  return GetLinkBy(0, name);
}

absl::StatusOr<LinkInfo> Rtnl::GetLink(int ifindex) { return GetLinkBy(ifindex, ""); }

absl::Status Rtnl::Dump(std::vector<std::uint8_t>& request, absl::string_view step, absl::string_view object,
                        const std::function<void(const nlmsghdr*)>& fn) {
  auto* h = reinterpret_cast<nlmsghdr*>(request.data());
  h->nlmsg_flags &= ~NLM_F_ACK;
  h->nlmsg_seq = ++seq_;
  if (::send(fd_.get(), request.data(), request.size(), 0) < 0) return ErrnoStatus(errno, step, object);
  std::vector<std::uint8_t> buf(256 * 1024);
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, step, object);
    }
    for (auto* m = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(m, static_cast<unsigned>(n));
         m = NLMSG_NEXT(m, n)) {
      if (m->nlmsg_seq != seq_) continue;
      if (m->nlmsg_type == NLMSG_DONE) return absl::OkStatus();
      if (m->nlmsg_type == NLMSG_ERROR) {
        auto* e = reinterpret_cast<nlmsgerr*>(NLMSG_DATA(m));
        return ErrnoStatus(e->error, step, object);
      }
      fn(m);
    }
  }
}

absl::StatusOr<std::vector<LinkInfo>> Rtnl::ListLinks() {
  Message msg(RTM_GETLINK, NLM_F_DUMP);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  msg.Put(ifi);
  std::vector<LinkInfo> links;
  VNET_RETURN_IF_ERROR(Dump(msg.Finish(), "list", "links", [&](const nlmsghdr* m) {
    if (m->nlmsg_type == RTM_NEWLINK) links.push_back(ParseLink(m));
  }));
  return links;
}

absl::Status Rtnl::CreateVeth(absl::string_view name, absl::string_view peer_name, int peer_netns_fd,
                              const std::optional<MacAddress>& peer_mac, unsigned mtu) {
  Message msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  msg.Put(ifi);
  msg.AttrStr(IFLA_IFNAME, name);
  if (mtu) msg.AttrU32(IFLA_MTU, mtu);
  auto linkinfo = msg.Begin(IFLA_LINKINFO);
  msg.AttrStr(IFLA_INFO_KIND, "veth");
  auto data = msg.Begin(IFLA_INFO_DATA);
  auto peer = msg.Begin(VETH_INFO_PEER);
  ifinfomsg peer_ifi{};
  peer_ifi.ifi_family = AF_UNSPEC;
  msg.Put(peer_ifi);
  msg.AttrStr(IFLA_IFNAME, peer_name);
  if (peer_netns_fd >= 0) msg.AttrU32(IFLA_NET_NS_FD, static_cast<std::uint32_t>(peer_netns_fd));
  if (peer_mac) msg.Attr(IFLA_ADDRESS, peer_mac->bytes.data(), 6);
  if (mtu) msg.AttrU32(IFLA_MTU, mtu);
  msg.End(peer);
  msg.End(data);
  msg.End(linkinfo);
  return Transact(msg.Finish(), "create veth pair", absl::StrCat(name, "/", peer_name));
}

namespace {

// An RTM_NEWLINK/RTM_DELLINK request for one existing link, to add attributes to.
Message LinkRequest(std::uint16_t type, int ifindex, unsigned change = 0, unsigned flags = 0) {
  Message msg(type, 0);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  ifi.ifi_change = change;
  ifi.ifi_flags = flags;
  msg.Put(ifi);
  return msg;
}

}  // namespace

absl::Status Rtnl::DeleteLink(int ifindex, absl::string_view name_for_errors) {
  Message msg = LinkRequest(RTM_DELLINK, ifindex);
  return Transact(msg.Finish(), "delete device", name_for_errors);
}

absl::Status Rtnl::SetGroup(int ifindex, std::uint32_t group, absl::string_view name_for_errors) {
  Message msg = LinkRequest(RTM_NEWLINK, ifindex);
  msg.AttrU32(IFLA_GROUP, group);
  return Transact(msg.Finish(), "set device group of", name_for_errors);
}

absl::Status Rtnl::DeleteGroup(std::uint32_t group) {
  Message msg = LinkRequest(RTM_DELLINK, 0);
  msg.AttrU32(IFLA_GROUP, group);
  return Transact(msg.Finish(), "delete device group", std::to_string(group));
}

absl::Status Rtnl::SetUp(int ifindex, bool up, absl::string_view name_for_errors) {
  Message msg = LinkRequest(RTM_NEWLINK, ifindex, IFF_UP, up ? IFF_UP : 0);
  return Transact(msg.Finish(), up ? "bring up" : "bring down", name_for_errors);
}

absl::Status Rtnl::SetPromisc(int ifindex, bool on, absl::string_view name_for_errors) {
  Message msg = LinkRequest(RTM_NEWLINK, ifindex, IFF_PROMISC, on ? IFF_PROMISC : 0);
  return Transact(msg.Finish(), on ? "make promiscuous" : "end promiscuous mode of", name_for_errors);
}

absl::Status Rtnl::SetNoArp(int ifindex, bool on, absl::string_view name_for_errors) {
  Message msg = LinkRequest(RTM_NEWLINK, ifindex, IFF_NOARP, on ? IFF_NOARP : 0);
  return Transact(msg.Finish(), on ? "turn off ARP on" : "turn on ARP on", name_for_errors);
}

absl::Status Rtnl::SetAddrGenModeNone(int ifindex, absl::string_view name_for_errors) {
  Message msg = LinkRequest(RTM_NEWLINK, ifindex);
  auto spec = msg.Begin(IFLA_AF_SPEC);
  auto inet6 = msg.Begin(AF_INET6);
  std::uint8_t mode = IN6_ADDR_GEN_MODE_NONE;
  msg.Attr(IFLA_INET6_ADDR_GEN_MODE, &mode, 1);
  msg.End(inet6);
  msg.End(spec);
  return Transact(msg.Finish(), "set IPv6 addr_gen_mode none on", name_for_errors);
}

absl::Status Rtnl::SetMac(int ifindex, const MacAddress& mac, absl::string_view name_for_errors) {
  Message msg = LinkRequest(RTM_NEWLINK, ifindex);
  msg.Attr(IFLA_ADDRESS, mac.bytes.data(), 6);
  return Transact(msg.Finish(), "set MAC address of", name_for_errors);
}

absl::Status Rtnl::SetMtu(int ifindex, unsigned mtu, absl::string_view name_for_errors) {
  Message msg = LinkRequest(RTM_NEWLINK, ifindex);
  msg.AttrU32(IFLA_MTU, mtu);
  return Transact(msg.Finish(), "set MTU of", name_for_errors);
}

absl::Status Rtnl::SetAlias(int ifindex, absl::string_view alias, absl::string_view name_for_errors) {
  Message msg = LinkRequest(RTM_NEWLINK, ifindex);
  msg.AttrStr(IFLA_IFALIAS, alias);
  return Transact(msg.Finish(), "set alias of", name_for_errors);
}

absl::StatusOr<int> Rtnl::GetNsid(int netns_fd) {
  Message msg(RTM_GETNSID, 0);
  rtgenmsg g{};
  g.rtgen_family = AF_UNSPEC;
  msg.Put(g);
  msg.AttrU32(NETNSA_FD, static_cast<std::uint32_t>(netns_fd));
  std::vector<std::uint8_t> reply;
  VNET_RETURN_IF_ERROR(Transact(msg.Finish(), "query", "netns id", &reply));
  int nsid = -1;
  if (reply.size() >= NLMSG_LENGTH(sizeof(rtgenmsg))) {
    auto* h = reinterpret_cast<nlmsghdr*>(reply.data());
    auto* attrs = reply.data() + NLMSG_LENGTH(NLMSG_ALIGN(sizeof(rtgenmsg)));
    std::size_t len = h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(rtgenmsg)));
    ForEachAttr(attrs, len, [&](int type, const std::uint8_t* d, std::size_t n) {
      if (type == NETNSA_NSID && n >= 4) std::memcpy(&nsid, d, 4);
    });
  }
  return nsid;
}

}  // namespace vnet
