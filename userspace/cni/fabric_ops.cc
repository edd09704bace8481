#include "cni/fabric_ops.h"


#include <algorithm>
#include <cstdio>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/errors.h"
#include "cni/cni_error.h"
#include "cni/vxlan_conf.h"

namespace vnet::cni {
namespace {

absl::Status PolicyDiffers(absl::string_view key, const std::string& fabric, absl::string_view running,
                           absl::string_view wanted) {
  return Error(kInvalidConfig, absl::StrCat("invalid config: ", key),
               absl::StrCat("key '", key, "': fabric ", fabric, " runs with ", key, " ", running, ", the config asks for ",
                            wanted, " (a running fabric's policies are never changed by the plugin)"));
}

absl::string_view OnOff(bool b) { return b ? "true" : "false"; }

}  // namespace

namespace {

// A blocking wait for the control lock with a deadline. The kernel hands a
// freed flock to a blocked waiter at once, where a poll would sleep through
// it; flock has no timeout, so a helper thread blocks and this one waits on
// it until the deadline. A lock the helper gets after we gave up is dropped
// by the helper there and then, so nobody is left waiting on it.
struct LockWait {
  std::mutex mu;
  std::condition_variable done;
  bool finished = false;
  bool abandoned = false;
  absl::StatusOr<UniqueFd> result = absl::UnavailableError("control lock: not had yet");
};

absl::StatusOr<UniqueFd> WaitForLock(std::chrono::milliseconds timeout) {
  auto wait = std::make_shared<LockWait>();
  std::thread([wait] {
    auto fd = AcquireControlLock();
    std::lock_guard<std::mutex> hold(wait->mu);
    if (wait->abandoned) return;  // fd closes here: the lock goes to the next waiter
    wait->result = std::move(fd);
    wait->finished = true;
    wait->done.notify_one();
  }).detach();
  std::unique_lock<std::mutex> hold(wait->mu);
  if (!wait->done.wait_for(hold, timeout, [&] { return wait->finished; })) {
    wait->abandoned = true;
    return Error(kTryAgainLater, "try again later",
                 absl::StrCat("the vnet control lock was busy for ", timeout.count(), " ms"));
  }
  return std::move(wait->result);
}

}  // namespace

absl::StatusOr<UniqueFd> LockWithin(std::chrono::milliseconds timeout) {
  // A free lock is taken without a thread; a busy one is waited for.
  auto fd = AcquireControlLockNonBlocking();
  if (!fd.ok() && absl::IsUnavailable(fd.status())) fd = WaitForLock(timeout);
  if (!fd.ok()) return WithCode(fd.status(), kGeneric, "control lock");  // code 11 kept from the wait
  // What a killed vnetctl (or plugin) left half-done is settled first, as vnetctl does.
  for (const auto& line : RecoverInterrupted()) std::fprintf(stderr, "vnet: recovered %s\n", line.c_str());
  return fd;
}

namespace {

// One fabric by name or uplink, described through its handle.
absl::StatusOr<FabricInfo> Described(const std::string& name) {
  auto fabric = Fabric::Open(name);
  if (!fabric.ok()) return fabric.status();
  return fabric->Describe();
}

// Its policies, uplink and state only: not the ports, which grow.
absl::StatusOr<FabricInfo> Settings(const std::string& name) {
  auto fabric = Fabric::Open(name);
  if (!fabric.ok()) return fabric.status();
  return fabric->Settings();
}

}  // namespace

absl::StatusOr<std::string> EnsureFabric(const NetConf& conf, const std::string& master, bool may_attach) {
  std::string name = conf.fabric.empty() ? master : conf.fabric;
  bool ipvlan = conf.kind == Kind::kIpvlan;
  auto found = Settings(name);
  if (!found.ok() && !conf.fabric.empty()) found = Settings(master);  // the master's under another name
  if (found.ok()) {
    const FabricInfo& f = *found;
    // A VXLAN config first: a fabric on another kind of uplink is a 'vxlan' mismatch.
    if (conf.vxlan) {
      if (auto s = CheckVxlanMatches(*conf.vxlan, f); !s.ok()) return s;
    }
    if (f.defunct) return Error(kGeneric, "fabric unusable", absl::StrCat("fabric ", f.name, " is defunct (its uplink is gone or down)"));
    if (f.uplink != master)
      return Error(kInvalidConfig, conf.fabric.empty() ? "invalid config: master" : "invalid config: fabric",
                   absl::StrCat(conf.fabric.empty() ? "key 'master': " : "key 'fabric': ", "fabric ", f.name,
                                " runs on ", f.uplink.empty() ? "a gone uplink" : f.uplink, ", not on ", master));
    if (!conf.fabric.empty() && f.name != conf.fabric)
      return PolicyDiffers("fabric", f.name, f.name, conf.fabric);
    if (conf.host && *conf.host != f.host) return PolicyDiffers("host", f.name, OnOff(f.host), OnOff(*conf.host));
    if (conf.unknown && *conf.unknown != f.unknown_drop)
      return PolicyDiffers("unknown", f.name, f.unknown_drop ? "drop" : "pass", *conf.unknown ? "drop" : "pass");
    if (ipvlan && f.ipvlan_mode != conf.ipvlan_mode)
      return PolicyDiffers("mode", f.name, IpvlanModeName(f.ipvlan_mode), IpvlanModeName(conf.ipvlan_mode));
    if (ipvlan && f.ipvlan_flag != conf.ipvlan_flag)
      return PolicyDiffers("flag", f.name, IpvlanFlagName(f.ipvlan_flag), IpvlanFlagName(conf.ipvlan_flag));
    return f.name;
  }
  if (!may_attach) return absl::NotFoundError(absl::StrCat("fabric ", name, ": not running"));
  AttachOptions attach;
  attach.uplink = master;
  attach.fabric = name;
  attach.type = ipvlan ? PortKind::kIpvlan : PortKind::kMacvlan;
  attach.ipvlan_mode = conf.ipvlan_mode;
  attach.ipvlan_flag = conf.ipvlan_flag;
  attach.host = conf.host.value_or(false);
  attach.unknown_drop = conf.unknown.value_or(false);
  attach.vxlan = conf.vxlan;  // the first ADD on a host makes the VXLAN device too
  FabricInfo made;
  auto fabric = Fabric::Attach(attach, &made);
  if (!fabric.ok()) return WithCode(fabric.status(), kGeneric, absl::StrCat("attaching fabric ", name, " to ", master));
  return made.name;
}

std::string AttachmentAlias(const std::string& network, const std::string& container_id, const std::string& ifname) {
  return absl::StrCat("cni:", network, ":", container_id, ":", ifname);
}

absl::StatusOr<std::vector<FoundPort>> FindNetworkPorts(const std::string& network, bool prune) {
  auto fabrics = DescribeFabrics(std::nullopt);
  if (!fabrics.ok()) return WithCode(fabrics.status(), kGeneric, "listing fabrics");
  if (prune) {
    // A container's namespace deleted before DEL took the veth pair with it:
    // its port is left in the fabric's tables with no device and no alias.
    for (const auto& f : *fabrics) {
      bool gone = std::any_of(f.ports.begin(), f.ports.end(), [](const PortInfo& p) { return p.name.empty(); });
      if (!gone) continue;
      auto fabric = Fabric::Open(f.name);
      auto pruned = fabric.ok() ? fabric->PruneGonePorts() : absl::StatusOr<int>(fabric.status());
      if (!pruned.ok()) std::fprintf(stderr, "vnet: pruning fabric %s: %s\n", f.name.c_str(), pruned.status().ToString().c_str());
    }
  }
  std::string prefix = absl::StrCat("cni:", network, ":");
  std::vector<FoundPort> out;
  for (const auto& f : *fabrics) {
    for (const auto& p : f.ports) {
      if (p.alias.rfind(prefix, 0) != 0) continue;
      std::string rest = p.alias.substr(prefix.size());
      auto colon = rest.rfind(':');
      if (colon == std::string::npos) continue;
      out.push_back(FoundPort{f.name, p, rest.substr(0, colon), rest.substr(colon + 1)});
    }
  }
  return out;
}

absl::StatusOr<PortInfo> AddCniPort(const NetConf& conf, const NewPort& want) {
  PortOptions o;
  o.fabric = want.fabric;
  o.netns = want.netns;
  o.ifname = want.ifname;
  o.alias = want.alias;
  o.mtu = conf.mtu;
  o.hairpin = conf.hairpin;
  o.isolated = conf.isolated;
  o.spoofchk = conf.spoofchk;
  if (conf.kind == Kind::kIpvlan) {
    o.type = PortKind::kIpvlan;
    for (const auto& a : want.addresses) {
      // ADDR/PLEN with host bits: the address on its subnet. A /32 or /128
      // has none, and is the address alone.
      PortIp ip{a, false};
      o.ips.push_back(ip);
    }
  } else {
    o.type = PortKind::kMacvlan;
    o.mode = conf.mode;
    o.mac = conf.mac;
    if (conf.spoofchk && conf.allow_ips) {
      for (const auto& a : want.addresses) o.allow_ips.push_back(IpPrefix{a.address, a.address.MaxPrefix()});
      std::sort(o.allow_ips.begin(), o.allow_ips.end());
      o.allow_ips.erase(std::unique(o.allow_ips.begin(), o.allow_ips.end()), o.allow_ips.end());
    }
  }
  auto fabric = Fabric::Open(want.fabric);
  if (!fabric.ok()) return WithCode(fabric.status(), kGeneric, "adding the port");
  auto info = fabric->AddPort(o);
  if (!info.ok()) return WithCode(info.status(), kGeneric, "adding the port");
  return info;
}

absl::Status RemovePort(const std::string& dev) {
  auto fabric = Fabric::OfDevice(dev);
  absl::Status removed = fabric.ok() ? fabric->DeletePort(dev) : Prefix(fabric.status(), "port del");
  return WithCode(removed, kGeneric, absl::StrCat("removing port ", dev));
}

absl::StatusOr<FabricInfo> DescribeFabric(const std::string& name) {
  return Described(name);
}

}  // namespace vnet::cni
