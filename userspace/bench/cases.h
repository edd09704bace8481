// The case list: which paths, frame sizes and table sizes run, and which
// systems each case sets side by side.
#ifndef VNET_BENCH_CASES_H
#define VNET_BENCH_CASES_H

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/options.h"
#include "bench/topology.h"

namespace vnet::bench {

struct Variant {
  System system;
  std::uint32_t macs = 0;  // 0: not a table-size case
  std::uint32_t ips = 0;   // vnet_ips entries (the ips case); 0: not one
  std::string label() const {
    if (macs) return absl::StrCat(SystemName(system), "/", macs);
    if (ips) return absl::StrCat(SystemName(system), "/", ips);
    return std::string(SystemName(system));
  }
};

struct Case {
  std::string path;  // wire->port, port->port, port->wire, broadcast, unknown, macs, ips
  std::uint32_t size = 64;
  std::vector<Variant> variants;
  bool from_port() const { return path == "port->port" || path == "port->wire"; }
  std::string label() const { return absl::StrCat(path, " ", size, "B"); }
};

// The cases --paths, --sizes, --macs, --ips and --systems ask for, in the
// order they run.
std::vector<Case> BuildCases(const Config& cfg);

// When some case runs vnet-ipvlan, what the report says about the kernel's
// ipvlan (looked for, never measured); empty otherwise.
std::string KernelIpvlanNote(const std::vector<Case>& cases);

}  // namespace vnet::bench

#endif
