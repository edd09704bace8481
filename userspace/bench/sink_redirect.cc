#include "bench/sink_redirect.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "loader/links.h"
#include "netlink/netns.h"
#include "pktgen.skel.h"

namespace vnet::bench {

void SkelDeleter::operator()(pktgen_bpf* s) const { pktgen_bpf__destroy(s); }

namespace {

absl::StatusOr<PktgenSkel> LoadOnly(bpf_program* (*pick)(pktgen_bpf*)) {
  PktgenSkel skel(pktgen_bpf__open());
  if (!skel) return ErrnoStatus(errno, "open", "benchmark BPF object");
  bpf_program* keep = pick(skel.get());
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) bpf_program__set_autoload(prog, prog == keep);
  if (int err = pktgen_bpf__load(skel.get())) return ErrnoStatus(err, "load", bpf_program__name(keep));
  return skel;
}

absl::StatusOr<std::uint32_t> IfindexIn(const std::string& dev) {
  unsigned idx = if_nametoindex(dev.c_str());
  if (!idx) return absl::NotFoundError(absl::StrCat(dev, ": no such device"));
  return idx;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Sink>> Sink::Attach(const std::string& netns, const std::string& dev) {
  auto sink = std::unique_ptr<Sink>(new Sink());
  VNET_ASSIGN_OR_RETURN(sink->skel_, LoadOnly([](pktgen_bpf* s) { return s->progs.sink_tc; }));
  VNET_ASSIGN_OR_RETURN(UniqueFd ns, OpenNamedNetns(netns));
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(ns.get(), netns));
  VNET_ASSIGN_OR_RETURN(std::uint32_t idx, IfindexIn(dev));
  VNET_ASSIGN_OR_RETURN(sink->link_, AttachTcx(bpf_program__fd(sink->skel_->progs.sink_tc), idx, dev,
                                               TcDirection::kIngress));
  return sink;
}

std::uint64_t Sink::Packets() const {
  int n = libbpf_num_possible_cpus();
  struct Count {
    std::uint64_t packets, bytes;
  };
  std::vector<Count> per_cpu(n > 0 ? n : 1);
  std::uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.sink_counts), &zero, per_cpu.data()) != 0) return 0;
  std::uint64_t sum = 0;
  for (const auto& c : per_cpu) sum += c.packets;
  return sum;
}

absl::StatusOr<std::unique_ptr<Redirect>> Redirect::Attach(const std::string& netns, const std::string& dev,
                                                           FloorKind kind, std::uint32_t target_ifindex) {
  auto r = std::unique_ptr<Redirect>(new Redirect());
  bool xdp = kind == FloorKind::kXdp;
  if (xdp) {
    VNET_ASSIGN_OR_RETURN(r->skel_, LoadOnly([](pktgen_bpf* s) { return s->progs.floor_xdp; }));
  } else {
    VNET_ASSIGN_OR_RETURN(r->skel_, LoadOnly([](pktgen_bpf* s) { return s->progs.floor_tc; }));
  }
  r->skel_->bss->target_ifindex = target_ifindex;
  r->skel_->bss->target_peer = kind == FloorKind::kTcPeer;
  VNET_ASSIGN_OR_RETURN(UniqueFd ns, OpenNamedNetns(netns));
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(ns.get(), netns));
  VNET_ASSIGN_OR_RETURN(std::uint32_t idx, IfindexIn(dev));
  if (xdp) {
    VNET_ASSIGN_OR_RETURN(XdpAttachment a, AttachXdp(bpf_program__fd(r->skel_->progs.floor_xdp), idx, dev,
                                                     XdpMode::kNative));
    r->link_ = std::move(a.link);
  } else {
    VNET_ASSIGN_OR_RETURN(r->link_, AttachTcx(bpf_program__fd(r->skel_->progs.floor_tc), idx, dev,
                                              TcDirection::kIngress));
  }
  return r;
}

}  // namespace vnet::bench
