// apply's decision, kept apart from its effects: the running fabrics and the
// file go in, the ordered list of actions comes out. Plan() reads nothing
// and changes nothing, so `apply --dry-run` prints exactly what `apply`
// would do, and unit tests cover every decision without a kernel.
#ifndef VNET_FABRIC_PLAN_H
#define VNET_FABRIC_PLAN_H

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fabric/config_file.h"
#include "fabric/types.h"

namespace vnet {

// A running port, as apply sees it.
struct RunningPort {
  PortInfo info;
  std::string identity;  // same form as DesiredPort::Identity()
  bool healthy = true;   // fully published and attached
  // The addresses on the container side vnet configures (an ipvlan port it
  // created): where the prefix lengths are, which the tables do not hold.
  std::optional<std::vector<IpPrefix>> peer_addresses;
};

struct RunningFabric {
  FabricInfo info;
  std::vector<RunningPort> ports;
  bool healthy = true;
};

// One step. `text` is what apply reports and --dry-run prints; the other
// fields are what Execute needs (the pointers point into the DesiredState
// given to Plan, which must outlive the actions).
struct PlanAction {
  enum class Kind {
    kDetachFabric,   // fabric
    kAttachFabric,   // want_fabric
    kSetPolicy,      // fabric, policy
    kRemovePort,     // dev
    kChangePort,     // change
    kSetSources,     // dev, want_port (its sources)
    kRemoveAddress,  // dev, ip
    kSetAddress,     // dev, ip (a new prefix length on the container side)
    kAddAddress,     // dev, ip
    kAddPort,        // want_port
    kRemoveRemote,   // fabric, remote (a VXLAN fabric's)
    kAddRemote,      // fabric, remote
  };
  Kind kind;
  std::string text;
  std::string fabric;
  std::string dev;
  const DesiredFabric* want_fabric = nullptr;
  const DesiredPort* want_port = nullptr;
  FabricPolicy policy;
  PortChange change;
  PortIp ip;
  IpAddress remote;
};

// An ipvlan port's addresses that differ from the file's: what to remove,
// what to add, and addresses the port has whose prefix length on the
// container side differs (`peer_addresses`: what is configured there, for
// ports vnet created; without it prefix lengths are not compared). Learned
// and link-local addresses are not the file's business.
struct IpDiff {
  std::vector<PortIp> remove, add, relength;
};
IpDiff DiffIps(const std::vector<PortIp>& want, const std::vector<PortAddress>& have,
               const std::optional<std::vector<IpPrefix>>& peer_addresses);

// What makes `running` into `desired`, in order: fabrics that must go
// (not in the file, broken, attached differently), then per fabric of the
// file: the fabric itself (attach or policies), port removals (before any
// addition, so a MAC can move), a VXLAN fabric's remotes (removals, then
// additions: only the ones that differ), changes, address removals, new lengths,
// address additions, new ports. `uplinks`: the file's uplink devices that
// exist, by name, with their kind ("veth", ...).
std::vector<PlanAction> Plan(const DesiredState& desired, const std::vector<RunningFabric>& running,
                             const std::map<std::string, std::string>& uplinks);

}  // namespace vnet

#endif
