#include "absl/strings/string_view.h"
#include "vnetctl/args.h"

#include "absl/strings/str_cat.h"

namespace vnet {

std::optional<std::string> ParsedArgs::Get(absl::string_view name) const {
  auto it = options.find(std::string(name));
  if (it == options.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::GetAll(absl::string_view name) const {
  auto it = options.find(std::string(name));
  return it == options.end() ? std::vector<std::string>{} : it->second;
}

absl::StatusOr<ParsedArgs> ParseArgs(absl::string_view command, const std::vector<std::string>& args,
                                     const std::vector<OptionSpec>& specs) {
  ParsedArgs parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      parsed.positionals.push_back(arg);
      continue;
    }
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs)
      if (s.name == arg) spec = &s;
    if (!spec) return absl::InvalidArgumentError(absl::StrCat(command, ": unknown option ", arg));
    auto& values = parsed.options[spec->name];
    if (!values.empty() && !spec->repeatable)
      return absl::InvalidArgumentError(absl::StrCat(command, ": ", spec->name, " given twice"));
    if (!spec->takes_value) {
      if (inline_value) return absl::InvalidArgumentError(absl::StrCat(command, ": ", spec->name, " takes no value"));
      values.push_back("");
      continue;
    }
    if (inline_value) {
      values.push_back(*inline_value);
    } else if (i + 1 < args.size()) {
      values.push_back(args[++i]);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(command, ": ", spec->name, " needs a value"));
    }
  }
  return parsed;
}

}  // namespace vnet
