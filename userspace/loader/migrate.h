// Migrating a live fabric's pinned maps to this build's layouts, for `vnetctl
// reload` across an ABI change. Only growth at the end of a value is
// migrated (a struct gained fields, e.g. new drop counters): the old
// contents are copied into a new map zero-extended. Any other difference is
// refused, naming the map. The steps keep the running datapath untouched
// until the caller swaps programs:
//   Prepare: set the old maps' pins aside (running programs keep their maps);
//   the caller loads the new programs, which create and pin fresh maps;
//   Copy: old contents into the new maps;
//   the caller swaps the programs;
//   Finish: add what the old programs counted meanwhile, drop the old maps.
// Destroyed before Finish, it rolls back: the new pins go, the old come back.
#ifndef VNET_LOADER_MIGRATE_H
#define VNET_LOADER_MIGRATE_H

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "loader/unique_fd.h"

namespace vnet {

class MapMigration {
 public:
  static absl::StatusOr<MapMigration> Prepare(const std::string& fabric);
  MapMigration(MapMigration&&) noexcept;
  MapMigration& operator=(MapMigration&&) noexcept;
  ~MapMigration();

  absl::Status Copy();
  absl::Status Finish();
  // Names of the maps being migrated (for the report).
  std::vector<std::string> names() const;

 private:
  struct Map {
    std::string name;
    UniqueFd old_fd;
    std::uint32_t type = 0, key_size = 0, old_value_size = 0, new_value_size = 0, max_entries = 0;
    std::vector<std::uint8_t> snapshot;  // per-CPU arrays: the old values at Copy time
  };
  MapMigration() = default;
  void Rollback();

  std::string fabric_;
  std::vector<Map> maps_;
  std::vector<std::string> created_;  // pins this build's load may add (new maps)
  bool active_ = false;
};

}  // namespace vnet

#endif
