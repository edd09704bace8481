// vnetctl: a thin command line over libvnet (userspace/fabric). It parses,
// calls one domain function, and prints; it never touches libbpf itself.
// One file per group of commands (commands_*.cc); this one dispatches.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "vnet/vnet.h"
#include "base/errors.h"
#include "vnetctl/cli.h"
#include "vnetctl/help.h"

namespace vnet {
namespace {

int Help(const std::vector<std::string>& args) {
  std::string topic = args.empty() ? "" : args[0];
  if (topic == "attach") return std::fputs(kAttachHelp, stdout), 0;
  if (topic == "source") return std::fputs(kSourceHelp, stdout), 0;
  if (topic == "port") return std::fputs(kPortHelp, stdout), 0;
  if (topic == "ip") return std::fputs(kIpHelp, stdout), 0;
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

  // Commands that change state hold the control lock, so concurrent vnetctl
  // invocations (and the monitor) apply one after another.
  struct Entry {
    const char* name;
    Command run;
    bool changes_state;
  };
  static constexpr Entry kCommands[] = {
      {"attach", CmdAttach, true},  {"detach", CmdDetach, true}, {"fabric", CmdFabric, true},
      {"port", CmdPort, true},      {"source", CmdSource, true}, {"ip", CmdIp, true},
      {"down", CmdDown, true},       {"gc", CmdGc, true},         {"vxlan", CmdVxlan, true},
      {"apply", CmdApply, true},    {"reload", CmdReload, true}, {"show", CmdShow, false},
      {"stats", CmdStats, false},   {"doctor", CmdDoctor, false}, {"monitor", CmdMonitor, false},
  };
  for (const auto& entry : kCommands) {
    if (command != entry.name) continue;
    absl::StatusOr<UniqueFd> lock = UniqueFd();
    if (entry.changes_state && !(lock = AcquireControlLock()).ok()) return Fail(lock.status());
    // What a killed vnetctl left half-done is settled before anything else.
    if (entry.changes_state)
      for (const auto& line : RecoverInterrupted()) std::fprintf(stderr, "vnetctl: recovered %s\n", line.c_str());
    return entry.run(ctx, rest);
  }
  return Fail(absl::InvalidArgumentError(absl::StrCat("unknown command '", command, "' (see vnetctl help)")));
}

}  // namespace
}  // namespace vnet

int main(int argc, char** argv) { return vnet::Run(argc, argv); }
