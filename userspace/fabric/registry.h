// Finding fabrics from the pinned state alone: by name, by uplink, and the
// fabric (if any) a device already belongs to. There is no other database.
#ifndef VNET_FABRIC_REGISTRY_H
#define VNET_FABRIC_REGISTRY_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/statusor.h"
#include "maps/fabric_maps.h"

namespace vnet {

// Inode of the calling thread's network namespace (vnet_config.netns_ino).
std::uint64_t CurrentNetnsIno();
// Fabrics attached in the calling thread's netns, by name.
std::vector<std::string> ListLocalFabrics();

// A fabric's vnet_config read without FabricMaps' version check: its layout is
// the same in every ABI reload can migrate, and it says which ABI wrote the
// rest. WritePinnedConfig is the matching write (reload's version stamp).
absl::StatusOr<vnet_config> ReadPinnedConfig(const std::string& fabric);
absl::Status WritePinnedConfig(const std::string& fabric, const vnet_config& config);
// Fabrics in this netns made by an older vnet (ABI below this build's):
// only `reload` touches them, migrating their maps.
std::vector<std::string> ListOlderLocalFabrics();

// Removes fabric directories an interrupted vnetctl left half-built (maps
// missing, or attached in no netns yet); fabrics of another vnet version are
// left alone. Returns their names. Only
// call with the control lock held, so no attach is legitimately under way.
std::vector<std::string> RemoveIncompleteFabrics();

// A fabric name for `name_or_uplink`: the fabric itself, or the one whose uplink has that name.
absl::StatusOr<std::string> ResolveFabric(absl::string_view name_or_uplink);

struct Membership {
  std::string fabric;
  bool as_uplink = false;
};
// Which fabric uses `ifindex` (in this netns), as uplink or as port.
std::optional<Membership> FindMembership(std::uint32_t ifindex);

// Pin names of a fabric's attachments.
std::string PortLinkPin(std::uint32_t ifindex);
inline constexpr const char* kUplinkXdpLinkPin = "link_uplink_xdp";
inline constexpr const char* kUplinkTcLinkPin = "link_uplink_tc";
inline constexpr const char* kUplinkEgressLinkPin = "link_uplink_egress";
inline constexpr const char* kPortProgPin = "prog_port_tc";

}  // namespace vnet

#endif
