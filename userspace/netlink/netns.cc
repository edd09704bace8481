#include "absl/strings/string_view.h"
#include "netlink/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/errors.h"

namespace vnet {

std::vector<std::string> ListNamedNetns() {
  std::vector<std::string> names;
  DIR* d = ::opendir("/run/netns");
  if (!d) return names;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  ::closedir(d);
  return names;
}

absl::StatusOr<UniqueFd> OpenNamedNetns(absl::string_view name) {
  if (name.empty() || name.find('/') != absl::string_view::npos || name == "." || name == "..")
    return absl::InvalidArgumentError(absl::StrCat("netns '", name, "': not a valid namespace name"));
  std::string path = absl::StrCat("/run/netns/", name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return absl::NotFoundError(absl::StrCat("netns ", name, ": no such network namespace"));
    return ErrnoStatus(errno, "open netns", name);
  }
  return UniqueFd(fd);
}

absl::StatusOr<UniqueFd> OpenNetns(absl::string_view name_or_path) {
  if (name_or_path.empty() || name_or_path[0] != '/') return OpenNamedNetns(name_or_path);
  std::string path(name_or_path);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("netns ", path, ": no such network namespace"));
    return ErrnoStatus(errno, "open netns", path);
  }
  return UniqueFd(fd);
}

absl::StatusOr<UniqueFd> FindNetnsByNsid(Rtnl& rtnl, int nsid) {
  std::set<std::pair<dev_t, ino_t>> seen;
  auto try_path = [&](const std::string& path) -> UniqueFd {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return UniqueFd();
    UniqueFd owned(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !seen.insert({st.st_dev, st.st_ino}).second) return UniqueFd();
    auto id = rtnl.GetNsid(fd);
    if (id.ok() && *id == nsid) return owned;
    return UniqueFd();
  };
  auto scan = [&](const char* dir, const char* suffix) -> UniqueFd {
    DIR* d = ::opendir(dir);
    if (!d) return UniqueFd();
    UniqueFd found;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      found = try_path(absl::StrCat(dir, "/", e->d_name, suffix));
      if (found.valid()) break;
    }
    ::closedir(d);
    return found;
  };
  if (auto fd = scan("/run/netns", ""); fd.valid()) return fd;
  if (auto fd = scan("/proc", "/ns/net"); fd.valid()) return fd;
  return absl::NotFoundError(absl::StrCat("netns with id ", nsid, ": not found"));
}

absl::StatusOr<ScopedNetns> ScopedNetns::Enter(int netns_fd, absl::string_view name_for_errors) {
  int self = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return ErrnoStatus(errno, "open", "current netns");
  UniqueFd original(self);
  if (::setns(netns_fd, CLONE_NEWNET) != 0) return ErrnoStatus(errno, "enter netns", name_for_errors);
  return ScopedNetns(std::move(original));
}

ScopedNetns::~ScopedNetns() {
  if (original_.valid() && ::setns(original_.get(), CLONE_NEWNET) != 0) {
    // Carrying on in the wrong namespace would misapply every later step.
    std::perror("vnetctl: return to original netns");
    std::abort();
  }
}

}  // namespace vnet
