// vnetctl reload, apply, monitor: running vnet over time.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "vnet/vnet.h"
#include "base/errors.h"
#include "vnetctl/cli.h"
#include "vnetctl/output.h"

namespace vnet {

int CmdReload(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("reload", args, {}, 0, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  std::vector<std::string> fabrics;
  if (parsed->positionals.empty()) {
    auto all = DescribeFabrics(std::nullopt);
    if (!all.ok()) return Fail(all.status());
    for (const auto& f : *all) fabrics.push_back(f.name);
    for (const auto& f : ListOlderLocalFabrics()) fabrics.push_back(f);  // made by an older vnet: migrated
  } else {
    fabrics.push_back(parsed->positionals[0]);
  }
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& fabric : fabrics) {
    auto handle = Fabric::Open(fabric);
    if (!handle.ok()) return Fail(Prefix(handle.status(), "reload"));
    auto report = handle->Reload();
    if (!report.ok()) return Fail(report.status());
    doc.push_back({{"fabric", report->fabric}, {"replaced", report->replaced}, {"migrated", report->migrated}});
    if (!ctx.json) {
      std::printf("%s: %d attachments now run this build's programs\n", report->fabric.c_str(), report->replaced);
      if (!report->migrated.empty())
        std::printf("%s: migrated to ABI %d: %s\n", report->fabric.c_str(), VNET_ABI_VERSION,
                    absl::StrJoin(report->migrated, ", ").c_str());
    }
  }
  if (ctx.json) PrintJson({{"reloaded", doc}});
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

namespace {

std::atomic<bool> monitor_stop{false};
void StopMonitor(int) { monitor_stop.store(true); }

// Each change on stdout as it happens (a log), a fabric that could not be
// synced on stderr; the monitor goes on with the others.
void PrintMonitorEvent(const std::string& fabric, const std::variant<std::string, absl::Status>& what) {
  if (const auto* change = std::get_if<std::string>(&what)) {
    std::printf("%s: %s\n", fabric.c_str(), change->c_str());
    std::fflush(stdout);
  } else {
    std::fprintf(stderr, "vnetctl: monitor %s: %s\n", fabric.c_str(),
                 std::string(std::get<absl::Status>(what).message()).c_str());
  }
}

}  // namespace

int CmdMonitor(const Context&, const std::vector<std::string>& args) {
  auto parsed = Parse("monitor", args, {{"--once", false}}, 0, 0);
  if (!parsed.ok()) return Fail(parsed.status());
  struct sigaction sa {};
  sa.sa_handler = StopMonitor;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  auto status = MonitorUplinks(parsed->Has("--once"), PrintMonitorEvent, monitor_stop);
  return status.ok() ? 0 : Fail(Annotate(status, "monitor"));
}

int CmdGc(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("gc", args, {}, 0, 0);
  if (!parsed.ok()) return Fail(parsed.status());
  auto collected = CollectDeadFabrics(true, [](const DeadFabric&) { return true; });
  if (!collected.ok()) return Fail(Prefix(collected.status(), "gc"));
  for (const auto& fabric : RemoveIncompleteFabrics())
    collected->push_back({fabric, "half-built by an interrupted vnetctl"});
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& c : *collected) {
    doc.push_back({{"fabric", c.fabric}, {"reason", c.why}});
    if (!ctx.json) std::printf("removed fabric %s: %s\n", c.fabric.c_str(), c.why.c_str());
  }
  if (ctx.json) PrintJson({{"removed", doc}});
  else if (collected->empty()) std::printf("no dead fabrics\n");
  return 0;
}

}  // namespace vnet
