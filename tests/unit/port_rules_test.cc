// The port rules of port add and port set (macvlan's address and mode rules,
// the kind of a new port, slots) against in-memory tables: no kernel.
#include <gtest/gtest.h>

#include "fabric/port_helpers.h"
#include "memory_tables.h"

namespace vnet {
namespace {

MacAddress Mac(const char* text) { return *MacAddress::Parse(text); }

class PortRules : public ::testing::Test {
 protected:
  PortRules() {
    auto uplink = Mac("02:00:00:00:00:fe");
    std::memcpy(tables.config.uplink_mac, uplink.bytes.data(), 6);
    tables.AddPort(10, 1, Mac("02:00:00:00:00:01"));
    tables.AddPort(11, 2, Mac("02:00:00:00:00:02"), VNET_MODE_BRIDGE);
  }
  absl::Status Check(std::uint32_t self, PortMode mode, const char* mac) {
    auto ports = tables.ListPorts();
    EXPECT_TRUE(ports.ok());
    return CheckPortRules(tables, tables.config, *ports, self, mode, Mac(mac), "port add veth9");
  }
  MemoryTables tables;
};

TEST_F(PortRules, FreshUnicastMacIsAccepted) { EXPECT_TRUE(Check(12, PortMode::kBridge, "02:00:00:00:00:03").ok()); }

TEST_F(PortRules, MacOfAnotherPortIsInUse) {
  auto s = Check(12, PortMode::kVepa, "02:00:00:00:00:02");
  EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
  EXPECT_EQ(s.message(), "port add veth9: MAC 02:00:00:00:00:02 is in use by another port");
  // A port keeps its own MAC (port set of another option).
  EXPECT_TRUE(Check(11, PortMode::kPrivate, "02:00:00:00:00:02").ok());
}

TEST_F(PortRules, UplinkMacAndMulticastAreRefused) {
  auto s = Check(12, PortMode::kVepa, "02:00:00:00:00:fe");
  EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
  EXPECT_EQ(s.message(), "port add veth9: MAC 02:00:00:00:00:fe is the uplink's (address in use)");
  s = Check(12, PortMode::kVepa, "01:00:5e:00:00:01");
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(s.message(), "port add veth9: MAC 01:00:5e:00:00:01 is not a unicast address");
}

TEST_F(PortRules, PassthruTakesTheFabricAlone) {
  auto s = Check(12, PortMode::kPassthru, "02:00:00:00:00:fe");
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(s.message(), "port add veth9: a passthru port must be the fabric's only port");
  MemoryTables alone;
  alone.AddPort(20, 1, Mac("02:00:00:00:00:fe"), VNET_MODE_PASSTHRU);
  auto ports = *alone.ListPorts();
  s = CheckPortRules(alone, alone.config, ports, 21, PortMode::kVepa, Mac("02:00:00:00:00:05"), "port add x");
  EXPECT_EQ(s.message(), "port add x: the fabric has a passthru port, which takes it alone");
  EXPECT_EQ(CheckNoPassthru(ports, 21, "port add y").message(),
            "port add y: the fabric has a passthru port, which takes it alone");
  // The passthru port itself may be checked again (port set).
  EXPECT_TRUE(CheckNoPassthru(ports, 20, "port set").ok());
}

TEST(FreeSlot, LowestFreeAfterTheUplinksAndFullIsRefused) {
  MemoryTables tables;
  EXPECT_EQ(*FreeSlot(*tables.ListPorts()), 1);
  tables.AddPort(10, 1, Mac("02:00:00:00:00:01"));
  tables.AddPort(11, 3, Mac("02:00:00:00:00:03"));
  EXPECT_EQ(*FreeSlot(*tables.ListPorts()), 2);
  for (std::uint16_t slot = 1; slot < VNET_MAX_PORTS; ++slot) {
    MacAddress mac = Mac("02:00:00:00:00:00");
    mac.bytes[4] = static_cast<std::uint8_t>(slot >> 8);
    mac.bytes[5] = static_cast<std::uint8_t>(slot);
    tables.AddPort(1000u + slot, slot, mac);
  }
  auto full = FreeSlot(*tables.ListPorts());
  EXPECT_TRUE(absl::IsResourceExhausted(full.status())) << full.status();
}

TEST(ResolvePortKind, FromTypeIpsAndTheFabric) {
  vnet_config macvlan{}, ipvlan{};
  ipvlan.flags = VNET_FABRIC_F_IPVLAN;
  PortOptions o;
  EXPECT_EQ(*ResolvePortKind(o, macvlan, "port add"), PortKind::kMacvlan);
  EXPECT_EQ(*ResolvePortKind(o, ipvlan, "port add"), PortKind::kIpvlan);
  o.ips.push_back(*PortIp::Parse("198.18.0.11"));
  EXPECT_EQ(*ResolvePortKind(o, macvlan, "port add"), PortKind::kIpvlan);  // --ip makes it ipvlan
  o.type = PortKind::kMacvlan;
  EXPECT_EQ(ResolvePortKind(o, macvlan, "port add").status().message(),
            "port add: --ip needs an ipvlan port (a macvlan port is found by its MAC)");
}

TEST(ResolvePortKind, IpvlanRefusesMacvlanOptions) {
  vnet_config ipvlan{};
  ipvlan.flags = VNET_FABRIC_F_IPVLAN;
  PortOptions o;
  o.macvlan_options = {"--mode", "--mac"};
  auto kind = ResolvePortKind(o, ipvlan, "port add");
  EXPECT_TRUE(absl::IsInvalidArgument(kind.status()));
  EXPECT_EQ(kind.status().message(),
            "port add: --mode, --mac: ipvlan ports share the uplink's MAC; their mode is the fabric's --ipvlan-flag");
  PortOptions allow;
  allow.allow_ips.push_back(*ParseAllowIp("198.18.0.0/24"));
  EXPECT_TRUE(absl::IsInvalidArgument(ResolvePortKind(allow, ipvlan, "port add").status()));
}

}  // namespace
}  // namespace vnet
