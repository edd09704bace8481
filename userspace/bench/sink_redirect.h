// The benchmark's BPF helpers, from bpf/pktgen.bpf.c: Sink, the receiver
// that counts what a path delivered, and Redirect, a bare redirect with no
// lookup (the floor, and the injector that plays a container sending).
#ifndef VNET_BENCH_SINK_REDIRECT_H
#define VNET_BENCH_SINK_REDIRECT_H

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "loader/aux_program.h"
#include "base/unique_fd.h"

namespace vnet::bench {

// Counts and drops every frame reaching DEV's tc ingress (tcx).
class Sink {
 public:
  // unicast_only: count only frames to a unicast MAC (drop all the same).
  static absl::StatusOr<std::unique_ptr<Sink>> Attach(const std::string& netns, const std::string& dev,
                                                      bool unicast_only = false);
  std::uint64_t Packets() const;

 private:
  explicit Sink(AuxProgram prog) : prog_(std::move(prog)) {}
  AuxProgram prog_;
  UniqueFd link_;
};

// The floor and the injector: a bare redirect with no lookup.
enum class FloorKind { kXdp, kTcEgress, kTcPeer };
class Redirect {
 public:
  // kXdp: XDP on DEV (native) -> bpf_redirect(target); kTc*: tcx ingress on DEV.
  static absl::StatusOr<std::unique_ptr<Redirect>> Attach(const std::string& netns, const std::string& dev,
                                                          FloorKind kind, std::uint32_t target_ifindex);

 private:
  explicit Redirect(AuxProgram prog) : prog_(std::move(prog)) {}
  AuxProgram prog_;
  UniqueFd link_;
};

}  // namespace vnet::bench

#endif
