// The Fabric handle: one fabric of the calling thread's network namespace,
// opened once for an operation, with the operations on it as methods. It
// holds the fabric's name, one netlink socket and the index of the
// namespace's fabrics (FabricIndexScope), so the port operations of one
// command (or of a plugin's ADD) resolve, scan and talk to the kernel once.
//
// Open a handle per operation, not per process: its index is a snapshot of
// the fabrics; Attach, Detach and Reload rescan it. A handle is used on the
// thread that opened it (the index and the netns are per thread).
//
// Errors name the command and the object as vnetctl prints them ("port del
// veth9: not a port of any fabric"). Where a device names its fabric, the
// handle refuses a device of another fabric.
#ifndef VNET_FABRIC_HANDLE_H
#define VNET_FABRIC_HANDLE_H

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabric/fabric.h"  // ReloadReport
#include "fabric/types.h"

namespace vnet {

class Fabric {
 public:
  // Attaches a fabric to `options.uplink` and opens it; `made` (if given)
  // gets what attach set up, as `vnetctl attach -j` prints it. With
  // `options.vxlan` it first creates the VXLAN device (vx<VNI>) on the
  // underlay and attaches to that; a failure leaves no device behind, and
  // Detach removes it.
  static absl::StatusOr<Fabric> Attach(const AttachOptions& options, FabricInfo* made = nullptr);
  // A fabric by its name or its uplink's name. NotFound:
  // "NAME: no fabric by that name or uplink" (the caller puts its command in front).
  static absl::StatusOr<Fabric> Open(absl::string_view name_or_uplink);
  // The fabric that `dev` is a port or the uplink of. NotFound:
  // "DEV: no such device", "DEV: not a port of any fabric".
  static absl::StatusOr<Fabric> OfDevice(absl::string_view dev);

  Fabric(Fabric&&) noexcept;
  Fabric& operator=(Fabric&&) noexcept;
  ~Fabric();

  const std::string& name() const { return name_; }

  // `options.fabric` is ignored: the port goes on this fabric.
  absl::StatusOr<PortInfo> AddPort(PortOptions options);
  absl::Status DeletePort(absl::string_view dev);
  absl::StatusOr<PortInfo> ChangePort(const PortChange& change);
  // Forgets ports whose device was deleted behind vnet's back; how many.
  absl::StatusOr<int> PruneGonePorts();

  // Addresses of ipvlan ports (`plen_given`: a delete without /PLEN matches any).
  absl::Status AddAddress(absl::string_view dev, const PortIp& ip);
  absl::Status DeleteAddress(absl::string_view dev, const PortIp& ip, bool plen_given);
  absl::Status FlushAddresses(absl::string_view dev);
  // Source-mode lists of macvlan ports.
  absl::Status AddSource(absl::string_view dev, const MacAddress& mac);
  absl::Status DeleteSource(absl::string_view dev, const MacAddress& mac);
  absl::Status FlushSources(absl::string_view dev);

  // VXLAN fabrics (the uplink is a VXLAN device, made by `Attach` with
  // `options.vxlan` or by the user): the remote hosts of the head-end
  // replication list. Each call appends or deletes one remote and leaves the
  // others' traffic alone; a deleted remote's learned MACs are forgotten.
  // FailedPrecondition "vxlan remote add F ADDR: not a VXLAN fabric ...",
  // AlreadyExists for a duplicate, NotFound for an unknown remote,
  // InvalidArgument for a remote of the other family than the local address.
  absl::Status AddRemote(const IpAddress& remote);
  absl::Status DeleteRemote(const IpAddress& remote);
  // Sorted.
  absl::StatusOr<std::vector<IpAddress>> Remotes();

  // Changes the fabric's policies in place (see SetFabricPolicy in fabric.h).
  absl::Status SetPolicy(const FabricPolicy& policy);
  absl::StatusOr<FabricInfo> Describe();
  // Describe without the ports: policies, uplink and state (cheap at any size).
  absl::StatusOr<FabricInfo> Settings();
  // Counters of the uplink and every port.
  absl::StatusOr<std::vector<Counters>> ReadCounters();
  // Replaces the running programs with this build's, keeping the tables.
  absl::StatusOr<ReloadReport> Reload();
  // For benchmarks of table sizes: entries that deliver where the entry of
  // `like` delivers, under other keys (MACs, or addresses), with no port of
  // their own. NotFound when `like` has no entry.
  absl::Status CopyMacEntry(const MacAddress& like, const std::vector<MacAddress>& macs);
  absl::Status CopyIpEntry(const IpAddress& like, const std::vector<IpAddress>& ips);

  // Removes the fabric: its ports, attachments and pins. The handle is spent.
  absl::Status Detach() &&;

 struct Opened;  // what the handle holds open (handle.cc)

 private:
  Fabric(std::string name, std::unique_ptr<Opened> opened);
  // FailedPrecondition when `dev` is a port or uplink of another fabric;
  // anything else is left to the operation, which words it as before.
  absl::Status CheckOwns(absl::string_view dev, absl::string_view command);

  std::string name_;
  std::unique_ptr<Opened> opened_;
};

}  // namespace vnet

#endif
