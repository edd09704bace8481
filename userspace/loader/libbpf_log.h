// libbpf's diagnostics: kept out of vnetctl's stderr (which carries one line
// per error) and folded into the error that libvnet returns instead.
#ifndef VNET_LOADER_LIBBPF_LOG_H
#define VNET_LOADER_LIBBPF_LOG_H

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vnet {

// Installs the capture once; VNET_DEBUG=1 in the environment also prints
// libbpf's messages to stderr as they come.
void CaptureLibbpfLog();
// The most telling libbpf warning since the last call ("" if none), cleared.
std::string TakeLibbpfWarning();
// An error for a failed libbpf call (err: an errno value) naming the step and
// the object, with the warning libbpf logged about it appended.
absl::Status LibbpfError(int err, absl::string_view step, absl::string_view object);

}  // namespace vnet

#endif
