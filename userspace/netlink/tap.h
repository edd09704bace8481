// Persistent tap devices, as `ip tuntap add mode tap` makes them: the port a
// VM manager opens by name.
#ifndef VNET_NETLINK_TAP_H
#define VNET_NETLINK_TAP_H

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vnet {

absl::Status CreatePersistentTap(absl::string_view name, std::optional<unsigned> user, std::optional<unsigned> group);
absl::Status DeletePersistentTap(absl::string_view name);

}  // namespace vnet

#endif
