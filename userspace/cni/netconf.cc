#include "cni/netconf.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cni/cni_error.h"
#include "cni/version.h"
#include "cni/vxlan_conf.h"

namespace vnet::cni {
namespace {

using nlohmann::json;

// Reads an optional key of a given JSON type; absent and null are "not given".
template <typename T>
absl::StatusOr<std::optional<T>> Get(const json& j, const char* key);

template <>
absl::StatusOr<std::optional<std::string>> Get(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<std::string>();
  if (!j[key].is_string()) return KeyWrongType(key, "a string");
  return std::optional<std::string>(j[key].get<std::string>());
}

template <>
absl::StatusOr<std::optional<bool>> Get(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<bool>();
  if (!j[key].is_boolean()) return KeyWrongType(key, "true or false");
  return std::optional<bool>(j[key].get<bool>());
}

template <>
absl::StatusOr<std::optional<std::int64_t>> Get(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<std::int64_t>();
  if (!j[key].is_number_integer()) return KeyWrongType(key, "an integer");
  return std::optional<std::int64_t>(j[key].get<std::int64_t>());
}

#define CNI_GET(type, var, j, key)                                  \
  auto var##_or = Get<type>(j, key);                                \
  if (!var##_or.ok()) return var##_or.status();                     \
  std::optional<type> var = *var##_or;

absl::StatusOr<MacAddress> ParseMacKey(absl::string_view key, const std::string& text) {
  auto mac = MacAddress::Parse(text);
  if (!mac.ok()) return InvalidKey(key, absl::StrCat("'", text, "' is not a MAC address"));
  if (!mac->IsValidUnicast()) return InvalidKey(key, absl::StrCat(text, " is not a unicast address"));
  return *mac;
}

absl::StatusOr<std::set<std::pair<std::string, std::string>>> DecodeAttachments(const json& list,
                                                                                   absl::string_view key) {
  std::set<std::pair<std::string, std::string>> out;
  if (!list.is_array()) return KeyWrongType(key, "a list");
  for (const auto& a : list) {
    if (!a.is_object() || !a.contains("containerID") || !a["containerID"].is_string() || !a.contains("ifname") ||
        !a["ifname"].is_string())
      return KeyWrongType(key, "a list of {containerID, ifname}");
    out.emplace(a["containerID"].get<std::string>(), a["ifname"].get<std::string>());
  }
  return out;
}

}  // namespace

std::optional<Kind> KindFromArgv0(absl::string_view argv0) {
  auto slash = argv0.rfind('/');
  absl::string_view base = slash == absl::string_view::npos ? argv0 : argv0.substr(slash + 1);
  if (base == "vnet-macvlan") return Kind::kMacvlan;
  if (base == "vnet-ipvlan") return Kind::kIpvlan;
  return std::nullopt;
}

std::string PeekVersion(absl::string_view raw) {
  json j = json::parse(raw.begin(), raw.end(), nullptr, false);
  if (j.is_object() && j.contains("cniVersion") && j["cniVersion"].is_string()) return j["cniVersion"];
  return "";
}

absl::StatusOr<NetConf> DecodeNetConf(absl::string_view raw, std::optional<Kind> binary_kind,
                                      const std::optional<std::string>& cni_args_mac) {
  json j = json::parse(raw.begin(), raw.end(), nullptr, false);
  if (j.is_discarded()) return Error(kDecodeFailure, "decoding network config", "stdin is not JSON");
  if (!j.is_object()) return Error(kDecodeFailure, "decoding network config", "stdin is not a JSON object");
  NetConf c;
  c.raw = std::string(raw);
  CNI_GET(std::string, version, j, "cniVersion");
  c.cni_version = version.value_or("");
  if (!IsSupported(c.cni_version))
    return Error(kIncompatibleVersion, "incompatible CNI versions",
                 absl::StrCat("config is \"", c.cni_version, "\", plugin supports ",
                              absl::StrJoin(kSupportedVersions, ", ")));
  CNI_GET(std::string, name, j, "name");
  CNI_GET(std::string, type, j, "type");
  c.name = name.value_or("");
  c.type = type.value_or("");
  if (c.name.empty()) return InvalidKey("name", "missing (the network's name)");
  // A network name is part of the port's recorded attachment (cni:NAME:ID:IF).
  if (c.name.find(':') != std::string::npos) return InvalidKey("name", "must not contain ':'");

  CNI_GET(std::string, kind, j, "kind");
  if (kind) {
    if (*kind != "macvlan" && *kind != "ipvlan") return InvalidKey("kind", "must be macvlan or ipvlan");
    Kind k = *kind == "macvlan" ? Kind::kMacvlan : Kind::kIpvlan;
    if (binary_kind && *binary_kind != k) return InvalidKey("kind", "contradicts the plugin type");
    c.kind = k;
  } else {
    c.kind = binary_kind.value_or(Kind::kMacvlan);
  }
  bool ipvlan = c.kind == Kind::kIpvlan;

  CNI_GET(std::string, master, j, "master");
  c.master = master.value_or("");
  if (!c.master.empty()) {
    if (auto s = ValidateDeviceName("master", c.master); !s.ok()) return InvalidKey("master", s.message());
  }
  auto vxlan = DecodeVxlanKeys(j);
  if (!vxlan.ok()) return vxlan.status();
  c.vxlan = *vxlan;
  CNI_GET(std::string, fabric, j, "fabric");
  c.fabric = fabric.value_or("");
  if (!c.fabric.empty()) {
    if (auto s = ValidateFabricName(c.fabric); !s.ok()) return InvalidKey("fabric", s.message());
  }

  CNI_GET(std::string, mode, j, "mode");
  c.mode_given = mode && !mode->empty();
  if (c.mode_given) {
    if (ipvlan) {
      auto m = ParseIpvlanMode(*mode);
      if (!m.ok()) return InvalidKey("mode", "must be l2, l3 or l3s");
      c.ipvlan_mode = *m;
    } else {
      if (*mode != "bridge" && *mode != "vepa" && *mode != "private" && *mode != "passthru")
        return InvalidKey("mode", "must be bridge, vepa, private or passthru");
      c.mode = *ParsePortMode(*mode);
    }
  }
  CNI_GET(std::string, flag, j, "flag");
  c.flag_given = flag && !flag->empty();
  if (c.flag_given) {
    if (!ipvlan) return InvalidKey("flag", "is for the ipvlan kind");
    auto f = ParseIpvlanFlag(*flag);
    if (!f.ok()) return InvalidKey("flag", "must be bridge, private or vepa");
    c.ipvlan_flag = *f;
  }

  CNI_GET(std::int64_t, mtu, j, "mtu");
  if (mtu) {
    if (*mtu < 0 || *mtu > 65535) return InvalidKey("mtu", absl::StrCat(*mtu, " is out of range"));
    c.mtu = static_cast<unsigned>(*mtu);  // 0: the master's, as the reference plugins read it
  }

  CNI_GET(std::string, mac, j, "mac");
  if (mac && !mac->empty()) {
    if (ipvlan)
      return Error(kUnsupportedField, "unsupported field: mac",
                   "key 'mac': ipvlan ports have the master's MAC");
    auto m = ParseMacKey("mac", *mac);
    if (!m.ok()) return m.status();
    c.mac = *m;
  }
  if (cni_args_mac && !ipvlan) {
    auto m = ParseMacKey("CNI_ARGS MAC", *cni_args_mac);
    if (!m.ok()) return m.status();
    c.mac = *m;
  }
  if (j.contains("runtimeConfig") && !j["runtimeConfig"].is_null()) {
    if (!j["runtimeConfig"].is_object()) return KeyWrongType("runtimeConfig", "an object");
    CNI_GET(std::string, rmac, j["runtimeConfig"], "mac");
    if (rmac && !rmac->empty() && !ipvlan) {
      auto m = ParseMacKey("runtimeConfig.mac", *rmac);
      if (!m.ok()) return m.status();
      c.mac = *m;
    }
  }

  CNI_GET(bool, hairpin, j, "hairpin");
  CNI_GET(bool, isolated, j, "isolated");
  CNI_GET(bool, spoofchk, j, "spoofchk");
  CNI_GET(bool, allow, j, "allowIPs");
  CNI_GET(bool, host, j, "host");
  c.hairpin = hairpin.value_or(false);
  c.isolated = isolated.value_or(false);
  c.spoofchk = spoofchk.value_or(true);
  c.allow_ips = allow.value_or(true);
  c.host = host;
  CNI_GET(std::string, unknown, j, "unknown");
  if (unknown) {
    if (*unknown != "drop" && *unknown != "pass") return InvalidKey("unknown", "must be drop or pass");
    c.unknown = *unknown == "drop";
  }
  CNI_GET(bool, link_in_container, j, "linkInContainer");
  if (link_in_container.value_or(false))
    return Error(kUnsupportedField, "unsupported field: linkInContainer",
                 "key 'linkInContainer': a vnet master is in the plugin's namespace");

  if (j.contains("ipam") && !j["ipam"].is_null()) {
    if (!j["ipam"].is_object()) return KeyWrongType("ipam", "an object");
    CNI_GET(std::string, ipam_type, j["ipam"], "type");
    c.ipam_type = ipam_type.value_or("");
    if (c.ipam_type.find('/') != std::string::npos || c.ipam_type == "." || c.ipam_type == "..")
      return InvalidKey("ipam.type", "must be a plugin name, not a path");
  }
  if (j.contains("dns") && !j["dns"].is_null()) {
    if (!j["dns"].is_object()) return KeyWrongType("dns", "an object");
    c.dns = j["dns"];
  }
  if (ipvlan && c.ipam_type.empty()) return InvalidKey("ipam", "the ipvlan kind needs addresses from IPAM");

  if (j.contains("prevResult") && !j["prevResult"].is_null()) {
    auto prev = ParseResult(j["prevResult"], c.cni_version);
    if (!prev.ok()) return prev.status();
    c.prev_result = *prev;
  }
  for (const char* key : {"cni.dev/valid-attachments", "cni.dev/attachments"}) {
    if (!j.contains(key) || c.valid_attachments) continue;
    auto list = DecodeAttachments(j[key], key);
    if (!list.ok()) return list.status();
    c.valid_attachments = *list;
  }
  return c;
}

}  // namespace vnet::cni
