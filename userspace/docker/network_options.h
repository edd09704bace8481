// A Docker network's settings, decoded from CreateNetwork's request (the
// `-o` options as Docker's macvlan and ipvlan drivers name them, vnet's own
// `vnet.*` ones, and the pools Docker's IPAM chose) and checked. Pure: no
// kernel, so the unit tests cover every refusal.
#ifndef VNET_DOCKER_NETWORK_OPTIONS_H
#define VNET_DOCKER_NETWORK_OPTIONS_H

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vnet/vnet.h"

namespace vnet::docker {

// Which driver name Docker used: "vnet" (kind from -o kind=, default macvlan)
// or "vnet-ipvlan" (always ipvlan).
enum class DriverName { kVnet, kVnetIpvlan };
// The driver name a socket serves: a socket file named *-ipvlan.sock is vnet-ipvlan.
DriverName DriverOfSocket(absl::string_view socket_path);
absl::string_view DriverNameText(DriverName driver);

struct Pool {
  IpPrefix subnet;                 // NET/PLEN
  std::optional<IpAddress> gateway;
};

struct NetworkConfig {
  std::string id;
  std::string parent;
  PortKind kind = PortKind::kMacvlan;
  PortMode macvlan_mode = PortMode::kBridge;  // Docker's macvlan default
  IpvlanMode ipvlan_mode = IpvlanMode::kL2;   // Docker's ipvlan default
  IpvlanFlag ipvlan_flag = IpvlanFlag::kBridge;
  bool hairpin = false;
  bool isolated = false;
  std::optional<bool> host;     // fabric policies: only compared or set when given
  std::optional<bool> unknown;  // true: drop
  unsigned mtu = 0;             // 0: the parent's
  std::vector<Pool> ipv4;
  std::vector<Pool> ipv6;
};

// Decodes a CreateNetwork request. Errors say which option is wrong and
// what it wants, as `docker network create` shows them.
absl::StatusOr<NetworkConfig> ParseCreateNetwork(const nlohmann::json& request, DriverName driver);

// Whether two prefixes share an address.
bool Overlaps(const IpPrefix& a, const IpPrefix& b);
// Refuses `b` next to `a` on one fabric: overlapping pools, and fabric
// policies or modes that cannot hold for both (Docker's -o on two networks
// with the same parent). The error names `a`'s network.
absl::Status CheckCompatible(const NetworkConfig& a, const NetworkConfig& b);

// "ADDR/PLEN" (Docker's form of an endpoint's address and a gateway) split.
absl::StatusOr<IpPrefix> ParseAddressWithPlen(absl::string_view text);

}  // namespace vnet::docker

#endif
