// GC (1.1): ports of this network whose attachment the runtime no longer
// lists are removed and their leases released; then IPAM's own GC.
#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cni/cni_error.h"
#include "cni/commands.h"
#include "cni/fabric_ops.h"
#include "cni/ipam.h"
#include "cni/version.h"

namespace vnet::cni {

absl::Status RemoveAttachment(const NetConf& conf, const std::string& container_id, const std::string& ifname);

absl::StatusOr<Output> CmdGc(const CniEnv& env, const NetConf& conf) {
  if (CompareVersions(conf.cni_version, "1.1.0") < 0)
    return Error(kIncompatibleVersion, "incompatible CNI versions",
                 absl::StrCat("config version ", conf.cni_version, " does not allow GC (1.1.0 and later)"));
  if (!conf.ipam_type.empty())
    if (auto s = RequireEnv(env, {"CNI_PATH"}); !s.ok()) return s;
  if (!conf.valid_attachments)
    return Error(kInvalidConfig, "invalid config: cni.dev/valid-attachments",
                 "key 'cni.dev/valid-attachments': GC needs the list of attachments to keep");
  std::vector<std::pair<std::string, std::string>> stale;
  {
    auto lock = LockWithin(LockTimeout());
    if (!lock.ok()) return lock.status();
    auto ports = FindNetworkPorts(conf.name, /*prune=*/true);
    if (!ports.ok()) return ports.status();
    for (const auto& p : *ports) {
      if (conf.valid_attachments->count({p.container_id, p.ifname})) continue;
      if (auto s = RemoveAttachment(conf, p.container_id, p.ifname); !s.ok()) return s;
      stale.emplace_back(p.container_id, p.ifname);
    }
  }
  if (conf.ipam_type.empty()) return Output();
  // Leases of the removed attachments go now, whether or not the IPAM plugin
  // knows GC (host-local before 1.1 does not).
  for (const auto& [id, ifname] : stale) {
    auto released = ExecIpam(env, conf.ipam_type, "DEL", conf.raw,
                             {{"CNI_CONTAINERID", id}, {"CNI_IFNAME", ifname}, {"CNI_NETNS", ""}});
    if (!released.ok()) return released.status();
  }
  // A plugin older than GC (host-local before 1.1) is not asked: the leases
  // of the attachments removed here were released above.
  if (!IpamSpeaks(env, conf.ipam_type, conf.cni_version)) {
    std::fprintf(stderr, "vnet: GC: ipam %s does not speak %s; not forwarded\n", conf.ipam_type.c_str(),
                 conf.cni_version.c_str());
    return Output();
  }
  auto gc = ExecIpam(env, conf.ipam_type, "GC", conf.raw);
  if (!gc.ok()) return gc.status();
  return Output();
}

}  // namespace vnet::cni
