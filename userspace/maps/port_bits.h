// A port's flag byte and pad bits (include/vnet/abi.h) as named fields, and
// the bits vnet keeps for itself. Above maps/, ports carry PortFlags, never
// the raw byte.
#ifndef VNET_MAPS_PORT_BITS_H
#define VNET_MAPS_PORT_BITS_H

#include <cstdint>

#include "base/mac_address.h"
#include "vnet/abi.h"

namespace vnet {

// What the datapath reads of a port (enum vnet_port_flag, without OWNED).
struct PortFlags {
  bool spoofchk = false;
  bool hairpin = false;
  bool isolated = false;
  bool peer_netns = false;
  bool xdp_target = false;
  bool nodst = false;
  bool allow_ip = false;
  bool operator==(const PortFlags&) const = default;
};

inline PortFlags DecodePortFlags(std::uint8_t bits) {
  PortFlags f;
  f.spoofchk = bits & VNET_PORT_F_SPOOFCHK;
  f.hairpin = bits & VNET_PORT_F_HAIRPIN;
  f.isolated = bits & VNET_PORT_F_ISOLATED;
  f.peer_netns = bits & VNET_PORT_F_PEER_NETNS;
  f.xdp_target = bits & VNET_PORT_F_XDP_TARGET;
  f.nodst = bits & VNET_PORT_F_NODST;
  f.allow_ip = bits & VNET_PORT_F_ALLOW_IP;
  return f;
}

inline std::uint8_t EncodePortFlags(const PortFlags& f) {
  return static_cast<std::uint8_t>((f.spoofchk ? VNET_PORT_F_SPOOFCHK : 0) | (f.hairpin ? VNET_PORT_F_HAIRPIN : 0) |
                                   (f.isolated ? VNET_PORT_F_ISOLATED : 0) |
                                   (f.peer_netns ? VNET_PORT_F_PEER_NETNS : 0) |
                                   (f.xdp_target ? VNET_PORT_F_XDP_TARGET : 0) | (f.nodst ? VNET_PORT_F_NODST : 0) |
                                   (f.allow_ip ? VNET_PORT_F_ALLOW_IP : 0));
}

// libvnet created this veth pair or tap (port add --netns/--tap) and deletes
// it with the port.
inline bool PortOwned(const vnet_port& port) { return port.flags & VNET_PORT_F_OWNED; }
inline void SetPortOwned(vnet_port& port, bool owned) {
  port.flags = owned ? (port.flags | VNET_PORT_F_OWNED) : (port.flags & ~VNET_PORT_F_OWNED);
}

inline bool PortHeldDown(const vnet_port& port) { return port.pad & VNET_PORT_PAD_HELD_DOWN; }
inline void SetPortHeldDown(vnet_port& port, bool held) {
  port.pad = held ? (port.pad | VNET_PORT_PAD_HELD_DOWN) : (port.pad & ~VNET_PORT_PAD_HELD_DOWN);
}

// The datapath's view of a port's flags (without the bits vnet keeps for itself).
inline std::uint8_t DatapathFlags(const vnet_port& port) { return port.flags & ~VNET_PORT_F_OWNED; }
inline PortFlags FlagsOf(const vnet_port& port) { return DecodePortFlags(DatapathFlags(port)); }
// The datapath flags of a port, keeping the bits vnet keeps for itself.
inline void SetPortFlags(vnet_port& port, const PortFlags& flags) {
  port.flags = static_cast<std::uint8_t>((port.flags & VNET_PORT_F_OWNED) | EncodePortFlags(flags));
}
inline MacAddress PortMac(const vnet_port& port) { return MacAddress::FromBytes(port.mac); }

}  // namespace vnet

#endif
