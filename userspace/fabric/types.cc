#include "absl/strings/string_view.h"
#include "fabric/types.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace vnet {

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
    default: return "unknown";
  }
}

}  // namespace vnet
