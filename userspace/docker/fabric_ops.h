// Every call the Docker driver makes into libvnet (include/vnet/vnet.h): the
// fabric on a network's parent made, checked and released, and the ports of
// endpoints added, found again by their alias, and removed.
#ifndef VNET_DOCKER_FABRIC_OPS_H
#define VNET_DOCKER_FABRIC_OPS_H

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "docker/network_options.h"
#include "vnet/vnet.h"

namespace vnet::docker {

// The alias an endpoint's host end carries: "docker:NETWORKID:ENDPOINTID".
std::string EndpointAlias(const std::string& network_id, const std::string& endpoint_id);
// The name of an endpoint's container end while it waits in this namespace
// for Join ("vdc" and the endpoint ID's first 12 digits): Docker moves it
// into the sandbox and renames it ethN.
std::string ContainerEndName(const std::string& endpoint_id);

// The fabric on `config.parent`: the running one (its policies checked
// against the network's) or a new one (`*created` set). Returns its name.
absl::StatusOr<std::string> EnsureFabric(const NetworkConfig& config, bool* created);

struct EndpointPort {
  std::string fabric;
  PortInfo port;
};
// The ports whose alias is `alias`, or starts with it when `prefix` (every
// endpoint of a network: "docker:NETWORKID:").
absl::StatusOr<std::vector<EndpointPort>> FindPorts(const std::string& alias, bool prefix);

struct NewEndpoint {
  std::string network_id;
  std::string endpoint_id;
  MacAddress mac;
  std::vector<IpPrefix> addresses;  // Docker's, ADDR/PLEN
};
// A veth pair whose container end waits here for Join, its host end a port
// of `fabric` with the network's options; a macvlan-kind port only sends from
// `addresses` (anti-spoofing). Nothing is left when it fails.
absl::StatusOr<PortInfo> AddEndpointPort(const NetworkConfig& config, const std::string& fabric,
                                         const NewEndpoint& want);

// Removes the port (the veth pair goes with it).
absl::Status RemovePort(const std::string& fabric, const std::string& dev);
// Forgets ports whose device went with a sandbox that was deleted first.
absl::Status PruneFabric(const std::string& fabric);
// Detaches the fabric if it has no port left; false when it still has some.
absl::StatusOr<bool> DetachIfEmpty(const std::string& fabric);
// The fabric's policies, uplink and MAC (no ports); NotFound when none.
absl::StatusOr<FabricInfo> FabricSettings(const std::string& fabric);

}  // namespace vnet::docker

#endif
