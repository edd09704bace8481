// Network namespaces: open one by name, find the one behind a peer's nsid, and
// step into one for a scope (the calling thread only; vnetctl is single-threaded).
#ifndef VNET_NETLINK_NETNS_H
#define VNET_NETLINK_NETNS_H

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "netlink/rtnl.h"

namespace vnet {

// Names under /run/netns, as `ip netns list` shows them.
std::vector<std::string> ListNamedNetns();

// /run/netns/NAME, as `ip netns add` creates it.
absl::StatusOr<UniqueFd> OpenNamedNetns(absl::string_view name);
// A name as above, or an absolute path to a netns file (/proc/PID/ns/net,
// /var/run/netns/X: what CNI_NETNS holds).
absl::StatusOr<UniqueFd> OpenNetns(absl::string_view name_or_path);

// The netns that `rtnl`'s namespace calls `nsid`, searched among named
// namespaces and those of running processes. NotFound when none matches.
absl::StatusOr<UniqueFd> FindNetnsByNsid(Rtnl& rtnl, int nsid);

// Enters a netns on construction and returns to the original on destruction.
class ScopedNetns {
 public:
  static absl::StatusOr<ScopedNetns> Enter(int netns_fd, absl::string_view name_for_errors);
  ScopedNetns(ScopedNetns&& other) noexcept : original_(std::move(other.original_)) {}
  ScopedNetns& operator=(ScopedNetns&&) = delete;
  ~ScopedNetns();

 private:
  explicit ScopedNetns(UniqueFd original) : original_(std::move(original)) {}
  UniqueFd original_;
};

}  // namespace vnet

#endif
