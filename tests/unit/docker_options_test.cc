// The Docker driver's pure parts: CreateNetwork's options and pools decoded
// and refused, networks sharing a parent, the driver name a socket serves,
// the command line and the network records (userspace/docker).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "docker/args.h"
#include "docker/fabric_ops.h"
#include "docker/network_options.h"
#include "docker/network_store.h"

namespace vnet::docker {
namespace {

using nlohmann::json;

json Request(json generic, std::string id = "n1") {
  return {{"NetworkID", id},
          {"Options", {{"com.docker.network.generic", generic}, {"com.docker.network.enable_ipv6", false}}},
          {"IPv4Data", {{{"AddressSpace", "LocalDefault"}, {"Pool", "198.18.90.0/24"}, {"Gateway", "198.18.90.1/24"}}}},
          {"IPv6Data", json::array()}};
}

std::string Error(const json& r, DriverName d = DriverName::kVnet) {
  auto c = ParseCreateNetwork(r, d);
  return c.ok() ? "" : std::string(c.status().message());
}

TEST(DockerOptions, DefaultsAreDockersMacvlan) {
  auto c = ParseCreateNetwork(Request({{"parent", "up0"}}), DriverName::kVnet);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id, "n1");
  EXPECT_EQ(c->parent, "up0");
  EXPECT_EQ(c->kind, PortKind::kMacvlan);
  EXPECT_EQ(c->macvlan_mode, PortMode::kBridge);
  EXPECT_FALSE(c->hairpin);
  EXPECT_FALSE(c->isolated);
  EXPECT_FALSE(c->host.has_value());
  EXPECT_FALSE(c->unknown.has_value());
  ASSERT_EQ(c->ipv4.size(), 1u);
  EXPECT_EQ(c->ipv4[0].subnet.ToString(), "198.18.90.0/24");
  ASSERT_TRUE(c->ipv4[0].gateway.has_value());
  EXPECT_EQ(c->ipv4[0].gateway->ToString(), "198.18.90.1");
  EXPECT_TRUE(c->ipv6.empty());
}

TEST(DockerOptions, EveryOption) {
  auto c = ParseCreateNetwork(Request({{"parent", "up0"}, {"macvlan_mode", "vepa"}, {"vnet.hairpin", "true"},
                                       {"vnet.isolated", "on"}, {"vnet.host", "false"}, {"vnet.unknown", "drop"},
                                       {"com.docker.network.driver.mtu", "1400"}}),
                              DriverName::kVnet);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->macvlan_mode, PortMode::kVepa);
  EXPECT_TRUE(c->hairpin);
  EXPECT_TRUE(c->isolated);
  EXPECT_EQ(c->host, std::optional<bool>(false));
  EXPECT_EQ(c->unknown, std::optional<bool>(true));
  EXPECT_EQ(c->mtu, 1400u);
}

TEST(DockerOptions, IpvlanByKindOrDriverName) {
  auto c = ParseCreateNetwork(Request({{"parent", "up0"}, {"kind", "ipvlan"}, {"ipvlan_mode", "l3"}, {"ipvlan_flag", "private"}}),
                              DriverName::kVnet);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kind, PortKind::kIpvlan);
  EXPECT_EQ(c->ipvlan_mode, IpvlanMode::kL3);
  EXPECT_EQ(c->ipvlan_flag, IpvlanFlag::kPrivate);
  auto d = ParseCreateNetwork(Request({{"parent", "up0"}}), DriverName::kVnetIpvlan);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->kind, PortKind::kIpvlan);
  EXPECT_EQ(d->ipvlan_mode, IpvlanMode::kL2);  // Docker's ipvlan default
  EXPECT_EQ(d->ipvlan_flag, IpvlanFlag::kBridge);
}

TEST(DockerOptions, Refusals) {
  EXPECT_NE(Error(Request(json::object())).find("option parent: required"), std::string::npos);
  EXPECT_NE(Error(Request({{"parent", ""}})).find("option parent: required"), std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "a/b"}})).find("option parent"), std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "up0"}, {"color", "red"}})).find("option color: unknown"), std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "up0"}, {"macvlan_mode", "fast"}})).find("want bridge, vepa, private or passthru"),
            std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "up0"}, {"macvlan_mode", "source"}})).find("macvlan_mode"), std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "up0"}, {"ipvlan_mode", "l2"}})).find("is for kind ipvlan"), std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "up0"}, {"ipvlan_flag", "vepa"}})).find("is for kind ipvlan"), std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "up0"}, {"kind", "ipvlan"}, {"macvlan_mode", "vepa"}})).find("is for kind macvlan"),
            std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "up0"}, {"kind", "ipvlan"}, {"ipvlan_mode", "l4"}})).find("want l2, l3 or l3s"),
            std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "up0"}, {"kind", "macvlan"}}), DriverName::kVnetIpvlan).find("kind ipvlan"),
            std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "up0"}, {"kind", "bridge"}})).find("want macvlan or ipvlan"), std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "up0"}, {"vnet.hairpin", "maybe"}})).find("want true or false"), std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "up0"}, {"vnet.unknown", "flood"}})).find("want drop or pass"), std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "up0"}, {"com.docker.network.driver.mtu", "9x"}})).find("want an MTU"),
            std::string::npos);
  EXPECT_NE(Error(Request({{"parent", "up0"}, {"vnet.host", 1}})).find("want a string"), std::string::npos);
  EXPECT_NE(Error(json{{"Options", json::object()}}).find("no NetworkID"), std::string::npos);
  json bad_pool = Request({{"parent", "up0"}});
  bad_pool["IPv4Data"][0]["Pool"] = "2001:db8::/64";
  EXPECT_NE(Error(bad_pool).find("wrong address family"), std::string::npos);
}

TEST(DockerOptions, Ipv6Pools) {
  json r = Request({{"parent", "up0"}});
  r["IPv6Data"] = {{{"Pool", "2001:db8:90::/64"}, {"Gateway", "2001:db8:90::1/64"}}};
  auto c = ParseCreateNetwork(r, DriverName::kVnet);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->ipv6.size(), 1u);
  EXPECT_EQ(c->ipv6[0].gateway->ToString(), "2001:db8:90::1");
}

TEST(DockerOptions, Overlaps) {
  auto p = [](const char* t) { return *ParseAddressWithPlen(t); };
  EXPECT_TRUE(Overlaps(p("198.18.90.0/24"), p("198.18.90.128/25")));
  EXPECT_TRUE(Overlaps(p("198.18.0.0/15"), p("198.19.4.0/24")));
  EXPECT_FALSE(Overlaps(p("198.18.90.0/24"), p("198.18.91.0/24")));
  EXPECT_FALSE(Overlaps(p("198.18.90.0/24"), p("2001:db8::/32")));
  EXPECT_FALSE(ParseAddressWithPlen("198.18.0.1/33").ok());
  EXPECT_FALSE(ParseAddressWithPlen("nope/24").ok());
}

NetworkConfig Config(json generic, const char* id, const char* pool) {
  json r = Request(generic, id);
  r["IPv4Data"][0]["Pool"] = pool;
  return *ParseCreateNetwork(r, DriverName::kVnet);
}

TEST(DockerOptions, NetworksSharingAParent) {
  auto a = Config({{"parent", "up0"}}, "aaaa", "198.18.90.0/24");
  EXPECT_TRUE(CheckCompatible(a, Config({{"parent", "up0"}, {"macvlan_mode", "vepa"}}, "b", "198.18.91.0/24")).ok());
  EXPECT_TRUE(CheckCompatible(a, Config({{"parent", "up1"}}, "b", "198.18.91.0/24")).ok());
  auto clash = CheckCompatible(a, Config({{"parent", "up1"}}, "b", "198.18.90.0/25"));
  EXPECT_NE(std::string(clash.message()).find("overlaps network aaaa"), std::string::npos) << clash;
  auto passthru = CheckCompatible(a, Config({{"parent", "up0"}, {"macvlan_mode", "passthru"}}, "b", "198.18.91.0/24"));
  EXPECT_NE(std::string(passthru.message()).find("passthru"), std::string::npos) << passthru;
  auto l2 = Config({{"parent", "up0"}, {"kind", "ipvlan"}}, "c", "198.18.92.0/24");
  auto l3 = Config({{"parent", "up0"}, {"kind", "ipvlan"}, {"ipvlan_mode", "l3"}}, "d", "198.18.93.0/24");
  auto modes = CheckCompatible(l2, l3);
  EXPECT_NE(std::string(modes.message()).find("ipvlan_mode l2"), std::string::npos) << modes;
  auto drop = Config({{"parent", "up0"}, {"vnet.unknown", "drop"}}, "e", "198.18.94.0/24");
  auto pass = Config({{"parent", "up0"}, {"vnet.unknown", "pass"}}, "f", "198.18.95.0/24");
  EXPECT_FALSE(CheckCompatible(drop, pass).ok());
  EXPECT_TRUE(CheckCompatible(drop, a).ok());  // a leaves vnet.unknown as the fabric has it
}

TEST(DockerOptions, DriverOfSocket) {
  EXPECT_EQ(DriverOfSocket("/run/docker/plugins/vnet.sock"), DriverName::kVnet);
  EXPECT_EQ(DriverOfSocket("/run/docker/plugins/vnet-ipvlan.sock"), DriverName::kVnetIpvlan);
  EXPECT_EQ(DriverOfSocket("/run/docker/plugins/vt1234-ipvlan.sock"), DriverName::kVnetIpvlan);
  EXPECT_EQ(DriverOfSocket("/run/x-ipvlan.sock/vnet.sock"), DriverName::kVnet);
}

TEST(DockerOptions, Names) {
  EXPECT_EQ(EndpointAlias("net", "ep"), "docker:net:ep");
  std::string name = ContainerEndName("0123456789abcdef0123");
  EXPECT_EQ(name, "vdc0123456789ab");
  EXPECT_LE(name.size(), 15u);  // IFNAMSIZ - 1
}

TEST(DockerArgs, Parses) {
  auto a = ParseArgs({});
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->sockets.empty());
  EXPECT_EQ(a->state_dir, kDefaultStateDir);
  a = ParseArgs({"--socket", "/run/docker/plugins/x.sock", "--socket", "/tmp/y-ipvlan.sock", "--state-dir", "/tmp/s"});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->sockets.size(), 2u);
  EXPECT_EQ(a->state_dir, "/tmp/s");
  EXPECT_FALSE(ParseArgs({"--socket"}).ok());
  EXPECT_FALSE(ParseArgs({"--socket", "rel.sock"}).ok());
  EXPECT_FALSE(ParseArgs({"--bogus"}).ok());
  EXPECT_TRUE(ParseArgs({"--help"})->help);
}

TEST(DockerStore, SavesLoadsListsRemoves) {
  char tmpl[] = "/tmp/vnet-docker-unit-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = std::string(tmpl) + "/a/b";
  NetworkStore store(dir);
  ASSERT_TRUE(store.Init().ok());
  json r = Request({{"parent", "up0"}, {"kind", "ipvlan"}}, "abc123");
  NetworkRecord rec{DriverName::kVnetIpvlan, r, true, *ParseCreateNetwork(r, DriverName::kVnetIpvlan)};
  ASSERT_TRUE(store.Save(rec).ok());
  auto back = store.Load("abc123");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->driver, DriverName::kVnetIpvlan);
  EXPECT_TRUE(back->created_fabric);
  EXPECT_EQ(back->config.kind, PortKind::kIpvlan);
  EXPECT_EQ(back->config.parent, "up0");
  EXPECT_EQ(store.List().size(), 1u);
  EXPECT_TRUE(absl::IsNotFound(store.Load("other").status()));
  EXPECT_FALSE(store.Load("../etc").ok());
  ASSERT_TRUE(store.Remove("abc123").ok());
  EXPECT_TRUE(store.List().empty());
  EXPECT_TRUE(store.Remove("abc123").ok());  // twice is fine
  std::system(("rm -rf " + std::string(tmpl)).c_str());
}

}  // namespace
}  // namespace vnet::docker
