// vnetctl: a thin command line over libvnet (userspace/fabric). It parses,
// calls one domain function, and prints; it never touches libbpf itself.
#include <grp.h>
#include <pwd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "fabric/apply.h"
#include "fabric/config_file.h"
#include "fabric/fabric.h"
#include "fabric/lock.h"
#include "fabric/uplink_state.h"
#include "loader/errors.h"
#include "vnetctl/args.h"
#include "vnetctl/help.h"
#include "vnetctl/output.h"

namespace vnet {
namespace {

struct Context {
  bool json = false;
};

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "vnetctl: %s\n", std::string(status.message()).c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

void PrintJson(const nlohmann::json& doc) { std::cout << doc.dump(2) << "\n"; }

absl::StatusOr<ParsedArgs> Parse(absl::string_view command, const std::vector<std::string>& args,
                                 std::vector<OptionSpec> specs, std::size_t min_pos, std::size_t max_pos) {
  auto parsed_or = ParseArgs(command, args, specs);
  if (!parsed_or.ok()) return parsed_or.status();
  ParsedArgs parsed = std::move(*parsed_or);
  if (parsed.positionals.size() < min_pos)
    return absl::InvalidArgumentError(absl::StrCat(command, ": missing argument (see vnetctl help)"));
  if (parsed.positionals.size() > max_pos)
    return absl::InvalidArgumentError(
        absl::StrCat(command, ": unexpected argument '", parsed.positionals[max_pos], "'"));
  return parsed;
}

absl::Status OnOffOption(const ParsedArgs& args, absl::string_view name, bool& out) {
  if (auto v = args.Get(name)) {
    auto parsed = ParseOnOff(name, *v);
    if (!parsed.ok()) return parsed.status();
    out = *parsed;
  }
  return absl::OkStatus();
}

int CmdAttach(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("attach", args,
                      {{"--fabric"}, {"--type"}, {"--ipvlan-mode"}, {"--ipvlan-flag"}, {"--host"},
                       {"--unknown"}, {"--xdp-mode"}, {"--xdp-redirect"}, {"--tc-hook"}, {"--force", false}},
                      1, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  AttachOptions options;
  options.uplink = parsed->positionals[0];
  options.fabric = parsed->Get("--fabric").value_or("");
  options.type = parsed->Get("--type").value_or("macvlan");
  options.force = parsed->Has("--force");
  if (parsed->Has("--ipvlan-mode") || parsed->Has("--ipvlan-flag")) {
    if (options.type != "ipvlan")
      return Fail(absl::InvalidArgumentError("attach: --ipvlan-mode/--ipvlan-flag need --type ipvlan"));
  }
  if (auto s = OnOffOption(*parsed, "--host", options.host); !s.ok()) return Fail(Annotate(s, "attach"));
  if (auto v = parsed->Get("--xdp-redirect"); v && *v != "auto") {
    bool on = false;
    if (auto s = OnOffOption(*parsed, "--xdp-redirect", on); !s.ok())
      return Fail(Annotate(absl::InvalidArgumentError(absl::StrCat("--xdp-redirect '", *v, "': want auto, on or off")),
                           "attach"));
    options.xdp_redirect = on;
  }
  if (auto v = parsed->Get("--unknown")) {
    if (*v != "pass" && *v != "drop")
      return Fail(absl::InvalidArgumentError(absl::StrCat("--unknown '", *v, "': want pass or drop")));
    options.unknown_drop = *v == "drop";
  }
  if (auto v = parsed->Get("--tc-hook")) {
    auto hook = ParseTcHook(*v);
    if (!hook.ok()) return Fail(Annotate(hook.status(), "attach"));
    options.tc_hook = *hook;
  }
  if (auto v = parsed->Get("--xdp-mode")) {
    auto mode = ParseXdpMode(*v);
    if (!mode.ok()) return Fail(Annotate(mode.status(), "attach"));
    options.xdp_mode = *mode;
  }
  auto info = AttachFabric(options);
  if (!info.ok()) return Fail(info.status());
  if (ctx.json)
    PrintJson(FabricToJson(*info));
  else
    std::printf("fabric %s attached to %s (xdp %s)\n", info->name.c_str(), info->uplink.c_str(), info->xdp_mode.c_str());
  return 0;
}

int CmdDetach(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("detach", args, {}, 1, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  auto status = DetachFabric(parsed->positionals[0]);
  if (!status.ok()) return Fail(status);
  if (ctx.json) PrintJson({{"detached", parsed->positionals[0]}});
  return 0;
}

absl::StatusOr<MacAddress> MacOption(absl::string_view command, const std::string& text) {
  auto mac = MacAddress::Parse(text);
  if (!mac.ok()) return absl::InvalidArgumentError(absl::StrCat(command, ": ", mac.status().message()));
  return mac;
}

absl::StatusOr<unsigned> IdOption(absl::string_view command, absl::string_view option, const std::string& text,
                                  bool is_group) {
  unsigned id = 0;
  if (absl::SimpleAtoi(text, &id)) return id;
  if (is_group) {
    if (const struct group* g = getgrnam(text.c_str())) return g->gr_gid;
  } else if (const struct passwd* p = getpwnam(text.c_str())) {
    return p->pw_uid;
  }
  return absl::InvalidArgumentError(absl::StrCat(command, ": ", option, " '", text, "': no such ",
                                                 is_group ? "group" : "user"));
}

int CmdPortAdd(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("port add", args,
                      {{"--fabric"}, {"--netns"}, {"--ifname"}, {"--tap"}, {"--user"}, {"--group"}, {"--multi-queue", false}, {"--mode"},
                       {"--mac"}, {"--ip", true, true}, {"--source", true, true}, {"--hairpin"}, {"--isolated"},
                       {"--spoofchk"}, {"--nodst", false}},
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
  if (parsed->Has("--ip"))
    return Fail(absl::UnimplementedError("port add: --ip needs an ipvlan fabric, not implemented yet"));
  for (auto [name, field] : {std::pair{"--hairpin", &options.hairpin}, std::pair{"--isolated", &options.isolated},
                             std::pair{"--spoofchk", &options.spoofchk}})
    if (auto s = OnOffOption(*parsed, name, *field); !s.ok()) return Fail(Annotate(s, "port add"));
  options.nodst = parsed->Has("--nodst");
  auto info = AddPort(options);
  if (!info.ok()) return Fail(info.status());
  if (ctx.json)
    PrintJson(PortToJson(*info));
  else
    std::printf("%s\n", info->name.c_str());
  return 0;
}

int CmdPortSet(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("port set", args,
                      {{"--mode"}, {"--mac"}, {"--hairpin"}, {"--isolated"}, {"--spoofchk"}, {"--nodst"}}, 1, 1);
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
  auto info = ChangePort(change);
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
  absl::Status status;
  if (flush) {
    status = FlushPortSources(dev);
  } else {
    auto mac = MacOption(command, parsed->positionals[1]);
    if (!mac.ok()) return Fail(mac.status());
    status = sub == "add" ? AddPortSource(dev, *mac) : DeletePortSource(dev, *mac);
  }
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
    auto status = DeletePort(parsed->positionals[0]);
    if (!status.ok()) return Fail(status);
    if (ctx.json) PrintJson({{"deleted", parsed->positionals[0]}});
    return 0;
  }
  if (args[0] == "set") return CmdPortSet(ctx, rest);
  return Fail(absl::InvalidArgumentError(absl::StrCat("port: unknown subcommand '", args[0], "' (add, set, del)")));
}

int CmdShow(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("show", args, {}, 0, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  std::optional<absl::string_view> name;
  if (!parsed->positionals.empty()) name = parsed->positionals[0];
  auto fabrics = DescribeFabrics(name);
  if (!fabrics.ok()) return Fail(fabrics.status());
  if (ctx.json) {
    nlohmann::json doc = nlohmann::json::array();
    for (const auto& f : *fabrics) doc.push_back(FabricToJson(f));
    PrintJson({{"fabrics", doc}});
  } else {
    std::fputs(FabricsToText(*fabrics).c_str(), stdout);
  }
  return 0;
}

int CmdStats(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("stats", args, {}, 0, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  std::optional<absl::string_view> dev;
  if (!parsed->positionals.empty()) dev = parsed->positionals[0];
  auto counters = ReadCounters(dev);
  if (!counters.ok()) return Fail(counters.status());
  if (ctx.json) {
    nlohmann::json doc = nlohmann::json::array();
    for (const auto& c : *counters) doc.push_back(CountersToJson(c));
    PrintJson({{"stats", doc}});
  } else {
    std::fputs(CountersToText(*counters).c_str(), stdout);
  }
  return 0;
}

int CmdDown(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("down", args, {}, 0, 0);
  if (!parsed.ok()) return Fail(parsed.status());
  auto removed = DetachAll();
  if (!removed.ok()) return Fail(removed.status());
  if (ctx.json) PrintJson({{"removed", *removed}});
  return 0;
}

int CmdReload(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("reload", args, {}, 0, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  std::vector<std::string> fabrics;
  if (parsed->positionals.empty()) {
    auto all = DescribeFabrics(std::nullopt);
    if (!all.ok()) return Fail(all.status());
    for (const auto& f : *all) fabrics.push_back(f.name);
  } else {
    fabrics.push_back(parsed->positionals[0]);
  }
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& fabric : fabrics) {
    auto report = ReloadFabric(fabric);
    if (!report.ok()) return Fail(report.status());
    doc.push_back({{"fabric", report->fabric}, {"replaced", report->replaced}});
    if (!ctx.json) std::printf("%s: %d attachments now run this build's programs\n", report->fabric.c_str(), report->replaced);
  }
  if (ctx.json) PrintJson({{"reloaded", doc}});
  return 0;
}

int CmdDoctor(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("doctor", args, {}, 0, 0);
  if (!parsed.ok()) return Fail(parsed.status());
  auto report = RunDoctor();
  if (!report.ok()) return Fail(Annotate(report.status(), "doctor"));
  if (ctx.json) {
    PrintJson(DoctorToJson(*report));
  } else {
    std::fputs(DoctorToText(*report).c_str(), stdout);
  }
  return 0;
}

int CmdApply(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("apply", args, {{"--dry-run", false}, {"--wait"}}, 1, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  auto desired = LoadConfigFile(parsed->positionals[0]);
  if (!desired.ok()) return Fail(Prefix(desired.status(), "apply"));
  bool dry_run = parsed->Has("--dry-run");
  if (auto v = parsed->Get("--wait")) {
    int seconds = 0;
    if (!absl::SimpleAtoi(*v, &seconds) || seconds < 0)
      return Fail(absl::InvalidArgumentError(absl::StrCat("apply: --wait '", *v, "': want a number of seconds")));
    if (auto s = WaitForDevices(*desired, seconds); !s.ok()) return Fail(s);
  }
  auto report = Apply(*desired, dry_run, [&](const std::string& action) {
    if (!ctx.json) std::printf("%s%s\n", dry_run ? "would " : "", action.c_str());
    std::fflush(stdout);
  });
  if (!report.ok()) return Fail(report.status());
  if (ctx.json) PrintJson({{"dry_run", dry_run}, {"actions", report->actions}});
  else if (report->actions.empty()) std::printf("nothing to change\n");
  return 0;
}

int CmdFabric(const Context& ctx, const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "set")
    return Fail(absl::InvalidArgumentError("fabric: want `fabric set NAME [--host on|off] [--unknown pass|drop]`"));
  std::vector<std::string> rest(args.begin() + 1, args.end());
  auto parsed = Parse("fabric set", rest, {{"--host"}, {"--unknown"}}, 1, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  const std::string& name = parsed->positionals[0];
  auto fabrics = DescribeFabrics(name);
  if (!fabrics.ok()) return Fail(Prefix(fabrics.status(), "fabric set"));
  bool host = (*fabrics)[0].host, unknown_drop = (*fabrics)[0].unknown_drop;
  if (auto s = OnOffOption(*parsed, "--host", host); !s.ok()) return Fail(Annotate(s, "fabric set"));
  if (auto v = parsed->Get("--unknown")) {
    if (*v != "pass" && *v != "drop")
      return Fail(absl::InvalidArgumentError(absl::StrCat("fabric set: --unknown '", *v, "': want pass or drop")));
    unknown_drop = *v == "drop";
  }
  if (!parsed->Has("--host") && !parsed->Has("--unknown"))
    return Fail(absl::InvalidArgumentError(absl::StrCat("fabric set ", name, ": nothing to change")));
  if (auto s = SetFabricPolicy(name, host, unknown_drop); !s.ok()) return Fail(s);
  if (ctx.json) PrintJson({{"fabric", (*fabrics)[0].name}, {"host", host}, {"unknown", unknown_drop ? "drop" : "pass"}});
  return 0;
}

int CmdMonitor(const Context&, const std::vector<std::string>& args) {
  auto parsed = Parse("monitor", args, {{"--once", false}}, 0, 0);
  if (!parsed.ok()) return Fail(parsed.status());
  auto status = MonitorUplinks(parsed->Has("--once"));
  return status.ok() ? 0 : Fail(Annotate(status, "monitor"));
}

int Help(const std::vector<std::string>& args) {
  std::string topic = args.empty() ? "" : args[0];
  if (topic == "attach") return std::fputs(kAttachHelp, stdout), 0;
  if (topic == "source") return std::fputs(kSourceHelp, stdout), 0;
  if (topic == "port") return std::fputs(kPortHelp, stdout), 0;
  for (const auto& page : kCommandHelp)
    if (topic == page.command) return std::fputs(page.text, stdout), 0;
  std::fputs(kMainHelp, stdout);
  return topic.empty() ? 0 : 2;
}

int Run(int argc, char** argv) {
  Context ctx;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-j" || a == "--json") ctx.json = true;
    else words.push_back(a);
  }
  if (words.empty()) {
    std::fputs(kMainHelp, stderr);
    return 2;
  }
  std::string command = words[0];
  std::vector<std::string> rest(words.begin() + 1, words.end());
  if (command == "help" || command == "--help" || command == "-h") return Help(rest);
  for (const auto& w : rest)
    if (w == "--help" || w == "-h") return Help({command});

  bool changes_state = command == "attach" || command == "detach" || command == "port" || command == "down" ||
                       command == "source" || command == "reload" || command == "apply" || command == "fabric";
  absl::StatusOr<UniqueFd> lock = UniqueFd();
  if (changes_state) {
    lock = AcquireControlLock();
    if (!lock.ok()) return Fail(lock.status());
  }
  if (command == "attach") return CmdAttach(ctx, rest);
  if (command == "detach") return CmdDetach(ctx, rest);
  if (command == "port") return CmdPort(ctx, rest);
  if (command == "show") return CmdShow(ctx, rest);
  if (command == "stats") return CmdStats(ctx, rest);
  if (command == "down") return CmdDown(ctx, rest);
  if (command == "source") return CmdSource(ctx, rest);
  if (command == "monitor") return CmdMonitor(ctx, rest);
  if (command == "reload") return CmdReload(ctx, rest);
  if (command == "doctor") return CmdDoctor(ctx, rest);
  if (command == "apply") return CmdApply(ctx, rest);
  if (command == "fabric") return CmdFabric(ctx, rest);
  return Fail(absl::InvalidArgumentError(absl::StrCat("unknown command '", command, "' (see vnetctl help)")));
}

}  // namespace
}  // namespace vnet

int main(int argc, char** argv) { return vnet::Run(argc, argv); }
