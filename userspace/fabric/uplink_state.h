// Keeping ports in step with their uplink, as macvlan children follow their
// lower device: uplink without carrier -> ports lose carrier and forward
// nothing; uplink back -> ports back; uplink MTU lowered -> port MTUs
// clamped; uplink deleted -> fabric defunct (until detached). Run by
// `vnetctl monitor` on every link event, and once at its start.
#ifndef VNET_FABRIC_UPLINK_STATE_H
#define VNET_FABRIC_UPLINK_STATE_H

#include <atomic>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vnet {

struct SyncReport {
  std::string fabric;
  std::vector<std::string> changes;  // human-readable, empty when nothing changed
};

absl::StatusOr<SyncReport> SyncUplinkState(const std::string& fabric);

// What the monitor reports, per fabric: a change it made (text) or why that
// fabric could not be synced (status). The caller decides where it goes.
using MonitorReporter =
    std::function<void(const std::string& fabric, const std::variant<std::string, absl::Status>& what)>;

// Runs until `stop` is set (checked at least once a second; or one pass with
// `once`), syncing every fabric of this netns whenever a link changes.
absl::Status MonitorUplinks(bool once, const MonitorReporter& report, const std::atomic<bool>& stop);

}  // namespace vnet

#endif
