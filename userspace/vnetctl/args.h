// Command-line parsing for vnetctl: positional words and --options, checked
// against what each command accepts, so a typo is an error, never ignored.
#ifndef VNET_VNETCTL_ARGS_H
#define VNET_VNETCTL_ARGS_H

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/statusor.h"

namespace vnet {

struct OptionSpec {
  std::string name;        // "--fabric"
  bool takes_value = true;
  bool repeatable = false;
};

struct ParsedArgs {
  std::vector<std::string> positionals;
  std::map<std::string, std::vector<std::string>> options;  // keyed by long name

  bool Has(absl::string_view name) const { return options.count(std::string(name)) > 0; }
  std::optional<std::string> Get(absl::string_view name) const;
  std::vector<std::string> GetAll(absl::string_view name) const;
};

// `command` names the command in errors ("port add: unknown option --mdoe").
absl::StatusOr<ParsedArgs> ParseArgs(absl::string_view command, const std::vector<std::string>& args,
                                     const std::vector<OptionSpec>& specs);

}  // namespace vnet

#endif
