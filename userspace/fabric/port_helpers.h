// Helpers shared by the port operations (port_add.cc, port_change.cc):
// finding a veth's peer, macvlan's port rules, and finding a port by device.
#ifndef VNET_FABRIC_PORT_HELPERS_H
#define VNET_FABRIC_PORT_HELPERS_H

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabric/types.h"
#include "fabric/undo.h"
#include "maps/fabric_maps.h"
#include "netlink/rtnl.h"

namespace vnet {

// What libvnet learns about the far end of a port (the container side of a
// veth; for a tap, the tap itself).
struct PeerFacts {
  MacAddress mac;
  unsigned mtu = 0;
  bool other_netns = false;
  bool napi = false;  // GRO enabled on a veth peer: XDP may redirect into the port
};

// Finds the veth peer, checks the MAC the port will have with `check` before
// changing anything, then enables GRO on the peer (NAPI for XDP redirects) and
// sets its MAC when asked for another one. The MAC change is undone on failure.
using MacCheck = std::function<absl::Status(const MacAddress&)>;
absl::StatusOr<PeerFacts> PreparePeer(Rtnl& rtnl, const LinkInfo& dev, const std::optional<MacAddress>& want_mac,
                                      absl::string_view what, Undo& undo, const MacCheck& check);

// Kernel macvlan's address and mode rules, checked before anything changes.
absl::Status CheckPortRules(const FabricMaps& maps, const vnet_config& config,
                            const std::vector<std::pair<std::uint32_t, vnet_port>>& ports, std::uint32_t self,
                            PortMode mode, const MacAddress& mac, absl::string_view what);
std::uint8_t FlagsFor(bool spoofchk, bool hairpin, bool isolated, bool nodst);
PortInfo Describe(const LinkInfo& dev, std::uint32_t ifindex, const vnet_port& port);

}  // namespace vnet

#endif
