#include "docker/network_options.h"

#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"

namespace vnet::docker {
namespace {

using nlohmann::json;

constexpr absl::string_view kGeneric = "com.docker.network.generic";
constexpr absl::string_view kMtuOption = "com.docker.network.driver.mtu";

absl::Status Bad(absl::string_view option, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("option ", option, ": ", why));
}

// vnet's booleans take what Docker users write for other drivers' options.
absl::StatusOr<bool> ParseBool(absl::string_view option, absl::string_view text) {
  if (text == "true" || text == "on" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "off" || text == "0" || text == "no") return false;
  return Bad(option, absl::StrCat("'", text, "': want true or false"));
}

absl::StatusOr<std::vector<Pool>> ParsePools(const json& request, const char* key, int family) {
  std::vector<Pool> out;
  if (!request.contains(key) || request[key].is_null()) return out;
  if (!request[key].is_array()) return absl::InvalidArgumentError(absl::StrCat(key, ": not a list"));
  for (const auto& entry : request[key]) {
    if (!entry.is_object() || !entry.contains("Pool") || !entry["Pool"].is_string())
      return absl::InvalidArgumentError(absl::StrCat(key, ": an entry without a Pool"));
    Pool pool;
    auto subnet = ParseAddressWithPlen(entry["Pool"].get<std::string>());
    if (!subnet.ok()) return absl::InvalidArgumentError(absl::StrCat(key, " pool: ", subnet.status().message()));
    if (subnet->address.family != family)
      return absl::InvalidArgumentError(absl::StrCat(key, " pool ", subnet->ToString(), ": wrong address family"));
    pool.subnet = *subnet;
    if (entry.contains("Gateway") && entry["Gateway"].is_string() && !entry["Gateway"].get<std::string>().empty()) {
      auto gw = ParseAddressWithPlen(entry["Gateway"].get<std::string>());
      if (!gw.ok()) return absl::InvalidArgumentError(absl::StrCat(key, " gateway: ", gw.status().message()));
      pool.gateway = gw->address;
    }
    out.push_back(pool);
  }
  return out;
}

}  // namespace

DriverName DriverOfSocket(absl::string_view socket_path) {
  auto slash = socket_path.rfind('/');
  absl::string_view file = slash == absl::string_view::npos ? socket_path : socket_path.substr(slash + 1);
  return absl::EndsWith(file, "-ipvlan.sock") ? DriverName::kVnetIpvlan : DriverName::kVnet;
}

absl::string_view DriverNameText(DriverName driver) {
  return driver == DriverName::kVnetIpvlan ? "vnet-ipvlan" : "vnet";
}

absl::StatusOr<IpPrefix> ParseAddressWithPlen(absl::string_view text) {
  auto slash = text.find('/');
  auto address = IpAddress::Parse(text.substr(0, slash));
  if (!address.ok()) return address.status();
  IpPrefix out{*address, address->MaxPrefix()};
  if (slash != absl::string_view::npos) {
    int plen = -1;
    if (!absl::SimpleAtoi(text.substr(slash + 1), &plen) || plen < 0 || plen > address->MaxPrefix())
      return absl::InvalidArgumentError(absl::StrCat("'", text, "': bad prefix length"));
    out.plen = plen;
  }
  return out;
}

bool Overlaps(const IpPrefix& a, const IpPrefix& b) {
  if (a.address.family != b.address.family) return false;
  int bits = std::min(a.plen, b.plen);
  for (int i = 0; i < bits; ++i) {
    int byte = i / 8, mask = 0x80 >> (i % 8);
    if ((a.address.bytes[byte] & mask) != (b.address.bytes[byte] & mask)) return false;
  }
  return true;
}

absl::StatusOr<NetworkConfig> ParseCreateNetwork(const json& request, DriverName driver) {
  if (!request.is_object()) return absl::InvalidArgumentError("CreateNetwork: the request is no JSON object");
  NetworkConfig c;
  if (!request.contains("NetworkID") || !request["NetworkID"].is_string() || request["NetworkID"].get<std::string>().empty())
    return absl::InvalidArgumentError("CreateNetwork: no NetworkID");
  c.id = request["NetworkID"].get<std::string>();
  // Docker hands the -o options as strings under com.docker.network.generic.
  std::map<std::string, std::string> opts;
  if (request.contains("Options") && request["Options"].is_object() && request["Options"].contains(kGeneric)) {
    const json& generic = request["Options"][std::string(kGeneric)];
    if (!generic.is_object()) return absl::InvalidArgumentError("CreateNetwork: the -o options are no object");
    for (const auto& [key, value] : generic.items()) {
      if (!value.is_string()) return Bad(key, "want a string value");
      opts[key] = value.get<std::string>();
    }
  }
  auto take = [&](const std::string& key) -> std::optional<std::string> {
    auto it = opts.find(key);
    if (it == opts.end()) return std::nullopt;
    std::string v = it->second;
    opts.erase(it);
    return v;
  };

  auto kind = take("kind");
  if (driver == DriverName::kVnetIpvlan) {
    if (kind && *kind != "ipvlan") return Bad("kind", absl::StrCat("'", *kind, "': the vnet-ipvlan driver is kind ipvlan"));
    c.kind = PortKind::kIpvlan;
  } else if (kind) {
    if (*kind == "macvlan") c.kind = PortKind::kMacvlan;
    else if (*kind == "ipvlan") c.kind = PortKind::kIpvlan;
    else return Bad("kind", absl::StrCat("'", *kind, "': want macvlan or ipvlan"));
  }
  bool ipvlan = c.kind == PortKind::kIpvlan;

  auto parent = take("parent");
  if (!parent || parent->empty())
    return Bad("parent", "required: the uplink device, as -o parent=DEV (vnet makes no dummy parent)");
  if (auto s = ValidateDeviceName("parent", *parent); !s.ok()) return Bad("parent", s.message());
  c.parent = *parent;

  if (auto mode = take("macvlan_mode")) {
    if (ipvlan) return Bad("macvlan_mode", "is for kind macvlan; this network is kind ipvlan (use ipvlan_mode)");
    if (*mode == "source") return Bad("macvlan_mode", "'source': want bridge, vepa, private or passthru");
    auto m = ParsePortMode(*mode);
    if (!m.ok()) return Bad("macvlan_mode", absl::StrCat("'", *mode, "': want bridge, vepa, private or passthru"));
    c.macvlan_mode = *m;
  }
  if (auto mode = take("ipvlan_mode")) {
    if (!ipvlan) return Bad("ipvlan_mode", "is for kind ipvlan: add -o kind=ipvlan or use the vnet-ipvlan driver");
    auto m = ParseIpvlanMode(*mode);
    if (!m.ok()) return Bad("ipvlan_mode", absl::StrCat("'", *mode, "': want l2, l3 or l3s"));
    c.ipvlan_mode = *m;
  }
  if (auto flag = take("ipvlan_flag")) {
    if (!ipvlan) return Bad("ipvlan_flag", "is for kind ipvlan: add -o kind=ipvlan or use the vnet-ipvlan driver");
    auto f = ParseIpvlanFlag(*flag);
    if (!f.ok()) return Bad("ipvlan_flag", absl::StrCat("'", *flag, "': want bridge, private or vepa"));
    c.ipvlan_flag = *f;
  }
  if (auto v = take("vnet.hairpin")) {
    auto b = ParseBool("vnet.hairpin", *v);
    if (!b.ok()) return b.status();
    c.hairpin = *b;
  }
  if (auto v = take("vnet.isolated")) {
    auto b = ParseBool("vnet.isolated", *v);
    if (!b.ok()) return b.status();
    c.isolated = *b;
  }
  if (auto v = take("vnet.host")) {
    auto b = ParseBool("vnet.host", *v);
    if (!b.ok()) return b.status();
    c.host = *b;
  }
  if (auto v = take("vnet.unknown")) {
    if (*v == "drop") c.unknown = true;
    else if (*v == "pass") c.unknown = false;
    else return Bad("vnet.unknown", absl::StrCat("'", *v, "': want drop or pass"));
  }
  if (auto v = take(std::string(kMtuOption))) {
    if (!absl::SimpleAtoi(*v, &c.mtu) || c.mtu < 68 || c.mtu > 65535)
      return Bad(kMtuOption, absl::StrCat("'", *v, "': want an MTU, 68 to 65535"));
  }
  if (!opts.empty()) {
    std::vector<std::string> names;
    for (const auto& [key, value] : opts) names.push_back(key);
    return Bad(absl::StrJoin(names, ", "),
               "unknown; the driver takes parent, kind, macvlan_mode, ipvlan_mode, ipvlan_flag, vnet.hairpin, "
               "vnet.isolated, vnet.host, vnet.unknown and com.docker.network.driver.mtu");
  }
  auto v4 = ParsePools(request, "IPv4Data", 4);
  if (!v4.ok()) return v4.status();
  auto v6 = ParsePools(request, "IPv6Data", 6);
  if (!v6.ok()) return v6.status();
  c.ipv4 = *v4;
  c.ipv6 = *v6;
  return c;
}

absl::Status CheckCompatible(const NetworkConfig& a, const NetworkConfig& b) {
  std::string other = absl::StrCat("network ", a.id.substr(0, 12));
  for (const auto* pools : {&a.ipv4, &a.ipv6})
    for (const auto& pa : *pools)
      for (const auto* mine : {&b.ipv4, &b.ipv6})
        for (const auto& pb : *mine)
          if (Overlaps(pa.subnet, pb.subnet))
            return absl::AlreadyExistsError(absl::StrCat("subnet ", pb.subnet.ToString(), " overlaps ", other, "'s ",
                                                         pa.subnet.ToString(), " on parent ", a.parent));
  if (a.parent != b.parent) return absl::OkStatus();
  auto clash = [&](absl::string_view what, absl::string_view theirs, absl::string_view mine) {
    return absl::FailedPreconditionError(absl::StrCat("parent ", a.parent, " is used by ", other, " with ", what, " ",
                                                      theirs, "; this network asks for ", mine,
                                                      " (networks on one parent share one vnet fabric)"));
  };
  bool a_ipvlan = a.kind == PortKind::kIpvlan, b_ipvlan = b.kind == PortKind::kIpvlan;
  if (!a_ipvlan && a.macvlan_mode == PortMode::kPassthru)
    return clash("macvlan_mode", "passthru", "a second network (passthru takes the parent alone)");
  if (!b_ipvlan && b.macvlan_mode == PortMode::kPassthru)
    return clash("its containers", "already", "macvlan_mode passthru, which takes the parent alone");
  if (a_ipvlan && b_ipvlan) {
    if (a.ipvlan_mode != b.ipvlan_mode)
      return clash("ipvlan_mode", IpvlanModeName(a.ipvlan_mode), IpvlanModeName(b.ipvlan_mode));
    if (a.ipvlan_flag != b.ipvlan_flag)
      return clash("ipvlan_flag", IpvlanFlagName(a.ipvlan_flag), IpvlanFlagName(b.ipvlan_flag));
  }
  if (a.host && b.host && *a.host != *b.host)
    return clash("vnet.host", *a.host ? "true" : "false", *b.host ? "true" : "false");
  if (a.unknown && b.unknown && *a.unknown != *b.unknown)
    return clash("vnet.unknown", *a.unknown ? "drop" : "pass", *b.unknown ? "drop" : "pass");
  return absl::OkStatus();
}

}  // namespace vnet::docker
