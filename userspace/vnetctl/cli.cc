#include <grp.h>
#include <pwd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "vnet/vnet.h"
#include "base/errors.h"
#include "vnetctl/cli.h"

namespace vnet {

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

}  // namespace vnet
