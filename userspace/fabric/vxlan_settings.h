// The pure rules of VXLAN fabrics (no kernel): parsing VNIs, ports and
// remotes, the overlay MTU, the default device name and local address, how
// vnet marks a device it created, and the remote-list diff apply makes.
#ifndef VNET_FABRIC_VXLAN_SETTINGS_H
#define VNET_FABRIC_VXLAN_SETTINGS_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/ip_address.h"
#include "fabric/types.h"

namespace vnet {

// 1 to 16777215 (24 bits; 0 is refused, as EVPN reserves it).
absl::StatusOr<std::uint32_t> ParseVni(absl::string_view text);
// 1 to 65535.
absl::StatusOr<std::uint16_t> ParseDstport(absl::string_view text);
// A unicast host address: not multicast, broadcast or unspecified.
absl::StatusOr<IpAddress> ParseRemote(absl::string_view text);
absl::Status CheckRemote(const IpAddress& remote);
// Checks the settings that need no kernel: VNI range, name, remotes'
// families (with each other and with `local`), duplicates.
absl::Status CheckVxlanOptions(const VxlanOptions& options);

// vxlan->name, or "vx<VNI>".
std::string VxlanDeviceName(const VxlanOptions& options);

// VXLAN adds 50 bytes over IPv4 (outer IP 20, UDP 8, VXLAN 8, inner Ethernet
// 14) and 70 over IPv6 (outer IP 40). Below 68 (IPv4's minimum) no overlay fits.
inline constexpr unsigned kVxlanOverhead4 = 50;
inline constexpr unsigned kVxlanOverhead6 = 70;
absl::StatusOr<unsigned> OverlayMtu(unsigned underlay_mtu, int family);

// The local address when none is given: the first of `addresses` of
// `family` (4 or 6; 0: IPv4 first, else IPv6) that is not IPv6 link-local.
std::optional<IpAddress> ChooseLocal(const std::vector<IpPrefix>& addresses, int family);

// The IFLA_IFALIAS vnet gives a VXLAN device it creates for `fabric`: detach
// removes the device only when it still carries this mark.
std::string CreatedVxlanAlias(absl::string_view fabric);
bool IsCreatedVxlan(absl::string_view alias, absl::string_view fabric);

// What makes the running list `have` into `want`: one append per new
// remote, one delete per old, the rest untouched.
struct RemoteDiff {
  std::vector<IpAddress> add, remove;
};
RemoteDiff DiffRemotes(const std::vector<IpAddress>& want, const std::vector<IpAddress>& have);

}  // namespace vnet

#endif
