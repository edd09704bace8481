#include "vnetctl/output.h"

#include <gtest/gtest.h>

namespace vnet {
namespace {

TEST(Output, CountersJsonHasEveryDropReasonAndTotal) {
  Counters c{"f", "vnp1", false, {}};
  c.stats.rx_packets = 7;
  c.stats.drops[VNET_DROP_SPOOFED_SRC] = 3;
  c.stats.drops[VNET_DROP_UNKNOWN_DST] = 2;
  auto j = CountersToJson(c);
  EXPECT_EQ(j["device"], "vnp1");
  EXPECT_EQ(j["role"], "port");
  EXPECT_EQ(j["rx_packets"], 7);
  EXPECT_EQ(j["dropped"], 5);
  EXPECT_EQ(j["drops"]["spoofed_src"], 3);
  EXPECT_EQ(j["drops"].size(), static_cast<std::size_t>(VNET_DROP__MAX));
  std::string text = CountersToText({c});
  EXPECT_NE(text.find("spoofed_src=3"), std::string::npos);
  EXPECT_NE(text.find("unknown_dst=2"), std::string::npos);
}

TEST(Output, FabricJsonAndTextCarryTheSameFields) {
  FabricInfo f;
  f.name = "fab";
  f.uplink = "up0";
  f.uplink_mac = *MacAddress::Parse("02:00:00:00:00:01");
  f.xdp_mode = "native";
  PortInfo p;
  p.name = "vnp1";
  p.mac = *MacAddress::Parse("02:00:00:00:00:02");
  p.mode = PortMode::kBridge;
  p.flags = DecodePortFlags(VNET_PORT_F_SPOOFCHK);
  p.up = p.carrier = true;
  f.ports.push_back(p);
  auto j = FabricToJson(f);
  EXPECT_EQ(j["ports"][0]["mode"], "bridge");
  EXPECT_EQ(j["ports"][0]["spoofchk"], true);
  EXPECT_EQ(j["unknown"], "pass");
  std::string text = FabricsToText({f});
  EXPECT_NE(text.find("fabric fab: uplink up0 (02:00:00:00:00:01)"), std::string::npos);
  EXPECT_NE(text.find("02:00:00:00:00:02"), std::string::npos);
  EXPECT_NE(text.find("bridge"), std::string::npos);
  EXPECT_EQ(FabricsToText({}), "no fabrics\n");
}

TEST(Output, AllowIpsInJsonAndText) {
  FabricInfo f;
  f.name = "fab";
  PortInfo p;
  p.name = "vnp3";
  p.mode = PortMode::kBridge;
  p.flags = DecodePortFlags(VNET_PORT_F_SPOOFCHK | VNET_PORT_F_ALLOW_IP);
  p.allow_ips = *ParseAllowIps({"198.18.0.11", "2001:db8::/64"}, false);
  PortInfo q;
  q.name = "vnp4";
  f.ports = {p, q};
  auto j = FabricToJson(f);
  EXPECT_EQ(j["ports"][0]["allow_ips"], nlohmann::json({"198.18.0.11/32", "2001:db8::/64"}));
  EXPECT_EQ(j["ports"][0]["flags"], nlohmann::json({"spoofchk", "allow-ip"}));
  EXPECT_EQ(j["ports"][1]["allow_ips"], nlohmann::json::array());  // always there, empty: no check
  std::string text = FabricsToText({f});
  EXPECT_NE(text.find("    allow-ip: 198.18.0.11/32 2001:db8::/64\n"), std::string::npos) << text;
  EXPECT_NE(text.find("spoofchk,allow-ip"), std::string::npos) << text;
  EXPECT_EQ(text.find("allow-ip: \n"), std::string::npos) << text;
}

TEST(Output, IpvlanPortHasTypeAddressesAndNoMode) {
  FabricInfo f;
  f.name = "ipf";
  f.type = PortKind::kIpvlan;
  f.ipvlan_mode = IpvlanMode::kL3s;
  f.ipvlan_flag = IpvlanFlag::kPrivate;
  PortInfo p;
  p.name = "vnp2";
  p.type = PortKind::kIpvlan;
  p.addresses.push_back(PortAddress{IpPrefix{*IpAddress::Parse("198.18.0.5"), 32}, false, false});
  p.addresses.push_back(PortAddress{IpPrefix{*IpAddress::Parse("198.18.5.0"), 24}, false, false});
  p.addresses.push_back(PortAddress{IpPrefix{*IpAddress::Parse("198.18.0.9"), 32}, true, false});
  p.addresses.push_back(PortAddress{IpPrefix{*IpAddress::Parse("fe80::1"), 128}, false, true});
  f.ports.push_back(p);
  PortInfo m;
  m.name = "vnp3";
  m.mode = PortMode::kBridge;
  f.ports.push_back(m);
  auto j = FabricToJson(f);
  EXPECT_EQ(j["type"], "ipvlan");
  EXPECT_EQ(j["ipvlan_mode"], "l3s");
  EXPECT_EQ(j["ipvlan_flag"], "private");
  const auto& port = j["ports"][0];
  EXPECT_EQ(port["type"], "ipvlan");
  EXPECT_TRUE(port["mode"].is_null());
  ASSERT_EQ(port["addresses"].size(), 4u);
  EXPECT_EQ(port["addresses"][0], (nlohmann::json{{"address", "198.18.0.5/32"}, {"learned", false}, {"link_local", false}}));
  EXPECT_EQ(port["addresses"][1]["address"], "198.18.5.0/24");
  EXPECT_EQ(port["addresses"][2]["learned"], true);
  EXPECT_EQ(port["addresses"][3]["link_local"], true);
  EXPECT_EQ(j["ports"][1]["type"], "macvlan");
  EXPECT_EQ(j["ports"][1]["mode"], "bridge");
  EXPECT_FALSE(j["ports"][1].contains("addresses"));
  std::string text = FabricsToText({f});
  EXPECT_NE(text.find("type ipvlan ipvlan l3s/private"), std::string::npos) << text;
  EXPECT_NE(text.find("198.18.5.0/24"), std::string::npos);
  EXPECT_NE(text.find("198.18.0.9/32 (learned)"), std::string::npos);
  EXPECT_NE(text.find("fe80::1/128 (link-local)"), std::string::npos);
}

TEST(Output, CountersNameTheIpvlanDrops) {
  Counters c{"f", "vnp1", false, {}};
  c.stats.drops[VNET_DROP_NO_ROUTE] = 4;
  auto j = CountersToJson(c);
  for (const char* name : {"spoofed_ip", "truncated_l3", "private", "l3_group", "no_route"})
    EXPECT_TRUE(j["drops"].contains(name)) << name;
  EXPECT_EQ(j["drops"]["no_route"], 4);
  EXPECT_NE(CountersToText({c}).find("no_route=4"), std::string::npos);
}

}  // namespace
}  // namespace vnet
