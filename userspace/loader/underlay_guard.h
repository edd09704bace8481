// The kernel objects of a VXLAN fabric's underlay guard (bpf/underlay.bpf.c,
// bpf/lib/underlay_guard.h): the program, loaded against maps pinned in the
// fabric's directory; its attachment to the underlay's tc ingress; and the
// reads and writes of its three maps. The domain API is fabric/vxlan_guard.h.
#ifndef VNET_LOADER_UNDERLAY_GUARD_H
#define VNET_LOADER_UNDERLAY_GUARD_H

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/unique_fd.h"
#include "vnet/abi.h"

struct underlay_bpf;

namespace vnet {

// The guard's pins in a fabric's directory, link first: removing them in this
// order detaches the program before its maps go.
std::vector<std::string> UnderlayGuardPinNames();
// True when any of them is pinned in the fabric's directory.
bool UnderlayGuardPinned(absl::string_view fabric);

// The guard program, its maps created (or, when pinned already, reused) in the
// fabric's directory. The program goes when this object and its link do.
class UnderlayGuardProgram {
 public:
  static absl::StatusOr<UnderlayGuardProgram> Load(const std::string& fabric);
  UnderlayGuardProgram(UnderlayGuardProgram&&) noexcept;
  UnderlayGuardProgram& operator=(UnderlayGuardProgram&&) noexcept;
  ~UnderlayGuardProgram();

  int prog_fd() const;

 private:
  UnderlayGuardProgram() = default;
  struct Deleter {
    void operator()(underlay_bpf*) const;
  };
  std::unique_ptr<underlay_bpf, Deleter> skel_;
};

// Attaches the program to the underlay's tc ingress: a tcx link pinned as
// VNET_PIN_GUARD_LINK, or, with `cls_bpf`, a filter at
// VNET_GUARD_CLS_HANDLE_BASE | vni and VNET_GUARD_CLS_PRIORITY.
absl::Status AttachUnderlayGuard(const std::string& fabric, int prog_fd, int ifindex, absl::string_view ifname,
                                 bool cls_bpf, std::uint32_t vni);
// Undoes it: unpins the link (tcx) or deletes the filter (cls_bpf). A device
// or attachment that is gone already is not an error.
absl::Status DetachUnderlayGuard(const std::string& fabric, int ifindex, absl::string_view ifname, bool cls_bpf,
                                 std::uint32_t vni);
// Switches the attached guard to `prog_fd` atomically (a new build's guard
// taking over: the tcx link's program, or the cls_bpf filter's, replaced in
// place, so no frame passes unchecked in between).
absl::Status ReplaceUnderlayGuard(const std::string& fabric, int prog_fd, int ifindex, absl::string_view ifname,
                                  bool cls_bpf, std::uint32_t vni);
// The id of the program the pinned tcx link runs (0 when none is pinned).
absl::StatusOr<std::uint32_t> UnderlayGuardLinkProgram(const std::string& fabric);

// The pinned maps of one fabric's guard.
class UnderlayGuardMaps {
 public:
  // NotFound when the fabric has no guard.
  static absl::StatusOr<UnderlayGuardMaps> Open(const std::string& fabric);

  absl::StatusOr<vnet_guard_config> Config() const;
  absl::Status SetConfig(const vnet_guard_config& config);
  // Adding a present key is not an error; deleting an absent one is NotFound.
  absl::Status AddRemote(const vnet_ip_key& key);
  absl::Status DeleteRemote(const vnet_ip_key& key);
  absl::StatusOr<bool> HasRemote(const vnet_ip_key& key) const;
  absl::StatusOr<std::vector<vnet_ip_key>> Remotes() const;
  // Summed over every CPU.
  absl::StatusOr<vnet_guard_stats> Stats() const;

 private:
  UnderlayGuardMaps() = default;
  std::string fabric_;
  UniqueFd cfg_, remotes_, stats_;
};

}  // namespace vnet

#endif
