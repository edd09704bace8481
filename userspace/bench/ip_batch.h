// One long-lived `ip -batch -` per network namespace: the kernel's side of
// the control-plane benchmark, measured like vnet's in-process calls (no
// process started per operation). Each step writes its commands and then a
// marker command (`link show dev lo`) whose output says the commands before
// it are done; what ip printed before the marker is its error, if any.
#ifndef VNET_BENCH_IP_BATCH_H
#define VNET_BENCH_IP_BATCH_H

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vnet::bench {

class IpBatch {
 public:
  // Starts `ip -n NETNS -force -batch -` with line-buffered output.
  static absl::StatusOr<IpBatch> Start(const std::string& netns);
  IpBatch(IpBatch&& other) noexcept;
  IpBatch& operator=(IpBatch&&) = delete;
  IpBatch(const IpBatch&) = delete;
  ~IpBatch();

  // Runs the commands (one `ip` command line each, without "ip") and waits
  // until they are done; an error carries what ip printed.
  absl::Status Do(const std::vector<std::string>& commands, double timeout_s = 120);

 private:
  IpBatch(pid_t pid, int in, int out, std::string netns) : pid_(pid), in_(in), out_(out), netns_(std::move(netns)) {}
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  std::string netns_;
  std::string pending_;  // output read past the last marker
};

}  // namespace vnet::bench

#endif
