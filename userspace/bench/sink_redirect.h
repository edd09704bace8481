// The benchmark's BPF helpers, from bpf/pktgen.bpf.c: Sink, the receiver
// that counts what a path delivered, and Redirect, a bare redirect with no
// lookup (the floor, and the injector that plays a container sending).
#ifndef VNET_BENCH_SINK_REDIRECT_H
#define VNET_BENCH_SINK_REDIRECT_H

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

struct pktgen_bpf;

namespace vnet::bench {

struct SkelDeleter {
  void operator()(pktgen_bpf* s) const;
};
using PktgenSkel = std::unique_ptr<pktgen_bpf, SkelDeleter>;

// Counts and drops every frame reaching DEV's tc ingress (tcx).
class Sink {
 public:
  static absl::StatusOr<std::unique_ptr<Sink>> Attach(const std::string& netns, const std::string& dev);
  std::uint64_t Packets() const;

 private:
  PktgenSkel skel_;
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
  PktgenSkel skel_;
  UniqueFd link_;
};

}  // namespace vnet::bench

#endif
