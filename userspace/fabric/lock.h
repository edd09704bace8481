// Serialises vnetctl invocations that change state: one flock on a file under
// /run, held for the life of the returned fd.
#ifndef VNET_FABRIC_LOCK_H
#define VNET_FABRIC_LOCK_H

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace vnet {

absl::StatusOr<UniqueFd> AcquireControlLock();
// The same lock if it is free now; Unavailable when another holds it (a
// caller with a deadline, such as a CNI plugin, polls).
absl::StatusOr<UniqueFd> AcquireControlLockNonBlocking();

}  // namespace vnet

#endif
