// vnet-guard-tool: drives a VXLAN fabric's underlay guard through libvnet's
// C++ API (fabric/vxlan_guard.h) for the netns tests, until vnetctl has the
// commands. Test-only: built with the tests, never installed.
//   vnet-guard-tool attach [--cls-bpf] FABRIC UNDERLAY VNI DSTPORT [REMOTE]...
//   vnet-guard-tool add|del FABRIC ADDR
//   vnet-guard-tool list FABRIC        one allowed remote per line
//   vnet-guard-tool show FABRIC        one JSON object: settings, remotes, counters
//   vnet-guard-tool detach FABRIC
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fabric/vxlan_guard.h"

namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "vnet-guard-tool: %s\n", std::string(s.message()).c_str());
  return 1;
}

int Usage() {
  std::fprintf(stderr,
               "usage: vnet-guard-tool attach [--cls-bpf] FABRIC UNDERLAY VNI DSTPORT [REMOTE]... | add|del FABRIC ADDR |"
               " list|show|detach FABRIC\n");
  return 2;
}

int Run(std::vector<std::string> a) {
  using vnet::IpAddress;
  using vnet::VxlanGuard;
  bool cls_bpf = false;
  if (a.size() > 1 && a[0] == "attach" && a[1] == "--cls-bpf") {
    cls_bpf = true;
    a.erase(a.begin() + 1);
  }
  if (a.size() < 2) return Usage();
  const std::string& cmd = a[0];
  const std::string& fabric = a[1];
  if (cmd == "attach") {
    if (a.size() < 5) return Usage();
    vnet::VxlanGuardSpec spec;
    spec.fabric = fabric;
    spec.underlay = a[2];
    spec.cls_bpf = cls_bpf;
    std::uint32_t port = 0;
    if (!absl::SimpleAtoi(a[3], &spec.vni) || !absl::SimpleAtoi(a[4], &port) || port > 65535) return Usage();
    spec.dstport = static_cast<std::uint16_t>(port);
    for (std::size_t i = 5; i < a.size(); ++i) {
      auto ip = IpAddress::Parse(a[i]);
      if (!ip.ok()) return Fail(ip.status());
      spec.remotes.push_back(*ip);
    }
    auto g = VxlanGuard::Attach(spec);
    return g.ok() ? 0 : Fail(g.status());
  }
  if (cmd == "detach") {
    auto s = VxlanGuard::DetachIfPresent(fabric);
    return s.ok() ? 0 : Fail(s);
  }
  auto g = VxlanGuard::Open(fabric);
  if (!g.ok()) return Fail(g.status());
  if (cmd == "add" || cmd == "del") {
    if (a.size() != 3) return Usage();
    auto ip = IpAddress::Parse(a[2]);
    if (!ip.ok()) return Fail(ip.status());
    auto s = cmd == "add" ? g->AddRemote(*ip) : g->RemoveRemote(*ip);
    return s.ok() ? 0 : Fail(s);
  }
  if (cmd == "list") {
    auto r = g->Remotes();
    if (!r.ok()) return Fail(r.status());
    for (const auto& ip : *r) std::printf("%s\n", ip.ToString().c_str());
    return 0;
  }
  if (cmd == "show") {
    auto info = g->Describe();
    if (!info.ok()) return Fail(info.status());
    std::vector<std::string> remotes;
    for (const auto& ip : info->remotes) remotes.push_back(absl::StrCat("\"", ip.ToString(), "\""));
    const auto& c = info->counters;
    std::printf("%s\n",
                absl::StrCat("{\"fabric\":\"", info->fabric, "\",\"underlay\":\"", info->underlay,
                             "\",\"underlay_ifindex\":", info->underlay_ifindex, ",\"vni\":", info->vni,
                             ",\"dstport\":", info->dstport, ",\"cls_bpf\":", info->cls_bpf ? "true" : "false",
                             ",\"attached\":", info->attached ? "true" : "false", ",\"remotes\":[",
                             absl::StrJoin(remotes, ","), "],\"dropped_packets\":", c.dropped_packets,
                             ",\"dropped_bytes\":", c.dropped_bytes, ",\"allowed_packets\":", c.allowed_packets,
                             ",\"fragments_passed\":", c.fragments_passed, "}")
                    .c_str());
    return 0;
  }
  return Usage();
}

}  // namespace

int main(int argc, char** argv) { return Run(std::vector<std::string>(argv + 1, argv + argc)); }
