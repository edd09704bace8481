// The declarative configuration `vnetctl apply` makes real (docs/config.md):
// a TOML file of fabrics and their ports, parsed with toml++ and checked
// completely before anything is changed. Every error names the file, the
// line and the field.
#ifndef VNET_FABRIC_CONFIG_FILE_H
#define VNET_FABRIC_CONFIG_FILE_H

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabric/types.h"

namespace vnet {

// How a configured port is identified, and so matched to a running one.
enum class PortOrigin { kDevice, kNetns, kTap };

struct DesiredPort {
  PortOrigin origin = PortOrigin::kDevice;
  PortOptions options;  // fabric, dev/netns+ifname/tap, mode, mac, flags, sources
  std::string where;    // "FILE:LINE" of the port's table, for errors while applying
  std::string field;    // "fabric.NAME.port[I]"
  std::string Identity() const;  // "device veth7", "netns web/eth0", "tap vm1"
};

struct DesiredFabric {
  AttachOptions attach;
  std::vector<DesiredPort> ports;
  std::string where;
};

struct DesiredState {
  std::vector<DesiredFabric> fabrics;
};

// Parses and validates: syntax, types, known keys, values, macvlan's port
// rules within a fabric, duplicates across fabrics.
absl::StatusOr<DesiredState> ParseConfig(absl::string_view text, absl::string_view file_name);
absl::StatusOr<DesiredState> LoadConfigFile(const std::string& path);

}  // namespace vnet

#endif
