// vnet_underlay_guard (bpf/lib/underlay_guard.h): the VXLAN underlay guard's
// outer parse, run with BPF_PROG_RUN on the frames a rogue underlay host can
// send (VLAN tags, IPv4 options, IPv6 extension headers, fragments, truncated
// and malformed headers), then the C++ API (fabric/vxlan_guard.h) on a veth.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "fabric/vxlan_guard.h"
#include "harness.h"
#include "loader/links.h"
#include "loader/pins.h"
#include "loader/underlay_guard.h"

namespace vnet::bpftest {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int kContinue = -1;  // TCX_NEXT / TC_ACT_UNSPEC
constexpr std::uint32_t kVni = 4242;
constexpr std::uint16_t kPort = 4789;
constexpr std::uint8_t kUdp = 17, kHopByHop = 0, kRouting = 43, kFragment = 44, kDstOpts = 60, kTcp = 6;

const MacAddress kUnderlayMac{{0x02, 0x0a, 0, 0, 0, 1}};
const MacAddress kPeerMac{{0x02, 0x0a, 0, 0, 0, 2}};

void Put16(Bytes& b, std::uint16_t v) {
  b.push_back(v >> 8);
  b.push_back(v & 0xff);
}

// The L4 part: UDP (checksum 0) to `dport`, a VXLAN header with `vni`, and an
// inner Ethernet/IPv4 frame to broadcast, as a rogue would send it.
Bytes VxlanUdp(std::uint32_t vni, std::uint16_t dport) {
  Bytes inner = Frame(kBroadcast, kExternal);
  Bytes l4;
  Put16(l4, 50000);
  Put16(l4, dport);
  Put16(l4, static_cast<std::uint16_t>(8 + 8 + inner.size()));
  Put16(l4, 0);
  Bytes vx = {0x08, 0, 0, 0, static_cast<std::uint8_t>(vni >> 16), static_cast<std::uint8_t>(vni >> 8),
              static_cast<std::uint8_t>(vni), 0};
  l4.insert(l4.end(), vx.begin(), vx.end());
  l4.insert(l4.end(), inner.begin(), inner.end());
  return l4;
}

// Ethernet with one 4-byte tag per TPID, then `ethertype`.
Bytes Ether(const Tags& tpids, std::uint16_t ethertype) {
  Bytes b(kUnderlayMac.bytes.begin(), kUnderlayMac.bytes.end());
  b.insert(b.end(), kPeerMac.bytes.begin(), kPeerMac.bytes.end());
  for (std::size_t i = 0; i < tpids.size(); ++i) {
    Put16(b, tpids[i]);
    Put16(b, static_cast<std::uint16_t>(i + 1));
  }
  Put16(b, ethertype);
  return b;
}

// IHL = 5 + option_words; frag_off: flags and offset, host order.
Bytes Ipv4(const IpAddress& src, const Bytes& l4, int option_words = 0, std::uint16_t frag_off = 0,
           std::uint8_t protocol = kUdp, const Tags& tags = {}) {
  Bytes b = Ether(tags, 0x0800);
  const std::size_t hlen = 20 + 4 * option_words;
  b.push_back(0x40 | static_cast<std::uint8_t>(hlen / 4));
  b.push_back(0);
  Put16(b, static_cast<std::uint16_t>(hlen + l4.size()));
  Put16(b, 0x1234);
  Put16(b, frag_off);
  b.push_back(64);
  b.push_back(protocol);
  Put16(b, 0);  // checksum: the guard does not check it, the stack does
  b.insert(b.end(), src.bytes.begin(), src.bytes.begin() + 4);
  IpAddress dst = Ip("198.18.0.1");
  b.insert(b.end(), dst.bytes.begin(), dst.bytes.begin() + 4);
  for (int i = 0; i < option_words; ++i) b.insert(b.end(), {1, 1, 1, 1});  // NOPs
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

// IPv6 with extension headers `ext` (each 8 bytes, or a fragment header with
// `frag_off`), then `l4` as `last`.
Bytes Ipv6(const IpAddress& src, const Bytes& l4, std::vector<std::uint8_t> ext = {}, std::uint16_t frag_off = 0,
           std::uint8_t last = kUdp, Tags tags = {}) {
  Bytes b = Ether(tags, 0x86dd);
  Bytes chain;
  for (std::size_t i = 0; i < ext.size(); ++i) {
    std::uint8_t next = i + 1 < ext.size() ? ext[i + 1] : last;
    if (ext[i] == kFragment) {
      chain.insert(chain.end(), {next, 0});
      Put16(chain, frag_off);
      chain.insert(chain.end(), {0, 0, 0x12, 0x34});
    } else {
      chain.insert(chain.end(), {next, 0, 1, 4, 0, 0, 0, 0});  // PadN
    }
  }
  b.insert(b.end(), {0x60, 0, 0, 0});
  Put16(b, static_cast<std::uint16_t>(chain.size() + l4.size()));
  b.push_back(ext.empty() ? last : ext[0]);
  b.push_back(64);
  b.insert(b.end(), src.bytes.begin(), src.bytes.end());
  IpAddress dst = Ip("2001:db8::1");
  b.insert(b.end(), dst.bytes.begin(), dst.bytes.end());
  b.insert(b.end(), chain.begin(), chain.end());
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

std::string UniqueFabric() {
  static int n = 0;
  return absl::StrCat("bpft-", ::getpid(), "-g", ++n);
}

class UnderlayGuard : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakeFabricDir(fabric_).ok());
    auto program = UnderlayGuardProgram::Load(fabric_);
    ASSERT_TRUE(program.ok()) << program.status();
    program_.emplace(std::move(*program));
    auto maps = UnderlayGuardMaps::Open(fabric_);
    ASSERT_TRUE(maps.ok()) << maps.status();
    maps_.emplace(std::move(*maps));
    vnet_guard_config config{};
    config.vni = kVni;
    config.dstport = kPort;
    config.version = VNET_GUARD_VERSION;
    ASSERT_TRUE(maps_->SetConfig(config).ok());
    for (const char* r : {"198.18.1.1", "2001:db8:1::1"}) {
      vnet_ip_key key{};
      IpAddress ip = Ip(r);
      key.family = ip.family;
      std::memcpy(key.addr, ip.bytes.data(), ip.Size());
      ASSERT_TRUE(maps_->AddRemote(key).ok());
    }
  }
  void TearDown() override {
    maps_.reset();
    program_.reset();
    EXPECT_TRUE(RemoveFabricDir(fabric_).ok());
  }

  int Verdict(const Bytes& frame) {
    __sk_buff skb{};
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
                .data_size_in = static_cast<std::uint32_t>(frame.size()), .ctx_in = &skb,
                .ctx_size_in = sizeof(skb));
    int err = bpf_prog_test_run_opts(program_->prog_fd(), &opts);
    EXPECT_EQ(err, 0) << std::strerror(-err);
    return err ? 1000 : static_cast<int>(opts.retval);
  }
  vnet_guard_stats Stats() {
    auto s = maps_->Stats();
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : vnet_guard_stats{};
  }
  // Expects `frame` dropped and counted once more.
  void ExpectDropped(const Bytes& frame) {
    std::uint64_t before = Stats().dropped_packets, bytes = Stats().dropped_bytes;
    EXPECT_EQ(Verdict(frame), TC_ACT_SHOT);
    EXPECT_EQ(Stats().dropped_packets, before + 1);
    EXPECT_EQ(Stats().dropped_bytes, bytes + frame.size());
  }
  // Expects `frame` to continue with no drop counted.
  void ExpectContinues(const Bytes& frame) {
    std::uint64_t before = Stats().dropped_packets;
    EXPECT_EQ(Verdict(frame), kContinue);
    EXPECT_EQ(Stats().dropped_packets, before);
  }

  const IpAddress allowed4_ = Ip("198.18.1.1"), rogue4_ = Ip("198.18.1.66");
  const IpAddress allowed6_ = Ip("2001:db8:1::1"), rogue6_ = Ip("2001:db8:1::66");
  const Bytes ours_ = VxlanUdp(kVni, kPort);
  std::string fabric_ = UniqueFabric();
  std::optional<UnderlayGuardProgram> program_;
  std::optional<UnderlayGuardMaps> maps_;
};

TEST_F(UnderlayGuard, Ipv4FromAnAllowedRemoteContinuesAndIsCounted) {
  EXPECT_EQ(Verdict(Ipv4(allowed4_, ours_)), kContinue);
  EXPECT_EQ(Stats().allowed_packets, 1u);
  EXPECT_EQ(Stats().dropped_packets, 0u);
}

TEST_F(UnderlayGuard, Ipv4FromARogueIsDropped) { ExpectDropped(Ipv4(rogue4_, ours_)); }

TEST_F(UnderlayGuard, OtherVniOtherPortAndOtherProtocolsAreNotItsBusiness) {
  ExpectContinues(Ipv4(rogue4_, VxlanUdp(kVni + 1, kPort)));
  ExpectContinues(Ipv4(rogue4_, VxlanUdp(kVni, kPort + 1)));
  ExpectContinues(Ipv4(rogue4_, ours_, 0, 0, kTcp));
  ExpectContinues(Ipv6(rogue6_, ours_, {}, 0, kTcp));
  ExpectContinues(Arp(kBroadcast, kPeerMac, 1, kPeerMac, rogue4_, MacAddress{}, allowed4_));
  EXPECT_EQ(Stats().allowed_packets, 0u);
}

TEST_F(UnderlayGuard, Ipv4OptionsOfAnyLength) {
  for (int words : {1, 3, 10}) {
    SCOPED_TRACE(words);
    ExpectDropped(Ipv4(rogue4_, ours_, words));
    ExpectContinues(Ipv4(allowed4_, ours_, words));
  }
}

TEST_F(UnderlayGuard, VlanTaggedUnderlayFrames) {
  for (const Tags& tags : {Tags{0x8100}, Tags{0x88a8, 0x8100}}) {
    ExpectDropped(Ipv4(rogue4_, ours_, 0, 0, kUdp, tags));
    ExpectDropped(Ipv6(rogue6_, ours_, {}, 0, kUdp, tags));
    ExpectContinues(Ipv4(allowed4_, ours_, 0, 0, kUdp, tags));
  }
  // A third tag: the stack does not take it as IP on this device either.
  ExpectContinues(Ipv4(rogue4_, ours_, 0, 0, kUdp, {0x88a8, 0x8100, 0x8100}));
}

TEST_F(UnderlayGuard, Ipv6WithExtensionHeaders) {
  ExpectDropped(Ipv6(rogue6_, ours_));
  ExpectDropped(Ipv6(rogue6_, ours_, {kHopByHop, kDstOpts, kRouting, kDstOpts}));
  ExpectContinues(Ipv6(allowed6_, ours_, {kHopByHop, kDstOpts, kRouting, kDstOpts}));
  ExpectContinues(Ipv6(rogue6_, VxlanUdp(kVni + 1, kPort), {kHopByHop, kRouting}));
  EXPECT_EQ(Stats().allowed_packets, 1u);
}

TEST_F(UnderlayGuard, Ipv6ChainLongerThanTheBoundIsDroppedUnlessAllowed) {
  std::vector<std::uint8_t> long_chain(9, kDstOpts);
  ExpectDropped(Ipv6(rogue6_, ours_, long_chain));
  ExpectDropped(Ipv6(rogue6_, VxlanUdp(kVni + 1, kPort), long_chain));  // cannot tell: may be ours
  ExpectContinues(Ipv6(allowed6_, ours_, long_chain));
  // Within the bound (eight): the walk reaches UDP and reads the VNI.
  ExpectDropped(Ipv6(rogue6_, ours_, std::vector<std::uint8_t>(8, kDstOpts)));
  ExpectContinues(Ipv6(rogue6_, VxlanUdp(kVni + 1, kPort), std::vector<std::uint8_t>(8, kDstOpts)));
}

TEST_F(UnderlayGuard, AddressFamiliesAreKeptApart) {
  // The IPv6 address whose first four bytes are the allowed IPv4 address.
  IpAddress lookalike = Ip("c612:101::");
  ExpectDropped(Ipv6(lookalike, ours_));
}

TEST_F(UnderlayGuard, Ipv4Fragments) {
  // First fragment (MF, offset 0) with the VXLAN header: checked like a datagram.
  ExpectDropped(Ipv4(rogue4_, ours_, 0, 0x2000));
  ExpectContinues(Ipv4(allowed4_, ours_, 0, 0x2000));
  // First fragment too short to show the VNI (UDP header only): may be ours.
  ExpectDropped(Ipv4(rogue4_, Prefix(ours_, 8), 0, 0x2000));
  // ... or too short to show the port.
  ExpectDropped(Ipv4(rogue4_, Prefix(ours_, 4), 0, 0x2000));
  ExpectContinues(Ipv4(allowed4_, Prefix(ours_, 8), 0, 0x2000));
  // A first fragment to another port is not ours.
  ExpectContinues(Ipv4(rogue4_, Prefix(VxlanUdp(kVni, 53), 8), 0, 0x2000));
  // Later fragments pass and are counted: without their first they never
  // become a datagram.
  std::uint64_t passed = Stats().fragments_passed;
  ExpectContinues(Ipv4(rogue4_, Bytes(64, 0xab), 0, 0x2000 | 8));
  ExpectContinues(Ipv4(rogue4_, Bytes(64, 0xab), 0, 16));
  EXPECT_EQ(Stats().fragments_passed, passed + 2);
}

TEST_F(UnderlayGuard, Ipv6Fragments) {
  ExpectDropped(Ipv6(rogue6_, ours_, {kFragment}, 0x0001));
  ExpectDropped(Ipv6(rogue6_, ours_, {kHopByHop, kFragment}, 0x0001));
  ExpectDropped(Ipv6(rogue6_, Prefix(ours_, 8), {kFragment}, 0x0001));
  ExpectContinues(Ipv6(allowed6_, ours_, {kFragment}, 0x0001));
  // An atomic fragment (offset 0, no M): a whole datagram.
  ExpectDropped(Ipv6(rogue6_, ours_, {kFragment}, 0));
  std::uint64_t passed = Stats().fragments_passed;
  ExpectContinues(Ipv6(rogue6_, Bytes(64, 0xab), {kFragment}, (8 << 3) | 1));
  EXPECT_EQ(Stats().fragments_passed, passed + 1);
}

TEST_F(UnderlayGuard, TruncatedAndMalformedFramesContinueUncounted) {
  // BPF_PROG_RUN refuses an untagged frame without a whole IPv4/IPv6 header,
  // so the headers cut short sit behind a VLAN tag (the guard walks it).
  Bytes v4 = Ipv4(rogue4_, ours_, 0, 0, kUdp, {0x8100});
  Bytes v6 = Ipv6(rogue6_, ours_, {}, 0, kUdp, {0x8100});
  const std::size_t l3 = 14 + 4;
  ExpectContinues(Prefix(v4, 14));                 // the tag cut short
  ExpectContinues(Prefix(v4, l3 + 12));            // IPv4 cut short
  ExpectContinues(Prefix(v4, l3 + 20 + 6));        // UDP cut short: the stack drops it
  ExpectContinues(Prefix(v4, l3 + 20 + 8 + 4));    // VXLAN header cut short: likewise
  ExpectContinues(Prefix(v6, l3 + 30));            // IPv6 cut short
  ExpectContinues(Prefix(v6, l3 + 40 + 8 + 4));    // VXLAN header cut short
  ExpectContinues(Prefix(Ipv6(rogue6_, ours_, {kHopByHop}, 0, kUdp, {0x8100}), l3 + 40 + 1));  // ext header cut short
  Bytes bad_ihl = v4;
  bad_ihl[l3] = 0x44;  // IHL 4
  ExpectContinues(bad_ihl);
  Bytes bad_version = v4;
  bad_version[l3] = 0x65;
  ExpectContinues(bad_version);
  EXPECT_EQ(Stats().dropped_packets, 0u);
  EXPECT_EQ(Stats().allowed_packets, 0u);
}

TEST_F(UnderlayGuard, RemovingARemoteTakesEffectAtOnce) {
  vnet_ip_key key{};
  key.family = VNET_IP4;
  std::memcpy(key.addr, allowed4_.bytes.data(), 4);
  ExpectContinues(Ipv4(allowed4_, ours_));
  ASSERT_TRUE(maps_->DeleteRemote(key).ok());
  ExpectDropped(Ipv4(allowed4_, ours_));
  ASSERT_TRUE(maps_->AddRemote(key).ok());
  ExpectContinues(Ipv4(allowed4_, ours_));
}

TEST_F(UnderlayGuard, WithoutAConfigEverythingContinues) {
  vnet_guard_config none{};
  ASSERT_TRUE(maps_->SetConfig(none).ok());
  ExpectContinues(Ipv4(rogue4_, ours_));
}

// ---- The C++ API on a real device (the harness's private netns) ----

class VxlanGuardApi : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rtnl = Rtnl::Open();
    ASSERT_TRUE(rtnl.ok()) << rtnl.status();
    rtnl_.emplace(std::move(*rtnl));
    underlay_ = absl::StrCat("ug", ::getpid() % 100000, "a");
    ASSERT_TRUE(rtnl_->CreateVeth(underlay_, underlay_ + "p", -1, std::nullopt).ok());
    auto link = rtnl_->GetLink(underlay_);
    ASSERT_TRUE(link.ok());
    ifindex_ = link->ifindex;
    ASSERT_TRUE(MakeFabricDir(fabric_).ok());
  }
  void TearDown() override {
    (void)VxlanGuard::DetachIfPresent(fabric_);
    (void)RemoveFabricDir(fabric_);
    if (ifindex_) (void)rtnl_->DeleteLink(ifindex_, underlay_);
  }
  // Programs on the device's tcx ingress.
  std::uint32_t TcxPrograms() {
    std::uint32_t ids[8], count = 8;
    LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = count);
    if (bpf_prog_query_opts(ifindex_, static_cast<bpf_attach_type>(46), &q) != 0) return 999;
    return q.prog_cnt;
  }
  VxlanGuardSpec Spec() {
    return {fabric_, underlay_, 77, 4789, {Ip("198.18.2.1"), Ip("2001:db8:2::1")}};
  }

  std::optional<Rtnl> rtnl_;
  std::string underlay_;
  int ifindex_ = 0;
  std::string fabric_ = UniqueFabric();
};

TEST_F(VxlanGuardApi, AttachOpenChangeDetach) {
  if (!KernelHasTcx()) GTEST_SKIP() << "no tcx";
  auto guard = VxlanGuard::Attach(Spec());
  ASSERT_TRUE(guard.ok()) << guard.status();
  EXPECT_EQ(TcxPrograms(), 1u);
  EXPECT_TRUE(VxlanGuard::Exists(fabric_));
  EXPECT_EQ(VxlanGuard::Attach(Spec()).status().code(), absl::StatusCode::kAlreadyExists);
  guard = absl::StatusOr<VxlanGuard>(absl::UnknownError("closed"));  // the attachment outlives its creator

  auto opened = VxlanGuard::Open(fabric_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  auto info = opened->Describe();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->underlay, underlay_);
  EXPECT_EQ(info->vni, 77u);
  EXPECT_EQ(info->dstport, 4789);
  EXPECT_TRUE(info->attached);
  EXPECT_FALSE(info->cls_bpf);
  EXPECT_THAT(info->remotes, ElementsAre(Ip("198.18.2.1"), Ip("2001:db8:2::1")));

  EXPECT_TRUE(opened->AddRemote(Ip("198.18.2.9")).ok());
  EXPECT_TRUE(opened->AddRemote(Ip("198.18.2.9")).ok());  // idempotent
  EXPECT_TRUE(opened->RemoveRemote(Ip("198.18.2.1")).ok());
  EXPECT_EQ(opened->RemoveRemote(Ip("198.18.2.1")).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(opened->AddRemote(Ip("0.0.0.0")).code(), absl::StatusCode::kInvalidArgument);
  auto remotes = opened->Remotes();
  ASSERT_TRUE(remotes.ok());
  EXPECT_THAT(*remotes, ElementsAre(Ip("198.18.2.9"), Ip("2001:db8:2::1")));

  ASSERT_TRUE(std::move(*opened).Detach().ok());
  EXPECT_EQ(TcxPrograms(), 0u);
  EXPECT_THAT(ListPins(fabric_), IsEmpty());
  EXPECT_FALSE(VxlanGuard::Exists(fabric_));
  EXPECT_EQ(VxlanGuard::Open(fabric_).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(VxlanGuard::DetachIfPresent(fabric_).ok());
}

TEST_F(VxlanGuardApi, ClsBpfFallbackAttachesAFilterPerVniAndDetachRemovesIt) {
  auto filter = [&](std::uint32_t vni) -> std::uint32_t {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex_, .attach_point = BPF_TC_INGRESS);
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VNET_GUARD_CLS_HANDLE_BASE | vni, .priority = VNET_GUARD_CLS_PRIORITY);
    return bpf_tc_query(&hook, &opts) == 0 ? opts.prog_id : 0;
  };
  VxlanGuardSpec a = Spec();
  a.cls_bpf = true;
  VxlanGuardSpec b = a;
  b.fabric = UniqueFabric();
  b.vni = 78;
  ASSERT_TRUE(MakeFabricDir(b.fabric).ok());
  ASSERT_TRUE(VxlanGuard::Attach(a).ok());
  auto second = VxlanGuard::Attach(b);
  EXPECT_TRUE(second.ok()) << second.status();
  EXPECT_NE(filter(77), 0u);
  EXPECT_NE(filter(78), 0u);
  EXPECT_EQ(TcxPrograms(), 0u);
  auto info = VxlanGuard::Open(fabric_)->Describe();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->cls_bpf);
  ASSERT_TRUE(VxlanGuard::DetachIfPresent(fabric_).ok());
  EXPECT_EQ(filter(77), 0u);
  EXPECT_NE(filter(78), 0u);  // the other fabric's guard stays
  ASSERT_TRUE(VxlanGuard::DetachIfPresent(b.fabric).ok());
  EXPECT_EQ(filter(78), 0u);
  EXPECT_THAT(ListPins(fabric_), IsEmpty());
  EXPECT_TRUE(RemoveFabricDir(b.fabric).ok());
}

TEST_F(VxlanGuardApi, RefusalsLeaveNothingBehind) {
  VxlanGuardSpec s = Spec();
  s.vni = 1u << 24;
  EXPECT_EQ(VxlanGuard::Attach(s).status().code(), absl::StatusCode::kInvalidArgument);
  s = Spec();
  s.underlay = "lo";  // not Ethernet
  EXPECT_EQ(VxlanGuard::Attach(s).status().code(), absl::StatusCode::kInvalidArgument);
  s = Spec();
  s.underlay = "nosuchdev0";
  EXPECT_FALSE(VxlanGuard::Attach(s).ok());
  s = Spec();
  s.fabric = UniqueFabric();  // no pin directory
  EXPECT_EQ(VxlanGuard::Attach(s).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ListPins(fabric_), IsEmpty());
  EXPECT_EQ(TcxPrograms(), 0u);
}

TEST_F(VxlanGuardApi, FabricDetachRemovingTheDirectoryDetachesATcxGuard) {
  if (!KernelHasTcx()) GTEST_SKIP() << "no tcx";
  ASSERT_TRUE(VxlanGuard::Attach(Spec()).ok());
  EXPECT_EQ(TcxPrograms(), 1u);
  ASSERT_TRUE(RemoveFabricDir(fabric_).ok());
  // The last reference to a link goes with its pin; the kernel frees it from a workqueue.
  for (int i = 0; i < 100 && TcxPrograms() != 0; ++i) ::usleep(20000);
  EXPECT_EQ(TcxPrograms(), 0u);
}

}  // namespace
}  // namespace vnet::bpftest
