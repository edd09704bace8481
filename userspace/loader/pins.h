// Where a fabric's kernel objects are pinned, and the bpffs chores around
// them: mounting bpffs when missing, creating and removing a fabric's directory.
#ifndef VNET_LOADER_PINS_H
#define VNET_LOADER_PINS_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace vnet {

std::string FabricPinDir(absl::string_view fabric);
std::string FabricPinPath(absl::string_view fabric, absl::string_view object);

// Mounts bpffs on /sys/fs/bpf when nothing is mounted there yet.
absl::Status EnsureBpffs();
absl::Status MakeFabricDir(absl::string_view fabric);
// Unpins everything in the fabric's directory and removes it.
absl::Status RemoveFabricDir(absl::string_view fabric);
bool FabricDirExists(absl::string_view fabric);
// Names of every fabric with a directory under VNET_PIN_ROOT.
std::vector<std::string> ListFabricDirs();
// Entries (pin names) in a fabric's directory.
std::vector<std::string> ListPins(absl::string_view fabric);

absl::Status PinFd(int fd, const std::string& path);
// Pins fd at path, replacing whatever is pinned there in one rename: a
// concurrent reader sees the old object or the new one, never nothing.
absl::Status RepinFd(int fd, const std::string& path);
absl::StatusOr<UniqueFd> OpenPinned(const std::string& path);
absl::Status Unpin(const std::string& path);

// bpffs holds nothing but BPF objects, so a note the control plane leaves in a
// fabric's directory (a half-built fabric, a tap being created) is a pinned
// one-entry array of two numbers.
struct PinnedNote {
  std::uint64_t a = 0, b = 0;
};
absl::Status PinNote(const std::string& path, const PinnedNote& note);
absl::StatusOr<PinnedNote> ReadNote(const std::string& path);

}  // namespace vnet

#endif
