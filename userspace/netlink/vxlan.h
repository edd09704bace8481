// VXLAN devices over rtnetlink: create one, read its settings, and keep its
// head-end replication list, which the kernel holds as FDB entries for the
// all-zeros MAC, one destination (NDA_DST) per remote host. Each change is
// one append or one delete of a single destination, never a flush, so the
// other remotes keep their traffic. Runs on an Rtnl's socket, in its netns.
#ifndef VNET_NETLINK_VXLAN_H
#define VNET_NETLINK_VXLAN_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/ip_address.h"
#include "netlink/rtnl.h"

namespace vnet {

// What a new VXLAN device gets. Learning stays on: unicast to a MAC seen
// behind a remote goes to that remote only.
struct VxlanSpec {
  std::string name;
  std::uint32_t vni = 0;
  int underlay_ifindex = 0;  // IFLA_VXLAN_LINK
  IpAddress local;           // IFLA_VXLAN_LOCAL or LOCAL6: also the device's family
  std::uint16_t dstport = 4789;
  unsigned mtu = 0;
};

// A VXLAN device's settings as the kernel reports them.
struct VxlanLink {
  int ifindex = 0;
  std::string name;
  std::uint32_t vni = 0;
  int underlay_ifindex = 0;           // 0: none
  std::optional<IpAddress> local;     // unset: the kernel picks per packet
  std::uint16_t dstport = 4789;       // host order
  bool learning = true;
  unsigned mtu = 0;
  std::string alias;                  // IFLA_IFALIAS
};

class VxlanLinks {
 public:
  explicit VxlanLinks(Rtnl& rtnl) : rtnl_(rtnl) {}

  // AlreadyExists ("NAME: a device by that name already exists") when the
  // name is taken; the device is left down.
  absl::Status Create(const VxlanSpec& spec);
  // nullopt when the device exists but is not a VXLAN device.
  absl::StatusOr<std::optional<VxlanLink>> Get(int ifindex);

  // The replication list: destinations of the all-zeros entry.
  absl::StatusOr<std::vector<IpAddress>> Remotes(int ifindex, absl::string_view name);
  // Appends one destination (NLM_F_APPEND): the others are untouched.
  absl::Status AddRemote(int ifindex, const IpAddress& remote, absl::string_view name);
  // Deletes one destination; NotFound when it is not in the list.
  absl::Status DeleteRemote(int ifindex, const IpAddress& remote, absl::string_view name);
  // Deletes the learned (not permanent) entries that point at `remote`, so no
  // unicast goes there any more; returns how many.
  absl::StatusOr<int> ForgetLearnedBehind(int ifindex, const IpAddress& remote, absl::string_view name);

 private:
  struct FdbEntry {
    std::uint8_t mac[6];
    IpAddress dst;
    std::uint16_t state;
  };
  absl::StatusOr<std::vector<FdbEntry>> DumpFdb(int ifindex, absl::string_view name);
  absl::Status Neigh(std::uint16_t type, std::uint16_t flags, int ifindex, const std::uint8_t* mac,
                     const IpAddress& dst, absl::string_view step, absl::string_view name);

  Rtnl& rtnl_;
};

}  // namespace vnet

#endif
