// maps/: the ABI's flag words as named fields, both ways.
#include <gtest/gtest.h>

#include "maps/fabric_bits.h"
#include "maps/port_bits.h"

namespace vnet {
namespace {

TEST(FabricFlags, EveryNamedBitRoundTripsAlone) {
  for (std::uint32_t bit = 1; bit; bit <<= 1) {
    if (!(bit & kNamedFabricFlags)) continue;
    FabricFlags f = DecodeFabricFlags(bit);
    EXPECT_NE(f, FabricFlags{}) << "bit " << bit << " decodes to nothing";
    EXPECT_EQ(EncodeFabricFlags(f), bit) << "bit " << bit;
  }
  EXPECT_EQ(EncodeFabricFlags(DecodeFabricFlags(kNamedFabricFlags)), kNamedFabricFlags);
}

TEST(FabricFlags, FieldsAreTheAbisBits) {
  FabricFlags f;
  f.defunct = true;
  f.set_forwarding = true;
  EXPECT_EQ(EncodeFabricFlags(f), std::uint32_t{VNET_FABRIC_F_DEFUNCT | VNET_FABRIC_F_SET_FORWARDING});
  EXPECT_TRUE(DecodeFabricFlags(VNET_FABRIC_F_NO_XDP).no_xdp);
  EXPECT_TRUE(DecodeFabricFlags(VNET_FABRIC_F_IPVLAN).ipvlan);
}

TEST(FabricFlags, SettingKeepsBitsThisBuildDoesNotName) {
  vnet_config config{};
  const std::uint32_t future = 1u << 31;
  ASSERT_FALSE(future & kNamedFabricFlags);
  config.flags = future | VNET_FABRIC_F_HOST;
  FabricFlags f = FabricFlagsOf(config);
  EXPECT_TRUE(f.host);
  f.host = false;
  f.has_sources = true;
  SetFabricFlags(config, f);
  EXPECT_EQ(config.flags, future | VNET_FABRIC_F_HAS_SOURCES);
}

TEST(PortFlags, SettingKeepsOwnershipAndOwnershipIsNoDatapathFlag) {
  vnet_port port{};
  SetPortOwned(port, true);
  PortFlags f;
  f.hairpin = true;
  f.allow_ip = true;
  SetPortFlags(port, f);
  EXPECT_TRUE(PortOwned(port));
  EXPECT_EQ(FlagsOf(port), f);
  EXPECT_EQ(DatapathFlags(port), VNET_PORT_F_HAIRPIN | VNET_PORT_F_ALLOW_IP);
  SetPortOwned(port, false);
  EXPECT_FALSE(PortOwned(port));
  EXPECT_EQ(FlagsOf(port), f);
}

}  // namespace
}  // namespace vnet
