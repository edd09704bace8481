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

// Cookie of the calling thread's network namespace (SO_NETNS_COOKIE, what
// vnet_config.netns_cookie holds from ABI 5 on): never reused while the
// system runs, unlike the inode, which fabrics of ABI 2 to 4 recorded.
std::uint64_t CurrentNetnsCookie();
std::uint64_t CurrentNetnsIno();
// Whether `config` was written by an attach in the calling thread's netns:
// by cookie from ABI 5 on, by inode before (until reload migrates it).
bool AttachedHere(const vnet_config& config);
// Whether a fabric's uplink is gone, so it forwards nothing and nothing can
// revive it: the monitor marked it defunct, or its pinned uplink links report
// no device (the device was deleted, or its namespace died), or, with
// cls_bpf and no XDP, no uplink program of it is loaded any more.
bool UplinkGone(const std::string& fabric, const vnet_config& config);

// Fabrics attached in the calling thread's netns, by name (this ABI).
std::vector<std::string> ListLocalFabrics();

// A fabric's vnet_config read without FabricMaps' version check: its layout is
// the same in every ABI reload can migrate, and it says which ABI wrote the
// rest. WritePinnedConfig is the matching write (reload's version stamp).
absl::StatusOr<vnet_config> ReadPinnedConfig(const std::string& fabric);
absl::Status WritePinnedConfig(const std::string& fabric, const vnet_config& config);
// Fabrics in this netns made by an older vnet (ABI below this build's):
// only `reload` (and apply, through it) touches them, migrating their maps.
// A dead one (its uplink gone) is not listed: its inode may be another's.
std::vector<std::string> ListOlderLocalFabrics();

// attach marks a fabric incomplete (a note pinned in its directory naming
// this netns and this ABI) before it pins anything else, and clears the mark
// as its last step. Only such a fabric may be removed without being opened.
absl::Status MarkIncomplete(const std::string& fabric);
absl::Status ClearIncomplete(const std::string& fabric);
// Whether this vnetctl (this ABI) marked `fabric` incomplete in this netns.
bool IncompleteHere(const std::string& fabric);

// Removes what an interrupted vnetctl of this ABI left half-built in this
// netns (marked incomplete), and empty fabric directories. Fabrics of another
// ABI or netns are left alone, whatever state they are in. Returns the names
// removed. Only call with the control lock held.
std::vector<std::string> RemoveIncompleteFabrics();

// A fabric whose directory is here but that this vnetctl can neither open nor
// remove: why, in words ("made by vnet ABI 4: ..."), or nullopt when it can.
std::optional<std::string> WhyLeftAlone(const std::string& fabric);

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
inline constexpr const char* kIncompletePin = "incomplete";
// The note `port add --tap` pins while it creates a tap, so that apply only
// ever adopts a tap vnet was creating (the name is hex: taps may have dots).
std::string PendingTapPin(absl::string_view tap);

}  // namespace vnet

#endif
