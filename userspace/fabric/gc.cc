#include "fabric/gc.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "fabric/fabric.h"
#include "fabric/registry.h"
#include "base/errors.h"
#include "loader/pins.h"
#include "netlink/netns.h"

namespace vnet {
namespace {

constexpr std::uint32_t kFirstCookieAbi = 5;

struct LiveNetns {
  UniqueFd fd;
  std::uint64_t cookie = 0, ino = 0;
};

// Every namespace something still holds that we can find: bind mounts under
// /run/netns and the namespaces of running processes. Each is entered once
// to read its cookie.
std::vector<LiveNetns> ListLiveNetns() {
  std::vector<LiveNetns> out;
  std::set<std::pair<dev_t, ino_t>> seen;
  auto consider = [&](const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    UniqueFd owned(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !seen.insert({st.st_dev, st.st_ino}).second) return;
    LiveNetns ns;
    ns.ino = st.st_ino;
    {
      auto inside = ScopedNetns::Enter(fd, path);
      if (!inside.ok()) return;
      ns.cookie = CurrentNetnsCookie();
    }
    ns.fd = std::move(owned);
    out.push_back(std::move(ns));
  };
  for (const auto& name : ListNamedNetns()) consider(absl::StrCat("/run/netns/", name));
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] >= '1' && e->d_name[0] <= '9') consider(absl::StrCat("/proc/", e->d_name, "/ns/net"));
    ::closedir(d);
  }
  return out;
}

const LiveNetns* FindNetns(const std::vector<LiveNetns>& live, const vnet_config& config) {
  for (const auto& ns : live) {
    std::uint64_t key = config.abi_version >= kFirstCookieAbi ? ns.cookie : ns.ino;
    if (key == config.netns_cookie) return &ns;
  }
  return nullptr;
}

// Removes one dead fabric, in the namespace the caller is in (the fabric's).
absl::Status RemoveDead(const DeadFabric& dead) {
  // A fabric this ABI can open is detached properly: its ports' programs
  // and the devices vnet created go too. Another ABI's only has its pins
  // removed: it forwards nothing, and its maps are not this build's to read.
  if (dead.config.abi_version == VNET_ABI_VERSION && dead.where != DeadWhere::kNamespaceGone)
    return TearDownFabric(dead.name);
  return RemoveFabricDir(dead.name);
}

}  // namespace

std::string DescribeWhere(DeadWhere where) {
  switch (where) {
    case DeadWhere::kHere: return "its uplink is gone";
    case DeadWhere::kNamespaceGone: return "its network namespace is gone";
    case DeadWhere::kElsewhere: return "its uplink is gone (in another network namespace)";
  }
  return "";
}

std::vector<DeadFabric> ListDeadFabrics(bool all_namespaces) {
  std::vector<DeadFabric> dead;
  bool need_search = false;
  for (const auto& fabric : ListFabricDirs()) {
    auto config = ReadPinnedConfig(fabric);
    if (!config.ok() || config->netns_cookie == 0 || ListPins(fabric).empty()) continue;
    if (ReadNote(FabricPinPath(fabric, kIncompletePin)).ok()) continue;  // half-built: not dead, unfinished
    if (!UplinkGone(fabric, *config)) continue;
    DeadFabric d{fabric, *config, DeadWhere::kHere};
    // An ABI 2-4 fabric records an inode: one here may be a dead namespace's
    // whose inode this one reuses. It is dead either way.
    if (!AttachedHere(*config) || config->abi_version < kFirstCookieAbi) {
      d.where = DeadWhere::kNamespaceGone;
      need_search = true;
    }
    dead.push_back(d);
  }
  if (!need_search) return dead;
  auto live = ListLiveNetns();
  std::uint64_t here_ino = CurrentNetnsIno();
  std::vector<DeadFabric> out;
  for (auto& d : dead) {
    if (d.where == DeadWhere::kNamespaceGone) {
      if (const LiveNetns* ns = FindNetns(live, d.config))
        d.where = ns->ino == here_ino ? DeadWhere::kHere : DeadWhere::kElsewhere;
    }
    if (d.where == DeadWhere::kElsewhere && !all_namespaces) continue;
    out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<std::vector<Collected>> CollectDeadFabrics(bool all_namespaces,
                                                          const std::function<bool(const DeadFabric&)>& want) {
  std::vector<Collected> collected;
  std::vector<LiveNetns> live;
  bool searched = false;
  for (const auto& dead : ListDeadFabrics(all_namespaces)) {
    if (!want(dead)) continue;
    std::string what = absl::StrCat("collect dead fabric ", dead.name);
    if (dead.where == DeadWhere::kElsewhere) {
      if (!searched) live = ListLiveNetns(), searched = true;
      const LiveNetns* ns = FindNetns(live, dead.config);
      if (!ns) {
        VNET_RETURN_IF_ERROR(Annotate(RemoveFabricDir(dead.name), what));
      } else {
        VNET_ASSIGN_OR_RETURN(ScopedNetns inside, ScopedNetns::Enter(ns->fd.get(), what));
        VNET_RETURN_IF_ERROR(Annotate(RemoveDead(dead), what));
      }
    } else {
      VNET_RETURN_IF_ERROR(Annotate(RemoveDead(dead), what));
    }
    collected.push_back({dead.name, DescribeWhere(dead.where)});
  }
  return collected;
}

}  // namespace vnet
