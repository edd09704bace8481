// An Ethernet address: parsing, printing and the classification the control
// plane needs (group bit, all-zero).
#ifndef VNET_NETLINK_MAC_ADDRESS_H
#define VNET_NETLINK_MAC_ADDRESS_H

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/status/statusor.h"

namespace vnet {

struct MacAddress {
  std::array<std::uint8_t, 6> bytes{};

  // Accepts "aa:bb:cc:dd:ee:ff" and "aa-bb-cc-dd-ee-ff", any case.
  static absl::StatusOr<MacAddress> Parse(absl::string_view text);
  static MacAddress FromBytes(const std::uint8_t* p);

  std::string ToString() const;
  bool IsGroup() const { return bytes[0] & 1; }
  bool IsZero() const;
  // A port may own it: unicast and not all-zero.
  bool IsValidUnicast() const { return !IsGroup() && !IsZero(); }
  bool operator==(const MacAddress&) const = default;
};

}  // namespace vnet

#endif
