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

// L3 as IP demultiplexing sees it (semantics.md 6: the key table).
enum class Kind { kNone, kIp, kArp, kNs };
struct L3 {
  std::optional<Reason> err;
  Kind kind = Kind::kNone;
  bool arp_other = false;  // an ARP that is not Ethernet/IPv4
  bool arp_request = false;
  std::uint16_t arp_op = 0;
  Addr src, key;           // source, and the demux key
  std::uint8_t proto = 0;  // IPv4 protocol / IPv6 next header
  std::size_t l4 = 0;
  bool fragment = false;   // IPv4: MF or offset
};
L3 ParseL3(const Bytes& f, const L2& l2);

// The upper-layer header of an IPv6 packet behind its extension chain.
struct Upper {
  std::optional<Reason> err;
  std::uint8_t proto = 0;
  std::size_t off = 0;
  bool later_fragment = false;
  int headers = 0;          // extension headers walked
  bool only_hop_by_hop = true;
};
Upper WalkIpv6(const Bytes& f, std::size_t l3);

// A DHCP DISCOVER or REQUEST to 255.255.255.255:67 (the one IPv4 use of 0.0.0.0).
bool DhcpClientBroadcast(const Bytes& f, const L3& l3);

}  // namespace vnet::fuzz::parse

#endif
