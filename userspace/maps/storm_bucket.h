// A storm-control bucket (struct vnet_storm, abi.h) as libvnet writes it for
// a limit in frames per second: the datapath's GCRA needs the spacing of
// frames and how far ahead of now it may run, computed once here.
#ifndef VNET_MAPS_STORM_BUCKET_H
#define VNET_MAPS_STORM_BUCKET_H

#include <algorithm>
#include <cstdint>

#include "vnet/abi.h"

namespace vnet {

// 0: no limit (an all-zero entry). A limit above VNET_STORM_MAX_PPS is the
// caller's error; it is clamped here so the datapath never sees interval 0.
inline vnet_storm StormBucket(std::uint32_t pps) {
  vnet_storm b{};
  if (pps == 0) return b;
  pps = std::min(pps, VNET_STORM_MAX_PPS);
  b.limit_pps = pps;
  b.interval_ns = 1'000'000'000ull / pps;
  std::uint64_t burst = std::max<std::uint64_t>(pps / VNET_STORM_BURST_DIV, VNET_STORM_BURST_MIN);
  // A frame passes while tat - now <= burst_ns: burst frames back to back.
  b.burst_ns = (burst - 1) * b.interval_ns;
  return b;
}

}  // namespace vnet

#endif
