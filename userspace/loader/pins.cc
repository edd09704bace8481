#include "absl/strings/string_view.h"
#include "loader/pins.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "loader/checkpoint.h"
#include "base/errors.h"
#include "vnet/abi.h"

namespace vnet {

std::string FabricPinDir(absl::string_view fabric) { return absl::StrCat(VNET_PIN_ROOT, "/", fabric); }

std::string FabricPinPath(absl::string_view fabric, absl::string_view object) {
  return absl::StrCat(VNET_PIN_ROOT, "/", fabric, "/", object);
}

absl::Status EnsureBpffs() {
  struct statfs fs {};
  if (::statfs("/sys/fs/bpf", &fs) == 0 && fs.f_type == BPF_FS_MAGIC) goto have_fs;
  ::mkdir("/sys/fs/bpf", 0755);
  if (::mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0)
    return ErrnoStatus(errno, "mount bpffs on", "/sys/fs/bpf");
have_fs:
  if (::mkdir(VNET_PIN_ROOT, 0700) != 0 && errno != EEXIST)
    return ErrnoStatus(errno, "create", VNET_PIN_ROOT);
  return absl::OkStatus();
}

absl::Status MakeFabricDir(absl::string_view fabric) {
  std::string dir = FabricPinDir(fabric);
  // VNET_PIN_ROOT goes when its last fabric does: make it again if needed.
  if (::mkdir(dir.c_str(), 0700) != 0 && (errno != ENOENT || !EnsureBpffs().ok() || ::mkdir(dir.c_str(), 0700) != 0))
    return ErrnoStatus(errno, "create pin directory", dir);
  return absl::OkStatus();
}

bool FabricDirExists(absl::string_view fabric) {
  struct stat st {};
  return ::stat(FabricPinDir(fabric).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

namespace {

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    names.emplace_back(e->d_name);
  }
  ::closedir(d);
  return names;
}

}  // namespace

std::vector<std::string> ListFabricDirs() { return ListDir(VNET_PIN_ROOT); }

std::vector<std::string> ListPins(absl::string_view fabric) { return ListDir(FabricPinDir(fabric)); }

absl::Status RemoveFabricDir(absl::string_view fabric) {
  std::string dir = FabricPinDir(fabric);
  for (const auto& name : ListDir(dir)) VNET_RETURN_IF_ERROR(Unpin(absl::StrCat(dir, "/", name)));
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "remove", dir);
  ::rmdir(VNET_PIN_ROOT);  // the last fabric gone leaves nothing of vnet behind (fails while others exist)
  return absl::OkStatus();
}

absl::Status PinFd(int fd, const std::string& path) {
  if (bpf_obj_pin(fd, path.c_str()) != 0) return ErrnoStatus(errno, "pin", path);
  return absl::OkStatus();
}

absl::Status RepinFd(int fd, const std::string& path) {
  std::string staging = path + "_new";  // bpffs refuses names with dots
  (void)Unpin(staging);
  VNET_RETURN_IF_ERROR(PinFd(fd, staging));
  Checkpoint("repin: staged");
  if (::rename(staging.c_str(), path.c_str()) != 0) {
    int err = errno;
    (void)Unpin(staging);
    return ErrnoStatus(err, "replace pin", path);
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> OpenPinned(const std::string& path) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return ErrnoStatus(errno, "open pinned object", path);
  return UniqueFd(fd);
}

absl::Status Unpin(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, "unpin", path);
  return absl::OkStatus();
}

absl::Status PinNote(const std::string& path, const PinnedNote& note) {
  LIBBPF_OPTS(bpf_map_create_opts, opts);
  int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vnet_note", sizeof(std::uint32_t), sizeof(PinnedNote), 1, &opts);
  if (fd < 0) return ErrnoStatus(errno, "create note for", path);
  UniqueFd owned(fd);
  std::uint32_t zero = 0;
  if (bpf_map_update_elem(fd, &zero, &note, BPF_ANY) != 0) return ErrnoStatus(errno, "write note", path);
  // A first note is pinned directly: a killed vnetctl leaves it or nothing.
  if (::access(path.c_str(), F_OK) != 0) return PinFd(fd, path);
  return RepinFd(fd, path);
}

absl::StatusOr<PinnedNote> ReadNote(const std::string& path) {
  VNET_ASSIGN_OR_RETURN(UniqueFd fd, OpenPinned(path));
  bpf_map_info info{};
  std::uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0 || info.value_size != sizeof(PinnedNote))
    return absl::FailedPreconditionError(absl::StrCat(path, ": not a vnet note"));
  PinnedNote note;
  std::uint32_t zero = 0;
  if (bpf_map_lookup_elem(fd.get(), &zero, &note) != 0) return ErrnoStatus(errno, "read note", path);
  return note;
}

}  // namespace vnet
