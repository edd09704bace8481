// vnetctl port add|set|del and source add|del|flush.
#include <cstdio>
#include <optional>
#include <string>
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
                       {"--spoofchk"}, {"--nodst", false}, {"--allow-ip", true, true}},
                      0, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  PortOptions options;
  if (!parsed->positionals.empty()) options.dev = parsed->positionals[0];
  auto fabric = parsed->Get("--fabric");
  if (!fabric) return Fail(absl::InvalidArgumentError("port add: --fabric NAME is required"));
  options.fabric = *fabric;
  options.netns = parsed->Get("--netns").value_or("");
  options.tap = parsed->Get("--tap").value_or("");
  if (auto v = parsed->Get("--ifname")) {
    if (options.netns.empty()) return Fail(absl::InvalidArgumentError("port add: --ifname needs --netns"));
    options.ifname = *v;
  }
  if ((parsed->Has("--user") || parsed->Has("--group") || parsed->Has("--multi-queue")) && options.tap.empty())
    return Fail(absl::InvalidArgumentError("port add: --user, --group and --multi-queue need --tap"));
  options.tap_multi_queue = parsed->Has("--multi-queue");
  if (auto v = parsed->Get("--user")) {
    auto id = IdOption("port add", "--user", *v, false);
    if (!id.ok()) return Fail(id.status());
    options.tap_user = *id;
  }
  if (auto v = parsed->Get("--group")) {
    auto id = IdOption("port add", "--group", *v, true);
    if (!id.ok()) return Fail(id.status());
    options.tap_group = *id;
  }
  if (auto v = parsed->Get("--mode")) {
    auto mode = ParsePortMode(*v);
    if (!mode.ok()) return Fail(Annotate(mode.status(), "port add"));
    options.mode = *mode;
  }
  PortKind type{};
  if (auto s = ParsedOption(*parsed, "--type", ParsePortKind, type); !s.ok()) return Fail(Annotate(s, "port add"));
  if (parsed->Has("--type")) options.type = type;
  for (const char* name : {"--mode", "--mac", "--hairpin", "--nodst", "--source"})
    if (parsed->Has(name)) options.macvlan_options.push_back(name);
  for (const auto& text : parsed->GetAll("--ip")) {
    auto ip = PortIp::Parse(text);
    if (!ip.ok()) return Fail(absl::InvalidArgumentError(absl::StrCat("port add: --ip ", ip.status().message())));
    options.ips.push_back(*ip);
  }
  if (auto v = parsed->Get("--mac")) {
    auto mac = MacOption("port add", *v);
    if (!mac.ok()) return Fail(mac.status());
    options.mac = *mac;
  }
  for (const auto& text : parsed->GetAll("--source")) {
    auto mac = MacOption("port add", text);
    if (!mac.ok()) return Fail(mac.status());
    options.sources.push_back(*mac);
  }
  for (auto [name, field] : {std::pair{"--hairpin", &options.hairpin}, std::pair{"--isolated", &options.isolated},
                             std::pair{"--spoofchk", &options.spoofchk}})
    if (auto s = OnOffOption(*parsed, name, *field); !s.ok()) return Fail(Annotate(s, "port add"));
  options.nodst = parsed->Has("--nodst");
  if (parsed->Has("--allow-ip")) {
    auto allowed = ParseAllowIps(parsed->GetAll("--allow-ip"), /*none_clears=*/true);
    if (!allowed.ok()) return Fail(Annotate(allowed.status(), "port add: --allow-ip"));
    options.allow_ips = *allowed;
  }
  auto handle = Fabric::Open(options.fabric);
  if (!handle.ok()) return Fail(Annotate(handle.status(), PortAddWhat(options)));
  auto info = handle->AddPort(options);
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
                       {"--allow-ip", true, true}},
                      1, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  PortChange change;
  change.dev = parsed->positionals[0];
  if (parsed->options.empty())
    return Fail(absl::InvalidArgumentError(absl::StrCat("port set ", change.dev, ": nothing to change")));
  if (auto v = parsed->Get("--mode")) {
    auto mode = ParsePortMode(*v);
    if (!mode.ok()) return Fail(Annotate(mode.status(), "port set"));
    change.mode = *mode;
  }
  PortKind type{};
  if (auto s = ParsedOption(*parsed, "--type", ParsePortKind, type); !s.ok()) return Fail(Annotate(s, "port set"));
  if (parsed->Has("--type")) change.type = type;
  if (auto v = parsed->Get("--mac")) {
    auto mac = MacOption("port set", *v);
    if (!mac.ok()) return Fail(mac.status());
    change.mac = *mac;
  }
  for (auto [name, field] : {std::pair{"--hairpin", &change.hairpin}, std::pair{"--isolated", &change.isolated},
                             std::pair{"--spoofchk", &change.spoofchk}, std::pair{"--nodst", &change.nodst}}) {
    bool value = false;
    if (!parsed->Has(name)) continue;
    if (auto s = OnOffOption(*parsed, name, value); !s.ok()) return Fail(Annotate(s, "port set"));
    *field = value;
  }
  if (parsed->Has("--allow-ip")) {
    auto allowed = ParseAllowIps(parsed->GetAll("--allow-ip"), /*none_clears=*/true);
    if (!allowed.ok()) return Fail(Annotate(allowed.status(), absl::StrCat("port set ", change.dev, ": --allow-ip")));
    change.allow_ips = *allowed;
  }
  auto handle = Fabric::OfDevice(change.dev);
  if (!handle.ok()) return Fail(Prefix(handle.status(), "port set"));
  auto info = handle->ChangePort(change);
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
