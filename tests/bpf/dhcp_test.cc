// DHCP of ipvlan l2 ports under attack (bpf/lib/dhcp.h): transaction
// ownership, the per-port ring of open transactions, which replies may
// register a lease, the per-port cap and the lease record with its expiry.
// The real-frame versions of these attacks are tests/netns/test_dhcp_attacks.py.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "harness.h"

namespace vnet::bpftest {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr std::size_t kBootp = kEthLen + 20 + 8;

std::uint32_t WireXid(std::uint32_t xid) {  // the map key: the xid's bytes as on the wire
  std::uint8_t b[4] = {static_cast<std::uint8_t>(xid >> 24), static_cast<std::uint8_t>(xid >> 16),
                       static_cast<std::uint8_t>(xid >> 8), static_cast<std::uint8_t>(xid)};
  std::uint32_t key;
  std::memcpy(&key, b, 4);
  return key;
}

std::uint64_t BootNs() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

class Dhcp4 : public FabricTest {
 protected:
  void SetUp() override {
    FabricTest::SetUp();
    a_ = AddIpPort({"198.18.0.5"});
    b_ = AddIpPort({"198.18.0.6"});
    c_ = AddIpPort({"198.18.0.7", "198.18.7.0/24"});
    SetIpvlan(VNET_IPVLAN_L2);
  }
  const MacAddress& U() const { return uplink().mac; }
  Bytes Request(std::uint32_t xid, std::uint8_t type = kDhcpDiscover) {
    return Dhcp(kBroadcast, U(), Ip("0.0.0.0"), Ip("255.255.255.255"), false, xid, type, Ip("0.0.0.0"));
  }
  // From the server beyond the uplink (198.18.0.1, kExternal), with option 51
  // when `lease` is given (it replaces the end option the harness wrote).
  Bytes Reply(std::uint32_t xid, std::uint8_t type, const IpAddress& yiaddr, std::optional<std::uint32_t> lease = 600,
              const MacAddress& src = kExternal, const IpAddress& sip = Ip("198.18.0.1")) {
    Bytes f = Dhcp(kBroadcast, src, sip, Ip("255.255.255.255"), true, xid, type, yiaddr);
    if (lease) {
      std::size_t at = kBootp + 244;  // the end option, after pad and option 53
      EXPECT_EQ(f.at(at), 255);
      const std::uint8_t opt[] = {51, 4, static_cast<std::uint8_t>(*lease >> 24), static_cast<std::uint8_t>(*lease >> 16),
                                  static_cast<std::uint8_t>(*lease >> 8), static_cast<std::uint8_t>(*lease), 255};
      std::memcpy(&f.at(at), opt, sizeof(opt));
    }
    return f;
  }
  // A whole exchange: `p` asks, the wire ACKs `yiaddr`; the ACK's verdict.
  int Lease(const Port& p, std::uint32_t xid, const IpAddress& yiaddr, std::uint32_t seconds = 600) {
    EXPECT_EQ(PortTcVerdict(p, Request(xid, kDhcpRequest)), TC_ACT_REDIRECT);
    return UplinkTcVerdict(Reply(xid, kDhcpAck, yiaddr, seconds));
  }
  std::size_t OpenBy(const Port& p) {
    auto all = maps().ListDhcp();
    EXPECT_TRUE(all.ok()) << all.status();
    std::size_t n = 0;
    for (const auto& [xid, x] : *all) n += x.ifindex == p.ifindex;
    return n;
  }
  std::optional<vnet_lease> LeaseOf(const IpAddress& ip) {
    auto all = maps().ListLeases();
    EXPECT_TRUE(all.ok()) << all.status();
    for (const auto& [address, lease] : *all)
      if (address == ip) return lease;
    return std::nullopt;
  }
  bool LearnedBy(const IpAddress& ip, const Port& p) {
    auto owner = IpOwner(ip);
    return owner && owner->ifindex == p.ifindex && owner->ip_flags == VNET_IP_F_LEARNED;
  }
  std::uint64_t DhcpDrops(const Port& p) { return Stats(p.slot).drops[VNET_DROP_DHCP]; }

  Port a_, b_, c_;
};

TEST_F(Dhcp4, ReplayedXidOfAnotherPortIsDroppedAndTheReplyStaysTheOwners) {
  ASSERT_EQ(PortTcVerdict(a_, Request(0x0a0a0001)), TC_ACT_REDIRECT);
  EXPECT_EQ(PortTcVerdict(b_, Request(0x0a0a0001)), TC_ACT_SHOT);
  EXPECT_THAT(Drops(), ElementsAre(Drop{b_.slot, VNET_DROP_DHCP, 1}));
  std::uint64_t a_tx = Deliveries()[a_.slot].tx_packets, b_tx = Deliveries()[b_.slot].tx_packets;

  EXPECT_EQ(UplinkTcVerdict(Reply(0x0a0a0001, kDhcpAck, Ip("198.18.0.50"))), TC_ACT_REDIRECT);
  EXPECT_EQ(Deliveries()[a_.slot].tx_packets, a_tx + 1);
  EXPECT_EQ(Deliveries()[b_.slot].tx_packets, b_tx);
  EXPECT_TRUE(LearnedBy(Ip("198.18.0.50"), a_));
}

TEST_F(Dhcp4, OwnRetransmissionKeepsOneTransaction) {
  ASSERT_EQ(PortTcVerdict(a_, Request(0x0a0a0002)), TC_ACT_REDIRECT);
  ASSERT_EQ(PortTcVerdict(a_, Request(0x0a0a0002, kDhcpRequest)), TC_ACT_REDIRECT);
  EXPECT_EQ(OpenBy(a_), 1u);
  EXPECT_THAT(Drops(), IsEmpty());
}

TEST_F(Dhcp4, AnsweredTransactionIsClosedAndItsXidFreeAgain) {
  ASSERT_EQ(Lease(a_, 0x0a0a0003, Ip("198.18.0.51")), TC_ACT_REDIRECT);
  EXPECT_EQ(OpenBy(a_), 0u);
  EXPECT_EQ(PortTcVerdict(b_, Request(0x0a0a0003)), TC_ACT_REDIRECT);
}

TEST_F(Dhcp4, XidFloodRecyclesOnlyTheFloodersOwnTransactions) {
  ASSERT_EQ(PortTcVerdict(a_, Request(0x0a0a0004)), TC_ACT_REDIRECT);
  for (std::uint32_t i = 0; i < 5000; ++i) ASSERT_EQ(PortTcVerdict(b_, Request(0x0b000000 + i)), TC_ACT_REDIRECT);
  EXPECT_EQ(OpenBy(b_), static_cast<std::size_t>(VNET_DHCP_OPEN_PER_PORT));
  EXPECT_EQ(OpenBy(a_), 1u);
  // b's newest survive, its oldest went.
  auto all = maps().ListDhcp();
  ASSERT_TRUE(all.ok());
  for (const auto& [xid, x] : *all) {
    if (x.ifindex != b_.ifindex) continue;
    bool newest = false;
    for (std::uint32_t i = 5000 - VNET_DHCP_OPEN_PER_PORT; i < 5000; ++i) newest |= xid == WireXid(0x0b000000 + i);
    EXPECT_TRUE(newest) << "xid " << xid;
  }
  EXPECT_EQ(UplinkTcVerdict(Reply(0x0a0a0004, kDhcpAck, Ip("198.18.0.52"))), TC_ACT_REDIRECT);
  EXPECT_TRUE(LearnedBy(Ip("198.18.0.52"), a_));
  EXPECT_THAT(Drops(), IsEmpty());
}

TEST_F(Dhcp4, ReplyFromTheSharedMacIsAReflectionAndRefused) {
  ASSERT_EQ(PortTcVerdict(a_, Request(0x0a0a0005)), TC_ACT_REDIRECT);
  // Unicast to the shared MAC, as vepa sends a port's frame for a sibling out
  // and a hairpinning switch brings it back (a reflected broadcast from the
  // shared MAC never reaches IP ports at all).
  Bytes reflected = Reply(0x0a0a0005, kDhcpAck, Ip("198.18.0.53"), 600, U(), Ip("198.18.0.9"));
  std::memcpy(reflected.data(), U().bytes.data(), 6);

  EXPECT_EQ(UplinkTcVerdict(reflected), TC_ACT_SHOT);
  EXPECT_EQ(IpOwner(Ip("198.18.0.53")), std::nullopt);
  EXPECT_THAT(Drops(), ElementsAre(Drop{VNET_UPLINK_SLOT, VNET_DROP_DHCP, 1}));
}

TEST_F(Dhcp4, ReplyFromAPortsAddressOrMacPortIsRefused) {
  Port m = AddPort(VNET_MODE_VEPA);
  ASSERT_EQ(PortTcVerdict(a_, Request(0x0a0a0006)), TC_ACT_REDIRECT);
  EXPECT_EQ(UplinkTcVerdict(Reply(0x0a0a0006, kDhcpAck, Ip("198.18.0.54"), 600, kExternal, Ip("198.18.0.6"))),
            TC_ACT_SHOT);
  EXPECT_EQ(UplinkTcVerdict(Reply(0x0a0a0006, kDhcpAck, Ip("198.18.0.54"), 600, m.mac)), TC_ACT_SHOT);
  EXPECT_EQ(IpOwner(Ip("198.18.0.54")), std::nullopt);
  EXPECT_THAT(Drops(), ElementsAre(Drop{VNET_UPLINK_SLOT, VNET_DROP_DHCP, 2}));
}

TEST_F(Dhcp4, AckForTheHostsOrAnotherPortsAddressIsDroppedNotDelivered) {
  ASSERT_TRUE(maps().SetHostIps({Ip("198.18.0.1")}).ok());
  std::uint64_t a_tx = Deliveries()[a_.slot].tx_packets;
  EXPECT_EQ(Lease(a_, 0x0a0a0007, Ip("198.18.0.1")), TC_ACT_SHOT);     // the host's
  EXPECT_EQ(Lease(a_, 0x0a0a0008, Ip("198.18.7.9")), TC_ACT_SHOT);     // in c's prefix
  EXPECT_EQ(Lease(a_, 0x0a0a0009, Ip("198.18.0.6")), TC_ACT_SHOT);     // b's
  EXPECT_EQ(Lease(a_, 0x0a0a000a, Ip("224.0.0.5")), TC_ACT_SHOT);      // not unicast
  EXPECT_EQ(Deliveries()[a_.slot].tx_packets, a_tx);
  EXPECT_EQ(IpOwner(Ip("198.18.0.1")), std::nullopt);
  EXPECT_FALSE(LearnedBy(Ip("198.18.7.9"), a_));
  EXPECT_EQ(IpOwner(Ip("198.18.0.6"))->ifindex, b_.ifindex);
  EXPECT_THAT(Drops(), ElementsAre(Drop{VNET_UPLINK_SLOT, VNET_DROP_DHCP, 4}));
}

TEST_F(Dhcp4, AckForItsOwnStaticAddressIsDeliveredAndLearnsNothing) {
  EXPECT_EQ(Lease(a_, 0x0a0a000b, Ip("198.18.0.5")), TC_ACT_REDIRECT);
  EXPECT_EQ(IpOwner(Ip("198.18.0.5"))->ip_flags, 0);
  EXPECT_EQ(LeaseOf(Ip("198.18.0.5")), std::nullopt);
}

TEST_F(Dhcp4, FifthLeaseOverTheDefaultCapIsRefusedOnThePort) {
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Lease(a_, 0x0a0b0000 + i, Ip(absl::StrCat("198.18.0.", 60 + i))), TC_ACT_REDIRECT);
  EXPECT_EQ(Lease(a_, 0x0a0b0004, Ip("198.18.0.64")), TC_ACT_SHOT);
  EXPECT_EQ(IpOwner(Ip("198.18.0.64")), std::nullopt);
  EXPECT_THAT(Drops(), ElementsAre(Drop{a_.slot, VNET_DROP_DHCP, 1}));
  // Another port has a cap of its own; renewing an existing lease is no new one.
  EXPECT_EQ(Lease(b_, 0x0b0b0000, Ip("198.18.0.65")), TC_ACT_REDIRECT);
  EXPECT_EQ(Lease(a_, 0x0a0b0005, Ip("198.18.0.60")), TC_ACT_REDIRECT);
  // A higher cap lets the fifth in.
  ASSERT_TRUE(maps().WriteDhcpConfig(vnet_dhcp_cfg{5, 0}).ok());
  EXPECT_EQ(Lease(a_, 0x0a0b0006, Ip("198.18.0.64")), TC_ACT_REDIRECT);
  EXPECT_TRUE(LearnedBy(Ip("198.18.0.64"), a_));
}

TEST_F(Dhcp4, LeaseRecordsItsLifetimeAndARenewalExtendsIt) {
  std::uint64_t before = BootNs();
  ASSERT_EQ(Lease(a_, 0x0a0c0001, Ip("198.18.0.70"), 30), TC_ACT_REDIRECT);
  auto lease = LeaseOf(Ip("198.18.0.70"));
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(lease->ifindex, a_.ifindex);
  EXPECT_GE(lease->expires_ns, before + 30'000'000'000ull);
  EXPECT_LE(lease->expires_ns, BootNs() + 30'000'000'000ull);
  ASSERT_EQ(Lease(a_, 0x0a0c0002, Ip("198.18.0.70"), 3000), TC_ACT_REDIRECT);
  EXPECT_GE(LeaseOf(Ip("198.18.0.70"))->expires_ns, before + 3000'000'000'000ull);
  ASSERT_EQ(Lease(a_, 0x0a0c0003, Ip("198.18.0.71"), 0xffffffffu), TC_ACT_REDIRECT);
  EXPECT_EQ(LeaseOf(Ip("198.18.0.71"))->expires_ns, VNET_LEASE_INFINITE);
}

TEST_F(Dhcp4, ExpiredLeaseIsRemovedByItsTimer) {
  ASSERT_EQ(Lease(a_, 0x0a0d0001, Ip("198.18.0.80"), 1), TC_ACT_REDIRECT);
  ASSERT_TRUE(LearnedBy(Ip("198.18.0.80"), a_));
  for (int i = 0; i < 30 && IpOwner(Ip("198.18.0.80")); ++i) usleep(100000);
  EXPECT_EQ(IpOwner(Ip("198.18.0.80")), std::nullopt);
  EXPECT_EQ(LeaseOf(Ip("198.18.0.80")), std::nullopt);
  // Frames to it are the host's again.
  EXPECT_EQ(UplinkTcVerdict(Ipv4Udp(U(), kExternal, Ip("198.18.0.1"), Ip("198.18.0.80"))), TC_ACT_OK);
}

TEST_F(Dhcp4, OfferLeavesTheTransactionOpenNakClosesIt) {
  ASSERT_EQ(PortTcVerdict(a_, Request(0x0a0e0001)), TC_ACT_REDIRECT);
  EXPECT_EQ(UplinkTcVerdict(Reply(0x0a0e0001, kDhcpOffer, Ip("198.18.0.90"))), TC_ACT_REDIRECT);
  EXPECT_EQ(OpenBy(a_), 1u);
  EXPECT_EQ(UplinkTcVerdict(Reply(0x0a0e0001, kDhcpNak, Ip("0.0.0.0"))), TC_ACT_REDIRECT);
  EXPECT_EQ(OpenBy(a_), 0u);
  EXPECT_EQ(IpOwner(Ip("198.18.0.90")), std::nullopt);
}

}  // namespace
}  // namespace vnet::bpftest
