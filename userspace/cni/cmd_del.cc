// DEL: never fails for state that is already gone (no netns, no interface,
// no port, no fabric, no master); always releases the IPAM lease.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "cni/cni_error.h"
#include "cni/commands.h"
#include "cni/container_ops.h"
#include "cni/fabric_ops.h"
#include "cni/ipam.h"

namespace vnet::cni {

namespace {

// The slow way, for when the host end is not there by its alias: every
// fabric described, ports whose device went with the container's namespace
// (containerd deletes it before DEL) forgotten, and the alias matched.
void RemoveByDescription(const NetConf& conf, const std::string& container_id, const std::string& ifname,
                         const std::string& alias) {
  auto ports = FindNetworkPorts(conf.name, /*prune=*/true);
  if (!ports.ok()) {
    // A fabric that cannot be read any more: the host end is found by its alias alone.
    std::fprintf(stderr, "vnet: DEL %s: %s\n", alias.c_str(), ports.status().ToString().c_str());
    return;
  }
  for (const auto& p : *ports) {
    if (p.container_id != container_id || p.ifname != ifname) continue;
    auto removed = RemovePort(p.port.name);
    if (!removed.ok()) std::fprintf(stderr, "vnet: DEL %s: %s\n", alias.c_str(), removed.ToString().c_str());
  }
}

}  // namespace

absl::Status RemoveAttachment(const NetConf& conf, const std::string& container_id, const std::string& ifname) {
  std::string alias = AttachmentAlias(conf.name, container_id, ifname);
  // The common case: the host end is here with its alias; one link dump
  // finds it and the port goes by its name, no fabric described.
  auto devices = FindDevicesByAlias(alias);
  bool all_removed = devices.ok() && !devices->empty();
  if (devices.ok()) {
    for (const auto& dev : *devices) {
      auto removed = RemovePort(dev);
      if (removed.ok()) continue;
      std::fprintf(stderr, "vnet: DEL %s: %s\n", alias.c_str(), removed.ToString().c_str());
      all_removed = false;
    }
  }
  if (all_removed) return absl::OkStatus();
  if (!devices.ok() || devices->empty()) RemoveByDescription(conf, container_id, ifname, alias);
  // Whatever is left with this alias (a port whose fabric went, one whose
  // removal failed above) is a veth vnet made: deleting it takes the peer.
  auto left = DeleteLinksByAlias(alias);
  return left.ok() ? absl::OkStatus() : left.status();
}

absl::StatusOr<Output> CmdDel(const CniEnv& env, const NetConf& conf) {
  std::vector<std::string> need = {"CNI_CONTAINERID", "CNI_IFNAME"};
  if (!conf.ipam_type.empty()) need.push_back("CNI_PATH");
  if (auto s = RequireEnv(env, need); !s.ok()) return s;
  absl::Status removed;
  {
    auto lock = LockWithin(LockTimeout());
    if (!lock.ok()) return lock.status();  // code 11: the runtime retries the whole DEL
    removed = RemoveAttachment(conf, env.container_id, env.ifname);
  }
  // The lease goes even when the port could not: a retried DEL finds the rest.
  if (!conf.ipam_type.empty()) {
    auto released = ExecIpam(env, conf.ipam_type, "DEL", conf.raw);
    if (!released.ok()) return released.status();
  }
  if (!removed.ok()) return removed;
  return Output();
}

}  // namespace vnet::cni
