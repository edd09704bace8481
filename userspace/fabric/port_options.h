// One validation of a port's options for every way they are given: `vnetctl
// port add` and `port set` (command-line texts), a config file's
// [[fabric.NAME.port]] tables (TOML values) and libvnet's own callers. The
// front ends only collect what was given (GivenPort); the checks, and the
// words of their refusals, are here once. Each front end names the options
// its own way ("--allow-ip" or "allow_ips"): OptionDialect says which, and a
// PortErrorReporter turns a refusal into its error ("port add: ..." or
// "FILE:LINE: fabric.a.port[0].allow_ips: ...").
#ifndef VNET_FABRIC_PORT_OPTIONS_H
#define VNET_FABRIC_PORT_OPTIONS_H

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabric/types.h"

namespace vnet {

// The options of a port, whatever their spelling.
enum class PortKey : std::uint8_t {
  kDevice, kNetns, kIfname, kTap, kUser, kGroup, kType, kIps, kMode, kMac,
  kHairpin, kIsolated, kSpoofchk, kNodst, kSources, kAllowIps, kMultiQueue, kStormLimit,
};

// How a front end spells options and the values its refusals suggest:
// vnetctl's flags ("--allow-ip", "--mode source") or a config file's keys
// ("allow_ips", "mode = \"source\"").
enum class OptionDialect : std::uint8_t { kCli, kFile };
std::string OptionName(OptionDialect dialect, PortKey key);

// One refusal: the option it is about (`index`: which entry of a list, or
// -1) and the problem. How the problem reads after the option's name:
enum class Joins : std::uint8_t {
  kColon,      // "--mode, --mac: ipvlan ports share ..."
  kPredicate,  // "--ip needs an ipvlan port ..." (a file still says "ips: needs ...")
  kNamed,      // the problem names the option itself ("--ifname 'eth%d': not a valid ...")
};
struct PortOptionError {
  PortKey key;
  std::string problem;
  Joins joins = Joins::kColon;
  int index = -1;
  // The options to name when several share the refusal (CLI: all of them).
  std::vector<std::string> names;
};
using PortErrorReporter = std::function<absl::Status(const PortOptionError&)>;
// "WHAT: --ip needs an ipvlan port ...", "WHAT: --mode, --mac: ipvlan ports ...".
PortErrorReporter CliReporter(std::string what);

// A port's options as given; unset: not given.
struct GivenPort {
  std::string fabric;
  std::optional<std::string> device, netns, ifname, tap;
  std::optional<unsigned> user, group;  // already resolved to ids
  bool multi_queue = false;
  std::optional<std::string> type, mode, mac;
  std::optional<std::vector<std::string>> ips, sources, allow_ips;
  std::optional<bool> hairpin, isolated, spoofchk, nodst;
  std::optional<std::string> storm_limit;  // frames per second, or "off"
};

// port add (and a config file's port): everything that needs no fabric.
// Sets `macvlan_options` to the macvlan-only options given, in `dialect`.
absl::StatusOr<PortOptions> CheckPortOptions(const GivenPort& given, OptionDialect dialect,
                                             const PortErrorReporter& report);
// port set: what is given changes; `dev` is the port.
absl::StatusOr<PortChange> CheckPortChange(const std::string& dev, const GivenPort& given,
                                           OptionDialect dialect, const PortErrorReporter& report);

// The kind a new port gets on a fabric of `fabric_type` (--type, else ipvlan
// with --ip, else the fabric's), refusing what that kind cannot have.
absl::StatusOr<PortKind> CheckPortKind(const PortOptions& options, PortKind fabric_type,
                                       OptionDialect dialect, const PortErrorReporter& report);
// port set to kind `to`: the given options that kind refuses (macvlan-only
// options on an ipvlan port; an allow-ip list on one, unless it clears the
// list of a port leaving macvlan).
absl::Status CheckChangeForKind(const PortChange& change, PortKind from, PortKind to,
                                OptionDialect dialect, const PortErrorReporter& report);
// nodst and a source list belong to source mode only.
absl::Status CheckSourceModeOptions(bool nodst, bool has_sources, PortMode mode, OptionDialect dialect,
                                    const PortErrorReporter& report);

}  // namespace vnet

#endif
