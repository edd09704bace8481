// The table steps of port add, apart from the devices: what a new port writes
// to its fabric's tables, in the order the datapath needs, each step undone
// on failure. On TablesBackend, so unit tests run it against memory.
#ifndef VNET_FABRIC_PORT_RECORD_H
#define VNET_FABRIC_PORT_RECORD_H

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/ip_address.h"
#include "base/mac_address.h"
#include "fabric/types.h"
#include "fabric/undo.h"
#include "maps/tables_backend.h"

namespace vnet {

struct NewPortRecord {
  std::uint32_t ifindex = 0;
  vnet_port port{};
  std::vector<IpPrefix> allow_ips;
  std::vector<MacAddress> sources;
  std::optional<IpAddress> link_local;  // an ipvlan port's, given by vnet
  std::vector<PortIp> ips;
  std::uint32_t storm_limit = 0;  // pps; 0: none
};

// Clears the slot's counters, sets its storm limit (none for 0: nothing of
// the slot's last port stays), writes the allow list before the port entry
// whose flag points at it, the port entry (the port program must know its
// port before the first frame), then runs `listen` (the caller attaches the
// port program and pushes its own undo), then the source list and addresses,
// and publishes last (MAC entry, flood list, fabric flags): from then on the
// wire side delivers to it. `what` names the command in errors.
absl::Status RecordNewPort(TablesBackend& tables, const NewPortRecord& record, Undo& undo,
                           const std::function<absl::Status()>& listen, const std::string& what);

}  // namespace vnet

#endif
