// Random fabric configurations and frames for the differential fuzzer. Every
// frame carries a scapy recipe of how it was built and mutated, so a
// disagreement can be rebuilt and looked at outside the harness.
#ifndef VNET_TESTS_FUZZ_GEN_H
#define VNET_TESTS_FUZZ_GEN_H

#include <cstdint>
#include <random>
#include <string>

#include "model.h"

namespace vnet::fuzz {

inline constexpr int kMaxPorts = 5;
inline constexpr Mac kUplinkMac{0x02, 0x0d, 0x32, 0x00, 0x00, 0x01};

struct Frame {
  Bytes bytes;
  std::string scapy;  // as built (before mutation)
  std::string mutation;
  bool sweep = false;  // also run every truncation of it, at each offset
};

class Gen {
 public:
  explicit Gen(std::uint64_t seed) : rng_(seed) {}
  FabricConfig Config();
  Frame Make(const FabricConfig& cfg, Entry entry, int from_slot);
  Entry PickEntry();
  int PickPort(const FabricConfig& cfg);

 private:
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(Int(0, static_cast<int>(v.size()) - 1))];
  }
  Mac PickMac(const FabricConfig& cfg, bool for_dst);
  Addr PickAddr(const FabricConfig& cfg, int family, const PortConfig* own);
  void Mutate(Frame& f);

  std::mt19937_64 rng_;
};

std::string Hex(const Bytes& b);

}  // namespace vnet::fuzz

#endif
