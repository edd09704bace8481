// Keeping ports in step with their uplink, as macvlan children follow their
// lower device: uplink without carrier -> ports lose carrier and forward
// nothing; uplink back -> ports back; uplink MTU lowered -> port MTUs
// clamped; uplink deleted -> fabric defunct (until detached). Run by
// `vnetctl monitor` on every link event, and once at its start.
#ifndef VNET_FABRIC_UPLINK_STATE_H
#define VNET_FABRIC_UPLINK_STATE_H

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vnet {

struct SyncReport {
  std::string fabric;
  std::vector<std::string> changes;  // human-readable, empty when nothing changed
};

absl::StatusOr<SyncReport> SyncUplinkState(const std::string& fabric);

// Runs until SIGINT/SIGTERM (or one pass with `once`), syncing every fabric of
// this netns whenever a link changes. Prints each change on stdout.
absl::Status MonitorUplinks(bool once);

}  // namespace vnet

#endif
