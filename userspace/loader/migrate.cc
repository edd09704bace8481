#include "loader/migrate.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstdio>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "loader/checkpoint.h"
#include "base/errors.h"
#include "loader/pins.h"
#include "vnet/abi.h"
#include "port.skel.h"
#include "uplink.skel.h"

namespace vnet {
namespace {

constexpr char kOldSuffix[] = "_old";  // bpffs refuses names with dots

struct MapDef {
  std::uint32_t type = 0, key_size = 0, value_size = 0, max_entries = 0, flags = 0;
};

std::string Describe(const MapDef& d) {
  return absl::StrCat("type ", d.type, ", key ", d.key_size, " B, value ", d.value_size, " B, ", d.max_entries,
                      " entries, flags 0x", absl::Hex(d.flags));
}

void CollectDefs(bpf_object* obj, std::map<std::string, MapDef>& defs) {
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    defs[bpf_map__name(map)] = MapDef{static_cast<std::uint32_t>(bpf_map__type(map)), bpf_map__key_size(map),
                                      bpf_map__value_size(map), bpf_map__max_entries(map), bpf_map__map_flags(map)};
  }
}

// This build's map definitions, read from the embedded objects without loading them.
absl::StatusOr<std::map<std::string, MapDef>> BuildDefs() {
  std::map<std::string, MapDef> defs;
  std::unique_ptr<uplink_bpf, void (*)(uplink_bpf*)> uplink(uplink_bpf__open(), uplink_bpf__destroy);
  if (!uplink) return ErrnoStatus(errno, "open", "this build's uplink programs");
  std::unique_ptr<port_bpf, void (*)(port_bpf*)> port(port_bpf__open(), port_bpf__destroy);
  if (!port) return ErrnoStatus(errno, "open", "this build's port program");
  CollectDefs(uplink->obj, defs);
  CollectDefs(port->obj, defs);
  return defs;
}

bool IsPerCpu(std::uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

bool IsArray(std::uint32_t type) { return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY; }

std::uint32_t Round8(std::uint32_t n) { return (n + 7) & ~7u; }

// kGrow: the same map whose value grew at the end: copied, zero-extended.
// kConvert: another map type (a single-entry array that became a hash map
// replaced whole, say): copied entry by entry, the value zero-extended.
// kRecreate: created anew, empty (transient, or refilled by the caller).
enum class MapPolicy { kGrow, kConvert, kRecreate };
struct MapRule {
  const char* name;
  std::uint32_t below_abi;  // applies to fabrics made by an ABI below this
  MapPolicy policy;
};

// What changed, map by map. A changed map is one line here; a new map none.
// (`below_abi` lets a map whose bytes keep their size but change meaning be
// recreated from the fabrics that predate the change.)
constexpr MapRule kMapRules[] = {
    {VNET_MAP_STATS, VNET_ABI_VERSION, MapPolicy::kGrow},      // 3: +5 drop reasons, 5: +2, 6: +1 (storm)
    {VNET_MAP_DHCP, VNET_ABI_VERSION, MapPolicy::kRecreate},   // transactions in flight: transient
    {VNET_MAP_MAC_FRONT, VNET_ABI_VERSION, MapPolicy::kRecreate},  // a cache of vnet_macs: refilled
    {VNET_MAP_CONFIG, VNET_ABI_VERSION, MapPolicy::kConvert},  // 5: an array became a hash map replaced whole
    {VNET_MAP_FLOOD, VNET_ABI_VERSION, MapPolicy::kRecreate},  // 5: one list value; rebuilt from vnet_ports
};

const MapRule* RuleFor(const std::string& name, std::uint32_t from_abi) {
  for (const auto& rule : kMapRules)
    if (name == rule.name && from_abi < rule.below_abi) return &rule;
  return nullptr;
}

}  // namespace

MapMigration::MapMigration(MapMigration&& other) noexcept
    : fabric_(std::move(other.fabric_)),
      maps_(std::move(other.maps_)),
      created_(std::move(other.created_)),
      active_(std::exchange(other.active_, false)),
      committed_(other.committed_) {}

MapMigration& MapMigration::operator=(MapMigration&& other) noexcept {
  if (this != &other) {
    if (active_) Rollback();
    fabric_ = std::move(other.fabric_);
    maps_ = std::move(other.maps_);
    created_ = std::move(other.created_);
    active_ = std::exchange(other.active_, false);
    committed_ = other.committed_;
  }
  return *this;
}

MapMigration::~MapMigration() {
  if (active_) Rollback();
}

absl::StatusOr<MapMigration> MapMigration::Prepare(const std::string& fabric, std::uint32_t from_abi) {
  VNET_ASSIGN_OR_RETURN(auto defs, BuildDefs());
  // An earlier migration killed before its commit left maps aside: take them back.
  VNET_RETURN_IF_ERROR(RollBackSetAside(fabric));
  MapMigration migration;
  migration.fabric_ = fabric;
  for (auto& [name, want] : defs) {
    std::string path = FabricPinPath(fabric, name);
    auto fd = OpenPinned(path);
    if (!fd.ok()) {
      migration.created_.push_back(path);  // new in this build: the load creates it
      continue;
    }
    bpf_map_info info{};
    std::uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd->get(), &info, &len) != 0) return ErrnoStatus(errno, "inspect pinned map", path);
    // The kernel forces program-side access flags on some maps (a devmap
    // is always BPF_F_RDONLY_PROG): not part of the layout.
    constexpr std::uint32_t kKernelSet = BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG;
    MapDef have{info.type, info.key_size, info.value_size, info.max_entries, info.map_flags & ~kKernelSet};
    want.flags &= ~kKernelSet;
    bool same = have.type == want.type && have.key_size == want.key_size && have.value_size == want.value_size &&
                have.max_entries == want.max_entries && have.flags == want.flags;
    const MapRule* rule = RuleFor(name, from_abi);
    if (same && (!rule || rule->policy == MapPolicy::kGrow)) continue;
    bool grows = have.type == want.type && have.key_size == want.key_size && have.max_entries == want.max_entries &&
                 have.flags == want.flags && have.value_size <= want.value_size;
    bool converts = have.key_size == want.key_size && have.value_size <= want.value_size;
    if (!rule || (rule->policy == MapPolicy::kGrow && !grows) || (rule->policy == MapPolicy::kConvert && !converts))
      return absl::FailedPreconditionError(absl::StrCat("migrate map ", name, " of fabric ", fabric, ": pinned (",
                                                        Describe(have), ") cannot become this build's (",
                                                        Describe(want), ")"));
    Map m;
    m.name = name;
    m.old_fd = std::move(*fd);
    m.copy = rule->policy != MapPolicy::kRecreate;
    m.type = have.type;
    m.key_size = have.key_size;
    m.old_value_size = have.value_size;
    m.new_value_size = want.value_size;
    m.max_entries = have.max_entries;
    migration.maps_.push_back(std::move(m));
  }
  migration.active_ = true;
  // The running programs hold their maps by fd: renaming pins leaves them be.
  for (const auto& m : migration.maps_) {
    std::string path = FabricPinPath(fabric, m.name);
    if (::rename(path.c_str(), (path + kOldSuffix).c_str()) != 0)
      return ErrnoStatus(errno, "set aside pinned map", path);
    Checkpoint("migrate: a map set aside");
  }
  return migration;
}

absl::Status MapMigration::Copy() {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return ErrnoStatus(-cpus, "count possible CPUs for migrating fabric", fabric_);
  for (auto& m : maps_) {
    if (!m.copy) continue;  // recreated empty
    std::string path = FabricPinPath(fabric_, m.name);
    VNET_ASSIGN_OR_RETURN(UniqueFd new_fd, OpenPinned(path));
    std::uint32_t copies = IsPerCpu(m.type) ? static_cast<std::uint32_t>(cpus) : 1;
    std::uint32_t old_stride = copies > 1 ? Round8(m.old_value_size) : m.old_value_size;
    std::uint32_t new_stride = copies > 1 ? Round8(m.new_value_size) : m.new_value_size;
    std::vector<std::uint8_t> key(m.key_size), next(m.key_size), old_value(old_stride * copies),
        new_value(new_stride * copies);
    auto move_one = [&](const void* k) -> absl::Status {
      if (bpf_map_lookup_elem(m.old_fd.get(), k, old_value.data()) != 0) return absl::OkStatus();  // gone meanwhile
      std::fill(new_value.begin(), new_value.end(), 0);
      for (std::uint32_t c = 0; c < copies; ++c)
        std::memcpy(&new_value[c * new_stride], &old_value[c * old_stride], m.old_value_size);
      if (m.type == BPF_MAP_TYPE_PERCPU_ARRAY) m.snapshot.insert(m.snapshot.end(), old_value.begin(), old_value.end());
      if (bpf_map_update_elem(new_fd.get(), k, new_value.data(), BPF_ANY) != 0)
        return ErrnoStatus(errno, "copy an entry into migrated map", path);
      return absl::OkStatus();
    };
    if (IsArray(m.type)) {
      for (std::uint32_t i = 0; i < m.max_entries; ++i) VNET_RETURN_IF_ERROR(move_one(&i));
      continue;
    }
    const void* prev = nullptr;
    while (bpf_map_get_next_key(m.old_fd.get(), prev, next.data()) == 0) {
      VNET_RETURN_IF_ERROR(move_one(next.data()));
      key = next;
      prev = key.data();
    }
  }
  return absl::OkStatus();
}

absl::Status MapMigration::Finish() {
  int cpus = libbpf_num_possible_cpus();
  for (auto& m : maps_) {
    if (!m.copy || m.type != BPF_MAP_TYPE_PERCPU_ARRAY || cpus <= 0) continue;
    // Counters the old programs kept incrementing between Copy and the swap.
    std::string path = FabricPinPath(fabric_, m.name);
    VNET_ASSIGN_OR_RETURN(UniqueFd new_fd, OpenPinned(path));
    std::uint32_t old_stride = Round8(m.old_value_size), new_stride = Round8(m.new_value_size);
    std::size_t entry_bytes = static_cast<std::size_t>(old_stride) * cpus;
    std::vector<std::uint8_t> now(entry_bytes), value(static_cast<std::size_t>(new_stride) * cpus);
    for (std::uint32_t i = 0; i < m.max_entries && (i + 1) * entry_bytes <= m.snapshot.size(); ++i) {
      if (bpf_map_lookup_elem(m.old_fd.get(), &i, now.data()) != 0) continue;
      if (bpf_map_lookup_elem(new_fd.get(), &i, value.data()) != 0) continue;
      const std::uint8_t* then = &m.snapshot[i * entry_bytes];
      if (std::memcmp(then, now.data(), entry_bytes) == 0) continue;
      for (int c = 0; c < cpus; ++c) {
        for (std::uint32_t w = 0; w + 8 <= m.old_value_size; w += 8) {
          std::uint64_t a, b, v;
          std::memcpy(&a, then + c * old_stride + w, 8);
          std::memcpy(&b, &now[c * old_stride + w], 8);
          std::memcpy(&v, &value[c * new_stride + w], 8);
          v += b - a;
          std::memcpy(&value[c * new_stride + w], &v, 8);
        }
      }
      (void)bpf_map_update_elem(new_fd.get(), &i, value.data(), BPF_ANY);
    }
  }
  Checkpoint("migrate: counters merged");
  active_ = false;
  return DropSetAside(fabric_);
}

void MapMigration::Rollback() {
  if (committed_) return;  // the new programs may run: the next command finishes (DropSetAside)
  (void)RollBackSetAside(fabric_);
  for (const auto& path : created_) (void)Unpin(path);
  active_ = false;
}

std::vector<std::string> SetAsidePins(const std::string& fabric) {
  std::vector<std::string> out;
  constexpr std::size_t n = sizeof(kOldSuffix) - 1;
  for (const auto& pin : ListPins(fabric))
    if (pin.size() > n && pin.compare(pin.size() - n, n, kOldSuffix) == 0) out.push_back(pin);
  return out;
}

absl::Status RollBackSetAside(const std::string& fabric) {
  for (const auto& pin : SetAsidePins(fabric)) {
    std::string aside = FabricPinPath(fabric, pin);
    std::string path = aside.substr(0, aside.size() - (sizeof(kOldSuffix) - 1));
    VNET_RETURN_IF_ERROR(Unpin(path));  // the new map, if the load got that far
    if (::rename(aside.c_str(), path.c_str()) != 0) return ErrnoStatus(errno, "put back pinned map", path);
  }
  return absl::OkStatus();
}

absl::Status DropSetAside(const std::string& fabric) {
  for (const auto& pin : SetAsidePins(fabric)) {
    VNET_RETURN_IF_ERROR(Unpin(FabricPinPath(fabric, pin)));
    Checkpoint("migrate: an old map dropped");
  }
  return absl::OkStatus();
}

std::vector<std::string> MapMigration::names() const {
  std::vector<std::string> out;
  for (const auto& m : maps_) out.push_back(m.name);
  return out;
}

absl::Status ConvertPortFlags(const std::string& fabric, std::uint32_t from_abi) {
  if (from_abi >= 5) return absl::OkStatus();
  constexpr std::uint8_t kAbi4HeldDown = 1u << 6;
  std::string path = FabricPinPath(fabric, VNET_MAP_PORTS);
  VNET_ASSIGN_OR_RETURN(UniqueFd fd, OpenPinned(path));
  std::uint32_t key = 0, next = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd.get(), prev, &next) == 0) {
    vnet_port port{};
    if (bpf_map_lookup_elem(fd.get(), &next, &port) == 0 && (port.flags & kAbi4HeldDown)) {
      port.flags = static_cast<std::uint8_t>(port.flags & ~kAbi4HeldDown);
      port.pad = static_cast<std::uint16_t>(port.pad | VNET_PORT_PAD_HELD_DOWN);
      if (bpf_map_update_elem(fd.get(), &next, &port, BPF_EXIST) != 0)
        return ErrnoStatus(errno, "move the held-down mark of a port in", path);
    }
    key = next;
    prev = &key;
  }
  return absl::OkStatus();
}

}  // namespace vnet
