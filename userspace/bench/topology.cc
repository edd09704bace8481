#include "bench/topology.h"

#include <dirent.h>
#include <sched.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "bench/exec.h"
#include "bench/teardown.h"
#include "bench/vnet_driver.h"
#include "base/errors.h"

namespace vnet::bench {

const char* SystemName(System s) {
  switch (s) {
    case System::kVnet: return "vnet";
    case System::kMacvlan: return "macvlan";
    case System::kBridge: return "bridge";
    case System::kFloor: return "floor";
    case System::kVnetTc: return "vnet-tc";
    case System::kFloorTc: return "floor-tc";
    case System::kVnetIpvlan: return "vnet-ipvlan";
  }
  return "?";
}

namespace {

std::set<pid_t> NapiThreads() {
  std::set<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (!end || *end || pid <= 0) continue;
    std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
    std::string name;
    std::getline(comm, name);
    if (absl::StartsWith(name, "napi/")) out.insert(static_cast<pid_t>(pid));
  }
  ::closedir(d);
  return out;
}

}  // namespace

absl::StatusOr<std::string> Topology::In(const std::string& netns, std::vector<std::string> argv, double timeout_s) {
  std::vector<std::string> full = {"ip", "netns", "exec", netns};
  full.insert(full.end(), argv.begin(), argv.end());
  return Run(full, timeout_s);
}

absl::Status Topology::AddNetns(const std::string& name) {
  VNET_RETURN_IF_ERROR(Run({"ip", "netns", "add", name}).status());
  TrackNetns(name);
  namespaces_.push_back(name);
  VNET_RETURN_IF_ERROR(Run({"ip", "-n", name, "link", "set", "lo", "up"}).status());
  // No IPv6 autoconf, DAD or MLD chatter in the measurements.
  return In(name, {"sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"})
      .status();
}

absl::StatusOr<Device> DescribeDevice(const std::string& netns, const std::string& dev) {
  VNET_ASSIGN_OR_RETURN(std::string out, Run({"ip", "-n", netns, "-j", "link", "show", "dev", dev}));
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (!j.is_array() || j.empty()) return absl::InternalError(absl::StrCat("ip link show ", dev, ": no JSON"));
  Device d;
  d.netns = netns;
  d.name = dev;
  d.ifindex = j[0].value("ifindex", 0u);
  VNET_ASSIGN_OR_RETURN(d.mac, MacAddress::Parse(j[0].value("address", "")));
  return d;
}

absl::StatusOr<Device> Topology::Describe(const std::string& netns, const std::string& dev) {
  return DescribeDevice(netns, dev);
}

absl::Status ThreadNapiOn(const std::vector<Device>& devs, int cpu) {
  std::set<pid_t> before = NapiThreads();
  // Only devices with NAPI (a veth with GRO or XDP) take it; the others
  // (EIO) process nothing on the measured paths' receive side anyway.
  for (const auto& d : devs)
    Exec({"ip", "netns", "exec", d.netns, "sh", "-c", absl::StrCat("echo 1 > /sys/class/net/", d.name, "/threaded")});
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  for (pid_t pid : NapiThreads()) {
    if (before.count(pid)) continue;
    if (sched_setaffinity(pid, sizeof(set), &set) != 0)
      return ErrnoStatus(errno, "pin NAPI thread", absl::StrCat(pid));
    setpriority(PRIO_PROCESS, pid, -20);
  }
  return absl::OkStatus();
}

absl::Status Topology::ThreadNapi(const std::vector<Device>& devs, int cpu) { return ThreadNapiOn(devs, cpu); }

absl::StatusOr<std::unique_ptr<Topology>> Topology::Build(System system, const TopoOptions& o,
                                                          const std::string& tag) {
  auto t = std::unique_ptr<Topology>(new Topology(system));
  t->host_ = tag + "h";
  t->ext_ = tag + "e";
  VNET_RETURN_IF_ERROR(t->AddNetns(t->host_));
  VNET_RETURN_IF_ERROR(t->AddNetns(t->ext_));
  for (int i = 1; i <= o.ports; ++i) {
    t->cns_.push_back(absl::StrCat(tag, "c", i));
    VNET_RETURN_IF_ERROR(t->AddNetns(t->cns_.back()));
  }
  const std::string& H = t->host_;
  const std::string& E = t->ext_;
  auto ip = [](const std::string& ns, std::vector<std::string> args) {
    std::vector<std::string> argv = {"ip", "-n", ns};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv).status();
  };
  VNET_RETURN_IF_ERROR(ip(E, {"link", "add", "wire", "type", "veth", "peer", "name", "up0", "netns", H}));
  VNET_RETURN_IF_ERROR(ip(E, {"addr", "add", "198.18.0.100/24", "dev", "wire"}));
  VNET_RETURN_IF_ERROR(ip(E, {"link", "set", "wire", "up"}));
  // The external host stands for a machine on a real wire: complete checksums.
  VNET_RETURN_IF_ERROR(t->In(E, {"ethtool", "-K", "wire", "tx", "off"}).status());
  VNET_RETURN_IF_ERROR(ip(H, {"link", "set", "up0", "up"}));
  // GRO gives up0 NAPI, which frames transmitted into it by XDP need (and the
  // vnet uplink has it anyway through its XDP program): the same for all.
  VNET_RETURN_IF_ERROR(t->In(H, {"ethtool", "-K", "up0", "gro", "on"}).status());

  switch (system) {
    case System::kVnet:
    case System::kVnetTc:
    case System::kVnetIpvlan: {
      const bool ipvlan = system == System::kVnetIpvlan;
      t->fabric_ = tag + "f";
      VnetDriver vnet(H);
      VnetAttachRequest attach;
      attach.uplink = "up0";
      attach.fabric = t->fabric_;
      // l2: the ports do their own ARP, the wire's frames are demultiplexed
      // by destination IP with no answering on vnet's side.
      attach.ipvlan_l2 = ipvlan;
      attach.unknown_drop = o.unknown_drop;
      // The veth uplink stands for a NIC (its peer sends complete checksums,
      // see the external host above): take the path a NIC uplink gets, XDP
      // redirect, which the default turns off for veth uplinks.
      attach.xdp_redirect = system != System::kVnetTc;
      TrackFabric(t->fabric_, H);
      VNET_RETURN_IF_ERROR(vnet.Attach(attach));
      for (std::size_t i = 0; i < t->cns_.size(); ++i) {
        const auto& c = t->cns_[i];
        // vnet gives an ipvlan port an IPv6 link-local address (distinct per
        // port although the MAC is shared), which a namespace with IPv6 off
        // refuses: IPv6 back on in the ports' namespaces only. eth0 gets
        // addr_gen_mode none and a no-DAD address from vnet: no autoconf.
        if (ipvlan)
          VNET_RETURN_IF_ERROR(t->In(c, {"sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0",
                                         "net.ipv6.conf.default.disable_ipv6=0"})
                                   .status());
        VnetPortRequest port;
        port.fabric = t->fabric_;
        port.netns = c;
        // An ipvlan port: vnet gives eth0 the uplink's MAC and configures the
        // address itself (the loop below skips it); else a bridge-mode port.
        if (ipvlan) port.ip = absl::StrCat("198.18.0.", 11 + i, "/24");
        VNET_ASSIGN_OR_RETURN(std::string dev, vnet.AddPort(port));
        VNET_ASSIGN_OR_RETURN(Device d, t->Describe(H, dev));
        t->host_ends_.push_back(d);
      }
      break;
    }
    case System::kMacvlan:
      for (std::size_t i = 0; i < t->cns_.size(); ++i) {
        std::string mv = absl::StrCat("mv", i + 1);
        VNET_RETURN_IF_ERROR(ip(H, {"link", "add", "link", "up0", "name", mv, "type", "macvlan", "mode", "bridge"}));
        VNET_RETURN_IF_ERROR(ip(H, {"link", "set", mv, "netns", t->cns_[i]}));
        VNET_RETURN_IF_ERROR(ip(t->cns_[i], {"link", "set", mv, "name", "eth0"}));
        VNET_RETURN_IF_ERROR(ip(t->cns_[i], {"link", "set", "eth0", "up"}));
      }
      break;
    case System::kBridge:
    case System::kFloor:
    case System::kFloorTc:
      if (system == System::kBridge) {
        // Bridge netfilter (if br_netfilter is loaded) would tax the bridge
        // with iptables hooks: measure the bridge at its best.
        t->In(H, {"sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0", "net.bridge.bridge-nf-call-ip6tables=0",
                  "net.bridge.bridge-nf-call-arptables=0"})
            .IgnoreError();
        VNET_RETURN_IF_ERROR(ip(H, {"link", "add", "br0", "type", "bridge"}));
        VNET_RETURN_IF_ERROR(ip(H, {"link", "set", "br0", "up"}));
        VNET_RETURN_IF_ERROR(ip(H, {"link", "set", "up0", "master", "br0"}));
      }
      for (std::size_t i = 0; i < t->cns_.size(); ++i) {
        std::string vh = absl::StrCat("vh", i + 1);
        VNET_RETURN_IF_ERROR(ip(H, {"link", "add", vh, "type", "veth", "peer", "name", "eth0", "netns", t->cns_[i]}));
        if (system == System::kBridge) VNET_RETURN_IF_ERROR(ip(H, {"link", "set", vh, "master", "br0"}));
        VNET_RETURN_IF_ERROR(ip(H, {"link", "set", vh, "up"}));
        VNET_RETURN_IF_ERROR(ip(t->cns_[i], {"link", "set", "eth0", "up"}));
        // NAPI on the container side, as vnet's port add gives its ports.
        VNET_RETURN_IF_ERROR(t->In(t->cns_[i], {"ethtool", "-K", "eth0", "gro", "on"}).status());
        VNET_ASSIGN_OR_RETURN(Device d, t->Describe(H, vh));
        t->host_ends_.push_back(d);
      }
      break;
  }
  for (std::size_t i = 0; i < t->cns_.size(); ++i) {
    if (system != System::kVnetIpvlan)
      VNET_RETURN_IF_ERROR(ip(t->cns_[i], {"addr", "add", absl::StrCat("198.18.0.", 11 + i, "/24"), "dev", "eth0"}));
    VNET_ASSIGN_OR_RETURN(Device d, t->Describe(t->cns_[i], "eth0"));
    t->containers_.push_back(d);
  }
  VNET_ASSIGN_OR_RETURN(t->wire_, t->Describe(E, "wire"));
  VNET_ASSIGN_OR_RETURN(t->uplink_, t->Describe(H, "up0"));
  if (system == System::kBridge) {
    for (std::size_t i = 0; i < t->cns_.size(); ++i)
      VNET_RETURN_IF_ERROR(Run({"bridge", "-n", H, "fdb", "replace", t->containers_[i].mac.ToString(), "dev",
                                t->host_ends_[i].name, "master", "static"})
                               .status());
    VNET_RETURN_IF_ERROR(
        Run({"bridge", "-n", H, "fdb", "replace", t->wire_.mac.ToString(), "dev", "up0", "master", "static"}).status());
  }
  if (o.injector) {
    // The generator's veth pair inside c1: frames sent on gi arrive on go,
    // whose tc ingress redirects them out of c1's eth0 as if c1 sent them.
    const std::string& C1 = t->cns_[0];
    VNET_RETURN_IF_ERROR(ip(C1, {"link", "add", "gi", "type", "veth", "peer", "name", "go"}));
    VNET_RETURN_IF_ERROR(ip(C1, {"link", "set", "gi", "up"}));
    VNET_RETURN_IF_ERROR(ip(C1, {"link", "set", "go", "up"}));
    VNET_RETURN_IF_ERROR(t->In(C1, {"ethtool", "-K", "go", "gro", "on"}).status());
    VNET_ASSIGN_OR_RETURN(t->injector_, t->Describe(C1, "gi"));
    VNET_ASSIGN_OR_RETURN(auto r, Redirect::Attach(C1, "go", FloorKind::kTcEgress, t->containers_[0].ifindex));
    t->redirects_.push_back(std::move(r));
  }
  if (o.threaded_napi) {
    // The uplink's NAPI plays a NIC's receive interrupt on its own core;
    // every later step (the ports' veth NAPI included) runs from it there, as
    // softirq work, the way it would behind a real NIC.
    VNET_RETURN_IF_ERROR(t->ThreadNapi({t->uplink_}, o.napi_cpu));
  }
  return t;
}

Topology::~Topology() {
  sinks_.clear();
  redirects_.clear();
  if (!fabric_.empty()) RemoveTrackedFabric(fabric_, host_);
  for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) RemoveTrackedNetns(*it);
}

absl::StatusOr<Sink*> Topology::AddSink(const Device& dev) {
  VNET_ASSIGN_OR_RETURN(auto sink, Sink::Attach(dev.netns, dev.name));
  sinks_.push_back(std::move(sink));
  return sinks_.back().get();
}

absl::Status Topology::AddFloor(FloorKind kind, const Device& on, std::uint32_t target) {
  VNET_ASSIGN_OR_RETURN(auto r, Redirect::Attach(on.netns, on.name, kind, target));
  redirects_.push_back(std::move(r));
  return absl::OkStatus();
}

std::uint64_t Topology::VnetUnknownDrops() const {
  if (fabric_.empty()) return 0;
  auto drops = VnetDriver(host_).UnknownDrops(fabric_);
  return drops.ok() ? *drops : 0;
}

bool KernelIpvlanAvailable(const std::string& tag, std::string* why) {
  std::string ns = tag + "k";
  if (Exec({"ip", "netns", "add", ns}, 30).status != 0) {
    if (why) *why = "could not create a namespace to try";
    return false;
  }
  TrackNetns(ns);
  bool ok = false;
  // A veth as the master: this kernel may lack the dummy driver too.
  if (Exec({"ip", "-n", ns, "link", "add", "vk0", "type", "veth", "peer", "name", "vk1"}, 30).status == 0) {
    ExecResult r = Exec({"ip", "-n", ns, "link", "add", "link", "vk0", "name", "iv0", "type", "ipvlan", "mode", "l2"}, 30);
    ok = r.status == 0;
    if (!ok && why)
      *why = absl::StrCat("`ip link add ... type ipvlan`: ", absl::StripTrailingAsciiWhitespace(r.output));
  } else if (why) {
    *why = "could not create a veth to try";
  }
  RemoveTrackedNetns(ns);
  return ok;
}

}  // namespace vnet::bench
