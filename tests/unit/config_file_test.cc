#include "fabric/config_file.h"

#include <gtest/gtest.h>

namespace vnet {
namespace {

constexpr const char* kGood = R"(
[fabric.lan]
uplink = "eth1"
host = true
unknown = "drop"
xdp_redirect = "off"

[[fabric.lan.port]]
netns = "web"
mode = "bridge"
mac = "02:00:00:00:00:01"

[[fabric.lan.port]]
tap = "vm1"
user = 1000
mode = "source"
nodst = true
sources = ["02:00:00:00:aa:01", "02:00:00:00:aa:02"]

[fabric.dmz]
uplink = "eth2"
dhcp_max_leases = 6
[[fabric.dmz.port]]
device = "veth7"
)";

TEST(ConfigFile, ParsesEveryField) {
  auto state = ParseConfig(kGood, "vnet.conf");
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_EQ(state->fabrics.size(), 2u);
  const DesiredFabric& lan = state->fabrics[0].attach.fabric == "lan" ? state->fabrics[0] : state->fabrics[1];
  EXPECT_EQ(lan.attach.uplink, "eth1");
  EXPECT_TRUE(lan.attach.host);
  EXPECT_TRUE(lan.attach.unknown_drop);
  EXPECT_EQ(lan.attach.dhcp_max_leases, 0u);  // the default
  const DesiredFabric& dmz = state->fabrics[0].attach.fabric == "dmz" ? state->fabrics[0] : state->fabrics[1];
  EXPECT_EQ(dmz.attach.dhcp_max_leases, 6u);
  EXPECT_EQ(lan.attach.xdp_redirect, std::optional<bool>(false));
  ASSERT_EQ(lan.ports.size(), 2u);
  EXPECT_EQ(lan.ports[0].Identity(), "netns web/eth0");
  EXPECT_EQ(lan.ports[0].options.mode, PortMode::kBridge);
  EXPECT_EQ(lan.ports[0].options.mac->ToString(), "02:00:00:00:00:01");
  EXPECT_TRUE(lan.ports[0].options.spoofchk);
  EXPECT_EQ(lan.ports[1].Identity(), "tap vm1");
  EXPECT_EQ(lan.ports[1].options.tap_user, std::optional<unsigned>(1000));
  EXPECT_TRUE(lan.ports[1].options.nodst);
  EXPECT_EQ(lan.ports[1].options.sources.size(), 2u);
  EXPECT_EQ(lan.ports[0].where, "vnet.conf:8");
}

TEST(ConfigFile, EmptyFileMeansNoFabrics) {
  auto state = ParseConfig("# nothing\n", "f");
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->fabrics.empty());
}

TEST(ConfigFile, ParsesAnIpvlanFabric) {
  auto state = ParseConfig(R"(
[fabric.ip]
uplink = "eth3"
type = "ipvlan"
ipvlan_mode = "l3s"
ipvlan_flag = "private"
[[fabric.ip.port]]
netns = "web"
ips = ["198.18.0.5/24", "2001:db8::5/64", "198.18.5.0/24"]
[[fabric.ip.port]]
device = "veth9"
type = "macvlan"
mode = "bridge"
)",
                           "vnet.conf");
  ASSERT_TRUE(state.ok()) << state.status();
  const DesiredFabric& f = state->fabrics[0];
  EXPECT_EQ(f.attach.type, PortKind::kIpvlan);
  EXPECT_EQ(f.attach.ipvlan_mode, IpvlanMode::kL3s);
  EXPECT_EQ(f.attach.ipvlan_flag, IpvlanFlag::kPrivate);
  ASSERT_EQ(f.ports.size(), 2u);
  EXPECT_EQ(f.ports[0].options.type, PortKind::kIpvlan);
  ASSERT_EQ(f.ports[0].options.ips.size(), 3u);
  EXPECT_EQ(f.ports[0].options.ips[0].ToString(), "198.18.0.5/24");
  EXPECT_TRUE(f.ports[0].options.ips[2].routed);
  EXPECT_EQ(f.ports[1].options.type, PortKind::kMacvlan);
  EXPECT_EQ(f.ports[1].options.mode, PortMode::kBridge);
}

TEST(ConfigFile, IpvlanDefaultsAreTheKernels) {
  auto state = ParseConfig("[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\n", "f");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->fabrics[0].attach.type, PortKind::kMacvlan);
  EXPECT_EQ(state->fabrics[0].attach.ipvlan_mode, IpvlanMode::kL3);
  EXPECT_EQ(state->fabrics[0].attach.ipvlan_flag, IpvlanFlag::kBridge);
  EXPECT_EQ(state->fabrics[0].ports[0].options.type, PortKind::kMacvlan);
}

struct BadCase {
  const char* text;
  const char* message;  // the whole error: file, line, field, problem
};

class ConfigFileErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigFileErrors, NameFileLineAndField) {
  auto state = ParseConfig(GetParam().text, "f.conf");
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    All, ConfigFileErrors,
    ::testing::Values(
        BadCase{"[fabric.a]\n", "f.conf:1: fabric.a.uplink: missing (the uplink device)"},
        BadCase{"[fabric.a]\nuplink = 3\n", "f.conf:2: fabric.a.uplink: must be a string"},
        BadCase{"[fabric.a]\nuplink = \"e\"\nhost = \"yes\"\n", "f.conf:3: fabric.a.host: must be true or false"},
        BadCase{"[fabric.a]\nuplink = \"e\"\ndhcp_max_leases = 0\n",
                "f.conf:3: fabric.a.dhcp_max_leases: --dhcp-max-leases '0': want a number of leases per port, 1 to 64"},
        BadCase{"[fabric.a]\nuplink = \"e\"\ncolour = 1\n",
                "f.conf:3: fabric.a.colour: unknown key (want one of dhcp_max_leases, host, ipvlan_flag, ipvlan_mode, port, "
                "tc_hook, "
                "type, unknown, uplink, xdp_mode, xdp_redirect)"},
        BadCase{"[fabric.a]\nuplink = \"e\"\ntype = \"ipvlan2\"\n",
                "f.conf:3: fabric.a.type: type 'ipvlan2': want macvlan or ipvlan"},
        BadCase{"[fabric.a]\nuplink = \"e\"\nipvlan_mode = \"l4\"\n",
                "f.conf:3: fabric.a.ipvlan_mode: ipvlan mode 'l4': want l2, l3 or l3s"},
        BadCase{"[fabric.a]\nuplink = \"e\"\nipvlan_flag = \"open\"\n",
                "f.conf:3: fabric.a.ipvlan_flag: ipvlan flag 'open': want bridge, private or vepa"},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\nips = [\"198.18.0.1/40\"]\n",
                "f.conf:5: fabric.a.port[0].ips: '198.18.0.1/40': address family mismatch (an IPv4 prefix length is "
                "0-32)"},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\nips = [\"198.18.0.1\", "
                "\"198.18.0.1/24\"]\n",
                "f.conf:5: fabric.a.port[0].ips: 198.18.0.1 is given twice"},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\nips = [\"198.18.0.1\"]\n"
                "mode = \"bridge\"\n",
                "f.conf:6: fabric.a.port[0].mode: ipvlan ports share the uplink's MAC; their mode is the fabric's "
                "ipvlan_flag"},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\ntype = \"macvlan\"\n"
                "ips = [\"198.18.0.1\"]\n",
                "f.conf:6: fabric.a.port[0].ips: needs an ipvlan port (type = \"ipvlan\")"},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\nips = [\"198.18.0.1\"]\n"
                "[fabric.b]\nuplink = \"f\"\n[[fabric.b.port]]\ndevice = \"x\"\nips = [\"198.18.0.1/24\"]\n",
                "f.conf:8: fabric.b.port[0].ips: 198.18.0.1 is already an address of fabric.a.port[0]"},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\nmode = \"bridge\"\n",
                "f.conf:3: fabric.a.port[0]: give exactly one of device, netns or tap"},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\nmac = \"01:00:5e:00:00:01\"\n",
                "f.conf:5: fabric.a.port[0].mac: not a unicast MAC"},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\nnodst = true\n",
                "f.conf:5: fabric.a.port[0].nodst: needs mode = \"source\""},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\nmode = \"passthru\"\n"
                "[[fabric.a.port]]\ndevice = \"x\"\n",
                "f.conf:3: fabric.a.port: a passthru port must be the fabric's only port"},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[fabric.b]\nuplink = \"e\"\n",
                "f.conf:4: fabric.b.uplink: already the uplink of fabric a"},
        BadCase{"[fabric.\"a/b\"]\nuplink = \"e\"\n",
                "f.conf:1: fabric.a/b: fabric name 'a/b': use 1-32 letters, digits, '_', '-' or '.'"}));

}  // namespace
}  // namespace vnet
