// ADD: fabric, IPAM, port, container configuration, result. Anything that
// fails after IPAM ADD undoes what was done (port removed, IPAM DEL), so a
// failed ADD leaves nothing behind.
#include <cstdio>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cni/cni_error.h"
#include "cni/commands.h"
#include "cni/container_ops.h"
#include "cni/fabric_ops.h"
#include "cni/ipam.h"
#include "cni/version.h"
#include "cni/vxlan_conf.h"

namespace vnet::cni {

using nlohmann::json;

std::chrono::milliseconds LockTimeout() {
  const char* v = std::getenv("VNET_CNI_LOCK_TIMEOUT_MS");
  long long ms = 0;
  if (v && absl::SimpleAtoi(v, &ms) && ms >= 0) return std::chrono::milliseconds(ms);
  return std::chrono::seconds(60);
}

namespace {

// Releases the IPAM lease unless dismissed: every failure path after IPAM ADD.
class IpamRelease {
 public:
  IpamRelease(const CniEnv& env, const NetConf& conf) : env_(env), conf_(conf) {}
  ~IpamRelease() {
    if (!armed_) return;
    auto s = ExecIpam(env_, conf_.ipam_type, "DEL", conf_.raw);
    if (!s.ok()) std::fprintf(stderr, "vnet: ADD failed; releasing its IPAM lease: %s\n", s.status().ToString().c_str());
  }
  void Arm() { armed_ = true; }
  void Dismiss() { armed_ = false; }

 private:
  const CniEnv& env_;
  const NetConf& conf_;
  bool armed_ = false;
};

}  // namespace

absl::StatusOr<Output> CmdAdd(const CniEnv& env, const NetConf& conf) {
  std::vector<std::string> need = {"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"};
  if (!conf.ipam_type.empty()) need.push_back("CNI_PATH");
  if (auto s = RequireEnv(env, need); !s.ok()) return s;
  if (auto s = ValidateDeviceName("CNI_IFNAME", env.ifname); !s.ok())
    return Error(kInvalidEnvironment, "invalid environment: CNI_IFNAME", s.message());
  std::string master = conf.master;
  if (conf.vxlan) {
    master = VxlanMaster(*conf.vxlan);
  } else if (master.empty()) {
    auto found = DefaultRouteInterface();
    if (!found.ok()) return found.status();
    master = *found;
  }
  // A VXLAN master may not exist yet: its MTU is then the underlay's overlay MTU.
  auto master_mtu = conf.vxlan ? VxlanMtuCeiling(*conf.vxlan) : MasterMtu(master);
  if (!master_mtu.ok()) return master_mtu.status();
  if (conf.mtu > *master_mtu)
    return Error(kInvalidConfig, "invalid config: mtu",
                 absl::StrCat("key 'mtu': ", conf.mtu, " exceeds the master ", master, "'s ", *master_mtu));
  if (auto s = CheckIfnameFree(env.netns, env.ifname); !s.ok()) return s;

  // Nearly every ADD finds its fabric running: that check changes nothing
  // and goes without the lock. Creating it (or any doubt: a fabric being
  // attached right now reads as defunct) is done, and checked again, under it.
  auto made = EnsureFabric(conf, master, /*may_attach=*/false);
  if (!made.ok()) {
    auto lock = LockWithin(LockTimeout());
    if (!lock.ok()) return lock.status();
    made = EnsureFabric(conf, master);
    if (!made.ok()) return made.status();
  }
  std::string fabric = *made;

  IpamRelease release(env, conf);
  json result = {{"ips", json::array()}, {"routes", json::array()}, {"dns", json::object()}};
  if (!conf.ipam_type.empty()) {
    auto raw = ExecIpam(env, conf.ipam_type, "ADD", conf.raw);
    release.Arm();  // a plugin that failed half-way is asked to release too
    if (!raw.ok()) return raw.status();
    std::string version = raw->is_object() ? raw->value("cniVersion", conf.cni_version) : conf.cni_version;
    auto parsed = ParseResult(*raw, version);
    if (!parsed.ok()) return parsed.status();
    for (const char* key : {"ips", "routes", "dns"})
      if (parsed->contains(key)) result[key] = (*parsed)[key];
  }
  if (conf.dns) result["dns"] = *conf.dns;
  std::vector<IpPrefix> addresses;
  for (auto& ip : result["ips"]) {
    auto prefix = ParseCidr(ip["address"].get<std::string>());
    if (!prefix.ok()) return prefix.status();
    addresses.push_back(*prefix);
    ip["interface"] = 0;  // the one interface of the result
  }
  if (conf.kind == Kind::kIpvlan && addresses.empty())
    return Error(kInvalidConfig, "invalid config: ipam", "key 'ipam': the IPAM plugin gave no address for the ipvlan port");

  PortInfo port;
  {
    auto lock = LockWithin(LockTimeout());
    if (!lock.ok()) return lock.status();
    auto added = AddCniPort(conf, NewPort{fabric, env.netns, env.ifname,
                                          AttachmentAlias(conf.name, env.container_id, env.ifname), addresses});
    if (!added.ok()) return added.status();
    port = *added;
  }
  auto configured = ConfigureContainer(env.netns, env.ifname, result, conf.kind == Kind::kMacvlan);
  if (!configured.ok()) {
    auto lock = LockWithin(LockTimeout());
    if (lock.ok()) (void)RemovePort(port.name);
    return configured;
  }
  release.Dismiss();
  json iface = {{"name", env.ifname}, {"mac", port.mac.ToString()}, {"sandbox", env.netns}};
  iface["mtu"] = conf.mtu ? conf.mtu : *master_mtu;
  result["interfaces"] = json::array({iface});
  return Output(EncodeResult(result, conf.cni_version));
}

}  // namespace vnet::cni
