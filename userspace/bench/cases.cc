#include "bench/cases.h"

#include <unistd.h>

#include <algorithm>

namespace vnet::bench {

std::vector<Case> BuildCases(const Config& cfg) {
  auto want = [&](const char* p) { return std::find(cfg.paths.begin(), cfg.paths.end(), p) != cfg.paths.end(); };
  auto want_system = [&](System s) {
    return cfg.systems.empty() ||
           std::find(cfg.systems.begin(), cfg.systems.end(), SystemName(s)) != cfg.systems.end();
  };
  const std::vector<System> all = {System::kVnet, System::kMacvlan, System::kBridge, System::kFloor};
  const std::vector<System> no_floor = {System::kVnet, System::kMacvlan, System::kBridge};
  std::vector<Case> cases;
  auto add = [&](const char* key, const char* path, const std::vector<System>& systems) {
    if (!want(key)) return;
    for (auto size : cfg.sizes) {
      Case c{path, size, {}};
      for (auto s : systems)
        if (want_system(s)) c.variants.push_back({s, 0});
      if (!c.variants.empty()) cases.push_back(c);
    }
  };
  // wire->port also runs vnet's tc path and the tc floor (redirect_peer):
  // the data behind the doc's proposal for the wire->port path.
  add("wire-port", "wire->port",
      {System::kVnet, System::kMacvlan, System::kBridge, System::kFloor, System::kVnetTc, System::kFloorTc,
       System::kVnetIpvlan});
  add("port-port", "port->port",
      {System::kVnet, System::kMacvlan, System::kBridge, System::kFloor, System::kVnetIpvlan});
  add("port-wire", "port->wire", all);
  add("broadcast", "broadcast", no_floor);
  add("unknown", "unknown", no_floor);
  if (want("macs")) {
    Case c{"macs", 64, {}};
    for (auto s : {System::kVnet, System::kBridge, System::kMacvlan})
      for (auto n : cfg.macs)
        if ((s != System::kMacvlan || n <= cfg.macvlan_max_macs) && want_system(s)) c.variants.push_back({s, n});
    if (!c.variants.empty()) cases.push_back(c);
  }
  if (want("ips") && want_system(System::kVnetIpvlan)) {
    Case c{"ips", 64, {}};
    for (auto n : cfg.ips) c.variants.push_back({System::kVnetIpvlan, 0, n});
    cases.push_back(c);
  }
  return cases;
}

std::string KernelIpvlanNote(const std::vector<Case>& cases) {
  // Kernel ipvlan, for the record: vnet-bench never measures it (the
  // vnet-ipvlan rows are set against vnet and the floor), and this machine
  // usually has no ipvlan driver at all.
  bool any_ipvlan = false;
  for (const auto& c : cases)
    for (const auto& v : c.variants) any_ipvlan |= v.system == System::kVnetIpvlan;
  std::string ipvlan_note;
  if (any_ipvlan) {
    std::string why;
    bool have = KernelIpvlanAvailable(absl::StrCat("vb", ::getpid() % 100000, "n0"), &why);
    ipvlan_note = have ? "kernel ipvlan is available but not measured by vnet-bench: vnet-ipvlan rows are "
                         "compared with vnet (MAC demultiplexing) and the floor"
                       : absl::StrCat("no kernel ipvlan on this machine (", why.empty() ? "no driver" : why,
                                      "): nothing to compare vnet-ipvlan with but vnet (MAC demultiplexing) "
                                      "and the floor");
  }
  return ipvlan_note;
}

}  // namespace vnet::bench
