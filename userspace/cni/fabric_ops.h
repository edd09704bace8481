// Every call this plugin makes into libvnet's fabric API (include/vnet/vnet.h),
// in one place: the fabric made or checked, ports added, found again by their
// recorded attachment, and removed.
#ifndef VNET_CNI_FABRIC_OPS_H
#define VNET_CNI_FABRIC_OPS_H

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "cni/netconf.h"
#include "vnet/vnet.h"

namespace vnet::cni {

// The control lock, waited for up to `timeout`; code 11 when it is not had.
absl::StatusOr<UniqueFd> LockWithin(std::chrono::milliseconds timeout);

// The fabric on `master` for `conf`: the running one (its policies checked
// against the config's: code 7 naming the key that differs) or a new one.
// Returns its name. Without `may_attach`, NotFound instead of a new one (a
// check that needs no lock: it changes nothing).
absl::StatusOr<std::string> EnsureFabric(const NetConf& conf, const std::string& master, bool may_attach = true);

// What a port records as its host end's alias: "cni:NETWORK:CONTAINERID:IFNAME".
std::string AttachmentAlias(const std::string& network, const std::string& container_id, const std::string& ifname);

struct FoundPort {
  std::string fabric;
  PortInfo port;
  std::string container_id;
  std::string ifname;
};
// The ports of this network namespace whose alias is of `network`. With
// `prune`, fabrics first forget ports whose device went with its namespace
// (their alias went too): the caller holds the lock.
absl::StatusOr<std::vector<FoundPort>> FindNetworkPorts(const std::string& network, bool prune = false);

struct NewPort {
  std::string fabric;
  std::string netns;  // CNI_NETNS, a path
  std::string ifname;
  std::string alias;
  std::vector<IpPrefix> addresses;  // from IPAM: ADDR/PLEN
};
absl::StatusOr<PortInfo> AddCniPort(const NetConf& conf, const NewPort& want);

absl::Status RemovePort(const std::string& dev);

// The fabric's description (its ports included), NotFound when none.
absl::StatusOr<FabricInfo> DescribeFabric(const std::string& name);

}  // namespace vnet::cni

#endif
