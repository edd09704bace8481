#include "harness.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "absl/strings/match.h"
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

FabricTest::Port FabricTest::AddPort(std::uint8_t mode, std::uint8_t flags) {
  auto slot = static_cast<std::uint16_t>(ports_.size() + 1);
  MacAddress mac{{0x02, 0x00, 0x00, 0x00, 0x00, static_cast<std::uint8_t>(slot)}};
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
  Must(maps_->PutMac(mac, {port.ifindex, slot, mode, flags}));
  ports_.push_back(port);
  return port;
}

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
  __sk_buff skb{};
  skb.ingress_ifindex = ifindex;
  skb.ifindex = ifindex;
  ProgRun run;
  run.out.resize(frame.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = run.out.data(),
              .data_size_in = static_cast<std::uint32_t>(frame.size()),
              .data_size_out = static_cast<std::uint32_t>(run.out.size()), .ctx_in = &skb,
              .ctx_size_in = sizeof(skb));
  run.err = bpf_prog_test_run_opts(prog_fd, &opts);
  run.verdict = static_cast<int>(opts.retval);
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
