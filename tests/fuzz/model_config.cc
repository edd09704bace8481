// The model's value types: addresses, prefixes, names, a configuration's
// lookups and how outcomes and configurations print.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "model.h"

namespace vnet::fuzz {

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
  if (answer_ip) os << ", answering for " << vnet::fuzz::ToString(*answer_ip) << " with " << vnet::fuzz::ToString(answer_mac);
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

}  // namespace vnet::fuzz
