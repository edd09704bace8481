#include "cni/version.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cni/cni_error.h"

namespace vnet::cni {
namespace {

std::vector<int> Parts(absl::string_view v) {
  std::vector<int> out;
  for (absl::string_view p : absl::StrSplit(v, '.')) {
    int n = 0;
    (void)absl::SimpleAtoi(p, &n);
    out.push_back(n);
  }
  out.resize(3, 0);
  return out;
}

}  // namespace

bool IsSupported(absl::string_view version) {
  return std::find(kSupportedVersions.begin(), kSupportedVersions.end(), version) != kSupportedVersions.end();
}

int CompareVersions(absl::string_view a, absl::string_view b) {
  auto pa = Parts(a), pb = Parts(b);
  return pa < pb ? -1 : (pa == pb ? 0 : 1);
}

absl::StatusOr<nlohmann::json> ParseResult(const nlohmann::json& result, absl::string_view version) {
  if (!IsSupported(version))
    return Error(kIncompatibleVersion, "incompatible CNI versions",
                 absl::StrCat("result version \"", version, "\" is none of ", absl::StrJoin(kSupportedVersions, ", ")));
  if (!result.is_object()) return Error(kDecodeFailure, "decoding result", "a result is a JSON object");
  nlohmann::json out = result;
  out.erase("cniVersion");
  for (const char* list : {"interfaces", "ips", "routes"}) {
    if (!out.contains(list)) continue;
    if (!out[list].is_array())
      return Error(kDecodeFailure, "decoding result", absl::StrCat("result key '", list, "' is not a list"));
  }
  if (out.contains("ips")) {
    for (auto& ip : out["ips"]) {
      if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string())
        return Error(kDecodeFailure, "decoding result", "an entry of 'ips' has no address");
      ip.erase("version");  // below 1.0.0 only; derived from the address again when encoding
    }
  }
  return out;
}

nlohmann::json EncodeResult(const nlohmann::json& result, absl::string_view version) {
  nlohmann::json out = nlohmann::json::object();
  out["cniVersion"] = std::string(version);
  for (auto it = result.begin(); it != result.end(); ++it) out[it.key()] = it.value();
  bool old = CompareVersions(version, "1.0.0") < 0;
  if (out.contains("ips")) {
    for (auto& ip : out["ips"]) {
      if (old) {
        std::string address = ip.value("address", "");
        ip["version"] = address.find(':') != std::string::npos ? "6" : "4";
      } else {
        ip.erase("version");
      }
    }
  }
  if (CompareVersions(version, "1.1.0") < 0 && out.contains("interfaces"))
    for (auto& i : out["interfaces"]) i.erase("mtu");  // interface MTUs are 1.1's
  if (!out.contains("dns")) out["dns"] = nlohmann::json::object();
  return out;
}

}  // namespace vnet::cni
