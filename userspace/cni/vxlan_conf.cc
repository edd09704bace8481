#include "cni/vxlan_conf.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cni/cni_error.h"

namespace vnet::cni {
namespace {

using nlohmann::json;

bool Given(const json& j, const char* key) { return j.contains(key) && !j[key].is_null(); }

}  // namespace

absl::StatusOr<std::optional<VxlanOptions>> DecodeVxlanKeys(const json& j) {
  if (!Given(j, "vxlan")) {
    for (const char* key : {"underlay", "remotes", "local", "dstport"})
      if (Given(j, key)) return InvalidKey(key, "needs 'vxlan' (the VNI)");
    return std::optional<VxlanOptions>();
  }
  VxlanOptions o;
  if (!j["vxlan"].is_number_integer()) return KeyWrongType("vxlan", "an integer (the VNI)");
  auto vni = ParseVni(std::to_string(j["vxlan"].get<std::int64_t>()));
  if (!vni.ok()) return InvalidKey("vxlan", vni.status().message());
  o.vni = *vni;
  if (Given(j, "master"))
    return InvalidKey("master", "not with 'vxlan': the master is the VXLAN device the plugin makes on 'underlay'");

  if (!Given(j, "underlay")) return InvalidKey("underlay", "missing (the device VXLAN packets leave by)");
  if (!j["underlay"].is_string()) return KeyWrongType("underlay", "a string");
  o.underlay = j["underlay"].get<std::string>();
  if (auto s = ValidateDeviceName("underlay", o.underlay); !s.ok()) return InvalidKey("underlay", s.message());

  if (Given(j, "remotes")) {
    if (!j["remotes"].is_array()) return KeyWrongType("remotes", "a list of addresses");
    for (const auto& r : j["remotes"]) {
      if (!r.is_string()) return KeyWrongType("remotes", "a list of addresses");
      auto addr = ParseRemote(r.get<std::string>());
      if (!addr.ok()) return InvalidKey("remotes", addr.status().message());
      o.remotes.push_back(*addr);
    }
  }
  if (Given(j, "local")) {
    if (!j["local"].is_string()) return KeyWrongType("local", "a string");
    auto addr = IpAddress::Parse(j["local"].get<std::string>());
    if (!addr.ok()) return InvalidKey("local", absl::StrCat("'", j["local"].get<std::string>(), "' is no address"));
    o.local = *addr;
  }
  if (Given(j, "dstport")) {
    if (!j["dstport"].is_number_integer()) return KeyWrongType("dstport", "an integer");
    auto port = ParseDstport(std::to_string(j["dstport"].get<std::int64_t>()));
    if (!port.ok()) return InvalidKey("dstport", port.status().message());
    o.dstport = *port;
  }
  // Families, duplicates: libvnet's one check, its words kept in the details.
  if (auto s = CheckVxlanOptions(o); !s.ok()) return InvalidKey("remotes", s.message());
  return std::optional<VxlanOptions>(o);
}

std::string VxlanMaster(const VxlanOptions& want) { return VxlanDeviceName(want); }

absl::StatusOr<unsigned> VxlanMtuCeiling(const VxlanOptions& want) {
  std::string master = VxlanMaster(want);
  if (auto mtu = DeviceMtu(master); mtu.ok()) return *mtu;
  auto underlay = DeviceMtu(want.underlay);
  if (absl::IsNotFound(underlay.status()))
    return InvalidKey("underlay", absl::StrCat("no device ", want.underlay, " here"));
  if (!underlay.ok()) return WithCode(underlay.status(), kGeneric, absl::StrCat("reading underlay ", want.underlay));
  int family = want.local ? want.local->family : (want.remotes.empty() ? 4 : want.remotes.front().family);
  auto mtu = OverlayMtu(*underlay, family);
  if (!mtu.ok()) return InvalidKey("underlay", mtu.status().message());
  return *mtu;
}

absl::Status CheckVxlanMatches(const VxlanOptions& want, const FabricInfo& running) {
  auto differs = [&](absl::string_view key, const std::string& has, const std::string& asked) {
    return InvalidKey(key, absl::StrCat("fabric ", running.name, " runs with ", key, " ", has, ", the config asks for ",
                                     asked, " (a running fabric is never changed by the plugin)"));
  };
  if (!running.vxlan)
    return InvalidKey("vxlan", absl::StrCat("fabric ", running.name, " runs on ", running.uplink,
                                         ", which is not a VXLAN device"));
  const VxlanInfo& v = *running.vxlan;
  if (v.vni != want.vni) return differs("vxlan", std::to_string(v.vni), std::to_string(want.vni));
  if (v.underlay != want.underlay)
    return differs("underlay", v.underlay.empty() ? "none" : v.underlay, want.underlay);
  if (want.local && v.local != want.local)
    return differs("local", v.local ? v.local->ToString() : "none", want.local->ToString());
  if (v.dstport != want.dstport) return differs("dstport", std::to_string(v.dstport), std::to_string(want.dstport));
  return absl::OkStatus();
}

}  // namespace vnet::cni
