// vnet-bench's topologies: one system (vnet, kernel macvlan, the Linux bridge,
// a floor) between an external host and N containers, each built from fresh,
// uniquely named namespaces and removed whatever happens.
#ifndef VNET_BENCH_TOPOLOGY_H
#define VNET_BENCH_TOPOLOGY_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/sink_redirect.h"
#include "base/mac_address.h"

namespace vnet::bench {

// kVnetTc: vnet attached with --xdp-redirect off (wire->port unicast on the
// tc path). kFloorTc: the tc floor, a bare bpf_redirect_peer from the
// uplink's tc ingress into the port's netns. kVnetIpvlan: vnet's ipvlan
// family (attach --type ipvlan --ipvlan-mode l2, ports by IP sharing the
// uplink's MAC); there is no kernel ipvlan to set beside it here.
enum class System { kVnet, kMacvlan, kBridge, kFloor, kVnetTc, kFloorTc, kVnetIpvlan };
inline bool IsVnet(System s) { return s == System::kVnet || s == System::kVnetTc || s == System::kVnetIpvlan; }
inline bool IsFloor(System s) { return s == System::kFloor || s == System::kFloorTc; }
const char* SystemName(System s);

struct TopoOptions {
  int ports = 2;              // containers c1..cN
  bool unknown_drop = false;  // vnet: attach --unknown drop
  bool injector = false;      // generator veth pair gi/go in c1, go redirects to c1's eth0
  FloorKind floor = FloorKind::kXdp;  // which floor program (kFloor only)
  bool threaded_napi = false; // NAPI of every veth in a kthread pinned to napi_cpu
  int napi_cpu = 1;
};

struct Device {
  std::string netns, name;
  std::uint32_t ifindex = 0;
  MacAddress mac;
};

//   ext: wire (198.18.0.100) ==veth== host: up0 (the uplink)
//   host: vnet fabric | macvlan children | bridge br0 (up0 + vhI) | floor (vhI)
//   cI:  eth0 (198.18.0.1I): vnet port, macvlan child, or the veth peer of vhI
class Topology {
 public:
  static absl::StatusOr<std::unique_ptr<Topology>> Build(System system, const TopoOptions& options,
                                                         const std::string& tag);
  ~Topology();

  System system() const { return system_; }
  const Device& wire() const { return wire_; }
  const Device& uplink() const { return uplink_; }
  const Device& container(int i) const { return containers_[i]; }  // eth0 in cI, 0-based
  const Device& host_end(int i) const { return host_ends_[i]; }    // vhI / the vnet port (not macvlan)
  const Device& injector() const { return injector_; }             // gi in c1
  const std::string& fabric() const { return fabric_; }
  const std::string& host_ns() const { return host_; }

  // Fills the forwarding table with `n` MACs base+0..n-1, all leading to c1:
  // vnet's MAC table (copies of c1's entry), static bridge FDB entries;
  // for macvlan, n-1 extra macvlan devices on up0 (one MAC each; frames still
  // go to c1's own MAC). Returns what was done, for the report.
  absl::StatusOr<std::string> FillMacs(const MacAddress& base, std::uint32_t n);
  // vnet-ipvlan: fills the IP table with `n` IPv4 addresses base+0..n-1
  // (host byte order), each a copy of c1's own address entry, so they all
  // lead to c1.
  absl::StatusOr<std::string> FillIps(std::uint32_t base, std::uint32_t n);

  absl::StatusOr<Sink*> AddSink(const Device& dev);
  absl::Status AddFloor(FloorKind kind, const Device& on, std::uint32_t target);
  // vnet: unknown-destination drops counted on the uplink (its counters).
  std::uint64_t VnetUnknownDrops() const;

  // Runs a command in one of this topology's namespaces.
  absl::StatusOr<std::string> In(const std::string& netns, std::vector<std::string> argv, double timeout_s = 120);

 private:
  explicit Topology(System system) : system_(system) {}
  absl::Status AddNetns(const std::string& name);
  absl::StatusOr<Device> Describe(const std::string& netns, const std::string& dev);
  absl::Status ThreadNapi(const std::vector<Device>& devs, int cpu);

  System system_;
  std::string host_, ext_, fabric_;
  std::vector<std::string> namespaces_;
  std::vector<std::string> cns_;
  Device wire_, uplink_, injector_;
  std::vector<Device> containers_, host_ends_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::vector<std::unique_ptr<Redirect>> redirects_;
};

// A device's ifindex and MAC, read in `netns`.
absl::StatusOr<Device> DescribeDevice(const std::string& netns, const std::string& dev);

// Puts the NAPI of each of `devs` that has one (a veth with GRO or XDP) in a
// kthread pinned to `cpu` at the highest priority: a NIC's receive interrupt
// on a core of its own.
absl::Status ThreadNapiOn(const std::vector<Device>& devs, int cpu);

// Whether this kernel can create an ipvlan device (tried on a dummy in a
// throwaway namespace); `why` gets ip's answer when it cannot.
bool KernelIpvlanAvailable(const std::string& tag, std::string* why);

}  // namespace vnet::bench

#endif
