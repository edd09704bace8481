// vnet_port_tc: what a container sent, at tc ingress of its port's host end
// (bpf/lib/port.h). The program finds the sender by skb->ingress_ifindex.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include <cerrno>

#include "harness.h"

namespace vnet::bpftest {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class PortTc : public FabricTest {
 protected:
  void SetUp() override {
    FabricTest::SetUp();
    br1_ = AddPort(VNET_MODE_BRIDGE);
    br2_ = AddPort(VNET_MODE_BRIDGE, VNET_PORT_F_SPOOFCHK | VNET_PORT_F_PEER_NETNS);
    br3_ = AddPort(VNET_MODE_BRIDGE);
    vepa_ = AddPort(VNET_MODE_VEPA);
    priv_ = AddPort(VNET_MODE_PRIVATE);
  }
  Port br1_, br2_, br3_, vepa_, priv_;
};

TEST_F(PortTc, SpoofedSourceDropped) {
  EXPECT_EQ(PortTcVerdict(br1_, Frame(br2_.mac, kExternal)), TC_ACT_SHOT);
  EXPECT_EQ(PortTcVerdict(vepa_, Frame(kBroadcast, br1_.mac)), TC_ACT_SHOT);
  EXPECT_THAT(Drops(), ElementsAre(Drop{br1_.slot, VNET_DROP_SPOOFED_SRC, 1},
                                   Drop{vepa_.slot, VNET_DROP_SPOOFED_SRC, 1}));
  EXPECT_EQ(Deliveries(), Only());
}

TEST_F(PortTc, SpoofedSourceForwardedWithSpoofchkOff) {
  Port lax = AddPort(VNET_MODE_BRIDGE, 0);
  Bytes f = Frame(br1_.mac, kExternal);

  EXPECT_EQ(PortTcVerdict(lax, f), TC_ACT_REDIRECT);
  EXPECT_EQ(Deliveries(), Only({{br1_, Sent(f)}}));
  EXPECT_THAT(Drops(), IsEmpty());
}

TEST_F(PortTc, BridgeToBridgeSiblingDeliveredLocally) {
  Bytes to2 = Frame(br2_.mac, br1_.mac), to1 = Frame(br1_.mac, br2_.mac);

  EXPECT_EQ(PortTcVerdict(br1_, to2), TC_ACT_REDIRECT);  // bpf_redirect_peer: br2 has PEER_NETNS
  EXPECT_EQ(PortTcVerdict(br2_, to1), TC_ACT_REDIRECT);  // bpf_redirect
  EXPECT_EQ(Deliveries(), Only({{br2_, Sent(to2)}, {br1_, Sent(to1)}}));
  EXPECT_EQ(Stats(br1_.slot).rx_packets, 1u);
  EXPECT_EQ(Stats(br2_.slot).rx_packets, 1u);
  EXPECT_THAT(Drops(), IsEmpty());
}

TEST_F(PortTc, TaggedBridgeToBridgeSiblingDeliveredLocally) {
  Bytes f = Frame(br2_.mac, br1_.mac, {0x8100});

  ProgRun run = RunTc(programs().port_tc_fd(), f, br1_.ifindex);
  ASSERT_EQ(run.err, 0);
  EXPECT_EQ(run.verdict, TC_ACT_REDIRECT);
  EXPECT_EQ(run.out, f);
  EXPECT_EQ(Deliveries(), Only({{br2_, Sent(f)}}));
}

TEST_F(PortTc, BridgeToVepaSiblingOrUnknownGoesToUplink) {
  Bytes to_vepa = Frame(vepa_.mac, br1_.mac), to_nobody = Frame(kNobody, br1_.mac);

  EXPECT_EQ(PortTcVerdict(br1_, to_vepa), TC_ACT_REDIRECT);
  EXPECT_EQ(PortTcVerdict(br1_, to_nobody), TC_ACT_REDIRECT);
  EXPECT_EQ(Deliveries(), Only({{uplink(), {2, to_vepa.size() + to_nobody.size(), 0}}}));
}

TEST_F(PortTc, VepaAndPrivateToSiblingGoToUplink) {
  Bytes from_vepa = Frame(br1_.mac, vepa_.mac), from_priv = Frame(vepa_.mac, priv_.mac);

  EXPECT_EQ(PortTcVerdict(vepa_, from_vepa), TC_ACT_REDIRECT);
  EXPECT_EQ(PortTcVerdict(priv_, from_priv), TC_ACT_REDIRECT);
  EXPECT_EQ(Deliveries(), Only({{uplink(), {2, from_vepa.size() + from_priv.size(), 0}}}));
  EXPECT_THAT(Drops(), IsEmpty());
}

class PortTcGroup : public PortTc, public ::testing::WithParamInterface<MacAddress> {};

TEST_P(PortTcGroup, FromBridgeFloodsBridgeSiblingsThenUplink) {
  Bytes f = Frame(GetParam(), br2_.mac);

  EXPECT_EQ(PortTcVerdict(br2_, f), TC_ACT_REDIRECT);
  std::vector<Delivery> want = FloodedTo(f, {br1_, br3_});
  want[VNET_UPLINK_SLOT] = Sent(f);
  EXPECT_EQ(Deliveries(), want);
  EXPECT_THAT(Drops(), IsEmpty());
}

TEST_P(PortTcGroup, FromVepaOrPrivateGoesToUplinkOnly) {
  Bytes from_vepa = Frame(GetParam(), vepa_.mac), from_priv = Frame(GetParam(), priv_.mac);

  EXPECT_EQ(PortTcVerdict(vepa_, from_vepa), TC_ACT_REDIRECT);
  EXPECT_EQ(PortTcVerdict(priv_, from_priv), TC_ACT_REDIRECT);
  EXPECT_EQ(Deliveries(), Only({{uplink(), {2, from_vepa.size() + from_priv.size(), 0}}}));
}

INSTANTIATE_TEST_SUITE_P(Dst, PortTcGroup, ::testing::Values(kBroadcast, kIpv4Multicast, kIpv6Multicast));

TEST_F(PortTc, FrameFromUnknownDeviceDropped) {
  EXPECT_EQ(PortTcVerdict(uplink(), Frame(br1_.mac, kExternal)), TC_ACT_SHOT);
  EXPECT_THAT(Drops(), ElementsAre(Drop{VNET_UPLINK_SLOT, VNET_DROP_NOT_A_PORT, 1}));
  EXPECT_EQ(Deliveries(), Only());
}

TEST_F(PortTc, DefunctFabricDropsEverything) {
  SetConfig(VNET_UNKNOWN_PASS, VNET_FABRIC_F_DEFUNCT);

  EXPECT_EQ(PortTcVerdict(br1_, Frame(br2_.mac, br1_.mac)), TC_ACT_SHOT);
  EXPECT_EQ(PortTcVerdict(vepa_, Frame(kBroadcast, vepa_.mac)), TC_ACT_SHOT);
  EXPECT_THAT(Drops(), ElementsAre(Drop{br1_.slot, VNET_DROP_DEFUNCT, 1}, Drop{vepa_.slot, VNET_DROP_DEFUNCT, 1}));
  EXPECT_EQ(Deliveries(), Only());
}

TEST_F(PortTc, ThreeStackedTagsDropped) {
  EXPECT_EQ(PortTcVerdict(br1_, Frame(br2_.mac, br1_.mac, {0x88a8, 0x8100, 0x8100})), TC_ACT_SHOT);
  EXPECT_THAT(Drops(), ElementsAre(Drop{br1_.slot, VNET_DROP_VLAN_DEPTH, 1}));
  EXPECT_EQ(Deliveries(), Only());
}

// The kernel builds no skb shorter than ETH_HLEN for BPF_PROG_TEST_RUN (and a
// short linear area would not help: the program pulls the L2 header in before
// parsing), so a truncated Ethernet header cannot reach the tc program this
// way. Assert the refusal, so that a kernel which starts taking such frames
// makes this test fail and be extended to run them.
TEST_F(PortTc, KernelRefusesFramesShorterThanEthernetHeader) {
  Bytes f = Frame(br2_.mac, br1_.mac);
  for (std::size_t len = 0; len < ETH_HLEN; ++len)
    EXPECT_EQ(RunTc(programs().port_tc_fd(), Prefix(f, len), br1_.ifindex).err, -EINVAL) << len;
  EXPECT_TRUE(NothingCounted());
}

// A QinQ frame cut inside either tag: 14..17 bytes cut the outer tag, 18..21 the inner.
class PortTcTruncatedVlan : public PortTc, public ::testing::WithParamInterface<int> {};

TEST_P(PortTcTruncatedVlan, Dropped) {
  Bytes f = Prefix(Frame(br2_.mac, br1_.mac, {0x88a8, 0x8100}), GetParam());

  EXPECT_EQ(PortTcVerdict(br1_, f), TC_ACT_SHOT);
  EXPECT_THAT(Drops(), ElementsAre(Drop{br1_.slot, VNET_DROP_TRUNCATED_VLAN, 1}));
  EXPECT_EQ(Deliveries(), Only());
}

INSTANTIATE_TEST_SUITE_P(Length, PortTcTruncatedVlan, ::testing::Range(ETH_HLEN, ETH_HLEN + 8));

}  // namespace
}  // namespace vnet::bpftest
