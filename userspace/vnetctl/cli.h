// What every vnetctl command shares: the output mode, one-line errors,
// JSON printing and option parsing helpers.
#ifndef VNET_VNETCTL_CLI_H
#define VNET_VNETCTL_CLI_H

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/mac_address.h"
#include "vnetctl/args.h"

namespace vnet {

struct Context {
  bool json = false;
};

// Prints "vnetctl: MESSAGE" on stderr; returns the exit status (2 for bad usage).
int Fail(const absl::Status& status);
void PrintJson(const nlohmann::json& doc);
// ParseArgs plus a check of the number of positional words.
absl::StatusOr<ParsedArgs> Parse(absl::string_view command, const std::vector<std::string>& args,
                                 std::vector<OptionSpec> specs, std::size_t min_pos, std::size_t max_pos);
// Sets `out` from an on|off option when it was given.
absl::Status OnOffOption(const ParsedArgs& args, absl::string_view name, bool& out);
// Sets `out` from an option parsed by `parse` when it was given; the parser's
// message names the value ("ipvlan mode 'l4': want l2, l3 or l3s").
template <typename T, typename ParseFn>
absl::Status ParsedOption(const ParsedArgs& args, absl::string_view name, ParseFn parse, T& out) {
  auto text = args.Get(name);
  if (!text) return absl::OkStatus();
  auto value = parse(*text);
  if (!value.ok()) return absl::InvalidArgumentError(absl::StrCat(name, ": ", value.status().message()));
  out = *value;
  return absl::OkStatus();
}
absl::StatusOr<MacAddress> MacOption(absl::string_view command, const std::string& text);
// A user or group by number or name.
absl::StatusOr<unsigned> IdOption(absl::string_view command, absl::string_view option, const std::string& text,
                                  bool is_group);

using Command = int (*)(const Context&, const std::vector<std::string>&);
int CmdAttach(const Context&, const std::vector<std::string>&);
int CmdDetach(const Context&, const std::vector<std::string>&);
int CmdFabric(const Context&, const std::vector<std::string>&);
int CmdPort(const Context&, const std::vector<std::string>&);
int CmdIp(const Context&, const std::vector<std::string>&);
int CmdSource(const Context&, const std::vector<std::string>&);
int CmdShow(const Context&, const std::vector<std::string>&);
int CmdStats(const Context&, const std::vector<std::string>&);
int CmdDoctor(const Context&, const std::vector<std::string>&);
int CmdDown(const Context&, const std::vector<std::string>&);
int CmdReload(const Context&, const std::vector<std::string>&);
int CmdApply(const Context&, const std::vector<std::string>&);
int CmdMonitor(const Context&, const std::vector<std::string>&);
int CmdGc(const Context&, const std::vector<std::string>&);
int CmdVxlan(const Context&, const std::vector<std::string>&);

}  // namespace vnet

#endif
