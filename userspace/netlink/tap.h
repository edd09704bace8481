// Persistent tap devices, as `ip tuntap add mode tap` makes them: the port a
// VM manager opens by name.
#ifndef VNET_NETLINK_TAP_H
#define VNET_NETLINK_TAP_H

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vnet {

// `multi_queue`: for VM managers that open several queues (QEMU queues=N);
// they must then attach with IFF_MULTI_QUEUE too. Delete with RTM_DELLINK.
absl::Status CreatePersistentTap(absl::string_view name, std::optional<unsigned> user, std::optional<unsigned> group,
                                 bool multi_queue);

}  // namespace vnet

#endif
