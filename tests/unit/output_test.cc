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
  p.flags = VNET_PORT_F_SPOOFCHK;
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

}  // namespace
}  // namespace vnet
