#include "gen.h"

#include <cstdio>
#include <sstream>

namespace vnet::fuzz {
namespace {

const Mac kExternal{0x02, 0xee, 0x00, 0x00, 0x00, 0x01};
const Mac kNobody{0x02, 0xee, 0x00, 0x00, 0x00, 0x99};
const Mac kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const Mac kMcast4{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
const Mac kMcast6{0x33, 0x33, 0x00, 0x00, 0x00, 0x01};

Mac PortMac(int slot) { return {0x02, 0x00, 0x00, 0x00, 0x00, static_cast<std::uint8_t>(slot)}; }

// Bytes and a scapy expression built side by side.
struct Builder {
  Bytes b;
  std::string scapy;
  void Layer(const std::string& s) { scapy += (scapy.empty() ? "" : "/") + s; }
  void U8(unsigned v) { b.push_back(static_cast<std::uint8_t>(v)); }
  void U16(unsigned v) { U8(v >> 8), U8(v); }
  void U32(std::uint32_t v) { U16(v >> 16), U16(v & 0xffff); }
  void PutMac(const Mac& m) { b.insert(b.end(), m.begin(), m.end()); }
  void PutAddr(const Addr& a) { b.insert(b.end(), a.b.begin(), a.b.begin() + (a.family == 4 ? 4 : 16)); }
  void Fill(std::size_t n, unsigned seed) {
    for (std::size_t i = 0; i < n; ++i) U8(seed + i);
  }
};

std::string Q(const std::string& s) { return "'" + s + "'"; }
std::string Hx(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

Addr Net4(std::uint8_t c, std::uint8_t d) { return V4(198, 18, c, d); }
Addr Net6(std::uint16_t w3, std::uint16_t last) { return V6({0x2001, 0xdb8, w3, 0, 0, 0, 0, last}); }
Addr SolicitedNode(const Addr& t) {
  Addr g = V6({0xff02, 0, 0, 0, 0, 1, 0xff00, 0});
  g.b[13] = t.b[13], g.b[14] = t.b[14], g.b[15] = t.b[15];
  return g;
}

}  // namespace

std::string Hex(const Bytes& b) {
  std::string s;
  char buf[4];
  for (std::uint8_t x : b) {
    std::snprintf(buf, sizeof buf, "%02x", x);
    s += buf;
  }
  return s;
}

FabricConfig Gen::Config() {
  FabricConfig cfg;
  cfg.uplink = kUplinkMac;
  cfg.host = Chance(0.4);
  cfg.unknown_drop = Chance(0.3);
  cfg.no_xdp_redirect = Chance(0.25);
  cfg.ipvlan_mode = static_cast<IpvlanMode>(Int(0, 2));
  cfg.ipvlan_flag = static_cast<IpvlanFlag>(Int(0, 2));
  int kind = Int(0, 9);  // 0-3 MAC only, 4-6 IP only, 7-8 mixed, 9 passthru alone
  int n = kind == 9 ? 1 : Int(1, kMaxPorts);
  for (int slot = 1; slot <= n; ++slot) {
    PortConfig p;
    p.slot = slot;
    bool ip = kind >= 4 && kind <= 6 ? true : kind >= 7 && kind <= 8 ? Chance(0.5) : false;
    p.spoofchk = Chance(0.85);
    p.isolated = Chance(0.3);
    p.xdp_target = Chance(0.7);
    if (ip) {
      p.mode = Mode::kIpvlan;
      p.mac = kUplinkMac;
      p.ips.push_back(Net4(0, static_cast<std::uint8_t>(10 + slot)));
      p.ips.push_back(Net6(0, static_cast<std::uint16_t>(0x10 + slot)));
      Addr ll = V6({0xfe80, 0, 0, 0, 0xd, 0x3200, static_cast<std::uint16_t>(slot << 8 | 0x3d), 0xab6c});
      if (Chance(0.7)) p.ips.push_back(ll);
      if (Chance(0.4)) p.nets.push_back({Net4(static_cast<std::uint8_t>(100 + slot), 0), 24});
      if (Chance(0.3)) p.nets.push_back({Net6(static_cast<std::uint16_t>(0x100 + slot), 0), 64});
    } else {
      p.mac = PortMac(slot);
      p.mode = kind == 9 ? Mode::kPassthru
                         : static_cast<Mode>(std::vector<int>{0, 1, 2, 4}[static_cast<std::size_t>(Int(0, 3))]);
      p.hairpin = Chance(0.25) && p.mode != Mode::kSource;
      p.nodst = p.mode == Mode::kSource && Chance(0.4);
      if (Chance(0.35)) {
        p.allow.push_back({Net4(1, static_cast<std::uint8_t>(slot)), 32});
        if (Chance(0.5)) p.allow.push_back({Net4(static_cast<std::uint8_t>(64 + slot), 0), 24});
        if (Chance(0.6)) p.allow.push_back({Net6(1, static_cast<std::uint16_t>(slot)), 128});
        if (Chance(0.3)) p.allow.push_back({Net6(static_cast<std::uint16_t>(0x64 + slot), 0), 64});
      }
    }
    cfg.ports.push_back(p);
  }
  std::vector<int> source_slots;
  for (const PortConfig& p : cfg.ports)
    if (p.mode == Mode::kSource) source_slots.push_back(p.slot);
  if (!source_slots.empty() && Chance(0.7)) {
    SourceList s{kExternal, {}};
    for (int slot : source_slots)
      if (Chance(0.7)) s.slots.push_back(slot);
    if (!s.slots.empty()) cfg.sources.push_back(s);
    if (Chance(0.4)) cfg.sources.push_back({PortMac(1), {source_slots[0]}});
  }
  return cfg;
}

Entry Gen::PickEntry() {
  int r = Int(0, 9);
  return r < 2 ? Entry::kWireXdp : r < 4 ? Entry::kWireTc : r < 8 ? Entry::kPort : Entry::kHost;
}

int Gen::PickPort(const FabricConfig& cfg) { return Int(1, static_cast<int>(cfg.ports.size())); }

Mac Gen::PickMac(const FabricConfig& cfg, bool for_dst) {
  int r = Int(0, 9);
  if (r < 3 && !cfg.ports.empty()) return PortMac(PickPort(cfg));
  if (r < 5) return cfg.uplink;
  if (r < 6) return kExternal;
  if (r < 7) return kNobody;
  if (!for_dst) return kExternal;
  return r < 8 ? kBroadcast : r < 9 ? kMcast4 : kMcast6;
}

Addr Gen::PickAddr(const FabricConfig& cfg, int family, const PortConfig* own) {
  std::vector<Addr> pool;
  auto add_port = [&](const PortConfig& p) {
    for (const Addr& a : p.ips) pool.push_back(a);
    for (const Prefix& n : p.nets) {
      Addr a = n.addr;
      a.b[a.family == 4 ? 3 : 15] = 7;
      pool.push_back(a);
    }
    for (const Prefix& n : p.allow) {
      Addr a = n.addr;
      if (n.plen < (a.family == 4 ? 32 : 128)) a.b[a.family == 4 ? 3 : 15] = 5;
      pool.push_back(a);
    }
    if (p.mode != Mode::kIpvlan) pool.push_back(Eui64LinkLocal(p.mac));
  };
  if (own && Chance(0.6)) {
    add_port(*own);
  } else {
    for (const PortConfig& p : cfg.ports) add_port(p);
    pool.push_back(Net4(200, 1));
    pool.push_back(Net6(0xff, 1));
    pool.push_back(V4(0, 0, 0, 0));
    pool.push_back(V6({0, 0, 0, 0, 0, 0, 0, 0}));
    pool.push_back(V4(255, 255, 255, 255));
    pool.push_back(V6({0xfe80, 0, 0, 0, 0, 0, 0, 0x99}));
    pool.push_back(Eui64LinkLocal(cfg.uplink));
  }
  std::vector<Addr> fam;
  for (const Addr& a : pool)
    if (a.family == family) fam.push_back(a);
  if (fam.empty()) return family == 4 ? Net4(200, 1) : Net6(0xff, 1);
  return Pick(fam);
}

Frame Gen::Make(const FabricConfig& cfg, Entry entry, int from_slot) {
  const PortConfig* own = entry == Entry::kPort ? cfg.BySlot(from_slot) : nullptr;
  Builder f;
  Mac src = own ? (Chance(0.9) ? own->mac : PickMac(cfg, false)) : entry == Entry::kHost && Chance(0.8)
                                                                        ? cfg.uplink
                                                                        : PickMac(cfg, false);
  Mac dst = PickMac(cfg, true);

  int payload = Int(0, 9);  // 0 raw, 1-2 ARP, 3-5 IPv4 (incl. DHCP), 6-9 IPv6 (incl. ND)
  // IPv6 ND and DHCP want particular destinations most of the time.
  Addr nd_target = PickAddr(cfg, 6, nullptr);
  int icmp6 = Int(0, 6);  // 0 echo, 1 NS, 2 NA, 3 MLDv1 report, 4 MLDv2 report, 5 RS, 6 UDP instead
  if (payload >= 6 && icmp6 == 1 && Chance(0.5)) {
    Addr g = SolicitedNode(nd_target);
    dst = {0x33, 0x33, g.b[12], g.b[13], g.b[14], g.b[15]};
  }
  f.PutMac(dst);
  f.PutMac(src);
  int tags = Chance(0.8) ? 0 : Int(1, 3);
  std::uint16_t proto = payload == 0   ? std::vector<std::uint16_t>{0x88cc, 0x8035, 0x88b5, 0x0842, 0x0040,
                                                                     0x0800, 0x86dd, 0x0806}[static_cast<std::size_t>(Int(0, 7))]
                        : payload <= 2 ? 0x0806
                        : payload <= 5 ? 0x0800
                                       : 0x86dd;
  bool raw_l3 = payload == 0;
  if (tags == 0) {
    f.U16(proto);
    f.Layer("Ether(dst=" + Q(ToString(dst)) + ", src=" + Q(ToString(src)) + ", type=" + Hx(proto) + ")");
  } else {
    std::uint16_t outer = Chance(0.5) ? 0x8100 : 0x88a8;
    f.U16(outer);
    f.Layer("Ether(dst=" + Q(ToString(dst)) + ", src=" + Q(ToString(src)) + ", type=" + Hx(outer) + ")");
    for (int t = 1; t <= tags; ++t) {
      std::uint16_t next = t == tags ? proto : (Chance(0.5) ? 0x8100 : 0x88a8);
      f.U16(static_cast<unsigned>(t));
      f.U16(next);
      f.Layer("Dot1Q(vlan=" + std::to_string(t) + ", type=" + Hx(next) + ")");
    }
  }

  if (raw_l3) {
    std::size_t n = static_cast<std::size_t>(Int(0, 60));
    f.Fill(n, static_cast<unsigned>(Int(0, 255)));
    f.Layer("Raw(load=bytes(range(" + std::to_string(n) + ")))  # pattern bytes");
  } else if (proto == 0x0806) {
    unsigned htype = Chance(0.75) ? 1 : std::vector<unsigned>{6, 0x20, 0, 1}[static_cast<std::size_t>(Int(0, 3))];
    unsigned ptype = Chance(0.85) ? 0x0800 : 0x86dd;
    unsigned hlen = Chance(0.85) ? 6 : std::vector<unsigned>{0, 8, 20}[static_cast<std::size_t>(Int(0, 2))];
    unsigned plen = Chance(0.9) ? 4 : 16;
    unsigned op = Chance(0.9) ? static_cast<unsigned>(Int(1, 2)) : static_cast<unsigned>(Int(3, 10));
    Mac sha = own ? (Chance(0.75) ? own->mac : PickMac(cfg, false)) : src;
    Addr sip = Chance(0.15) ? V4(0, 0, 0, 0) : PickAddr(cfg, 4, own);
    Addr tip = PickAddr(cfg, 4, nullptr);
    Mac tha = Chance(0.5) ? Mac{} : PickMac(cfg, true);
    f.U16(htype), f.U16(ptype), f.U8(hlen), f.U8(plen), f.U16(op);
    auto put_hw = [&](const Mac& m) {
      for (unsigned i = 0; i < hlen; ++i) f.U8(i < 6 ? m[i] : 0x5a);
    };
    auto put_p = [&](const Addr& a) {
      for (unsigned i = 0; i < plen; ++i) f.U8(i < 4 ? a.b[i] : 0);
    };
    put_hw(sha), put_p(sip), put_hw(tha), put_p(tip);
    f.Layer("ARP(hwtype=" + std::to_string(htype) + ", ptype=" + Hx(ptype) + ", hwlen=" + std::to_string(hlen) +
            ", plen=" + std::to_string(plen) + ", op=" + std::to_string(op) + ", hwsrc=" + Q(ToString(sha)) +
            ", psrc=" + Q(ToString(sip)) + ", hwdst=" + Q(ToString(tha)) + ", pdst=" + Q(ToString(tip)) + ")");
    if (Chance(0.5)) f.Fill(18, 0), f.Layer("Padding(load=bytes(18))");
  } else if (proto == 0x0800) {
    bool dhcp = payload == 5 || (payload == 4 && Chance(0.5));
    Addr sip = Chance(dhcp ? 0.5 : 0.1) ? V4(0, 0, 0, 0) : PickAddr(cfg, 4, own);
    Addr dip = dhcp && Chance(0.6) ? V4(255, 255, 255, 255) : PickAddr(cfg, 4, nullptr);
    unsigned version = Chance(0.95) ? 4 : 6;
    unsigned ihl = Chance(0.8) ? 5 : static_cast<unsigned>(Int(0, 15));
    unsigned frag = Chance(0.85) ? 0x4000 : std::vector<unsigned>{0x2000, 0x0010, 0x2010}[static_cast<std::size_t>(Int(0, 2))];
    unsigned l4proto = dhcp ? 17 : std::vector<unsigned>{17, 6, 1}[static_cast<std::size_t>(Int(0, 2))];
    Builder l4;
    std::string l4s;
    if (l4proto == 17) {
      bool reply = dhcp && Chance(0.4);
      unsigned sport = dhcp ? (reply ? 67 : 68) : 40000, dport = dhcp ? (reply ? 68 : 67) : 9;
      if (dhcp) {
        unsigned type = reply ? std::vector<unsigned>{2, 5, 6}[static_cast<std::size_t>(Int(0, 2))]
                              : std::vector<unsigned>{1, 3, 4, 7, 8}[static_cast<std::size_t>(Int(0, 4))];
        std::uint32_t xid = static_cast<std::uint32_t>(Int(1, 1 << 30));
        Builder bootp;
        bootp.U8(reply ? 2 : 1), bootp.U8(1), bootp.U8(6), bootp.U8(0), bootp.U32(xid), bootp.U16(0),
            bootp.U16(0x8000);
        bootp.b.resize(16, 0);
        Addr yi = PickAddr(cfg, 4, nullptr);
        bootp.PutAddr(yi);
        bootp.b.resize(28, 0);
        bootp.PutMac(src);
        bootp.b.resize(236, 0);
        bootp.U32(0x63825363);
        bool pad = Chance(0.3);
        if (pad) bootp.U8(0);
        bootp.U8(53), bootp.U8(1), bootp.U8(type), bootp.U8(255);
        l4.U16(sport), l4.U16(dport), l4.U16(static_cast<unsigned>(8 + bootp.b.size())), l4.U16(0);
        l4.b.insert(l4.b.end(), bootp.b.begin(), bootp.b.end());
        l4s = "UDP(sport=" + std::to_string(sport) + ", dport=" + std::to_string(dport) + ")/BOOTP(op=" +
              std::to_string(reply ? 2 : 1) + ", xid=" + std::to_string(xid) + ", yiaddr=" + Q(ToString(yi)) +
              ", chaddr=mac2str(" + Q(ToString(src)) + "), flags=0x8000)/DHCP(options=[" + (pad ? "'pad', " : "") +
              "('message-type', " + std::to_string(type) + "), 'end'])";
      } else {
        l4.U16(sport), l4.U16(dport), l4.U16(26), l4.U16(0), l4.Fill(18, 0xa0);
        l4s = "UDP(sport=" + std::to_string(sport) + ", dport=" + std::to_string(dport) + ")/Raw(bytes(range(0xa0, 0xb2)))";
      }
    } else if (l4proto == 6) {
      l4.U16(40000), l4.U16(80), l4.U32(1), l4.U32(0), l4.U16(0x5002), l4.U16(512), l4.U32(0);
      l4s = "TCP(sport=40000, dport=80, flags='S')";
    } else {
      l4.U8(8), l4.U8(0), l4.U16(0), l4.U32(0x00010001), l4.Fill(16, 0);
      l4s = "ICMP()/Raw(bytes(16))";
    }
    unsigned opt_bytes = ihl > 5 ? (ihl - 5) * 4 : 0;
    std::size_t at = f.b.size();
    f.U8(version << 4 | ihl), f.U8(0), f.U16(static_cast<unsigned>(20 + opt_bytes + l4.b.size()));
    f.U16(0x1234), f.U16(frag), f.U8(64), f.U8(l4proto), f.U16(0);
    f.PutAddr(sip), f.PutAddr(dip);
    for (unsigned i = 0; i < opt_bytes; ++i) f.U8(i + 1 == opt_bytes ? 0 : 1);  // NOPs, then EOL
    (void)at;
    f.b.insert(f.b.end(), l4.b.begin(), l4.b.end());
    f.Layer("IP(version=" + std::to_string(version) + ", ihl=" + std::to_string(ihl) + ", flags=" + Hx(frag >> 13) +
            ", frag=" + std::to_string(frag & 0x1fff) + ", proto=" + std::to_string(l4proto) + ", src=" +
            Q(ToString(sip)) + ", dst=" + Q(ToString(dip)) +
            (opt_bytes ? ", options=[IPOption_NOP()]*" + std::to_string(opt_bytes - 1) + "+[IPOption_EOL()]" : "") +
            ")");
    f.Layer(l4s);
  } else {
    Addr sip = Chance(0.15) ? V6({0, 0, 0, 0, 0, 0, 0, 0}) : PickAddr(cfg, 6, own);
    Addr dip = PickAddr(cfg, 6, nullptr);
    if (icmp6 == 1 && Chance(0.6)) dip = SolicitedNode(nd_target);
    if ((icmp6 == 3 || icmp6 == 4) && Chance(0.7)) dip = V6({0xff02, 0, 0, 0, 0, 0, 0, 0x16});
    // Extension chain: hop-by-hop (MLD always has one), routing, destination options, fragment.
    std::vector<unsigned> chain;
    if (icmp6 == 3 || icmp6 == 4 ? Chance(0.8) : Chance(0.25)) chain.push_back(0);
    int more = Chance(0.8) ? 0 : Int(1, 10);
    for (int i = 0; i < more; ++i) chain.push_back(std::vector<unsigned>{60, 43, 44, 0}[static_cast<std::size_t>(Int(0, 3))]);
    Builder up;
    std::string ups;
    unsigned upper = 58;
    if (icmp6 == 6) {
      upper = 17;
      up.U16(40000), up.U16(9), up.U16(26), up.U16(0), up.Fill(18, 0xa0);
      ups = "UDP(sport=40000, dport=9)/Raw(bytes(range(0xa0, 0xb2)))";
    } else if (icmp6 == 0) {
      up.U8(128), up.U8(0), up.U16(0), up.U32(0x00010001), up.Fill(8, 0);
      ups = "ICMPv6EchoRequest(id=1, seq=1, data=bytes(8))";
    } else if (icmp6 == 1 || icmp6 == 2) {
      bool na = icmp6 == 2;
      up.U8(na ? 136 : 135), up.U8(0), up.U16(0), up.U32(na ? 0x60000000u : 0u), up.PutAddr(nd_target);
      ups = std::string(na ? "ICMPv6ND_NA(R=0, S=1, O=1, tgt=" : "ICMPv6ND_NS(tgt=") + Q(ToString(nd_target)) + ")";
      if (Chance(0.6)) {
        Mac ll = own ? own->mac : src;
        up.U8(na ? 2 : 1), up.U8(1), up.PutMac(ll);
        ups += std::string(na ? "/ICMPv6NDOptDstLLAddr(lladdr=" : "/ICMPv6NDOptSrcLLAddr(lladdr=") + Q(ToString(ll)) + ")";
      }
    } else if (icmp6 == 3) {
      Addr grp = V6({0xff02, 0, 0, 0, 0, 0, 0, 0xfb});
      up.U8(131), up.U8(0), up.U16(0), up.U16(0), up.U16(0), up.PutAddr(grp);
      ups = "ICMPv6MLReport(mladdr='ff02::fb')";
    } else if (icmp6 == 4) {
      up.U8(143), up.U8(0), up.U16(0), up.U16(0), up.U16(1);
      up.U8(4), up.U8(0), up.U16(0), up.PutAddr(V6({0xff02, 0, 0, 0, 0, 0, 0, 0xfb}));
      ups = "ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=4, dst='ff02::fb')])";
    } else {
      up.U8(133), up.U8(0), up.U16(0), up.U32(0);
      ups = "ICMPv6ND_RS()";
    }
    Builder ext;
    std::vector<std::string> exts;
    for (std::size_t i = 0; i < chain.size(); ++i) {
      unsigned next = i + 1 < chain.size() ? chain[i + 1] : upper;
      if (chain[i] == 44) {
        ext.U8(next), ext.U8(0), ext.U16(0), ext.U32(0x1234);
        exts.push_back("IPv6ExtHdrFragment(nh=" + std::to_string(next) + ", offset=0, m=0, id=0x1234)");
      } else {
        ext.U8(next), ext.U8(0), ext.U16(chain[i] == 0 ? 0x0502 : 0x0104), ext.U32(0);  // router alert / pad
        if (chain[i] == 43) ext.b[ext.b.size() - 6] = 0, ext.b[ext.b.size() - 5] = 0;  // type 0, segments left 0
        exts.push_back(std::string(chain[i] == 0 ? "IPv6ExtHdrHopByHop" : chain[i] == 43 ? "IPv6ExtHdrRouting"
                                                                                          : "IPv6ExtHdrDestOpt") +
                       "(nh=" + std::to_string(next) + ")  # 8 bytes");
      }
    }
    unsigned version = Chance(0.97) ? 6 : 4;
    unsigned first = chain.empty() ? upper : chain[0];
    f.U32(version << 28), f.U16(static_cast<unsigned>(ext.b.size() + up.b.size())), f.U8(first), f.U8(255);
    f.PutAddr(sip), f.PutAddr(dip);
    f.b.insert(f.b.end(), ext.b.begin(), ext.b.end());
    f.b.insert(f.b.end(), up.b.begin(), up.b.end());
    f.Layer("IPv6(version=" + std::to_string(version) + ", nh=" + std::to_string(first) + ", hlim=255, src=" +
            Q(ToString(sip)) + ", dst=" + Q(ToString(dip)) + ")");
    for (const std::string& e : exts) f.Layer(e);
    f.Layer(ups);
  }
  Frame out{f.b, f.scapy, "", false};
  if (Chance(0.3))
    Mutate(out);
  else
    out.sweep = Chance(0.03);
  return out;
}

void Gen::Mutate(Frame& f) {
  std::ostringstream m;
  int kind = Int(0, 2);
  if (kind == 0 || f.bytes.size() < 16) {
    // Truncation at any offset (the harness skips what BPF_PROG_RUN refuses).
    std::size_t n = static_cast<std::size_t>(Int(0, static_cast<int>(f.bytes.size())));
    f.bytes.resize(n);
    m << "truncated to " << n << " bytes";
  } else {
    int flips = Int(1, 3);
    m << "bytes changed:";
    for (int i = 0; i < flips; ++i) {
      std::size_t at = static_cast<std::size_t>(Int(12, std::min<int>(static_cast<int>(f.bytes.size()) - 1, 90)));
      f.bytes[at] = kind == 1 ? static_cast<std::uint8_t>(Int(0, 255)) : static_cast<std::uint8_t>(f.bytes[at] ^ (1u << Int(0, 7)));
      m << " [" << at << "]=" << Hx(f.bytes[at]);
    }
  }
  f.mutation = m.str();
}

}  // namespace vnet::fuzz
