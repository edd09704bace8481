// The CNI plugin's pure parts: versions, result conversion, config decoding
// and its error codes (userspace/cni).
#include <gtest/gtest.h>

#include <string>

#include "cni/cni_env.h"
#include "cni/cni_error.h"
#include "cni/netconf.h"
#include "cni/version.h"

namespace vnet::cni {
namespace {

using nlohmann::json;

int CodeOf(const absl::Status& s) { return ToCniError(s).code; }

std::string Text(const absl::Status& s) {
  CniError e = ToCniError(s);
  return e.msg + " " + e.details;
}

absl::StatusOr<NetConf> Decode(json j, std::optional<Kind> kind = Kind::kMacvlan,
                               std::optional<std::string> mac = std::nullopt) {
  return DecodeNetConf(j.dump(), kind, mac);
}

json Base() { return {{"cniVersion", "1.0.0"}, {"name", "n"}, {"type", "vnet-macvlan"}, {"master", "up0"}}; }

TEST(CniVersion, ComparesNumerically) {
  EXPECT_LT(CompareVersions("0.4.0", "1.0.0"), 0);
  EXPECT_LT(CompareVersions("0.3.1", "0.4.0"), 0);
  EXPECT_EQ(CompareVersions("1.1.0", "1.1.0"), 0);
  EXPECT_GT(CompareVersions("1.1.0", "1.0.0"), 0);
  for (const char* v : kSupportedVersions) EXPECT_TRUE(IsSupported(v)) << v;
  EXPECT_FALSE(IsSupported("0.2.0"));
  EXPECT_FALSE(IsSupported(""));
}

TEST(CniResult, VersionFieldOnlyBelowOneZero) {
  json internal = {{"interfaces", {{{"name", "eth0"}, {"mac", "02:00:00:00:00:01"}, {"sandbox", "/x"}, {"mtu", 1500}}}},
                   {"ips", {{{"address", "198.18.0.2/24"}, {"interface", 0}},
                            {{"address", "2001:db8::2/64"}, {"interface", 0}}}}};
  for (const char* v : kSupportedVersions) {
    json out = EncodeResult(internal, v);
    EXPECT_EQ(out["cniVersion"], v);
    bool old = CompareVersions(v, "1.0.0") < 0;
    EXPECT_EQ(out["ips"][0].contains("version"), old) << v;
    if (old) {
      EXPECT_EQ(out["ips"][0]["version"], "4");
      EXPECT_EQ(out["ips"][1]["version"], "6");
    }
    EXPECT_EQ(out["interfaces"][0].contains("mtu"), std::string(v) == "1.1.0") << v;
    EXPECT_TRUE(out.contains("dns")) << v;
    // And back: a prevResult in any version reads as the internal shape.
    auto back = ParseResult(out, v);
    ASSERT_TRUE(back.ok()) << v;
    EXPECT_FALSE((*back)["ips"][0].contains("version"));
  }
  EXPECT_EQ(CodeOf(ParseResult(internal, "0.2.0").status()), kIncompatibleVersion);
  EXPECT_EQ(CodeOf(ParseResult(json{{"ips", {{{"gateway", "1.2.3.4"}}}}}, "1.0.0").status()), kDecodeFailure);
}

TEST(CniNetConf, DefaultsAreTheReferencePlugins) {
  auto c = Decode(Base());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kind, Kind::kMacvlan);
  EXPECT_EQ(c->mode, PortMode::kBridge);
  EXPECT_TRUE(c->spoofchk);
  EXPECT_TRUE(c->allow_ips);
  EXPECT_FALSE(c->host.has_value());
  EXPECT_EQ(c->mtu, 0u);
  json ipvlan = Base();
  ipvlan["ipam"] = {{"type", "host-local"}};
  auto i = Decode(ipvlan, Kind::kIpvlan);
  ASSERT_TRUE(i.ok()) << i.status();
  EXPECT_EQ(i->ipvlan_mode, IpvlanMode::kL2);
  EXPECT_EQ(i->ipvlan_flag, IpvlanFlag::kBridge);
}

TEST(CniNetConf, KindFromTheBinaryOrTheKey) {
  EXPECT_EQ(KindFromArgv0("/opt/cni/bin/vnet-ipvlan"), Kind::kIpvlan);
  EXPECT_EQ(KindFromArgv0("vnet-macvlan"), Kind::kMacvlan);
  EXPECT_EQ(KindFromArgv0("/opt/cni/bin/vnet"), std::nullopt);
  json j = Base();
  j["kind"] = "ipvlan";
  j["ipam"] = {{"type", "static"}};
  auto c = Decode(j, std::nullopt);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kind, Kind::kIpvlan);
  auto contradicts = Decode(j, Kind::kMacvlan);
  EXPECT_EQ(CodeOf(contradicts.status()), kInvalidConfig);
  EXPECT_NE(Text(contradicts.status()).find("kind"), std::string::npos);
}

TEST(CniNetConf, MacPrecedenceIsKeyThenArgsThenRuntimeConfig) {
  json j = Base();
  j["mac"] = "02:00:00:00:00:01";
  EXPECT_EQ(Decode(j)->mac->ToString(), "02:00:00:00:00:01");
  EXPECT_EQ(Decode(j, Kind::kMacvlan, "02:00:00:00:00:02")->mac->ToString(), "02:00:00:00:00:02");
  j["runtimeConfig"] = {{"mac", "02:00:00:00:00:03"}};
  EXPECT_EQ(Decode(j, Kind::kMacvlan, "02:00:00:00:00:02")->mac->ToString(), "02:00:00:00:00:03");
}

TEST(CniNetConf, ErrorCodesNameTheKey) {
  struct Case {
    const char* key;
    json value;
    int code;
  };
  for (const auto& [key, value, code] : std::vector<Case>{
           {"mode", "sideways", kInvalidConfig},
           {"mtu", -1, kInvalidConfig},
           {"mtu", "big", kDecodeFailure},
           {"mac", "01:00:5e:00:00:01", kInvalidConfig},
           {"mac", "nonsense", kInvalidConfig},
           {"master", "a/b", kInvalidConfig},
           {"fabric", ".hidden", kInvalidConfig},
           {"flag", "bridge", kInvalidConfig},  // macvlan kind has no flag
           {"spoofchk", "yes", kDecodeFailure},
           {"unknown", "maybe", kInvalidConfig},
           {"linkInContainer", true, kUnsupportedField},
       }) {
    json j = Base();
    j[key] = value;
    auto c = Decode(j);
    ASSERT_FALSE(c.ok()) << key << "=" << value;
    EXPECT_EQ(CodeOf(c.status()), code) << key << "=" << value << ": " << c.status();
    EXPECT_NE(Text(c.status()).find(key), std::string::npos) << Text(c.status());
  }
  EXPECT_EQ(CodeOf(DecodeNetConf("{nope", Kind::kMacvlan, std::nullopt).status()), kDecodeFailure);
  EXPECT_EQ(CodeOf(DecodeNetConf("[]", Kind::kMacvlan, std::nullopt).status()), kDecodeFailure);
  json old = Base();
  old["cniVersion"] = "0.2.0";
  EXPECT_EQ(CodeOf(Decode(old).status()), kIncompatibleVersion);
  old.erase("cniVersion");
  EXPECT_EQ(CodeOf(Decode(old).status()), kIncompatibleVersion);
  json ipvlan_mac = Base();
  ipvlan_mac["mac"] = "02:00:00:00:00:01";
  ipvlan_mac["ipam"] = {{"type", "static"}};
  EXPECT_EQ(CodeOf(Decode(ipvlan_mac, Kind::kIpvlan).status()), kUnsupportedField);
  json ipvlan_no_ipam = Base();
  EXPECT_EQ(CodeOf(Decode(ipvlan_no_ipam, Kind::kIpvlan).status()), kInvalidConfig);
}

TEST(CniNetConf, GcAttachments) {
  json j = Base();
  j["cniVersion"] = "1.1.0";
  j["cni.dev/valid-attachments"] = {{{"containerID", "a"}, {"ifname", "eth0"}}};
  auto c = Decode(j);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->valid_attachments.has_value());
  EXPECT_EQ(c->valid_attachments->count({"a", "eth0"}), 1u);
  j["cni.dev/valid-attachments"] = {{{"containerID", "a"}}};
  EXPECT_EQ(CodeOf(Decode(j).status()), kDecodeFailure);
}

TEST(CniEnv, MacFromArgs) {
  EXPECT_EQ(MacFromCniArgs("IgnoreUnknown=1;MAC=02:00:00:00:00:09;K8S_POD_NAME=x").value(), "02:00:00:00:00:09");
  EXPECT_FALSE(MacFromCniArgs("IgnoreUnknown=1").value().has_value());
  EXPECT_FALSE(MacFromCniArgs("").value().has_value());
  EXPECT_EQ(CodeOf(MacFromCniArgs("garbage").status()), kInvalidEnvironment);
}

TEST(CniError, JsonHasTheSpecKeys) {
  CniError e = ToCniError(Error(kInvalidConfig, "invalid config: mtu", "key 'mtu': too big"));
  json j = json::parse(ErrorJson(e, "1.0.0"));
  EXPECT_EQ(j["cniVersion"], "1.0.0");
  EXPECT_EQ(j["code"], 7);
  EXPECT_EQ(j["msg"], "invalid config: mtu");
  EXPECT_EQ(j["details"], "key 'mtu': too big");
  EXPECT_EQ(ToCniError(absl::InternalError("x")).code, kGeneric);
}

}  // namespace
}  // namespace vnet::cni
