// libvnet's domain API: what vnetctl (and anything else) calls. Each
// operation either completes or leaves the kernel as it found it.
#ifndef VNET_FABRIC_FABRIC_H
#define VNET_FABRIC_FABRIC_H

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fabric/types.h"

namespace vnet {

absl::StatusOr<FabricInfo> AttachFabric(const AttachOptions& options);
// `name` is a fabric name or its uplink's device name.
absl::Status DetachFabric(absl::string_view name);
// Changes a live fabric's policies in place; a change of ipvlan mode also
// moves the host side (l3s routes, forwarding) and the containers' side
// (NOARP, default routes) of its ipvlan ports.
absl::Status SetFabricPolicy(absl::string_view name, const FabricPolicy& policy);
// Removes a fabric by its directory name, without resolving it: ports, tc
// filters, promiscuous mode, pins (as detach); what cannot be opened only
// loses its pins. For half-built and dead fabrics.
absl::Status TearDownFabric(const std::string& fabric);
// `down`: removes every fabric of this netns, what an interrupted vnetctl
// left half-built here, and dead fabrics whose namespace is gone.
struct DownReport {
  std::vector<std::string> removed;
  std::vector<std::string> left;  // "NAME: why": another ABI's, left as it is
};
absl::StatusOr<DownReport> DetachAll();

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

struct ReloadReport {
  std::string fabric;
  int replaced = 0;  // attachments switched to the new programs
  std::vector<std::string> migrated;  // maps moved to this build's layout (older ABI)
};
// Replaces the running programs of a fabric with the ones built into this
// binary, keeping its tables and counters.
absl::StatusOr<ReloadReport> ReloadFabric(absl::string_view name);
// Completes what a killed vnetctl left in this netns: staging pins of an
// interrupted replacement go; a migration killed before its commit is undone,
// one killed after it finished. Run under the control lock by every command
// that changes state, first. Returns what it did, one line each.
std::vector<std::string> RecoverInterrupted();
// Veth pairs `port add --netns` created but never recorded (a vnetctl killed
// in between): vnp* host ends in no fabric whose peer is in another netns.
// Removes them and returns their names. Call with the control lock held.
absl::StatusOr<std::vector<std::string>> RemoveOrphanPairs();

// Fabrics in this netns made by an older vnet (ABI below this build's):
// only `reload` (and apply, through it) touches them, migrating their maps.
// A dead one (its uplink gone) is not listed: its inode may be another's.
std::vector<std::string> ListOlderLocalFabrics();

// Removes what an interrupted vnetctl of this ABI left half-built in this
// netns (marked incomplete), and empty fabric directories. Fabrics of another
// ABI or netns are left alone, whatever state they are in. Returns the names
// removed. Only call with the control lock held.
std::vector<std::string> RemoveIncompleteFabrics();

// All fabrics, or the one named (by fabric or uplink name).
absl::StatusOr<std::vector<FabricInfo>> DescribeFabrics(std::optional<absl::string_view> name);
// One fabric (by fabric or uplink name) without its ports: its policies,
// uplink and state, none of the per-port reads (a CNI ADD's check).
absl::StatusOr<FabricInfo> DescribeFabricSettings(absl::string_view name);
// Fabrics whose network namespace died: they belong to nobody, so `show`
// lists them (defunct, no devices) in every namespace until gc removes them.
std::vector<FabricInfo> DescribeOrphanFabrics();
// Counters of every uplink and port, or of one device.
absl::StatusOr<std::vector<Counters>> ReadCounters(std::optional<absl::string_view> dev);

}  // namespace vnet

#endif
