// A subscription to the kernel's link and address change notifications
// (rtnetlink multicast groups), for `vnetctl monitor`: it only needs to know
// that something changed, then syncs every fabric in full.
#ifndef VNET_NETLINK_LINK_EVENTS_H
#define VNET_NETLINK_LINK_EVENTS_H

#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace vnet {

class LinkEvents {
 public:
  // Links and IPv4/IPv6 addresses (fabric/host_ips.h follows the uplink's).
  static absl::StatusOr<LinkEvents> Subscribe();

  // Waits up to `timeout_ms`; true when events (or an overflow, which may
  // have lost some) arrived, all of them consumed.
  absl::StatusOr<bool> WaitForChange(int timeout_ms);

 private:
  explicit LinkEvents(UniqueFd sock) : sock_(std::move(sock)) {}
  UniqueFd sock_;
  std::vector<char> buf_ = std::vector<char>(64 * 1024);
};

}  // namespace vnet

#endif
