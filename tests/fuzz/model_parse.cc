#include "model_parse.h"

namespace vnet::fuzz::parse {

L2 ParseL2(const Bytes& f) {
  L2 l2;
  if (f.size() < 14) {
    l2.err = Reason::kTruncatedEth;
    return l2;
  }
  l2.dst = MacAt(f, 0);
  l2.src = MacAt(f, 6);
  l2.proto = Get16(f, 12);
  l2.l3 = 14;
  for (int depth = 0; depth < 2 && (l2.proto == kVlan || l2.proto == kQinQ); ++depth) {
    if (f.size() < l2.l3 + 4) {
      l2.err = Reason::kTruncatedVlan;
      return l2;
    }
    l2.proto = Get16(f, l2.l3 + 2);
    l2.l3 += 4;
  }
  if (l2.proto == kVlan || l2.proto == kQinQ) l2.err = Reason::kVlanDepth;
  return l2;
}

L3 ParseL3(const Bytes& f, const L2& l2) {
  L3 l3;
  std::size_t o = l2.l3, n = f.size();
  auto cut = [&]() {
    l3.err = Reason::kTruncatedL3;
    return l3;
  };
  if (l2.proto == kIpv4) {
    if (n < o + 20) return cut();
    std::uint8_t vihl = f[o];
    if ((vihl >> 4) != 4 || (vihl & 15) < 5) return cut();
    // An IHL whose options run past the frame is a header cut short.
    if (n < o + (vihl & 15) * 4u) return cut();
    l3.kind = Kind::kIp;
    l3.proto = f[o + 9];
    l3.fragment = (Get16(f, o + 6) & 0x3fff) != 0;
    l3.src = AddrAt(f, o + 12, 4);
    l3.key = AddrAt(f, o + 16, 4);
    l3.l4 = o + (vihl & 15) * 4u;
  } else if (l2.proto == kIpv6) {
    if (n < o + 40) return cut();
    if ((f[o] >> 4) != 6) return cut();
    l3.kind = Kind::kIp;
    l3.proto = f[o + 6];
    l3.src = AddrAt(f, o + 8, 6);
    l3.key = AddrAt(f, o + 24, 6);
    l3.l4 = o + 40;
    if (l3.proto == 58) {  // ICMPv6 right after the fixed header (chains are not walked for demux)
      if (n < l3.l4 + 8) return cut();  // struct icmp6hdr, as icmpv6_rcv pulls it
      if (f[l3.l4] == 135) {
        if (n < l3.l4 + 24) return cut();
        l3.kind = Kind::kNs;
        l3.key = AddrAt(f, l3.l4 + 8, 6);
      }
    }
  } else if (l2.proto == kArp) {
    // Cut short as the kernel's ipvlan and arp_rcv see it on an Ethernet
    // device: less than arp_hdr_len(dev), 28 bytes, whatever hln and pln say.
    if (n < o + 28) return cut();
    bool eth_ip4 = Get16(f, o) == 1 && Get16(f, o + 2) == kIpv4 && f[o + 4] == 6 && f[o + 5] == 4;
    if (!eth_ip4) {
      l3.arp_other = true;
      return l3;
    }
    l3.kind = Kind::kArp;
    l3.arp_op = Get16(f, o + 6);
    l3.arp_request = l3.arp_op == 1;
    l3.src = AddrAt(f, o + 14, 4);
    l3.key = AddrAt(f, o + 24, 4);
  }
  return l3;
}

Upper WalkIpv6(const Bytes& f, std::size_t l3) {
  Upper u;
  u.proto = f[l3 + 6];
  u.off = l3 + 40;
  for (int hops = 0;; ++hops) {
    if (u.proto != 0 && u.proto != 43 && u.proto != 60 && u.proto != 44) return u;
    // A chain deeper than any legitimate packet's: fail closed.
    if (hops == 8 || f.size() < u.off + 8) {
      u.err = Reason::kTruncatedL3;
      return u;
    }
    ++u.headers;
    if (u.proto != 0) u.only_hop_by_hop = false;
    if (u.proto == 44) {
      if (Get16(f, u.off + 2) & 0xfff8) {
        u.later_fragment = true;  // no upper header in it
        u.proto = f[u.off];
        return u;
      }
      u.proto = f[u.off];
      u.off += 8;
      continue;
    }
    std::size_t len = (f[u.off + 1] + 1) * 8u;
    u.proto = f[u.off];
    u.off += len;
  }
}

bool DhcpClientBroadcast(const Bytes& f, const L3& l3) {
  if (l3.proto != 17 || l3.fragment) return false;
  if (!(l3.key == V4(255, 255, 255, 255))) return false;
  std::size_t u = l3.l4;
  if (f.size() < u + 8 || Get16(f, u) != 68 || Get16(f, u + 2) != 67) return false;
  std::size_t b = u + 8;
  if (f.size() < b + 240) return false;
  if (!(f[b + 236] == 0x63 && f[b + 237] == 0x82 && f[b + 238] == 0x53 && f[b + 239] == 0x63)) return false;
  for (std::size_t o = b + 240; o < f.size();) {
    std::uint8_t code = f[o];
    if (code == 0) {
      ++o;
      continue;
    }
    if (code == 255 || o + 1 >= f.size()) return false;
    std::size_t len = f[o + 1];
    if (o + 2 + len > f.size()) return false;
    if (code == 53) return len >= 1 && (f[o + 2] == 1 || f[o + 2] == 3);
    o += 2 + len;
  }
  return false;
}

// The source rules every checked port obeys (issue 10, hole 2 and
// "IP anti-spoofing for MAC ports"): `owns` says which addresses it may use.

}  // namespace vnet::fuzz::parse
