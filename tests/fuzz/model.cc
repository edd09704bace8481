#include "model.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace vnet::fuzz {
namespace {

constexpr std::uint16_t kVlan = 0x8100, kQinQ = 0x88a8, kIpv4 = 0x0800, kIpv6 = 0x86dd, kArp = 0x0806;

std::uint16_t Get16(const Bytes& f, std::size_t at) { return static_cast<std::uint16_t>(f[at] << 8 | f[at + 1]); }
bool IsGroup(const Mac& m) { return m[0] & 1; }
Mac MacAt(const Bytes& f, std::size_t at) {
  Mac m;
  std::copy(f.begin() + at, f.begin() + at + 6, m.begin());
  return m;
}
Addr AddrAt(const Bytes& f, std::size_t at, int family) {
  Addr a;
  a.family = family;
  std::copy(f.begin() + at, f.begin() + at + (family == 4 ? 4 : 16), a.b.begin());
  return a;
}

// ---- L2: Ethernet and up to two VLAN tags (semantics.md, Malformed input) ----
struct L2 {
  std::optional<Reason> err;
  Mac dst{}, src{};
  std::uint16_t proto = 0;
  std::size_t l3 = 0;
};

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

// ---- L3 as IP demultiplexing sees it (semantics.md 6: the key table) ----
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

// ---- What the anti-spoofing rules need beyond the demux key ----
// The upper-layer header of an IPv6 packet behind its extension chain.
struct Upper {
  std::optional<Reason> err;
  std::uint8_t proto = 0;
  std::size_t off = 0;
  bool later_fragment = false;
  int headers = 0;          // extension headers walked
  bool only_hop_by_hop = true;
};
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

// A DHCP DISCOVER or REQUEST to 255.255.255.255:67 (the one IPv4 use of 0.0.0.0).
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
// Returns the drop reason, if any.
template <typename Owns>
std::optional<Reason> SourceCheck(const Bytes& f, const L2& l2, const L3& l3, Owns owns, std::string& why) {
  if (l2.proto == kArp) {
    if (l3.arp_other) {
      why = "ARP that is not Ethernet/IPv4 from a checked port";
      return Reason::kSpoofedIp;
    }
    if (l3.src.Unspecified()) {
      if (l3.arp_request) return std::nullopt;  // an ARP probe
      why = "ARP from 0.0.0.0 that is not a probe";
      return Reason::kSpoofedIp;
    }
    if (!owns(l3.src)) {
      why = "ARP claims an address the port does not own";
      return Reason::kSpoofedIp;
    }
    return std::nullopt;
  }
  if (l2.proto == kIpv4) {
    if (l3.src.Unspecified()) {
      if (DhcpClientBroadcast(f, l3)) return std::nullopt;
      why = "0.0.0.0 outside a DHCP DISCOVER/REQUEST to 255.255.255.255:67";
      return Reason::kSpoofedIp;
    }
    if (!owns(l3.src)) {
      why = "IPv4 source not the port's";
      return Reason::kSpoofedIp;
    }
    return std::nullopt;
  }
  if (l2.proto == kIpv6) {
    Upper up = WalkIpv6(f, l2.l3);
    if (up.err) {
      why = "IPv6 extension chain cut short or too deep";
      return up.err;
    }
    std::optional<std::uint8_t> icmp_type;
    if (up.proto == 58 && !up.later_fragment) {
      if (f.size() < up.off + 8) {
        why = "ICMPv6 header cut short";
        return Reason::kTruncatedL3;
      }
      icmp_type = f[up.off];
    }
    if (l3.src.Unspecified()) {
      // DAD (an NS) and MLD reports (v1 131, v2 143) may come from ::, as
      // the kernel sends them: right after the IPv6 header or behind one
      // hop-by-hop header (MLD's router alert). Behind anything else (a
      // fragment header, which RFC 6980 forbids for ND) they are not.
      bool plain = up.headers == 0 || (up.headers == 1 && up.only_hop_by_hop);
      if (plain && icmp_type && (*icmp_type == 135 || *icmp_type == 131 || *icmp_type == 143)) return std::nullopt;
      why = ":: outside DAD NS and MLD reports";
      return Reason::kSpoofedIp;
    }
    if (!owns(l3.src)) {
      why = "IPv6 source not the port's";
      return Reason::kSpoofedIp;
    }
    if (icmp_type && *icmp_type == 136) {
      if (f.size() < up.off + 24) {
        why = "NA target cut short";
        return Reason::kTruncatedL3;
      }
      if (!owns(AddrAt(f, up.off + 8, 6))) {
        why = "NA for a target the port does not own";
        return Reason::kSpoofedIp;
      }
    }
  }
  return std::nullopt;
}

// ---- the rules ----
struct Ctx {
  const FabricConfig& cfg;
  const Bytes& f;
  Outcome out;

  Outcome& Drop(Reason r, int slot, const char* why) {
    out.fate = Fate::kDrop;
    out.reason = r;
    out.slot = slot;
    out.why = why;
    return out;
  }
  Outcome& To(Fate fate, int slot, const char* why) {
    out.fate = fate;
    out.slot = slot;
    out.why = why;
    return out;
  }
  // Flood clones to the ports `pick` accepts.
  template <typename Pick>
  void Flood(Pick pick) {
    for (const PortConfig& p : cfg.ports)
      if (pick(p)) out.floods[p.slot]++;
  }
};

bool InModes(Mode m, std::initializer_list<Mode> modes) { return std::find(modes.begin(), modes.end(), m) != modes.end(); }

// The ipvlan port that sent a frame that arrives on the wire with the
// uplink's MAC as source: the owner of its source address (hole 4).
const PortConfig* IpSender(const FabricConfig& cfg, const L2& l2, const Bytes& f) {
  if (l2.src != cfg.uplink || !cfg.HasIpPorts()) return nullptr;
  L3 l3 = ParseL3(f, l2);
  if (l3.err || l3.kind == Kind::kNone || l3.src.Unspecified()) return nullptr;
  return cfg.IpOwner(l3.src);
}

// Who sent a frame that comes in from the wire, if it is one of ours
// reflected: a MAC port by source MAC, an IP port by source address.
const PortConfig* WireSender(const FabricConfig& cfg, const L2& l2, const Bytes& f) {
  if (const PortConfig* p = cfg.ByMac(l2.src)) return p;
  return IpSender(cfg, l2, f);
}

Outcome Wire(Ctx& c, bool xdp) {
  const FabricConfig& cfg = c.cfg;
  L2 l2 = ParseL2(c.f);
  if (l2.err) return c.Drop(*l2.err, 0, "malformed L2 on the uplink");
  (void)xdp;  // XDP and tc must agree: the XDP stage only takes a fast path

  // Source-mode copies come first (kernel macvlan_handle_frame).
  for (const SourceList& s : cfg.sources) {
    if (s.mac != l2.src) continue;
    bool nodst = false;
    for (int slot : s.slots) {
      c.out.source_copies[slot]++;
      nodst |= cfg.BySlot(slot)->nodst;
    }
    if (nodst) return c.Drop(Reason::kSourceNodst, 0, "source MAC listed by a nodst port");
  }

  bool flood_ip = false;
  bool group = IsGroup(l2.dst);
  if (cfg.HasIpPorts() && ((group && l2.src != cfg.uplink) || (!group && l2.dst == cfg.uplink))) {
    L3 l3 = ParseL3(c.f, l2);
    if (l3.err) return c.Drop(*l3.err, 0, "IP demux: L3 header cut short or bad");
    bool l2mode = cfg.ipvlan_mode == IpvlanMode::kL2;
    bool question = l3.kind == Kind::kNs || (l3.kind == Kind::kArp && l3.arp_request);
    if (group) {
      if (question && (l3.kind == Kind::kNs || !l2mode)) {
        const PortConfig* owner = cfg.IpOwner(l3.key);
        if (owner) {
          if (!l2mode) return c.To(Fate::kWire, 0, "l3: vnet answers ARP/NS for a port's address");
          return c.To(Fate::kPort, owner->slot, "l2: NS to its target's owner alone");
        }
        // no owner: the MAC family's flood, no IP port
      } else {
        flood_ip = l2mode;
      }
    } else {
      if (l3.kind == Kind::kNone) return c.To(Fate::kHost, 0, "to U, not IP: host stack");
      const PortConfig* owner = cfg.IpOwner(l3.key);
      if (!owner) return c.To(Fate::kHost, 0, "to U, no port's address: host stack");
      if (!l2mode) {
        if (question) return c.To(Fate::kWire, 0, "l3: vnet answers for the port");
        if (l3.kind == Kind::kArp) return c.To(Fate::kHost, 0, "l3: an ARP reply answers the host");
        if (cfg.ipvlan_mode == IpvlanMode::kL3s) return c.To(Fate::kHost, 0, "l3s: the host routes it");
      }
      const PortConfig* from = WireSender(cfg, l2, c.f);
      if (from && from->isolated && owner->isolated && from != owner)
        return c.Drop(Reason::kIsolated, 0, "reflection between isolated ports (MAC and IP)");
      return c.To(Fate::kPort, owner->slot, "to U: the address's port");
    }
  }

  if (group) {
    const PortConfig* src = cfg.ByMac(l2.src);
    if (!src) {
      const PortConfig* ip_src = IpSender(cfg, l2, c.f);
      bool skip_iso = ip_src && ip_src->isolated;
      if (!(cfg.host && l2.src == cfg.uplink))
        c.Flood([&](const PortConfig& p) {
          if (skip_iso && p.isolated) return false;
          return InModes(p.mode, {Mode::kPrivate, Mode::kVepa, Mode::kBridge, Mode::kPassthru}) ||
                 (flood_ip && p.mode == Mode::kIpvlan);
        });
      return c.To(Fate::kHost, 0, "group from outside: every port the modes allow, and the host");
    }
    if (src->mode != Mode::kVepa && src->mode != Mode::kBridge)
      return c.To(Fate::kPort, src->slot, "reflected group of a private/passthru/source port: back to it alone");
    c.Flood([&](const PortConfig& p) {
      if (p.slot == src->slot || (src->isolated && p.isolated)) return false;
      if (p.mode == Mode::kIpvlan) return flood_ip;
      return src->mode == Mode::kVepa ? InModes(p.mode, {Mode::kVepa, Mode::kBridge}) : p.mode == Mode::kVepa;
    });
    if (cfg.host) return c.Drop(Reason::kReflected, 0, "host on: the host had the port's group frame already");
    return c.To(Fate::kHost, 0, "reflected group: the host too");
  }

  if (const PortConfig* pt = cfg.Passthru()) return c.To(Fate::kPort, pt->slot, "passthru takes every unicast");
  const PortConfig* dst = cfg.ByMac(l2.dst);
  if (!dst) {
    if (cfg.unknown_drop && l2.dst != cfg.uplink) return c.Drop(Reason::kUnknownDst, 0, "unknown unicast, policy drop");
    return c.To(Fate::kHost, 0, "unicast to no port: host stack");
  }
  if (dst->mode == Mode::kSource) return c.To(Fate::kHost, 0, "a source-mode port's MAC is the host's");
  const PortConfig* from = WireSender(cfg, l2, c.f);
  if (from && from != dst && from->isolated && dst->isolated)
    return c.Drop(Reason::kIsolated, 0, "reflection between isolated ports");
  return c.To(Fate::kPort, dst->slot, "unicast to a port's MAC");
}

Outcome IpvlanPort(Ctx& c, const PortConfig& port, const L2& l2, const L3& l3) {
  const FabricConfig& cfg = c.cfg;
  auto to_sibling = [&](const PortConfig& dst) -> Outcome& {
    if (dst.isolated && port.isolated) return c.Drop(Reason::kIsolated, port.slot, "isolated IP ports");
    if (cfg.ipvlan_flag == IpvlanFlag::kPrivate) return c.Drop(Reason::kPrivate, port.slot, "flag private");
    if (cfg.ipvlan_flag == IpvlanFlag::kVepa) return c.To(Fate::kWire, 0, "flag vepa: out for the switch");
    return c.To(Fate::kPort, dst.slot, "flag bridge: to the address's port");
  };
  bool group = IsGroup(l2.dst);
  if (cfg.ipvlan_mode == IpvlanMode::kL2) {
    if (group) {
      if (l3.kind == Kind::kNs) {
        const PortConfig* owner = cfg.IpOwner(l3.key);
        if (owner && owner != &port) return to_sibling(*owner);
      } else if (cfg.ipvlan_flag == IpvlanFlag::kBridge) {
        c.Flood([&](const PortConfig& p) {
          return p.mode == Mode::kIpvlan && p.slot != port.slot && !(port.isolated && p.isolated);
        });
      }
      c.out.host_copy = cfg.host;
      return c.To(Fate::kWire, 0, "l2 group: siblings (bridge), host (host on), wire");
    }
    if (l2.dst != cfg.uplink) return c.To(Fate::kWire, 0, "l2: unicast to another MAC goes out");
    if (l3.kind != Kind::kNone) {
      const PortConfig* owner = cfg.IpOwner(l3.key);
      if (owner && owner != &port) return to_sibling(*owner);
    }
    return c.To(Fate::kHost, 0, "l2: U and no port's address: the host's");
  }
  if (l3.kind == Kind::kArp || l3.kind == Kind::kNs) {
    if (l3.kind == Kind::kArp && !l3.arp_request) return c.Drop(Reason::kL3Group, port.slot, "l3: an ARP reply");
    const PortConfig* owner = cfg.IpOwner(l3.key);
    if (owner == &port) return c.Drop(Reason::kL3Group, port.slot, "l3: ARP/NS for its own address (DAD)");
    return c.To(Fate::kPort, port.slot, "l3: vnet answers the port");
  }
  if (l3.kind == Kind::kNone || group) return c.Drop(Reason::kL3Group, port.slot, "l3: group or non-IP frame");
  const PortConfig* owner = cfg.IpOwner(l3.key);
  if (owner && owner != &port) return to_sibling(*owner);
  if (cfg.ipvlan_mode == IpvlanMode::kL3s) return c.To(Fate::kHost, 0, "l3s: the host routes it");
  return c.To(Fate::kRouted, 0, "l3: the host's FIB");
}

Outcome Port(Ctx& c, int from_slot) {
  const FabricConfig& cfg = c.cfg;
  const PortConfig& port = *cfg.BySlot(from_slot);
  L2 l2 = ParseL2(c.f);
  if (l2.err) return c.Drop(*l2.err, port.slot, "malformed L2 from a port");
  if (port.spoofchk) {
    if (l2.src != port.mac) return c.Drop(Reason::kSpoofedSrc, port.slot, "source MAC not the port's");
    // semantics.md (f): an ARP with 6-byte hardware addresses claims its sender
    // hardware address; it must be read wherever it lies (hole 1), and what
    // cannot be read fails closed (issue 10): an ARP too short to show its
    // hln, or with hln 6 but no whole sender hardware address, is dropped.
    std::size_t o = l2.l3;
    if (l2.proto == kArp) {
      if (c.f.size() < o + 5 || (c.f[o + 4] == 6 && c.f.size() < o + 14))
        return c.Drop(Reason::kSpoofedSrc, port.slot, "ARP too short to check its sender (fail closed)");
      if (c.f[o + 4] == 6 && MacAt(c.f, o + 8) != port.mac)
        return c.Drop(Reason::kSpoofedSrc, port.slot, "ARP sender hardware address not the port's");
    }
  }
  if (port.mode == Mode::kIpvlan) {
    L3 l3 = ParseL3(c.f, l2);
    if (l3.err) return c.Drop(*l3.err, port.slot, "ipvlan port: L3 header cut short or bad");
    if (port.spoofchk) {
      std::string why;
      auto owns = [&](const Addr& a) { return cfg.IpOwner(a) == &port; };
      if (auto r = SourceCheck(c.f, l2, l3, owns, why)) {
        c.out.why = why;
        Outcome& o = c.Drop(*r, port.slot, "");
        o.why = why;
        return o;
      }
    }
    return IpvlanPort(c, port, l2, l3);
  }
  if (!port.allow.empty() && (l2.proto == kIpv4 || l2.proto == kIpv6 || l2.proto == kArp)) {
    L3 l3 = ParseL3(c.f, l2);
    if (l3.err) return c.Drop(*l3.err, port.slot, "allow-ip: L3 header cut short or bad");
    Addr ll = Eui64LinkLocal(port.mac);
    auto owns = [&](const Addr& a) {
      if (a == ll) return true;
      return std::any_of(port.allow.begin(), port.allow.end(), [&](const Prefix& p) { return p.Contains(a); });
    };
    std::string why;
    if (auto r = SourceCheck(c.f, l2, l3, owns, why)) {
      Outcome& o = c.Drop(*r, port.slot, "");
      o.why = "allow-ip: " + why;
      return o;
    }
  }

  bool host = cfg.host && port.mode != Mode::kPrivate;
  bool hairpin = port.hairpin;
  if (IsGroup(l2.dst)) {
    c.Flood([&](const PortConfig& p) {
      if (p.slot == port.slot || (port.isolated && p.isolated)) return false;
      if (port.mode == Mode::kBridge && p.mode == Mode::kBridge) return true;
      // Without hairpin on the sender, hairpin receivers get what a
      // reflecting switch would return them.
      if (hairpin || !p.hairpin) return false;
      if (port.mode == Mode::kVepa) return InModes(p.mode, {Mode::kVepa, Mode::kBridge});
      if (port.mode == Mode::kBridge) return p.mode == Mode::kVepa;
      return false;
    });
    c.out.host_copy = host;
    c.out.reflect_copy = hairpin;
    return c.To(Fate::kWire, 0, "group from a port: bridge siblings, hairpin receivers, host, wire");
  }
  if (l2.dst == cfg.uplink) {
    if (hairpin) return c.To(Fate::kReflect, 0, "hairpin: to U, reflected by the fabric");
    if (host) return c.To(Fate::kHost, 0, "host on: to U goes to the host stack");
    return c.To(Fate::kWire, 0, "to U: out");
  }
  const PortConfig* dst = cfg.ByMac(l2.dst);
  if (!dst) return c.To(Fate::kWire, 0, "unicast to no port: out");
  if (dst->isolated && port.isolated) return c.Drop(Reason::kIsolated, port.slot, "isolated to isolated");
  if ((port.mode == Mode::kBridge && dst->mode == Mode::kBridge) ||
      ((hairpin || dst->hairpin) && dst->mode != Mode::kSource))
    return c.To(Fate::kPort, dst->slot, "delivered locally (bridge pair or hairpin)");
  return c.To(Fate::kWire, 0, "unicast to a sibling: out for the switch");
}

Outcome Host(Ctx& c) {
  const FabricConfig& cfg = c.cfg;
  if (!cfg.host && !cfg.HasHairpin()) return c.To(Fate::kWire, 0, "host off, no hairpin port: out");
  L2 l2 = ParseL2(c.f);
  if (l2.err) return c.To(Fate::kWire, 0, "the host's own malformed frame: out");
  bool group = IsGroup(l2.dst);
  bool flood_ip = false;
  if (cfg.host && cfg.HasIpPorts() && (group || l2.dst == cfg.uplink)) {
    bool l2mode = cfg.ipvlan_mode == IpvlanMode::kL2;
    L3 l3 = ParseL3(c.f, l2);
    if (l3.err || l3.kind == Kind::kNone) {
      flood_ip = group && l2mode;
    } else {
      const PortConfig* owner = cfg.IpOwner(l3.key);
      bool question = l3.kind == Kind::kNs || (l3.kind == Kind::kArp && l3.arp_request);
      if (!l2mode && owner && question) return c.To(Fate::kHost, 0, "l3: vnet answers the host for a port");
      if (group && !(l2mode && l3.kind == Kind::kNs && owner)) {
        flood_ip = l2mode;
      } else if (owner && !(!l2mode && l3.kind == Kind::kArp)) {
        return c.To(Fate::kPort, owner->slot, "host on: to the address's port");
      }
    }
  }
  if (group) {
    c.Flood([&](const PortConfig& p) {
      if (cfg.host && (InModes(p.mode, {Mode::kVepa, Mode::kBridge, Mode::kPassthru}) ||
                       (flood_ip && p.mode == Mode::kIpvlan)))
        return true;
      if (!p.hairpin) return false;
      return cfg.host ? p.mode == Mode::kPrivate
                      : InModes(p.mode, {Mode::kPrivate, Mode::kVepa, Mode::kBridge, Mode::kPassthru});
    });
    return c.To(Fate::kWire, 0, "the host's group frame: ports by host/hairpin, and out");
  }
  const PortConfig* dst = cfg.ByMac(l2.dst);
  if (!dst || dst->mode == Mode::kSource) return c.To(Fate::kWire, 0, "out");
  if (!dst->hairpin && (!cfg.host || dst->mode == Mode::kPrivate)) return c.To(Fate::kWire, 0, "out");
  return c.To(Fate::kPort, dst->slot, "the host to a port (host on or hairpin)");
}

}  // namespace

bool Addr::Unspecified() const {
  return std::all_of(b.begin(), b.begin() + (family == 4 ? 4 : 16), [](std::uint8_t x) { return x == 0; });
}

bool Prefix::Contains(const Addr& a) const {
  if (a.family != addr.family) return false;
  for (int i = 0; i < plen; ++i) {
    int bit = 7 - i % 8;
    if (((a.b[i / 8] >> bit) & 1) != ((addr.b[i / 8] >> bit) & 1)) return false;
  }
  return true;
}

Addr V4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  Addr x;
  x.family = 4;
  x.b[0] = a, x.b[1] = b, x.b[2] = c, x.b[3] = d;
  return x;
}

Addr V6(std::initializer_list<std::uint16_t> words) {
  Addr x;
  x.family = 6;
  int i = 0;
  for (std::uint16_t w : words) {
    x.b[i++] = static_cast<std::uint8_t>(w >> 8);
    x.b[i++] = static_cast<std::uint8_t>(w);
  }
  return x;
}

Addr Eui64LinkLocal(const Mac& m) {
  Addr x = V6({0xfe80, 0, 0, 0, 0, 0, 0, 0});
  x.b[8] = m[0] ^ 2, x.b[9] = m[1], x.b[10] = m[2], x.b[11] = 0xff;
  x.b[12] = 0xfe, x.b[13] = m[3], x.b[14] = m[4], x.b[15] = m[5];
  return x;
}

std::string ToString(const Addr& a) {
  char buf[64];
  if (a.family == 4) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a.b[0], a.b[1], a.b[2], a.b[3]);
    return buf;
  }
  std::string s;
  for (int i = 0; i < 16; i += 2) {
    std::snprintf(buf, sizeof buf, "%s%x", i ? ":" : "", a.b[i] << 8 | a.b[i + 1]);
    s += buf;
  }
  return s;
}

std::string ToString(const Mac& m) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

const char* Name(Mode m) {
  static const char* const names[] = {"private", "vepa", "bridge", "passthru", "source", "ipvlan"};
  return names[static_cast<int>(m)];
}
const char* Name(IpvlanMode m) {
  static const char* const names[] = {"l2", "l3", "l3s"};
  return names[static_cast<int>(m)];
}
const char* Name(IpvlanFlag f) {
  static const char* const names[] = {"bridge", "private", "vepa"};
  return names[static_cast<int>(f)];
}
const char* Name(Entry e) {
  static const char* const names[] = {"wire-xdp", "wire-tc", "port", "host-egress"};
  return names[static_cast<int>(e)];
}
const char* Name(Reason r) {
  static const char* const names[] = {"truncated_eth", "truncated_vlan", "vlan_depth", "unknown_dst", "spoofed_src",
                                      "isolated", "source_nodst", "spoofed_ip", "truncated_l3", "private",
                                      "l3_group", "no_route", "reflected", "dhcp", "UNCOUNTED", "other"};
  return names[static_cast<int>(r)];
}
const char* Name(Fate f) {
  static const char* const names[] = {"drop", "host", "port", "wire", "reflect", "routed"};
  return names[static_cast<int>(f)];
}

std::string Outcome::ToString() const {
  std::ostringstream os;
  os << Name(fate);
  if (fate == Fate::kDrop) os << " " << Name(reason) << " on slot " << slot;
  if (fate == Fate::kPort) os << " " << slot;
  if (!floods.empty()) {
    os << ", flood copies to";
    for (auto [s, n] : floods) os << " " << s << (n > 1 ? "x" + std::to_string(n) : "");
  }
  if (!source_copies.empty()) {
    os << ", source copies to";
    for (auto [s, n] : source_copies) os << " " << s << (n > 1 ? "x" + std::to_string(n) : "");
  }
  if (host_copy) os << ", a copy to the host";
  if (reflect_copy) os << ", a reflected copy";
  if (ingress_copies >= 0 && ingress_copies != host_copy + reflect_copy)
    os << ", " << ingress_copies << " copies into the uplink's ingress";
  if (!why.empty()) os << "  (" << why << ")";
  return os.str();
}

const PortConfig* FabricConfig::BySlot(int slot) const {
  return slot >= 1 && slot <= static_cast<int>(ports.size()) ? &ports[slot - 1] : nullptr;
}
const PortConfig* FabricConfig::ByMac(const Mac& mac) const {
  for (const PortConfig& p : ports)
    if (p.mode != Mode::kIpvlan && p.mac == mac) return &p;
  return nullptr;
}
const PortConfig* FabricConfig::Passthru() const {
  for (const PortConfig& p : ports)
    if (p.mode == Mode::kPassthru) return &p;
  return nullptr;
}
bool FabricConfig::HasIpPorts() const {
  return std::any_of(ports.begin(), ports.end(), [](const PortConfig& p) { return p.mode == Mode::kIpvlan; });
}
bool FabricConfig::HasHairpin() const {
  return std::any_of(ports.begin(), ports.end(), [](const PortConfig& p) { return p.hairpin; });
}
const PortConfig* FabricConfig::IpOwner(const Addr& a) const {
  for (const PortConfig& p : ports)
    for (const Addr& ip : p.ips)
      if (ip == a) return &p;
  const PortConfig* best = nullptr;
  int best_len = -1;
  for (const PortConfig& p : ports)
    for (const Prefix& n : p.nets)
      if (n.plen > best_len && n.Contains(a)) best = &p, best_len = n.plen;
  return best;
}

std::string FabricConfig::Describe() const {
  std::ostringstream os;
  os << "fabric uplink " << ToString(uplink) << " host " << (host ? "on" : "off") << " unknown "
     << (unknown_drop ? "drop" : "pass") << " xdp-redirect " << (no_xdp_redirect ? "off" : "on") << " ipvlan "
     << Name(ipvlan_mode) << "/" << Name(ipvlan_flag) << "\n";
  for (const PortConfig& p : ports) {
    os << "  slot " << p.slot << ": " << Name(p.mode) << " mac " << ToString(p.mac) << " spoofchk "
       << (p.spoofchk ? "on" : "off") << (p.hairpin ? " hairpin" : "") << (p.isolated ? " isolated" : "")
       << (p.nodst ? " nodst" : "") << (p.xdp_target ? "" : " no-xdp-target");
    for (const Addr& a : p.ips) os << " ip " << ToString(a);
    for (const Prefix& n : p.nets) os << " net " << ToString(n.addr) << "/" << n.plen;
    for (const Prefix& n : p.allow) os << " allow-ip " << ToString(n.addr) << "/" << n.plen;
    os << "\n";
  }
  for (const SourceList& s : sources) {
    os << "  source " << ToString(s.mac) << " listed by";
    for (int slot : s.slots) os << " " << slot;
    os << "\n";
  }
  return os.str();
}

Outcome Predict(const FabricConfig& cfg, Entry entry, int from_slot, const Bytes& frame) {
  Ctx c{cfg, frame, {}};
  switch (entry) {
    case Entry::kWireXdp: return Wire(c, true);
    case Entry::kWireTc: return Wire(c, false);
    case Entry::kPort: return Port(c, from_slot);
    case Entry::kHost: return Host(c);
  }
  return c.out;
}

}  // namespace vnet::fuzz
