#include "bench/flood_topology.h"

#include <algorithm>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "bench/exec.h"
#include "bench/teardown.h"
#include "bench/vnet_driver.h"
#include "base/errors.h"
#include "netlink/device_tuning.h"
#include "netlink/netns.h"

namespace vnet::bench {
namespace {

absl::Status Ip(const std::string& ns, std::vector<std::string> args) {
  std::vector<std::string> argv = {"ip", "-n", ns};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv).status();
}

// Ports are added in chunks of this many commands per batch round trip.
constexpr std::size_t kChunk = 256;

absl::Status DoChunked(IpBatch& batch, const std::vector<std::string>& commands) {
  for (std::size_t at = 0; at < commands.size(); at += kChunk) {
    std::vector<std::string> part(commands.begin() + at,
                                  commands.begin() + std::min(commands.size(), at + kChunk));
    VNET_RETURN_IF_ERROR(batch.Do(part, 600));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status FloodTopology::AddNetns(const std::string& name) {
  VNET_RETURN_IF_ERROR(Run({"ip", "netns", "add", name}).status());
  TrackNetns(name);
  namespaces_.push_back(name);
  // No IPv6 autoconf, DAD or MLD chatter: the counters count the frames sent.
  return Run({"ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
              "net.ipv6.conf.default.disable_ipv6=1"})
      .status();
}

absl::StatusOr<std::unique_ptr<FloodTopology>> FloodTopology::Build(System system, const std::string& tag,
                                                                    int napi_cpu, bool vnet_host_tso) {
  auto t = std::unique_ptr<FloodTopology>(new FloodTopology(system));
  t->vnet_host_tso_ = vnet_host_tso;
  t->host_ = tag + "h";
  t->ext_ = tag + "e";
  t->ct_ = tag + "c";
  for (const auto& ns : {t->host_, t->ext_, t->ct_}) VNET_RETURN_IF_ERROR(t->AddNetns(ns));
  const std::string& H = t->host_;
  const std::string& E = t->ext_;
  VNET_RETURN_IF_ERROR(Ip(E, {"link", "add", "wire", "type", "veth", "peer", "name", "up0", "netns", H}));
  VNET_RETURN_IF_ERROR(Ip(E, {"link", "set", "wire", "up"}));
  VNET_RETURN_IF_ERROR(Run({"ip", "netns", "exec", E, "ethtool", "-K", "wire", "tx", "off"}).status());
  VNET_RETURN_IF_ERROR(Ip(H, {"link", "set", "up0", "up"}));
  // NAPI on up0 (frames transmitted into it by XDP need it), for all alike.
  VNET_RETURN_IF_ERROR(Run({"ip", "netns", "exec", H, "ethtool", "-K", "up0", "gro", "on"}).status());
  VNET_ASSIGN_OR_RETURN(t->wire_, DescribeDevice(E, "wire"));
  if (system == System::kVnet) {
    t->fabric_ = tag + "f";
    VnetAttachRequest attach;
    attach.uplink = "up0";
    attach.fabric = t->fabric_;
    attach.xdp_redirect = true;  // the path a NIC uplink takes (see topology.cc)
    TrackFabric(t->fabric_, H);
    VNET_RETURN_IF_ERROR(VnetDriver(H).Attach(attach));
  } else if (system == System::kBridge) {
    Run({"ip", "netns", "exec", H, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0",
         "net.bridge.bridge-nf-call-ip6tables=0", "net.bridge.bridge-nf-call-arptables=0"})
        .IgnoreError();
    VNET_RETURN_IF_ERROR(Ip(H, {"link", "add", "br0", "type", "bridge"}));
    VNET_RETURN_IF_ERROR(Ip(H, {"link", "set", "br0", "up"}));
    VNET_RETURN_IF_ERROR(Ip(H, {"link", "set", "up0", "master", "br0"}));
  } else if (system != System::kMacvlan) {
    return absl::InvalidArgumentError(absl::StrCat("flooding at scale: no topology for ", SystemName(system)));
  }
  VNET_ASSIGN_OR_RETURN(IpBatch hb, IpBatch::Start(H));
  t->host_batch_.emplace(std::move(hb));
  VNET_ASSIGN_OR_RETURN(IpBatch cb, IpBatch::Start(t->ct_));
  t->ct_batch_.emplace(std::move(cb));
  if (napi_cpu >= 0) {
    VNET_ASSIGN_OR_RETURN(Device up0, DescribeDevice(H, "up0"));
    VNET_RETURN_IF_ERROR(ThreadNapiOn({up0}, napi_cpu));
  }
  return t;
}

absl::Status FloodTopology::GrowTo(std::uint32_t n) {
  std::vector<std::string> host_cmds, ct_cmds, fresh;
  for (std::uint32_t i = ports(); i < n; ++i) {
    std::string e = absl::StrCat("e", i);
    fresh.push_back(e);
    if (system_ == System::kVnet) {
      VnetPortRequest p;
      p.fabric = fabric_;
      p.netns = ct_;
      p.ifname = e;
      VNET_ASSIGN_OR_RETURN(std::string dev, VnetDriver(host_).AddPort(p));
      if (vnet_host_tso_) {
        VNET_ASSIGN_OR_RETURN(UniqueFd ns, OpenNamedNetns(host_));
        VNET_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(ns.get(), host_));
        VNET_RETURN_IF_ERROR(SetTso(dev, true));
      }
      continue;
    }
    if (system_ == System::kMacvlan) {
      host_cmds.push_back(absl::StrCat("link add link up0 name ", e, " type macvlan mode bridge"));
      host_cmds.push_back(absl::StrCat("link set ", e, " netns ", ct_));
    } else {
      std::string vh = absl::StrCat("vh", i);
      host_cmds.push_back(absl::StrCat("link add ", vh, " type veth peer name ", e, " netns ", ct_));
      host_cmds.push_back(absl::StrCat("link set ", vh, " master br0"));
      host_cmds.push_back(absl::StrCat("link set ", vh, " up"));
    }
    ct_cmds.push_back(absl::StrCat("link set ", e, " up"));
  }
  VNET_RETURN_IF_ERROR(DoChunked(*host_batch_, host_cmds));
  VNET_RETURN_IF_ERROR(DoChunked(*ct_batch_, ct_cmds));
  if (system_ == System::kBridge && !fresh.empty()) {
    // NAPI on the container ends, as on the vnet topology's (topology.cc).
    std::string script = "for d in";
    for (const auto& e : fresh) absl::StrAppend(&script, " ", e);
    absl::StrAppend(&script, "; do ethtool -K $d gro on || exit 1; done");
    VNET_RETURN_IF_ERROR(Run({"ip", "netns", "exec", ct_, "sh", "-c", script}, 600).status());
  }
  names_.insert(names_.end(), fresh.begin(), fresh.end());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::uint64_t>> FloodTopology::RxPackets() {
  VNET_ASSIGN_OR_RETURN(std::string out, Run({"ip", "-n", ct_, "-s", "-j", "link", "show"}, 120));
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (!j.is_array()) return absl::InternalError(absl::StrCat("ip -s -j link show in ", ct_, ": no JSON"));
  std::map<std::string, std::uint64_t> rx;
  for (const auto& link : j) {
    if (!link.contains("ifname") || !link.contains("stats64")) continue;
    rx[link["ifname"].get<std::string>()] = link["stats64"]["rx"].value("packets", std::uint64_t{0});
  }
  std::vector<std::uint64_t> v;
  v.reserve(names_.size());
  for (const auto& e : names_) {
    auto it = rx.find(e);
    if (it == rx.end()) return absl::NotFoundError(absl::StrCat(e, " in ", ct_, ": missing from the link dump"));
    v.push_back(it->second);
  }
  return v;
}

absl::StatusOr<Device> FloodTopology::Port(std::uint32_t i) const {
  if (i >= names_.size()) return absl::OutOfRangeError(absl::StrCat("port ", i, " of ", names_.size()));
  return DescribeDevice(ct_, names_[i]);
}

absl::StatusOr<Device> FloodTopology::AddUnicastPair() {
  VNET_ASSIGN_OR_RETURN(Device e0, Port(0));
  VNET_ASSIGN_OR_RETURN(Device e1, Port(1));
  // gi -> go (same namespace); go's tc ingress sends the frame out of e0.
  VNET_RETURN_IF_ERROR(Ip(ct_, {"link", "add", "gi", "type", "veth", "peer", "name", "go"}));
  VNET_RETURN_IF_ERROR(Ip(ct_, {"link", "set", "gi", "up"}));
  VNET_RETURN_IF_ERROR(Ip(ct_, {"link", "set", "go", "up"}));
  VNET_RETURN_IF_ERROR(Run({"ip", "netns", "exec", ct_, "ethtool", "-K", "go", "gro", "on"}).status());
  VNET_ASSIGN_OR_RETURN(injector_, Redirect::Attach(ct_, "go", FloorKind::kTcEgress, e0.ifindex));
  VNET_ASSIGN_OR_RETURN(unicast_sink_, Sink::Attach(ct_, e1.name, /*unicast_only=*/true));
  return DescribeDevice(ct_, "gi");
}

FloodTopology::~FloodTopology() {
  unicast_sink_.reset();
  injector_.reset();
  host_batch_.reset();
  ct_batch_.reset();
  if (!fabric_.empty()) RemoveTrackedFabric(fabric_, host_);
  for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) RemoveTrackedNetns(*it);
}

}  // namespace vnet::bench
