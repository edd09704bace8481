// Migrating a live fabric's pinned maps to this build's layouts, for `vnetctl
// reload` across an ABI change. What happens to each map whose layout or
// meaning changed is one line of kMapRules (migrate.cc):
//   kGrow      the value grew at the end (new counters): the old contents are
//              copied into a new map zero-extended, per-CPU values per CPU;
//   kRecreate  transient or derived state (DHCP transactions in flight, the
//              MAC cache): a new empty map; derived ones are refilled after
//              the switch (RefillDerivedMaps in fabric/reload.cc).
// A map new in this build needs no line: the load creates it empty. A map
// whose layout differs and has no line is refused, naming it.
// The steps keep the running datapath untouched until the caller swaps
// programs:
//   Prepare: set the old maps' pins aside as NAME_old (running programs keep
//   their maps); the caller loads the new programs, which create and pin
//   fresh maps;
//   Copy: old contents into the new maps;
//   the caller commits (stamps this ABI in vnet_config) and swaps the programs;
//   Finish: add what the old programs counted meanwhile, drop the old maps.
// Destroyed before the commit, it rolls back: the new pins go, the old come
// back. A process killed on the way leaves NAME_old pins, which the next
// command resolves (RollBackSetAside before the commit, DropSetAside after).
#ifndef VNET_LOADER_MIGRATE_H
#define VNET_LOADER_MIGRATE_H

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace vnet {

class MapMigration {
 public:
  static absl::StatusOr<MapMigration> Prepare(const std::string& fabric, std::uint32_t from_abi);
  MapMigration(MapMigration&&) noexcept;
  MapMigration& operator=(MapMigration&&) noexcept;
  ~MapMigration();

  absl::Status Copy();
  // From here on the destructor no longer rolls back: the caller has
  // stamped the new ABI and is switching programs.
  void Commit() { committed_ = true; }
  absl::Status Finish();
  // Names of the maps being migrated (for the report).
  std::vector<std::string> names() const;

 private:
  struct Map {
    std::string name;
    UniqueFd old_fd;
    bool copy = true;  // kGrow (false: kRecreate, left empty)
    std::uint32_t type = 0, key_size = 0, old_value_size = 0, new_value_size = 0, max_entries = 0;
    std::vector<std::uint8_t> snapshot;  // per-CPU arrays: the old values at Copy time
  };
  MapMigration() = default;
  void Rollback();

  std::string fabric_;
  std::vector<Map> maps_;
  std::vector<std::string> created_;  // pins this build's load may add (new maps)
  bool active_ = false, committed_ = false;
};

// Pins set aside by a migration a killed vnetctl left (NAME_old).
std::vector<std::string> SetAsidePins(const std::string& fabric);
// Before the commit: the old maps go back under their names (the new ones,
// if the load pinned them, are unpinned). The old programs never stopped
// using them.
absl::Status RollBackSetAside(const std::string& fabric);
// After the commit (the new programs have taken or will take over): the old
// maps are dropped.
absl::Status DropSetAside(const std::string& fabric);

// ABI 4 -> 5: `vnetctl monitor`'s held-down mark moves from bit 6 of
// vnet_port.flags (VNET_PORT_F_ALLOW_IP since ABI 5) to bit 0 of
// vnet_port.pad. Idempotent; a no-op for fabrics of ABI 5 on.
absl::Status ConvertPortFlags(const std::string& fabric, std::uint32_t from_abi);

}  // namespace vnet

#endif
