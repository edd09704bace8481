// The flooding-at-scale topology: one system (vnet, kernel macvlan, the
// Linux bridge) between an external host and N bridge-mode ports, grown in
// place from one --ports size to the next. The ports' container ends share
// one namespace (eI there), so that 1,000 of them are created in batches and
// counted with one netlink dump; each is still its own device with its own
// counters, which is what flooding is about.
#ifndef VNET_BENCH_FLOOD_TOPOLOGY_H
#define VNET_BENCH_FLOOD_TOPOLOGY_H

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/ip_batch.h"
#include "bench/sink_redirect.h"
#include "bench/topology.h"

namespace vnet::bench {

//   ext: wire ==veth== host: up0 (uplink; vnet fabric | macvlans | br0)
//   ct:  e0..eN-1 (vnet ports, macvlan children, or veth peers of vhI on br0)
class FloodTopology {
 public:
  // `napi_cpu` >= 0: up0's NAPI in a kthread pinned there (a NIC's receive
  // interrupt on a core of its own).
  // `vnet_host_tso`: vnet only, TSO back on at each port's host end, which
  // sends the flood's copies through the shared per-CPU backlog again (the
  // datapath before the copies went into the ports' own rings).
  static absl::StatusOr<std::unique_ptr<FloodTopology>> Build(System system, const std::string& tag, int napi_cpu,
                                                              bool vnet_host_tso = false);
  ~FloodTopology();

  // Adds ports until there are `n`.
  absl::Status GrowTo(std::uint32_t n);
  std::uint32_t ports() const { return static_cast<std::uint32_t>(names_.size()); }

  // rx_packets of each container end e0..eN-1, in order (one dump).
  absl::StatusOr<std::vector<std::uint64_t>> RxPackets();

  const Device& wire() const { return wire_; }
  const std::string& ports_ns() const { return ct_; }
  const std::string& host_ns() const { return host_; }
  const std::string& fabric() const { return fabric_; }
  absl::StatusOr<Device> Port(std::uint32_t i) const;

  // The unicast case: a generator device `gi` in the ports' namespace whose
  // frames leave e0 as if its container sent them, and a sink on e1 counting
  // unicast frames only. Returns gi.
  absl::StatusOr<Device> AddUnicastPair();
  std::uint64_t UnicastReceived() const { return unicast_sink_ ? unicast_sink_->Packets() : 0; }

 private:
  explicit FloodTopology(System system) : system_(system) {}
  absl::Status AddNetns(const std::string& name);

  System system_;
  bool vnet_host_tso_ = false;
  std::string host_, ext_, ct_, fabric_;
  std::vector<std::string> namespaces_;
  std::vector<std::string> names_;  // container ends, e0..
  Device wire_;
  std::optional<IpBatch> host_batch_, ct_batch_;
  std::unique_ptr<Sink> unicast_sink_;
  std::unique_ptr<Redirect> injector_;
};

}  // namespace vnet::bench

#endif
