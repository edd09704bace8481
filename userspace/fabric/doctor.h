// `vnetctl doctor`: what this kernel and these devices offer vnet, probed at
// run time (not inferred from a version where a probe exists), and what will
// not work as a consequence.
#ifndef VNET_FABRIC_DOCTOR_H
#define VNET_FABRIC_DOCTOR_H

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vnet {

struct Capability {
  std::string name;
  bool ok = false;
  std::string detail;
};

struct DeviceReport {
  std::string name;
  int ifindex = 0;
  std::string kind;
  std::vector<std::string> xdp_features;  // empty when the kernel cannot tell
  bool native_xdp = false;
  bool redirect_target = false;
  std::string xdp_program;  // attached now, if any
  std::string fabric;       // membership, if any
  std::string role;         // "uplink" or "port"
  std::vector<std::string> notes;
};

struct DoctorReport {
  std::string kernel;
  std::vector<Capability> capabilities;
  std::vector<DeviceReport> devices;
  std::vector<std::string> problems;  // what will not work here
};

absl::StatusOr<DoctorReport> RunDoctor();

}  // namespace vnet

#endif
