#include "loader/underlay_guard.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "loader/libbpf_log.h"
#include "loader/links.h"
#include "loader/pins.h"
#include "underlay.skel.h"

namespace vnet {
namespace {

absl::StatusOr<UniqueFd> OpenGuardPin(const std::string& fabric, const char* name) {
  std::string path = FabricPinPath(fabric, name);
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd.valid()) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("fabric ", fabric, " has no underlay guard (", name, ")"));
    return ErrnoStatus(errno, "open pinned", path);
  }
  return fd;
}

}  // namespace

std::vector<std::string> UnderlayGuardPinNames() {
  return {VNET_PIN_GUARD_LINK, VNET_GUARD_MAP_CFG, VNET_GUARD_MAP_REMOTES, VNET_GUARD_MAP_STATS};
}

bool UnderlayGuardPinned(absl::string_view fabric) {
  for (const auto& pin : ListPins(fabric))
    for (const auto& name : UnderlayGuardPinNames())
      if (pin == name) return true;
  return false;
}

void UnderlayGuardProgram::Deleter::operator()(underlay_bpf* s) const { underlay_bpf__destroy(s); }
UnderlayGuardProgram::UnderlayGuardProgram(UnderlayGuardProgram&&) noexcept = default;
UnderlayGuardProgram& UnderlayGuardProgram::operator=(UnderlayGuardProgram&&) noexcept = default;
UnderlayGuardProgram::~UnderlayGuardProgram() = default;

absl::StatusOr<UnderlayGuardProgram> UnderlayGuardProgram::Load(const std::string& fabric) {
  CaptureLibbpfLog();
  (void)TakeLibbpfWarning();
  // libbpf pins the maps by name under the fabric's directory, or reuses them.
  std::string pin_root = FabricPinDir(fabric);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root.c_str());
  UnderlayGuardProgram program;
  program.skel_.reset(underlay_bpf__open_opts(&opts));
  if (!program.skel_) return LibbpfError(errno, "open underlay guard for fabric", fabric);
  if (int err = underlay_bpf__load(program.skel_.get()))
    return LibbpfError(err, "load underlay guard for fabric", fabric);
  return program;
}

int UnderlayGuardProgram::prog_fd() const { return bpf_program__fd(skel_->progs.vnet_underlay_guard); }

absl::Status AttachUnderlayGuard(const std::string& fabric, int prog_fd, int ifindex, absl::string_view ifname,
                                 bool cls_bpf, std::uint32_t vni) {
  if (cls_bpf)
    return AttachClsBpfAt(prog_fd, ifindex, ifname, TcDirection::kIngress, VNET_GUARD_CLS_HANDLE_BASE | vni,
                          VNET_GUARD_CLS_PRIORITY);
  VNET_ASSIGN_OR_RETURN(UniqueFd link, AttachTcx(prog_fd, ifindex, ifname, TcDirection::kIngress));
  // Pinned, the link keeps the guard attached after this process exits;
  // closing our fd without a pin detaches it.
  return PinFd(link.get(), FabricPinPath(fabric, VNET_PIN_GUARD_LINK));
}

absl::Status DetachUnderlayGuard(const std::string& fabric, int ifindex, absl::string_view ifname, bool cls_bpf,
                                 std::uint32_t vni) {
  if (cls_bpf)
    return DetachClsBpfAt(ifindex, ifname, TcDirection::kIngress, VNET_GUARD_CLS_HANDLE_BASE | vni,
                          VNET_GUARD_CLS_PRIORITY);
  // Detach the link itself first: dropping its last reference (the pin)
  // frees it later, from a workqueue, and the caller wants it gone now.
  std::string path = FabricPinPath(fabric, VNET_PIN_GUARD_LINK);
  UniqueFd link(bpf_obj_get(path.c_str()));
  if (!link.valid() && errno != ENOENT) return ErrnoStatus(errno, "open pinned", path);
  if (link.valid()) {
    int err = bpf_link_detach(link.get());
    if (err && err != -ENOLINK && err != -ENODEV)
      return ErrnoStatus(err, "detach the tcx link of the underlay guard from", ifname);
  }
  return Unpin(path);
}

absl::Status ReplaceUnderlayGuard(const std::string& fabric, int prog_fd, int ifindex, absl::string_view ifname,
                                  bool cls_bpf, std::uint32_t vni) {
  if (cls_bpf)
    return ReplaceClsBpfAt(prog_fd, ifindex, ifname, TcDirection::kIngress, VNET_GUARD_CLS_HANDLE_BASE | vni,
                           VNET_GUARD_CLS_PRIORITY);
  std::string path = FabricPinPath(fabric, VNET_PIN_GUARD_LINK);
  UniqueFd link(bpf_obj_get(path.c_str()));
  if (!link.valid()) return ErrnoStatus(errno, "open pinned", path);
  return ReplaceLinkProgram(link.get(), prog_fd, absl::StrCat("the underlay guard on ", ifname));
}

absl::StatusOr<std::uint32_t> UnderlayGuardLinkProgram(const std::string& fabric) {
  std::string path = FabricPinPath(fabric, VNET_PIN_GUARD_LINK);
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd.valid()) {
    if (errno == ENOENT) return 0u;
    return ErrnoStatus(errno, "open pinned", path);
  }
  return LinkProgramId(fd.get(), path);
}

absl::StatusOr<UnderlayGuardMaps> UnderlayGuardMaps::Open(const std::string& fabric) {
  UnderlayGuardMaps maps;
  maps.fabric_ = fabric;
  VNET_ASSIGN_OR_RETURN(maps.cfg_, OpenGuardPin(fabric, VNET_GUARD_MAP_CFG));
  VNET_ASSIGN_OR_RETURN(maps.remotes_, OpenGuardPin(fabric, VNET_GUARD_MAP_REMOTES));
  VNET_ASSIGN_OR_RETURN(maps.stats_, OpenGuardPin(fabric, VNET_GUARD_MAP_STATS));
  // A layout check, as FabricMaps does for the fabric's own maps.
  struct Want {
    int fd;
    const char* name;
    std::uint32_t key, value;
  };
  for (const Want& w : {Want{maps.cfg_.get(), VNET_GUARD_MAP_CFG, 4, sizeof(vnet_guard_config)},
                        Want{maps.remotes_.get(), VNET_GUARD_MAP_REMOTES, sizeof(vnet_ip_key), 4},
                        Want{maps.stats_.get(), VNET_GUARD_MAP_STATS, 4, sizeof(vnet_guard_stats)}}) {
    bpf_map_info info{};
    std::uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(w.fd, &info, &len) != 0)
      return ErrnoStatus(errno, "inspect map", FabricPinPath(fabric, w.name));
    if (info.key_size != w.key || info.value_size != w.value)
      return absl::FailedPreconditionError(absl::StrCat("map ", FabricPinPath(fabric, w.name), " has key/value size ",
                                                        info.key_size, "/", info.value_size, ", expected ", w.key,
                                                        "/", w.value));
  }
  return maps;
}

absl::StatusOr<vnet_guard_config> UnderlayGuardMaps::Config() const {
  std::uint32_t zero = 0;
  vnet_guard_config config{};
  if (bpf_map_lookup_elem(cfg_.get(), &zero, &config) != 0)
    return ErrnoStatus(errno, "read", FabricPinPath(fabric_, VNET_GUARD_MAP_CFG));
  return config;
}

absl::Status UnderlayGuardMaps::SetConfig(const vnet_guard_config& config) {
  std::uint32_t zero = 0;
  if (bpf_map_update_elem(cfg_.get(), &zero, &config, BPF_ANY) != 0)
    return ErrnoStatus(errno, "write", FabricPinPath(fabric_, VNET_GUARD_MAP_CFG));
  return absl::OkStatus();
}

absl::Status UnderlayGuardMaps::AddRemote(const vnet_ip_key& key) {
  std::uint32_t one = 1;
  if (bpf_map_update_elem(remotes_.get(), &key, &one, BPF_ANY) != 0)
    return ErrnoStatus(errno, "add a remote to", FabricPinPath(fabric_, VNET_GUARD_MAP_REMOTES));
  return absl::OkStatus();
}

absl::Status UnderlayGuardMaps::DeleteRemote(const vnet_ip_key& key) {
  if (bpf_map_delete_elem(remotes_.get(), &key) != 0)
    return ErrnoStatus(errno, "remove a remote from", FabricPinPath(fabric_, VNET_GUARD_MAP_REMOTES));
  return absl::OkStatus();
}

absl::StatusOr<bool> UnderlayGuardMaps::HasRemote(const vnet_ip_key& key) const {
  std::uint32_t value = 0;
  if (bpf_map_lookup_elem(remotes_.get(), &key, &value) == 0) return true;
  if (errno == ENOENT) return false;
  return ErrnoStatus(errno, "look up a remote in", FabricPinPath(fabric_, VNET_GUARD_MAP_REMOTES));
}

absl::StatusOr<std::vector<vnet_ip_key>> UnderlayGuardMaps::Remotes() const {
  // At most VNET_GUARD_MAX_REMOTES keys: walking them one by one is cheap.
  std::vector<vnet_ip_key> out;
  vnet_ip_key key{}, next{};
  const void* prev = nullptr;
  // A key deleted under the walk restarts it from the first key: the bound
  // ends the walk, and the caller sorts and de-duplicates.
  while (out.size() < 2 * VNET_GUARD_MAX_REMOTES) {
    if (bpf_map_get_next_key(remotes_.get(), prev, &next) != 0) {
      if (errno == ENOENT) break;
      return ErrnoStatus(errno, "list", FabricPinPath(fabric_, VNET_GUARD_MAP_REMOTES));
    }
    out.push_back(next);
    key = next;
    prev = &key;
  }
  return out;
}

absl::StatusOr<vnet_guard_stats> UnderlayGuardMaps::Stats() const {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return ErrnoStatus(-cpus, "count possible CPUs for", VNET_GUARD_MAP_STATS);
  std::vector<vnet_guard_stats> per_cpu(cpus);  // 32 bytes: no padding between CPUs
  std::uint32_t zero = 0;
  if (bpf_map_lookup_elem(stats_.get(), &zero, per_cpu.data()) != 0)
    return ErrnoStatus(errno, "read", FabricPinPath(fabric_, VNET_GUARD_MAP_STATS));
  vnet_guard_stats sum{};
  for (const auto& s : per_cpu) {
    sum.dropped_packets += s.dropped_packets;
    sum.dropped_bytes += s.dropped_bytes;
    sum.allowed_packets += s.allowed_packets;
    sum.fragments_passed += s.fragments_passed;
  }
  return sum;
}

}  // namespace vnet
