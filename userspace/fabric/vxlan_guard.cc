#include "fabric/vxlan_guard.h"

#include <net/if_arp.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "fabric/undo.h"
#include "loader/links.h"
#include "loader/pins.h"
#include "loader/underlay_guard.h"
#include "netlink/rtnl.h"
#include "vnet/abi.h"

namespace vnet {

struct VxlanGuard::State {
  UnderlayGuardMaps maps;
};

namespace {

std::string What(absl::string_view fabric) { return absl::StrCat("vxlan guard of fabric ", fabric); }

// Annotate() for a value or an error.
template <typename T>
absl::StatusOr<T> In(absl::StatusOr<T> v, absl::string_view context) {
  if (v.ok()) return v;
  return Annotate(v.status(), context);
}

vnet_ip_key KeyOf(const IpAddress& ip) {
  vnet_ip_key key{};
  key.family = ip.family == 6 ? VNET_IP6 : VNET_IP4;
  std::memcpy(key.addr, ip.bytes.data(), ip.Size());
  return key;
}

IpAddress AddressOf(const vnet_ip_key& key) {
  return IpAddress::FromBytes(key.family == VNET_IP6 ? 6 : 4, key.addr);
}

absl::Status CheckRemote(const IpAddress& ip) {
  if (ip.family != 4 && ip.family != 6) return absl::InvalidArgumentError("remote: not an IPv4 or IPv6 address");
  if (ip.bytes == std::array<std::uint8_t, 16>{})
    return absl::InvalidArgumentError(absl::StrCat("remote ", ip.ToString(), ": the unspecified address"));
  return absl::OkStatus();
}

// Unpins every guard pin, the link first so the program is detached before
// its maps go. Used by Detach and by a failed Attach.
absl::Status UnpinGuard(const std::string& fabric) {
  absl::Status first;
  for (const auto& name : UnderlayGuardPinNames()) first.Update(Unpin(FabricPinPath(fabric, name)));
  return first;
}

// The underlay's name for messages; the device may be gone.
std::string UnderlayName(Rtnl* rtnl, int ifindex) {
  if (rtnl) {
    auto link = rtnl->GetLink(ifindex);
    if (link.ok()) return link->name;
  }
  return absl::StrCat("ifindex ", ifindex);
}

}  // namespace

VxlanGuard::VxlanGuard(std::string fabric) : fabric_(std::move(fabric)) {}
VxlanGuard::VxlanGuard(VxlanGuard&&) noexcept = default;
VxlanGuard& VxlanGuard::operator=(VxlanGuard&&) noexcept = default;
VxlanGuard::~VxlanGuard() = default;

bool VxlanGuard::Exists(absl::string_view fabric) { return UnderlayGuardPinned(fabric); }

absl::StatusOr<VxlanGuard> VxlanGuard::Attach(const VxlanGuardSpec& spec) {
  const std::string& fabric = spec.fabric;
  const std::string what = What(fabric);
  if (spec.vni >= (1u << 24))
    return absl::InvalidArgumentError(absl::StrCat(what, ": VNI ", spec.vni, " does not fit in 24 bits"));
  if (spec.dstport == 0) return absl::InvalidArgumentError(absl::StrCat(what, ": UDP port 0"));
  for (const auto& r : spec.remotes) VNET_RETURN_IF_ERROR(Annotate(CheckRemote(r), what));
  if (!FabricDirExists(fabric))
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": the fabric has no pin directory (attach the fabric first)"));
  if (UnderlayGuardPinned(fabric)) return absl::AlreadyExistsError(absl::StrCat(what, ": already attached"));

  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  VNET_ASSIGN_OR_RETURN(LinkInfo underlay, In(rtnl.GetLink(spec.underlay), what));
  // The program parses an Ethernet header first: on another link type it
  // would check nothing, which is worse than refusing.
  if (underlay.type != ARPHRD_ETHER)
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": underlay ", underlay.name, " is not an Ethernet device (link type ", underlay.type, ")"));

  Undo undo;
  undo.Push([fabric] { (void)UnpinGuard(fabric); });
  VNET_ASSIGN_OR_RETURN(UnderlayGuardProgram program, In(UnderlayGuardProgram::Load(fabric), what));
  VNET_ASSIGN_OR_RETURN(UnderlayGuardMaps maps, In(UnderlayGuardMaps::Open(fabric), what));

  const bool cls_bpf = spec.cls_bpf || !KernelHasTcx();
  vnet_guard_config config{};
  config.vni = spec.vni;
  config.dstport = spec.dstport;
  config.flags = cls_bpf ? VNET_GUARD_F_CLS_BPF : 0;
  config.version = VNET_GUARD_VERSION;
  config.underlay_ifindex = static_cast<std::uint32_t>(underlay.ifindex);
  // The set and the config are in place before the program sees a frame.
  for (const auto& r : spec.remotes) VNET_RETURN_IF_ERROR(Annotate(maps.AddRemote(KeyOf(r)), what));
  VNET_RETURN_IF_ERROR(Annotate(maps.SetConfig(config), what));
  VNET_RETURN_IF_ERROR(Annotate(
      AttachUnderlayGuard(fabric, program.prog_fd(), underlay.ifindex, underlay.name, cls_bpf, spec.vni), what));
  undo.Commit();

  VxlanGuard guard(fabric);
  guard.state_ = std::make_unique<State>(State{std::move(maps)});
  return guard;
}

absl::StatusOr<VxlanGuard> VxlanGuard::Open(absl::string_view fabric) {
  std::string name(fabric);
  VNET_ASSIGN_OR_RETURN(UnderlayGuardMaps maps, In(UnderlayGuardMaps::Open(name), What(name)));
  VNET_ASSIGN_OR_RETURN(vnet_guard_config config, In(maps.Config(), What(name)));
  if (config.version != VNET_GUARD_VERSION)
    return absl::FailedPreconditionError(absl::StrCat(What(name), ": guard version ", config.version,
                                                      ", this vnet speaks ", VNET_GUARD_VERSION));
  VxlanGuard guard(name);
  guard.state_ = std::make_unique<State>(State{std::move(maps)});
  return guard;
}

absl::Status VxlanGuard::DetachIfPresent(absl::string_view fabric) {
  if (!UnderlayGuardPinned(fabric)) return absl::OkStatus();
  auto guard = Open(fabric);
  if (!guard.ok()) {
    // Half-made or unreadable: whatever is pinned still has to go.
    return Annotate(UnpinGuard(std::string(fabric)), What(fabric));
  }
  return std::move(*guard).Detach();
}

absl::Status VxlanGuard::AddRemote(const IpAddress& remote) {
  VNET_RETURN_IF_ERROR(Annotate(CheckRemote(remote), What(fabric_)));
  return Annotate(state_->maps.AddRemote(KeyOf(remote)), absl::StrCat(What(fabric_), ": add ", remote.ToString()));
}

absl::Status VxlanGuard::RemoveRemote(const IpAddress& remote) {
  const std::string what = absl::StrCat(What(fabric_), ": remove ", remote.ToString());
  VNET_ASSIGN_OR_RETURN(bool present, In(state_->maps.HasRemote(KeyOf(remote)), what));
  if (!present) return absl::NotFoundError(absl::StrCat(what, ": not an allowed remote"));
  return Annotate(state_->maps.DeleteRemote(KeyOf(remote)), what);
}

absl::StatusOr<std::vector<IpAddress>> VxlanGuard::Remotes() const {
  VNET_ASSIGN_OR_RETURN(std::vector<vnet_ip_key> keys, In(state_->maps.Remotes(), What(fabric_)));
  std::vector<IpAddress> out;
  out.reserve(keys.size());
  for (const auto& k : keys) out.push_back(AddressOf(k));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

absl::StatusOr<VxlanGuardCounters> VxlanGuard::Counters() const {
  VNET_ASSIGN_OR_RETURN(vnet_guard_stats s, In(state_->maps.Stats(), What(fabric_)));
  return VxlanGuardCounters{s.dropped_packets, s.dropped_bytes, s.allowed_packets, s.fragments_passed};
}

absl::StatusOr<VxlanGuardInfo> VxlanGuard::Describe() const {
  VNET_ASSIGN_OR_RETURN(vnet_guard_config config, In(state_->maps.Config(), What(fabric_)));
  VxlanGuardInfo info;
  info.fabric = fabric_;
  info.underlay_ifindex = static_cast<int>(config.underlay_ifindex);
  if (auto rtnl = Rtnl::Open(); rtnl.ok()) {
    if (auto link = rtnl->GetLink(info.underlay_ifindex); link.ok()) info.underlay = link->name;
  }
  info.vni = config.vni;
  info.dstport = config.dstport;
  info.cls_bpf = config.flags & VNET_GUARD_F_CLS_BPF;
  if (info.cls_bpf) {
    info.attached = true;
  } else {
    VNET_ASSIGN_OR_RETURN(std::uint32_t prog, In(UnderlayGuardLinkProgram(fabric_), What(fabric_)));
    info.attached = prog != 0;
  }
  VNET_ASSIGN_OR_RETURN(info.remotes, Remotes());
  VNET_ASSIGN_OR_RETURN(info.counters, Counters());
  return info;
}

absl::Status VxlanGuard::Reload() {
  const std::string what = absl::StrCat(What(fabric_), ": reload");
  VNET_ASSIGN_OR_RETURN(vnet_guard_config config, In(state_->maps.Config(), what));
  VNET_ASSIGN_OR_RETURN(UnderlayGuardProgram program, In(UnderlayGuardProgram::Load(fabric_), what));
  auto rtnl = Rtnl::Open();
  const int ifindex = static_cast<int>(config.underlay_ifindex);
  std::string ifname = UnderlayName(rtnl.ok() ? &*rtnl : nullptr, ifindex);
  // The attachment holds the new program once switched; `program` may go.
  return Annotate(ReplaceUnderlayGuard(fabric_, program.prog_fd(), ifindex, ifname,
                                       config.flags & VNET_GUARD_F_CLS_BPF, config.vni),
                  what);
}

absl::Status VxlanGuard::Detach() && {
  const std::string what = What(fabric_);
  VNET_ASSIGN_OR_RETURN(vnet_guard_config config, In(state_->maps.Config(), what));
  const bool cls_bpf = config.flags & VNET_GUARD_F_CLS_BPF;
  auto rtnl = Rtnl::Open();
  const int ifindex = static_cast<int>(config.underlay_ifindex);
  std::string ifname = UnderlayName(rtnl.ok() ? &*rtnl : nullptr, ifindex);
  VNET_RETURN_IF_ERROR(Annotate(DetachUnderlayGuard(fabric_, ifindex, ifname, cls_bpf, config.vni), what));
  state_.reset();  // our map fds: the maps go with their last reference
  return Annotate(UnpinGuard(fabric_), what);
}

}  // namespace vnet
