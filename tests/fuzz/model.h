// Reference model of vnet's forwarding and anti-spoofing rules, written from
// ../shared/spec/forwarding.md, docs/semantics.md and issue 10 (the rules as
// they must be once its holes are closed). Plain C++: it shares no code, no
// header and no constant with bpf/ or include/vnet/abi.h, so a mistake in the
// datapath cannot be copied into the oracle that judges it.
#ifndef VNET_TESTS_FUZZ_MODEL_H
#define VNET_TESTS_FUZZ_MODEL_H

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vnet::fuzz {

using Bytes = std::vector<std::uint8_t>;
using Mac = std::array<std::uint8_t, 6>;

struct Addr {
  int family = 4;  // 4 or 6
  std::array<std::uint8_t, 16> b{};
  bool operator==(const Addr&) const = default;
  bool Unspecified() const;
};
struct Prefix {
  Addr addr;
  int plen = 32;
  bool Contains(const Addr& a) const;
};
Addr V4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
Addr V6(std::initializer_list<std::uint16_t> words);  // 8 words
std::string ToString(const Addr& a);
std::string ToString(const Mac& m);
// The EUI-64 link-local address (fe80::/64) of a MAC.
Addr Eui64LinkLocal(const Mac& m);

enum class Mode { kPrivate, kVepa, kBridge, kPassthru, kSource, kIpvlan };
enum class IpvlanMode { kL2, kL3, kL3s };
enum class IpvlanFlag { kBridge, kPrivate, kVepa };
const char* Name(Mode m);
const char* Name(IpvlanMode m);
const char* Name(IpvlanFlag f);

struct PortConfig {
  int slot = 0;
  Mode mode = Mode::kVepa;
  Mac mac{};  // ipvlan ports: the uplink's MAC
  bool spoofchk = true, hairpin = false, isolated = false, nodst = false, xdp_target = true;
  std::vector<Addr> ips;      // ipvlan: exact addresses
  std::vector<Prefix> nets;   // ipvlan: routed prefixes
  std::vector<Prefix> allow;  // MAC ports: --allow-ip (empty: no list)
};

struct SourceList {
  Mac mac{};
  std::vector<int> slots;  // source-mode ports listing it
};

struct FabricConfig {
  Mac uplink{};
  bool host = false, unknown_drop = false, no_xdp_redirect = false;
  IpvlanMode ipvlan_mode = IpvlanMode::kL3;
  IpvlanFlag ipvlan_flag = IpvlanFlag::kBridge;
  std::vector<PortConfig> ports;  // ports[i].slot == i + 1
  std::vector<SourceList> sources;

  const PortConfig* BySlot(int slot) const;
  const PortConfig* ByMac(const Mac& mac) const;  // MAC-demux ports only
  const PortConfig* Passthru() const;
  bool HasIpPorts() const;
  bool HasHairpin() const;
  // The IP-demux port owning `a`: exact address first, then longest prefix.
  const PortConfig* IpOwner(const Addr& a) const;
  std::string Describe() const;
};

// Where a frame enters the fabric.
enum class Entry {
  kWireXdp,  // the uplink's XDP program, then (if it passes) its tc ingress
  kWireTc,   // the uplink's tc ingress alone (no XDP on the uplink)
  kPort,     // a port's tc ingress (what the container sent)
  kHost,     // the uplink's tc egress (what the host stack sent)
};
const char* Name(Entry e);

enum class Reason {
  kTruncatedEth, kTruncatedVlan, kVlanDepth, kUnknownDst, kSpoofedSrc, kIsolated, kSourceNodst,
  kSpoofedIp, kTruncatedL3, kPrivate, kL3Group, kNoRoute, kReflected, kDhcp,
  kUncounted,  // observed only: a drop no counter saw
  kOther,      // observed only: a reason the model never gives
};
const char* Name(Reason r);

// The fate of the frame itself (clones aside).
enum class Fate {
  kDrop,     // dropped, counted with `reason` on `slot`
  kHost,     // to the host stack (passed up, or handed in marked)
  kPort,     // to port `slot`
  kWire,     // out of the uplink
  kReflect,  // back into the uplink's ingress as a reflection (hairpin)
  kRouted,   // ipvlan l3: by the host's FIB, out of the uplink or to the host stack
};
const char* Name(Fate f);

struct Outcome {
  Fate fate = Fate::kHost;
  Reason reason = Reason::kOther;
  int slot = 0;                       // kDrop: slot counted; kPort: the port
  std::map<int, int> floods;          // flood clones per slot
  std::map<int, int> source_copies;   // source-mode copies per slot
  // Clones into the uplink's ingress: for the host stack (`host on`), and
  // vnet's own reflection of a hairpin port's group frame.
  bool host_copy = false, reflect_copy = false;
  int ingress_copies = -1;            // observed only: clones seen entering the uplink
  // vnet answers an ARP request or NS itself (l3/l3s): the reply it sends
  // must claim `answer_ip` for `answer_mac` (the uplink's), nothing else.
  std::optional<Addr> answer_ip;
  Mac answer_mac{};
  std::string why;                    // the rule that decided
  std::string ToString() const;
};

Outcome Predict(const FabricConfig& cfg, Entry entry, int from_slot, const Bytes& frame);

}  // namespace vnet::fuzz

#endif
