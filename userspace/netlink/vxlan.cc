#include "netlink/vxlan.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "netlink/nl_message.h"

namespace vnet {
namespace {

constexpr std::uint8_t kZeroMac[6] = {0, 0, 0, 0, 0, 0};

std::string AttrString(const std::uint8_t* d, std::size_t n) {
  return std::string(reinterpret_cast<const char*>(d), strnlen(reinterpret_cast<const char*>(d), n));
}

void ParseVxlanData(const std::uint8_t* d, std::size_t n, VxlanLink& out) {
  ForEachAttr(d, n, [&](int type, const std::uint8_t* v, std::size_t len) {
    switch (type) {
      case IFLA_VXLAN_ID:
        if (len >= 4) std::memcpy(&out.vni, v, 4);
        break;
      case IFLA_VXLAN_LINK:
        if (len >= 4) std::memcpy(&out.underlay_ifindex, v, 4);
        break;
      case IFLA_VXLAN_LOCAL:
        if (len >= 4) {
          IpAddress a = IpAddress::FromBytes(4, v);
          if (a != IpAddress{}) out.local = a;
        }
        break;
      case IFLA_VXLAN_LOCAL6:
        if (len >= 16) {
          IpAddress a = IpAddress::FromBytes(6, v);
          if (a != IpAddress{6, {}}) out.local = a;
        }
        break;
      case IFLA_VXLAN_PORT:
        if (len >= 2) {
          std::uint16_t port;
          std::memcpy(&port, v, 2);
          out.dstport = ntohs(port);
        }
        break;
      case IFLA_VXLAN_LEARNING:
        if (len >= 1) out.learning = v[0] != 0;
        break;
      default:
        break;
    }
  });
}

}  // namespace

absl::Status VxlanLinks::Create(const VxlanSpec& spec) {
  Message msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  msg.Put(ifi);
  msg.AttrStr(IFLA_IFNAME, spec.name);
  if (spec.mtu) msg.AttrU32(IFLA_MTU, spec.mtu);
  auto linkinfo = msg.Begin(IFLA_LINKINFO);
  msg.AttrStr(IFLA_INFO_KIND, "vxlan");
  auto data = msg.Begin(IFLA_INFO_DATA);
  msg.AttrU32(IFLA_VXLAN_ID, spec.vni);
  msg.AttrU32(IFLA_VXLAN_LINK, static_cast<std::uint32_t>(spec.underlay_ifindex));
  if (spec.local.family == 4)
    msg.Attr(IFLA_VXLAN_LOCAL, spec.local.bytes.data(), 4);
  else
    msg.Attr(IFLA_VXLAN_LOCAL6, spec.local.bytes.data(), 16);
  std::uint16_t port = htons(spec.dstport);
  msg.Attr(IFLA_VXLAN_PORT, &port, sizeof(port));
  std::uint8_t learning = 1;
  msg.Attr(IFLA_VXLAN_LEARNING, &learning, 1);
  msg.End(data);
  msg.End(linkinfo);
  auto status = rtnl_.Transact(msg.Finish(), "create VXLAN device", spec.name);
  if (absl::IsAlreadyExists(status))
    return absl::AlreadyExistsError(absl::StrCat(spec.name, ": a device by that name already exists"));
  return status;
}

absl::StatusOr<std::optional<VxlanLink>> VxlanLinks::Get(int ifindex) {
  Message msg(RTM_GETLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  msg.Put(ifi);
  msg.AttrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  std::vector<std::uint8_t> reply;
  std::string object = absl::StrCat("ifindex ", ifindex);
  auto status = rtnl_.Transact(msg.Finish(), "look up device", object, &reply);
  if (absl::IsNotFound(status) || (status.ok() && reply.empty()))
    return absl::NotFoundError(absl::StrCat(object, ": no such device"));
  VNET_RETURN_IF_ERROR(status);
  auto* h = reinterpret_cast<const nlmsghdr*>(reply.data());
  auto* got = reinterpret_cast<const ifinfomsg*>(NLMSG_DATA(h));
  VxlanLink link;
  link.ifindex = got->ifi_index;
  bool is_vxlan = false;
  auto* attrs = reinterpret_cast<const std::uint8_t*>(got) + NLMSG_ALIGN(sizeof(*got));
  ForEachAttr(attrs, h->nlmsg_len - NLMSG_LENGTH(sizeof(*got)), [&](int type, const std::uint8_t* d, std::size_t n) {
    if (type == IFLA_IFNAME) link.name = AttrString(d, n);
    if (type == IFLA_IFALIAS) link.alias = AttrString(d, n);
    if (type == IFLA_MTU && n >= 4) std::memcpy(&link.mtu, d, 4);
    if (type != IFLA_LINKINFO) return;
    ForEachAttr(d, n, [&](int t, const std::uint8_t* kd, std::size_t kn) {
      if (t == IFLA_INFO_KIND) is_vxlan = AttrString(kd, kn) == "vxlan";
      if (t == IFLA_INFO_DATA) ParseVxlanData(kd, kn, link);
    });
  });
  if (!is_vxlan) return std::optional<VxlanLink>();
  return std::optional<VxlanLink>(std::move(link));
}

absl::StatusOr<std::vector<VxlanLinks::FdbEntry>> VxlanLinks::DumpFdb(int ifindex, absl::string_view name) {
  // A bare ndmsg: the kernel dumps every bridge-family FDB of the netns; the
  // device's own entries are picked out here by ndm_ifindex.
  Message msg(RTM_GETNEIGH, NLM_F_DUMP);
  ndmsg ndm{};
  ndm.ndm_family = AF_BRIDGE;
  msg.Put(ndm);
  std::vector<FdbEntry> out;
  VNET_RETURN_IF_ERROR(rtnl_.Dump(msg.Finish(), "list FDB of", name, [&](const nlmsghdr* m) {
    if (m->nlmsg_type != RTM_NEWNEIGH) return;
    auto* n = reinterpret_cast<const ndmsg*>(NLMSG_DATA(m));
    if (n->ndm_ifindex != ifindex) return;
    FdbEntry e{};
    bool has_mac = false, has_dst = false;
    auto* attrs = reinterpret_cast<const std::uint8_t*>(n) + NLMSG_ALIGN(sizeof(*n));
    ForEachAttr(attrs, m->nlmsg_len - NLMSG_LENGTH(sizeof(*n)), [&](int type, const std::uint8_t* d, std::size_t len) {
      if (type == NDA_LLADDR && len == 6) {
        std::memcpy(e.mac, d, 6);
        has_mac = true;
      }
      if (type == NDA_DST && (len == 4 || len == 16)) {
        e.dst = IpAddress::FromBytes(len == 4 ? 4 : 6, d);
        has_dst = true;
      }
    });
    e.state = n->ndm_state;
    if (has_mac && has_dst) out.push_back(e);
  }));
  return out;
}

absl::Status VxlanLinks::Neigh(std::uint16_t type, std::uint16_t flags, int ifindex, const std::uint8_t* mac,
                               const IpAddress& dst, absl::string_view step, absl::string_view name) {
  Message msg(type, flags);
  ndmsg ndm{};
  ndm.ndm_family = AF_BRIDGE;
  ndm.ndm_ifindex = ifindex;
  ndm.ndm_state = NUD_NOARP | NUD_PERMANENT;
  ndm.ndm_flags = NTF_SELF;
  msg.Put(ndm);
  msg.Attr(NDA_LLADDR, mac, 6);
  msg.Attr(NDA_DST, dst.bytes.data(), dst.Size());
  return rtnl_.Transact(msg.Finish(), step, name);
}

absl::StatusOr<std::vector<IpAddress>> VxlanLinks::Remotes(int ifindex, absl::string_view name) {
  VNET_ASSIGN_OR_RETURN(auto entries, DumpFdb(ifindex, name));
  std::vector<IpAddress> out;
  for (const auto& e : entries)
    if (std::memcmp(e.mac, kZeroMac, 6) == 0) out.push_back(e.dst);
  return out;
}

absl::Status VxlanLinks::AddRemote(int ifindex, const IpAddress& remote, absl::string_view name) {
  return Neigh(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, ifindex, kZeroMac, remote,
               absl::StrCat("add remote ", remote.ToString(), " to"), name);
}

absl::Status VxlanLinks::DeleteRemote(int ifindex, const IpAddress& remote, absl::string_view name) {
  return Neigh(RTM_DELNEIGH, 0, ifindex, kZeroMac, remote, absl::StrCat("delete remote ", remote.ToString(), " of"),
               name);
}

absl::StatusOr<int> VxlanLinks::ForgetLearnedBehind(int ifindex, const IpAddress& remote, absl::string_view name) {
  VNET_ASSIGN_OR_RETURN(auto entries, DumpFdb(ifindex, name));
  int removed = 0;
  for (const auto& e : entries) {
    if (e.dst != remote || std::memcmp(e.mac, kZeroMac, 6) == 0 || (e.state & NUD_PERMANENT)) continue;
    auto status = Neigh(RTM_DELNEIGH, 0, ifindex, e.mac, e.dst, "forget a MAC learned behind", name);
    // Aged out meanwhile: gone either way.
    if (!status.ok() && !absl::IsNotFound(status)) return status;
    ++removed;
  }
  return removed;
}

}  // namespace vnet
