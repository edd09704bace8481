#include "bench/vxlan_topology.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/exec.h"
#include "bench/teardown.h"
#include "bench/vnet_driver.h"
#include "base/errors.h"

namespace vnet::bench {
namespace {

const char* const kUnderlayAddr[2] = {"198.18.200.1", "198.18.200.2"};

absl::Status Ip(const std::string& ns, std::vector<std::string> args) {
  std::vector<std::string> argv = {"ip", "-n", ns};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv).status();
}

// A fresh namespace: loopback up, IPv6 off (no autoconf, DAD or MLD chatter
// in the measurements).
absl::Status AddNetns(const std::string& name, std::vector<std::string>& owned) {
  VNET_RETURN_IF_ERROR(Run({"ip", "netns", "add", name}).status());
  TrackNetns(name);
  owned.push_back(name);
  VNET_RETURN_IF_ERROR(Ip(name, {"link", "set", "lo", "up"}));
  return Run({"sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"}, 30, name)
      .status();
}

}  // namespace

absl::StatusOr<std::unique_ptr<VxlanUnderlay>> VxlanUnderlay::Build(const std::string& tag, int napi_cpu) {
  auto u = std::unique_ptr<VxlanUnderlay>(new VxlanUnderlay());
  for (const char* h : {"a", "b"}) VNET_RETURN_IF_ERROR(AddNetns(tag + h, u->hosts_));
  const std::string& A = u->hosts_[0];
  const std::string& B = u->hosts_[1];
  VNET_RETURN_IF_ERROR(Ip(A, {"link", "add", "ul0", "mtu", absl::StrCat(kUnderlayMtu), "type", "veth", "peer", "name",
                              "ul0", "mtu", absl::StrCat(kUnderlayMtu), "netns", B}));
  for (int i = 0; i < 2; ++i) {
    const std::string& ns = u->hosts_[i];
    VNET_RETURN_IF_ERROR(Ip(ns, {"addr", "add", absl::StrCat(kUnderlayAddr[i], "/24"), "dev", "ul0"}));
    VNET_RETURN_IF_ERROR(Ip(ns, {"link", "set", "ul0", "up"}));
    // A NIC's GRO (the UDP tunnel GRO that lets VXLAN aggregate inner TCP
    // segments needs it); also gives the veth NAPI for the threading below.
    VNET_RETURN_IF_ERROR(Run({"ethtool", "-K", "ul0", "gro", "on"}, 30, ns).status());
    // The VXLAN device as a user makes it for macvlan: learning, the other
    // host as the all-zeros (flood and unknown) FDB destination.
    VNET_RETURN_IF_ERROR(Ip(ns, {"link", "add", "vx0", "mtu", absl::StrCat(kOverlayMtu), "type", "vxlan", "id",
                                 absl::StrCat(kVxlanVni), "dev", "ul0", "local", kUnderlayAddr[i], "dstport", "4789",
                                 "learning"}));
    VNET_RETURN_IF_ERROR(Run({"bridge", "-n", ns, "fdb", "append", "00:00:00:00:00:00", "dev", "vx0", "dst",
                              kUnderlayAddr[1 - i]})
                             .status());
    VNET_RETURN_IF_ERROR(Ip(ns, {"link", "set", "vx0", "up"}));
  }
  if (napi_cpu >= 0) {
    VNET_ASSIGN_OR_RETURN(Device b_ul0, DescribeDevice(B, "ul0"));
    VNET_RETURN_IF_ERROR(ThreadNapiOn({b_ul0}, napi_cpu));
  }
  return u;
}

VxlanUnderlay::~VxlanUnderlay() {
  for (auto it = hosts_.rbegin(); it != hosts_.rend(); ++it) RemoveTrackedNetns(*it);
}

std::string VxlanUnderlay::Describe() const {
  return absl::StrCat("hosts ", hosts_[0], " and ", hosts_[1], " joined by a veth pair ul0 (", kUnderlayAddr[0], ", ",
                      kUnderlayAddr[1], ", MTU ", kUnderlayMtu, ", GRO on); on each vx0: vxlan id ", kVxlanVni,
                      " dev ul0 local ADDR dstport 4789 learning, MTU ", kOverlayMtu,
                      ", FDB 00:00:00:00:00:00 dst OTHER-HOST");
}

absl::StatusOr<std::unique_ptr<VxlanContainers>> VxlanContainers::Build(const VxlanUnderlay& underlay, System system,
                                                                        const std::string& tag) {
  auto c = std::unique_ptr<VxlanContainers>(new VxlanContainers());
  const char* const addr[2] = {kContainerA, kContainerB};
  for (int i = 0; i < 2; ++i) {
    const std::string host = underlay.host(i);
    const std::string cns = absl::StrCat(tag, i == 0 ? "ca" : "cb");
    VNET_RETURN_IF_ERROR(AddNetns(cns, c->namespaces_));
    if (IsVnet(system)) {
      const std::string fabric = absl::StrCat(tag, i == 0 ? "fa" : "fb");
      VnetDriver vnet(host);
      VnetAttachRequest attach;
      attach.uplink = "vx0";
      attach.fabric = fabric;
      attach.xdp_off = system == System::kVnetTc;
      TrackFabric(fabric, host);
      c->fabrics_.push_back({fabric, host});
      VNET_RETURN_IF_ERROR(vnet.Attach(attach));
      if (i == 0) {
        auto mode = vnet.UplinkXdpMode(fabric);
        c->xdp_mode_ = mode.ok() ? *mode : std::string("unknown");
      }
      VnetPortRequest port;
      port.fabric = fabric;
      port.netns = cns;
      VNET_RETURN_IF_ERROR(vnet.AddPort(port).status());
    } else {
      VNET_RETURN_IF_ERROR(Ip(host, {"link", "add", "link", "vx0", "name", "mvx", "type", "macvlan", "mode", "bridge"}));
      VNET_RETURN_IF_ERROR(Ip(host, {"link", "set", "mvx", "netns", cns}));
      VNET_RETURN_IF_ERROR(Ip(cns, {"link", "set", "mvx", "name", "eth0"}));
    }
    VNET_RETURN_IF_ERROR(Ip(cns, {"link", "set", "eth0", "up"}));
    VNET_RETURN_IF_ERROR(Ip(cns, {"addr", "add", absl::StrCat(addr[i], "/24"), "dev", "eth0"}));
    VNET_ASSIGN_OR_RETURN(Device d, DescribeDevice(cns, "eth0"));
    c->containers_.push_back(d);
  }
  // The generator's veth pair inside cA: frames sent on gi arrive on go,
  // whose tc ingress redirects them out of cA's eth0 as if cA sent them.
  const std::string& CA = c->namespaces_[0];
  VNET_RETURN_IF_ERROR(Ip(CA, {"link", "add", "gi", "type", "veth", "peer", "name", "go"}));
  VNET_RETURN_IF_ERROR(Ip(CA, {"link", "set", "gi", "up"}));
  VNET_RETURN_IF_ERROR(Ip(CA, {"link", "set", "go", "up"}));
  VNET_RETURN_IF_ERROR(Run({"ethtool", "-K", "go", "gro", "on"}, 30, CA).status());
  VNET_ASSIGN_OR_RETURN(c->injector_, DescribeDevice(CA, "gi"));
  VNET_ASSIGN_OR_RETURN(c->redirect_, Redirect::Attach(CA, "go", FloorKind::kTcEgress, c->containers_[0].ifindex));
  return c;
}

VxlanContainers::~VxlanContainers() {
  redirect_.reset();
  // Fabrics first (their ports still exist), then the containers; the VXLAN
  // devices stay for the next system.
  for (const auto& [fabric, host] : fabrics_) RemoveTrackedFabric(fabric, host);
  for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) RemoveTrackedNetns(*it);
}

absl::StatusOr<LinkPackets> ReadLinkPackets(const std::string& netns, const std::string& dev) {
  VNET_ASSIGN_OR_RETURN(std::string out, Run({"ip", "-n", netns, "-s", "-j", "link", "show", "dev", dev}, 30));
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (!j.is_array() || j.empty() || !j[0].contains("stats64"))
    return absl::InternalError(absl::StrCat("ip -s link show ", dev, " in ", netns, ": no stats64"));
  const auto& s = j[0]["stats64"];
  LinkPackets p;
  p.rx = s["rx"].value("packets", 0ull);
  p.tx = s["tx"].value("packets", 0ull);
  p.rx_dropped = s["rx"].value("dropped", 0ull);
  p.tx_dropped = s["tx"].value("dropped", 0ull);
  return p;
}

absl::StatusOr<std::uint64_t> ReadUdpDelivered(const std::string& netns) {
  // /proc/net is the reading process's namespace: cat runs in `netns`.
  VNET_ASSIGN_OR_RETURN(std::string snmp, Run({"cat", "/proc/net/snmp"}, 30, netns));
  std::vector<std::string> names, values;
  for (absl::string_view line : absl::StrSplit(snmp, '\n')) {
    if (!absl::StartsWith(line, "Udp: ")) continue;
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    (names.empty() ? names : values) = f;
  }
  std::uint64_t in = 0, no_ports = 0;
  bool have_in = false, have_no_ports = false;
  for (std::size_t i = 1; i < names.size() && i < values.size(); ++i) {
    if (names[i] == "InDatagrams") have_in = absl::SimpleAtoi(values[i], &in);
    if (names[i] == "NoPorts") have_no_ports = absl::SimpleAtoi(values[i], &no_ports);
  }
  if (!have_in || !have_no_ports)
    return absl::InternalError(absl::StrCat("/proc/net/snmp in ", netns, ": no Udp InDatagrams/NoPorts"));
  return in + no_ports;
}

}  // namespace vnet::bench
