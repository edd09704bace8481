// IPv4/IPv6 addresses and prefixes, and the `--ip ADDR[/PLEN]` argument an
// IP-demux (ipvlan) port takes: parsing, printing and classification.
#ifndef VNET_BASE_IP_ADDRESS_H
#define VNET_BASE_IP_ADDRESS_H

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/mac_address.h"

namespace vnet {

struct IpAddress {
  int family = 4;  // 4 or 6 (enum vnet_ip_family)
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in bytes[0..3], the rest zero

  // "198.18.0.5" or "2001:db8::5".
  static absl::StatusOr<IpAddress> Parse(absl::string_view text);
  static IpAddress FromBytes(int family, const std::uint8_t* p);
  int MaxPrefix() const { return family == 4 ? 32 : 128; }
  int AddressFamily() const;  // AF_INET or AF_INET6
  std::size_t Size() const { return family == 4 ? 4 : 16; }
  std::string ToString() const;
  bool IsLinkLocal() const { return family == 6 && bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80; }
  bool operator==(const IpAddress&) const = default;
  auto operator<=>(const IpAddress&) const = default;
};

struct IpPrefix {
  IpAddress address;
  int plen = 32;

  bool HasHostBits() const;
  // "198.18.5.0/24", "198.18.0.5/32".
  std::string ToString() const;
  bool operator==(const IpPrefix&) const = default;
  auto operator<=>(const IpPrefix&) const = default;
};

// One `--ip` of a port:
//   ADDR            a host address (/32, /128), in vnet_ips;
//   ADDR/PLEN       with host bits set: ADDR (in vnet_ips) on subnet /PLEN,
//                   configured as ADDR/PLEN on a --netns port's interface;
//   NET/PLEN        host bits zero, PLEN below the maximum: a prefix routed to
//                   the port (vnet_ip_nets), not configured on the interface.
struct PortIp {
  IpPrefix prefix;  // as configured: ADDR/PLEN (ADDR/32|128 without PLEN)
  bool routed = false;

  static absl::StatusOr<PortIp> Parse(absl::string_view text);
  // What the fabric owns: "198.18.0.5" for an address, "198.18.5.0/24" for a prefix.
  std::string Owned() const;
  std::string ToString() const { return prefix.ToString(); }
};

// The IPv6 link-local address vnet gives an ipvlan port: fe80::/64 with the
// uplink MAC's EUI-64 as interface id, its ff:fe bytes replaced by the port's
// slot so that ports sharing the MAC get distinct addresses.
IpAddress PortLinkLocal(const MacAddress& uplink_mac, std::uint16_t slot);
// The link-local the kernel derives from `mac` (addr_gen_mode eui64):
// fe80::/64 with the modified EUI-64 interface id.
IpAddress Eui64LinkLocal(const MacAddress& mac);

}  // namespace vnet

#endif
