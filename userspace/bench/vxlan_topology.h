// vnet-bench --vxlan's topology: two simulated hosts joined by an IP
// underlay, a kernel VXLAN device on each (built once, shared by every
// system measured), and on top of those, one system at a time: a vnet fabric
// on each VXLAN device with one container port, or a kernel macvlan (bridge
// mode) on each moved into the container. Everything in fresh, uniquely
// named namespaces, removed whatever happens.
//
//   ns A: ul0 198.18.200.1 ══veth══ ul0 198.18.200.2 :ns B     (MTU 1500)
//         vx0 (VNI 4242, dstport 4789, learning,       vx0 (the same, remote
//              FDB 00:00:00:00:00:00 -> B, MTU 1450)       A)
//          └ vnet port / macvlan                          └ vnet port / macvlan
//   ns cA: eth0 198.18.0.11/24, gi══go injector       ns cB: eth0 198.18.0.12/24
#ifndef VNET_BENCH_VXLAN_TOPOLOGY_H
#define VNET_BENCH_VXLAN_TOPOLOGY_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/sink_redirect.h"
#include "bench/topology.h"

namespace vnet::bench {

inline constexpr std::uint32_t kVxlanVni = 4242;
inline constexpr unsigned kUnderlayMtu = 1500;
inline constexpr unsigned kOverlayMtu = kUnderlayMtu - 50;  // VXLAN over IPv4
inline constexpr char kContainerA[] = "198.18.0.11";
inline constexpr char kContainerB[] = "198.18.0.12";

class VxlanUnderlay {
 public:
  // `napi_cpu` >= 0: host B's underlay NAPI in a kthread pinned there (host
  // B's receive work on a core of its own, as on a second machine).
  static absl::StatusOr<std::unique_ptr<VxlanUnderlay>> Build(const std::string& tag, int napi_cpu);
  ~VxlanUnderlay();

  // 0: host A (the sender), 1: host B.
  const std::string& host(int i) const { return hosts_[i]; }
  // What the JSON says about it.
  std::string Describe() const;

 private:
  VxlanUnderlay() = default;
  std::vector<std::string> hosts_;
};

// One system's layer over an underlay: the two containers, their ports, the
// injector in container A. Removing it leaves the VXLAN devices as they were.
class VxlanContainers {
 public:
  // `system`: kVnet (attach with defaults), kVnetTc (attach --xdp-mode
  // none) or kMacvlan.
  static absl::StatusOr<std::unique_ptr<VxlanContainers>> Build(const VxlanUnderlay& underlay, System system,
                                                                const std::string& tag);
  ~VxlanContainers();

  const Device& container(int i) const { return containers_[i]; }  // eth0 in cA / cB
  const Device& injector() const { return injector_; }             // gi in cA
  // vnet: the XDP mode attach chose on the VXLAN device; else empty.
  const std::string& xdp_mode() const { return xdp_mode_; }

 private:
  VxlanContainers() = default;
  std::vector<std::string> namespaces_;
  std::vector<std::pair<std::string, std::string>> fabrics_;  // (fabric, host)
  std::vector<Device> containers_;
  Device injector_;
  std::unique_ptr<Redirect> redirect_;
  std::string xdp_mode_;
};

// Packets a device counted (ip -s), read in `netns`.
struct LinkPackets {
  std::uint64_t rx = 0, tx = 0, rx_dropped = 0, tx_dropped = 0;
};
absl::StatusOr<LinkPackets> ReadLinkPackets(const std::string& netns, const std::string& dev);

// UDP datagrams the namespace's stack took in: InDatagrams (to a socket)
// plus NoPorts (valid, no socket); a datagram dropped before UDP (bad
// header, wrong MAC, never arrived) is in neither.
absl::StatusOr<std::uint64_t> ReadUdpDelivered(const std::string& netns);

}  // namespace vnet::bench

#endif
