// CNI errors: the spec's codes, carried on an absl::Status as a payload so
// every step can return an ordinary Status and main prints the spec's JSON.
#ifndef VNET_CNI_CNI_ERROR_H
#define VNET_CNI_CNI_ERROR_H

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vnet::cni {

// The codes of the CNI specification (section "Error"), plus the generic
// code the reference plugins use for everything else.
enum Code : int {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodeFailure = 6,
  kInvalidConfig = 7,
  kTryAgainLater = 11,
  kNotAvailable = 50,
  kGeneric = 999,
};

// A failed status with `code` attached; `msg` is the spec's short message,
// the status text becomes `details`.
absl::Status Error(int code, absl::string_view msg, absl::string_view details = "");
// `status` with `code` attached unless it already has one.
absl::Status WithCode(absl::Status status, int code, absl::string_view msg);

// The two errors of a network config key, worded alike everywhere: a value
// that is wrong (code 7, "key 'K': WHY") and a value of the wrong JSON type
// (code 6, "key 'K' must be WANT").
absl::Status InvalidKey(absl::string_view key, absl::string_view why);
absl::Status KeyWrongType(absl::string_view key, absl::string_view want);

struct CniError {
  int code = kGeneric;
  std::string msg;
  std::string details;
};
CniError ToCniError(const absl::Status& status);

// The error object of the spec, for stdout.
std::string ErrorJson(const CniError& error, absl::string_view cni_version);

}  // namespace vnet::cni

#endif
