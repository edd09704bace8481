// The table effects of port add, set and del (fabric/port_record.h,
// fabric/port_tables.h) against in-memory tables: what each writes, what the
// refusals leave, and that a write failing midway leaves the tables as they
// were.
#include <gtest/gtest.h>

#include <algorithm>

#include "fabric/ip_ports.h"
#include "fabric/port_record.h"
#include "fabric/port_tables.h"
#include "memory_tables.h"

namespace vnet {
namespace {

MacAddress Mac(const char* text) { return *MacAddress::Parse(text); }
IpPrefix Prefix(const char* text) { return PortIp::Parse(text)->prefix; }
PortIp Ip(const char* text) { return *PortIp::Parse(text); }

vnet_port MakePort(std::uint16_t slot, const MacAddress& mac, std::uint8_t mode, std::uint8_t flags = 0) {
  vnet_port port{};
  std::memcpy(port.mac, mac.bytes.data(), 6);
  port.slot = slot;
  port.mode = mode;
  port.flags = flags;
  return port;
}

bool InFlood(const MemoryTables& t, std::uint32_t ifindex) {
  return std::any_of(t.flood.begin(), t.flood.end(), [&](const vnet_flood_entry& e) { return e.ifindex == ifindex; });
}

// A fabric with one bridge port (ifindex 10, slot 1) published the way port
// add publishes it, so the tables are consistent before each test.
class PortTables : public ::testing::Test {
 protected:
  PortTables() {
    auto uplink = Mac("02:00:00:00:00:fe");
    std::memcpy(tables.config.uplink_mac, uplink.bytes.data(), 6);
    tables.config.uplink_ifindex = 2;
    existing = MakePort(1, Mac("02:00:00:00:00:01"), VNET_MODE_BRIDGE, VNET_PORT_F_XDP_TARGET);
    Undo undo;
    EXPECT_TRUE(RecordNewPort(tables, NewPortRecord{10, existing, {}, {}, std::nullopt, {}}, undo, Ok, "seed").ok());
    undo.Commit();
  }
  static absl::Status Ok() { return absl::OkStatus(); }

  // Runs RecordNewPort as port add does: committed on success, undone on failure.
  absl::Status Record(const NewPortRecord& record, const std::function<absl::Status()>& listen = Ok) {
    Undo undo;
    auto status = RecordNewPort(tables, record, undo, listen, "port add veth9");
    tables.fail_writes_after.reset();  // the undo's own writes succeed
    if (status.ok()) undo.Commit();
    return status;
  }

  MemoryTables tables;
  vnet_port existing{};
};

TEST_F(PortTables, MacvlanPortIsPublishedEverywhere) {
  auto port = MakePort(2, Mac("02:00:00:00:00:02"), VNET_MODE_SOURCE, VNET_PORT_F_HAIRPIN | VNET_PORT_F_ALLOW_IP);
  bool listened_before_publish = false;
  auto listen = [&]() -> absl::Status {
    // The port program knows its port before the wire side can deliver to it.
    listened_before_publish = tables.ports.count(11) && !tables.macs.count(Mac("02:00:00:00:00:02").bytes);
    return absl::OkStatus();
  };
  ASSERT_TRUE(Record({11, port, {Prefix("198.18.5.0/24")}, {Mac("02:00:00:00:aa:01")}, std::nullopt, {}}, listen).ok());
  EXPECT_TRUE(listened_before_publish);
  ASSERT_TRUE(tables.ports.count(11));
  EXPECT_EQ(tables.ports[11].slot, 2);
  auto mac = tables.macs.find(Mac("02:00:00:00:00:02").bytes);
  ASSERT_NE(mac, tables.macs.end());
  EXPECT_EQ(mac->second.ifindex, 11u);
  EXPECT_EQ(mac->second.slot, 2);
  EXPECT_TRUE(InFlood(tables, 10));
  EXPECT_TRUE(InFlood(tables, 11));
  EXPECT_TRUE(tables.tx_targets.count(10));
  EXPECT_FALSE(tables.tx_targets.count(11));  // no NAPI peer: not an XDP redirect target
  EXPECT_TRUE(tables.allow.count({2, Prefix("198.18.5.0/24")}));
  EXPECT_TRUE(tables.sources.count(Mac("02:00:00:00:aa:01").bytes));
  EXPECT_TRUE(tables.config.flags & VNET_FABRIC_F_HAS_SOURCES);
  EXPECT_TRUE(tables.config.flags & VNET_FABRIC_F_HAS_HAIRPIN);
  EXPECT_FALSE(tables.config.flags & VNET_FABRIC_F_HAS_IP_PORTS);
  EXPECT_TRUE(tables.cleared_stats.count(2));
}

TEST_F(PortTables, IpvlanPortIsFoundByAddressesNotByMac) {
  auto uplink = MacAddress::FromBytes(tables.config.uplink_mac);
  auto port = MakePort(2, uplink, VNET_MODE_IPVLAN);
  auto ll = *IpAddress::Parse("fe80::1");
  ASSERT_TRUE(Record({11, port, {}, {}, ll, {Ip("198.18.1.2"), Ip("198.18.9.0/24")}}).ok());
  EXPECT_FALSE(tables.macs.count(uplink.bytes));
  ASSERT_TRUE(tables.ips.count(*IpAddress::Parse("198.18.1.2")));
  EXPECT_EQ(tables.ips[*IpAddress::Parse("198.18.1.2")].ifindex, 11u);
  ASSERT_TRUE(tables.ips.count(ll));
  EXPECT_TRUE(tables.ips[ll].ip_flags & VNET_IP_F_LINK_LOCAL);
  EXPECT_TRUE(tables.ip_nets.count(Prefix("198.18.9.0/24")));
  EXPECT_TRUE(tables.config.flags & VNET_FABRIC_F_HAS_IP_PORTS);
  EXPECT_TRUE(tables.config.flags & VNET_FABRIC_F_HAS_IP_NETS);
  auto addresses = AddressesOf(tables, 11);
  ASSERT_TRUE(addresses.ok());
  ASSERT_EQ(addresses->size(), 3u);
  EXPECT_TRUE(addresses->back().link_local);  // listed last
}

TEST_F(PortTables, PassthruPortFillsTheConfigSlot) {
  // The seed port goes first: passthru takes the fabric alone.
  ASSERT_TRUE(WithdrawPort(tables, 10, existing).ok());
  auto port = MakePort(1, MacAddress::FromBytes(tables.config.uplink_mac), VNET_MODE_PASSTHRU, VNET_PORT_F_SPOOFCHK);
  ASSERT_TRUE(Record({12, port, {}, {}, std::nullopt, {}}).ok());
  EXPECT_EQ(tables.config.passthru_ifindex, 12u);
  EXPECT_EQ(tables.config.passthru_slot, 1);
  EXPECT_EQ(tables.config.passthru_flags, VNET_PORT_F_SPOOFCHK);
  ASSERT_TRUE(WithdrawPort(tables, 12, port).ok());
  EXPECT_EQ(tables.config.passthru_ifindex, 0u);
}

// Every write of a port add failing in turn: each failure leaves the tables
// byte for byte as they were (the undo of every step that ran).
TEST_F(PortTables, AFailedWriteAnywhereLeavesTheTablesAsBefore) {
  auto port = MakePort(2, Mac("02:00:00:00:00:02"), VNET_MODE_SOURCE, VNET_PORT_F_ALLOW_IP);
  NewPortRecord record{11, port, {Prefix("198.18.5.0/24"), Prefix("2001:db8::/64")},
                       {Mac("02:00:00:00:aa:01"), Mac("02:00:00:00:aa:02")}, std::nullopt, {}};
  const std::string before = tables.Snapshot();
  // How many writes a successful add makes, on a copy.
  MemoryTables copy = tables;
  copy.writes = 0;
  {
    Undo undo;
    ASSERT_TRUE(RecordNewPort(copy, record, undo, Ok, "port add veth9").ok());
    undo.Commit();
  }
  const int total = copy.writes;
  ASSERT_GT(total, 8);
  for (int n = 0; n < total; ++n) {
    tables.fail_writes_after = n;
    tables.writes = 0;
    auto status = Record(record);
    ASSERT_FALSE(status.ok()) << "write " << n + 1 << " of " << total;
    EXPECT_EQ(tables.Snapshot(), before) << "after write " << n + 1 << " of " << total << " failed: " << status;
  }
  // The same for an ipvlan port's address steps.
  auto ip_port = MakePort(3, MacAddress::FromBytes(tables.config.uplink_mac), VNET_MODE_IPVLAN);
  NewPortRecord ip_record{12, ip_port, {}, {}, *IpAddress::Parse("fe80::3"), {Ip("198.18.1.3"), Ip("198.18.7.0/24")}};
  for (int n = 0;; ++n) {
    tables.fail_writes_after = n;
    tables.writes = 0;
    if (Record(ip_record).ok()) break;
    EXPECT_EQ(tables.Snapshot(), before) << "ipvlan, write " << n + 1;
  }
  EXPECT_NE(tables.Snapshot(), before);  // the run without a failure did publish
}

TEST_F(PortTables, AFailedListenIsUndoneAndItsErrorReturned) {
  const std::string before = tables.Snapshot();
  auto port = MakePort(2, Mac("02:00:00:00:00:02"), VNET_MODE_VEPA, VNET_PORT_F_ALLOW_IP);
  auto status = Record({11, port, {Prefix("198.18.5.0/24")}, {}, std::nullopt, {}},
                       [] { return absl::UnavailableError("tc attach veth9: busy"); });
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_EQ(tables.Snapshot(), before);
}

TEST_F(PortTables, AllowListFailureNamesTheCommand) {
  tables.fail_writes_after = 1;  // the counters clear, then the first allow entry fails
  tables.writes = 0;
  auto port = MakePort(2, Mac("02:00:00:00:00:02"), VNET_MODE_VEPA, VNET_PORT_F_ALLOW_IP);
  auto status = Record({11, port, {Prefix("198.18.5.0/24")}, {}, std::nullopt, {}});
  EXPECT_EQ(status.message().substr(0, 16), "port add veth9: ") << status;
}

// port del: everything of the port goes, nothing of the other port.
TEST_F(PortTables, WithdrawRemovesThePortEverywhere) {
  const std::string before = tables.Snapshot();
  auto port = MakePort(2, Mac("02:00:00:00:00:02"), VNET_MODE_SOURCE, VNET_PORT_F_HAIRPIN | VNET_PORT_F_ALLOW_IP);
  ASSERT_TRUE(Record({11, port, {Prefix("198.18.5.0/24")}, {Mac("02:00:00:00:aa:01")}, std::nullopt, {}}).ok());
  tables.dhcp[77] = vnet_dhcp_xact{};
  tables.dhcp[77].ifindex = 11;
  ASSERT_TRUE(WithdrawPort(tables, 11, port).ok());
  EXPECT_FALSE(tables.dhcp.count(77));  // its open DHCP transaction too
  EXPECT_EQ(tables.Snapshot(), before);
  EXPECT_FALSE(tables.config.flags & (VNET_FABRIC_F_HAS_SOURCES | VNET_FABRIC_F_HAS_HAIRPIN));
}

// Detach withdraws all ports at once: same end state as one by one.
TEST_F(PortTables, WithdrawPortsEmptiesTheFabric) {
  auto a = MakePort(2, Mac("02:00:00:00:00:02"), VNET_MODE_SOURCE, VNET_PORT_F_ALLOW_IP);
  auto b = MakePort(3, MacAddress::FromBytes(tables.config.uplink_mac), VNET_MODE_IPVLAN);
  ASSERT_TRUE(Record({11, a, {Prefix("198.18.5.0/24")}, {Mac("02:00:00:00:aa:01")}, std::nullopt, {}}).ok());
  ASSERT_TRUE(Record({12, b, {}, {}, std::nullopt, {Ip("198.18.1.3")}}).ok());
  auto ports = tables.ListPorts();
  ASSERT_TRUE(ports.ok());
  ASSERT_TRUE(WithdrawPorts(tables, *ports).ok());
  EXPECT_TRUE(tables.ports.empty());
  EXPECT_TRUE(tables.macs.empty());
  EXPECT_TRUE(tables.flood.empty());
  EXPECT_TRUE(tables.sources.empty());
  EXPECT_TRUE(tables.ips.empty());
  EXPECT_TRUE(tables.allow.empty());
  EXPECT_TRUE(tables.tx_targets.empty());
  EXPECT_EQ(tables.config.flags & (VNET_FABRIC_F_HAS_SOURCES | VNET_FABRIC_F_HAS_IP_PORTS), 0);
}

// port set: the new state published over the old one.
TEST_F(PortTables, RepublishingChangesFlagsInEveryTable) {
  vnet_port changed = existing;
  changed.flags |= VNET_PORT_F_HAIRPIN | VNET_PORT_F_ISOLATED;
  ASSERT_TRUE(PublishPort(tables, 10, changed).ok());
  auto mac = tables.macs.find(Mac("02:00:00:00:00:01").bytes);
  ASSERT_NE(mac, tables.macs.end());
  EXPECT_EQ(mac->second.flags & VNET_PORT_F_ISOLATED, VNET_PORT_F_ISOLATED);
  ASSERT_EQ(tables.flood.size(), 1u);
  EXPECT_TRUE(tables.flood[0].flags & VNET_PORT_F_HAIRPIN);
  EXPECT_TRUE(tables.config.flags & VNET_FABRIC_F_HAS_HAIRPIN);
  ASSERT_TRUE(PublishPort(tables, 10, existing).ok());
  EXPECT_FALSE(tables.config.flags & VNET_FABRIC_F_HAS_HAIRPIN);
}

TEST_F(PortTables, AllowListReplacementKeepsOnlyTheNewList) {
  ASSERT_TRUE(SyncAllowIps(tables, 1, {Prefix("198.18.1.0/24"), Prefix("198.18.2.0/24")}).ok());
  ASSERT_TRUE(SyncAllowIps(tables, 1, {Prefix("198.18.2.0/24"), Prefix("198.18.3.0/24")}).ok());
  auto have = AllowIpsOf(tables, 1);
  ASSERT_TRUE(have.ok());
  EXPECT_EQ(*have, (std::vector<IpPrefix>{Prefix("198.18.2.0/24"), Prefix("198.18.3.0/24")}));
}

TEST_F(PortTables, SourceListRefusals) {
  auto source = Mac("02:00:00:00:aa:09");
  EXPECT_TRUE(absl::IsNotFound(RemoveSource(tables, 10, source)));
  for (std::uint32_t i = 0; i < VNET_MAX_SOURCE_PORTS; ++i)
    ASSERT_TRUE(AddSource(tables, 100 + i, MakePort(static_cast<std::uint16_t>(10 + i), Mac("02:00:00:00:01:00"),
                                                    VNET_MODE_SOURCE),
                          source)
                    .ok());
  EXPECT_TRUE(AddSource(tables, 100, existing, source).ok());  // listed already: as the kernel, no error
  auto full = AddSource(tables, 99, existing, source);
  EXPECT_TRUE(absl::IsResourceExhausted(full)) << full;
  EXPECT_NE(full.message().find("is listed by"), std::string::npos) << full;
  ASSERT_TRUE(FlushSources(tables, 100).ok());
  EXPECT_TRUE(AddSource(tables, 99, existing, source).ok());
}

TEST_F(PortTables, RemovingAnAddressThePortLacksIsNotFound) {
  auto port = MakePort(2, MacAddress::FromBytes(tables.config.uplink_mac), VNET_MODE_IPVLAN);
  ASSERT_TRUE(Record({11, port, {}, {}, std::nullopt, {Ip("198.18.1.2")}}).ok());
  EXPECT_TRUE(absl::IsNotFound(RemovePortIp(tables, 10, Ip("198.18.1.2"))));  // another port's
  EXPECT_TRUE(RemovePortIp(tables, 11, Ip("198.18.1.2")).ok());
  EXPECT_TRUE(tables.ips.empty());
}

}  // namespace
}  // namespace vnet
