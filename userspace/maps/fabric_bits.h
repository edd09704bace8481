// A fabric's config flag word (include/vnet/abi.h, enum vnet_fabric_flag) as
// named fields. Above maps/, code reads and sets these fields, never the bits.
#ifndef VNET_MAPS_FABRIC_BITS_H
#define VNET_MAPS_FABRIC_BITS_H

#include <cstdint>

#include "vnet/abi.h"

namespace vnet {

struct FabricFlags {
  bool host = false;             // the host stack is a member of the fabric
  bool defunct = false;          // the uplink is gone
  bool no_xdp_redirect = false;  // wire->port unicast through tc
  bool cls_bpf = false;          // tc programs on cls_bpf, not tcx
  bool has_sources = false;      // some source-mode port lists sources
  bool uplink_down = false;      // the uplink has no carrier
  bool has_hairpin = false;      // some port has hairpin on
  bool set_promisc = false;      // vnet made the uplink promiscuous (undone at detach)
  bool no_xdp = false;           // no XDP on the uplink
  bool ipvlan = false;           // ports demux by IP unless told otherwise
  bool has_ip_ports = false;     // some port demuxes by IP
  bool has_ip_nets = false;      // some port has a routed prefix
  bool set_forwarding = false;   // l3s turned forwarding on (undone at detach)
  bool operator==(const FabricFlags&) const = default;
};

inline FabricFlags DecodeFabricFlags(std::uint32_t bits) {
  FabricFlags f;
  f.host = bits & VNET_FABRIC_F_HOST;
  f.defunct = bits & VNET_FABRIC_F_DEFUNCT;
  f.no_xdp_redirect = bits & VNET_FABRIC_F_NO_XDP_REDIRECT;
  f.cls_bpf = bits & VNET_FABRIC_F_CLS_BPF;
  f.has_sources = bits & VNET_FABRIC_F_HAS_SOURCES;
  f.uplink_down = bits & VNET_FABRIC_F_UPLINK_DOWN;
  f.has_hairpin = bits & VNET_FABRIC_F_HAS_HAIRPIN;
  f.set_promisc = bits & VNET_FABRIC_F_SET_PROMISC;
  f.no_xdp = bits & VNET_FABRIC_F_NO_XDP;
  f.ipvlan = bits & VNET_FABRIC_F_IPVLAN;
  f.has_ip_ports = bits & VNET_FABRIC_F_HAS_IP_PORTS;
  f.has_ip_nets = bits & VNET_FABRIC_F_HAS_IP_NETS;
  f.set_forwarding = bits & VNET_FABRIC_F_SET_FORWARDING;
  return f;
}

inline std::uint32_t EncodeFabricFlags(const FabricFlags& f) {
  std::uint32_t bits = 0;
  auto put = [&bits](bool on, std::uint32_t bit) { bits |= on ? bit : 0; };
  put(f.host, VNET_FABRIC_F_HOST);
  put(f.defunct, VNET_FABRIC_F_DEFUNCT);
  put(f.no_xdp_redirect, VNET_FABRIC_F_NO_XDP_REDIRECT);
  put(f.cls_bpf, VNET_FABRIC_F_CLS_BPF);
  put(f.has_sources, VNET_FABRIC_F_HAS_SOURCES);
  put(f.uplink_down, VNET_FABRIC_F_UPLINK_DOWN);
  put(f.has_hairpin, VNET_FABRIC_F_HAS_HAIRPIN);
  put(f.set_promisc, VNET_FABRIC_F_SET_PROMISC);
  put(f.no_xdp, VNET_FABRIC_F_NO_XDP);
  put(f.ipvlan, VNET_FABRIC_F_IPVLAN);
  put(f.has_ip_ports, VNET_FABRIC_F_HAS_IP_PORTS);
  put(f.has_ip_nets, VNET_FABRIC_F_HAS_IP_NETS);
  put(f.set_forwarding, VNET_FABRIC_F_SET_FORWARDING);
  return bits;
}

inline constexpr std::uint32_t kNamedFabricFlags = VNET_FABRIC_F_HOST | VNET_FABRIC_F_DEFUNCT |
    VNET_FABRIC_F_NO_XDP_REDIRECT | VNET_FABRIC_F_CLS_BPF | VNET_FABRIC_F_HAS_SOURCES | VNET_FABRIC_F_UPLINK_DOWN |
    VNET_FABRIC_F_HAS_HAIRPIN | VNET_FABRIC_F_SET_PROMISC | VNET_FABRIC_F_NO_XDP | VNET_FABRIC_F_IPVLAN |
    VNET_FABRIC_F_HAS_IP_PORTS | VNET_FABRIC_F_HAS_IP_NETS | VNET_FABRIC_F_SET_FORWARDING;

inline FabricFlags FabricFlagsOf(const vnet_config& config) { return DecodeFabricFlags(config.flags); }
// Bits a newer ABI adds and this build does not name are kept as they were.
inline void SetFabricFlags(vnet_config& config, const FabricFlags& f) {
  config.flags = (config.flags & ~kNamedFabricFlags) | EncodeFabricFlags(f);
}

}  // namespace vnet

#endif
