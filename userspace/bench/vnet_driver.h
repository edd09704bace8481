// Every call vnet-bench makes into libvnet, in one file: attaching and
// detaching fabrics, adding and deleting ports, `show` and `stats`, and the
// table fills of the table-size cases. Each call runs in the named network
// namespace the fabric lives in (libvnet works in the caller's), and the
// calls that change state hold the control lock and settle interrupted
// operations first, as vnetctl does for each command.
#ifndef VNET_BENCH_VNET_DRIVER_H
#define VNET_BENCH_VNET_DRIVER_H

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "base/mac_address.h"

namespace vnet::bench {

struct VnetAttachRequest {
  std::string uplink;
  std::string fabric;
  bool ipvlan_l2 = false;     // an ipvlan fabric in l2 mode (else macvlan)
  bool unknown_drop = false;  // --unknown drop
  std::optional<bool> xdp_redirect;
  bool xdp_off = false;       // --xdp-mode none: the tc programs only
};

struct VnetPortRequest {
  std::string fabric;
  std::string netns;           // the veth pair's peer goes here
  std::string ifname = "eth0";
  std::string ip;              // an ipvlan port's ADDR/PLEN; empty: a bridge-mode macvlan port
};

class VnetDriver {
 public:
  // `host`: the named netns (/run/netns/HOST) the fabrics live in.
  explicit VnetDriver(std::string host) : host_(std::move(host)) {}

  absl::Status Attach(const VnetAttachRequest& request) const;
  absl::Status Detach(const std::string& fabric) const;
  // Returns the port's host-side device.
  absl::StatusOr<std::string> AddPort(const VnetPortRequest& request) const;
  absl::Status DeletePort(const std::string& dev) const;
  // `show`: the ports of every fabric here.
  absl::StatusOr<std::size_t> Show() const;
  // `stats`: the number of counter rows (uplinks and ports).
  absl::StatusOr<std::size_t> Stats() const;
  // The XDP mode the fabric's uplink runs in ("native", "generic", "none").
  absl::StatusOr<std::string> UplinkXdpMode(const std::string& fabric) const;
  // Unknown-destination drops counted on the fabric's uplink.
  absl::StatusOr<std::uint64_t> UnknownDrops(const std::string& fabric) const;

  // The table-size cases: `n` MACs base+0..n-1 (or IPv4 addresses, host byte
  // order) leading where `like` (c1's MAC, or its address) leads.
  absl::Status FillMacs(const std::string& fabric, const MacAddress& like, const MacAddress& base,
                        std::uint32_t n) const;
  absl::Status FillIps(const std::string& fabric, const std::string& like, std::uint32_t base,
                       std::uint32_t n) const;

  const std::string& host() const { return host_; }

 private:
  std::string host_;
};

// Removes a fabric whatever state it is in (detach in `host` if that netns
// still exists, else by its pins); for the exit path.
void RemoveVnetFabric(const std::string& fabric, const std::string& host);

// A MAC `i` past `base` (the low 24 bits count).
MacAddress OffsetMac(const MacAddress& base, std::uint32_t i);

}  // namespace vnet::bench

#endif
