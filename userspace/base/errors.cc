#include "absl/strings/string_view.h"
#include "base/errors.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace vnet {
namespace {

absl::StatusCode CodeOf(int err) {
  switch (err) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return absl::StatusCode::kNotFound;
    case EEXIST:
    case EADDRINUSE:
    case EBUSY:
      return absl::StatusCode::kAlreadyExists;
    case EPERM:
    case EACCES:
      return absl::StatusCode::kPermissionDenied;
    case EINVAL:
    case ERANGE:
      return absl::StatusCode::kInvalidArgument;
    case EOPNOTSUPP:
      return absl::StatusCode::kUnimplemented;
    case ENOSPC:
    case ENOMEM:
    case E2BIG:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status ErrnoStatus(int err, absl::string_view step, absl::string_view object) {
  err = std::abs(err);
  return absl::Status(CodeOf(err), absl::StrCat(step, " ", object, ": ", std::strerror(err)));
}

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

absl::Status Prefix(const absl::Status& status, absl::string_view command) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(command, " ", status.message()));
}

}  // namespace vnet
