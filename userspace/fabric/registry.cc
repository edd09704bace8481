#include "absl/strings/string_view.h"
#include "fabric/registry.h"

#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

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
  if (FabricFlagsOf(config).defunct) return true;
  for (const char* pin : {kUplinkXdpLinkPin, kUplinkTcLinkPin})
    if (auto has = PinnedLinkHasDevice(FabricPinPath(fabric, pin))) return !*has;
  auto config_fd = OpenPinned(FabricPinPath(fabric, VNET_MAP_CONFIG));
  if (!config_fd.ok()) return true;
  auto config_id = MapId(config_fd->get());
  if (!config_id) return false;  // cannot tell: alive
  // With cls_bpf and no XDP, the filter holds the uplink program: it goes with the device.
  return !ProgramUsingMapLoaded("vnet_uplink_tc", *config_id);
}

namespace {

// One scanned fabric of this netns: its configuration as read by the scan
// (names and uplinks do not change while a fabric lives) and its tables.
struct LocalFabric {
  std::string name;
  vnet_config config{};
  FabricMaps maps;
};

// Fabrics attached here. The configuration is read alone first, with its size
// checked: fabrics of other namespaces and ABIs (most of them on a busy host)
// cost one map each, and only this namespace's are opened whole.
std::vector<LocalFabric> ScanLocalFabrics() {
  std::vector<LocalFabric> local;
  for (const auto& fabric : ListFabricDirs()) {
    auto config = ReadConfigMapAt(FabricPinPath(fabric, VNET_MAP_CONFIG));
    if (!config.ok() || config->abi_version != VNET_ABI_VERSION || !AttachedHere(*config)) continue;
    auto maps = FabricMaps::Open(fabric);
    if (!maps.ok()) continue;
    auto current = maps->ReadConfig();  // the open's own read, after its checks
    if (!current.ok() || !AttachedHere(*current)) continue;
    local.push_back(LocalFabric{fabric, *current, std::move(*maps)});
  }
  return local;
}

}  // namespace

struct FabricIndex {
  std::optional<std::vector<LocalFabric>> fabrics;  // scanned on first use
};

namespace {

thread_local FabricIndex* current_index = nullptr;

// The scan of the current scope, or a fresh one (kept in `fresh`).
const std::vector<LocalFabric>& LocalFabrics(std::vector<LocalFabric>& fresh) {
  if (current_index) {
    if (!current_index->fabrics) current_index->fabrics = ScanLocalFabrics();
    return *current_index->fabrics;
  }
  fresh = ScanLocalFabrics();
  return fresh;
}

}  // namespace

FabricIndexScope::FabricIndexScope() : owner_(current_index == nullptr) {
  if (owner_) current_index = new FabricIndex;
}

FabricIndexScope::~FabricIndexScope() {
  if (!owner_) return;
  delete current_index;
  current_index = nullptr;
}

void RescanFabricIndex() {
  if (current_index) current_index->fabrics.reset();
}

FabricIndexPause::FabricIndexPause() : saved_(current_index) { current_index = nullptr; }

FabricIndexPause::~FabricIndexPause() {
  current_index = saved_;
  RescanFabricIndex();
}

std::vector<std::string> ListLocalFabrics() {
  std::vector<LocalFabric> fresh;
  std::vector<std::string> names;
  for (const auto& f : LocalFabrics(fresh)) names.push_back(f.name);
  return names;
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

std::string PendingVethPin(absl::string_view host_end) { return absl::StrCat(kPendingVethPrefix, host_end); }

std::string PendingTapPin(absl::string_view tap) { return absl::StrCat("pending_tap_", absl::BytesToHexString(tap)); }

absl::StatusOr<std::string> ResolveFabric(absl::string_view name_or_uplink) {
  std::vector<LocalFabric> fresh;
  const auto& local = LocalFabrics(fresh);
  for (const auto& f : local)
    if (f.name == name_or_uplink) return f.name;
  unsigned ifindex = if_nametoindex(std::string(name_or_uplink).c_str());
  if (ifindex) {
    for (const auto& f : local) {
      auto config = f.maps.ReadConfig();  // now: the defunct mark may be new
      if (config.ok() && config->uplink_ifindex == ifindex && !UplinkGone(f.name, *config)) return f.name;
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
  std::vector<LocalFabric> fresh;
  for (const auto& f : LocalFabrics(fresh)) {
    // A dead fabric's uplink ifindex may name a new device by now.
    if (f.config.uplink_ifindex == ifindex) {
      auto config = f.maps.ReadConfig();
      if (config.ok() && !UplinkGone(f.name, *config)) return Membership{f.name, true};
    }
    auto port = f.maps.LookupPort(ifindex);
    if (port.ok() && port->has_value()) return Membership{f.name, false};
  }
  return std::nullopt;
}

}  // namespace vnet
