// apply's Plan(): the running state and the file in, the ordered actions out,
// with no kernel involved (fabric/plan.h).
#include "fabric/plan.h"

#include <gtest/gtest.h>

#include "absl/strings/str_join.h"

namespace vnet {
namespace {

DesiredState Parse(const char* text) {
  auto state = ParseConfig(text, "vnet.conf");
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? *state : DesiredState{};
}

// A fabric running as `vnetctl attach UPLINK --fabric NAME` leaves it on a veth uplink.
RunningFabric Fabric(const char* name, const char* uplink) {
  RunningFabric f;
  f.info.name = name;
  f.info.uplink = uplink;
  f.info.xdp_mode = "native";
  f.info.tc_hook = "tcx";
  f.info.xdp_redirect = false;  // the default on a veth uplink
  return f;
}

RunningPort Port(const char* name, const char* identity, PortMode mode = PortMode::kVepa) {
  RunningPort p;
  p.info.name = name;
  p.info.mode = mode;
  p.info.flags.spoofchk = true;  // the default
  p.identity = identity;
  return p;
}

std::vector<std::string> Texts(const std::vector<PlanAction>& plan) {
  std::vector<std::string> out;
  for (const auto& a : plan) out.push_back(a.text);
  return out;
}

const std::map<std::string, std::string> kVethUplinks = {{"up0", "veth"}, {"up1", "veth"}};

constexpr const char* kTwoPorts = R"(
[fabric.lan]
uplink = "up0"
[[fabric.lan.port]]
netns = "web"
[[fabric.lan.port]]
device = "veth7"
mode = "bridge"
)";

TEST(Plan, NothingRunningAttachesThenAddsPortsInFileOrder) {
  DesiredState want = Parse(kTwoPorts);
  auto plan = Plan(want, {}, kVethUplinks);
  EXPECT_EQ(Texts(plan), (std::vector<std::string>{"attach fabric lan to up0", "add port netns web/eth0 to lan",
                                                   "add port device veth7 to lan"}));
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].kind, PlanAction::Kind::kAttachFabric);
  EXPECT_EQ(plan[0].want_fabric, &want.fabrics[0]);
  EXPECT_EQ(plan[2].want_port->options.dev, "veth7");
}

TEST(Plan, RunningAsTheFileSaysIsNoAction) {
  DesiredState want = Parse(kTwoPorts);
  RunningFabric lan = Fabric("lan", "up0");
  lan.ports = {Port("vnp1", "netns web/eth0"), Port("veth7", "device veth7", PortMode::kBridge)};
  EXPECT_TRUE(Plan(want, {lan}, kVethUplinks).empty());
}

TEST(Plan, FabricNotInTheFileIsDetachedFirst) {
  DesiredState want = Parse(kTwoPorts);
  RunningFabric lan = Fabric("lan", "up0");
  lan.ports = {Port("vnp1", "netns web/eth0"), Port("veth7", "device veth7", PortMode::kBridge)};
  auto plan = Plan(want, {Fabric("old", "up1"), lan}, kVethUplinks);
  EXPECT_EQ(Texts(plan), std::vector<std::string>{"detach fabric old"});
  EXPECT_EQ(plan[0].fabric, "old");
}

TEST(Plan, BrokenOrDifferentlyAttachedFabricIsMadeAgain) {
  DesiredState want = Parse(kTwoPorts);
  RunningFabric broken = Fabric("lan", "up0");
  broken.healthy = false;
  EXPECT_EQ(Texts(Plan(want, {broken}, kVethUplinks)),
            (std::vector<std::string>{"detach fabric lan", "attach fabric lan to up0", "add port netns web/eth0 to lan",
                                      "add port device veth7 to lan"}));
  RunningFabric redirect = Fabric("lan", "up0");
  redirect.info.xdp_redirect = true;  // the file leaves it to the default, off on a veth
  EXPECT_EQ(Plan(want, {redirect}, kVethUplinks).front().text, "detach fabric lan");
  // On a NIC the default is on: the same fabric is kept.
  EXPECT_EQ(Plan(want, {redirect}, {{"up0", ""}}).front().text, "add port netns web/eth0 to lan");
  // An uplink that is gone cannot be the same attachment.
  EXPECT_EQ(Plan(want, {Fabric("lan", "up0")}, {}).front().text, "detach fabric lan");
}

TEST(Plan, PolicyChangeIsInPlace) {
  DesiredState want = Parse(R"(
[fabric.lan]
uplink = "up0"
host = true
unknown = "drop"
)");
  auto plan = Plan(want, {Fabric("lan", "up0")}, kVethUplinks);
  ASSERT_EQ(Texts(plan), std::vector<std::string>{"set policies of fabric lan"});
  EXPECT_TRUE(plan[0].policy.host);
  EXPECT_TRUE(plan[0].policy.unknown_drop);
  EXPECT_EQ(plan[0].policy.dhcp_max_leases, std::optional<std::uint32_t>(VNET_DHCP_DEFAULT_MAX_LEASES));
}

TEST(Plan, RemovalsComeBeforeChangesAndAdditions) {
  DesiredState want = Parse(R"(
[fabric.lan]
uplink = "up0"
[[fabric.lan.port]]
device = "veth7"
mode = "private"
hairpin = true
[[fabric.lan.port]]
netns = "db"
mac = "02:00:00:00:00:07"
)");
  RunningFabric lan = Fabric("lan", "up0");
  lan.ports = {Port("veth7", "device veth7"), Port("vnp9", "netns gone/eth0")};
  auto plan = Plan(want, {lan}, kVethUplinks);
  EXPECT_EQ(Texts(plan), (std::vector<std::string>{"remove port vnp9 (netns gone/eth0) from lan",
                                                   "change port veth7 (device veth7)", "add port netns db/eth0 to lan"}))
      << absl::StrJoin(Texts(plan), "\n");
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].dev, "vnp9");
  const PortChange& change = plan[1].change;
  EXPECT_EQ(change.dev, "veth7");
  EXPECT_EQ(change.mode, std::optional<PortMode>(PortMode::kPrivate));
  EXPECT_EQ(change.hairpin, std::optional<bool>(true));
  EXPECT_FALSE(change.isolated || change.spoofchk || change.nodst || change.mac || change.allow_ips);
}

TEST(Plan, UnhealthyOrFlippedPortsAreMadeAgain) {
  DesiredState want = Parse(kTwoPorts);
  RunningFabric lan = Fabric("lan", "up0");
  RunningPort sick = Port("veth7", "device veth7", PortMode::kBridge);
  sick.healthy = false;
  lan.ports = {Port("vnp1", "netns web/eth0"), sick};
  EXPECT_EQ(Texts(Plan(want, {lan}, kVethUplinks)),
            (std::vector<std::string>{"remove port veth7 (device veth7) from lan", "add port device veth7 to lan"}));
  // To or from passthru, and to the other kind: made again, never converted.
  DesiredState passthru = Parse(R"(
[fabric.lan]
uplink = "up0"
[[fabric.lan.port]]
device = "veth8"
mode = "passthru"
)");
  lan.ports = {Port("veth8", "device veth8")};
  EXPECT_EQ(Texts(Plan(passthru, {lan}, kVethUplinks)),
            (std::vector<std::string>{"remove port veth8 (device veth8) from lan", "add port device veth8 to lan"}));
  lan.ports = {Port("veth8", "device veth8", PortMode::kPassthru)};
  EXPECT_TRUE(Plan(passthru, {lan}, kVethUplinks).empty());
  lan.ports[0].info.type = PortKind::kIpvlan;
  EXPECT_EQ(Plan(passthru, {lan}, kVethUplinks).front().kind, PlanAction::Kind::kRemovePort);
}

TEST(Plan, SourceListsAreResyncedAfterTheMode) {
  DesiredState want = Parse(R"(
[fabric.lan]
uplink = "up0"
[[fabric.lan.port]]
device = "veth7"
mode = "source"
sources = ["02:00:00:00:aa:01"]
)");
  RunningFabric lan = Fabric("lan", "up0");
  lan.ports = {Port("veth7", "device veth7")};  // vepa, no sources
  auto plan = Plan(want, {lan}, kVethUplinks);
  // The mode change sets the list after it; the list's own difference sets
  // it once more (apply always did: the second is a no-op).
  EXPECT_EQ(Texts(plan), (std::vector<std::string>{"change port veth7 (device veth7)", "set sources of port veth7",
                                                   "set sources of port veth7"}));
  EXPECT_EQ(plan[0].change.mode, std::optional<PortMode>(PortMode::kSource));
  // Mode right, list different: the list alone.
  lan.ports[0].info.mode = PortMode::kSource;
  plan = Plan(want, {lan}, kVethUplinks);
  ASSERT_EQ(Texts(plan), std::vector<std::string>{"set sources of port veth7"});
  EXPECT_EQ(plan[0].want_port->options.sources.size(), 1u);
  // And the same list: nothing.
  lan.ports[0].info.sources = {*MacAddress::Parse("02:00:00:00:aa:01")};
  EXPECT_TRUE(Plan(want, {lan}, kVethUplinks).empty());
}

TEST(Plan, AddressRemovalsComeBeforeAdditionsAcrossPorts) {
  DesiredState want = Parse(R"(
[fabric.lan]
uplink = "up0"
type = "ipvlan"
[[fabric.lan.port]]
device = "veth7"
ips = ["198.18.0.12"]
[[fabric.lan.port]]
device = "veth8"
ips = ["198.18.0.11"]
)");
  RunningFabric lan = Fabric("lan", "up0");
  lan.info.type = PortKind::kIpvlan;
  auto ipvlan = [](const char* name, const char* identity, const char* address) {
    RunningPort p = Port(name, identity);
    p.info.type = PortKind::kIpvlan;
    p.info.addresses = {PortAddress{IpPrefix{*IpAddress::Parse(address), 32}, false, false}};
    return p;
  };
  // The two ports swap addresses: both removals must run before either addition.
  lan.ports = {ipvlan("veth7", "device veth7", "198.18.0.11"), ipvlan("veth8", "device veth8", "198.18.0.12")};
  auto plan = Plan(want, {lan}, kVethUplinks);
  EXPECT_EQ(Texts(plan), (std::vector<std::string>{
                             "remove address 198.18.0.11 from port veth7", "remove address 198.18.0.12 from port veth8",
                             "add address 198.18.0.12/32 to port veth7", "add address 198.18.0.11/32 to port veth8"}))
      << absl::StrJoin(Texts(plan), "\n");
  EXPECT_EQ(plan[0].kind, PlanAction::Kind::kRemoveAddress);
  EXPECT_EQ(plan[3].kind, PlanAction::Kind::kAddAddress);
  EXPECT_EQ(plan[3].dev, "veth8");
}

}  // namespace
}  // namespace vnet
