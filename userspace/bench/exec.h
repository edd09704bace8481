// Running commands for vnet-bench: ip, ethtool, vnetctl, iperf3, ping, each
// with a deadline, its stdout and stderr captured together.
#ifndef VNET_BENCH_EXEC_H
#define VNET_BENCH_EXEC_H

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vnet::bench {

struct ExecResult {
  int status = -1;  // exit code, or -1 when it could not run / was killed
  std::string output;  // stdout and stderr together
};
// `netns`: run it in that named netns (the child enters it before exec, so
// the mount namespace, /sys/fs/bpf included, stays the caller's, unlike
// `ip netns exec`).
ExecResult Exec(const std::vector<std::string>& argv, double timeout_s = 120, const std::string& netns = "");
// Exec, and an error naming the command and its output unless it exits 0.
absl::StatusOr<std::string> Run(const std::vector<std::string>& argv, double timeout_s = 120,
                                const std::string& netns = "");

}  // namespace vnet::bench

#endif
