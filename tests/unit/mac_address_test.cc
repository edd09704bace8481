#include "netlink/mac_address.h"

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

}  // namespace
}  // namespace vnet
