// Executing a CNI plugin as a container runtime does: the plugin binary
// with CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_PATH in
// its environment, the network configuration on stdin, the result read from
// stdout and logs from stderr, started from the runtime's network namespace
// (here the benchmark's "host" namespace). Safe to call from many threads at
// once: everything the child needs is built before fork.
#ifndef VNET_BENCH_CNI_EXEC_H
#define VNET_BENCH_CNI_EXEC_H

#include <string>

#include "absl/status/statusor.h"

namespace vnet::bench {

struct CniCall {
  std::string plugin;        // path of the plugin binary
  std::string command;       // ADD, DEL, CHECK, VERSION
  std::string container_id;
  std::string netns_path;    // CNI_NETNS (a /run/netns/NAME path)
  std::string ifname;        // CNI_IFNAME
  std::string cni_path;      // CNI_PATH: where the plugin finds its IPAM plugin
  std::string config;        // the network configuration, on stdin
  std::string runtime_netns; // the named netns the runtime (and so the plugin) runs in
};

struct CniOutcome {
  int status = -1;  // exit code; -1 when it could not start or was killed
  std::string out, err;
  double ms = 0;  // wall time from fork to reaping the plugin
};

// Runs the plugin once and reports how it ended, never failing itself. The
// deadline is past the vnet plugin's own wait for the control lock (60 s),
// so that its "try again later" is what a slow call reports.
CniOutcome ExecCni(const CniCall& call, double timeout_s = 150);

// ExecCni, and an error naming the command, the container and the plugin's
// own error (its JSON on stdout, its stderr) unless it exits 0.
absl::StatusOr<CniOutcome> RunCni(const CniCall& call, double timeout_s = 150);

}  // namespace vnet::bench

#endif
