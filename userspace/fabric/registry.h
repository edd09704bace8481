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
#include "fabric/fabric.h"  // ListOlderLocalFabrics, RemoveIncompleteFabrics
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

// While one is alive on this thread, the fabrics of the netns are read once:
// ListLocalFabrics, ResolveFabric and FindMembership answer from one scan
// (names, configurations, open tables) instead of opening every fabric per
// question. Operations that change no fabric's existence open one (port add,
// del, set, show, stats, the port loop of detach); an inner one reuses the
// outer one's scan. Not for attach, detach or reload, which change the set.
class FabricIndexScope {
 public:
  FabricIndexScope();
  ~FabricIndexScope();
  FabricIndexScope(const FabricIndexScope&) = delete;
  FabricIndexScope& operator=(const FabricIndexScope&) = delete;

 private:
  bool owner_;
};
// Forgets the current scope's scan (if any): the next question rescans.
void RescanFabricIndex();
// While one is alive, the thread runs without the current scope's index (as
// attach, detach and reload must, since they change the set of fabrics or
// their layout); the index comes back rescanned. For the Fabric handle,
// whose scope outlives such an operation.
struct FabricIndex;
class FabricIndexPause {
 public:
  FabricIndexPause();
  ~FabricIndexPause();
  FabricIndexPause(const FabricIndexPause&) = delete;
  FabricIndexPause& operator=(const FabricIndexPause&) = delete;

 private:
  FabricIndex* saved_;
};

// A fabric's vnet_config read without FabricMaps' version check: its layout is
// the same in every ABI reload can migrate, and it says which ABI wrote the
// rest. WritePinnedConfig is the matching write (reload's version stamp).
absl::StatusOr<vnet_config> ReadPinnedConfig(const std::string& fabric);
absl::Status WritePinnedConfig(const std::string& fabric, const vnet_config& config);

// attach marks a fabric incomplete (a note pinned in its directory naming
// this netns and this ABI) before it pins anything else, and clears the mark
// as its last step. Only such a fabric may be removed without being opened.
absl::Status MarkIncomplete(const std::string& fabric);
absl::Status ClearIncomplete(const std::string& fabric);
// Whether this vnetctl (this ABI) marked `fabric` incomplete in this netns.
bool IncompleteHere(const std::string& fabric);


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
// The note that a veth pair is vnet's while no port records it: pinned by
// `port add --netns` until the port is recorded, and by `port del` from
// before the port is withdrawn until its pair is deleted, so that a vnetctl
// killed in between leaves the pair to the next apply (RemoveOrphanPairs).
inline constexpr char kPendingVethPrefix[] = "pending_veth_";
std::string PendingVethPin(absl::string_view host_end);

}  // namespace vnet

#endif
