// STATUS (1.1) and VERSION.
#include <linux/bpf.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "cni/cni_error.h"
#include "cni/commands.h"
#include "cni/ipam.h"
#include "cni/version.h"

namespace vnet::cni {
namespace {

// vnet needs bpffs at /sys/fs/bpf (its pins) and the bpf() syscall.
absl::Status BpfUsable() {
  struct statfs fs {};
  if (::statfs("/sys/fs/bpf", &fs) != 0 || static_cast<unsigned long>(fs.f_type) != BPF_FS_MAGIC)
    return absl::UnavailableError("/sys/fs/bpf is not a mounted bpffs");
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  long fd = ::syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
  if (fd < 0) return absl::UnavailableError(absl::StrCat("bpf(BPF_MAP_CREATE): ", std::strerror(errno)));
  ::close(static_cast<int>(fd));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Output> CmdStatus(const CniEnv& env, const NetConf& conf) {
  if (CompareVersions(conf.cni_version, "1.1.0") < 0)
    return Error(kIncompatibleVersion, "incompatible CNI versions",
                 absl::StrCat("config version ", conf.cni_version, " does not allow STATUS (1.1.0 and later)"));
  if (auto s = BpfUsable(); !s.ok()) return Error(kNotAvailable, "plugin not available", s.message());
  if (!conf.ipam_type.empty() && !env.path.empty() && IpamSpeaks(env, conf.ipam_type, conf.cni_version)) {
    auto ipam = ExecIpam(env, conf.ipam_type, "STATUS", conf.raw);
    if (!ipam.ok()) return ipam.status();
  }
  return Output();
}

nlohmann::json CmdVersion(const std::string& raw_stdin) {
  std::string asked = PeekVersion(raw_stdin);
  nlohmann::json j;
  j["cniVersion"] = IsSupported(asked) ? asked : kLatestVersion;
  j["supportedVersions"] = nlohmann::json::array();
  for (const char* v : kSupportedVersions) j["supportedVersions"].push_back(v);
  return j;
}

}  // namespace vnet::cni
