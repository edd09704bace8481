#include "bench/options.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace vnet::bench {
namespace {

constexpr char kUsage[] = R"(usage: vnet-bench [--quick] [--reps N] [--duration SECONDS] [-j|--json FILE] [--plot FILE.png]
                  [--paths LIST] [--sizes LIST] [--macs LIST] [--ips LIST] [--systems LIST] [--no-tcp]
                  [--tcp-seconds S] [--cpu-mode split|shared] [--generator xdp|pktgen] [--vnetctl PATH]
       vnet-bench --control-plane [--ports LIST] [--samples N] [-j|--json FILE] [--vnetctl PATH]
       vnet-bench --paths broadcast|multicast --ports LIST [--trial S] [--storm-limit PPS]
                  [--systems LIST] [--cpu-mode split|shared] [-j|--json FILE]
       vnet-bench --cni [--containers LIST] [--samples N] [--parallel N] [--cni-plugin PATH]
                  [--cni-reference PATH] [--cni-ipam-dir DIR] [-j|--json FILE]
       vnet-bench --vxlan [--quick] [--sizes LIST] [--reps N] [--duration S] [--tcp-seconds S]
                  [--systems vnet,vnet-tc,macvlan] [--cpu-mode split|shared] [-j|--json FILE]
       vnet-bench --guests [--quick] [--reps N] [--guest-seconds S] [--guest-kit DIR] [-j|--json FILE]

Builds each topology in fresh namespaces for vnet, kernel macvlan (bridge
mode), the Linux bridge (static FDB) and the floor (a bare redirect, no
lookup), and vnet's ipvlan family (vnet-ipvlan: ports by IP sharing the
uplink's MAC; this kernel's ipvlan is looked for and reported, never
measured), drives frames with vnet-pktgen's XDP live-frames generator from the
external namespace (or from inside c1 for port-originated paths), counts the
frames delivered at the receiver's tc ingress, and prints the median of N
interleaved repetitions with the vnet/peer ratio computed run by run. Then
TCP (iperf3), UDP (iperf3, 18-byte datagrams) and ping between the ports and
to the external host for vnet (XDP redirect), vnet-tc and kernel macvlan, and
a checksum-offload probe (the external host with tx offload on).
  --quick          < 60 s: 1 repetition of 0.5 s, 64-byte frames, 1 and 100
                   MACs and IPs, 1 s of TCP (the test suite's mode)
  --reps N         repetitions per case (default 5)
  --duration S     seconds per repetition (default 2)
  --paths LIST     wire-port,port-port,port-wire,broadcast,unknown,macs,ips
                   (default all); ips: vnet-ipvlan wire->port with N addresses
                   in vnet_ips, destination IPs rotating over all
  --sizes LIST     frame sizes (default 64,1500)
  --macs LIST      MAC table sizes (default 1,100,10000,100000)
  --ips LIST       IP table sizes for ips (default 1,100,10000,100000)
  --systems LIST   only these: vnet,vnet-tc,vnet-ipvlan,macvlan,bridge,floor,floor-tc
                   (e.g. to profile one system while it runs)
  --no-tcp         skip the TCP/UDP/ping section
  --tcp-seconds S  seconds per iperf3 run (default 3; --quick: 1)
  --cpu-mode M     split (default): generator on CPU 0, the uplink's NAPI
                   thread (threaded NAPI) pinned to CPU 1; shared: all on CPU 0.
                   Port-originated paths always run shared (see the doc).
  --generator G    xdp (default): vnet-pktgen, XDP live frames; pktgen: the
                   kernel's pktgen where /proc/net/pktgen exists (driven in the
                   generator's namespace, kpktgend on the generator's CPU);
                   without it, says so and uses vnet-pktgen
  --json FILE      write every run, the medians and the target checks
  --plot FILE      PNG of pps per path per system (gnuplot; default: the
                   --json name with .png)
  --vnetctl PATH   the vnetctl whose CLI --control-plane times (default: the
                   one built beside vnet-bench, or $VNETCTL)

--control-plane: port add --netns and port del latency (p50, p99) with each
--ports LIST number of ports already in the fabric (default 1,100,1000),
--samples N of each (default 100), next to kernel macvlan (link add + move
into the netns + up; link del) in the same run, interleaved; show and stats
at the largest size; detach of that fabric against deleting as many
macvlans. In process (libvnet calls against a long-lived `ip -batch`) and by
CLI (a vnetctl process against the ip commands). Uplinks: veths in private
namespaces.

--paths broadcast (or multicast, or both) with --ports LIST: flooding at
scale. For vnet, kernel macvlan and the Linux bridge in turn (--systems to
pick), one topology each grown through the --ports sizes (e.g.
4,32,128,1000): N bridge-mode ports whose container ends share one
namespace, created in batches. Frames from the external namespace (to
ff:ff:ff:ff:ff:ff, or to 01:00:5e:00:00:01, 224.0.0.1, which every port
joins) are counted where they land, per port, from the container ends'
receive counters. For each N: (a) the highest offered rate at which every
port receives >= 99 % of the frames (a geometric binary search on the
generator's rate, trials of --trial S, default 0.3); (b) at the generator's
full rate, delivered copies per second and the CPU time per copy (busy time
of every CPU from /proc/stat, less the generator thread's own); (c,
broadcast only) unicast frames per second from port 1 to port 2 (the
generator inside the ports' namespace) alone and during a full-rate storm
from the wire; with --storm-limit PPS, vnet's also with `vnetctl fabric set
--storm-limit PPS` (storm control). Prints how each grows with N.

--cni: the vnet CNI plugin (--cni-plugin, default vnet-macvlan of this build
or $VNET_CNI_PLUGIN) against the reference macvlan plugin (--cni-reference,
default /usr/lib/cni/macvlan), both with host-local IPAM (--cni-ipam-dir,
default /usr/lib/cni) in a private dataDir, each call a process started as a
runtime starts it. ADD and DEL latency (p50, p99; --samples N of each,
default 30) with each --containers LIST number of containers attached
(default 1,100,500), and containers per second with --parallel N (default
50) ADDs, then DELs, at once; ratios vnet/reference from the same run.
Masters: veths in private namespaces; one namespace per container. Both
sides' configs name a fabric of their own, so --cni-reference may be another
vnet build (an A/B of two versions of the plugin).

--vxlan: cross-host, over a VXLAN underlay: two host namespaces joined by a
veth underlay (198.18.200.0/24), a kernel VXLAN device on each (VNI 4242,
dstport 4789, learning, the other host as the all-zeros FDB remote, MTU
1450), built once; on them, in turn, vnet (a fabric on each VXLAN device,
one port each; vnet-tc: the same with --xdp-mode none) and kernel macvlan
(bridge mode, on each VXLAN device, moved into the container). Measures TCP
(iperf3, --tcp-seconds) and --sizes frames per second (default 64; the
XDP generator inside container A, counted as UDP datagrams container B's
stack took in), --reps N repetitions (default 5) of --duration S, systems
interleaved; ratios vnet/macvlan run by run, target at least equal.
--quick: 1 repetition, 0.5 s, 1 s of TCP (the test suite's mode).

--guests: virtual machines, TCP between a QEMU guest (TCG, 1 vCPU,
virtio-net, iperf3 in its initramfs) and the external host, both ways
(guest -> ext, and ext -> guest with iperf3 -R), with the guest on a vnet
tap port (vnetctl port add --tap; QEMU attaches by name) and the same guest
on a kernel macvtap of the uplink (QEMU gets /dev/tapN as fd=N), both built
and booted once, measured one after the other, --reps N repetitions
(default 3) of --guest-seconds S (default 10) each, order alternating;
medians, QEMU's CPU share (and its in-kernel part, and Mbit/s per QEMU
core), the machine's softirq share, the external host's frame sizes and ACK
frames per MB during each run, device drops, the offloads QEMU negotiated
on each device, and vnet/macvtap run by run (also per QEMU core).
TCG makes absolute numbers small: the ratio is what counts. The guest kit
(kernel and busybox initramfs) is --guest-kit DIR (vmlinuz, initrd.gz) or
made by tests/netns/vnetkit/guest.py in the build tree (the first run
downloads the Debian cloud kernel). --quick: 1 repetition of 3 s.
)";

std::string FindVnetctl() {
  if (const char* env = std::getenv("VNETCTL"); env && *env) return env;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    self[n] = 0;
    std::string dir(self);
    dir = dir.substr(0, dir.rfind('/'));
    for (const std::string& c : {dir + "/vnetctl", dir + "/../vnetctl"})
      if (::access(c.c_str(), X_OK) == 0) return c;
  }
  return "vnetctl";
}

// vnet-macvlan: $VNET_CNI_PLUGIN, else the build tree's (userspace/cni, next
// to this binary's directory), else the installed one.
std::string FindCniPlugin() {
  if (const char* env = std::getenv("VNET_CNI_PLUGIN"); env && *env) return env;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    self[n] = 0;
    std::string dir(self);
    dir = dir.substr(0, dir.rfind('/'));
    for (const std::string& c : {dir + "/../cni/vnet-macvlan", dir + "/../cni/bin/vnet-macvlan"})
      if (::access(c.c_str(), X_OK) == 0) return c;
  }
  return "/opt/cni/bin/vnet-macvlan";
}

}  // namespace

std::optional<int> ParseCommandLine(int argc, char** argv, Config* config) {
  Config& cfg = *config;
  std::string& generator = cfg.generator;
  bool reps_set = false, duration_set = false, tcp_seconds_set = false, guest_seconds_set = false;
  cfg.command = absl::StrJoin(std::vector<std::string>(argv, argv + argc), " ");
  auto list_u32 = [](const char* s, std::vector<std::uint32_t>& out) {
    out.clear();
    for (absl::string_view p : absl::StrSplit(s, ',', absl::SkipEmpty())) {
      std::uint32_t v = 0;
      if (!absl::SimpleAtoi(p, &v) || v == 0) return false;
      out.push_back(v);
    }
    return !out.empty();
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "vnet-bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    auto bad = [&](const char* v) {
      std::fprintf(stderr, "vnet-bench: %s %s: invalid value\n", a.c_str(), v);
      std::exit(2);
    };
    if (a == "-h" || a == "--help" || a == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--quick") {
      cfg.quick = true;
    } else if (a == "--reps") {
      const char* v = value();
      if (!absl::SimpleAtoi(v, &cfg.reps) || cfg.reps < 1) bad(v);
      reps_set = true;
    } else if (a == "--duration") {
      const char* v = value();
      if (!absl::SimpleAtod(v, &cfg.duration) || cfg.duration <= 0) bad(v);
      duration_set = true;
    } else if (a == "--control-plane") {
      cfg.control_plane = true;
    } else if (a == "--ports") {
      const char* v = value();
      if (!list_u32(v, cfg.cp_ports)) bad(v);
      cfg.ports_set = true;
      std::sort(cfg.cp_ports.begin(), cfg.cp_ports.end());
      cfg.cp_ports.erase(std::unique(cfg.cp_ports.begin(), cfg.cp_ports.end()), cfg.cp_ports.end());
    } else if (a == "--trial") {
      const char* v = value();
      if (!absl::SimpleAtod(v, &cfg.flood_trial) || cfg.flood_trial < 0.05 || cfg.flood_trial > 60) bad(v);
    } else if (a == "--storm-limit") {
      const char* v = value();
      if (!absl::SimpleAtoi(v, &cfg.storm_limit) || cfg.storm_limit == 0) bad(v);
    } else if (a == "--samples") {
      const char* v = value();
      if (!absl::SimpleAtoi(v, &cfg.cp_samples) || cfg.cp_samples < 1) bad(v);
      cfg.cni_samples = cfg.cp_samples;
    } else if (a == "--cni") {
      cfg.cni = true;
    } else if (a == "--vxlan") {
      cfg.vxlan = true;
    } else if (a == "--guests") {
      cfg.guests = true;
    } else if (a == "--guest-seconds") {
      const char* v = value();
      if (!absl::SimpleAtod(v, &cfg.guest_seconds) || cfg.guest_seconds < 1) bad(v);
      guest_seconds_set = true;
    } else if (a == "--guest-kit") {
      cfg.guest_kit = value();
    } else if (a == "--containers") {
      const char* v = value();
      if (!list_u32(v, cfg.cni_containers)) bad(v);
      std::sort(cfg.cni_containers.begin(), cfg.cni_containers.end());
      cfg.cni_containers.erase(std::unique(cfg.cni_containers.begin(), cfg.cni_containers.end()),
                               cfg.cni_containers.end());
    } else if (a == "--parallel") {
      const char* v = value();
      if (!absl::SimpleAtoi(v, &cfg.cni_parallel) || cfg.cni_parallel < 1 || cfg.cni_parallel > 1000) bad(v);
    } else if (a == "--cni-plugin") {
      cfg.cni_plugin = value();
    } else if (a == "--cni-reference") {
      cfg.cni_reference = value();
    } else if (a == "--cni-ipam-dir") {
      cfg.cni_ipam_dir = value();
    } else if (a == "--tcp-seconds") {
      const char* v = value();
      if (!absl::SimpleAtod(v, &cfg.tcp_seconds) || cfg.tcp_seconds <= 0) bad(v);
      tcp_seconds_set = true;
    } else if (a == "--json" || a == "-j") {
      cfg.json_path = value();
    } else if (a == "--plot") {
      cfg.plot_path = value();
    } else if (a == "--paths") {
      cfg.paths = absl::StrSplit(value(), ',', absl::SkipEmpty());
    } else if (a == "--sizes") {
      const char* v = value();
      if (!list_u32(v, cfg.sizes)) bad(v);
      cfg.vxlan_sizes = cfg.sizes;
    } else if (a == "--macs") {
      const char* v = value();
      if (!list_u32(v, cfg.macs)) bad(v);
    } else if (a == "--ips") {
      const char* v = value();
      if (!list_u32(v, cfg.ips)) bad(v);
      for (auto n : cfg.ips)
        if (n > 131072 - 16) bad(v);  // VNET_MAX_IPS, less the ports' own addresses
    } else if (a == "--systems") {
      cfg.systems = absl::StrSplit(value(), ',', absl::SkipEmpty());
    } else if (a == "--no-tcp") {
      cfg.tcp = false;
    } else if (a == "--cpu-mode") {
      std::string v = value();
      if (v != "split" && v != "shared") bad(v.c_str());
      cfg.split = v == "split";
    } else if (a == "--generator") {
      generator = value();
      if (generator != "xdp" && generator != "pktgen") bad(generator.c_str());
    } else if (a == "--vnetctl") {
      cfg.vnetctl = value();
    } else {
      std::fprintf(stderr, "vnet-bench: unknown argument '%s'\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (cfg.quick) {
    if (!reps_set) cfg.reps = 1;
    if (!duration_set) cfg.duration = 0.5;
    cfg.sizes = {64};
    cfg.macs = {1, 100};
    cfg.ips = {1, 100};
    if (!tcp_seconds_set) cfg.tcp_seconds = 1;
    cfg.ping_count = 20;
    if (!guest_seconds_set) cfg.guest_seconds = 3;
  }
  if (cfg.guests && !reps_set && !cfg.quick) cfg.reps = 3;
  if (cfg.vxlan)
    for (const auto& s : cfg.systems)
      if (s != "vnet" && s != "vnet-tc" && s != "macvlan") {
        std::fprintf(stderr, "vnet-bench: --vxlan --systems: '%s' is not one of vnet, vnet-tc, macvlan\n", s.c_str());
        return 2;
      }
  for (const auto& p : cfg.paths)
    if (p != "wire-port" && p != "port-port" && p != "port-wire" && p != "broadcast" && p != "unknown" && p != "macs" &&
        p != "ips" && p != "multicast") {
      std::fprintf(stderr, "vnet-bench: --paths: unknown path '%s'\n", p.c_str());
      return 2;
    }
  if (std::find(cfg.paths.begin(), cfg.paths.end(), "multicast") != cfg.paths.end() &&
      (!cfg.ports_set || cfg.control_plane)) {
    std::fprintf(stderr, "vnet-bench: --paths multicast is a flooding-at-scale path: give --ports LIST\n");
    return 2;
  }
  return std::nullopt;
}

void CompleteConfig(Config* cfg) {
  if (cfg->vnetctl.empty()) cfg->vnetctl = FindVnetctl();
  if (cfg->cni_plugin.empty()) cfg->cni_plugin = FindCniPlugin();
  if (cfg->plot_path.empty() && !cfg->json_path.empty()) {
    cfg->plot_path = cfg->json_path;
    if (absl::EndsWith(cfg->plot_path, ".json")) cfg->plot_path.resize(cfg->plot_path.size() - 5);
    cfg->plot_path += ".png";
  }
  cfg->cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (cfg->cpus < 2) {
    cfg->split = false;
    cfg->rx_cpu = 0;
  }
}

}  // namespace vnet::bench
