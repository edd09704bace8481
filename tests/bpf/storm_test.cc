// Storm control in the datapath (bpf/lib/storm.h): a port's bucket and the
// fabric's, as libvnet writes them (FabricMaps::WriteStormLimit). The runs
// come back to back, far faster than the limits, so exactly the burst passes
// (a frame more for each spacing interval that elapsed meanwhile: at most
// two on a loaded machine).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>

#include "harness.h"

namespace vnet::bpftest {
namespace {

constexpr std::uint32_t kLimit = 10;  // pps: 100 ms apart, a burst of VNET_STORM_BURST_MIN (8)
constexpr int kFrames = 20;

class Storm : public FabricTest {
 protected:
  void SetUp() override {
    FabricTest::SetUp();
    a_ = AddPort(VNET_MODE_BRIDGE);
    b_ = AddPort(VNET_MODE_BRIDGE);
  }
  // Runs kFrames of `frame` through `run`; returns how many were not shot.
  template <typename Run>
  int Passed(const Run& run) {
    int passed = 0;
    for (int i = 0; i < kFrames; ++i) passed += run() != TC_ACT_SHOT;
    return passed;
  }
  std::uint64_t StormDrops(std::uint16_t slot) const { return Stats(slot).drops[VNET_DROP_STORM]; }
  Port a_, b_;
};

TEST_F(Storm, PortLimitPassesTheBurstAndCountsTheRest) {
  ASSERT_TRUE(maps().WriteStormLimit(a_.slot, kLimit).ok());
  Bytes bcast = Frame(kBroadcast, a_.mac);
  int passed = Passed([&] { return PortTcVerdict(a_, bcast); });
  EXPECT_GE(passed, VNET_STORM_BURST_MIN);
  EXPECT_LE(passed, VNET_STORM_BURST_MIN + 2);
  EXPECT_EQ(StormDrops(a_.slot), static_cast<std::uint64_t>(kFrames - passed));
  EXPECT_EQ(Stats(b_.slot).flood_packets, static_cast<std::uint64_t>(passed));
  // Multicast shares the bucket; unicast is never limited.
  EXPECT_EQ(PortTcVerdict(a_, Frame(kIpv4Multicast, a_.mac)), TC_ACT_SHOT);
  EXPECT_EQ(Passed([&] { return PortTcVerdict(a_, Frame(b_.mac, a_.mac)); }), kFrames);
  EXPECT_EQ(Passed([&] { return PortTcVerdict(a_, Frame(kExternal, a_.mac)); }), kFrames);
  // Another port has no limit of its own.
  EXPECT_EQ(Passed([&] { return PortTcVerdict(b_, Frame(kBroadcast, b_.mac)); }), kFrames);
  EXPECT_EQ(StormDrops(b_.slot), 0u);
}

TEST_F(Storm, LimitOffPassesEverythingAndASetLimitStartsFull) {
  ASSERT_TRUE(maps().WriteStormLimit(a_.slot, kLimit).ok());
  Bytes bcast = Frame(kBroadcast, a_.mac);
  Passed([&] { return PortTcVerdict(a_, bcast); });
  ASSERT_TRUE(maps().WriteStormLimit(a_.slot, 0).ok());
  EXPECT_EQ(*maps().ReadStormLimit(a_.slot), 0u);
  std::uint64_t drops = StormDrops(a_.slot);
  EXPECT_EQ(Passed([&] { return PortTcVerdict(a_, bcast); }), kFrames);
  EXPECT_EQ(StormDrops(a_.slot), drops);
  ASSERT_TRUE(maps().WriteStormLimit(a_.slot, kLimit).ok());
  EXPECT_EQ(*maps().ReadStormLimit(a_.slot), kLimit);
  EXPECT_GE(Passed([&] { return PortTcVerdict(a_, bcast); }), VNET_STORM_BURST_MIN);
}

TEST_F(Storm, FabricLimitHoldsWireAndPortGroupFramesTogether) {
  ASSERT_TRUE(maps().WriteStormLimit(VNET_UPLINK_SLOT, kLimit).ok());
  Bytes wire = Frame(kBroadcast, kExternal);
  int passed = Passed([&] { return UplinkTcVerdict(wire); });
  EXPECT_GE(passed, VNET_STORM_BURST_MIN);
  EXPECT_LE(passed, VNET_STORM_BURST_MIN + 2);
  EXPECT_EQ(StormDrops(VNET_UPLINK_SLOT), static_cast<std::uint64_t>(kFrames - passed));
  // The bucket is spent: a port's broadcast is held back too, counted on the port.
  EXPECT_EQ(PortTcVerdict(a_, Frame(kBroadcast, a_.mac)), TC_ACT_SHOT);
  EXPECT_EQ(StormDrops(a_.slot), 1u);
  // A local port's own frame reflected by the switch was charged when sent.
  EXPECT_EQ(Passed([&] { return UplinkTcVerdict(Frame(kBroadcast, a_.mac)); }), kFrames);
  // `host on`: the host stack's group frame still leaves (TC_ACT_OK), without copies.
  AddFabricFlags(VNET_FABRIC_F_HOST);
  std::uint64_t flooded = Stats(a_.slot).flood_packets, held = StormDrops(VNET_UPLINK_SLOT);
  EXPECT_EQ(HostEgress(Frame(kBroadcast, uplink().mac)).verdict, TC_ACT_OK);
  EXPECT_EQ(Stats(a_.slot).flood_packets, flooded);
  EXPECT_EQ(StormDrops(VNET_UPLINK_SLOT), held + 1);
}

TEST_F(Storm, IpvlanL2PortLimitHoldsItsArpBroadcasts) {
  SetIpvlan(VNET_IPVLAN_L2);
  Port ip = AddIpPort({"198.18.0.5"});
  ASSERT_TRUE(maps().WriteStormLimit(ip.slot, kLimit).ok());
  const MacAddress& shared = uplink().mac;  // an ipvlan port sends from the uplink's MAC
  Bytes who_has = Arp(kBroadcast, shared, 1, shared, Ip("198.18.0.5"), MacAddress{}, Ip("198.18.0.9"));
  int passed = Passed([&] { return PortTcVerdict(ip, who_has); });
  EXPECT_GE(passed, VNET_STORM_BURST_MIN);
  EXPECT_LE(passed, VNET_STORM_BURST_MIN + 2);
  EXPECT_EQ(StormDrops(ip.slot), static_cast<std::uint64_t>(kFrames - passed));
}

}  // namespace
}  // namespace vnet::bpftest
