// The domain vocabulary of libvnet: modes, the options of each operation and
// the descriptions `show` and `stats` print.
#ifndef VNET_FABRIC_TYPES_H
#define VNET_FABRIC_TYPES_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/statusor.h"
#include "loader/tc_hook.h"
#include "loader/links.h"
#include "base/ip_address.h"
#include "base/mac_address.h"
#include "maps/drop_reasons.h"
#include "maps/port_bits.h"
#include "vnet/abi.h"

namespace vnet {

enum class PortMode : std::uint8_t {
  kPrivate = VNET_MODE_PRIVATE,
  kVepa = VNET_MODE_VEPA,
  kBridge = VNET_MODE_BRIDGE,
  kPassthru = VNET_MODE_PASSTHRU,
  kSource = VNET_MODE_SOURCE,
};

// How a port demultiplexes: by MAC (macvlan family) or by IP (ipvlan family,
// VNET_MODE_IPVLAN). A fabric's type is the kind its ports get by default.
enum class PortKind : std::uint8_t { kMacvlan, kIpvlan };
enum class IpvlanMode : std::uint8_t {
  kL2 = VNET_IPVLAN_L2,
  kL3 = VNET_IPVLAN_L3,
  kL3s = VNET_IPVLAN_L3S,
};
enum class IpvlanFlag : std::uint8_t {
  kBridge = VNET_IPVLAN_F_BRIDGE,
  kPrivate = VNET_IPVLAN_F_PRIVATE,
  kVepa = VNET_IPVLAN_F_VEPA,
};

absl::StatusOr<PortKind> ParsePortKind(absl::string_view text);
absl::string_view PortKindName(PortKind kind);
absl::StatusOr<IpvlanMode> ParseIpvlanMode(absl::string_view text);
absl::string_view IpvlanModeName(IpvlanMode mode);
absl::StatusOr<IpvlanFlag> ParseIpvlanFlag(absl::string_view text);
absl::string_view IpvlanFlagName(IpvlanFlag flag);

absl::StatusOr<PortMode> ParsePortMode(absl::string_view text);
absl::string_view PortModeName(PortMode mode);
absl::StatusOr<bool> ParseOnOff(absl::string_view option, absl::string_view text);
absl::StatusOr<XdpMode> ParseXdpMode(absl::string_view text);
// --dhcp-max-leases N: 1 to VNET_DHCP_MAX_LEASES_LIMIT.
absl::StatusOr<std::uint32_t> ParseDhcpMaxLeases(absl::string_view text);
// A storm limit in frames per second: decimal digits, 1 to
// VNET_STORM_MAX_PPS, or "off" / 0 for none (returned as 0). `option`
// names it in the refusal ("--storm-limit", "storm_limit").
absl::StatusOr<std::uint32_t> ParseStormLimit(absl::string_view option, absl::string_view text);
// "off" or "N pps", as show prints a limit.
std::string StormLimitText(std::uint32_t pps);
// A fabric name becomes a bpffs directory: 1-32 of [A-Za-z0-9_.-], not
// starting with '.' (the names of hidden entries, and "." and "..").
absl::Status ValidateFabricName(absl::string_view name);
// A network device name vnet is given (a port's DEV, --ifname, --tap, an
// uplink): 1-15 bytes (IFNAMSIZ), none of '/', ':', '%' or whitespace, not
// "." or "..". The kernel would turn a '%' into a name template ("eth%d"
// becomes eth0), so the device made would not be the one named. `what`
// names the option in the error ("--ifname").
absl::Status ValidateDeviceName(absl::string_view what, absl::string_view name);
// A network namespace name (/run/netns/NAME): not empty, no '/' or '%' (the
// same names `ip netns` and vnet's device names accept), not "." or "..".
absl::Status ValidateNetnsName(absl::string_view what, absl::string_view name);

// --allow-ip of a MAC-demux port: the IPv4/IPv6 sources it may send from.
// At most this many per port (OpenStack allows 10 address pairs by default).
inline constexpr std::size_t kMaxAllowIps = 64;
// One entry: "ADDR" (the address alone, /32 or /128) or "NET/PLEN" with no
// host bits set. "ADDR/PLEN" with host bits set is refused as ambiguous (an
// address on a subnet, or the subnet?): a filter says exactly what it allows.
// A multicast, unspecified or broadcast address is no source.
absl::StatusOr<IpPrefix> ParseAllowIp(absl::string_view text);
// The entries of one port, sorted; refuses duplicates and more than
// kMaxAllowIps. With `none_clears`, the single entry "none" is the empty list.
absl::StatusOr<std::vector<IpPrefix>> ParseAllowIps(const std::vector<std::string>& texts, bool none_clears);
// Whether a running port's list (or its flag) differs from `want` (both
// sorted): `apply` then rewrites it; a flag without its list is repaired so.
bool AllowIpsNeedChange(const std::vector<IpPrefix>& want, const struct PortInfo& have);
// "198.18.0.11/32", as show and -j print every entry.
std::vector<std::string> AllowIpTexts(const std::vector<IpPrefix>& prefixes);

// attach --vxlan: the fabric's uplink is a VXLAN device vnet creates for it
// (and removes at detach). docs/multihost.md.
inline constexpr std::uint32_t kMaxVni = (1u << 24) - 1;
inline constexpr std::uint16_t kVxlanDefaultPort = 4789;  // IANA
struct VxlanOptions {
  std::uint32_t vni = 0;  // 1 to kMaxVni
  std::string underlay;   // the device the encapsulated frames leave by
  // Unset: the underlay's first global address of the remotes' family (IPv4
  // when no remote is given and the underlay has one).
  std::optional<IpAddress> local;
  std::vector<IpAddress> remotes;  // the head-end replication list; may be empty
  std::uint16_t dstport = kVxlanDefaultPort;
  std::string name;  // the device; empty: vx<VNI>
};

struct AttachOptions {
  // The uplink device. With `vxlan` set it is ignored: the uplink is the
  // VXLAN device attach creates (vxlan->name, or vx<VNI>).
  std::string uplink;
  std::string fabric;  // empty: the uplink's name
  PortKind type = PortKind::kMacvlan;
  IpvlanMode ipvlan_mode = IpvlanMode::kL3;  // the kernel's defaults
  IpvlanFlag ipvlan_flag = IpvlanFlag::kBridge;
  bool unknown_drop = false;
  bool host = false;
  XdpMode xdp_mode = XdpMode::kAuto;
  // Unicast from the wire to a port by XDP redirect (true) or through tc
  // (false). Unset: on for NICs, off for a veth uplink, whose peer may hand
  // over partially checksummed packets and offloaded VLAN tags that an XDP
  // redirect cannot carry (docs/architecture.md).
  std::optional<bool> xdp_redirect;
  TcHook tc_hook = TcHook::kAuto;
  bool force = false;
  // Learned DHCP leases per l2 ipvlan port; 0: VNET_DHCP_DEFAULT_MAX_LEASES.
  std::uint32_t dhcp_max_leases = 0;
  // The fabric's storm limit, group frames flooded per second (0: none).
  std::uint32_t storm_limit = 0;
  std::optional<VxlanOptions> vxlan;
};

// Uplinks whose received frames are skbs already (a veth, a VXLAN device
// decapsulating): XDP there gains nothing and cannot carry their GSO and
// offloads through a redirect, so `auto` leaves XDP off and redirects to tc.
inline bool SkbUplinkKind(std::string_view kind) { return kind == "veth" || kind == "vxlan"; }

struct PortOptions {
  std::string fabric;
  std::string dev;     // an existing veth host end or tap; empty with netns/tap
  std::string netns;   // create the veth pair, peer into this netns (a name, or a path from '/')
  std::string ifname = "eth0";
  std::string tap;     // create a persistent tap with this name (a VM's port)
  std::optional<unsigned> tap_user;
  std::optional<unsigned> tap_group;
  bool tap_multi_queue = false;
  bool adopt_orphan = false;  // apply: take over a tap by that name in no fabric
  std::vector<MacAddress> sources;  // source mode: the initial source list
  // Unset: ipvlan when `ips` is given, else the fabric's type.
  std::optional<PortKind> type;
  std::vector<PortIp> ips;
  // The macvlan-only options the caller gave ("--mode", "--mac", ...): an
  // ipvlan port refuses them, since defaults cannot tell "given" apart.
  std::vector<std::string> macvlan_options;
  PortMode mode = PortMode::kVepa;
  std::optional<MacAddress> mac;
  bool hairpin = false;
  bool isolated = false;
  bool spoofchk = true;
  bool nodst = false;
  // --allow-ip (MAC-demux ports): sorted, no duplicates; empty: no IP check.
  std::vector<IpPrefix> allow_ips;
  // --storm-limit: group frames the port may send per second (0: no limit).
  std::uint32_t storm_limit = 0;
  // With netns: the pair's MTU (0: the uplink's; above it is refused).
  unsigned mtu = 0;
  // With netns: recorded as the host end's IFLA_IFALIAS, so a caller with no
  // database (a CNI plugin) finds its port again.
  std::string alias;
};

// `port set`: only what is given changes.
struct PortChange {
  std::string dev;
  std::optional<PortKind> type;
  std::optional<PortMode> mode;
  std::optional<MacAddress> mac;
  std::optional<bool> hairpin;
  std::optional<bool> isolated;
  std::optional<bool> spoofchk;
  std::optional<bool> nodst;
  // --allow-ip: the new list (sorted); an empty one clears it (`none`).
  std::optional<std::vector<IpPrefix>> allow_ips;
  std::optional<std::uint32_t> storm_limit;  // 0: off
};

// An address or prefix of an ipvlan port, as `show` lists it.
struct PortAddress {
  IpPrefix prefix;  // ADDR/32|128 for an address, NET/PLEN for a routed prefix
  bool learned = false;     // from a DHCP ACK the port received
  bool link_local = false;  // the IPv6 link-local address vnet gave the port
};

// A learned address's lease: seconds it has left (nullopt: it never ends).
struct LeaseTime {
  IpAddress address;
  std::optional<std::uint64_t> seconds;
};

struct PortInfo {
  std::string name;
  PortKind type = PortKind::kMacvlan;  // kIpvlan: `mode` does not apply
  std::uint32_t ifindex = 0;
  MacAddress mac;
  PortMode mode = PortMode::kVepa;
  PortFlags flags;  // the datapath flags (maps/port_bits.h)
  std::uint16_t slot = 0;
  bool up = false;
  bool carrier = false;
  std::string kind;  // "veth" or "tun"
  std::vector<MacAddress> sources;
  std::vector<PortAddress> addresses;  // ipvlan ports
  std::vector<IpPrefix> allow_ips;     // macvlan ports with --allow-ip, sorted
  std::vector<LeaseTime> leases;       // of its learned addresses
  std::string alias;                   // the host end's IFLA_IFALIAS
  std::uint32_t storm_limit = 0;       // group frames it may send per second; 0: no limit
};

// A fabric whose uplink is a VXLAN device (made by vnet or by the user).
struct VxlanInfo {
  std::uint32_t vni = 0;
  std::string underlay;  // "" when it has none (or it is gone)
  std::optional<IpAddress> local;
  std::uint16_t dstport = kVxlanDefaultPort;
  // The replication list, sorted. Filled by Describe (show), not by the
  // cheap Settings read: Fabric::Remotes() gives it alone.
  std::vector<IpAddress> remotes;
  unsigned mtu = 0;      // the device's: the overlay MTU ports get
  bool created = false;  // vnet made the device: detach removes it
  // The underlay guard (fabric/vxlan_guard.h) drops this VNI's frames from
  // sources that are not remotes. attach --vxlan sets one up; a user-made
  // device, whose list may be kept outside vnet, has none.
  bool guarded = false;
};

struct FabricInfo {
  std::string name;
  std::string uplink;  // "" when the uplink device is gone
  std::uint32_t uplink_ifindex = 0;
  MacAddress uplink_mac;
  std::string xdp_mode;
  std::string tc_hook;  // "tcx" or "cls_bpf"
  bool xdp_redirect = true;
  bool unknown_drop = false;
  bool host = false;
  bool defunct = false;
  PortKind type = PortKind::kMacvlan;
  IpvlanMode ipvlan_mode = IpvlanMode::kL3;
  IpvlanFlag ipvlan_flag = IpvlanFlag::kBridge;
  std::uint32_t dhcp_max_leases = VNET_DHCP_DEFAULT_MAX_LEASES;  // per l2 ipvlan port
  std::uint32_t storm_limit = 0;  // group frames flooded per second; 0: no limit
  std::optional<VxlanInfo> vxlan;  // set when the uplink is a VXLAN device
  std::vector<PortInfo> ports;
};

// `fabric set`: a live fabric's policies, all of them (unchanged ones as read).
struct FabricPolicy {
  bool host = false;
  bool unknown_drop = false;
  IpvlanMode ipvlan_mode = IpvlanMode::kL3;
  IpvlanFlag ipvlan_flag = IpvlanFlag::kBridge;
  std::optional<std::uint32_t> dhcp_max_leases;  // unset: unchanged
  std::optional<std::uint32_t> storm_limit;      // unset: unchanged; 0: off
};

struct Counters {
  std::string fabric;
  std::string device;  // the uplink or a port's host end
  bool is_uplink = false;
  vnet_stats stats{};
};

}  // namespace vnet

#endif
