#include "absl/strings/string_view.h"
#include "fabric/registry.h"

#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "fabric/fabric.h"
#include "fabric/types.h"
#include "base/errors.h"
#include "loader/kernel_objects.h"
#include "loader/pins.h"
#include "maps/pinned_config.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace vnet {
namespace {

// The first ABI whose vnet_config.netns_cookie holds a cookie; before it, the
// same field held the netns inode.
constexpr std::uint32_t kFirstCookieAbi = 5;

}  // namespace

std::uint64_t CurrentNetnsCookie() {
  UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  std::uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  if (!sock.valid() || ::getsockopt(sock.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) return 0;
  return cookie;
}

std::uint64_t CurrentNetnsIno() {
  struct stat st {};
  if (::stat("/proc/thread-self/ns/net", &st) != 0) return 0;
  return st.st_ino;
}

bool AttachedHere(const vnet_config& config) {
  if (config.netns_cookie == 0) return false;
  if (config.abi_version >= kFirstCookieAbi) return config.netns_cookie == CurrentNetnsCookie();
  return config.netns_cookie == CurrentNetnsIno();
}

bool UplinkGone(const std::string& fabric, const vnet_config& config) {
  if (config.flags & VNET_FABRIC_F_DEFUNCT) return true;
  for (const char* pin : {kUplinkXdpLinkPin, kUplinkTcLinkPin})
    if (auto has = PinnedLinkHasDevice(FabricPinPath(fabric, pin))) return !*has;
  auto config_fd = OpenPinned(FabricPinPath(fabric, VNET_MAP_CONFIG));
  if (!config_fd.ok()) return true;
  auto config_id = MapId(config_fd->get());
  if (!config_id) return false;  // cannot tell: alive
  // With cls_bpf and no XDP, the filter holds the uplink program: it goes with the device.
  return !ProgramUsingMapLoaded("vnet_uplink_tc", *config_id);
}

std::vector<std::string> ListLocalFabrics() {
  std::vector<std::string> local;
  for (const auto& fabric : ListFabricDirs()) {
    auto maps = FabricMaps::Open(fabric);
    if (!maps.ok()) continue;
    auto config = maps->ReadConfig();
    if (config.ok() && AttachedHere(*config)) local.push_back(fabric);
  }
  return local;
}


absl::StatusOr<vnet_config> ReadPinnedConfig(const std::string& fabric) {
  std::string path = FabricPinPath(fabric, VNET_MAP_CONFIG);
  // A migration that converts vnet_config itself sets it aside ("_old")
  // until its commit stamps this ABI into the new one: before that, the
  // set-aside config is the fabric's (the new one is missing or empty).
  auto aside = ReadConfigMapAt(path + "_old");
  if (!aside.ok()) return ReadConfigMapAt(path);
  auto current = ReadConfigMapAt(path);
  if (current.ok() && current->abi_version == VNET_ABI_VERSION) return current;
  return aside;
}

absl::Status WritePinnedConfig(const std::string& fabric, const vnet_config& config) {
  return WriteConfigMapAt(FabricPinPath(fabric, VNET_MAP_CONFIG), config);
}

std::vector<std::string> ListOlderLocalFabrics() {
  std::vector<std::string> older;
  for (const auto& fabric : ListFabricDirs()) {
    auto config = ReadPinnedConfig(fabric);
    if (config.ok() && config->abi_version != 0 && config->abi_version < VNET_ABI_VERSION &&
        AttachedHere(*config) && !UplinkGone(fabric, *config))
      older.push_back(fabric);
  }
  return older;
}

absl::Status MarkIncomplete(const std::string& fabric) {
  return PinNote(FabricPinPath(fabric, kIncompletePin), PinnedNote{CurrentNetnsCookie(), VNET_ABI_VERSION});
}

absl::Status ClearIncomplete(const std::string& fabric) { return Unpin(FabricPinPath(fabric, kIncompletePin)); }

bool IncompleteHere(const std::string& fabric) {
  auto note = ReadNote(FabricPinPath(fabric, kIncompletePin));
  return note.ok() && note->a == CurrentNetnsCookie() && note->b == VNET_ABI_VERSION;
}

std::vector<std::string> RemoveIncompleteFabrics() {
  std::vector<std::string> removed;
  for (const auto& fabric : ListFabricDirs()) {
    // A directory with nothing pinned in it holds nothing of anyone's.
    bool empty = true;
    for (const auto& pin : ListPins(fabric))  // staging pins of a killed RepinFd hold nothing
      if (pin.size() <= 4 || pin.compare(pin.size() - 4, 4, "_new") != 0) empty = false;
    if (!empty && !IncompleteHere(fabric)) continue;
    if ((empty ? RemoveFabricDir(fabric) : TearDownFabric(fabric)).ok()) removed.push_back(fabric);
  }
  return removed;
}

std::optional<std::string> WhyLeftAlone(const std::string& fabric) {
  if (IncompleteHere(fabric)) return std::nullopt;
  auto note = ReadNote(FabricPinPath(fabric, kIncompletePin));
  if (note.ok())
    return note->b != VNET_ABI_VERSION
               ? absl::StrCat("half-built by a vnetctl of ABI ", note->b, "; this one speaks ", VNET_ABI_VERSION)
               : std::string("half-built by a vnetctl in another network namespace");
  auto config = ReadPinnedConfig(fabric);
  if (!config.ok()) return absl::StrCat("not readable by this vnetctl (ABI ", VNET_ABI_VERSION, "): ", config.status().message());
  if (config->abi_version != VNET_ABI_VERSION) {
    bool here = AttachedHere(*config) && !UplinkGone(fabric, *config);
    return absl::StrCat("made by vnet ABI ", config->abi_version, "; this vnetctl speaks ", VNET_ABI_VERSION,
                        here && config->abi_version < VNET_ABI_VERSION
                            ? absl::StrCat(" (`vnetctl reload ", fabric, "` migrates it)")
                            : std::string());
  }
  auto maps = FabricMaps::Open(fabric);
  if (!maps.ok()) return std::string(maps.status().message());
  if (!AttachedHere(*config))
    return UplinkGone(fabric, *config)
               ? std::string("defunct, attached in a network namespace that is gone or lost its uplink (`vnetctl gc` removes it)")
               : std::string("attached in another network namespace");
  return std::nullopt;
}

std::string PortLinkPin(std::uint32_t ifindex) { return absl::StrCat("link_port_", ifindex); }

std::string PendingTapPin(absl::string_view tap) { return absl::StrCat("pending_tap_", absl::BytesToHexString(tap)); }

absl::StatusOr<std::string> ResolveFabric(absl::string_view name_or_uplink) {
  auto local = ListLocalFabrics();
  for (const auto& fabric : local)
    if (fabric == name_or_uplink) return fabric;
  unsigned ifindex = if_nametoindex(std::string(name_or_uplink).c_str());
  if (ifindex) {
    for (const auto& fabric : local) {
      auto maps = FabricMaps::Open(fabric);
      if (!maps.ok()) continue;
      auto config = maps->ReadConfig();
      if (config.ok() && config->uplink_ifindex == ifindex && !UplinkGone(fabric, *config)) return fabric;
    }
    for (const auto& fabric : ListOlderLocalFabrics()) {
      auto config = ReadPinnedConfig(fabric);
      if (config.ok() && config->uplink_ifindex == ifindex) return fabric;
    }
  }
  std::string name(name_or_uplink);
  if (ValidateFabricName(name_or_uplink).ok() && FabricDirExists(name_or_uplink)) {
    // Half-built here, or made by an older vnet here (reload migrates it):
    // named so that detach or reload can act; anything else is left alone.
    if (IncompleteHere(name)) return name;
    for (const auto& fabric : ListOlderLocalFabrics())
      if (fabric == name) return name;
    if (auto why = WhyLeftAlone(name))
      return absl::FailedPreconditionError(absl::StrCat("fabric ", name, ": ", *why, "; left as it is"));
  }
  return absl::NotFoundError(absl::StrCat(name_or_uplink, ": no fabric by that name or uplink"));
}

std::optional<Membership> FindMembership(std::uint32_t ifindex) {
  for (const auto& fabric : ListLocalFabrics()) {
    auto maps = FabricMaps::Open(fabric);
    if (!maps.ok()) continue;
    auto config = maps->ReadConfig();
    // A dead fabric's uplink ifindex may name a new device by now.
    if (config.ok() && config->uplink_ifindex == ifindex && !UplinkGone(fabric, *config))
      return Membership{fabric, true};
    auto port = maps->LookupPort(ifindex);
    if (port.ok() && port->has_value()) return Membership{fabric, false};
  }
  return std::nullopt;
}

}  // namespace vnet
