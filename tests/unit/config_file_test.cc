#include "fabric/config_file.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

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

TEST(ConfigFile, AllowIpsOfAMacvlanPort) {
  auto state = ParseConfig(
      "[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\nnetns = \"web\"\n"
      "allow_ips = [\"2001:db8::/64\", \"198.18.0.11\", \"198.18.0.12/32\"]\n"
      "[[fabric.a.port]]\ndevice = \"d\"\nallow_ips = []\n",
      "f.conf");
  ASSERT_TRUE(state.ok()) << state.status();
  const auto& ports = state->fabrics[0].ports;
  EXPECT_EQ(AllowIpTexts(ports[0].options.allow_ips),
            (std::vector<std::string>{"198.18.0.11/32", "198.18.0.12/32", "2001:db8::/64"}));
  EXPECT_TRUE(ports[1].options.allow_ips.empty());  // no list: no IP check
}

TEST(ConfigFile, UserAndGroupAre32BitIds) {
  // 4294967296 used to wrap to uid 0.
  for (const char* key : {"user", "group"}) {
    for (const char* value : {"4294967296", "4294967295", "9223372036854775807", "-1"}) {
      std::string text = absl::StrCat("[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ntap = \"vm1\"\n", key,
                                      " = ", value, "\n");
      auto state = ParseConfig(text, "f.conf");
      ASSERT_FALSE(state.ok()) << key << " = " << value;
      EXPECT_EQ(state.status().message(),
                absl::StrCat("f.conf:5: fabric.a.port[0].", key, ": must be a numeric id (0-4294967294)"));
    }
    auto ok = ParseConfig(
        absl::StrCat("[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ntap = \"vm1\"\n", key, " = 4294967294\n"), "f");
    ASSERT_TRUE(ok.ok()) << ok.status();
    const auto& o = ok->fabrics[0].ports[0].options;
    EXPECT_EQ(key[0] == 'u' ? o.tap_user : o.tap_group, std::optional<unsigned>(4294967294u));
  }
}

TEST(ConfigFile, NamesAreCheckedBeforeAnyDeviceIsLookedUp) {
  // What --dry-run validates: 16-byte names, '%' templates, a leading '.'.
  struct Case {
    std::string port;  // the port table's body, or "" for the uplink case
    std::string message;
  };
  std::vector<Case> cases = {
      {"device = \"a234567890123456\"",
       "f.conf:4: fabric.a.port[0].device: device 'a234567890123456': not a valid device name (longer than 15 bytes)"},
      {"netns = \"web\"\nifname = \"a234567890123456\"",
       "f.conf:5: fabric.a.port[0].ifname: ifname 'a234567890123456': not a valid device name (longer than 15 bytes)"},
      {"tap = \"a234567890123456\"",
       "f.conf:4: fabric.a.port[0].tap: tap 'a234567890123456': not a valid device name (longer than 15 bytes)"},
      {"tap = \"vm%d\"",
       "f.conf:4: fabric.a.port[0].tap: tap 'vm%d': not a valid device name ('%' makes it a name template)"},
      {"netns = \"web\"\nifname = \"eth%d\"",
       "f.conf:5: fabric.a.port[0].ifname: ifname 'eth%d': not a valid device name ('%' makes it a name template)"},
      {"netns = \"w%b\"", "f.conf:4: fabric.a.port[0].netns: netns 'w%b': not a valid network namespace name (no '%')"},
      {"device = \"v%d\"",
       "f.conf:4: fabric.a.port[0].device: device 'v%d': not a valid device name ('%' makes it a name template)"},
  };
  for (const auto& c : cases) {
    auto state = ParseConfig(absl::StrCat("[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\n", c.port, "\n"), "f.conf");
    ASSERT_FALSE(state.ok()) << c.port;
    EXPECT_EQ(state.status().message(), c.message);
  }
  auto up = ParseConfig("[fabric.a]\nuplink = \"a234567890123456\"\n", "f.conf");
  EXPECT_EQ(up.status().message(),
            "f.conf:2: fabric.a.uplink: uplink 'a234567890123456': not a valid device name (longer than 15 bytes)");
  auto dot = ParseConfig("[fabric.\".a\"]\nuplink = \"e\"\n", "f.conf");
  EXPECT_EQ(dot.status().message(), "f.conf:1: fabric..a: fabric name '.a': may not start with '.'");
  auto fifteen = ParseConfig("[fabric.a]\nuplink = \"a23456789012345\"\n[[fabric.a.port]]\nnetns = \"w\"\n"
                             "ifname = \"b23456789012345\"\n", "f.conf");
  EXPECT_TRUE(fifteen.ok()) << fifteen.status();
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
                "f.conf:3: fabric.a.colour: unknown key (want one of dhcp_max_leases, dstport, host, ipvlan_flag, "
                "ipvlan_mode, local, port, remotes, storm_limit, tc_hook, type, underlay, unknown, uplink, vxlan, vxlan_name, "
                "xdp_mode, xdp_redirect)"},
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
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\nallow_ips = [\"198.18.0.11/24\"]\n",
                "f.conf:5: fabric.a.port[0].allow_ips: '198.18.0.11/24' has host bits set: give 198.18.0.11 for the "
                "address or 198.18.0.0/24 for the prefix"},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\n"
                "allow_ips = [\"198.18.0.11\", \"198.18.0.11/32\"]\n",
                "f.conf:5: fabric.a.port[0].allow_ips: 198.18.0.11/32 is given twice"},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\nallow_ips = \"198.18.0.11\"\n",
                "f.conf:5: fabric.a.port[0].allow_ips: must be an array of addresses or prefixes (\"ADDR\" or "
                "\"NET/PLEN\")"},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\nallow_ips = [\"none\"]\n",
                "f.conf:5: fabric.a.port[0].allow_ips: 'none' is not an IPv4 or IPv6 address"},
        BadCase{"[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\ndevice = \"d\"\nips = [\"198.18.0.5\"]\n"
                "allow_ips = [\"198.18.0.5\"]\n",
                "f.conf:6: fabric.a.port[0].allow_ips: is for MAC-demux (macvlan) ports; an ipvlan port may send only "
                "from its ips"},
        BadCase{"[fabric.a]\nuplink = \"e\"\ntype = \"ipvlan\"\n[[fabric.a.port]]\ndevice = \"d\"\n"
                "allow_ips = [\"198.18.0.5\"]\n",
                "f.conf:6: fabric.a.port[0].allow_ips: is for MAC-demux (macvlan) ports; an ipvlan port may send only "
                "from its ips"},
        BadCase{"[fabric.\"a/b\"]\nuplink = \"e\"\n",
                "f.conf:1: fabric.a/b: fabric name 'a/b': use 1-32 letters, digits, '_', '-' or '.'"}));

}  // namespace
}  // namespace vnet
