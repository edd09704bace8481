// An Ethernet address: parsing, printing and the classification the control
// plane needs (group bit, all-zero).
#ifndef VNET_BASE_MAC_ADDRESS_H
#define VNET_BASE_MAC_ADDRESS_H

#include <array>
#include <cstdint>
#include <functional>
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
  bool IsLocallyAdministered() const { return bytes[0] & 2; }
  // A locally administered unicast address made from `random` (6 bytes of
  // entropy), as the kernel's eth_random_addr().
  static MacAddress LocalUnicast(const std::array<std::uint8_t, 6>& random);
  bool operator==(const MacAddress&) const = default;
};

// A locally administered unicast MAC that `taken` does not refuse, drawing
// 6 bytes of entropy at a time (up to 64 draws; ResourceExhausted after).
absl::StatusOr<MacAddress> PickFreeLocalMac(const std::function<std::array<std::uint8_t, 6>()>& entropy,
                                            const std::function<bool(const MacAddress&)>& taken);

}  // namespace vnet

#endif
