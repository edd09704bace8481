// The reference model's own frame parser (model.h): what the rules need to
// know of a frame's L2, L3 and IPv6 extension chain. Written for the model
// alone; nothing here comes from bpf/.
#ifndef VNET_TESTS_FUZZ_MODEL_PARSE_H
#define VNET_TESTS_FUZZ_MODEL_PARSE_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "model.h"

namespace vnet::fuzz::parse {

inline constexpr std::uint16_t kVlan = 0x8100, kQinQ = 0x88a8, kIpv4 = 0x0800, kIpv6 = 0x86dd, kArp = 0x0806;

inline std::uint16_t Get16(const Bytes& f, std::size_t at) { return static_cast<std::uint16_t>(f[at] << 8 | f[at + 1]); }
inline bool IsGroup(const Mac& m) { return m[0] & 1; }
inline Mac MacAt(const Bytes& f, std::size_t at) {
  Mac m;
  std::copy(f.begin() + at, f.begin() + at + 6, m.begin());
  return m;
}
inline Addr AddrAt(const Bytes& f, std::size_t at, int family) {
  Addr a;
  a.family = family;
  std::copy(f.begin() + at, f.begin() + at + (family == 4 ? 4 : 16), a.b.begin());
  return a;
}

// L2: Ethernet and up to two VLAN tags (semantics.md, Malformed input).
struct L2 {
  std::optional<Reason> err;
  Mac dst{}, src{};
  std::uint16_t proto = 0;
  std::size_t l3 = 0;
};
L2 ParseL2(const Bytes& f);

// How far into a frame vnet reads L3 headers (docs/security.md): two VLAN
// tags, Ethernet, an IPv4 header with options, UDP and the BOOTP xid, or an
// IPv6 header's chain up to an NS target. Headers that start past it are
// not read (the IPv6 upper layer is then unreadable).
inline constexpr std::size_t kL3Window = 2 * 4 + 14 + 60 + 8 + 8 + 16;
// IPv6 extension headers walked to the upper layer (docs/semantics.md 6).
inline constexpr int kMaxIpv6Ext = 4;

// L3 as IP demultiplexing and the claims check see it (semantics.md 6: the
// key table).
enum class Kind { kNone, kIp, kArp, kNs };
struct L3 {
  std::optional<Reason> err;
  Kind kind = Kind::kNone;
  bool arp_other = false;  // an ARP that is not Ethernet/IPv4
  bool arp_request = false;
  std::uint16_t arp_op = 0;
  Addr src, key;           // source, and the demux key
  std::uint8_t proto = 0;  // IPv4 protocol / IPv6 upper layer behind the chain
  std::size_t l4 = 0;
  bool fragment = false;   // IPv4: MF or offset; IPv6: a fragment header with either
  // IPv6 only.
  bool hop_by_hop = false;  // a hop-by-hop header first
  bool ext = false;         // any other extension header (an atomic fragment header too)
  bool opaque = false;      // the upper layer could not be read (chain too deep or cut, past the window)
  std::optional<std::uint8_t> icmp_type;
  std::optional<Addr> na_target;  // a Neighbour Advertisement's claim
};
L3 ParseL3(const Bytes& f, const L2& l2);

// A DHCP DISCOVER or REQUEST to 255.255.255.255:67 (the one IPv4 use of 0.0.0.0).
bool DhcpClientBroadcast(const Bytes& f, const L3& l3);

}  // namespace vnet::fuzz::parse

#endif
