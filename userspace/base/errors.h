// One way to turn an errno (from libbpf, a syscall or netlink) into an
// absl::Status whose message names the step and the object:
//   "attach XDP on up0: Device or resource busy".
#ifndef VNET_BASE_ERRORS_H
#define VNET_BASE_ERRORS_H

#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"

namespace vnet {

// `err` may be negative (libbpf style) or positive (errno style).
absl::Status ErrnoStatus(int err, absl::string_view step, absl::string_view object);

// Prefixes the message of a non-OK status with more context, keeping its code:
// "context: message".
absl::Status Annotate(const absl::Status& status, absl::string_view context);
// For messages that start with the object ("eth7: no such device"): puts the
// command in front of it, "attach eth7: no such device".
absl::Status Prefix(const absl::Status& status, absl::string_view command);

}  // namespace vnet

#define VNET_RETURN_IF_ERROR(expr)              \
  do {                                          \
    ::absl::Status vnet_status_ = (expr);       \
    if (!vnet_status_.ok()) return vnet_status_; \
  } while (0)

#define VNET_CONCAT_INNER(a, b) a##b
#define VNET_CONCAT(a, b) VNET_CONCAT_INNER(a, b)
#define VNET_ASSIGN_OR_RETURN(lhs, expr) \
  VNET_ASSIGN_OR_RETURN_IMPL(VNET_CONCAT(vnet_statusor_, __LINE__), lhs, expr)
#define VNET_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

#endif
