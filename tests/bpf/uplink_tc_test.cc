// vnet_uplink_tc: what XDP passed, as an skb (bpf/lib/wire.h, vnet_wire_tc).
// Group frames are flooded by bpf_clone_redirect, which really transmits on
// the port veths; the counters say which ports got a copy.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>

#include "harness.h"

namespace vnet::bpftest {
namespace {

using ::testing::IsEmpty;

// One port of each mode the wire side floods, two of the sibling modes, and a
// source-mode port, which only gets frames through its source list.
class UplinkTc : public FabricTest {
 protected:
  void SetUp() override {
    FabricTest::SetUp();
    priv_ = AddPort(VNET_MODE_PRIVATE);
    vepa1_ = AddPort(VNET_MODE_VEPA);
    vepa2_ = AddPort(VNET_MODE_VEPA);
    br1_ = AddPort(VNET_MODE_BRIDGE);
    br2_ = AddPort(VNET_MODE_BRIDGE);
    src_ = AddPort(VNET_MODE_SOURCE);
  }
  Port priv_, vepa1_, vepa2_, br1_, br2_, src_;
};

TEST_F(UplinkTc, UnicastHitRedirectsToThatPort) {
  std::vector<Delivery> want = Only();
  for (const Port& p : {priv_, vepa1_, br2_}) {
    SCOPED_TRACE(p.slot);
    Bytes f = Frame(p.mac, kExternal);
    EXPECT_EQ(UplinkTcVerdict(f), TC_ACT_REDIRECT);
    want.at(p.slot) = Sent(f);
    EXPECT_EQ(Deliveries(), want);
  }
  EXPECT_THAT(Drops(), IsEmpty());
}

TEST_F(UplinkTc, UnicastMissAndSourceModePortStayWithTheHost) {
  EXPECT_EQ(UplinkTcVerdict(Frame(kNobody, kExternal)), TC_ACT_OK);
  EXPECT_EQ(UplinkTcVerdict(Frame(uplink().mac, kExternal)), TC_ACT_OK);
  EXPECT_EQ(UplinkTcVerdict(Frame(src_.mac, kExternal)), TC_ACT_OK);
  EXPECT_EQ(Deliveries(), Only());
}

TEST_F(UplinkTc, FromPrivatePortGoesBackToItOnly) {
  Bytes f = Frame(kBroadcast, priv_.mac);

  EXPECT_EQ(UplinkTcVerdict(f), TC_ACT_REDIRECT);
  EXPECT_EQ(Deliveries(), Only({{priv_, Sent(f)}}));
}

class UplinkTcGroup : public UplinkTc, public ::testing::WithParamInterface<MacAddress> {};

TEST_P(UplinkTcGroup, FromOutsideFloodsEveryPortAndKeepsHostCopy) {
  Bytes f = Frame(GetParam(), kExternal);

  EXPECT_EQ(UplinkTcVerdict(f), TC_ACT_OK);
  EXPECT_EQ(Deliveries(), FloodedTo(f, {priv_, vepa1_, vepa2_, br1_, br2_}));
  EXPECT_THAT(Drops(), IsEmpty());
}

TEST_P(UplinkTcGroup, FromVepaPortFloodsVepaAndBridgeSiblings) {
  Bytes f = Frame(GetParam(), vepa1_.mac);

  EXPECT_EQ(UplinkTcVerdict(f), TC_ACT_OK);
  EXPECT_EQ(Deliveries(), FloodedTo(f, {vepa2_, br1_, br2_}));
}

TEST_P(UplinkTcGroup, FromBridgePortFloodsVepaPortsOnly) {
  Bytes f = Frame(GetParam(), br1_.mac);

  EXPECT_EQ(UplinkTcVerdict(f), TC_ACT_OK);
  EXPECT_EQ(Deliveries(), FloodedTo(f, {vepa1_, vepa2_}));
}

TEST_P(UplinkTcGroup, TaggedFromOutsideFloodsLikeUntagged) {
  Bytes f = Frame(GetParam(), kExternal, {0x88a8, 0x8100});

  EXPECT_EQ(UplinkTcVerdict(f), TC_ACT_OK);
  EXPECT_EQ(Deliveries(), FloodedTo(f, {priv_, vepa1_, vepa2_, br1_, br2_}));
}

INSTANTIATE_TEST_SUITE_P(Dst, UplinkTcGroup, ::testing::Values(kBroadcast, kIpv4Multicast, kIpv6Multicast));

TEST_F(UplinkTc, DefunctFabricKeepsEverythingForTheHost) {
  SetConfig(VNET_UNKNOWN_PASS, VNET_FABRIC_F_DEFUNCT);

  EXPECT_EQ(UplinkTcVerdict(Frame(kBroadcast, kExternal)), TC_ACT_OK);
  EXPECT_EQ(UplinkTcVerdict(Frame(br1_.mac, kExternal)), TC_ACT_OK);
  EXPECT_TRUE(NothingCounted());
}

}  // namespace
}  // namespace vnet::bpftest
