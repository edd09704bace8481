// apply's comparison of an ipvlan port's addresses with the file's.
#include <gtest/gtest.h>

#include "fabric/apply.h"

namespace vnet {
namespace {

PortIp Ip(const char* text) { return *PortIp::Parse(text); }

IpPrefix Prefix(const char* address, int plen) { return IpPrefix{*IpAddress::Parse(address), plen}; }

PortAddress Have(const char* address, int plen, bool learned = false, bool link_local = false) {
  return PortAddress{Prefix(address, plen), learned, link_local};
}

std::vector<std::string> Texts(const std::vector<PortIp>& ips) {
  std::vector<std::string> out;
  for (const auto& ip : ips) out.push_back(ip.ToString());
  return out;
}

TEST(DiffIps, SameAddressesSameLengthsIsNoChange) {
  auto diff = DiffIps({Ip("198.18.0.5/24"), Ip("2001:db8::5/64"), Ip("198.18.5.0/24")},
                      {Have("198.18.0.5", 32), Have("2001:db8::5", 128), Have("198.18.5.0", 24),
                       Have("fe80::1", 128, false, true), Have("198.18.0.9", 32, true)},
                      std::vector<IpPrefix>{Prefix("198.18.0.5", 24), Prefix("2001:db8::5", 64),
                                            Prefix("fe80::1", 64), Prefix("198.18.0.9", 24)});
  EXPECT_TRUE(diff.add.empty());
  EXPECT_TRUE(diff.remove.empty());
  EXPECT_TRUE(diff.relength.empty());
}

TEST(DiffIps, ChangedPrefixLengthAloneIsARelength) {
  auto diff = DiffIps({Ip("198.18.0.5/25"), Ip("2001:db8::5/64")}, {Have("198.18.0.5", 32), Have("2001:db8::5", 128)},
                      std::vector<IpPrefix>{Prefix("198.18.0.5", 24), Prefix("2001:db8::5", 64)});
  EXPECT_TRUE(diff.add.empty());
  EXPECT_TRUE(diff.remove.empty());
  EXPECT_EQ(Texts(diff.relength), std::vector<std::string>{"198.18.0.5/25"});
}

TEST(DiffIps, AddressMissingOnTheContainerSideIsConfiguredAgain) {
  auto diff = DiffIps({Ip("198.18.0.5")}, {Have("198.18.0.5", 32)}, std::vector<IpPrefix>{});
  EXPECT_EQ(Texts(diff.relength), std::vector<std::string>{"198.18.0.5/32"});
}

TEST(DiffIps, WithoutTheContainerSideLengthsAreNotCompared) {
  // A DEV port: the container side is the operator's.
  auto diff = DiffIps({Ip("198.18.0.5/25")}, {Have("198.18.0.5", 32)}, std::nullopt);
  EXPECT_TRUE(diff.relength.empty());
  EXPECT_TRUE(diff.add.empty());
}

TEST(DiffIps, RoutedPrefixesAreComparedByTheTableAlone) {
  auto diff = DiffIps({Ip("198.18.5.0/25")}, {Have("198.18.5.0", 24)}, std::vector<IpPrefix>{});
  EXPECT_EQ(Texts(diff.remove), std::vector<std::string>{"198.18.5.0/24"});
  EXPECT_EQ(Texts(diff.add), std::vector<std::string>{"198.18.5.0/25"});
  EXPECT_TRUE(diff.relength.empty());
}

TEST(DiffIps, AddAndRemove) {
  auto diff = DiffIps({Ip("198.18.0.6/24")}, {Have("198.18.0.5", 32)},
                      std::vector<IpPrefix>{Prefix("198.18.0.5", 24)});
  EXPECT_EQ(Texts(diff.remove), std::vector<std::string>{"198.18.0.5/32"});
  EXPECT_EQ(Texts(diff.add), std::vector<std::string>{"198.18.0.6/24"});
  EXPECT_TRUE(diff.relength.empty());
}

}  // namespace
}  // namespace vnet
