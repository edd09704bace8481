// libvnet's operations on one fabric, as free functions: what the Fabric
// handle (fabric/handle.h) and apply run. Internal: callers outside libvnet
// use the handle. The ...With forms run on the handle's netlink socket,
// inside its index of the namespace's fabrics.
#ifndef VNET_FABRIC_OPERATIONS_H
#define VNET_FABRIC_OPERATIONS_H

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabric/fabric.h"
#include "fabric/types.h"
#include "netlink/rtnl.h"

namespace vnet {

absl::StatusOr<FabricInfo> AttachFabric(const AttachOptions& options);
// `name` is a fabric name or its uplink's device name.
absl::Status DetachFabric(absl::string_view name);
// Changes a live fabric's policies in place; a change of ipvlan mode also
// moves the host side (l3s routes, forwarding) and the containers' side
// (NOARP, default routes) of its ipvlan ports.
absl::Status SetFabricPolicy(absl::string_view name, const FabricPolicy& policy);
// One fabric (by fabric or uplink name) without its ports: its policies,
// uplink and state, none of the per-port reads (a CNI ADD's check).
absl::StatusOr<FabricInfo> DescribeFabricSettings(absl::string_view name);
absl::StatusOr<PortInfo> AddPort(const PortOptions& options);
absl::Status DeletePort(absl::string_view dev);
absl::StatusOr<PortInfo> ChangePort(const PortChange& change);
// Forgets ports whose device was deleted behind vnet's back (`ip link del`),
// freeing their MACs and slots; returns how many.
absl::StatusOr<int> PruneGonePorts(const std::string& fabric);

// Addresses of ipvlan ports (`vnetctl ip add|del|flush`). `plen_given`:
// whether the address came with /PLEN (a delete without it matches any).
absl::Status AddPortAddress(absl::string_view dev, const PortIp& ip);
absl::Status DeletePortAddress(absl::string_view dev, const PortIp& ip, bool plen_given);
absl::Status FlushPortAddresses(absl::string_view dev);

// Source-mode lists (macvlan `macaddr add|del|flush`).
absl::Status AddPortSource(absl::string_view dev, const MacAddress& mac);
absl::Status DeletePortSource(absl::string_view dev, const MacAddress& mac);
absl::Status FlushPortSources(absl::string_view dev);

// Replaces the running programs of a fabric with the ones built into this
// binary, keeping its tables and counters.
absl::StatusOr<ReloadReport> ReloadFabric(absl::string_view name);

absl::StatusOr<PortInfo> AddPortWith(Rtnl& rtnl, const PortOptions& options);
absl::Status DeletePortWith(Rtnl& rtnl, absl::string_view dev);
absl::StatusOr<PortInfo> ChangePortWith(Rtnl& rtnl, const PortChange& change);

absl::Status AddPortAddressWith(Rtnl& rtnl, absl::string_view dev, const PortIp& ip);
absl::Status DeletePortAddressWith(Rtnl& rtnl, absl::string_view dev, const PortIp& ip, bool plen_given);
absl::Status FlushPortAddressesWith(Rtnl& rtnl, absl::string_view dev);

absl::Status AddPortSourceWith(Rtnl& rtnl, absl::string_view dev, const MacAddress& mac);
absl::Status DeletePortSourceWith(Rtnl& rtnl, absl::string_view dev, const MacAddress& mac);
absl::Status FlushPortSourcesWith(Rtnl& rtnl, absl::string_view dev);

}  // namespace vnet

#endif
