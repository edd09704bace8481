#include "bench/harness.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/strings/match.h"
#include "loader/errors.h"
#include "loader/links.h"
#include "loader/pins.h"
#include "maps/fabric_maps.h"
#include "netlink/ip_address.h"
#include "netlink/netns.h"
#include "pktgen.skel.h"

namespace vnet::bench {

std::atomic<bool> g_stop{false};

// ---- commands -------------------------------------------------------------

ExecResult Exec(const std::vector<std::string>& argv, double timeout_s) {
  ExecResult r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return r;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return r;
  }
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "%s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fds[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  char buf[4096];
  bool killed = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !killed) {
      ::kill(pid, SIGKILL);  // our own child, by pid
      killed = true;
    }
    pollfd p{fds[0], POLLIN, 0};
    int n = ::poll(&p, 1, killed ? 1000 : static_cast<int>(std::min<long>(left.count(), 1000)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (killed) break;
      continue;
    }
    ssize_t got = ::read(fds[0], buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    r.output.append(buf, got);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.status = (!killed && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  if (killed) r.output += "\n(killed after timeout)";
  return r;
}

absl::StatusOr<std::string> Run(const std::vector<std::string>& argv, double timeout_s) {
  ExecResult r = Exec(argv, timeout_s);
  if (r.status != 0)
    return absl::InternalError(absl::StrCat(absl::StrJoin(argv, " "), " -> ", r.status, ": ",
                                            absl::StripTrailingAsciiWhitespace(r.output)));
  return r.output;
}

// ---- cleanup registry -------------------------------------------------------

namespace {

std::mutex g_mu;
std::set<std::string> g_namespaces;
std::set<std::pair<std::string, std::string>> g_fabrics;  // (fabric, host netns)
std::string g_vnetctl;

void RemoveFabric(const std::string& fabric, const std::string& host) {
  if (FabricDirExists(fabric) && ::access(("/run/netns/" + host).c_str(), F_OK) == 0)
    Exec({"nsenter", "--net=/run/netns/" + host, g_vnetctl, "detach", fabric}, 30);
  if (FabricDirExists(fabric)) (void)RemoveFabricDir(fabric);  // detach failed: unpin by hand
}

void RemoveNetns(const std::string& ns) {
  if (::access(("/run/netns/" + ns).c_str(), F_OK) == 0) Exec({"ip", "netns", "del", ns}, 60);
}

}  // namespace

void CleanupAll() {
  std::set<std::string> namespaces;
  std::set<std::pair<std::string, std::string>> fabrics;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    namespaces.swap(g_namespaces);
    fabrics.swap(g_fabrics);
  }
  for (const auto& [fabric, host] : fabrics) RemoveFabric(fabric, host);
  for (const auto& ns : namespaces) RemoveNetns(ns);
}

// ---- BPF helpers ------------------------------------------------------------

void SkelDeleter::operator()(pktgen_bpf* s) const { pktgen_bpf__destroy(s); }

namespace {

absl::StatusOr<PktgenSkel> LoadOnly(bpf_program* (*pick)(pktgen_bpf*)) {
  PktgenSkel skel(pktgen_bpf__open());
  if (!skel) return ErrnoStatus(errno, "open", "benchmark BPF object");
  bpf_program* keep = pick(skel.get());
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) bpf_program__set_autoload(prog, prog == keep);
  if (int err = pktgen_bpf__load(skel.get())) return ErrnoStatus(err, "load", bpf_program__name(keep));
  return skel;
}

absl::StatusOr<std::uint32_t> IfindexIn(const std::string& dev) {
  unsigned idx = if_nametoindex(dev.c_str());
  if (!idx) return absl::NotFoundError(absl::StrCat(dev, ": no such device"));
  return idx;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Sink>> Sink::Attach(const std::string& netns, const std::string& dev) {
  auto sink = std::unique_ptr<Sink>(new Sink());
  VNET_ASSIGN_OR_RETURN(sink->skel_, LoadOnly([](pktgen_bpf* s) { return s->progs.sink_tc; }));
  VNET_ASSIGN_OR_RETURN(UniqueFd ns, OpenNamedNetns(netns));
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(ns.get(), netns));
  VNET_ASSIGN_OR_RETURN(std::uint32_t idx, IfindexIn(dev));
  VNET_ASSIGN_OR_RETURN(sink->link_, AttachTcx(bpf_program__fd(sink->skel_->progs.sink_tc), idx, dev,
                                               TcDirection::kIngress));
  return sink;
}

std::uint64_t Sink::Packets() const {
  int n = libbpf_num_possible_cpus();
  struct Count {
    std::uint64_t packets, bytes;
  };
  std::vector<Count> per_cpu(n > 0 ? n : 1);
  std::uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.sink_counts), &zero, per_cpu.data()) != 0) return 0;
  std::uint64_t sum = 0;
  for (const auto& c : per_cpu) sum += c.packets;
  return sum;
}

absl::StatusOr<std::unique_ptr<Redirect>> Redirect::Attach(const std::string& netns, const std::string& dev,
                                                           FloorKind kind, std::uint32_t target_ifindex) {
  auto r = std::unique_ptr<Redirect>(new Redirect());
  bool xdp = kind == FloorKind::kXdp;
  if (xdp) {
    VNET_ASSIGN_OR_RETURN(r->skel_, LoadOnly([](pktgen_bpf* s) { return s->progs.floor_xdp; }));
  } else {
    VNET_ASSIGN_OR_RETURN(r->skel_, LoadOnly([](pktgen_bpf* s) { return s->progs.floor_tc; }));
  }
  r->skel_->bss->target_ifindex = target_ifindex;
  r->skel_->bss->target_peer = kind == FloorKind::kTcPeer;
  VNET_ASSIGN_OR_RETURN(UniqueFd ns, OpenNamedNetns(netns));
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(ns.get(), netns));
  VNET_ASSIGN_OR_RETURN(std::uint32_t idx, IfindexIn(dev));
  if (xdp) {
    VNET_ASSIGN_OR_RETURN(XdpAttachment a, AttachXdp(bpf_program__fd(r->skel_->progs.floor_xdp), idx, dev,
                                                     XdpMode::kNative));
    r->link_ = std::move(a.link);
  } else {
    VNET_ASSIGN_OR_RETURN(r->link_, AttachTcx(bpf_program__fd(r->skel_->progs.floor_tc), idx, dev,
                                              TcDirection::kIngress));
  }
  return r;
}

// ---- topology ---------------------------------------------------------------

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

MacAddress Offset(const MacAddress& base, std::uint32_t i) {
  MacAddress m = base;
  std::uint32_t low = (base.bytes[3] << 16 | base.bytes[4] << 8 | base.bytes[5]) + i;
  m.bytes[3] = (low >> 16) & 0xff;
  m.bytes[4] = (low >> 8) & 0xff;
  m.bytes[5] = low & 0xff;
  return m;
}

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
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_namespaces.insert(name);
  }
  namespaces_.push_back(name);
  VNET_RETURN_IF_ERROR(Run({"ip", "-n", name, "link", "set", "lo", "up"}).status());
  // No IPv6 autoconf, DAD or MLD chatter in the measurements.
  return In(name, {"sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"})
      .status();
}

absl::StatusOr<Device> Topology::Describe(const std::string& netns, const std::string& dev) {
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

absl::Status Topology::ThreadNapi(const std::vector<Device>& devs, int cpu) {
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

absl::StatusOr<std::unique_ptr<Topology>> Topology::Build(System system, const TopoOptions& o,
                                                          const std::string& vnetctl, const std::string& tag) {
  auto t = std::unique_ptr<Topology>(new Topology(system));
  t->vnetctl_ = vnetctl;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_vnetctl = vnetctl;
  }
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
      std::vector<std::string> argv = {"nsenter", "--net=/run/netns/" + H, vnetctl, "attach", "up0",
                                       "--fabric", t->fabric_};
      // l2: the ports do their own ARP, the wire's frames are demultiplexed
      // by destination IP with no answering on vnet's side.
      if (ipvlan) argv.insert(argv.end(), {"--type", "ipvlan", "--ipvlan-mode", "l2"});
      if (o.unknown_drop) argv.insert(argv.end(), {"--unknown", "drop"});
      // The veth uplink stands for a NIC (its peer sends complete checksums,
      // see the external host above): take the path a NIC uplink gets, XDP
      // redirect, which `auto` turns off for veth uplinks.
      if (absl::StrContains(Exec({vnetctl, "help", "attach"}, 10).output, "--xdp-redirect"))
        argv.insert(argv.end(), {"--xdp-redirect", system == System::kVnetTc ? "off" : "on"});
      {
        std::lock_guard<std::mutex> lock(g_mu);
        g_fabrics.insert({t->fabric_, H});
      }
      VNET_RETURN_IF_ERROR(Run(argv).status());
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
        std::vector<std::string> add = {"nsenter", "--net=/run/netns/" + H, vnetctl, "port", "add",
                                        "--fabric", t->fabric_, "--netns", c};
        // An ipvlan port: vnet gives eth0 the uplink's MAC and configures the
        // address itself (the loop below skips it).
        if (ipvlan) {
          add.insert(add.end(), {"--ip", absl::StrCat("198.18.0.", 11 + i, "/24")});
        } else {
          add.insert(add.end(), {"--mode", "bridge"});
        }
        VNET_ASSIGN_OR_RETURN(std::string dev, Run(add));
        VNET_ASSIGN_OR_RETURN(Device d, t->Describe(H, std::string(absl::StripAsciiWhitespace(dev))));
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
  if (!fabric_.empty()) {
    RemoveFabric(fabric_, host_);
    std::lock_guard<std::mutex> lock(g_mu);
    g_fabrics.erase({fabric_, host_});
  }
  for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) {
    RemoveNetns(*it);
    std::lock_guard<std::mutex> lock(g_mu);
    g_namespaces.erase(*it);
  }
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
  auto maps = FabricMaps::Open(fabric_);
  if (!maps.ok()) return 0;
  auto stats = maps->ReadStats(0);
  return stats.ok() ? stats->drops[VNET_DROP_UNKNOWN_DST] : 0;
}

absl::StatusOr<std::string> Topology::FillMacs(const MacAddress& base, std::uint32_t n) {
  switch (system_) {
    case System::kVnet: {
      VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric_));
      VNET_ASSIGN_OR_RETURN(auto entry, maps.LookupMac(containers_[0].mac));
      if (!entry) return absl::InternalError("c1's MAC is not in vnet_macs");
      for (std::uint32_t i = 0; i < n; ++i) VNET_RETURN_IF_ERROR(maps.PutMac(Offset(base, i), *entry));
      return absl::StrCat(n, " vnet_macs entries (FabricMaps::PutMac) to c1; frames rotate over all");
    }
    case System::kBridge: {
      std::string path = absl::StrCat("/tmp/vnet-bench-fdb-", ::getpid(), ".batch");
      {
        std::ofstream f(path);
        for (std::uint32_t i = 0; i < n; ++i)
          f << "fdb replace " << Offset(base, i).ToString() << " dev " << host_ends_[0].name << " master static\n";
      }
      auto r = Run({"bridge", "-n", host_, "-batch", path}, 600);
      ::unlink(path.c_str());
      VNET_RETURN_IF_ERROR(r.status());
      return absl::StrCat(n, " static FDB entries to c1's bridge port; frames rotate over all");
    }
    case System::kMacvlan: {
      if (n <= 1) return std::string("c1's own macvlan only");
      std::string path = absl::StrCat("/tmp/vnet-bench-mv-", ::getpid(), ".batch");
      {
        std::ofstream f(path);
        for (std::uint32_t i = 1; i < n; ++i) {
          f << "link add link up0 name mx" << i << " address " << Offset(base, i).ToString()
            << " type macvlan mode bridge\n";
          f << "link set mx" << i << " up\n";
        }
      }
      auto r = Run({"ip", "-n", host_, "-batch", path}, 600);
      ::unlink(path.c_str());
      VNET_RETURN_IF_ERROR(r.status());
      return absl::StrCat(n - 1, " extra macvlan devices on up0 (one MAC each); frames go to c1's MAC");
    }
    case System::kFloor:
    case System::kFloorTc:
    case System::kVnetTc:
    case System::kVnetIpvlan:
      return std::string("no table");
  }
  return std::string();
}

absl::StatusOr<std::string> Topology::FillIps(std::uint32_t base, std::uint32_t n) {
  if (system_ != System::kVnetIpvlan) return absl::InvalidArgumentError("an IP table needs vnet-ipvlan");
  VNET_ASSIGN_OR_RETURN(FabricMaps maps, FabricMaps::Open(fabric_));
  VNET_ASSIGN_OR_RETURN(IpAddress c1, IpAddress::Parse("198.18.0.11"));
  VNET_ASSIGN_OR_RETURN(auto entry, maps.LookupIp(c1));
  if (!entry) return absl::InternalError("c1's address 198.18.0.11 is not in vnet_ips");
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t a = base + i;
    const std::uint8_t b[4] = {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
                               static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)};
    VNET_RETURN_IF_ERROR(maps.PutIp(IpAddress::FromBytes(4, b), *entry));
  }
  return absl::StrCat(n, " vnet_ips entries (FabricMaps::PutIp, copies of c1's 198.18.0.11) to c1; "
                      "frames rotate over all destination IPs");
}

bool KernelIpvlanAvailable(const std::string& tag, std::string* why) {
  std::string ns = tag + "k";
  if (Exec({"ip", "netns", "add", ns}, 30).status != 0) {
    if (why) *why = "could not create a namespace to try";
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_namespaces.insert(ns);
  }
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
  RemoveNetns(ns);
  std::lock_guard<std::mutex> lock(g_mu);
  g_namespaces.erase(ns);
  return ok;
}

}  // namespace vnet::bench
