#include "netlink/tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "base/unique_fd.h"

namespace vnet {
namespace {

absl::StatusOr<UniqueFd> OpenTap(absl::string_view name, short extra_flags) {
  if (name.empty() || name.size() >= IFNAMSIZ)
    return absl::InvalidArgumentError(absl::StrCat("tap '", name, "': not a valid device name"));
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open", "/dev/net/tun");
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | extra_flags;
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) != 0) return ErrnoStatus(errno, "create tap", name);
  return fd;
}

}  // namespace

absl::Status CreatePersistentTap(absl::string_view name, std::optional<unsigned> user, std::optional<unsigned> group,
                                 bool multi_queue) {
  // IFF_TUN_EXCL: refuse to adopt an existing device by that name.
  VNET_ASSIGN_OR_RETURN(UniqueFd fd, OpenTap(name, IFF_TUN_EXCL | (multi_queue ? IFF_MULTI_QUEUE : 0)));
  if (user && ::ioctl(fd.get(), TUNSETOWNER, static_cast<unsigned long>(*user)) != 0)
    return ErrnoStatus(errno, "set owner of tap", name);
  if (group && ::ioctl(fd.get(), TUNSETGROUP, static_cast<unsigned long>(*group)) != 0)
    return ErrnoStatus(errno, "set group of tap", name);
  if (::ioctl(fd.get(), TUNSETPERSIST, 1UL) != 0) return ErrnoStatus(errno, "make persistent tap", name);
  return absl::OkStatus();
}

}  // namespace vnet
