// `vnetctl apply FILE`: makes the running fabrics of this netns equal to a
// configuration file. Idempotent; a file with any error (syntax, values,
// missing devices or namespaces) changes nothing; an apply interrupted at any
// point (even SIGKILL) is completed by the next one.
#ifndef VNET_FABRIC_APPLY_H
#define VNET_FABRIC_APPLY_H

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabric/config_file.h"
#include "fabric/plan.h"
#include "fabric/types.h"

namespace vnet {

struct ApplyReport {
  std::vector<std::string> actions;  // what was (or, dry run, would be) done
};

// Waits up to `seconds` for every uplink and device port the state names to
// exist (devices appear late at boot); then returns, whatever is missing:
// Apply reports it.
absl::Status WaitForDevices(const DesiredState& desired, int seconds);

// Runs one action of Plan() (fabric/plan.h).
absl::Status Execute(const PlanAction& action);

// `progress` is called with each action as it starts.
absl::StatusOr<ApplyReport> Apply(const DesiredState& desired, bool dry_run,
                                  const std::function<void(const std::string&)>& progress);

}  // namespace vnet

#endif
