#include "cni/cni_error.h"

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace vnet::cni {
namespace {

constexpr const char* kCodeKey = "vnet.cni/code";
constexpr const char* kMsgKey = "vnet.cni/msg";

}  // namespace

absl::Status Error(int code, absl::string_view msg, absl::string_view details) {
  absl::Status status = absl::UnknownError(details.empty() ? msg : details);
  status.SetPayload(kCodeKey, absl::Cord(absl::StrCat(code)));
  status.SetPayload(kMsgKey, absl::Cord(msg));
  return status;
}

absl::Status WithCode(absl::Status status, int code, absl::string_view msg) {
  if (status.ok() || status.GetPayload(kCodeKey)) return status;
  status.SetPayload(kCodeKey, absl::Cord(absl::StrCat(code)));
  status.SetPayload(kMsgKey, absl::Cord(msg));
  return status;
}

CniError ToCniError(const absl::Status& status) {
  CniError e;
  e.details = std::string(status.message());
  if (auto code = status.GetPayload(kCodeKey)) {
    int c = kGeneric;
    if (absl::SimpleAtoi(std::string(*code), &c)) e.code = c;
  }
  if (auto msg = status.GetPayload(kMsgKey)) e.msg = std::string(*msg);
  if (e.msg.empty()) e.msg = e.details;
  if (e.details == e.msg) e.details.clear();
  return e;
}

std::string ErrorJson(const CniError& error, absl::string_view cni_version) {
  nlohmann::json j;
  j["cniVersion"] = std::string(cni_version);
  j["code"] = error.code;
  j["msg"] = error.msg;
  if (!error.details.empty()) j["details"] = error.details;
  return j.dump(4);
}

absl::Status InvalidKey(absl::string_view key, absl::string_view why) {
  return Error(kInvalidConfig, absl::StrCat("invalid config: ", key), absl::StrCat("key '", key, "': ", why));
}

absl::Status KeyWrongType(absl::string_view key, absl::string_view want) {
  return Error(kDecodeFailure, "decoding network config", absl::StrCat("key '", key, "' must be ", want));
}

}  // namespace vnet::cni
