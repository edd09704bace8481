#include "harness.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "loader/pins.h"

namespace vnet::bpftest {
namespace {

std::string FabricPrefix() { return absl::StrCat("bpft-", ::getpid(), "-"); }

// Test setup that cannot go on: record the failure and leave the test body.
// GoogleTest reports the exception; TearDown and destructors still run.
void Must(const absl::Status& status) {
  if (!status.ok()) throw std::runtime_error(status.ToString());
}
template <typename T>
T Must(absl::StatusOr<T> value) {
  Must(value.status());
  return std::move(*value);
}

// The whole binary moves into a private netns before the first test: every
// link a test makes lives and dies there, and eth0 is out of reach.
class PrivateNetns : public ::testing::Environment {
 public:
  void SetUp() override {
    if (::unshare(CLONE_NEWNET) != 0) {
      if (errno == EPERM) GTEST_SKIP() << "needs CAP_SYS_ADMIN (run as root)";
      FAIL() << "unshare(CLONE_NEWNET): " << std::strerror(errno);
    }
    auto rtnl = Rtnl::Open();
    ASSERT_TRUE(rtnl.ok()) << rtnl.status();
    auto lo = rtnl->GetLink("lo");
    ASSERT_TRUE(lo.ok()) << lo.status();
    auto up = rtnl->SetUp(lo->ifindex, true, "lo");
    ASSERT_TRUE(up.ok()) << up;
    auto bpffs = EnsureBpffs();
    ASSERT_TRUE(bpffs.ok()) << bpffs;
  }
  void TearDown() override {
    for (const auto& fabric : ListFabricDirs())
      EXPECT_FALSE(absl::StartsWith(fabric, FabricPrefix())) << "left behind: " << FabricPinDir(fabric);
  }
};

[[maybe_unused]] ::testing::Environment* const kPrivateNetns =
    ::testing::AddGlobalTestEnvironment(new PrivateNetns);

}  // namespace

Bytes Frame(const MacAddress& dst, const MacAddress& src, const Tags& tpids) {
  Bytes f(dst.bytes.begin(), dst.bytes.end());
  f.insert(f.end(), src.bytes.begin(), src.bytes.end());
  auto put16 = [&f](unsigned v) {
    f.push_back(static_cast<std::uint8_t>(v >> 8));
    f.push_back(static_cast<std::uint8_t>(v));
  };
  unsigned vid = 0;
  for (std::uint16_t tpid : tpids) {
    put16(tpid);
    put16(++vid);
  }
  put16(0x0800);
  for (unsigned i = 0; i < 46; ++i) f.push_back(static_cast<std::uint8_t>(0xa0 + i));
  return f;
}

IpAddress Ip(absl::string_view text) { return Must(IpAddress::Parse(text)); }

IpAddress SolicitedNode(const IpAddress& target) {
  IpAddress group = Ip("ff02::1:ff00:0");
  std::copy(target.bytes.begin() + 13, target.bytes.end(), group.bytes.begin() + 13);
  return group;
}

MacAddress MulticastMac(const IpAddress& group) {
  return {{0x33, 0x33, group.bytes[12], group.bytes[13], group.bytes[14], group.bytes[15]}};
}

namespace {

void Put16(Bytes& f, unsigned v) {
  f.push_back(static_cast<std::uint8_t>(v >> 8));
  f.push_back(static_cast<std::uint8_t>(v));
}
void Put32(Bytes& f, std::uint32_t v) {
  Put16(f, v >> 16);
  Put16(f, v & 0xffff);
}
void PutMac(Bytes& f, const MacAddress& mac) { f.insert(f.end(), mac.bytes.begin(), mac.bytes.end()); }
void PutIp(Bytes& f, const IpAddress& ip) { f.insert(f.end(), ip.bytes.begin(), ip.bytes.begin() + ip.Size()); }
void Set16(Bytes& f, std::size_t at, unsigned v) {
  f.at(at) = static_cast<std::uint8_t>(v >> 8);
  f.at(at + 1) = static_cast<std::uint8_t>(v);
}

Bytes Eth(const MacAddress& dst, const MacAddress& src, std::uint16_t type) {
  Bytes f;
  PutMac(f, dst);
  PutMac(f, src);
  Put16(f, type);
  return f;
}

// One's-complement sum of [p, p + n), big-endian 16-bit words.
std::uint32_t Sum16(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (n & 1) sum += p[n - 1] << 8;
  return sum;
}
std::uint16_t Fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// IPv4 header (20 bytes, checksum filled in) for `l4_len` bytes of `proto`.
void PutIpv4Header(Bytes& f, const IpAddress& sip, const IpAddress& dip, std::uint8_t proto, std::size_t l4_len) {
  std::size_t at = f.size();
  f.push_back(0x45);
  f.push_back(0);
  Put16(f, static_cast<unsigned>(20 + l4_len));
  Put16(f, 0x1234);  // id
  Put16(f, 0x4000);  // DF
  f.push_back(64);
  f.push_back(proto);
  Put16(f, 0);
  PutIp(f, sip);
  PutIp(f, dip);
  Set16(f, at + 10, Fold(Sum16(f.data() + at, 20)));
}

void PutIpv6Header(Bytes& f, const IpAddress& sip, const IpAddress& dip, std::uint8_t next, std::size_t l4_len,
                   std::uint8_t hop_limit) {
  Put32(f, 0x60000000);
  Put16(f, static_cast<unsigned>(l4_len));
  f.push_back(next);
  f.push_back(hop_limit);
  PutIp(f, sip);
  PutIp(f, dip);
}

void PutUdp(Bytes& f, std::uint16_t sport, std::uint16_t dport, std::size_t payload_len) {
  Put16(f, sport);
  Put16(f, dport);
  Put16(f, static_cast<unsigned>(8 + payload_len));
  Put16(f, 0);
  for (std::size_t i = 0; i < payload_len; ++i) f.push_back(static_cast<std::uint8_t>(0xa0 + i));
}

}  // namespace

std::uint16_t Ipv6L4Checksum(const Bytes& frame, std::size_t l3, std::size_t csum_offset) {
  const std::uint8_t* ip6 = frame.data() + l3;
  std::size_t len = (ip6[4] << 8) | ip6[5];
  if (frame.size() < l3 + 40 + len) throw std::runtime_error("Ipv6L4Checksum: frame shorter than payload_len");
  Bytes l4(ip6 + 40, ip6 + 40 + len);
  l4.at(csum_offset) = l4.at(csum_offset + 1) = 0;
  std::uint32_t sum = Sum16(ip6 + 8, 32);  // source and destination
  sum += static_cast<std::uint32_t>(len >> 16) + static_cast<std::uint32_t>(len & 0xffff);
  sum += ip6[6];  // next header
  return Fold(Sum16(l4.data(), l4.size(), sum));
}

Bytes Ipv4Udp(const MacAddress& dst, const MacAddress& src, const IpAddress& sip, const IpAddress& dip,
              std::uint16_t sport, std::uint16_t dport, std::size_t payload_len) {
  Bytes f = Eth(dst, src, 0x0800);
  PutIpv4Header(f, sip, dip, 17, 8 + payload_len);
  PutUdp(f, sport, dport, payload_len);
  return f;
}

Bytes Ipv6Udp(const MacAddress& dst, const MacAddress& src, const IpAddress& sip, const IpAddress& dip,
              std::uint16_t sport, std::uint16_t dport, std::size_t payload_len) {
  Bytes f = Eth(dst, src, 0x86dd);
  PutIpv6Header(f, sip, dip, 17, 8 + payload_len, 64);
  PutUdp(f, sport, dport, payload_len);
  Set16(f, kEthLen + 40 + 6, Ipv6L4Checksum(f, kEthLen, 6));
  return f;
}

Bytes Arp(const MacAddress& dst, const MacAddress& src, std::uint16_t op, const MacAddress& sha,
          const IpAddress& sip, const MacAddress& tha, const IpAddress& tip) {
  Bytes f = Eth(dst, src, 0x0806);
  Put16(f, 1);       // Ethernet
  Put16(f, 0x0800);  // IPv4
  f.push_back(6);
  f.push_back(4);
  Put16(f, op);
  PutMac(f, sha);
  PutIp(f, sip);
  PutMac(f, tha);
  PutIp(f, tip);
  return f;
}

Bytes Ns(const MacAddress& dst, const MacAddress& src, const IpAddress& sip, const IpAddress& dip,
         const IpAddress& target, const std::optional<MacAddress>& sllao) {
  Bytes f = Eth(dst, src, 0x86dd);
  std::size_t l4_len = 8 + 16 + (sllao ? 8 : 0);
  PutIpv6Header(f, sip, dip, 58, l4_len, 255);
  f.push_back(135);  // type
  f.push_back(0);    // code
  Put16(f, 0);       // checksum
  Put32(f, 0);       // reserved
  PutIp(f, target);
  if (sllao) {
    f.push_back(1);  // source link-layer address
    f.push_back(1);  // 8 bytes
    PutMac(f, *sllao);
  }
  Set16(f, kEthLen + 40 + 2, Ipv6L4Checksum(f, kEthLen, 2));
  return f;
}

Bytes NsMulticast(const MacAddress& src, const IpAddress& sip, const IpAddress& target,
                  const std::optional<MacAddress>& sllao) {
  IpAddress group = SolicitedNode(target);
  return Ns(MulticastMac(group), src, sip, group, target, sllao);
}

Bytes Dhcp(const MacAddress& dst, const MacAddress& src, const IpAddress& sip, const IpAddress& dip, bool reply,
           std::uint32_t xid, std::uint8_t msg_type, const IpAddress& yiaddr) {
  Bytes bootp;
  bootp.push_back(reply ? 2 : 1);  // op
  bootp.push_back(1);              // htype Ethernet
  bootp.push_back(6);              // hlen
  bootp.push_back(0);              // hops
  Put32(bootp, xid);
  Put16(bootp, 0);       // secs
  Put16(bootp, 0x8000);  // flags: broadcast
  bootp.resize(16, 0);   // ciaddr
  PutIp(bootp, yiaddr);  // yiaddr at 16
  bootp.resize(28, 0);   // siaddr, giaddr
  PutMac(bootp, src);    // chaddr
  bootp.resize(236, 0);  // rest of chaddr, sname, file
  Put32(bootp, 0x63825363);
  bootp.push_back(0);  // a pad option first: the walk must skip it
  bootp.push_back(53);
  bootp.push_back(1);
  bootp.push_back(msg_type);
  bootp.push_back(255);
  while (bootp.size() < 300) bootp.push_back(0);

  std::uint16_t sport = reply ? kDhcpServerPort : kDhcpClientPort;
  std::uint16_t dport = reply ? kDhcpClientPort : kDhcpServerPort;
  Bytes f = Eth(dst, src, 0x0800);
  PutIpv4Header(f, sip, dip, 17, 8 + bootp.size());
  Put16(f, sport);
  Put16(f, dport);
  Put16(f, static_cast<unsigned>(8 + bootp.size()));
  Put16(f, 0);
  f.insert(f.end(), bootp.begin(), bootp.end());
  return f;
}

std::ostream& operator<<(std::ostream& os, const Delivery& d) {
  return os << "{tx " << d.tx_packets << "/" << d.tx_bytes << "B, flood " << d.flood_packets << "}";
}

std::ostream& operator<<(std::ostream& os, const Drop& d) {
  return os << "{slot " << d.slot << ", reason " << d.reason << ", count " << d.count << "}";
}

FabricTest::PinDirGuard::~PinDirGuard() {
  if (fabric.empty()) return;
  auto status = RemoveFabricDir(fabric);
  EXPECT_TRUE(status.ok()) << status;
}

void FabricTest::SetUp() {
  static int counter = 0;
  pin_dir_.fabric = absl::StrCat(FabricPrefix(), ++counter);
  Must(MakeFabricDir(pin_dir_.fabric));
  programs_.emplace(Must(FabricPrograms::Load(pin_dir_.fabric)));
  maps_.emplace(Must(FabricMaps::Open(pin_dir_.fabric)));
  rtnl_.emplace(Must(Rtnl::Open()));

  LinkInfo uplink = MakeVeth(std::nullopt);
  uplink_ = {static_cast<std::uint32_t>(uplink.ifindex), VNET_UPLINK_SLOT, *uplink.mac};
  vnet_config config{};
  config.abi_version = VNET_ABI_VERSION;
  config.uplink_ifindex = uplink_.ifindex;
  std::memcpy(config.uplink_mac, uplink_.mac.bytes.data(), 6);
  config.unknown_policy = VNET_UNKNOWN_PASS;
  Must(maps_->WriteConfig(config));
}

void FabricTest::TearDown() {
  for (int ifindex : veths_) {
    auto status = rtnl_->DeleteLink(ifindex, absl::StrCat("veth ", ifindex));
    EXPECT_TRUE(status.ok()) << status;
  }
}

LinkInfo FabricTest::MakeVeth(const std::optional<MacAddress>& peer_mac) {
  static int counter = 0;
  std::string name = absl::StrCat("bt", ++counter), peer = name + "p";
  Must(rtnl_->CreateVeth(name, peer, -1, peer_mac));
  LinkInfo host = Must(rtnl_->GetLink(name));
  veths_.push_back(host.ifindex);
  // Peer first: the host end then has carrier as it opens and gets its qdisc
  // at once; the other order leaves it on noop_qdisc (dropping every
  // clone-redirect) until linkwatch gets round to it.
  Must(rtnl_->SetUp(Must(rtnl_->GetLink(peer)).ifindex, true, peer));
  Must(rtnl_->SetUp(host.ifindex, true, name));
  return host;
}

FabricTest::Port FabricTest::NewPort(const MacAddress& mac, std::uint8_t mode, std::uint8_t flags) {
  auto slot = static_cast<std::uint16_t>(ports_.size() + 1);
  Port port{static_cast<std::uint32_t>(MakeVeth(mac).ifindex), slot, mac};

  vnet_port value{};
  std::memcpy(value.mac, mac.bytes.data(), 6);
  value.slot = slot;
  value.mode = mode;
  value.flags = flags;
  Must(maps_->PutPort(port.ifindex, value));
  if (flags & VNET_PORT_F_XDP_TARGET) Must(maps_->AddTxTarget(port.ifindex));
  flood_.push_back({port.ifindex, slot, mode, flags});
  Must(maps_->WriteFloodList(flood_));
  ports_.push_back(port);
  return port;
}

FabricTest::Port FabricTest::AddPort(std::uint8_t mode, std::uint8_t flags) {
  auto slot = static_cast<std::uint8_t>(ports_.size() + 1);
  Port port = NewPort({{0x02, 0x00, 0x00, 0x00, 0x00, slot}}, mode, flags);
  Must(maps_->PutMac(port.mac, {port.ifindex, port.slot, mode, flags}));
  return port;
}

FabricTest::Port FabricTest::AddIpPort(std::initializer_list<absl::string_view> ips, std::uint8_t flags) {
  Port port = NewPort(uplink_.mac, VNET_MODE_IPVLAN, flags);
  std::uint32_t fabric_flags = VNET_FABRIC_F_HAS_IP_PORTS;
  const vnet_ip_entry entry{port.ifindex, port.slot, flags, 0};
  for (absl::string_view text : ips) {
    auto slash = text.find('/');
    if (slash == absl::string_view::npos) {
      Must(maps_->PutIp(Ip(text), entry));
      continue;
    }
    int plen = 0;
    if (!absl::SimpleAtoi(text.substr(slash + 1), &plen)) throw std::runtime_error(std::string(text));
    Must(maps_->PutIpNet(IpPrefix{Ip(text.substr(0, slash)), plen}, entry));
    fabric_flags |= VNET_FABRIC_F_HAS_IP_NETS;
  }
  AddFabricFlags(fabric_flags);
  return port;
}

void FabricTest::AddFabricFlags(std::uint32_t flags) {
  vnet_config config = Must(maps_->ReadConfig());
  config.flags |= flags;
  Must(maps_->WriteConfig(config));
}

void FabricTest::SetIpvlan(std::uint8_t mode, std::uint8_t flag) {
  vnet_config config = Must(maps_->ReadConfig());
  config.ipvlan_mode = mode;
  config.ipvlan_flags = flag;
  Must(maps_->WriteConfig(config));
}

std::optional<vnet_ip_entry> FabricTest::IpOwner(const IpAddress& ip) const { return Must(maps_->LookupIp(ip)); }

void FabricTest::SetConfig(std::uint8_t unknown_policy, std::uint32_t flags) {
  vnet_config config = Must(maps_->ReadConfig());
  config.unknown_policy = unknown_policy;
  config.flags = static_cast<decltype(config.flags)>(flags);
  Must(maps_->WriteConfig(config));
}

ProgRun FabricTest::RunXdp(const Bytes& frame, std::optional<std::uint32_t> linear_len) {
  ProgRun run;
  run.out.resize(frame.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = run.out.data(),
              .data_size_in = static_cast<std::uint32_t>(frame.size()),
              .data_size_out = static_cast<std::uint32_t>(run.out.size()));
  xdp_md ctx{};
  if (linear_len) {
    ctx.data_end = *linear_len;
    opts.ctx_in = &ctx;
    opts.ctx_size_in = sizeof(ctx);
  }
  run.err = bpf_prog_test_run_opts(programs_->uplink_xdp_fd(), &opts);
  run.verdict = static_cast<int>(opts.retval);
  run.out.resize(run.err ? 0 : opts.data_size_out);
  return run;
}

ProgRun FabricTest::RunTc(int prog_fd, const Bytes& frame, std::uint32_t ifindex) {
  return RunTc(prog_fd, frame, ifindex, ifindex);
}

ProgRun FabricTest::RunTc(int prog_fd, const Bytes& frame, std::uint32_t ifindex, std::uint32_t ingress_ifindex,
                          std::uint32_t mark) {
  __sk_buff skb{}, skb_out{};
  skb.ingress_ifindex = ingress_ifindex;
  skb.ifindex = ifindex;
  skb.mark = mark;
  ProgRun run;
  run.out.resize(frame.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = run.out.data(),
              .data_size_in = static_cast<std::uint32_t>(frame.size()),
              .data_size_out = static_cast<std::uint32_t>(run.out.size()), .ctx_in = &skb,
              .ctx_size_in = sizeof(skb), .flags = tc_run_flags_);
  opts.ctx_out = &skb_out;
  opts.ctx_size_out = sizeof(skb_out);
  run.err = bpf_prog_test_run_opts(prog_fd, &opts);
  run.verdict = static_cast<int>(opts.retval);
  run.mark = skb_out.mark;
  run.out.resize(run.err ? 0 : opts.data_size_out);
  return run;
}

int FabricTest::Checked(const ProgRun& run) {
  EXPECT_EQ(run.err, 0) << "BPF_PROG_TEST_RUN: " << std::strerror(-run.err);
  return run.err ? -1 : run.verdict;
}

vnet_stats FabricTest::Stats(std::uint16_t slot) const { return Must(maps_->ReadStats(slot)); }

std::vector<Delivery> FabricTest::Deliveries() const {
  std::vector<Delivery> out;
  for (std::uint16_t slot = 0; slot <= ports_.size(); ++slot) {
    vnet_stats s = Stats(slot);
    out.push_back({s.tx_packets, s.tx_bytes, s.flood_packets});
  }
  return out;
}

std::vector<Delivery> FabricTest::Only(std::initializer_list<std::pair<Port, Delivery>> these) const {
  std::vector<Delivery> out(ports_.size() + 1);
  for (const auto& [port, delivery] : these) out.at(port.slot) = delivery;
  return out;
}

std::vector<Delivery> FabricTest::FloodedTo(const Bytes& f, std::initializer_list<Port> ports) const {
  std::vector<Delivery> out = Only();
  for (const Port& port : ports) out.at(port.slot) = Flooded(f);
  return out;
}

std::vector<Drop> FabricTest::Drops() const {
  std::vector<Drop> out;
  for (std::uint16_t slot = 0; slot <= ports_.size(); ++slot) {
    vnet_stats s = Stats(slot);
    for (int reason = 0; reason < VNET_DROP__MAX; ++reason)
      if (s.drops[reason]) out.push_back({slot, reason, s.drops[reason]});
  }
  return out;
}

bool FabricTest::NothingCounted() const {
  for (std::uint16_t slot = 0; slot <= ports_.size(); ++slot) {
    vnet_stats s = Stats(slot), zero{};
    if (std::memcmp(&s, &zero, sizeof(s)) != 0) return false;
  }
  return true;
}

}  // namespace vnet::bpftest
