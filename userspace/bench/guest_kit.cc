// Finding or making the guest kit for vnet-bench --guests (guest_vm.h).
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/errors.h"
#include "bench/exec.h"
#include "bench/guest_vm.h"

namespace vnet::bench {
namespace {

// A program on $PATH, as an absolute path (the guest gets it at that path).
std::string OnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (absl::string_view d : absl::StrSplit(path ? path : "/usr/bin:/bin", ':', absl::SkipEmpty())) {
    std::string c = absl::StrCat(d, "/", name);
    if (::access(c.c_str(), X_OK) == 0) return c;
  }
  return "";
}

// The meson build tree holding this binary (BUILD/userspace/bench/vnet-bench)
// and its source tree, from BUILD/meson-info/meson-info.json.
absl::Status BuildAndSource(std::string* build, std::string* source) {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return ErrnoStatus(errno, "readlink", "/proc/self/exe");
  self[n] = 0;
  std::string dir(self);
  for (int up = 0; up < 3; ++up) dir = dir.substr(0, dir.rfind('/'));
  std::ifstream in(dir + "/meson-info/meson-info.json");
  auto info = nlohmann::json::parse(in, nullptr, false);
  if (info.is_discarded() || !info.contains("directories"))
    return absl::NotFoundError(absl::StrCat("no meson build tree around ", self,
                                            ": give --guest-kit DIR (made by `python3 -m vnetkit.guest prepare "
                                            "--out DIR --with $(command -v iperf3)` in tests/netns)"));
  *build = dir;
  *source = info["directories"].value("source", "");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GuestKit> PrepareGuestKit(const std::string& dir) {
  if (!dir.empty()) {
    GuestKit kit{dir + "/vmlinuz", dir + "/initrd.gz"};
    for (const std::string& f : {kit.kernel, kit.initrd})
      if (::access(f.c_str(), R_OK) != 0) return ErrnoStatus(errno, "guest kit: read", f);
    return kit;
  }
  std::string iperf3 = OnPath("iperf3");
  if (iperf3.empty()) return absl::FailedPreconditionError("guest kit: no iperf3 on PATH to copy into the guest");
  std::string build, source;
  VNET_RETURN_IF_ERROR(BuildAndSource(&build, &source));
  VNET_ASSIGN_OR_RETURN(
      std::string out,
      Run({"env", absl::StrCat("PYTHONPATH=", source, "/tests/netns"), absl::StrCat("VNET_GUEST_DIR=", build),
           "python3", "-m", "vnetkit.guest", "prepare", "--out", build + "/guest-kit-bench", "--with", iperf3},
          900));
  // The JSON is the last line (the kit's build may have said more before it).
  std::string last = out.substr(0, out.find_last_not_of("\n") + 1);
  last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
  auto j = nlohmann::json::parse(last, nullptr, false);
  if (j.is_discarded() || !j.contains("kernel") || !j.contains("initrd"))
    return absl::InternalError(absl::StrCat("guest kit: python3 -m vnetkit.guest prepare printed '", last, "'"));
  return GuestKit{j["kernel"].get<std::string>(), j["initrd"].get<std::string>()};
}

}  // namespace vnet::bench
