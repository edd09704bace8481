// The reference model's rules: who gets a frame, from each entry point.
#include "model.h"

#include <algorithm>

#include "model_parse.h"
#include "model_source.h"

namespace vnet::fuzz {
namespace {

using namespace parse;

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
  // vnet answers for `ip` with the uplink's MAC, back `fate`.
  Outcome& Answer(Fate fate, int slot, const Addr& ip, const char* why) {
    out.answer_ip = ip;
    out.answer_mac = cfg.uplink;
    return To(fate, slot, why);
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
          if (!l2mode) return c.Answer(Fate::kWire, 0, l3.key, "l3: vnet answers ARP/NS for a port's address");
          const PortConfig* from = WireSender(cfg, l2, c.f);
          if (from && from->isolated && owner->isolated && from != owner)
            return c.Drop(Reason::kIsolated, 0, "reflected NS between isolated ports (MAC and IP)");
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
        if (question) return c.Answer(Fate::kWire, 0, l3.key, "l3: vnet answers for the port");
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
    if (l2.dst != cfg.uplink) {
      // Isolation is checked where the sender is known (security.md): an
      // isolated MAC port's MAC is not reached through a reflecting switch.
      const PortConfig* dst = cfg.ByMac(l2.dst);
      if (port.isolated && dst && dst->isolated)
        return c.Drop(Reason::kIsolated, port.slot, "l2: to an isolated MAC port's MAC");
      return c.To(Fate::kWire, 0, "l2: unicast to another MAC goes out");
    }
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
    return c.Answer(Fate::kPort, port.slot, l3.key, "l3: vnet answers the port");
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
    // cannot be read fails closed (issue 10): an ARP without its whole fixed
    // header (8 bytes: hrd, pro, hln, pln, op), or with hln 6 but no whole
    // sender hardware address, is dropped.
    std::size_t o = l2.l3;
    if (l2.proto == kArp) {
      if (c.f.size() < o + 8 || (c.f[o + 4] == 6 && c.f.size() < o + 14))
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
  // The L3 header of a MAC port's frame is read for --allow-ip, and for an
  // isolated port's frame to U in a fabric with IP ports (it may be for an
  // isolated IP port's address: security.md, isolation is checked where the
  // sender is known). What is read must parse, as for IP demultiplexing.
  bool isolated_to_u = port.isolated && cfg.HasIpPorts() && l2.dst == cfg.uplink;
  if (!port.allow.empty() || isolated_to_u) {
    L3 l3 = ParseL3(c.f, l2);
    if (l3.err) {
      Outcome& o = c.Drop(*l3.err, port.slot, "");
      o.why = port.allow.empty() ? "isolated, to U: L3 header cut short or bad" : "allow-ip: L3 header cut short or bad";
      return o;
    }
    if (!port.allow.empty()) {
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
    if (isolated_to_u && l3.kind != Kind::kNone) {
      const PortConfig* owner = cfg.IpOwner(l3.key);
      if (owner && owner->isolated) return c.Drop(Reason::kIsolated, port.slot, "isolated MAC port to an isolated IP port");
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
      if (!l2mode && owner && question) return c.Answer(Fate::kHost, 0, l3.key, "l3: vnet answers the host for a port");
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
