#include "base/ip_address.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace vnet {

absl::StatusOr<IpAddress> IpAddress::Parse(absl::string_view text) {
  std::string s(text);
  IpAddress ip;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
  } else if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
    ip.family = 6;
    return ip;
  }
  return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not an IPv4 or IPv6 address"));
}

IpAddress IpAddress::FromBytes(int family, const std::uint8_t* p) {
  IpAddress ip;
  ip.family = family;
  std::memcpy(ip.bytes.data(), p, ip.Size());
  return ip;
}

int IpAddress::AddressFamily() const { return family == 4 ? AF_INET : AF_INET6; }

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(AddressFamily(), bytes.data(), buf, sizeof(buf));
  return buf;
}

bool IpPrefix::HasHostBits() const {
  for (int bit = plen; bit < address.MaxPrefix(); ++bit)
    if (address.bytes[bit / 8] & (0x80 >> (bit % 8))) return true;
  return false;
}

std::string IpPrefix::ToString() const { return absl::StrCat(address.ToString(), "/", plen); }

absl::StatusOr<PortIp> PortIp::Parse(absl::string_view text) {
  auto slash = text.find('/');
  absl::string_view addr_text = text.substr(0, slash);
  auto addr = IpAddress::Parse(addr_text);
  if (!addr.ok()) return addr.status();
  PortIp ip;
  ip.prefix.address = *addr;
  ip.prefix.plen = addr->MaxPrefix();
  if (slash == absl::string_view::npos) return ip;
  int plen = -1;
  absl::string_view plen_text = text.substr(slash + 1);
  if (!absl::SimpleAtoi(plen_text, &plen) || plen < 0 || plen_text.empty() || plen_text[0] == '+')
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': prefix length '", plen_text, "' is not a number"));
  if (plen > addr->MaxPrefix())
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': address family mismatch (an IPv", addr->family,
                                                   " prefix length is 0-", addr->MaxPrefix(), ")"));
  ip.prefix.plen = plen;
  ip.routed = plen < addr->MaxPrefix() && !ip.prefix.HasHostBits();
  if (ip.routed && plen == 0)
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': a port cannot own every address"));
  return ip;
}

std::string PortIp::Owned() const { return routed ? prefix.ToString() : prefix.address.ToString(); }

IpAddress PortLinkLocal(const MacAddress& uplink_mac, std::uint16_t slot) {
  IpAddress ip;
  ip.family = 6;
  ip.bytes[0] = 0xfe;
  ip.bytes[1] = 0x80;
  const auto& m = uplink_mac.bytes;
  std::uint8_t iid[8] = {static_cast<std::uint8_t>(m[0] ^ 0x02), m[1], m[2], static_cast<std::uint8_t>(slot >> 8),
                         static_cast<std::uint8_t>(slot & 0xff), m[3], m[4], m[5]};
  std::memcpy(ip.bytes.data() + 8, iid, 8);
  return ip;
}

IpAddress Eui64LinkLocal(const MacAddress& mac) {
  IpAddress ip;
  ip.family = 6;
  ip.bytes[0] = 0xfe;
  ip.bytes[1] = 0x80;
  const auto& m = mac.bytes;
  std::uint8_t iid[8] = {static_cast<std::uint8_t>(m[0] ^ 0x02), m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]};
  std::memcpy(ip.bytes.data() + 8, iid, 8);
  return ip;
}

}  // namespace vnet
