#include "cni/cni_env.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cni/cni_error.h"

namespace vnet::cni {
namespace {

std::string Var(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

CniEnv ReadCniEnv() {
  CniEnv env;
  env.command = Var("CNI_COMMAND");
  env.container_id = Var("CNI_CONTAINERID");
  env.netns = Var("CNI_NETNS");
  env.ifname = Var("CNI_IFNAME");
  env.args = Var("CNI_ARGS");
  for (absl::string_view dir : absl::StrSplit(Var("CNI_PATH"), ':', absl::SkipEmpty()))
    env.path.emplace_back(dir);
  return env;
}

absl::Status RequireEnv(const CniEnv& env, const std::vector<std::string>& names) {
  std::vector<std::string> missing;
  for (const auto& n : names) {
    bool empty = (n == "CNI_CONTAINERID" && env.container_id.empty()) || (n == "CNI_NETNS" && env.netns.empty()) ||
                 (n == "CNI_IFNAME" && env.ifname.empty()) || (n == "CNI_PATH" && env.path.empty());
    if (empty) missing.push_back(n);
  }
  if (missing.empty()) return absl::OkStatus();
  return Error(kInvalidEnvironment, "invalid environment",
               absl::StrCat("required environment variables missing: ", absl::StrJoin(missing, ", ")));
}

absl::StatusOr<std::optional<std::string>> MacFromCniArgs(const std::string& args) {
  std::optional<std::string> mac;
  for (absl::string_view pair : absl::StrSplit(args, ';', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (pair.find('=') == absl::string_view::npos || kv.first.empty())
      return Error(kInvalidEnvironment, "invalid environment", absl::StrCat("CNI_ARGS: '", pair, "' is not KEY=VALUE"));
    if (kv.first == "MAC") mac = std::string(kv.second);
  }
  return mac;
}

}  // namespace vnet::cni
