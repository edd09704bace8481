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
    l3.src = AddrAt(f, o + 8, 6);
    l3.key = AddrAt(f, o + 24, 6);
    // The extension chain is walked as the host stack processes it before
    // ICMPv6, so ND behind it is classified (and claims checked). An atomic
    // fragment header (offset 0, M clear) is walked through (RFC 6946); a
    // real fragment ends the walk: its ND is never the host's (RFC 6980).
    auto is_ext = [](std::uint8_t p) { return p == 0 || p == 43 || p == 60 || p == 44; };
    std::uint8_t proto = f[o + 6];
    std::size_t off = o + 40;
    for (int i = 0; i < kMaxIpv6Ext && is_ext(proto); ++i) {
      if (off > kL3Window || n < off + 8) {
        l3.opaque = true;
        break;
      }
      if (proto == 44) {
        if (Get16(f, off + 2) & 0xfff9) {
          l3.fragment = true;
          l3.proto = 44;
          l3.l4 = off;
          return l3;
        }
        l3.ext = true;
        proto = f[off];
        off += 8;
        continue;
      }
      if (i == 0 && proto == 0)
        l3.hop_by_hop = true;
      else
        l3.ext = true;
      proto = f[off];
      off += (f[off + 1] + 1) * 8u;
    }
    if (is_ext(proto)) l3.opaque = true;
    l3.proto = proto;
    l3.l4 = off;
    if (proto != 58 || l3.opaque) return l3;
    if (off > kL3Window) {
      l3.opaque = true;
      return l3;
    }
    if (n < off + 8) {  // struct icmp6hdr, as icmpv6_rcv pulls it
      if (!l3.ext && !l3.hop_by_hop) return cut();
      l3.opaque = true;  // behind extension headers: only a claim needs it
      return l3;
    }
    l3.icmp_type = f[off];
    if (f[off] == 135) {
      if (n < off + 24) return cut();
      l3.kind = Kind::kNs;
      l3.key = AddrAt(f, off + 8, 6);
    } else if (f[off] == 136) {
      if (n < off + 24)
        l3.opaque = true;  // demuxed by destination; only its claim needs the target
      else
        l3.na_target = AddrAt(f, off + 8, 6);
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

}  // namespace vnet::fuzz::parse
