// vnetctl show, stats, doctor: reading state.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "vnet/vnet.h"
#include "base/errors.h"
#include "vnetctl/cli.h"
#include "vnetctl/output.h"

namespace vnet {

namespace {

// show and stats: an optional name, a list read from libvnet, printed as one
// JSON array under `key` or as text.
template <typename Read, typename ToJson, typename ToText>
int ListCommand(const Context& ctx, const std::vector<std::string>& args, absl::string_view command, const char* key,
                Read read, ToJson to_json, ToText to_text) {
  auto parsed = Parse(command, args, {}, 0, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  std::optional<absl::string_view> name;
  if (!parsed->positionals.empty()) name = parsed->positionals[0];
  auto items = read(name);
  if (!items.ok()) return Fail(items.status());
  if (ctx.json) {
    nlohmann::json doc = nlohmann::json::array();
    for (const auto& item : *items) doc.push_back(to_json(item));
    PrintJson({{key, doc}});
  } else {
    std::fputs(to_text(*items).c_str(), stdout);
  }
  return 0;
}

}  // namespace

int CmdShow(const Context& ctx, const std::vector<std::string>& args) {
  // Without a name, fabrics whose namespace died are listed too (defunct).
  auto with_orphans = [](std::optional<absl::string_view> name) -> absl::StatusOr<std::vector<FabricInfo>> {
    if (name) {
      auto handle = Fabric::Open(*name);
      if (!handle.ok()) return Prefix(handle.status(), "show");
      auto info = handle->Describe();
      if (!info.ok()) return info.status();
      return std::vector<FabricInfo>{std::move(*info)};
    }
    auto fabrics = DescribeFabrics(std::nullopt);
    if (!fabrics.ok()) return fabrics;
    for (auto& orphan : DescribeOrphanFabrics()) fabrics->push_back(std::move(orphan));
    return fabrics;
  };
  return ListCommand(ctx, args, "show", "fabrics", with_orphans, FabricToJson, FabricsToText);
}

int CmdStats(const Context& ctx, const std::vector<std::string>& args) {
  return ListCommand(ctx, args, "stats", "stats", ReadCounters, CountersToJson, CountersToText);
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

}  // namespace vnet
