#include "absl/strings/string_view.h"
#include "fabric/types.h"

#include <net/if.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/errors.h"

namespace vnet {

absl::StatusOr<PortKind> ParsePortKind(absl::string_view text) {
  if (text == "macvlan") return PortKind::kMacvlan;
  if (text == "ipvlan") return PortKind::kIpvlan;
  return absl::InvalidArgumentError(absl::StrCat("type '", text, "': want macvlan or ipvlan"));
}

absl::string_view PortKindName(PortKind kind) { return kind == PortKind::kIpvlan ? "ipvlan" : "macvlan"; }

absl::StatusOr<IpvlanMode> ParseIpvlanMode(absl::string_view text) {
  if (text == "l2") return IpvlanMode::kL2;
  if (text == "l3") return IpvlanMode::kL3;
  if (text == "l3s") return IpvlanMode::kL3s;
  return absl::InvalidArgumentError(absl::StrCat("ipvlan mode '", text, "': want l2, l3 or l3s"));
}

absl::string_view IpvlanModeName(IpvlanMode mode) {
  switch (mode) {
    case IpvlanMode::kL2: return "l2";
    case IpvlanMode::kL3: return "l3";
    case IpvlanMode::kL3s: return "l3s";
  }
  return "unknown";
}

absl::StatusOr<IpvlanFlag> ParseIpvlanFlag(absl::string_view text) {
  if (text == "bridge") return IpvlanFlag::kBridge;
  if (text == "private") return IpvlanFlag::kPrivate;
  if (text == "vepa") return IpvlanFlag::kVepa;
  return absl::InvalidArgumentError(absl::StrCat("ipvlan flag '", text, "': want bridge, private or vepa"));
}

absl::string_view IpvlanFlagName(IpvlanFlag flag) {
  switch (flag) {
    case IpvlanFlag::kBridge: return "bridge";
    case IpvlanFlag::kPrivate: return "private";
    case IpvlanFlag::kVepa: return "vepa";
  }
  return "unknown";
}

absl::StatusOr<PortMode> ParsePortMode(absl::string_view text) {
  if (text == "private") return PortMode::kPrivate;
  if (text == "vepa") return PortMode::kVepa;
  if (text == "bridge") return PortMode::kBridge;
  if (text == "passthru") return PortMode::kPassthru;
  if (text == "source") return PortMode::kSource;
  return absl::InvalidArgumentError(
      absl::StrCat("mode '", text, "': want bridge, vepa, private, passthru or source"));
}

absl::string_view PortModeName(PortMode mode) {
  switch (mode) {
    case PortMode::kPrivate: return "private";
    case PortMode::kVepa: return "vepa";
    case PortMode::kBridge: return "bridge";
    case PortMode::kPassthru: return "passthru";
    case PortMode::kSource: return "source";
  }
  return "unknown";
}

absl::StatusOr<bool> ParseOnOff(absl::string_view option, absl::string_view text) {
  if (text == "on") return true;
  if (text == "off") return false;
  return absl::InvalidArgumentError(absl::StrCat(option, " '", text, "': want on or off"));
}

absl::StatusOr<std::uint32_t> ParseDhcpMaxLeases(absl::string_view text) {
  std::uint32_t n = 0;
  if (!absl::SimpleAtoi(text, &n) || n < 1 || n > VNET_DHCP_MAX_LEASES_LIMIT)
    return absl::InvalidArgumentError(
        absl::StrCat("--dhcp-max-leases '", text, "': want a number of leases per port, 1 to ", VNET_DHCP_MAX_LEASES_LIMIT));
  return n;
}

absl::StatusOr<std::uint32_t> ParseStormLimit(absl::string_view option, absl::string_view text) {
  if (text == "off") return 0u;
  // Digits only: no sign, no spaces, no hex (SimpleAtoi would take "+5" and " 5").
  bool digits = !text.empty() && text.size() <= 10 &&
                std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  std::uint64_t n = 0;
  if (digits) n = std::stoull(std::string(text));
  if (!digits || n > VNET_STORM_MAX_PPS)
    return absl::InvalidArgumentError(absl::StrCat(option, " '", text, "': want frames per second, 1 to ",
                                                   VNET_STORM_MAX_PPS, ", or off (or 0) for no limit"));
  return static_cast<std::uint32_t>(n);
}

std::string StormLimitText(std::uint32_t pps) { return pps ? absl::StrCat(pps, " pps") : "off"; }

absl::StatusOr<XdpMode> ParseXdpMode(absl::string_view text) {
  if (text == "auto") return XdpMode::kAuto;
  if (text == "native") return XdpMode::kNative;
  if (text == "generic") return XdpMode::kGeneric;
  if (text == "none") return XdpMode::kNone;
  return absl::InvalidArgumentError(absl::StrCat("--xdp-mode '", text, "': want auto, native, generic or none"));
}

absl::Status ValidateFabricName(absl::string_view name) {
  bool ok = !name.empty() && name.size() <= 32;
  for (char c : name)
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') ok = false;
  if (!ok)
    return absl::InvalidArgumentError(
        absl::StrCat("fabric name '", name, "': use 1-32 letters, digits, '_', '-' or '.'"));
  // Hidden names are vnet's own entries under the pin root (and "." and "..").
  if (name[0] == '.')
    return absl::InvalidArgumentError(absl::StrCat("fabric name '", name, "': may not start with '.'"));
  return absl::OkStatus();
}

absl::Status ValidateDeviceName(absl::string_view what, absl::string_view name) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", name, "': not a valid device name (", why, ")"));
  };
  if (name.empty()) return bad("empty");
  if (name.size() >= IFNAMSIZ) return bad(absl::StrCat("longer than ", IFNAMSIZ - 1, " bytes"));
  if (name == "." || name == "..") return bad("a directory name");
  for (char c : name) {
    if (c == '%') return bad("'%' makes it a name template");
    if (c == '/' || c == ':' || absl::ascii_isspace(static_cast<unsigned char>(c)) || !absl::ascii_isprint(static_cast<unsigned char>(c)))
      return bad("no '/', ':', spaces or control characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateNetnsName(absl::string_view what, absl::string_view name) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " '", name, "': not a valid network namespace name (", why, ")"));
  };
  if (name.empty()) return bad("empty");
  if (name == "." || name == "..") return bad("a directory name");
  for (char c : name) {
    if (c == '%') return bad("no '%'");
    if (c == '/' || !absl::ascii_isprint(static_cast<unsigned char>(c))) return bad("no '/' or control characters");
  }
  return absl::OkStatus();
}

namespace {

// Not a source a host sends from: multicast (and prefixes inside it),
// unspecified, IPv4 limited broadcast.
bool NeverASource(const IpPrefix& p) {
  const auto& b = p.address.bytes;
  if (p.address.family == 4) {
    bool all_ones = b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255;
    bool zero = !b[0] && !b[1] && !b[2] && !b[3];
    return (p.plen >= 4 && (b[0] & 0xf0) == 0xe0) || (p.plen == 32 && (all_ones || zero));
  }
  bool zero = std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
  return (p.plen >= 8 && b[0] == 0xff) || (p.plen == 128 && zero);
}

}  // namespace

absl::StatusOr<IpPrefix> ParseAllowIp(absl::string_view text) {
  auto slash = text.find('/');
  auto addr = IpAddress::Parse(text.substr(0, slash));
  if (!addr.ok()) return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not an IPv4 or IPv6 address"));
  IpPrefix prefix{*addr, addr->MaxPrefix()};
  if (slash != absl::string_view::npos) {
    absl::string_view plen_text = text.substr(slash + 1);
    int plen = -1;
    if (plen_text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(plen_text[0])) ||
        !absl::SimpleAtoi(plen_text, &plen))
      return absl::InvalidArgumentError(absl::StrCat("'", text, "': prefix length '", plen_text, "' is not a number"));
    if (plen > addr->MaxPrefix())
      return absl::InvalidArgumentError(absl::StrCat("'", text, "': an IPv", addr->family, " prefix length is 0-",
                                                     addr->MaxPrefix()));
    prefix.plen = plen;
    if (prefix.HasHostBits()) {
      IpPrefix net = prefix;
      for (int bit = plen; bit < addr->MaxPrefix(); ++bit) net.address.bytes[bit / 8] &= ~(0x80 >> (bit % 8));
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' has host bits set: give ", addr->ToString(),
                                                     " for the address or ", net.ToString(), " for the prefix"));
    }
  }
  if (NeverASource(prefix))
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is no source address (multicast, unspecified or broadcast)"));
  return prefix;
}

absl::StatusOr<std::vector<IpPrefix>> ParseAllowIps(const std::vector<std::string>& texts, bool none_clears) {
  std::vector<IpPrefix> out;
  if (none_clears && std::find(texts.begin(), texts.end(), "none") != texts.end()) {
    if (texts.size() != 1) return absl::InvalidArgumentError("'none' clears the list: give it alone");
    return out;
  }
  for (const auto& text : texts) {
    VNET_ASSIGN_OR_RETURN(IpPrefix prefix, ParseAllowIp(text));
    if (std::find(out.begin(), out.end(), prefix) != out.end())
      return absl::InvalidArgumentError(absl::StrCat(prefix.ToString(), " is given twice"));
    out.push_back(prefix);
  }
  if (out.size() > kMaxAllowIps)
    return absl::InvalidArgumentError(
        absl::StrCat(out.size(), " entries: a port allows at most ", kMaxAllowIps, " addresses or prefixes"));
  std::sort(out.begin(), out.end());
  return out;
}

bool AllowIpsNeedChange(const std::vector<IpPrefix>& want, const PortInfo& have) {
  bool flag = have.flags.allow_ip;
  return want != have.allow_ips || want.empty() == flag;
}

std::vector<std::string> AllowIpTexts(const std::vector<IpPrefix>& prefixes) {
  std::vector<std::string> out;
  for (const auto& p : prefixes) out.push_back(p.ToString());
  return out;
}

}  // namespace vnet
