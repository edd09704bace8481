// libbpf's diagnostics: kept out of vnetctl's stderr (which carries one line
// per error) and folded into the error that libvnet returns instead.
#ifndef VNET_LOADER_LIBBPF_LOG_H
#define VNET_LOADER_LIBBPF_LOG_H

#include <string>

namespace vnet {

// Installs the capture once; VNET_DEBUG=1 in the environment also prints
// libbpf's messages to stderr as they come.
void CaptureLibbpfLog();
// The most telling libbpf warning since the last call ("" if none), cleared.
std::string TakeLibbpfWarning();

}  // namespace vnet

#endif
