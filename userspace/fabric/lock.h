// Serialises vnetctl invocations that change state: one flock on a file under
// /run, held for the life of the returned fd.
#ifndef VNET_FABRIC_LOCK_H
#define VNET_FABRIC_LOCK_H

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace vnet {

absl::StatusOr<UniqueFd> AcquireControlLock();

}  // namespace vnet

#endif
