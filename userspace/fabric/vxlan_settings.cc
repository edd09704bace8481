#include "fabric/vxlan_settings.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace vnet {

absl::StatusOr<std::uint32_t> ParseVni(absl::string_view text) {
  std::uint64_t vni = 0;
  if (!absl::SimpleAtoi(text, &vni) || vni < 1 || vni > kMaxVni)
    return absl::InvalidArgumentError(absl::StrCat("VNI '", text, "': want 1 to ", kMaxVni));
  return static_cast<std::uint32_t>(vni);
}

absl::StatusOr<std::uint16_t> ParseDstport(absl::string_view text) {
  std::uint32_t port = 0;
  if (!absl::SimpleAtoi(text, &port) || port < 1 || port > 65535)
    return absl::InvalidArgumentError(absl::StrCat("port '", text, "': want 1 to 65535"));
  return static_cast<std::uint16_t>(port);
}

absl::Status CheckRemote(const IpAddress& a) {
  bool multicast = a.family == 4 ? (a.bytes[0] & 0xf0) == 0xe0 : a.bytes[0] == 0xff;
  bool broadcast = a.family == 4 && a.bytes[0] == 255 && a.bytes[1] == 255 && a.bytes[2] == 255 && a.bytes[3] == 255;
  bool unspecified = a == IpAddress{a.family, {}};
  if (multicast || broadcast || unspecified)
    return absl::InvalidArgumentError(absl::StrCat("remote ", a.ToString(), ": not a unicast host address"));
  return absl::OkStatus();
}

absl::StatusOr<IpAddress> ParseRemote(absl::string_view text) {
  auto a = IpAddress::Parse(text);
  if (!a.ok()) return absl::InvalidArgumentError(absl::StrCat("remote '", text, "': not an IPv4 or IPv6 address"));
  if (auto s = CheckRemote(*a); !s.ok()) return s;
  return *a;
}

absl::Status CheckVxlanOptions(const VxlanOptions& o) {
  if (o.vni < 1 || o.vni > kMaxVni)
    return absl::InvalidArgumentError(absl::StrCat("VNI ", o.vni, ": want 1 to ", kMaxVni));
  if (o.underlay.empty()) return absl::InvalidArgumentError("--vxlan needs --underlay DEV");
  if (auto s = ValidateDeviceName("--underlay", o.underlay); !s.ok()) return s;
  if (!o.name.empty())
    if (auto s = ValidateDeviceName("--vxlan-name", o.name); !s.ok()) return s;
  if (o.dstport == 0) return absl::InvalidArgumentError("port 0: want 1 to 65535");
  if (o.local)
    if (auto s = CheckRemote(*o.local); !s.ok())
      return absl::InvalidArgumentError(absl::StrCat("local ", o.local->ToString(), ": not a unicast host address"));
  std::set<IpAddress> seen;
  for (const auto& r : o.remotes) {
    if (auto s = CheckRemote(r); !s.ok()) return s;
    if (!seen.insert(r).second) return absl::InvalidArgumentError(absl::StrCat("remote ", r.ToString(), ": given twice"));
    int family = o.local ? o.local->family : o.remotes.front().family;
    if (r.family != family)
      return absl::InvalidArgumentError(absl::StrCat("remote ", r.ToString(), ": IPv", r.family, ", but the ",
                                                     o.local ? "local address" : "first remote", " is IPv", family));
  }
  return absl::OkStatus();
}

std::string VxlanDeviceName(const VxlanOptions& o) { return o.name.empty() ? absl::StrCat("vx", o.vni) : o.name; }

absl::StatusOr<unsigned> OverlayMtu(unsigned underlay_mtu, int family) {
  unsigned overhead = family == 6 ? kVxlanOverhead6 : kVxlanOverhead4;
  if (underlay_mtu < overhead + 68)
    return absl::InvalidArgumentError(absl::StrCat("underlay MTU ", underlay_mtu, " leaves no room for VXLAN over IPv",
                                                   family, " (", overhead, " bytes of headers)"));
  return underlay_mtu - overhead;
}

std::optional<IpAddress> ChooseLocal(const std::vector<IpPrefix>& addresses, int family) {
  for (int f : family ? std::vector<int>{family} : std::vector<int>{4, 6})
    for (const auto& p : addresses)
      if (p.address.family == f && !p.address.IsLinkLocal()) return p.address;
  return std::nullopt;
}

namespace {
constexpr absl::string_view kAliasPrefix = "vnet-vxlan:";
}

std::string CreatedVxlanAlias(absl::string_view fabric) { return absl::StrCat(kAliasPrefix, fabric); }

bool IsCreatedVxlan(absl::string_view alias, absl::string_view fabric) { return alias == CreatedVxlanAlias(fabric); }

RemoteDiff DiffRemotes(const std::vector<IpAddress>& want, const std::vector<IpAddress>& have) {
  RemoteDiff d;
  std::set<IpAddress> w(want.begin(), want.end()), h(have.begin(), have.end());
  for (const auto& a : w)
    if (!h.count(a)) d.add.push_back(a);
  for (const auto& a : h)
    if (!w.count(a)) d.remove.push_back(a);
  return d;
}

}  // namespace vnet
