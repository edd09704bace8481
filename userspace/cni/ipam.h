// Delegation to the IPAM plugin named by ipam.type, as the spec says: found
// in CNI_PATH, run with this plugin's environment (CNI_COMMAND and the
// attachment overridable) and the same network config on stdin.
#ifndef VNET_CNI_IPAM_H
#define VNET_CNI_IPAM_H

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "cni/cni_env.h"

namespace vnet::cni {

// Runs IPAM `type` with CNI_COMMAND=command; `overrides` replace other CNI_*
// variables (GC releases an attachment that is not the one being run). Its
// stdout parsed as JSON (null when empty). A failing plugin's error (code,
// msg, details) is passed on, prefixed with the plugin's name.
absl::StatusOr<nlohmann::json> ExecIpam(const CniEnv& env, const std::string& type, const std::string& command,
                                        const std::string& stdin_config,
                                        const std::map<std::string, std::string>& overrides = {});

// Whether IPAM `type` lists `version` in its VERSION answer (GC and STATUS
// go only to a plugin that speaks 1.1.0).
bool IpamSpeaks(const CniEnv& env, const std::string& type, const std::string& version);

}  // namespace vnet::cni

#endif
