#include "fabric/lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

#include "base/errors.h"

namespace vnet {

namespace {
constexpr const char* kPath = "/run/vnet.lock";
}  // namespace

absl::StatusOr<UniqueFd> AcquireControlLockNonBlocking() {
  int fd = ::open(kPath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "open lock", kPath);
  UniqueFd owned(fd);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return absl::UnavailableError("control lock: held by another command");
    if (errno != EINTR) return ErrnoStatus(errno, "lock", kPath);
  }
  return owned;
}

absl::StatusOr<UniqueFd> AcquireControlLock() {
  int fd = ::open(kPath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "open lock", kPath);
  UniqueFd owned(fd);
  while (::flock(fd, LOCK_EX) != 0)
    if (errno != EINTR) return ErrnoStatus(errno, "lock", kPath);
  return owned;
}

}  // namespace vnet
