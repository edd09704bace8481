#include "netlink/xdp_features.h"

#include <linux/genetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/errors.h"
#include "base/unique_fd.h"
#include "netlink/nl_message.h"

namespace vnet {
namespace {

constexpr std::uint8_t kNetdevCmdDevGet = 1;
constexpr int kNetdevAttrIfindex = 1;
constexpr int kNetdevAttrXdpFeatures = 3;

// Sends `request` and calls on_message(header) for every reply message until
// the ACK (or DONE for dumps).
template <typename Fn>
absl::Status Exchange(int fd, std::vector<std::uint8_t>& request, absl::string_view what, Fn on_message) {
  if (::send(fd, request.data(), request.size(), 0) < 0) return ErrnoStatus(errno, "query", what);
  std::vector<std::uint8_t> buf(64 * 1024);
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "query", what);
    }
    for (auto* m = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(m, static_cast<unsigned>(n)); m = NLMSG_NEXT(m, n)) {
      if (m->nlmsg_type == NLMSG_DONE) return absl::OkStatus();
      if (m->nlmsg_type == NLMSG_ERROR) {
        int err = reinterpret_cast<nlmsgerr*>(NLMSG_DATA(m))->error;
        return err ? ErrnoStatus(err, "query", what) : absl::OkStatus();
      }
      on_message(m);
    }
  }
}

}  // namespace

std::vector<std::string> XdpFeatureNames(std::uint64_t features) {
  static const std::pair<std::uint64_t, const char*> kNames[] = {
      {kXdpBasic, "basic"},         {kXdpRedirect, "redirect"},      {kXdpNdoXmit, "ndo-xmit"},
      {kXdpXskZerocopy, "xsk-zerocopy"}, {kXdpHwOffload, "hw-offload"}, {kXdpRxSg, "rx-sg"},
      {kXdpNdoXmitSg, "ndo-xmit-sg"},
  };
  std::vector<std::string> names;
  for (const auto& [bit, name] : kNames)
    if (features & bit) names.emplace_back(name);
  return names;
}

absl::StatusOr<std::map<int, std::uint64_t>> QueryXdpFeatures() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
  if (!fd.valid()) return ErrnoStatus(errno, "open", "generic netlink socket");

  // Resolve the "netdev" family.
  Message lookup(GENL_ID_CTRL, 0);
  genlmsghdr g{};
  g.cmd = CTRL_CMD_GETFAMILY;
  g.version = 1;
  lookup.Put(g);
  lookup.AttrStr(CTRL_ATTR_FAMILY_NAME, "netdev");
  int family = 0;
  auto status = Exchange(fd.get(), lookup.Finish(), "netdev netlink family", [&](const nlmsghdr* m) {
    auto* attrs = reinterpret_cast<const std::uint8_t*>(NLMSG_DATA(m)) + GENL_HDRLEN;
    ForEachAttr(attrs, m->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), [&](int type, const std::uint8_t* d, std::size_t n) {
      if (type == CTRL_ATTR_FAMILY_ID && n >= 2) std::memcpy(&family, d, 2), family &= 0xffff;
    });
  });
  if (!status.ok() || !family)
    return absl::UnimplementedError("this kernel has no netdev netlink family (XDP features unknown)");

  Message dump(static_cast<std::uint16_t>(family), NLM_F_DUMP);
  genlmsghdr get{};
  get.cmd = kNetdevCmdDevGet;
  get.version = 1;
  dump.Put(get);
  std::map<int, std::uint64_t> features;
  VNET_RETURN_IF_ERROR(Exchange(fd.get(), dump.Finish(), "XDP features", [&](const nlmsghdr* m) {
    auto* attrs = reinterpret_cast<const std::uint8_t*>(NLMSG_DATA(m)) + GENL_HDRLEN;
    int ifindex = 0;
    std::uint64_t bits = 0;
    ForEachAttr(attrs, m->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), [&](int type, const std::uint8_t* d, std::size_t n) {
      if (type == kNetdevAttrIfindex && n >= 4) std::memcpy(&ifindex, d, 4);
      if (type == kNetdevAttrXdpFeatures && n >= 8) std::memcpy(&bits, d, 8);
    });
    if (ifindex) features[ifindex] = bits;
  }));
  return features;
}

}  // namespace vnet
