// The links and addresses around a port (libvnet's fabric/container_net.h),
// with CNI's codes and shapes: the master in the plugin's namespace, and the
// interface in the container's (addresses and routes set as the reference
// plugins' IPAM helper sets them, and read back for CHECK).
#ifndef VNET_CNI_CONTAINER_OPS_H
#define VNET_CNI_CONTAINER_OPS_H

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "vnet/vnet.h"

namespace vnet::cni {

// The interface of the default route here (IPv4 first, then IPv6); code 7
// naming "master" when there is none.
absl::StatusOr<std::string> DefaultRouteInterface();
// The master's MTU; code 7 naming "master" when it does not exist here.
absl::StatusOr<unsigned> MasterMtu(const std::string& master);

// Code 4 when CNI_NETNS cannot be opened; an error when `ifname` exists there.
absl::Status CheckIfnameFree(const std::string& netns, const std::string& ifname);

// Addresses (unless the port configured them: ipvlan) and routes of `result`
// (the internal shape) on `ifname` in the container; a route without a
// gateway takes its family's gateway, as the reference plugins do.
absl::Status ConfigureContainer(const std::string& netns, const std::string& ifname, const nlohmann::json& result,
                                bool add_addresses);

absl::StatusOr<ContainerLink> ReadContainerLink(const std::string& netns, const std::string& ifname);

// Deletes links here whose alias is `alias` (a veth host end left in no
// fabric); returns how many.
absl::StatusOr<int> DeleteLinksByAlias(const std::string& alias);
// Names of the links here whose alias is `alias` (one link dump).
absl::StatusOr<std::vector<std::string>> FindDevicesByAlias(const std::string& alias);

// "ADDR/PLEN" of CNI results.
absl::StatusOr<IpPrefix> ParseCidr(const std::string& text);

}  // namespace vnet::cni

#endif
