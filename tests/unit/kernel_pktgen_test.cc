#include "bench/kernel_pktgen.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/errors.h"

namespace vnet::bench {
namespace {

using ::testing::HasSubstr;

in_addr Ip(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return a;
}

KernelPktgenRequest Wire64() {
  KernelPktgenRequest r;
  r.dev = "wire";
  r.dst_mac = *MacAddress::Parse("02:be:00:00:00:00");
  r.src_mac = *MacAddress::Parse("02:aa:bb:cc:dd:01");
  r.src4 = Ip("198.18.0.100");
  r.dst4 = Ip("198.18.0.11");
  r.size = 64;
  r.count = 1000;
  r.cpu = 0;
  return r;
}

std::vector<std::string> CommandsTo(const PktgenPlan& p, const std::string& file) {
  std::vector<std::string> out;
  for (const auto& w : p.setup)
    if (w.file == file) out.push_back(w.command);
  return out;
}

// ---- the plan ---------------------------------------------------------------------

TEST(PktgenPlan, SixtyFourByteFrameToOneMac) {
  auto p = PktgenPlanFor(Wire64());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->thread, "kpktgend_0");
  std::vector<PktgenWrite> want = {
      {"kpktgend_0", "rem_device_all"},
      {"kpktgend_0", "add_device wire"},
      {"wire", "count 1000"},
      {"wire", "clone_skb 0"},
      {"wire", "pkt_size 64"},  // FCS excluded on both sides: no -4
      {"wire", "burst 1"},
      {"wire", "delay 0"},
      {"wire", "dst_mac 02:be:00:00:00:00"},
      {"wire", "src_mac 02:aa:bb:cc:dd:01"},
      {"wire", "dst_mac_count 1"},
      {"wire", "src_mac_count 1"},
      {"wire", "dst_min 198.18.0.11"},
      {"wire", "dst_max 198.18.0.11"},
      {"wire", "src_min 198.18.0.100"},
      {"wire", "src_max 198.18.0.100"},
      {"wire", "udp_src_min 9"},
      {"wire", "udp_src_max 9"},
      {"wire", "udp_dst_min 9"},
      {"wire", "udp_dst_max 9"},
  };
  EXPECT_EQ(p->setup, want);
  EXPECT_EQ(p->start, (PktgenWrite{"pgctrl", "start"}));
  EXPECT_EQ(p->stop, (PktgenWrite{"pgctrl", "stop"}));
  EXPECT_EQ(p->teardown, (PktgenWrite{"kpktgend_0", "rem_device_all"}));
}

TEST(PktgenPlan, SizesCountAsVnetPktgenDoes) {
  for (std::uint32_t size : {60u, 64u, 1500u, 1514u}) {
    auto r = Wire64();
    r.size = size;
    auto p = PktgenPlanFor(r);
    ASSERT_TRUE(p.ok()) << size << ": " << p.status();
    EXPECT_THAT(CommandsTo(*p, "wire"), ::testing::Contains(absl::StrCat("pkt_size ", size)));
  }
  for (std::uint32_t size : {0u, 59u, 1515u, 9000u}) {
    auto r = Wire64();
    r.size = size;
    auto p = PktgenPlanFor(r);
    ASSERT_FALSE(p.ok()) << size;
    EXPECT_THAT(p.status().message(), HasSubstr("60..1514"));
  }
}

TEST(PktgenPlan, MacRotationVlanRateAndThread) {
  auto r = Wire64();
  r.dst_mac_count = 100000;
  r.src_mac_count = 3;
  r.vlan = 10;
  r.ratep = 250000;
  r.cpu = 1;
  r.sport = 1234;
  r.dport = 4321;
  auto p = PktgenPlanFor(r);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->setup.front(), (PktgenWrite{"kpktgend_1", "rem_device_all"}));
  EXPECT_EQ(p->setup[1], (PktgenWrite{"kpktgend_1", "add_device wire"}));
  EXPECT_EQ(p->teardown, (PktgenWrite{"kpktgend_1", "rem_device_all"}));
  auto dev = CommandsTo(*p, "wire");
  EXPECT_THAT(dev, ::testing::Contains("dst_mac_count 100000"));
  EXPECT_THAT(dev, ::testing::Contains("src_mac_count 3"));
  EXPECT_THAT(dev, ::testing::Contains("vlan_id 10"));
  EXPECT_THAT(dev, ::testing::Contains("udp_src_min 1234"));
  EXPECT_THAT(dev, ::testing::Contains("udp_dst_max 4321"));
  EXPECT_THAT(dev, ::testing::Contains("ratep 250000"));
  EXPECT_THAT(dev, ::testing::Not(::testing::Contains("delay 0")));
  // ratep is computed from the size: it must come after pkt_size.
  auto at = [&](const std::string& c) { return std::find(dev.begin(), dev.end(), c) - dev.begin(); };
  EXPECT_LT(at("pkt_size 64"), at("ratep 250000"));
}

TEST(PktgenPlan, IpRotationSequentialAndRandom) {
  auto r = Wire64();
  r.dst4 = Ip("10.0.0.0");
  r.dst4_count = 100;
  auto seq = PktgenPlanFor(r);
  ASSERT_TRUE(seq.ok()) << seq.status();
  auto dev = CommandsTo(*seq, "wire");
  EXPECT_THAT(dev, ::testing::Contains("dst_min 10.0.0.0"));
  EXPECT_THAT(dev, ::testing::Contains("dst_max 10.0.0.99"));  // inclusive
  EXPECT_THAT(dev, ::testing::Not(::testing::Contains("flag IPDST_RND")));

  r.dst4_random = true;
  auto rnd = PktgenPlanFor(r);
  ASSERT_TRUE(rnd.ok()) << rnd.status();
  dev = CommandsTo(*rnd, "wire");
  EXPECT_THAT(dev, ::testing::Contains("dst_max 10.0.0.100"));  // IPDST_RND draws [min, max)
  EXPECT_THAT(dev, ::testing::Contains("flag IPDST_RND"));

  // Across an octet: 10.0.0.200 + 300 addresses.
  r.dst4_random = false;
  r.dst4 = Ip("10.0.0.200");
  r.dst4_count = 300;
  auto carry = PktgenPlanFor(r);
  ASSERT_TRUE(carry.ok());
  EXPECT_THAT(CommandsTo(*carry, "wire"), ::testing::Contains("dst_max 10.0.1.243"));

  r.dst4 = Ip("255.255.255.200");
  r.dst4_count = 100;
  auto past = PktgenPlanFor(r);
  ASSERT_FALSE(past.ok());
  EXPECT_THAT(past.status().message(), HasSubstr("past 255.255.255.255"));
}

TEST(PktgenPlan, RejectsWhatPktgenWouldMisread) {
  for (const char* name : {"", "two words", "wire@1", "a=b", "pgctrl", "kpktgend_0", "averyverylongname"}) {
    auto r = Wire64();
    r.dev = name;
    EXPECT_FALSE(PktgenPlanFor(r).ok()) << "'" << name << "'";
  }
  auto r = Wire64();
  r.dev = "fifteen_chars_x";  // IFNAMSIZ - 1
  EXPECT_TRUE(PktgenPlanFor(r).ok());
  r = Wire64();
  r.count = 0;  // pktgen's count 0 never stops
  auto zero = PktgenPlanFor(r);
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.status().message(), HasSubstr("count 0"));
  r.count = kPktgenMaxCount + 1;
  EXPECT_FALSE(PktgenPlanFor(r).ok());
  r.count = kPktgenMaxCount;
  EXPECT_TRUE(PktgenPlanFor(r).ok());
  r = Wire64();
  r.burst = 0;
  EXPECT_FALSE(PktgenPlanFor(r).ok());
  r = Wire64();
  r.vlan = 4095;
  EXPECT_FALSE(PktgenPlanFor(r).ok());
}

TEST(PktgenPlan, BackstopCount) {
  EXPECT_EQ(PktgenBackstopCount(0), 0u);
  EXPECT_EQ(PktgenBackstopCount(-1), 0u);
  EXPECT_EQ(PktgenBackstopCount(0.5), 50'000'000u);
  EXPECT_EQ(PktgenBackstopCount(2), 200'000'000u);
  EXPECT_EQ(PktgenBackstopCount(1e6), kPktgenMaxCount);  // 10 digits at most
}

TEST(PktgenPlan, RequestFromVnetPktgenFrame) {
  FrameSpec f;
  f.size = 1500;
  f.dst = *MacAddress::Parse("02:dd:00:00:00:00");
  f.dst_count = 4096;
  f.src = *MacAddress::Parse("02:00:00:00:00:99");
  f.dst4 = Ip("10.0.0.0");
  f.dst4_count = 100;
  f.vlan = 7;
  auto r = PktgenRequestFromFrame("gi", f, 1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->dev, "gi");
  EXPECT_EQ(r->size, 1500u);
  EXPECT_EQ(r->dst_mac, f.dst);
  EXPECT_EQ(r->src_mac, f.src);
  EXPECT_EQ(r->dst_mac_count, 4096u);
  EXPECT_EQ(r->dst4.s_addr, f.dst4.s_addr);
  EXPECT_EQ(r->dst4_count, 100u);
  EXPECT_FALSE(r->dst4_random);  // vnet-pktgen rotates sequentially too
  EXPECT_EQ(r->vlan, 7);
  EXPECT_EQ(r->cpu, 1);
  EXPECT_EQ(r->burst, 1u);      // veth takes no shared skbs
  EXPECT_EQ(r->clone_skb, 0u);

  for (Proto p : {Proto::kRaw, Proto::kIpv4, Proto::kIpv6, Proto::kUdp6}) {
    f.proto = p;
    auto no = PktgenRequestFromFrame("wire", f, 0);
    ASSERT_FALSE(no.ok());
    EXPECT_THAT(no.status().message(), HasSubstr("IPv4/UDP"));
  }
}

// ---- Result: lines ----------------------------------------------------------------

constexpr char kAfterRun[] =
    "Params: count 1000000  min_pkt_size: 64  max_pkt_size: 64\n"
    "     frags: 0  delay: 0  clone_skb: 0  ifname: wire\n"
    "     flows: 0 flowlen: 0\n"
    "     dst_min: 198.18.0.11  dst_max: 198.18.0.11\n"
    "     src_mac: 02:aa:bb:cc:dd:01 dst_mac: 02:be:00:00:00:00\n"
    "     Flags: \n"
    "Current:\n"
    "     pkts-sofar: 987654  errors: 12345\n"
    "     started: 1000us  stopped: 2001000us idle: 10us\n"
    "Result: OK: 2000000(c1999990+d10) usec, 987654 (64byte,0frags)\n"
    "  493827pps 252Mb/sec (252839424bps) errors: 12345\n";

TEST(PktgenResult, ParsesAFinishedRun) {
  auto r = ParsePktgenResult(kAfterRun);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ok);
  ASSERT_TRUE(r->has_run);
  EXPECT_EQ(r->usec, 2000000u);
  EXPECT_EQ(r->busy_usec, 1999990u);
  EXPECT_EQ(r->idle_usec, 10u);
  EXPECT_EQ(r->sent, 987654u);
  EXPECT_EQ(r->pkt_size, 64u);
  EXPECT_EQ(r->pps, 493827u);
  EXPECT_EQ(r->errors, 12345u);
  ASSERT_TRUE(r->has_current);
  EXPECT_EQ(r->sofar, 987654u);
  EXPECT_EQ(r->current_errors, 12345u);
  EXPECT_THAT(r->text, HasSubstr("errors: 12345"));
}

TEST(PktgenResult, CommandOkIsNotARun) {
  auto r = ParsePktgenResult("Params: count 0\nResult: OK: pkt_size=64\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok);
  EXPECT_FALSE(r->has_run);
  EXPECT_EQ(r->text, "OK: pkt_size=64");
  // The thread file's form.
  auto t = ParsePktgenResult("Running: \nStopped: wire \nResult: OK: add_device=wire\n");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->ok);
  EXPECT_EQ(t->text, "OK: add_device=wire");
  // A run whose frame count scrolled off (-1 frags: no skb left) still parses.
  auto m = ParsePktgenResult("Result: OK: 5(c4+d1) usec, 3 (60byte,-1frags)\n  600000pps 288Mb/sec (288000000bps) errors: 0\n");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->has_run);
  EXPECT_EQ(m->sent, 3u);
}

TEST(PktgenResult, ErrorLines) {
  for (const char* text : {"Result: No such parameter \"pkt_sise\"\n",
                           "Running: \nStopped: \nResult: ERROR: can not add device wire\n",
                           "Result: ERROR: node not possible\n",
                           "Result: Idle\n",
                           "Result: NA\n",
                           "Result: Error starting\n",
                           "Result: Flag -:IPDST_RNDX:- unknown\nAvailable flags, (prepend ! to un-set flag):\nIPSRC_RND, IPDST_RND\n"}) {
    auto r = ParsePktgenResult(text);
    ASSERT_TRUE(r.ok()) << text;
    EXPECT_FALSE(r->ok) << text;
    EXPECT_FALSE(r->has_run) << text;
    EXPECT_FALSE(r->text.empty());
  }
  auto flag = ParsePktgenResult("Result: Flag -:X:- unknown\nAvailable flags: A, B\n");
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(flag->text, "Flag -:X:- unknown\nAvailable flags: A, B");
  auto none = ParsePktgenResult("Params: count 10\nCurrent:\n");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  // Only at the start of a line.
  EXPECT_FALSE(ParsePktgenResult("ifname: Result: OK: x\n").ok());
}

// ---- the executor, against a pktgen simulated in memory -----------------------------

class FakePktgen : public PktgenIo {
 public:
  using Clock_t = std::chrono::steady_clock;
  bool available = true;
  bool run_until_count = false;      // start returns by itself (count reached)
  std::string run_result = "OK: 300000(c299000+d1000) usec, 3000 (64byte,0frags)\n  10000pps 5Mb/sec (5120000bps) errors: 7";
  std::map<std::string, int> write_errno;           // command -> errno of write(2)
  std::map<std::string, std::string> result_for;    // command -> Result text instead of OK
  std::vector<PktgenWrite> log;
  Clock_t::time_point start_time, stop_time;

  absl::Status Available() override {
    if (available) return absl::OkStatus();
    return absl::FailedPreconditionError("kernel pktgen is unavailable: no /proc/net/pktgen");
  }
  absl::Status Write(const std::string& file, const std::string& command) override {
    std::unique_lock<std::mutex> lock(mu_);
    log.push_back({file, command});
    if (auto it = write_errno.find(command); it != write_errno.end())
      return ErrnoStatus(it->second, "write to", Describe(file));
    if (file == "pgctrl") {
      if (command == "start") {
        start_time = Clock_t::now();
        if (!run_until_count) cv_.wait(lock, [&] { return stopped_; });
        results_[dev_] = run_result;
      } else if (command == "stop") {
        stop_time = Clock_t::now();
        stopped_ = true;
        cv_.notify_all();
      } else {
        return ErrnoStatus(EINVAL, "write to", Describe(file));
      }
      return absl::OkStatus();
    }
    if (absl::StartsWith(command, "add_device ")) dev_ = command.substr(11);
    if (auto it = result_for.find(command); it != result_for.end()) {
      results_[file] = it->second;
    } else {
      results_[file] = absl::StrCat("OK: ", command);
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Read(const std::string& file) override {
    std::lock_guard<std::mutex> lock(mu_);
    return absl::StrCat("Params: ...\nResult: ", results_[file], "\n");
  }
  std::string Describe(const std::string& file) const override { return "/proc/net/pktgen/" + file; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::string dev_;
  std::map<std::string, std::string> results_;
};

TEST(RunKernelPktgen, RunsForTheDurationThenStopsAndCleansUp) {
  FakePktgen fake;
  auto r = Wire64();
  r.count = 0;  // from the duration
  auto run = RunKernelPktgen(fake, r, 0.3);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->sent, 3000u);
  EXPECT_EQ(run->errors, 7u);
  EXPECT_EQ(run->offered(), 3007u);
  EXPECT_DOUBLE_EQ(run->seconds, 0.3);
  EXPECT_EQ(run->pps, 10000u);
  // The writes: the plan's setup (count from the duration), start, one stop
  // (start returned on it), rem_device_all.
  r.count = PktgenBackstopCount(0.3);
  auto plan = PktgenPlanFor(r);
  ASSERT_TRUE(plan.ok());
  std::vector<PktgenWrite> want = plan->setup;
  want.push_back({"pgctrl", "start"});
  want.push_back({"pgctrl", "stop"});
  want.push_back({"kpktgend_0", "rem_device_all"});
  EXPECT_EQ(fake.log, want);
  EXPECT_THAT(fake.log[2].command, "count 30000000");
  auto ran = std::chrono::duration<double>(fake.stop_time - fake.start_time).count();
  EXPECT_GE(ran, 0.28);
  EXPECT_LT(ran, 1.0);
}

TEST(RunKernelPktgen, ACountRunEndsWithoutStop) {
  FakePktgen fake;
  fake.run_until_count = true;
  auto run = RunKernelPktgen(fake, Wire64(), 0);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(fake.log[2], (PktgenWrite{"wire", "count 1000"}));
  for (const auto& w : fake.log) EXPECT_NE(w.command, "stop");
  EXPECT_EQ(fake.log.back(), (PktgenWrite{"kpktgend_0", "rem_device_all"}));
}

TEST(RunKernelPktgen, StopFlagEndsEarly) {
  FakePktgen fake;
  std::atomic<bool> stop{false};
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop = true;
  });
  auto t0 = std::chrono::steady_clock::now();
  auto run = RunKernelPktgen(fake, Wire64(), 30, &stop);
  later.join();
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5);
  EXPECT_EQ(fake.log.back(), (PktgenWrite{"kpktgend_0", "rem_device_all"}));
}

TEST(RunKernelPktgen, AWriteErrorNamesFileAndCommandAndStillCleansUp) {
  FakePktgen fake;
  auto r = Wire64();
  r.burst = 8;  // veth: EOPNOTSUPP
  fake.write_errno["burst 8"] = EOPNOTSUPP;
  auto run = RunKernelPktgen(fake, r, 0.2);
  ASSERT_FALSE(run.ok());
  EXPECT_THAT(run.status().message(), HasSubstr("'burst 8' > /proc/net/pktgen/wire"));
  EXPECT_THAT(run.status().message(), HasSubstr(std::strerror(EOPNOTSUPP)));
  EXPECT_EQ(fake.log.back(), (PktgenWrite{"kpktgend_0", "rem_device_all"}));
  for (const auto& w : fake.log) EXPECT_NE(w.command, "start");
}

TEST(RunKernelPktgen, AnErrorResultFailsTheRun) {
  FakePktgen fake;
  fake.result_for["add_device wire"] = "ERROR: can not add device wire";
  auto run = RunKernelPktgen(fake, Wire64(), 0.2);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(run.status().message(),
              HasSubstr("'add_device wire' > /proc/net/pktgen/kpktgend_0: ERROR: can not add device wire"));
  ASSERT_EQ(fake.log.size(), 3u);  // rem_device_all, add_device, rem_device_all
  EXPECT_EQ(fake.log.back(), (PktgenWrite{"kpktgend_0", "rem_device_all"}));

  FakePktgen flag;
  auto r = Wire64();
  r.dst4_count = 10;
  r.dst4_random = true;
  flag.result_for["flag IPDST_RND"] = "Flag -:IPDST_RND:- unknown";
  auto bad = RunKernelPktgen(flag, r, 0.2);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("'flag IPDST_RND' > /proc/net/pktgen/wire: Flag -:IPDST_RND:- unknown"));
}

TEST(RunKernelPktgen, ARunThatDidNotCompleteIsAnError) {
  FakePktgen fake;
  fake.run_until_count = true;
  fake.run_result = "Error starting";
  auto run = RunKernelPktgen(fake, Wire64(), 0);
  ASSERT_FALSE(run.ok());
  EXPECT_THAT(run.status().message(), HasSubstr("did not complete: Error starting"));
  EXPECT_EQ(fake.log.back(), (PktgenWrite{"kpktgend_0", "rem_device_all"}));
}

TEST(RunKernelPktgen, UnavailableWritesNothing) {
  FakePktgen fake;
  fake.available = false;
  auto run = RunKernelPktgen(fake, Wire64(), 0.2);
  ASSERT_FALSE(run.ok());
  EXPECT_TRUE(fake.log.empty());
  // Neither count nor duration: refused before anything.
  FakePktgen idle;
  auto r = Wire64();
  r.count = 0;
  EXPECT_EQ(RunKernelPktgen(idle, r, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(idle.log.empty());
}

// ---- the real /proc/net/pktgen ---------------------------------------------------

TEST(RunKernelPktgen, SaysPlainlyWhenTheKernelHasNoPktgen) {
  if (::access("/proc/net/pktgen", F_OK) == 0) GTEST_SKIP() << "this kernel has pktgen";
  auto io = ProcPktgenIo("");
  absl::Status avail = io->Available();
  ASSERT_FALSE(avail.ok());
  EXPECT_EQ(avail.code(), absl::StatusCode::kFailedPrecondition);
  auto run = RunKernelPktgen("", Wire64(), 0.1);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(run.status().message(), HasSubstr("kernel pktgen is unavailable: no /proc/net/pktgen"));
}

}  // namespace
}  // namespace vnet::bench
