#include "base/ip_address.h"

#include <gtest/gtest.h>

#include "fabric/l3s.h"
#include "fabric/port_helpers.h"

namespace vnet {
namespace {

TEST(IpAddress, ParsesBothFamilies) {
  auto v4 = IpAddress::Parse("198.18.0.5");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->family, 4);
  EXPECT_EQ(v4->ToString(), "198.18.0.5");
  auto v6 = IpAddress::Parse("2001:db8::5");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family, 6);
  EXPECT_EQ(v6->ToString(), "2001:db8::5");
  EXPECT_EQ(IpAddress::Parse("198.18.0").status().message(), "'198.18.0' is not an IPv4 or IPv6 address");
  EXPECT_FALSE(IpAddress::Parse("").ok());
  EXPECT_TRUE(IpAddress::Parse("fe80::1")->IsLinkLocal());
  EXPECT_FALSE(v6->IsLinkLocal());
}

TEST(PortIp, ClassifiesAddressesSubnetsAndPrefixes) {
  auto host = PortIp::Parse("198.18.0.5");
  ASSERT_TRUE(host.ok());
  EXPECT_FALSE(host->routed);
  EXPECT_EQ(host->ToString(), "198.18.0.5/32");
  EXPECT_EQ(host->Owned(), "198.18.0.5");

  auto on_subnet = PortIp::Parse("198.18.0.5/24");
  ASSERT_TRUE(on_subnet.ok());
  EXPECT_FALSE(on_subnet->routed);
  EXPECT_EQ(on_subnet->ToString(), "198.18.0.5/24");
  EXPECT_EQ(on_subnet->Owned(), "198.18.0.5");

  auto prefix = PortIp::Parse("198.18.5.0/24");
  ASSERT_TRUE(prefix.ok());
  EXPECT_TRUE(prefix->routed);
  EXPECT_EQ(prefix->Owned(), "198.18.5.0/24");

  auto v6 = PortIp::Parse("2001:db8::5/64");
  ASSERT_TRUE(v6.ok());
  EXPECT_FALSE(v6->routed);
  EXPECT_EQ(v6->Owned(), "2001:db8::5");
  auto v6net = PortIp::Parse("2001:db8:1::/48");
  ASSERT_TRUE(v6net.ok());
  EXPECT_TRUE(v6net->routed);

  // A /32 with host bits "zero" is still one address, not a prefix.
  EXPECT_FALSE(PortIp::Parse("198.18.0.0/32")->routed);
}

TEST(PortIp, RefusesWithClearMessages) {
  EXPECT_EQ(PortIp::Parse("198.18.0.1/40").status().message(),
            "'198.18.0.1/40': address family mismatch (an IPv4 prefix length is 0-32)");
  EXPECT_EQ(PortIp::Parse("2001:db8::1/129").status().message(),
            "'2001:db8::1/129': address family mismatch (an IPv6 prefix length is 0-128)");
  EXPECT_EQ(PortIp::Parse("198.18.0.1/x").status().message(), "'198.18.0.1/x': prefix length 'x' is not a number");
  EXPECT_FALSE(PortIp::Parse("198.18.0.1/").ok());
  EXPECT_FALSE(PortIp::Parse("198.18.0.1/-1").ok());
  EXPECT_FALSE(PortIp::Parse("0.0.0.0/0").ok());
  EXPECT_FALSE(PortIp::Parse("web/24").ok());
}

TEST(PortLinkLocal, IsTheUplinkEui64WithTheSlot) {
  auto mac = *MacAddress::Parse("02:11:22:33:44:55");
  EXPECT_EQ(PortLinkLocal(mac, 1).ToString(), "fe80::11:2200:133:4455");
  EXPECT_EQ(PortLinkLocal(mac, 0x0203).ToString(), "fe80::11:2202:333:4455");
  EXPECT_NE(PortLinkLocal(mac, 1), PortLinkLocal(mac, 2));
}

TEST(Eui64LinkLocal, IsWhatTheKernelDerives) {
  // `ip link add ... address 02:11:22:33:44:55` gets fe80::11:22ff:fe33:4455.
  EXPECT_EQ(Eui64LinkLocal(*MacAddress::Parse("02:11:22:33:44:55")).ToString(), "fe80::11:22ff:fe33:4455");
  EXPECT_EQ(Eui64LinkLocal(*MacAddress::Parse("d2:a5:ea:fe:58:d0")).ToString(), "fe80::d0a5:eaff:fefe:58d0");
  EXPECT_NE(Eui64LinkLocal(*MacAddress::Parse("02:11:22:33:44:55")),
            PortLinkLocal(*MacAddress::Parse("02:11:22:33:44:55"), 1));
}

TEST(L3s, HostRoutesWithNeighboursThenPrefixesThroughThem) {
  std::vector<PortAddress> addresses = {
      {IpPrefix{*IpAddress::Parse("198.18.0.5"), 32}, false, false},
      {IpPrefix{*IpAddress::Parse("198.18.5.0"), 24}, false, false},
      {IpPrefix{*IpAddress::Parse("2001:db8:1::"), 48}, false, false},
      {IpPrefix{*IpAddress::Parse("fe80::1"), 128}, false, true},
  };
  auto entries = L3sEntriesFor(7, addresses);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].route.dst.ToString(), "198.18.0.5/32");
  EXPECT_EQ(entries[0].route.oif, 7);
  EXPECT_EQ(entries[0].neighbour->ToString(), "198.18.0.5");
  EXPECT_EQ(entries[1].route.dst.ToString(), "198.18.5.0/24");
  EXPECT_EQ(entries[1].route.gateway->ToString(), "198.18.0.5");
  EXPECT_FALSE(entries[1].neighbour);
  EXPECT_FALSE(entries[2].route.gateway);  // no IPv6 address to route through
}

TEST(PortKindChoice, TypeThenIpsThenTheFabric) {
  vnet_config macvlan_fabric{}, ipvlan_fabric{};
  ipvlan_fabric.flags = VNET_FABRIC_F_IPVLAN;
  PortOptions o;
  EXPECT_EQ(*ResolvePortKind(o, macvlan_fabric, "port add x"), PortKind::kMacvlan);
  EXPECT_EQ(*ResolvePortKind(o, ipvlan_fabric, "port add x"), PortKind::kIpvlan);
  o.ips.push_back(*PortIp::Parse("198.18.0.5"));
  EXPECT_EQ(*ResolvePortKind(o, macvlan_fabric, "port add x"), PortKind::kIpvlan);
  o.type = PortKind::kMacvlan;
  EXPECT_EQ(ResolvePortKind(o, macvlan_fabric, "port add x").status().message(),
            "port add x: --ip needs an ipvlan port (a macvlan port is found by its MAC)");
  PortOptions m;
  m.macvlan_options = {"--mode", "--hairpin"};
  EXPECT_EQ(ResolvePortKind(m, ipvlan_fabric, "port add x").status().message(),
            "port add x: --mode, --hairpin: ipvlan ports share the uplink's MAC; their mode is the fabric's "
            "--ipvlan-flag");
  EXPECT_EQ(*ResolvePortKind(m, macvlan_fabric, "port add x"), PortKind::kMacvlan);
}

}  // namespace
}  // namespace vnet
