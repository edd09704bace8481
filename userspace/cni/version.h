// The CNI versions this plugin speaks, and results moved between them.
// Internally a result is kept in the 1.0.0 shape (ips without "version").
#ifndef VNET_CNI_VERSION_H
#define VNET_CNI_VERSION_H

#include <array>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vnet::cni {

inline constexpr std::array<const char*, 5> kSupportedVersions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
inline constexpr const char* kLatestVersion = "1.1.0";

bool IsSupported(absl::string_view version);
// <0, 0, >0 as a is older, the same as, newer than b ("0.4.0" < "1.0.0").
int CompareVersions(absl::string_view a, absl::string_view b);

// A result (an IPAM plugin's or a prevResult) in `version`, checked and
// converted to the internal shape. Code 1 for a version we do not speak,
// 6 when it is not a result.
absl::StatusOr<nlohmann::json> ParseResult(const nlohmann::json& result, absl::string_view version);
// The internal shape converted to `version`, with cniVersion set.
nlohmann::json EncodeResult(const nlohmann::json& result, absl::string_view version);

}  // namespace vnet::cni

#endif
