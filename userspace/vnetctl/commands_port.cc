// vnetctl port add|set|del and source add|del|flush.
#include <cstdio>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "vnet/vnet.h"
#include "vnetctl/help.h"
#include "base/errors.h"
#include "vnetctl/cli.h"
#include "vnetctl/output.h"

namespace vnet {
namespace {

// The options port add and port set share, as given; their checks are
// fabric/port_options.h's. on|off is read here (a config file has booleans).
absl::Status GivenCommon(const ParsedArgs& parsed, absl::string_view command, GivenPort& given) {
  given.type = parsed.Get("--type");
  given.mode = parsed.Get("--mode");
  given.mac = parsed.Get("--mac");
  for (auto [name, field] : {std::pair{"--hairpin", &given.hairpin}, std::pair{"--isolated", &given.isolated},
                             std::pair{"--spoofchk", &given.spoofchk}, std::pair{"--nodst", &given.nodst}}) {
    if (!parsed.Has(name)) continue;
    auto value = parsed.Get(name);
    // port add's --nodst is a switch; port set's takes on|off.
    if (!value || value->empty()) {
      *field = true;
      continue;
    }
    auto on = ParseOnOff(name, *value);
    if (!on.ok()) return Annotate(on.status(), command);
    *field = *on;
  }
  if (parsed.Has("--allow-ip")) given.allow_ips = parsed.GetAll("--allow-ip");
  given.storm_limit = parsed.Get("--storm-limit");
  return absl::OkStatus();
}

// How port add names itself in errors, by the form of the port.
std::string PortAddWhat(const PortOptions& options) {
  if (!options.netns.empty()) return absl::StrCat("port add --netns ", options.netns);
  if (!options.tap.empty()) return absl::StrCat("port add --tap ", options.tap);
  if (!options.dev.empty()) return absl::StrCat("port add ", options.dev);
  return "port add";
}

}  // namespace

int CmdPortAdd(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("port add", args,
                      {{"--fabric"}, {"--netns"}, {"--ifname"}, {"--tap"}, {"--user"}, {"--group"}, {"--multi-queue", false}, {"--type"}, {"--mode"},
                       {"--mac"}, {"--ip", true, true}, {"--source", true, true}, {"--hairpin"}, {"--isolated"},
                       {"--spoofchk"}, {"--nodst", false}, {"--allow-ip", true, true}, {"--mtu"}, {"--storm-limit"}},
                      0, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  auto fabric = parsed->Get("--fabric");
  if (!fabric) return Fail(absl::InvalidArgumentError("port add: --fabric NAME is required"));
  GivenPort given;
  given.fabric = *fabric;
  if (!parsed->positionals.empty()) given.device = parsed->positionals[0];
  given.netns = parsed->Get("--netns");
  given.ifname = parsed->Get("--ifname");
  given.tap = parsed->Get("--tap");
  given.multi_queue = parsed->Has("--multi-queue");
  // User and group names are this host's: resolved here, checked with the rest.
  for (auto [name, field, is_group] : {std::tuple{"--user", &given.user, false}, std::tuple{"--group", &given.group, true}})
    if (auto v = parsed->Get(name)) {
      auto id = IdOption("port add", name, *v, is_group);
      if (!id.ok()) return Fail(id.status());
      *field = *id;
    }
  if (auto s = GivenCommon(*parsed, "port add", given); !s.ok()) return Fail(s);
  if (parsed->Has("--ip")) given.ips = parsed->GetAll("--ip");
  if (parsed->Has("--source")) given.sources = parsed->GetAll("--source");
  auto options = CheckPortOptions(given, OptionDialect::kCli, CliReporter("port add"));
  if (!options.ok()) return Fail(options.status());
  if (auto v = parsed->Get("--mtu")) {
    // The pair vnet creates gets it; an existing device keeps its own.
    if (options->netns.empty())
      return Fail(absl::InvalidArgumentError("port add: --mtu needs --netns (the pair vnet creates)"));
    if (!absl::SimpleAtoi(*v, &options->mtu) || options->mtu < 68 || options->mtu > 65535)
      return Fail(absl::InvalidArgumentError(absl::StrCat("port add: --mtu '", *v, "': want 68 to 65535")));
  }
  auto handle = Fabric::Open(options->fabric);
  if (!handle.ok()) return Fail(Annotate(handle.status(), PortAddWhat(*options)));
  auto info = handle->AddPort(*options);
  if (!info.ok()) return Fail(info.status());
  if (ctx.json)
    PrintJson(PortToJson(*info));
  else
    std::printf("%s\n", info->name.c_str());
  return 0;
}

int CmdPortSet(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("port set", args,
                      {{"--type"}, {"--mode"}, {"--mac"}, {"--hairpin"}, {"--isolated"}, {"--spoofchk"}, {"--nodst"},
                       {"--allow-ip", true, true}, {"--storm-limit"}},
                      1, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  const std::string& dev = parsed->positionals[0];
  if (parsed->options.empty())
    return Fail(absl::InvalidArgumentError(absl::StrCat("port set ", dev, ": nothing to change")));
  GivenPort given;
  if (auto s = GivenCommon(*parsed, "port set", given); !s.ok()) return Fail(s);
  auto change = CheckPortChange(dev, given, OptionDialect::kCli, CliReporter(absl::StrCat("port set ", dev)));
  if (!change.ok()) return Fail(change.status());
  auto handle = Fabric::OfDevice(change->dev);
  if (!handle.ok()) return Fail(Prefix(handle.status(), "port set"));
  auto info = handle->ChangePort(*change);
  if (!info.ok()) return Fail(info.status());
  if (ctx.json) PrintJson(PortToJson(*info));
  return 0;
}

int CmdSource(const Context& ctx, const std::vector<std::string>& args) {
  if (args.empty())
    return Fail(absl::InvalidArgumentError("source: want add|del DEV MAC or flush DEV (see vnetctl help source)"));
  std::string sub = args[0];
  std::string command = absl::StrCat("source ", sub);
  std::vector<std::string> rest(args.begin() + 1, args.end());
  bool flush = sub == "flush";
  if (!flush && sub != "add" && sub != "del")
    return Fail(absl::InvalidArgumentError(absl::StrCat("source: unknown subcommand '", sub, "' (add, del, flush)")));
  auto parsed = Parse(command, rest, {}, flush ? 1 : 2, flush ? 1 : 2);
  if (!parsed.ok()) return Fail(parsed.status());
  const std::string& dev = parsed->positionals[0];
  std::optional<MacAddress> mac;
  if (!flush) {
    auto parsed_mac = MacOption(command, parsed->positionals[1]);
    if (!parsed_mac.ok()) return Fail(parsed_mac.status());
    mac = *parsed_mac;
  }
  auto handle = Fabric::OfDevice(dev);
  if (!handle.ok()) return Fail(Prefix(handle.status(), command));
  absl::Status status = flush            ? handle->FlushSources(dev)
                        : sub == "add" ? handle->AddSource(dev, *mac)
                                       : handle->DeleteSource(dev, *mac);
  if (!status.ok()) return Fail(status);
  if (ctx.json) PrintJson({{"device", dev}, {"source", sub}});
  return 0;
}

int CmdPort(const Context& ctx, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kPortHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "add") return CmdPortAdd(ctx, rest);
  if (args[0] == "del") {
    auto parsed = Parse("port del", rest, {}, 1, 1);
    if (!parsed.ok()) return Fail(parsed.status());
    auto handle = Fabric::OfDevice(parsed->positionals[0]);
    if (!handle.ok()) return Fail(Prefix(handle.status(), "port del"));
    auto status = handle->DeletePort(parsed->positionals[0]);
    if (!status.ok()) return Fail(status);
    if (ctx.json) PrintJson({{"deleted", parsed->positionals[0]}});
    return 0;
  }
  if (args[0] == "set") return CmdPortSet(ctx, rest);
  return Fail(absl::InvalidArgumentError(absl::StrCat("port: unknown subcommand '", args[0], "' (add, set, del)")));
}

}  // namespace vnet
