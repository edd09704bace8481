// vnet-bench's command line: what to measure and how, with the help text.
#ifndef VNET_BENCH_OPTIONS_H
#define VNET_BENCH_OPTIONS_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vnet::bench {

struct Config {
  bool quick = false;
  int reps = 5;
  double duration = 2.0;
  std::vector<std::string> paths = {"wire-port", "port-port", "port-wire", "broadcast", "unknown", "macs", "ips"};
  std::vector<std::uint32_t> sizes = {64, 1500};
  std::vector<std::uint32_t> macs = {1, 100, 10000, 100000};
  std::vector<std::uint32_t> ips = {1, 100, 10000, 100000};
  std::vector<std::string> systems;  // empty: all
  bool tcp = true;
  double tcp_seconds = 3;
  int ping_count = 200;
  bool split = true;
  int gen_cpu = 0, rx_cpu = 1;
  long cpus = 0;  // online CPUs
  std::string vnetctl;
  std::string generator = "xdp";  // as asked: xdp or pktgen
  bool kernel_pktgen = false;  // --generator pktgen and /proc/net/pktgen exists
  std::string json_path, plot_path;
  std::string command;
  std::uint32_t macvlan_max_macs = 100;
  // --control-plane: port add/del latency with these many ports present,
  // `cp_samples` of each; show, stats and detach at the largest.
  bool control_plane = false;
  std::vector<std::uint32_t> cp_ports = {1, 100, 1000};
  int cp_samples = 100;
  // --cni: the vnet CNI plugin against the reference macvlan plugin, both
  // executed as a runtime does, with these many containers attached,
  // `cni_samples` ADD+DEL of each, and `cni_parallel` containers at once.
  bool cni = false;
  std::vector<std::uint32_t> cni_containers = {1, 100, 500};
  int cni_samples = 30;
  int cni_parallel = 50;
  std::string cni_plugin;                            // default: vnet-macvlan of this build
  std::string cni_reference = "/usr/lib/cni/macvlan";
  std::string cni_ipam_dir = "/usr/lib/cni";         // where host-local is
  // --vxlan: cross-host TCP and packet rates over a VXLAN underlay, vnet
  // next to kernel macvlan on the same VXLAN devices; frames of these sizes.
  bool vxlan = false;
  std::vector<std::uint32_t> vxlan_sizes = {64};
  // --guests: TCP between a QEMU guest and the external host, the guest on
  // a vnet tap port and on a kernel macvtap; `guest_seconds` per iperf3 run;
  // the kit from `guest_kit` (empty: prepared in the build tree).
  bool guests = false;
  double guest_seconds = 10;
  std::string guest_kit;
  // Flooding at scale (--paths broadcast|multicast with --ports): N
  // bridge-mode ports per system, grown in one topology; each trial lasts
  // flood_trial seconds; storm_limit > 0: vnet's (c) also runs with
  // `fabric set --storm-limit` (storm control).
  bool ports_set = false;
  double flood_trial = 0.3;
  std::uint64_t storm_limit = 0;
};

// Parses argv into *cfg (--quick's defaults applied). Returns the exit code
// when the program should stop here: 0 after --help, 2 after saying on
// stderr what is wrong with an argument.
std::optional<int> ParseCommandLine(int argc, char** argv, Config* cfg);

// What the command line leaves to the machine: vnetctl next to this binary,
// the plot beside the JSON, and CPU 1 for the receive side only if there is
// one.
void CompleteConfig(Config* cfg);

}  // namespace vnet::bench

#endif
