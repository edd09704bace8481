#include "rig.h"

#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "model_parse.h"

namespace vnet::fuzz {
namespace {

void Must(const absl::Status& status) {
  if (!status.ok()) throw std::runtime_error(status.ToString());
}
template <typename T>
T Must(absl::StatusOr<T> v) {
  Must(v.status());
  return std::move(*v);
}

MacAddress ToMac(const Mac& m) {
  MacAddress out;
  std::memcpy(out.bytes.data(), m.data(), 6);
  return out;
}
IpAddress ToIp(const Addr& a) { return IpAddress::FromBytes(a.family, a.b.data()); }

std::uint8_t AbiMode(Mode m) {
  switch (m) {
    case Mode::kPrivate: return VNET_MODE_PRIVATE;
    case Mode::kVepa: return VNET_MODE_VEPA;
    case Mode::kBridge: return VNET_MODE_BRIDGE;
    case Mode::kPassthru: return VNET_MODE_PASSTHRU;
    case Mode::kSource: return VNET_MODE_SOURCE;
    case Mode::kIpvlan: return VNET_MODE_IPVLAN;
  }
  return 0;
}

std::uint8_t AbiFlags(const PortConfig& p) {
  std::uint8_t f = 0;
  if (p.spoofchk) f |= VNET_PORT_F_SPOOFCHK;
  if (p.hairpin) f |= VNET_PORT_F_HAIRPIN;
  if (p.isolated) f |= VNET_PORT_F_ISOLATED;
  if (p.xdp_target) f |= VNET_PORT_F_XDP_TARGET;
  if (p.nodst) f |= VNET_PORT_F_NODST;
  if (!p.allow.empty()) f |= VNET_PORT_F_ALLOW_IP;
  return f;
}

Reason FromAbi(int reason) {
  switch (reason) {
    case VNET_DROP_TRUNCATED_ETH: return Reason::kTruncatedEth;
    case VNET_DROP_TRUNCATED_VLAN: return Reason::kTruncatedVlan;
    case VNET_DROP_VLAN_DEPTH: return Reason::kVlanDepth;
    case VNET_DROP_UNKNOWN_DST: return Reason::kUnknownDst;
    case VNET_DROP_SPOOFED_SRC: return Reason::kSpoofedSrc;
    case VNET_DROP_ISOLATED: return Reason::kIsolated;
    case VNET_DROP_SOURCE_NODST: return Reason::kSourceNodst;
    case VNET_DROP_SPOOFED_IP: return Reason::kSpoofedIp;
    case VNET_DROP_TRUNCATED_L3: return Reason::kTruncatedL3;
    case VNET_DROP_PRIVATE: return Reason::kPrivate;
    case VNET_DROP_L3_GROUP: return Reason::kL3Group;
    case VNET_DROP_NO_ROUTE: return Reason::kNoRoute;
    case VNET_DROP_REFLECTED: return Reason::kReflected;
    case VNET_DROP_DHCP: return Reason::kDhcp;
    default: return Reason::kOther;
  }
}

const char* XdpName(int v) {
  static const char* const names[] = {"ABORTED", "DROP", "PASS", "TX", "REDIRECT"};
  return v >= 0 && v <= 4 ? names[v] : "?";
}
std::string TcName(int v) {
  if (v == TC_ACT_OK) return "OK";
  if (v == TC_ACT_SHOT) return "SHOT";
  if (v == TC_ACT_REDIRECT) return "REDIRECT";
  return absl::StrCat(v);
}

}  // namespace

void Rig::Start() {
  SetUp();
  for (int i = 1; i <= 5; ++i)
    veths_.push_back(MakePortVeth(MacAddress{{0x02, 0x00, 0x00, 0x00, 0x00, static_cast<std::uint8_t>(i)}}));
  base_ = Must(maps().ReadConfig());
  tap_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (tap_ < 0) throw std::runtime_error("socket(AF_PACKET) for the uplink's ingress copies");
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = static_cast<int>(uplink().ifindex);
  if (::bind(tap_, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0)
    throw std::runtime_error("bind AF_PACKET to the uplink");
}

void Rig::Stop() {
  if (tap_ >= 0) ::close(tap_);
  tap_ = -1;
  TearDown();
}

int Rig::IngressCopies(const Bytes& frame, bool count) {
  int n = 0;
  std::uint8_t buf[4096];
  for (;;) {
    sockaddr_ll from{};
    socklen_t len = sizeof(from);
    ssize_t got = ::recvfrom(tap_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (got < 0) break;
    // The uplink's own peer may chatter (IPv6 ND); count only this frame.
    // The receive path moves an outer VLAN tag into skb metadata first.
    if (!count || from.sll_pkttype == PACKET_OUTGOING) continue;
    auto size = static_cast<std::size_t>(got);
    bool same = size == frame.size() && std::equal(frame.begin(), frame.end(), buf);
    bool untagged = size + 4 == frame.size() && frame.size() >= 18 && std::equal(frame.begin(), frame.begin() + 12, buf) &&
                    std::equal(frame.begin() + 16, frame.end(), buf + 12);
    if (same || untagged) ++n;
  }
  return n;
}

void Rig::ForgetDhcp() {
  for (const auto& [xid, entry] : Must(maps().ListDhcp())) Must(maps().DeleteDhcp(xid));
}

void Rig::Apply(const FabricConfig& cfg) {
  FabricMaps& m = maps();
  // Everything the previous configuration wrote goes first.
  for (const auto& [mac, e] : Must(m.ListSources())) Must(m.DeleteSource(mac));
  for (const auto& [ip, e] : Must(m.ListIps())) Must(m.DeleteIp(ip));
  for (const auto& [net, e] : Must(m.ListIpNets())) Must(m.DeleteIpNet(net));
  for (const auto& [slot, p] : Must(m.ListAllow())) Must(m.DeleteAllow(slot, p));
  for (const auto& [ifindex, p] : Must(m.ListPorts())) {
    Must(m.DeletePort(ifindex));
    MacAddress mac;
    std::memcpy(mac.bytes.data(), p.mac, 6);
    if (p.mode != VNET_MODE_IPVLAN) Must(m.DeleteMac(mac));
    (void)m.DeleteTxTarget(ifindex);
  }
  ForgetDhcp();

  vnet_config c = base_;
  std::memcpy(c.uplink_mac, cfg.uplink.data(), 6);
  c.unknown_policy = cfg.unknown_drop ? VNET_UNKNOWN_DROP : VNET_UNKNOWN_PASS;
  c.ipvlan_mode = static_cast<std::uint8_t>(cfg.ipvlan_mode);
  c.ipvlan_flags = static_cast<std::uint8_t>(cfg.ipvlan_flag);
  c.flags = 0;
  if (cfg.host) c.flags |= VNET_FABRIC_F_HOST;
  if (cfg.no_xdp_redirect) c.flags |= VNET_FABRIC_F_NO_XDP_REDIRECT;
  if (!cfg.sources.empty()) c.flags |= VNET_FABRIC_F_HAS_SOURCES;
  if (cfg.HasHairpin()) c.flags |= VNET_FABRIC_F_HAS_HAIRPIN;
  if (cfg.HasIpPorts()) c.flags |= VNET_FABRIC_F_HAS_IP_PORTS;
  c.passthru_ifindex = 0;
  c.passthru_slot = 0;
  c.passthru_flags = 0;
  std::vector<vnet_flood_entry> flood;
  for (const PortConfig& p : cfg.ports) {
    std::uint32_t ifindex = veths_.at(static_cast<std::size_t>(p.slot - 1));
    std::uint8_t mode = AbiMode(p.mode), flags = AbiFlags(p);
    if (!p.nets.empty()) c.flags |= VNET_FABRIC_F_HAS_IP_NETS;
    if (p.mode == Mode::kPassthru) {
      c.passthru_ifindex = ifindex;
      c.passthru_slot = static_cast<std::uint16_t>(p.slot);
      c.passthru_flags = flags;
    }
    flood.push_back({ifindex, static_cast<std::uint16_t>(p.slot), mode, flags});
  }
  Must(m.WriteConfig(c));
  for (const PortConfig& p : cfg.ports) {
    std::uint32_t ifindex = veths_.at(static_cast<std::size_t>(p.slot - 1));
    auto slot = static_cast<std::uint16_t>(p.slot);
    std::uint8_t mode = AbiMode(p.mode), flags = AbiFlags(p);
    vnet_port port{};
    std::memcpy(port.mac, p.mac.data(), 6);
    port.slot = slot;
    port.mode = mode;
    port.flags = flags;
    Must(m.PutPort(ifindex, port));
    if (p.xdp_target) Must(m.AddTxTarget(ifindex));
    const vnet_ip_entry ip_entry{ifindex, slot, flags, 0};
    for (const Addr& a : p.ips) Must(m.PutIp(ToIp(a), ip_entry));
    for (const Prefix& n : p.nets) Must(m.PutIpNet(IpPrefix{ToIp(n.addr), n.plen}, ip_entry));
    for (const Prefix& n : p.allow) Must(m.PutAllow(slot, IpPrefix{ToIp(n.addr), n.plen}));
  }
  Must(m.WriteFloodList(flood));
  for (const SourceList& s : cfg.sources) {
    vnet_source_entry e{};
    for (int slot : s.slots) {
      const PortConfig* p = cfg.BySlot(slot);
      e.port[e.count++] = {veths_.at(static_cast<std::size_t>(slot - 1)), static_cast<std::uint16_t>(slot),
                           AbiFlags(*p), 0};
    }
    Must(m.PutSource(ToMac(s.mac), e));
  }
  // The MAC table last: it switches delivery on (libvnet's publish order).
  for (const PortConfig& p : cfg.ports) {
    if (p.mode == Mode::kIpvlan) continue;
    std::uint32_t ifindex = veths_.at(static_cast<std::size_t>(p.slot - 1));
    Must(m.PutMac(ToMac(p.mac), {ifindex, static_cast<std::uint16_t>(p.slot), AbiMode(p.mode), AbiFlags(p)}));
  }
  base_ = Must(m.ReadConfig());
}

std::vector<vnet_stats> Rig::Snapshot(std::size_t nports) const {
  std::vector<vnet_stats> out;
  for (std::size_t slot = 0; slot <= nports; ++slot) out.push_back(Stats(static_cast<std::uint16_t>(slot)));
  return out;
}

std::optional<Observed> Rig::Run(const FabricConfig& cfg, Entry entry, int from_slot, const Bytes& frame) {
  // The wire-tc entry is a fabric without XDP on its uplink.
  vnet_config c = base_;
  if (entry == Entry::kWireTc) c.flags |= VNET_FABRIC_F_NO_XDP;
  Must(maps().WriteConfig(c));

  IngressCopies(frame, false);
  std::vector<vnet_stats> before = Snapshot(cfg.ports.size());
  Observed seen;
  std::optional<bpftest::ProgRun> tc;
  int xdp_verdict = -1;
  if (entry == Entry::kWireXdp) {
    bpftest::ProgRun x = RunXdp(frame);
    if (x.err) return std::nullopt;
    xdp_verdict = x.verdict;
    seen.verdicts = absl::StrCat("xdp ", XdpName(x.verdict));
    if (x.verdict == XDP_PASS) tc = RunTc(programs().uplink_tc_fd(), frame, uplink().ifindex);
  } else if (entry == Entry::kWireTc) {
    tc = RunTc(programs().uplink_tc_fd(), frame, uplink().ifindex);
  } else if (entry == Entry::kPort) {
    std::uint32_t ifindex = veths_.at(static_cast<std::size_t>(from_slot - 1));
    tc = RunTc(programs().port_tc_fd(), frame, ifindex);
  } else {
    tc = RunTc(programs().uplink_egress_fd(), frame, uplink().ifindex, 0);
  }
  if (tc && tc->err) return std::nullopt;
  if (tc) seen.out = tc->out;
  if (tc) absl::StrAppend(&seen.verdicts, seen.verdicts.empty() ? "" : ", ", "tc ", TcName(tc->verdict), " mark ",
                          absl::Hex(tc->mark));
  std::vector<vnet_stats> after = Snapshot(cfg.ports.size());
  seen.outcome.ingress_copies = IngressCopies(frame, true);
  // The receive path frees a tagged frame too short for skb_vlan_untag
  // (tag and 2 more bytes) before any tap sees it: no count then.
  bool tagged = frame.size() >= 14 && ((frame[12] == 0x81 && frame[13] == 0x00) || (frame[12] == 0x88 && frame[13] == 0xa8));
  if (tagged && frame.size() < 20) seen.outcome.ingress_copies = -1;
  if (entry == Entry::kPort && frame.size() > 40) ForgetDhcp();  // a DHCP request's xid: not modelled across frames

  Outcome& o = seen.outcome;
  std::vector<std::pair<int, int>> drops;  // slot, abi reason
  std::map<int, int> tx_rest;
  for (std::size_t slot = 0; slot < after.size(); ++slot) {
    const vnet_stats &a = after[slot], &b = before[slot];
    int flood = static_cast<int>(a.flood_packets - b.flood_packets);
    int tx = static_cast<int>(a.tx_packets - b.tx_packets) - flood;
    if (flood) o.floods[static_cast<int>(slot)] = flood;
    if (tx) tx_rest[static_cast<int>(slot)] = tx;
    for (int r = 0; r < VNET_DROP__MAX; ++r)
      for (std::uint64_t n = b.drops[r]; n < a.drops[r]; ++n) drops.push_back({static_cast<int>(slot), r});
  }

  // Source-mode copies also count tx: the configuration says which slots
  // list the frame's source MAC, so a redirect target is a slot with more.
  std::map<int, int> listed;
  if ((entry == Entry::kWireXdp || entry == Entry::kWireTc) && frame.size() >= 12)
    for (const SourceList& s : cfg.sources)
      if (std::equal(s.mac.begin(), s.mac.end(), frame.begin() + 6))
        for (int slot : s.slots) listed[slot]++;
  auto take_target = [&](bool allow_uplink) -> bool {
    for (auto& [slot, n] : tx_rest)
      if (slot != 0 && n > listed[slot]) {
        o.fate = Fate::kPort;
        o.slot = slot;
        if (--n == 0) tx_rest.erase(slot);
        return true;
      }
    if (allow_uplink && tx_rest.count(0)) {
      o.fate = Fate::kWire;
      if (--tx_rest[0] == 0) tx_rest.erase(0);
      return true;
    }
    return false;
  };

  bool dropped = false;
  if (xdp_verdict >= 0 && xdp_verdict != XDP_PASS) {
    if (xdp_verdict == XDP_REDIRECT) {
      if (!take_target(false)) o.fate = Fate::kReflect;
    } else if (xdp_verdict == XDP_TX) {
      o.fate = Fate::kWire;
    } else {
      dropped = true;
    }
  } else if (tc) {
    int v = tc->verdict;
    if (v == TC_ACT_SHOT) {
      dropped = true;
    } else if (v == TC_ACT_OK) {
      o.fate = entry == Entry::kHost ? Fate::kWire : Fate::kHost;
    } else if (v == TC_ACT_REDIRECT) {
      if (!take_target(true)) o.fate = tc->mark == VNET_SKB_MARK_TO_HOST ? Fate::kHost : Fate::kReflect;
    } else {
      o.fate = Fate::kDrop;
      o.reason = Reason::kOther;
      seen.extra.push_back(absl::StrCat("unexpected tc verdict ", v));
    }
  }
  if (dropped) {
    o.fate = Fate::kDrop;
    if (drops.empty()) {
      o.reason = Reason::kUncounted;
    } else {
      o.slot = drops.front().first;
      o.reason = FromAbi(drops.front().second);
      drops.erase(drops.begin());
    }
  }
  for (auto [slot, r] : drops) seen.extra.push_back(absl::StrCat("drop counter ", r, " on slot ", slot));
  o.source_copies = tx_rest;
  o.why.clear();
  return seen;
}

std::string AnswerProblem(const Outcome& model, const Observed& seen) {
  if (!model.answer_ip) return "";
  const Bytes& f = seen.out;
  parse::L2 l2 = parse::ParseL2(f);
  if (l2.err) return "answer: no Ethernet header";
  if (parse::MacAt(f, 6) != model.answer_mac) return "answer: Ethernet source not the uplink's MAC";
  std::size_t o = l2.l3;
  const Addr& ip = *model.answer_ip;
  if (ip.family == 4) {
    if (l2.proto != parse::kArp || f.size() < o + 28) return "answer: not an ARP packet";
    if (parse::Get16(f, o + 6) != 2) return "answer: not an ARP reply";
    if (parse::MacAt(f, o + 8) != model.answer_mac) return "answer: ARP sender MAC not the uplink's";
    if (!(parse::AddrAt(f, o + 14, 4) == ip)) return "answer: ARP sender IP not the address asked for";
    return "";
  }
  if (l2.proto != parse::kIpv6 || f.size() < o + 40 + 32) return "answer: not an IPv6 packet with an NA and its option";
  if (f[o + 6] != 58 || f[o + 40] != 136) return "answer: not a Neighbour Advertisement right after the IPv6 header";
  if (!(parse::AddrAt(f, o + 8, 6) == ip)) return "answer: IPv6 source not the address asked for";
  if (!(parse::AddrAt(f, o + 48, 6) == ip)) return "answer: NA target not the address asked for";
  if (f[o + 64] != 2 || f[o + 65] != 1 || parse::MacAt(f, o + 66) != model.answer_mac)
    return "answer: target link-layer address option not the uplink's MAC";
  return "";
}

bool Agrees(const Outcome& model, const Observed& seen) {
  const Outcome& o = seen.outcome;
  if (!seen.extra.empty()) return false;
  if (model.fate == o.fate && !AnswerProblem(model, seen).empty()) return false;
  if (model.fate == Fate::kRouted) {
    if (o.fate != Fate::kWire && o.fate != Fate::kHost) return false;
  } else if (model.fate != o.fate) {
    return false;
  }
  if (model.fate == Fate::kDrop && (model.reason != o.reason || model.slot != o.slot)) return false;
  if (model.fate == Fate::kPort && model.slot != o.slot) return false;
  if (o.ingress_copies >= 0 &&
      o.ingress_copies != static_cast<int>(model.host_copy) + static_cast<int>(model.reflect_copy))
    return false;
  return model.floods == o.floods && model.source_copies == o.source_copies;
}

}  // namespace vnet::fuzz
