#include "fabric/types.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "fabric/undo.h"
#include "base/errors.h"

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
  EXPECT_TRUE(ValidateFabricName("a.").ok());
  for (const char* bad : {"", ".", "..", "a/b", "a b", "../x", "name-that-is-way-too-long-for-vnet-1234", "a%d"})
    EXPECT_FALSE(ValidateFabricName(bad).ok()) << bad;
}

TEST(FabricName, RefusesALeadingDot) {
  // Hidden entries under the pin root are not fabrics (issue 10, item 9).
  for (const char* bad : {".hidden", ".a", "..x", ".1"}) {
    auto s = ValidateFabricName(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.message(), absl::StrCat("fabric name '", bad, "': may not start with '.'"));
  }
}

TEST(DeviceName, RefusesTemplatesLongNamesAndSeparators) {
  for (const char* good : {"eth0", "vnp0123abcd", "a23456789012345", "tap-vm.1"})
    EXPECT_TRUE(ValidateDeviceName("--ifname", good).ok()) << good;
  EXPECT_EQ(ValidateDeviceName("--ifname", "eth%d").message(),
            "--ifname 'eth%d': not a valid device name ('%' makes it a name template)");
  EXPECT_EQ(ValidateDeviceName("--tap", "a234567890123456").message(),
            "--tap 'a234567890123456': not a valid device name (longer than 15 bytes)");
  for (const char* bad : {"", ".", "..", "a/b", "a:1", "a b", "a\tb", "%", "x%"})
    EXPECT_FALSE(ValidateDeviceName("DEV", bad).ok()) << bad;
}

TEST(NetnsName, RefusesPercentAndPaths) {
  EXPECT_TRUE(ValidateNetnsName("--netns", "web-1.prod").ok());
  EXPECT_EQ(ValidateNetnsName("--netns", "ns%d").message(),
            "--netns 'ns%d': not a valid network namespace name (no '%')");
  for (const char* bad : {"", ".", "..", "a/b", "../x"}) EXPECT_FALSE(ValidateNetnsName("--netns", bad).ok()) << bad;
}

TEST(AllowIp, AddressesAndPrefixes) {
  EXPECT_EQ(ParseAllowIp("198.18.0.11")->ToString(), "198.18.0.11/32");
  EXPECT_EQ(ParseAllowIp("198.18.0.11/32")->ToString(), "198.18.0.11/32");
  EXPECT_EQ(ParseAllowIp("198.18.4.0/22")->ToString(), "198.18.4.0/22");
  EXPECT_EQ(ParseAllowIp("2001:DB8::1")->ToString(), "2001:db8::1/128");
  EXPECT_EQ(ParseAllowIp("2001:db8:1::/48")->ToString(), "2001:db8:1::/48");
  EXPECT_EQ(ParseAllowIp("fe80::1")->ToString(), "fe80::1/128");
  // A whole family: the other one is still checked.
  EXPECT_EQ(ParseAllowIp("0.0.0.0/0")->ToString(), "0.0.0.0/0");
  EXPECT_EQ(ParseAllowIp("::/0")->ToString(), "::/0");
}

TEST(AllowIp, HostBitsWithAPrefixLengthAreAmbiguous) {
  EXPECT_EQ(ParseAllowIp("198.18.0.11/24").status().message(),
            "'198.18.0.11/24' has host bits set: give 198.18.0.11 for the address or 198.18.0.0/24 for the prefix");
  EXPECT_EQ(ParseAllowIp("2001:db8::5/64").status().message(),
            "'2001:db8::5/64' has host bits set: give 2001:db8::5 for the address or 2001:db8::/64 for the prefix");
}

TEST(AllowIp, RefusesWhatIsNoSource) {
  EXPECT_EQ(ParseAllowIp("198.18.0.1/33").status().message(), "'198.18.0.1/33': an IPv4 prefix length is 0-32");
  EXPECT_EQ(ParseAllowIp("2001:db8::/129").status().message(), "'2001:db8::/129': an IPv6 prefix length is 0-128");
  for (const char* bad : {"198.18.0.1/", "198.18.0.1/x", "198.18.0.1/+8", "198.18.0.1/-1", "198.18.0.256", "",
                          "none", "02:00:00:00:00:01", "198.18.0.0/24/1"})
    EXPECT_FALSE(ParseAllowIp(bad).ok()) << bad;
  for (const char* bad : {"224.0.0.1", "239.0.0.0/8", "224.0.0.0/4", "255.255.255.255", "0.0.0.0", "ff02::1",
                          "ff00::/8", "::"}) {
    auto p = ParseAllowIp(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_NE(p.status().message().find("no source address"), absl::string_view::npos) << p.status();
  }
}

TEST(AllowIp, ListsAreSortedWithoutDuplicatesAndBounded) {
  auto list = ParseAllowIps({"2001:db8::1", "198.18.0.12", "198.18.0.11", "198.18.0.0/24"}, true);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(AllowIpTexts(*list),
            (std::vector<std::string>{"198.18.0.0/24", "198.18.0.11/32", "198.18.0.12/32", "2001:db8::1/128"}));
  EXPECT_EQ(ParseAllowIps({"198.18.0.11", "198.18.0.11/32"}, true).status().message(),
            "198.18.0.11/32 is given twice");
  EXPECT_TRUE(ParseAllowIps({"none"}, true)->empty());
  EXPECT_EQ(ParseAllowIps({"none", "198.18.0.1"}, true).status().message(), "'none' clears the list: give it alone");
  EXPECT_FALSE(ParseAllowIps({"none"}, false).ok());
  std::vector<std::string> many;
  for (std::size_t i = 0; i < kMaxAllowIps; ++i) many.push_back(absl::StrCat("198.18.1.", i));
  EXPECT_EQ(ParseAllowIps(many, true)->size(), kMaxAllowIps);
  many.push_back("198.18.2.1");
  EXPECT_EQ(ParseAllowIps(many, true).status().message(),
            absl::StrCat(kMaxAllowIps + 1, " entries: a port allows at most ", kMaxAllowIps, " addresses or prefixes"));
}

TEST(AllowIp, ApplyRewritesADifferentListOrAFlagWithoutItsList) {
  auto want = *ParseAllowIps({"198.18.0.11", "2001:db8::/64"}, false);
  PortInfo have;
  have.allow_ips = want;
  have.flags = DecodePortFlags(VNET_PORT_F_SPOOFCHK | VNET_PORT_F_ALLOW_IP);
  EXPECT_FALSE(AllowIpsNeedChange(want, have));
  have.flags = DecodePortFlags(VNET_PORT_F_SPOOFCHK);  // the list without its flag
  EXPECT_TRUE(AllowIpsNeedChange(want, have));
  have.flags.allow_ip = true;
  have.allow_ips.pop_back();
  EXPECT_TRUE(AllowIpsNeedChange(want, have));
  PortInfo none;
  EXPECT_FALSE(AllowIpsNeedChange({}, none));
  none.flags = DecodePortFlags(VNET_PORT_F_ALLOW_IP);  // a flag without its list drops every IP frame
  EXPECT_TRUE(AllowIpsNeedChange({}, none));
  none.flags = PortFlags{};
  EXPECT_TRUE(AllowIpsNeedChange(want, none));
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
