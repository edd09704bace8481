#include "fabric/port_options.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/errors.h"

namespace vnet {
namespace {

constexpr PortKey kMacvlanOnly[] = {PortKey::kMode, PortKey::kMac, PortKey::kHairpin, PortKey::kNodst,
                                    PortKey::kSources};

bool Cli(OptionDialect d) { return d == OptionDialect::kCli; }

absl::Status Refuse(const PortErrorReporter& report, PortKey key, std::string problem, Joins joins,
                    int index = -1) {
  return report(PortOptionError{key, std::move(problem), joins, index, {}});
}

// A parse error whose message names the value ("port mode 'weird': ...").
template <typename T>
absl::Status ParseInto(const std::optional<std::string>& text, absl::StatusOr<T> (*parse)(absl::string_view),
                       PortKey key, const PortErrorReporter& report, std::optional<T>& out) {
  if (!text) return absl::OkStatus();
  auto value = parse(*text);
  if (!value.ok()) return Refuse(report, key, std::string(value.status().message()), Joins::kNamed);
  out = *value;
  return absl::OkStatus();
}

absl::StatusOr<MacAddress> ParseMacText(absl::string_view text) { return MacAddress::Parse(text); }

// --storm-limit / storm_limit: the same limits for port add, port set and a file.
absl::Status CheckStormLimit(const std::optional<std::string>& text, OptionDialect d, const PortErrorReporter& report,
                             std::optional<std::uint32_t>& out) {
  if (!text) return absl::OkStatus();
  auto pps = ParseStormLimit(OptionName(d, PortKey::kStormLimit), *text);
  if (!pps.ok()) return Refuse(report, PortKey::kStormLimit, std::string(pps.status().message()), Joins::kNamed);
  out = *pps;
  return absl::OkStatus();
}

// The MAC a port is given must be one a port can have.
absl::Status CheckUnicast(const MacAddress& mac, OptionDialect d, const PortErrorReporter& report) {
  if (mac.IsValidUnicast()) return absl::OkStatus();
  return Cli(d) ? Refuse(report, PortKey::kMac, absl::StrCat("MAC ", mac.ToString(), " is not a unicast address"),
                         Joins::kNamed)
                : Refuse(report, PortKey::kMac, "not a unicast MAC", Joins::kColon);
}

// --allow-ip / allow_ips: each entry on its own first (a file's error then
// points at its line), then the list. On the command line "none" alone is
// the empty list; a file says that with an empty array.
absl::StatusOr<std::vector<IpPrefix>> CheckAllowIps(const std::vector<std::string>& texts, OptionDialect d,
                                                    const PortErrorReporter& report) {
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (Cli(d) && texts[i] == "none") continue;
    if (auto one = ParseAllowIp(texts[i]); !one.ok())
      return Refuse(report, PortKey::kAllowIps, std::string(one.status().message()), Joins::kColon,
                    static_cast<int>(i));
  }
  auto all = ParseAllowIps(texts, /*none_clears=*/Cli(d));
  if (!all.ok()) return Refuse(report, PortKey::kAllowIps, std::string(all.status().message()), Joins::kColon);
  return *all;
}

PortKey KeyNamed(OptionDialect d, absl::string_view name) {
  for (PortKey key : kMacvlanOnly)
    if (OptionName(d, key) == name) return key;
  return PortKey::kMode;
}

// The macvlan-only options given, refused together on an ipvlan port.
absl::Status RefuseMacvlanOnly(const std::vector<std::string>& given, OptionDialect d,
                               const PortErrorReporter& report) {
  PortOptionError e{KeyNamed(d, given[0]),
                    absl::StrCat("ipvlan ports share the uplink's MAC; their mode is the fabric's ",
                                 Cli(d) ? "--ipvlan-flag" : "ipvlan_flag"),
                    Joins::kColon, -1, given};
  return report(e);
}

absl::Status RefuseAllowIpsOnIpvlan(OptionDialect d, const PortErrorReporter& report) {
  return Refuse(report, PortKey::kAllowIps,
                absl::StrCat("is for MAC-demux (macvlan) ports; an ipvlan port may send only from its ",
                             Cli(d) ? "--ip addresses" : "ips"),
                Joins::kPredicate);
}

}  // namespace

std::string OptionName(OptionDialect d, PortKey key) {
  bool cli = Cli(d);
  switch (key) {
    case PortKey::kDevice: return cli ? "DEV" : "device";
    case PortKey::kNetns: return cli ? "--netns" : "netns";
    case PortKey::kIfname: return cli ? "--ifname" : "ifname";
    case PortKey::kTap: return cli ? "--tap" : "tap";
    case PortKey::kUser: return cli ? "--user" : "user";
    case PortKey::kGroup: return cli ? "--group" : "group";
    case PortKey::kMultiQueue: return cli ? "--multi-queue" : "multi_queue";
    case PortKey::kType: return cli ? "--type" : "type";
    case PortKey::kIps: return cli ? "--ip" : "ips";
    case PortKey::kMode: return cli ? "--mode" : "mode";
    case PortKey::kMac: return cli ? "--mac" : "mac";
    case PortKey::kHairpin: return cli ? "--hairpin" : "hairpin";
    case PortKey::kIsolated: return cli ? "--isolated" : "isolated";
    case PortKey::kSpoofchk: return cli ? "--spoofchk" : "spoofchk";
    case PortKey::kNodst: return cli ? "--nodst" : "nodst";
    case PortKey::kSources: return cli ? "--source" : "sources";
    case PortKey::kAllowIps: return cli ? "--allow-ip" : "allow_ips";
    case PortKey::kStormLimit: return cli ? "--storm-limit" : "storm_limit";
  }
  return "?";
}

PortErrorReporter CliReporter(std::string what) {
  return [what = std::move(what)](const PortOptionError& e) -> absl::Status {
    std::string names = e.names.empty() ? OptionName(OptionDialect::kCli, e.key) : absl::StrJoin(e.names, ", ");
    switch (e.joins) {
      case Joins::kNamed: return absl::InvalidArgumentError(absl::StrCat(what, ": ", e.problem));
      case Joins::kPredicate: return absl::InvalidArgumentError(absl::StrCat(what, ": ", names, " ", e.problem));
      case Joins::kColon: break;
    }
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", names, ": ", e.problem));
  };
}

absl::Status CheckSourceModeOptions(bool nodst, bool has_sources, PortMode mode, OptionDialect d,
                                    const PortErrorReporter& report) {
  if (mode == PortMode::kSource) return absl::OkStatus();
  std::string needs = absl::StrCat("needs ", Cli(d) ? "--mode source" : "mode = \"source\"");
  if (nodst) return Refuse(report, PortKey::kNodst, needs, Joins::kPredicate);
  if (has_sources) return Refuse(report, PortKey::kSources, needs, Joins::kPredicate);
  return absl::OkStatus();
}

absl::StatusOr<PortOptions> CheckPortOptions(const GivenPort& given, OptionDialect d,
                                             const PortErrorReporter& report) {
  PortOptions o;
  o.fabric = given.fabric;
  // Where the port comes from, and the names that become devices.
  if (given.ifname && !given.netns)
    return Refuse(report, PortKey::kIfname, absl::StrCat("needs ", OptionName(d, PortKey::kNetns)), Joins::kPredicate);
  if (!given.tap)
    for (PortKey key : {PortKey::kUser, PortKey::kGroup, PortKey::kMultiQueue})
      if ((key == PortKey::kUser && given.user) || (key == PortKey::kGroup && given.group) ||
          (key == PortKey::kMultiQueue && given.multi_queue))
        return Refuse(report, key, absl::StrCat("needs ", OptionName(d, PortKey::kTap)), Joins::kPredicate);
  for (auto [key, name] : {std::pair{PortKey::kDevice, &given.device}, std::pair{PortKey::kTap, &given.tap},
                           std::pair{PortKey::kIfname, given.netns ? &given.ifname : nullptr}}) {
    if (!name || !*name) continue;
    if (auto s = ValidateDeviceName(OptionName(d, key), **name); !s.ok())
      return Refuse(report, key, std::string(s.message()), Joins::kNamed);
  }
  if (given.netns)
    if (auto s = ValidateNetnsName(OptionName(d, PortKey::kNetns), *given.netns); !s.ok())
      return Refuse(report, PortKey::kNetns, std::string(s.message()), Joins::kNamed);
  o.dev = given.device.value_or("");
  o.netns = given.netns.value_or("");
  if (given.ifname) o.ifname = *given.ifname;
  o.tap = given.tap.value_or("");
  o.tap_user = given.user;
  o.tap_group = given.group;
  o.tap_multi_queue = given.multi_queue;

  // What the port is.
  VNET_RETURN_IF_ERROR(ParseInto(given.type, ParsePortKind, PortKey::kType, report, o.type));
  if (given.ips) {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < given.ips->size(); ++i) {
      auto ip = PortIp::Parse((*given.ips)[i]);
      if (!ip.ok()) return Refuse(report, PortKey::kIps, std::string(ip.status().message()), Joins::kPredicate, i);
      if (!seen.insert(ip->Owned()).second)
        return Refuse(report, PortKey::kIps, absl::StrCat(ip->Owned(), " is given twice"), Joins::kPredicate, i);
      o.ips.push_back(*ip);
    }
  }
  if (given.allow_ips) {
    VNET_ASSIGN_OR_RETURN(o.allow_ips, CheckAllowIps(*given.allow_ips, d, report));
  }
  std::optional<PortMode> mode;
  VNET_RETURN_IF_ERROR(ParseInto(given.mode, ParsePortMode, PortKey::kMode, report, mode));
  if (mode) o.mode = *mode;
  VNET_RETURN_IF_ERROR(ParseInto(given.mac, ParseMacText, PortKey::kMac, report, o.mac));
  if (o.mac) VNET_RETURN_IF_ERROR(CheckUnicast(*o.mac, d, report));
  if (given.sources)
    for (std::size_t i = 0; i < given.sources->size(); ++i) {
      auto source = MacAddress::Parse((*given.sources)[i]);
      if (!source.ok())
        return Refuse(report, PortKey::kSources, std::string(source.status().message()),
                      Cli(d) ? Joins::kNamed : Joins::kColon, i);
      o.sources.push_back(*source);
    }
  o.hairpin = given.hairpin.value_or(false);
  o.isolated = given.isolated.value_or(false);
  o.spoofchk = given.spoofchk.value_or(true);
  o.nodst = given.nodst.value_or(false);
  std::optional<std::uint32_t> storm_limit;
  VNET_RETURN_IF_ERROR(CheckStormLimit(given.storm_limit, d, report, storm_limit));
  o.storm_limit = storm_limit.value_or(0);
  bool given_flags[] = {given.mode.has_value(), given.mac.has_value(), given.hairpin.has_value(),
                        given.nodst.has_value(), given.sources.has_value()};
  for (std::size_t i = 0; i < std::size(kMacvlanOnly); ++i)
    if (given_flags[i]) o.macvlan_options.push_back(OptionName(d, kMacvlanOnly[i]));
  return o;
}

absl::StatusOr<PortKind> CheckPortKind(const PortOptions& o, PortKind fabric_type, OptionDialect d,
                                       const PortErrorReporter& report) {
  PortKind kind = o.type.value_or(o.ips.empty() ? fabric_type : PortKind::kIpvlan);
  if (kind == PortKind::kIpvlan && !o.macvlan_options.empty()) return RefuseMacvlanOnly(o.macvlan_options, d, report);
  if (kind == PortKind::kIpvlan && !o.allow_ips.empty()) return RefuseAllowIpsOnIpvlan(d, report);
  if (kind == PortKind::kMacvlan && !o.ips.empty())
    return Refuse(report, PortKey::kIps,
                  Cli(d) ? "needs an ipvlan port (a macvlan port is found by its MAC)"
                         : "needs an ipvlan port (type = \"ipvlan\")",
                  Joins::kPredicate);
  VNET_RETURN_IF_ERROR(CheckSourceModeOptions(o.nodst, !o.sources.empty(), o.mode, d, report));
  return kind;
}

absl::StatusOr<PortChange> CheckPortChange(const std::string& dev, const GivenPort& given, OptionDialect d,
                                           const PortErrorReporter& report) {
  PortChange change;
  change.dev = dev;
  VNET_RETURN_IF_ERROR(ParseInto(given.type, ParsePortKind, PortKey::kType, report, change.type));
  VNET_RETURN_IF_ERROR(ParseInto(given.mode, ParsePortMode, PortKey::kMode, report, change.mode));
  VNET_RETURN_IF_ERROR(ParseInto(given.mac, ParseMacText, PortKey::kMac, report, change.mac));
  if (change.mac) VNET_RETURN_IF_ERROR(CheckUnicast(*change.mac, d, report));
  change.hairpin = given.hairpin;
  change.isolated = given.isolated;
  change.spoofchk = given.spoofchk;
  change.nodst = given.nodst;
  VNET_RETURN_IF_ERROR(CheckStormLimit(given.storm_limit, d, report, change.storm_limit));
  if (given.allow_ips) {
    VNET_ASSIGN_OR_RETURN(change.allow_ips, CheckAllowIps(*given.allow_ips, d, report));
  }
  return change;
}

absl::Status CheckChangeForKind(const PortChange& change, PortKind from, PortKind to, OptionDialect d,
                                const PortErrorReporter& report) {
  if (to != PortKind::kIpvlan) return absl::OkStatus();
  std::vector<std::string> given;
  bool set[] = {change.mode.has_value(), change.mac.has_value(), change.hairpin.has_value(),
                change.nodst.has_value(), false};
  for (std::size_t i = 0; i < std::size(kMacvlanOnly); ++i)
    if (set[i]) given.push_back(OptionName(d, kMacvlanOnly[i]));
  if (!given.empty()) return RefuseMacvlanOnly(given, d, report);
  // Clearing the list of a port that leaves macvlan is what `--allow-ip none` is for.
  if (change.allow_ips && (from == PortKind::kIpvlan || !change.allow_ips->empty()))
    return RefuseAllowIpsOnIpvlan(d, report);
  return absl::OkStatus();
}

}  // namespace vnet
