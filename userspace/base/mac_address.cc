#include "absl/strings/string_view.h"
#include "base/mac_address.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vnet {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<MacAddress> MacAddress::Parse(absl::string_view text) {
  MacAddress mac;
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed MAC address '", text, "' (want aa:bb:cc:dd:ee:ff)"));
  };
  if (text.size() != 17) return bad();
  for (int i = 0; i < 6; ++i) {
    int hi = HexDigit(text[i * 3]);
    int lo = HexDigit(text[i * 3 + 1]);
    if (hi < 0 || lo < 0) return bad();
    if (i < 5) {
      char sep = text[i * 3 + 2];
      if (sep != ':' && sep != '-') return bad();
      if (sep != text[2]) return bad();
    }
    mac.bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return mac;
}

MacAddress MacAddress::FromBytes(const std::uint8_t* p) {
  MacAddress mac;
  std::memcpy(mac.bytes.data(), p, 6);
  return mac;
}

MacAddress MacAddress::LocalUnicast(const std::array<std::uint8_t, 6>& random) {
  MacAddress mac;
  mac.bytes = random;
  mac.bytes[0] = static_cast<std::uint8_t>((mac.bytes[0] & 0xfe) | 0x02);
  return mac;
}

std::string MacAddress::ToString() const {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2], bytes[3],
                         bytes[4], bytes[5]);
}

bool MacAddress::IsZero() const {
  for (auto b : bytes)
    if (b) return false;
  return true;
}

absl::StatusOr<MacAddress> PickFreeLocalMac(const std::function<std::array<std::uint8_t, 6>()>& entropy,
                                            const std::function<bool(const MacAddress&)>& taken) {
  for (int i = 0; i < 64; ++i) {
    MacAddress mac = MacAddress::LocalUnicast(entropy());
    if (!taken(mac)) return mac;
  }
  return absl::ResourceExhaustedError("no free locally administered MAC address found");
}

}  // namespace vnet
