// Kill points for crash tests. With VNET_TEST_KILL_AT=N in the environment,
// the Nth checkpoint a vnetctl passes SIGKILLs it (no destructor, no undo
// runs: what a power cut or an OOM kill does); with VNET_TEST_CHECKPOINTS=1
// each one is printed on stderr ("checkpoint N: NAME"). Without them a
// checkpoint costs one branch.
#ifndef VNET_LOADER_CHECKPOINT_H
#define VNET_LOADER_CHECKPOINT_H

#include "absl/strings/string_view.h"

namespace vnet {

void Checkpoint(absl::string_view name);

}  // namespace vnet

#endif
