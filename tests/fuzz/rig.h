// The datapath side of the differential fuzzer: one fabric (the BPF harness's
// programs and pinned maps, veths in the binary's private netns) whose maps
// are rewritten for each configuration, and a run of a frame through the
// programs of an entry point, turned into an Outcome comparable with the
// model's: the verdict, the redirect target (from the per-slot tx counters
// the datapath keeps, and skb->mark for the host stack), flood clones (per
// slot flood counters: a clone really transmits, so it is counted as such)
// and the drop reason counted. Clones into the uplink's ingress (the host
// stack's copy, a hairpin reflection) really enter it: an AF_PACKET socket on
// the uplink counts them (netif_rx processes them before the run returns).
#ifndef VNET_TESTS_FUZZ_RIG_H
#define VNET_TESTS_FUZZ_RIG_H

#include <optional>
#include <string>
#include <vector>

#include "../bpf/harness.h"
#include "model.h"

namespace vnet::fuzz {

struct Observed {
  Outcome outcome;          // fate, reason/slot, floods, source copies (tx that were neither)
  std::string verdicts;     // e.g. "xdp PASS, tc REDIRECT mark 0"
  std::vector<std::string> extra;  // counters that fit no single outcome
  Bytes out;                // the frame as the last program left it (an answer, rewritten in place)
};

class Rig : public bpftest::FabricTest {
 public:
  void Start();  // fabric, programs and a pool of port veths
  void Stop();
  void Apply(const FabricConfig& cfg);
  // nullopt: BPF_PROG_RUN refused the frame (shorter than Ethernet).
  std::optional<Observed> Run(const FabricConfig& cfg, Entry entry, int from_slot, const Bytes& frame);

 private:
  void TestBody() override {}
  void ForgetDhcp();
  std::vector<vnet_stats> Snapshot(std::size_t nports) const;

  int IngressCopies(const Bytes& frame, bool count);

  std::vector<std::uint32_t> veths_;
  int tap_ = -1;  // AF_PACKET on the uplink: clones into its ingress
  vnet_config base_{};
};

// What is wrong with the answer vnet sent, when the model says it answers
// (empty: nothing, or no answer expected).
std::string AnswerProblem(const Outcome& model, const Observed& seen);

// True when the datapath did what the model says.
bool Agrees(const Outcome& model, const Observed& seen);

}  // namespace vnet::fuzz

#endif
