// One variant of a case made ready to measure: its topology, the receivers
// that count, the floor's redirect where it is the floor, the frame, and
// which generator sends it.
#ifndef VNET_BENCH_VARIANT_SETUP_H
#define VNET_BENCH_VARIANT_SETUP_H

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/cases.h"
#include "bench/kernel_pktgen.h"
#include "bench/measurement.h"
#include "bench/options.h"
#include "bench/pktgen.h"
#include "bench/topology.h"

namespace vnet::bench {

struct Live {
  Variant variant;
  std::unique_ptr<Topology> topo;
  std::vector<Sink*> sinks;
  FrameSpec frame;
  Device gen_dev;
  // Which generator drives this variant: "vnet-pktgen" or "pktgen" (the
  // kernel's), and why not pktgen when it was asked for and cannot.
  std::string generator = "vnet-pktgen";
  std::string generator_note;
  KernelPktgenRequest kreq;
  std::string table_note;
  std::vector<RunResult> runs;
};

// Builds l.variant's topology for case c in namespaces named after `tag`.
absl::Status SetUpVariant(const Case& c, Live& l, const Config& cfg, const std::string& tag);

}  // namespace vnet::bench

#endif
