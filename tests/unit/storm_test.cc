// Storm control: the one validation of --storm-limit / storm_limit (CLI,
// port set, config file), the bucket libvnet writes for a limit, and the
// fabric logic around it (a new port's slot, apply's plan), without a kernel.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "fabric/config_file.h"
#include "fabric/plan.h"
#include "fabric/port_options.h"
#include "fabric/port_record.h"
#include "maps/storm_bucket.h"
#include "memory_tables.h"

namespace vnet {
namespace {

TEST(StormLimit, ParsesNumbersAndOff) {
  EXPECT_EQ(*ParseStormLimit("--storm-limit", "1000"), 1000u);
  EXPECT_EQ(*ParseStormLimit("--storm-limit", "1"), 1u);
  EXPECT_EQ(*ParseStormLimit("--storm-limit", "10000000"), 10000000u);
  EXPECT_EQ(*ParseStormLimit("--storm-limit", "0"), 0u);
  EXPECT_EQ(*ParseStormLimit("--storm-limit", "off"), 0u);
}

TEST(StormLimit, RefusesNegativeTextAndTooLarge) {
  for (const char* bad : {"-5", "abc", "", "10000001", "99999999999", "+5", " 5", "5 ", "1e3", "0x10", "Off"}) {
    auto pps = ParseStormLimit("--storm-limit", bad);
    ASSERT_FALSE(pps.ok()) << bad;
    EXPECT_EQ(pps.status().message(),
              std::string("--storm-limit '") + bad +
                  "': want frames per second, 1 to 10000000, or off (or 0) for no limit");
  }
}

TEST(StormLimit, PortOptionsShareTheCheckInEveryDialect) {
  GivenPort g;
  g.fabric = "a";
  g.netns = "web";
  g.storm_limit = "2500";
  auto o = CheckPortOptions(g, OptionDialect::kCli, CliReporter("port add"));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->storm_limit, 2500u);
  g.storm_limit.reset();
  EXPECT_EQ(CheckPortOptions(g, OptionDialect::kCli, CliReporter("port add"))->storm_limit, 0u);  // off by default

  g.storm_limit = "-1";
  auto cli = CheckPortOptions(g, OptionDialect::kCli, CliReporter("port add"));
  ASSERT_FALSE(cli.ok());
  EXPECT_EQ(cli.status().message(),
            "port add: --storm-limit '-1': want frames per second, 1 to 10000000, or off (or 0) for no limit");
  PortKey refused{};
  auto file = CheckPortOptions(g, OptionDialect::kFile, [&](const PortOptionError& e) {
    refused = e.key;
    return absl::InvalidArgumentError(e.problem);
  });
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(refused, PortKey::kStormLimit);
  EXPECT_EQ(file.status().message(),
            "storm_limit '-1': want frames per second, 1 to 10000000, or off (or 0) for no limit");
}

TEST(StormLimit, PortSetChangesItOnlyWhenGiven) {
  GivenPort g;
  auto unchanged = CheckPortChange("veth1", g, OptionDialect::kCli, CliReporter("port set veth1"));
  ASSERT_TRUE(unchanged.ok());
  EXPECT_FALSE(unchanged->storm_limit.has_value());
  g.storm_limit = "off";
  auto off = CheckPortChange("veth1", g, OptionDialect::kCli, CliReporter("port set veth1"));
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->storm_limit, std::optional<std::uint32_t>(0));
  g.storm_limit = "lots";
  auto bad = CheckPortChange("veth1", g, OptionDialect::kCli, CliReporter("port set veth1"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "port set veth1: --storm-limit 'lots': want frames per second, 1 to 10000000, or off (or 0) for no limit");
}

TEST(StormBucket, SpacingAndBurst) {
  vnet_storm off = StormBucket(0);
  EXPECT_EQ(off.interval_ns, 0u);  // the datapath's "no limit"
  vnet_storm b = StormBucket(1000);
  EXPECT_EQ(b.limit_pps, 1000u);
  EXPECT_EQ(b.interval_ns, 1'000'000u);
  EXPECT_EQ(b.burst_ns, 99u * 1'000'000u);  // 100 frames back to back
  vnet_storm low = StormBucket(10);
  EXPECT_EQ(low.burst_ns, 7u * 100'000'000u);  // at least 8 frames
  vnet_storm top = StormBucket(VNET_STORM_MAX_PPS);
  EXPECT_EQ(top.interval_ns, 100u);
}

// The datapath's admission rule (bpf/lib/storm.h) on the bucket libvnet
// writes: a sender far above the limit gets limit * T + burst over T.
TEST(StormBucket, AFloodGetsTheLimitPlusTheBurst) {
  vnet_storm b = StormBucket(1000);
  std::uint64_t passed = 0, now = 5'000'000'000ull;
  for (std::uint64_t t = now; t < now + 2'000'000'000ull; t += 10'000) {  // 100,000 frames/s for 2 s
    std::uint64_t tat = std::max(b.tat_ns, t);
    if (tat - t <= b.burst_ns) {
      b.tat_ns = tat + b.interval_ns;
      ++passed;
    }
  }
  EXPECT_GE(passed, 2000u);
  EXPECT_LE(passed, 2000u + 100u + 1u);
}

MacAddress Mac(const char* text) { return *MacAddress::Parse(text); }

TEST(StormTables, ANewPortSetsItsSlotsLimitAndClearsAnOldOne) {
  MemoryTables tables;
  tables.storm_limits[3] = 500;  // the slot's last port had a limit
  vnet_port port{};
  auto mac = Mac("02:00:00:00:00:03");
  std::memcpy(port.mac, mac.bytes.data(), 6);
  port.slot = 3;
  port.mode = VNET_MODE_BRIDGE;
  Undo undo;
  auto ok = [] { return absl::OkStatus(); };
  ASSERT_TRUE(RecordNewPort(tables, NewPortRecord{30, port, {}, {}, std::nullopt, {}}, undo, ok, "t").ok());
  undo.Commit();
  EXPECT_EQ(*tables.ReadStormLimit(3), 0u);
  port.slot = 4;
  auto mac4 = Mac("02:00:00:00:00:04");
  std::memcpy(port.mac, mac4.bytes.data(), 6);
  Undo undo4;
  ASSERT_TRUE(RecordNewPort(tables, NewPortRecord{40, port, {}, {}, std::nullopt, {}, 750}, undo4, ok, "t").ok());
  undo4.Commit();
  EXPECT_EQ(*tables.ReadStormLimit(4), 750u);
}

constexpr const char* kStormFile = R"(
[fabric.lan]
uplink = "up0"
storm_limit = 5000
[[fabric.lan.port]]
netns = "web"
storm_limit = 200
)";

TEST(StormConfig, KeysParseAndApplyDiffsThem) {
  auto want = ParseConfig(kStormFile, "vnet.conf");
  ASSERT_TRUE(want.ok()) << want.status();
  ASSERT_EQ(want->fabrics.size(), 1u);
  EXPECT_EQ(want->fabrics[0].attach.storm_limit, 5000u);
  EXPECT_EQ(want->fabrics[0].ports[0].options.storm_limit, 200u);

  RunningFabric have;
  have.info.name = "lan";
  have.info.uplink = "up0";
  have.info.xdp_mode = "native";
  have.info.tc_hook = "tcx";
  have.info.xdp_redirect = false;
  RunningPort port;
  port.info.name = "vnp1";
  port.info.flags.spoofchk = true;
  port.identity = "netns web/eth0";
  have.ports.push_back(port);
  auto plan = Plan(*want, {have}, {{"up0", "veth"}});
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].kind, PlanAction::Kind::kSetPolicy);
  EXPECT_EQ(plan[0].policy.storm_limit, std::optional<std::uint32_t>(5000));
  EXPECT_EQ(plan[1].kind, PlanAction::Kind::kChangePort);
  EXPECT_EQ(plan[1].change.storm_limit, std::optional<std::uint32_t>(200));

  have.info.storm_limit = 5000;
  have.ports[0].info.storm_limit = 200;
  EXPECT_TRUE(Plan(*want, {have}, {{"up0", "veth"}}).empty());
}

TEST(StormConfig, BadValuesNameTheKeyAndLine) {
  auto negative = ParseConfig("[fabric.a]\nuplink = \"e\"\nstorm_limit = -3\n", "f.conf");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().message(),
            "f.conf:3: fabric.a.storm_limit: storm_limit '-3': want frames per second, 1 to 10000000, or off (or 0) "
            "for no limit");
  auto text = ParseConfig("[fabric.a]\nuplink = \"e\"\n[[fabric.a.port]]\nnetns = \"n\"\nstorm_limit = \"x\"\n",
                          "f.conf");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().message(),
            "f.conf:5: fabric.a.port[0].storm_limit: must be a number (frames per second, 0: no limit)");
}

}  // namespace
}  // namespace vnet
