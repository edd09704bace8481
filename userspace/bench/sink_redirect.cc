#include "bench/sink_redirect.h"

#include <net/if.h>

#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "loader/links.h"
#include "netlink/netns.h"
#include "pktgen.skel.h"  // for the object's bytes only (pktgen_bpf__elf_bytes)

namespace vnet::bench {
namespace {

// bpf/pktgen.bpf.c, with only the one program wanted loaded.
absl::StatusOr<AuxProgram> LoadOnly(const char* program) {
  std::size_t size = 0;
  const void* elf = pktgen_bpf__elf_bytes(&size);
  return AuxProgram::Load(elf, size, "pktgen_bpf", program);
}

absl::StatusOr<std::uint32_t> IfindexIn(const std::string& dev) {
  unsigned idx = if_nametoindex(dev.c_str());
  if (!idx) return absl::NotFoundError(absl::StrCat(dev, ": no such device"));
  return idx;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Sink>> Sink::Attach(const std::string& netns, const std::string& dev,
                                                   bool unicast_only) {
  VNET_ASSIGN_OR_RETURN(AuxProgram prog, LoadOnly(unicast_only ? "sink_unicast_tc" : "sink_tc"));
  auto sink = std::unique_ptr<Sink>(new Sink(std::move(prog)));
  VNET_ASSIGN_OR_RETURN(UniqueFd ns, OpenNamedNetns(netns));
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(ns.get(), netns));
  VNET_ASSIGN_OR_RETURN(std::uint32_t idx, IfindexIn(dev));
  VNET_ASSIGN_OR_RETURN(sink->link_, AttachTcx(sink->prog_.fd(), idx, dev, TcDirection::kIngress));
  return sink;
}

std::uint64_t Sink::Packets() const {
  // sink_counts: one {packets, bytes} per CPU.
  struct Count {
    std::uint64_t packets, bytes;
  };
  auto raw = prog_.LookupPerCpu("sink_counts", 0, sizeof(Count));
  if (!raw.ok()) return 0;
  std::uint64_t sum = 0;
  for (std::size_t at = 0; at + sizeof(Count) <= raw->size(); at += sizeof(Count)) {
    Count c;
    std::memcpy(&c, raw->data() + at, sizeof(c));
    sum += c.packets;
  }
  return sum;
}

absl::StatusOr<std::unique_ptr<Redirect>> Redirect::Attach(const std::string& netns, const std::string& dev,
                                                           FloorKind kind, std::uint32_t target_ifindex) {
  bool xdp = kind == FloorKind::kXdp;
  VNET_ASSIGN_OR_RETURN(AuxProgram prog, LoadOnly(xdp ? "floor_xdp" : "floor_tc"));
  auto r = std::unique_ptr<Redirect>(new Redirect(std::move(prog)));
  VNET_RETURN_IF_ERROR(r->prog_.SetGlobal<std::uint32_t>("target_ifindex", target_ifindex));
  VNET_RETURN_IF_ERROR(r->prog_.SetGlobal<std::uint32_t>("target_peer", kind == FloorKind::kTcPeer ? 1 : 0));
  VNET_ASSIGN_OR_RETURN(UniqueFd ns, OpenNamedNetns(netns));
  VNET_ASSIGN_OR_RETURN(ScopedNetns in, ScopedNetns::Enter(ns.get(), netns));
  VNET_ASSIGN_OR_RETURN(std::uint32_t idx, IfindexIn(dev));
  if (xdp) {
    VNET_ASSIGN_OR_RETURN(XdpAttachment a, AttachXdp(r->prog_.fd(), idx, dev, XdpMode::kNative));
    r->link_ = std::move(a.link);
  } else {
    VNET_ASSIGN_OR_RETURN(r->link_, AttachTcx(r->prog_.fd(), idx, dev, TcDirection::kIngress));
  }
  return r;
}

}  // namespace vnet::bench
