// The names of the datapath's drop reasons (enum vnet_drop_reason in
// include/vnet/abi.h), kept beside the ABI they name.
#ifndef VNET_MAPS_DROP_REASONS_H
#define VNET_MAPS_DROP_REASONS_H

#include "absl/strings/string_view.h"

namespace vnet {

// Stable, machine-friendly names ("spoofed_src"); "unknown" for a reason
// this build does not know. `stats` and -j print them.
absl::string_view DropReasonName(int reason);

}  // namespace vnet

#endif
