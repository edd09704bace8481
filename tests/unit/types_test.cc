#include "fabric/types.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "fabric/undo.h"
#include "loader/errors.h"

namespace vnet {
namespace {

TEST(PortMode, RoundTripsEveryMode) {
  for (const char* name : {"private", "vepa", "bridge", "passthru", "source"}) {
    auto mode = ParsePortMode(name);
    ASSERT_TRUE(mode.ok()) << name;
    EXPECT_EQ(PortModeName(*mode), name);
  }
  EXPECT_FALSE(ParsePortMode("Bridge").ok());
  EXPECT_FALSE(ParsePortMode("").ok());
}

TEST(PortMode, ValuesAreTheKernelMacvlanBits) {
  // The datapath tests mode sets as bit masks, like macvlan's enum.
  EXPECT_EQ(static_cast<int>(PortMode::kPrivate), 1);
  EXPECT_EQ(static_cast<int>(PortMode::kVepa), 2);
  EXPECT_EQ(static_cast<int>(PortMode::kBridge), 4);
  EXPECT_EQ(static_cast<int>(PortMode::kPassthru), 8);
  EXPECT_EQ(static_cast<int>(PortMode::kSource), 16);
}

TEST(OnOff, AcceptsOnlyOnAndOff) {
  EXPECT_EQ(*ParseOnOff("--hairpin", "on"), true);
  EXPECT_EQ(*ParseOnOff("--hairpin", "off"), false);
  auto bad = ParseOnOff("--hairpin", "yes");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "--hairpin 'yes': want on or off");
}

TEST(FabricName, AllowsOnlySafeDirectoryNames) {
  EXPECT_TRUE(ValidateFabricName("up0").ok());
  EXPECT_TRUE(ValidateFabricName("fab_1.a-b").ok());
  for (const char* bad : {"", ".", "..", "a/b", "a b", "../x", "name-that-is-way-too-long-for-vnet-1234"})
    EXPECT_FALSE(ValidateFabricName(bad).ok()) << bad;
}

TEST(Ipvlan, KindsModesAndFlagsRoundTrip) {
  for (const char* name : {"macvlan", "ipvlan"}) EXPECT_EQ(PortKindName(*ParsePortKind(name)), name);
  for (const char* name : {"l2", "l3", "l3s"}) EXPECT_EQ(IpvlanModeName(*ParseIpvlanMode(name)), name);
  for (const char* name : {"bridge", "private", "vepa"}) EXPECT_EQ(IpvlanFlagName(*ParseIpvlanFlag(name)), name);
  EXPECT_EQ(ParsePortKind("macvtap").status().message(), "type 'macvtap': want macvlan or ipvlan");
  EXPECT_EQ(ParseIpvlanMode("L3").status().message(), "ipvlan mode 'L3': want l2, l3 or l3s");
  EXPECT_EQ(ParseIpvlanFlag("").status().message(), "ipvlan flag '': want bridge, private or vepa");
}

TEST(Ipvlan, ModeAndFlagValuesAreTheAbis) {
  EXPECT_EQ(static_cast<int>(IpvlanMode::kL2), VNET_IPVLAN_L2);
  EXPECT_EQ(static_cast<int>(IpvlanMode::kL3s), VNET_IPVLAN_L3S);
  EXPECT_EQ(static_cast<int>(IpvlanFlag::kPrivate), VNET_IPVLAN_F_PRIVATE);
  EXPECT_EQ(static_cast<int>(IpvlanFlag::kVepa), VNET_IPVLAN_F_VEPA);
}

TEST(DropReasons, IpvlanReasonsHaveTheirNames) {
  EXPECT_EQ(DropReasonName(VNET_DROP_SPOOFED_IP), "spoofed_ip");
  EXPECT_EQ(DropReasonName(VNET_DROP_TRUNCATED_L3), "truncated_l3");
  EXPECT_EQ(DropReasonName(VNET_DROP_PRIVATE), "private");
  EXPECT_EQ(DropReasonName(VNET_DROP_L3_GROUP), "l3_group");
  EXPECT_EQ(DropReasonName(VNET_DROP_NO_ROUTE), "no_route");
}

TEST(DropReasons, EveryReasonHasADistinctName) {
  std::set<std::string> names;
  for (int r = 0; r < VNET_DROP__MAX; ++r) {
    std::string name(DropReasonName(r));
    EXPECT_NE(name, "unknown") << "reason " << r;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(VNET_DROP__MAX));
  EXPECT_EQ(DropReasonName(VNET_DROP__MAX), "unknown");
}

TEST(Errors, NameTheStepAndObject) {
  auto status = ErrnoStatus(-19, "attach XDP on", "up0");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "attach XDP on up0: No such device");
  EXPECT_EQ(ErrnoStatus(16, "x", "y").code(), absl::StatusCode::kAlreadyExists);
  auto annotated = Annotate(status, "attach");
  EXPECT_EQ(annotated.message(), "attach: attach XDP on up0: No such device");
  EXPECT_TRUE(Annotate(absl::OkStatus(), "x").ok());
}

TEST(Undo, RunsStepsInReverseUnlessCommitted) {
  std::string log;
  {
    Undo undo;
    undo.Push([&] { log += "a"; });
    undo.Push([&] { log += "b"; });
  }
  EXPECT_EQ(log, "ba");
  {
    Undo undo;
    undo.Push([&] { log += "c"; });
    undo.Commit();
  }
  EXPECT_EQ(log, "ba");
}

}  // namespace
}  // namespace vnet
