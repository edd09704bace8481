#include "absl/strings/string_view.h"
#include "fabric/types.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

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

absl::StatusOr<XdpMode> ParseXdpMode(absl::string_view text) {
  if (text == "auto") return XdpMode::kAuto;
  if (text == "native") return XdpMode::kNative;
  if (text == "generic") return XdpMode::kGeneric;
  if (text == "none") return XdpMode::kNone;
  return absl::InvalidArgumentError(absl::StrCat("--xdp-mode '", text, "': want auto, native, generic or none"));
}

absl::Status ValidateFabricName(absl::string_view name) {
  bool ok = !name.empty() && name.size() <= 32 && name != "." && name != "..";
  for (char c : name)
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') ok = false;
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("fabric name '", name, "': use 1-32 letters, digits, '_', '-' or '.'"));
}

absl::string_view DropReasonName(int reason) {
  switch (reason) {
    case VNET_DROP_TRUNCATED_ETH: return "truncated_eth";
    case VNET_DROP_TRUNCATED_VLAN: return "truncated_vlan";
    case VNET_DROP_VLAN_DEPTH: return "vlan_depth";
    case VNET_DROP_UNKNOWN_DST: return "unknown_dst";
    case VNET_DROP_SPOOFED_SRC: return "spoofed_src";
    case VNET_DROP_NOT_A_PORT: return "not_a_port";
    case VNET_DROP_ISOLATED: return "isolated";
    case VNET_DROP_REDIRECT_FAILED: return "redirect_failed";
    case VNET_DROP_DEFUNCT: return "defunct";
    case VNET_DROP_UPLINK_DOWN: return "uplink_down";
    case VNET_DROP_SOURCE_NODST: return "source_nodst";
    case VNET_DROP_SPOOFED_IP: return "spoofed_ip";
    case VNET_DROP_TRUNCATED_L3: return "truncated_l3";
    case VNET_DROP_PRIVATE: return "private";
    case VNET_DROP_L3_GROUP: return "l3_group";
    case VNET_DROP_NO_ROUTE: return "no_route";
    case VNET_DROP_REFLECTED: return "reflected";
    case VNET_DROP_DHCP: return "dhcp";
    default: return "unknown";
  }
}

}  // namespace vnet
