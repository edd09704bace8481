// The CNI commands. Each returns what goes to stdout (nullopt: nothing) or a
// status carrying the spec's error code (cni_error.h).
#ifndef VNET_CNI_COMMANDS_H
#define VNET_CNI_COMMANDS_H

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "cni/cni_env.h"
#include "cni/netconf.h"

namespace vnet::cni {

using Output = std::optional<nlohmann::json>;

absl::StatusOr<Output> CmdAdd(const CniEnv& env, const NetConf& conf);
absl::StatusOr<Output> CmdDel(const CniEnv& env, const NetConf& conf);
absl::StatusOr<Output> CmdCheck(const CniEnv& env, const NetConf& conf);
absl::StatusOr<Output> CmdGc(const CniEnv& env, const NetConf& conf);
absl::StatusOr<Output> CmdStatus(const CniEnv& env, const NetConf& conf);
// VERSION needs no valid config: only its cniVersion, if any.
nlohmann::json CmdVersion(const std::string& raw_stdin);

// How long ADD/DEL/GC wait for the control lock before code 11:
// $VNET_CNI_LOCK_TIMEOUT_MS, else 60 s.
std::chrono::milliseconds LockTimeout();

}  // namespace vnet::cni

#endif
