// vnetctl show, stats, doctor: reading state.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fabric/doctor.h"
#include "fabric/fabric.h"
#include "loader/errors.h"
#include "vnetctl/cli.h"
#include "vnetctl/output.h"

namespace vnet {

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
