// fabric/port_options: the one validation of port options that vnetctl's
// port add/set, a config file and libvnet's callers share.
#include "fabric/port_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace vnet {
namespace {

// Records what was refused, as a config file's reporter sees it.
struct Recorder {
  std::vector<PortOptionError> seen;
  PortErrorReporter Reporter() {
    return [this](const PortOptionError& e) {
      seen.push_back(e);
      return absl::InvalidArgumentError(absl::StrCat(OptionName(OptionDialect::kFile, e.key), ": ", e.problem));
    };
  }
};

GivenPort Netns() {
  GivenPort g;
  g.fabric = "a";
  g.netns = "web";
  return g;
}

std::string CliError(const GivenPort& g) {
  auto o = CheckPortOptions(g, OptionDialect::kCli, CliReporter("port add"));
  if (o.ok()) {
    auto kind = CheckPortKind(*o, PortKind::kMacvlan, OptionDialect::kCli, CliReporter("port add"));
    return kind.ok() ? "" : std::string(kind.status().message());
  }
  return std::string(o.status().message());
}

TEST(PortOptions, ParsesWhatIsGiven) {
  GivenPort g = Netns();
  g.ifname = "eth3";
  g.mode = "source";
  g.mac = "02:00:00:00:00:05";
  g.sources = std::vector<std::string>{"02:00:00:00:00:07"};
  g.nodst = true;
  g.allow_ips = std::vector<std::string>{"198.18.0.12", "198.18.0.11"};
  g.spoofchk = false;
  auto o = CheckPortOptions(g, OptionDialect::kCli, CliReporter("port add"));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->fabric, "a");
  EXPECT_EQ(o->netns, "web");
  EXPECT_EQ(o->ifname, "eth3");
  EXPECT_EQ(o->mode, PortMode::kSource);
  EXPECT_EQ(o->mac->ToString(), "02:00:00:00:00:05");
  ASSERT_EQ(o->sources.size(), 1u);
  EXPECT_TRUE(o->nodst);
  EXPECT_FALSE(o->spoofchk);
  EXPECT_FALSE(o->hairpin);
  ASSERT_EQ(o->allow_ips.size(), 2u);
  EXPECT_EQ(o->allow_ips[0].ToString(), "198.18.0.11/32");  // sorted
  EXPECT_EQ(o->macvlan_options, (std::vector<std::string>{"--mode", "--mac", "--nodst", "--source"}));
  EXPECT_EQ(*CheckPortKind(*o, PortKind::kMacvlan, OptionDialect::kCli, CliReporter("port add")), PortKind::kMacvlan);
  // The same options from a file are named as its keys.
  auto f = CheckPortOptions(g, OptionDialect::kFile, CliReporter("unused"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->macvlan_options, (std::vector<std::string>{"mode", "mac", "nodst", "sources"}));
}

TEST(PortOptions, CommandLineRefusals) {
  GivenPort ifname;
  ifname.ifname = "eth1";
  EXPECT_EQ(CliError(ifname), "port add: --ifname needs --netns");
  GivenPort user = Netns();
  user.user = 1000;
  EXPECT_EQ(CliError(user), "port add: --user needs --tap");
  GivenPort mq = Netns();
  mq.multi_queue = true;
  EXPECT_EQ(CliError(mq), "port add: --multi-queue needs --tap");
  GivenPort bad_name = Netns();
  bad_name.ifname = "eth%d";
  EXPECT_EQ(CliError(bad_name), "port add: --ifname 'eth%d': not a valid device name ('%' makes it a name template)");
  GivenPort nodst = Netns();
  nodst.nodst = true;
  EXPECT_EQ(CliError(nodst), "port add: --nodst needs --mode source");
  GivenPort sources = Netns();
  sources.sources = std::vector<std::string>{"02:00:00:00:00:07"};
  EXPECT_EQ(CliError(sources), "port add: --source needs --mode source");
  GivenPort multicast = Netns();
  multicast.mac = "01:00:5e:00:00:01";
  EXPECT_EQ(CliError(multicast), "port add: MAC 01:00:5e:00:00:01 is not a unicast address");
  GivenPort ips = Netns();
  ips.type = "macvlan";
  ips.ips = std::vector<std::string>{"198.18.0.5"};
  EXPECT_EQ(CliError(ips), "port add: --ip needs an ipvlan port (a macvlan port is found by its MAC)");
  GivenPort twice = Netns();
  twice.ips = std::vector<std::string>{"198.18.0.5", "198.18.0.5/32"};
  EXPECT_EQ(CliError(twice), "port add: --ip 198.18.0.5 is given twice");
  GivenPort allow = Netns();
  allow.allow_ips = std::vector<std::string>{"198.18.0.11/24"};
  EXPECT_NE(CliError(allow).find("port add: --allow-ip: '198.18.0.11/24' has host bits set"), std::string::npos)
      << CliError(allow);
  GivenPort none = Netns();
  none.allow_ips = std::vector<std::string>{"none"};  // the empty list on the command line
  EXPECT_EQ(CliError(none), "");
  GivenPort mode = Netns();
  mode.mode = "weird";
  EXPECT_NE(CliError(mode).find("port add: "), std::string::npos);
  EXPECT_NE(CliError(mode).find("weird"), std::string::npos);
}

TEST(PortOptions, IpvlanRefusesMacvlanOptionsNamingThemAll) {
  GivenPort g = Netns();
  g.type = "ipvlan";
  g.mode = "bridge";
  g.hairpin = true;
  auto o = CheckPortOptions(g, OptionDialect::kCli, CliReporter("port add"));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(CheckPortKind(*o, PortKind::kMacvlan, OptionDialect::kCli, CliReporter("port add x")).status().message(),
            "port add x: --mode, --hairpin: ipvlan ports share the uplink's MAC; their mode is the fabric's "
            "--ipvlan-flag");
  // A file names the first key, at its line, in its own words.
  Recorder r;
  auto f = CheckPortOptions(g, OptionDialect::kFile, r.Reporter());
  ASSERT_TRUE(f.ok());
  auto kind = CheckPortKind(*f, PortKind::kMacvlan, OptionDialect::kFile, r.Reporter());
  ASSERT_EQ(r.seen.size(), 1u);
  EXPECT_EQ(r.seen[0].key, PortKey::kMode);
  EXPECT_EQ(kind.status().message(),
            "mode: ipvlan ports share the uplink's MAC; their mode is the fabric's ipvlan_flag");
}

TEST(PortOptions, FileRefusalsNameTheKeyAndTheEntry) {
  Recorder r;
  GivenPort g = Netns();
  g.ips = std::vector<std::string>{"198.18.0.1", "198.18.0.2", "198.18.0.1"};
  auto o = CheckPortOptions(g, OptionDialect::kFile, r.Reporter());
  EXPECT_EQ(o.status().message(), "ips: 198.18.0.1 is given twice");
  ASSERT_EQ(r.seen.size(), 1u);
  EXPECT_EQ(r.seen[0].index, 2);  // the third entry: an error points at its line
  r.seen.clear();
  GivenPort allow = Netns();
  allow.allow_ips = std::vector<std::string>{"198.18.0.11", "none"};  // no "none" in a file
  EXPECT_EQ(CheckPortOptions(allow, OptionDialect::kFile, r.Reporter()).status().message(),
            "allow_ips: 'none' is not an IPv4 or IPv6 address");
  EXPECT_EQ(r.seen.at(0).index, 1);
  GivenPort nodst = Netns();
  nodst.nodst = true;
  auto n = CheckPortOptions(nodst, OptionDialect::kFile, r.Reporter());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(CheckPortKind(*n, PortKind::kMacvlan, OptionDialect::kFile, r.Reporter()).status().message(),
            "nodst: needs mode = \"source\"");
  GivenPort ips = Netns();
  ips.ips = std::vector<std::string>{"198.18.0.5"};
  ips.type = "macvlan";
  auto i = CheckPortOptions(ips, OptionDialect::kFile, r.Reporter());
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(CheckPortKind(*i, PortKind::kMacvlan, OptionDialect::kFile, r.Reporter()).status().message(),
            "ips: needs an ipvlan port (type = \"ipvlan\")");
  GivenPort mac = Netns();
  mac.mac = "01:00:5e:00:00:01";
  EXPECT_EQ(CheckPortOptions(mac, OptionDialect::kFile, r.Reporter()).status().message(), "mac: not a unicast MAC");
}

TEST(PortOptions, KindFollowsTypeThenIpsThenTheFabric) {
  PortOptions o;
  auto report = CliReporter("port add");
  EXPECT_EQ(*CheckPortKind(o, PortKind::kIpvlan, OptionDialect::kCli, report), PortKind::kIpvlan);
  EXPECT_EQ(*CheckPortKind(o, PortKind::kMacvlan, OptionDialect::kCli, report), PortKind::kMacvlan);
  o.ips.push_back(*PortIp::Parse("198.18.0.5"));
  EXPECT_EQ(*CheckPortKind(o, PortKind::kMacvlan, OptionDialect::kCli, report), PortKind::kIpvlan);
  PortOptions allow;
  allow.allow_ips.push_back(*ParseAllowIp("198.18.0.0/24"));
  EXPECT_EQ(CheckPortKind(allow, PortKind::kIpvlan, OptionDialect::kCli, report).status().message(),
            "port add: --allow-ip is for MAC-demux (macvlan) ports; an ipvlan port may send only from its --ip "
            "addresses");
}

TEST(PortOptions, PortSetChangesOnlyWhatIsGiven) {
  GivenPort g;
  g.mode = "bridge";
  g.nodst = false;
  g.allow_ips = std::vector<std::string>{"none"};
  auto change = CheckPortChange("vnp1", g, OptionDialect::kCli, CliReporter("port set vnp1"));
  ASSERT_TRUE(change.ok()) << change.status();
  EXPECT_EQ(change->dev, "vnp1");
  EXPECT_EQ(change->mode, PortMode::kBridge);
  EXPECT_EQ(change->nodst, false);
  EXPECT_FALSE(change->hairpin.has_value());
  EXPECT_FALSE(change->mac.has_value());
  ASSERT_TRUE(change->allow_ips.has_value());
  EXPECT_TRUE(change->allow_ips->empty());  // `none` clears
  GivenPort mac;
  mac.mac = "ff:ff:ff:ff:ff:ff";
  EXPECT_EQ(CheckPortChange("vnp1", mac, OptionDialect::kCli, CliReporter("port set vnp1")).status().message(),
            "port set vnp1: MAC ff:ff:ff:ff:ff:ff is not a unicast address");
}

TEST(PortOptions, PortSetToIpvlanRefusesMacvlanOptionsAndAllowIps) {
  auto report = CliReporter("port set vnp1");
  PortChange c;
  c.mode = PortMode::kBridge;
  c.nodst = false;
  EXPECT_EQ(CheckChangeForKind(c, PortKind::kMacvlan, PortKind::kIpvlan, OptionDialect::kCli, report).message(),
            "port set vnp1: --mode, --nodst: ipvlan ports share the uplink's MAC; their mode is the fabric's "
            "--ipvlan-flag");
  EXPECT_TRUE(CheckChangeForKind(c, PortKind::kIpvlan, PortKind::kMacvlan, OptionDialect::kCli, report).ok());
  PortChange clear;
  clear.allow_ips = std::vector<IpPrefix>{};
  // Leaving macvlan may clear the list; an ipvlan port has none to clear.
  EXPECT_TRUE(CheckChangeForKind(clear, PortKind::kMacvlan, PortKind::kIpvlan, OptionDialect::kCli, report).ok());
  EXPECT_FALSE(CheckChangeForKind(clear, PortKind::kIpvlan, PortKind::kIpvlan, OptionDialect::kCli, report).ok());
  EXPECT_TRUE(CheckSourceModeOptions(true, false, PortMode::kSource, OptionDialect::kCli, report).ok());
  EXPECT_EQ(CheckSourceModeOptions(true, false, PortMode::kVepa, OptionDialect::kCli, report).message(),
            "port set vnp1: --nodst needs --mode source");
}

}  // namespace
}  // namespace vnet
