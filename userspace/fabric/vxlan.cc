#include "fabric/vxlan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "fabric/operations.h"
#include "fabric/registry.h"
#include "fabric/undo.h"
#include "fabric/vxlan_guard.h"
#include "fabric/vxlan_settings.h"
#include "netlink/vxlan.h"

namespace vnet {
namespace {

// The local address: the one given (it must be the underlay's), or the
// underlay's first of the remotes' family.
absl::StatusOr<IpAddress> PickLocal(Rtnl& rtnl, const VxlanOptions& o, const LinkInfo& underlay,
                                    absl::string_view what) {
  VNET_ASSIGN_OR_RETURN(auto addresses, rtnl.ListAddresses(underlay.ifindex, underlay.name));
  if (o.local) {
    bool found = std::any_of(addresses.begin(), addresses.end(),
                             [&](const IpPrefix& p) { return p.address == *o.local; });
    if (!found)
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": --local ", o.local->ToString(), " is not an address of the underlay ", underlay.name));
    return *o.local;
  }
  int family = o.remotes.empty() ? 0 : o.remotes.front().family;
  auto local = ChooseLocal(addresses, family);
  if (!local)
    return absl::FailedPreconditionError(absl::StrCat(what, ": the underlay ", underlay.name, " has no ",
                                                      family ? absl::StrCat("IPv", family, " ") : "",
                                                      "address to send from (give --local)"));
  return *local;
}

// The fabric's uplink as a VXLAN device, or FailedPrecondition.
absl::StatusOr<VxlanLink> FabricVxlan(Rtnl& rtnl, absl::string_view fabric, absl::string_view what) {
  VNET_ASSIGN_OR_RETURN(vnet_config config, ReadPinnedConfig(std::string(fabric)));
  VxlanLinks links(rtnl);
  auto link = links.Get(static_cast<int>(config.uplink_ifindex));
  if (!link.ok()) return Annotate(link.status(), what);
  if (!*link) return absl::FailedPreconditionError(absl::StrCat(what, ": not a VXLAN fabric (its uplink is no VXLAN device)"));
  return std::move(**link);
}

}  // namespace

absl::StatusOr<FabricInfo> AttachVxlanFabric(const AttachOptions& options) {
  const VxlanOptions& o = *options.vxlan;
  std::string name = VxlanDeviceName(o);
  std::string what = absl::StrCat("attach ", name);
  VNET_RETURN_IF_ERROR(Annotate(CheckVxlanOptions(o), what));
  VNET_ASSIGN_OR_RETURN(Rtnl rtnl, Rtnl::Open());
  auto underlay = rtnl.GetLink(o.underlay);
  if (!underlay.ok()) return Annotate(underlay.status(), absl::StrCat(what, ": --underlay"));
  VNET_ASSIGN_OR_RETURN(IpAddress local, PickLocal(rtnl, o, *underlay, what));
  for (const auto& r : o.remotes)
    if (r.family != local.family)
      return absl::InvalidArgumentError(absl::StrCat(what, ": remote ", r.ToString(), " is IPv", r.family,
                                                     ", the local address ", local.ToString(), " IPv", local.family));
  auto mtu = OverlayMtu(underlay->mtu, local.family);
  if (!mtu.ok()) return Annotate(mtu.status(), what);
  // Never touch a device that is already there: it is not ours to delete.
  if (rtnl.GetLink(name).ok())
    return absl::AlreadyExistsError(absl::StrCat(what, ": a device named ", name,
                                                 " already exists (attach it as an uplink: vnetctl attach ", name, ")"));

  VxlanLinks links(rtnl);
  VxlanSpec spec{name, o.vni, underlay->ifindex, local, o.dstport, *mtu};
  VNET_RETURN_IF_ERROR(Annotate(links.Create(spec), "attach"));
  auto made = rtnl.GetLink(name);
  if (!made.ok()) return Annotate(made.status(), what);
  int ifindex = made->ifindex;
  Undo undo;
  undo.Push([&rtnl, ifindex, name] { (void)rtnl.DeleteLink(ifindex, name); });
  std::string fabric = options.fabric.empty() ? name : options.fabric;
  VNET_RETURN_IF_ERROR(Annotate(rtnl.SetAlias(ifindex, CreatedVxlanAlias(fabric), name), what));
  for (const auto& r : o.remotes) VNET_RETURN_IF_ERROR(Annotate(links.AddRemote(ifindex, r, name), what));
  VNET_RETURN_IF_ERROR(Annotate(rtnl.SetUp(ifindex, true, name), what));

  AttachOptions plain = options;
  plain.uplink = name;
  plain.fabric = fabric;
  plain.vxlan.reset();
  VNET_ASSIGN_OR_RETURN(FabricInfo info, AttachFabric(plain));  // info.vxlan read back from the device
  // The fabric and its pins go before the device if the guard fails.
  undo.Push([fabric] { (void)DetachFabric(fabric); });
  // The underlay guard: only the remotes' frames of this VNI come in.
  auto guard = VxlanGuard::Attach({fabric, underlay->name, o.vni, o.dstport, o.remotes, info.tc_hook == "cls_bpf"});
  if (!guard.ok()) return Annotate(guard.status(), absl::StrCat(what, ": underlay guard"));
  if (info.vxlan) info.vxlan->guarded = true;
  undo.Commit();
  return info;
}

absl::StatusOr<std::optional<VxlanInfo>> DescribeVxlan(Rtnl& rtnl, int uplink_ifindex, absl::string_view fabric,
                                                       bool with_remotes) {
  VxlanLinks links(rtnl);
  VNET_ASSIGN_OR_RETURN(auto link, links.Get(uplink_ifindex));
  if (!link) return std::optional<VxlanInfo>();
  VxlanInfo v;
  v.vni = link->vni;
  if (link->underlay_ifindex)
    if (auto underlay = rtnl.GetLink(link->underlay_ifindex); underlay.ok()) v.underlay = underlay->name;
  v.local = link->local;
  v.dstport = link->dstport;
  v.mtu = link->mtu;
  v.created = IsCreatedVxlan(link->alias, fabric);
  v.guarded = VxlanGuard::Exists(fabric);
  if (with_remotes) {
    VNET_ASSIGN_OR_RETURN(v.remotes, links.Remotes(uplink_ifindex, link->name));
    std::sort(v.remotes.begin(), v.remotes.end());
  }
  return std::optional<VxlanInfo>(std::move(v));
}

absl::Status RemoveCreatedVxlan(Rtnl& rtnl, int uplink_ifindex, absl::string_view fabric) {
  VxlanLinks links(rtnl);
  auto link = links.Get(uplink_ifindex);
  if (absl::IsNotFound(link.status())) return absl::OkStatus();  // gone with its underlay
  VNET_RETURN_IF_ERROR(link.status());
  if (!*link || !IsCreatedVxlan((*link)->alias, fabric)) return absl::OkStatus();
  return rtnl.DeleteLink(uplink_ifindex, (*link)->name);
}

absl::Status AddVxlanRemote(Rtnl& rtnl, absl::string_view fabric, const IpAddress& remote) {
  std::string what = absl::StrCat("vxlan remote add ", fabric, " ", remote.ToString());
  VNET_RETURN_IF_ERROR(Annotate(CheckRemote(remote), absl::StrCat("vxlan remote add ", fabric)));
  VNET_ASSIGN_OR_RETURN(VxlanLink link, FabricVxlan(rtnl, fabric, what));
  if (link.local && link.local->family != remote.family)
    return absl::InvalidArgumentError(absl::StrCat(what, ": IPv", remote.family, ", but the local address ",
                                                   link.local->ToString(), " is IPv", link.local->family));
  VxlanLinks links(rtnl);
  VNET_ASSIGN_OR_RETURN(auto have, links.Remotes(link.ifindex, link.name));
  if (std::find(have.begin(), have.end(), remote) != have.end())
    return absl::AlreadyExistsError(absl::StrCat(what, ": already a remote of ", fabric));
  // Allowed in first, so its first frames back are not dropped; taken out
  // again if the FDB refuses it.
  std::optional<VxlanGuard> guard;
  if (VxlanGuard::Exists(fabric)) {
    auto opened = VxlanGuard::Open(fabric);
    if (!opened.ok()) return Annotate(opened.status(), what);
    guard = std::move(*opened);
    VNET_RETURN_IF_ERROR(Annotate(guard->AddRemote(remote), absl::StrCat(what, ": underlay guard")));
  }
  auto added = links.AddRemote(link.ifindex, remote, link.name);
  if (!added.ok() && guard) (void)guard->RemoveRemote(remote);
  return Annotate(added, what);
}

absl::Status DeleteVxlanRemote(Rtnl& rtnl, absl::string_view fabric, const IpAddress& remote) {
  std::string what = absl::StrCat("vxlan remote del ", fabric, " ", remote.ToString());
  VNET_ASSIGN_OR_RETURN(VxlanLink link, FabricVxlan(rtnl, fabric, what));
  VxlanLinks links(rtnl);
  VNET_ASSIGN_OR_RETURN(auto have, links.Remotes(link.ifindex, link.name));
  if (std::find(have.begin(), have.end(), remote) == have.end())
    return absl::NotFoundError(absl::StrCat(what, ": not a remote of ", fabric));
  // The guard first: from here on nothing of the remote's is taken in (nor
  // learned), then nothing is sent to it.
  std::optional<VxlanGuard> guard;
  if (VxlanGuard::Exists(fabric)) {
    auto opened = VxlanGuard::Open(fabric);
    if (!opened.ok()) return Annotate(opened.status(), what);
    guard = std::move(*opened);
    auto removed = guard->RemoveRemote(remote);
    if (!removed.ok() && !absl::IsNotFound(removed)) return Annotate(removed, absl::StrCat(what, ": underlay guard"));
  }
  if (auto deleted = links.DeleteRemote(link.ifindex, remote, link.name); !deleted.ok()) {
    if (guard) (void)guard->AddRemote(remote);
    return Annotate(deleted, what);
  }
  // Out of the flood list, then its learned MACs: with the guard dropping
  // its frames, none is learned again.
  return Annotate(links.ForgetLearnedBehind(link.ifindex, remote, link.name).status(), what);
}

absl::StatusOr<std::vector<IpAddress>> ListVxlanRemotes(Rtnl& rtnl, absl::string_view fabric) {
  std::string what = absl::StrCat("vxlan remote list ", fabric);
  VNET_ASSIGN_OR_RETURN(VxlanLink link, FabricVxlan(rtnl, fabric, what));
  VxlanLinks links(rtnl);
  VNET_ASSIGN_OR_RETURN(auto remotes, links.Remotes(link.ifindex, link.name));
  std::sort(remotes.begin(), remotes.end());
  return remotes;
}

}  // namespace vnet
