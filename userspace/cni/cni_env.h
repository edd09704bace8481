// The CNI_* environment a runtime sets, and CNI_ARGS's K=V;K=V pairs.
#ifndef VNET_CNI_CNI_ENV_H
#define VNET_CNI_CNI_ENV_H

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vnet::cni {

struct CniEnv {
  std::string command;
  std::string container_id;
  std::string netns;  // a path; empty on containerd's DEL
  std::string ifname;
  std::string args;
  std::vector<std::string> path;  // CNI_PATH, split on ':'
};

CniEnv ReadCniEnv();

// Code 4 naming the variables of `names` ("CNI_NETNS", ...) that are empty.
absl::Status RequireEnv(const CniEnv& env, const std::vector<std::string>& names);

// MAC= from CNI_ARGS, if there. Other keys are ignored (runtimes add their
// own: K8S_POD_NAME, IgnoreUnknown); a pair without '=' is code 4.
absl::StatusOr<std::optional<std::string>> MacFromCniArgs(const std::string& args);

}  // namespace vnet::cni

#endif
