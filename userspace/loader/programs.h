// Loads the datapath objects embedded in this binary (bpftool skeletons) for
// one fabric. Maps are pinned by name in the fabric's directory, so a second
// load reuses them: tables and counters survive, and every object of a fabric
// shares one set of maps.
#ifndef VNET_LOADER_PROGRAMS_H
#define VNET_LOADER_PROGRAMS_H

#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct uplink_bpf;
struct port_bpf;

namespace vnet {

class FabricPrograms {
 public:
  static absl::StatusOr<FabricPrograms> Load(const std::string& fabric);
  FabricPrograms(FabricPrograms&&) noexcept;
  FabricPrograms& operator=(FabricPrograms&&) noexcept;
  ~FabricPrograms();

  int uplink_xdp_fd() const;
  int uplink_tc_fd() const;
  int uplink_egress_fd() const;
  int port_tc_fd() const;

 private:
  FabricPrograms() = default;
  struct UplinkDeleter { void operator()(uplink_bpf*) const; };
  struct PortDeleter { void operator()(port_bpf*) const; };
  std::unique_ptr<uplink_bpf, UplinkDeleter> uplink_;
  std::unique_ptr<port_bpf, PortDeleter> port_;
};

}  // namespace vnet

#endif
