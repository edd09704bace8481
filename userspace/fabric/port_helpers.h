// Helpers shared by the port operations (port_add.cc, port_change.cc):
// reaching a veth's peer (in its netns), macvlan's port rules, and finding a port by device.
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
#include "fabric/link_presence.h"
#include "fabric/tables_backend.h"
#include "fabric/undo.h"
#include "absl/strings/str_cat.h"
#include "fabric/types.h"
#include "base/errors.h"
#include "maps/fabric_maps.h"
#include "netlink/netns.h"
#include "netlink/rtnl.h"

namespace vnet {

// Runs `fn(rtnl, peer)` on a veth's peer, entering the peer's netns if needed.
// `peer_netns_fd`: the namespace the caller believes holds the peer (port add
// --netns just made the pair there); used when its nsid matches, which saves
// scanning every namespace on the machine (one open and one netlink round
// trip each, per port added: hundreds with hundreds of containers).
template <typename Fn>
absl::Status WithVethPeer(Rtnl& rtnl, const LinkInfo& dev, absl::string_view what, bool* other_netns, Fn fn,
                          int peer_netns_fd = -1) {
  if (!dev.link_ifindex) return absl::FailedPreconditionError(absl::StrCat(what, ": veth has no peer"));
  *other_netns = dev.link_netnsid.has_value();
  if (!dev.link_netnsid) {
    VNET_ASSIGN_OR_RETURN(LinkInfo peer, rtnl.GetLink(dev.link_ifindex));
    return fn(rtnl, peer);
  }
  int ns_fd = -1;
  if (peer_netns_fd >= 0) {
    auto id = rtnl.GetNsid(peer_netns_fd);
    if (id.ok() && *id == *dev.link_netnsid) ns_fd = peer_netns_fd;
  }
  UniqueFd scanned;
  if (ns_fd < 0) {
    auto ns = FindNetnsByNsid(rtnl, *dev.link_netnsid);
    if (!ns.ok())
      return absl::FailedPreconditionError(absl::StrCat(what, ": cannot find the peer's network namespace"));
    scanned = std::move(*ns);
    ns_fd = scanned.get();
  }
  VNET_ASSIGN_OR_RETURN(ScopedNetns inside, ScopedNetns::Enter(ns_fd, absl::StrCat("peer of ", dev.name)));
  VNET_ASSIGN_OR_RETURN(Rtnl peer_rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(LinkInfo peer, peer_rtnl.GetLink(dev.link_ifindex));
  return fn(peer_rtnl, peer);
}

// A port found by its device, with its fabric's tables open.
struct FoundPort {
  LinkInfo dev;
  std::string fabric;
  FabricMaps maps;
  vnet_port port;
};

// `what` is the command ("port set"); NotFound when DEV is in no fabric.
absl::StatusOr<FoundPort> FindPort(Rtnl& rtnl, absl::string_view dev_name, absl::string_view what);

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
// `peer_netns_fd`: see WithVethPeer.
absl::StatusOr<PeerFacts> PreparePeer(Rtnl& rtnl, const LinkInfo& dev, const std::optional<MacAddress>& want_mac,
                                      absl::string_view what, Undo& undo, const MacCheck& check,
                                      int peer_netns_fd = -1);

// Kernel macvlan's address and mode rules, checked before anything changes.
absl::Status CheckPortRules(const TablesBackend& tables, const vnet_config& config,
                            const std::vector<std::pair<std::uint32_t, vnet_port>>& ports, std::uint32_t self,
                            PortMode mode, const MacAddress& mac, absl::string_view what);
// The lowest slot no port holds (slot 0 is the uplink's); ResourceExhausted
// when the fabric is full.
absl::StatusOr<std::uint16_t> FreeSlot(const std::vector<std::pair<std::uint32_t, vnet_port>>& ports);
// The kind of a new port: --type, else ipvlan when it has --ip, else the
// fabric's type; refuses macvlan-only options on an ipvlan port and --ip on a
// macvlan one.
absl::StatusOr<PortKind> ResolvePortKind(const PortOptions& options, const vnet_config& config,
                                         absl::string_view what);
// A passthru port takes the fabric alone (the one rule an ipvlan port, which
// shares the uplink's MAC, is subject to).
absl::Status CheckNoPassthru(const std::vector<std::pair<std::uint32_t, vnet_port>>& ports, std::uint32_t self,
                                  absl::string_view what);
// The container side is vnet's (port add --netns: an owned veth whose peer
// is in another netns): vnet configures it, and converts it with the port.
bool VnetMadePeer(const vnet_port& port, const LinkInfo& dev);
// The flags a port's options give (the others, such as peer_netns, unset).
PortFlags FlagsFor(bool spoofchk, bool hairpin, bool isolated, bool nodst);
PortInfo Describe(const LinkInfo& dev, std::uint32_t ifindex, const vnet_port& port);

}  // namespace vnet

#endif
