// A small rtnetlink client for the link operations libvnet needs: look up a
// link, create and delete veth pairs (peer straight into a netns), set state,
// MAC and MTU, and map a netns fd to its nsid. It works in the network
// namespace the socket was opened in.
#ifndef VNET_NETLINK_RTNL_H
#define VNET_NETLINK_RTNL_H

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "base/ip_address.h"
#include "base/mac_address.h"

struct nlmsghdr;

namespace vnet {

struct LinkInfo {
  int ifindex = 0;
  std::string name;
  std::optional<MacAddress> mac;
  unsigned mtu = 0;
  unsigned flags = 0;          // IFF_*
  unsigned short type = 0;     // ARPHRD_*
  std::string kind;            // IFLA_INFO_KIND: "veth", "tun", "" for hardware
  int link_ifindex = 0;        // IFLA_LINK: a veth's peer
  std::optional<int> link_netnsid;  // set when the peer lives in another netns
  bool has_carrier = false;
  std::uint32_t group = 0;     // IFLA_GROUP
  std::string alias;           // IFLA_IFALIAS: a CNI plugin records its attachment there
  // IFLA_XDP: what XDP program the device runs, read with the link itself
  // (libbpf's bpf_xdp_query dumps every link of the namespace to find one).
  std::uint8_t xdp_attached = 0;   // XDP_ATTACHED_*: NONE, DRV, SKB, HW or MULTI
  std::uint32_t xdp_prog_id = 0;   // the program, when attached in one mode only

  bool admin_up() const;
};

// A route vnet adds: to `dst` out of `oif`, through `gateway` when given.
// vnet's routes carry RTPROT_STATIC and kVnetRouteMetric, so they can be told
// apart from (and never replace) the operator's.
struct Route {
  IpPrefix dst;  // plen 0: the default route
  int oif = 0;
  std::optional<IpAddress> gateway;
};
inline constexpr std::uint32_t kVnetRouteMetric = 1001;

class Rtnl {
 public:
  static absl::StatusOr<Rtnl> Open();

  absl::StatusOr<LinkInfo> GetLink(absl::string_view name);
  absl::StatusOr<LinkInfo> GetLink(int ifindex);
  absl::StatusOr<std::vector<LinkInfo>> ListLinks();

  // Creates veth `name` here and its peer `peer_name` in the netns `peer_netns_fd`
  // (-1: here), with `peer_mac` and `mtu` (0: default) when given. One
  // request: either both exist or neither.
  absl::Status CreateVeth(absl::string_view name, absl::string_view peer_name, int peer_netns_fd,
                          const std::optional<MacAddress>& peer_mac, unsigned mtu = 0);
  absl::Status SetMtu(int ifindex, unsigned mtu, absl::string_view name_for_errors);
  absl::Status SetAlias(int ifindex, absl::string_view alias, absl::string_view name_for_errors);
  absl::Status DeleteLink(int ifindex, absl::string_view name_for_errors);
  // Device groups (IFLA_GROUP): deleting a group is one unregister batch, a
  // single RCU grace period for all its devices instead of one per device.
  absl::Status SetGroup(int ifindex, std::uint32_t group, absl::string_view name_for_errors);
  absl::Status DeleteGroup(std::uint32_t group);
  absl::Status SetUp(int ifindex, bool up, absl::string_view name_for_errors);
  absl::Status SetPromisc(int ifindex, bool on, absl::string_view name_for_errors);
  absl::Status SetMac(int ifindex, const MacAddress& mac, absl::string_view name_for_errors);
  absl::Status SetNoArp(int ifindex, bool on, absl::string_view name_for_errors);
  // IPv6 addr_gen_mode none: no automatic link-local (vnet chooses it).
  absl::Status SetAddrGenModeNone(int ifindex, absl::string_view name_for_errors);
  // Addresses, routes and neighbours (netlink/addr_route.cc). Addresses: `flags` are IFA_F_* (IFA_F_NODAD for vnet's link-local).
  absl::Status AddAddress(int ifindex, const IpPrefix& address, std::uint32_t flags, absl::string_view name_for_errors);
  absl::Status DeleteAddress(int ifindex, const IpPrefix& address, absl::string_view name_for_errors);
  absl::StatusOr<std::vector<IpPrefix>> ListAddresses(int ifindex, absl::string_view name_for_errors);
  // AlreadyExists when the same route is there.
  absl::Status AddRoute(const Route& route, absl::string_view name_for_errors);
  absl::Status DeleteRoute(const Route& route, absl::string_view name_for_errors);
  // A permanent neighbour entry (ip neigh replace ... nud permanent).
  absl::Status SetNeighbour(int ifindex, const IpAddress& ip, const MacAddress& mac, absl::string_view name_for_errors);
  absl::Status DeleteNeighbour(int ifindex, const IpAddress& ip, absl::string_view name_for_errors);

  // The nsid this netns gives `netns_fd`; -1 when it has none yet.
  absl::StatusOr<int> GetNsid(int netns_fd);

 private:
  friend class VxlanLinks;  // netlink/vxlan.cc: VXLAN devices and their FDB on this socket
  explicit Rtnl(UniqueFd fd) : fd_(std::move(fd)) {}
  // Sends one request and waits for its ACK (or error). `reply`, when given,
  // receives the payloads of a non-dump reply.
  absl::Status Transact(std::vector<std::uint8_t>& request, absl::string_view step,
                        absl::string_view object, std::vector<std::uint8_t>* reply = nullptr);
  // Sends a dump request; `fn` sees every message of the answer.
  absl::Status Dump(std::vector<std::uint8_t>& request, absl::string_view step, absl::string_view object,
                    const std::function<void(const nlmsghdr*)>& fn);
  absl::StatusOr<LinkInfo> GetLinkBy(int ifindex, absl::string_view name);

  UniqueFd fd_;
  std::uint32_t seq_ = 1;
};

}  // namespace vnet

#endif
