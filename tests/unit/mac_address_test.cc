#include "base/mac_address.h"

#include <gtest/gtest.h>

namespace vnet {
namespace {

TEST(MacAddress, ParsesColonAndDashForms) {
  auto colon = MacAddress::Parse("02:AB:cd:00:11:ff");
  ASSERT_TRUE(colon.ok()) << colon.status();
  EXPECT_EQ(colon->ToString(), "02:ab:cd:00:11:ff");
  auto dash = MacAddress::Parse("02-ab-cd-00-11-ff");
  ASSERT_TRUE(dash.ok());
  EXPECT_EQ(*dash, *colon);
}

TEST(MacAddress, RejectsMalformed) {
  for (const char* bad : {"", "02:ab:cd:00:11", "02:ab:cd:00:11:ff:00", "zz:ab:cd:00:11:ff", "02:ab-cd:00:11:ff",
                          "02ab:cd:00:11:ff:", "02:ab:cd:00:11:f"}) {
    auto mac = MacAddress::Parse(bad);
    EXPECT_FALSE(mac.ok()) << bad;
    if (!mac.ok()) {
      EXPECT_NE(mac.status().message().find("malformed MAC"), absl::string_view::npos);
    }
  }
}

TEST(MacAddress, Classifies) {
  EXPECT_TRUE(MacAddress::Parse("01:00:5e:00:00:01")->IsGroup());
  EXPECT_TRUE(MacAddress::Parse("ff:ff:ff:ff:ff:ff")->IsGroup());
  EXPECT_TRUE(MacAddress::Parse("00:00:00:00:00:00")->IsZero());
  EXPECT_FALSE(MacAddress::Parse("00:00:00:00:00:00")->IsValidUnicast());
  EXPECT_TRUE(MacAddress::Parse("02:00:00:00:00:01")->IsValidUnicast());
}

TEST(MacAddress, LocalUnicastSetsTheLocalBitAndClearsTheGroupBit) {
  for (std::uint8_t first : {0x00, 0x01, 0x03, 0xff, 0xfe}) {
    auto mac = MacAddress::LocalUnicast({first, 0, 0, 0, 0, 0});
    EXPECT_TRUE(mac.IsValidUnicast()) << mac.ToString();
    EXPECT_TRUE(mac.IsLocallyAdministered()) << mac.ToString();
    EXPECT_EQ(mac.bytes[0] & 0xfc, first & 0xfc);
  }
  EXPECT_EQ(MacAddress::LocalUnicast({0x11, 0x22, 0x33, 0x44, 0x55, 0x66}).ToString(), "12:22:33:44:55:66");
  EXPECT_FALSE(MacAddress::Parse("00:11:22:33:44:55")->IsLocallyAdministered());
}

TEST(MacAddress, PickFreeLocalMacSkipsTakenOnes) {
  std::uint8_t n = 0;
  auto entropy = [&n] { return std::array<std::uint8_t, 6>{0, 0, 0, 0, 0, n++}; };
  auto taken = [](const MacAddress& mac) { return mac.bytes[5] < 3; };
  auto mac = PickFreeLocalMac(entropy, taken);
  ASSERT_TRUE(mac.ok()) << mac.status();
  EXPECT_EQ(mac->ToString(), "02:00:00:00:00:03");
  auto none = PickFreeLocalMac(entropy, [](const MacAddress&) { return true; });
  EXPECT_TRUE(absl::IsResourceExhausted(none.status()));
}

}  // namespace
}  // namespace vnet
