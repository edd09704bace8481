// VXLAN fabrics without a kernel: the settings' rules (fabric/vxlan_settings.h),
// the config keys (fabric/config_file.h) and apply's plan for them.
#include <gtest/gtest.h>

#include "fabric/config_file.h"
#include "fabric/plan.h"
#include "fabric/vxlan_settings.h"

namespace vnet {
namespace {

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

TEST(Vxlan, VniRange) {
  EXPECT_EQ(*ParseVni("1"), 1u);
  EXPECT_EQ(*ParseVni("16777215"), 16777215u);
  for (const char* bad : {"0", "16777216", "-1", "x", ""}) EXPECT_FALSE(ParseVni(bad).ok()) << bad;
}

TEST(Vxlan, Dstport) {
  EXPECT_EQ(*ParseDstport("4789"), 4789);
  EXPECT_FALSE(ParseDstport("0").ok());
  EXPECT_FALSE(ParseDstport("65536").ok());
}

TEST(Vxlan, RemotesAreUnicastHosts) {
  EXPECT_TRUE(ParseRemote("198.18.0.2").ok());
  EXPECT_TRUE(ParseRemote("2001:db8::2").ok());
  for (const char* bad : {"239.1.1.1", "ff02::1", "0.0.0.0", "::", "255.255.255.255", "198.18.0.300", "host"})
    EXPECT_FALSE(ParseRemote(bad).ok()) << bad;
}

TEST(Vxlan, OverlayMtu) {
  EXPECT_EQ(*OverlayMtu(1500, 4), 1450u);
  EXPECT_EQ(*OverlayMtu(1500, 6), 1430u);
  EXPECT_EQ(*OverlayMtu(9000, 4), 8950u);
  EXPECT_FALSE(OverlayMtu(100, 4).ok());
}

TEST(Vxlan, DefaultNameAndLocal) {
  VxlanOptions o;
  o.vni = 42;
  EXPECT_EQ(VxlanDeviceName(o), "vx42");
  o.name = "ov0";
  EXPECT_EQ(VxlanDeviceName(o), "ov0");
  std::vector<IpPrefix> have = {{Ip("fe80::1"), 64}, {Ip("2001:db8::1"), 64}, {Ip("198.18.0.1"), 24}};
  EXPECT_EQ(ChooseLocal(have, 0), Ip("198.18.0.1"));  // IPv4 first when no remote says otherwise
  EXPECT_EQ(ChooseLocal(have, 6), Ip("2001:db8::1"));  // never the link-local
  EXPECT_FALSE(ChooseLocal({{Ip("fe80::1"), 64}}, 6).has_value());
}

TEST(Vxlan, OptionsCheckFamiliesAndDuplicates) {
  VxlanOptions o;
  o.vni = 7;
  o.underlay = "eth0";
  o.remotes = {Ip("198.18.0.2"), Ip("198.18.0.3")};
  EXPECT_TRUE(CheckVxlanOptions(o).ok());
  o.remotes.push_back(Ip("2001:db8::2"));
  EXPECT_FALSE(CheckVxlanOptions(o).ok());
  o.remotes = {Ip("198.18.0.2"), Ip("198.18.0.2")};
  EXPECT_FALSE(CheckVxlanOptions(o).ok());
  o.remotes = {Ip("198.18.0.2")};
  o.local = Ip("2001:db8::1");
  EXPECT_FALSE(CheckVxlanOptions(o).ok());
}

TEST(Vxlan, CreatedMarkNamesTheFabric) {
  EXPECT_TRUE(IsCreatedVxlan(CreatedVxlanAlias("lan"), "lan"));
  EXPECT_FALSE(IsCreatedVxlan(CreatedVxlanAlias("lan"), "lan2"));
  EXPECT_FALSE(IsCreatedVxlan("", "lan"));
}

TEST(Vxlan, DiffRemotesTouchesOnlyTheChanged) {
  RemoteDiff d = DiffRemotes({Ip("198.18.0.2"), Ip("198.18.0.4")}, {Ip("198.18.0.3"), Ip("198.18.0.2")});
  EXPECT_EQ(d.add, std::vector<IpAddress>{Ip("198.18.0.4")});
  EXPECT_EQ(d.remove, std::vector<IpAddress>{Ip("198.18.0.3")});
}

constexpr const char* kVxlanFile = R"(
[fabric.ov]
vxlan = 100
underlay = "eth1"
remotes = ["198.18.0.2", "198.18.0.3"]
dstport = 8472
)";

TEST(VxlanConfig, ParsesTheKeys) {
  auto state = ParseConfig(kVxlanFile, "vnet.conf");
  ASSERT_TRUE(state.ok()) << state.status();
  const AttachOptions& a = state->fabrics.at(0).attach;
  ASSERT_TRUE(a.vxlan.has_value());
  EXPECT_EQ(a.uplink, "vx100");
  EXPECT_EQ(a.vxlan->vni, 100u);
  EXPECT_EQ(a.vxlan->underlay, "eth1");
  EXPECT_EQ(a.vxlan->dstport, 8472);
  EXPECT_EQ(a.vxlan->remotes.size(), 2u);
}

TEST(VxlanConfig, Refusals) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"[fabric.ov]\nvxlan = 0\nunderlay = \"eth1\"\n", "vnet.conf:2: fabric.ov.vxlan"},
      {"[fabric.ov]\nvxlan = 5\n", "fabric.ov.underlay: missing"},
      {"[fabric.ov]\nvxlan = 5\nunderlay = \"eth1\"\nuplink = \"eth2\"\n", "fabric.ov.uplink: not with vxlan"},
      {"[fabric.ov]\nuplink = \"eth2\"\nremotes = [\"198.18.0.2\"]\n", "fabric.ov.remotes: only with vxlan"},
      {"[fabric.ov]\nvxlan = 5\nunderlay = \"eth1\"\nremotes = [\"198.18.0.2\", \"239.0.0.1\"]\n",
       "fabric.ov.remotes: remote 239.0.0.1"},
      {"[fabric.ov]\nvxlan = 5\nunderlay = \"eth1\"\nremotes = [\"198.18.0.2\", \"2001:db8::2\"]\n", "IPv6"},
      {"[fabric.a]\nvxlan = 5\nunderlay = \"eth1\"\n[fabric.b]\nvxlan = 5\nunderlay = \"eth2\"\n",
       "already the uplink of fabric a"},
  };
  for (const auto& c : cases) {
    auto state = ParseConfig(c.text, "vnet.conf");
    ASSERT_FALSE(state.ok()) << c.text;
    EXPECT_NE(state.status().message().find(c.want), std::string::npos) << state.status().message();
  }
}

RunningFabric RunningVxlan(std::vector<IpAddress> remotes, std::uint32_t vni = 100) {
  RunningFabric f;
  f.info.name = "ov";
  f.info.uplink = "vx100";
  f.info.xdp_mode = "none";
  f.info.tc_hook = "tcx";
  f.info.xdp_redirect = false;
  VxlanInfo v;
  v.vni = vni;
  v.underlay = "eth1";
  v.dstport = 8472;
  v.remotes = std::move(remotes);
  v.created = true;
  f.info.vxlan = v;
  return f;
}

std::vector<std::string> Texts(const std::vector<PlanAction>& plan) {
  std::vector<std::string> out;
  for (const auto& a : plan) out.push_back(a.text);
  return out;
}

TEST(VxlanPlan, AttachNamesTheDevice) {
  auto want = *ParseConfig(kVxlanFile, "vnet.conf");
  EXPECT_EQ(Texts(Plan(want, {}, {})),
            std::vector<std::string>{"attach fabric ov to vx100 (create VXLAN 100 on eth1, 2 remote(s))"});
}

TEST(VxlanPlan, RemotesDiffedInPlace) {
  auto want = *ParseConfig(kVxlanFile, "vnet.conf");
  std::map<std::string, std::string> uplinks = {{"vx100", "vxlan"}};
  EXPECT_TRUE(Plan(want, {RunningVxlan({Ip("198.18.0.2"), Ip("198.18.0.3")})}, uplinks).empty());
  auto plan = Plan(want, {RunningVxlan({Ip("198.18.0.2"), Ip("198.18.0.9")})}, uplinks);
  EXPECT_EQ(Texts(plan), (std::vector<std::string>{"delete remote 198.18.0.9 of fabric ov",
                                                   "add remote 198.18.0.3 to fabric ov"}));
  EXPECT_EQ(plan[0].remote, Ip("198.18.0.9"));
}

TEST(VxlanPlan, AnotherVniIsANewDevice) {
  auto want = *ParseConfig(kVxlanFile, "vnet.conf");
  std::map<std::string, std::string> uplinks = {{"vx100", "vxlan"}};
  auto plan = Plan(want, {RunningVxlan({}, 101)}, uplinks);
  ASSERT_FALSE(plan.empty());
  EXPECT_EQ(plan[0].text, "detach fabric ov");
  // A user-made VXLAN device the file now asks vnet to make: not the same.
  RunningFabric user = RunningVxlan({Ip("198.18.0.2"), Ip("198.18.0.3")});
  user.info.vxlan->created = false;
  EXPECT_EQ(Plan(want, {user}, uplinks).at(0).text, "detach fabric ov");
}

}  // namespace
}  // namespace vnet
