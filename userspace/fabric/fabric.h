// libvnet's namespace-wide operations (the public header's, beside the
// Fabric handle of fabric/handle.h): all fabrics of this netns at once,
// fabrics nobody can open, and what an interrupted vnetctl left. Each
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

struct ReloadReport {
  std::string fabric;
  int replaced = 0;  // attachments switched to the new programs
  std::vector<std::string> migrated;  // maps moved to this build's layout (older ABI)
};
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
// Fabrics whose network namespace died: they belong to nobody, so `show`
// lists them (defunct, no devices) in every namespace until gc removes them.
std::vector<FabricInfo> DescribeOrphanFabrics();
// Counters of every uplink and port, or of one device.
absl::StatusOr<std::vector<Counters>> ReadCounters(std::optional<absl::string_view> dev);

}  // namespace vnet

#endif
