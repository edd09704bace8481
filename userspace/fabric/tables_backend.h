// The seam between fabric logic and the datapath's tables: TablesBackend
// (maps/tables_backend.h), the reads and writes of port add, set, del, the
// source lists, addresses and the port rules. FabricMaps is the backend over
// a fabric's pinned maps; tests/unit/memory_tables.h is one in memory, so the
// rules and the table steps run in unit tests without a kernel.
#ifndef VNET_FABRIC_TABLES_BACKEND_H
#define VNET_FABRIC_TABLES_BACKEND_H

#include "maps/fabric_maps.h"
#include "maps/tables_backend.h"

namespace vnet {

// A fabric's pinned maps seen through the seam (what the rules take).
inline const TablesBackend& MapsTables(const FabricMaps& maps) { return maps; }
inline TablesBackend& MapsTables(FabricMaps& maps) { return maps; }

}  // namespace vnet

#endif
