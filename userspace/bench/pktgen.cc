#include "bench/pktgen.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "loader/aux_program.h"
#include "base/errors.h"
#include "netlink/netns.h"
#include "pktgen.skel.h"     // for the objects' bytes only (*_bpf__elf_bytes)
#include "pktgen_ip.skel.h"

namespace vnet::bench {
namespace {

using Clock = std::chrono::steady_clock;

void Put16(std::vector<std::uint8_t>& f, std::size_t at, std::uint16_t v) {
  f[at] = v >> 8;
  f[at + 1] = v & 0xff;
}

std::uint16_t IpChecksum(const std::uint8_t* p, std::size_t len) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += (p[i] << 8) | p[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

in6_addr Doc6(std::uint16_t last) {
  in6_addr a{};
  a.s6_addr[0] = 0x20;
  a.s6_addr[1] = 0x01;
  a.s6_addr[2] = 0x0d;
  a.s6_addr[3] = 0xb8;
  a.s6_addr[14] = last >> 8;
  a.s6_addr[15] = last & 0xff;
  return a;
}

bool IsZero6(const in6_addr& a) {
  for (auto b : a.s6_addr)
    if (b) return false;
  return true;
}

// Pins the calling thread for a scope.
class ScopedAffinity {
 public:
  explicit ScopedAffinity(int cpu) {
    if (cpu < 0) return;
    if (sched_getaffinity(0, sizeof(old_), &old_) != 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    active_ = sched_setaffinity(0, sizeof(set), &set) == 0;
  }
  ~ScopedAffinity() {
    if (active_) sched_setaffinity(0, sizeof(old_), &old_);
  }

 private:
  cpu_set_t old_{};
  bool active_ = false;
};

}  // namespace

absl::Status ParseProto(const std::string& text, FrameSpec& spec) {
  if (text == "udp") spec.proto = Proto::kUdp;
  else if (text == "udp6") spec.proto = Proto::kUdp6;
  else if (text == "ipv4") spec.proto = Proto::kIpv4;
  else if (text == "ipv6") spec.proto = Proto::kIpv6;
  else if (absl::StartsWith(text, "raw:")) {
    std::string num = text.substr(4);
    std::uint32_t v = 0;
    bool ok = absl::StartsWith(num, "0x") ? absl::SimpleHexAtoi(num.substr(2), &v) : absl::SimpleAtoi(num, &v);
    if (!ok || v < 0x600 || v > 0xffff)
      return absl::InvalidArgumentError(absl::StrCat("--proto ", text, ": EtherType must be 0x0600..0xffff"));
    spec.proto = Proto::kRaw;
    spec.ethertype = static_cast<std::uint16_t>(v);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--proto ", text, ": want ipv4, ipv6, udp, udp6 or raw:ETHERTYPE"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::uint8_t>> BuildFrame(const FrameSpec& spec) {
  std::size_t l2 = 14 + (spec.vlan >= 0 ? 4 : 0);
  std::size_t min = l2;
  switch (spec.proto) {
    case Proto::kUdp: min += 28; break;
    case Proto::kIpv4: min += 20; break;
    case Proto::kUdp6: min += 48; break;
    case Proto::kIpv6: min += 40; break;
    case Proto::kRaw: break;
  }
  if (spec.size < 60 || spec.size > 1514 || spec.size < min)
    return absl::InvalidArgumentError(absl::StrCat("frame size ", spec.size, ": must be ", std::max<std::size_t>(min, 60),
                                                   "..1514 bytes for this protocol"));
  if (spec.vlan > 4094) return absl::InvalidArgumentError("--vlan: VID must be 0..4094");
  std::vector<std::uint8_t> f(spec.size, 0);
  std::memcpy(&f[0], spec.dst.bytes.data(), 6);
  std::memcpy(&f[6], spec.src.bytes.data(), 6);
  std::size_t at = 12;
  if (spec.vlan >= 0) {
    Put16(f, at, 0x8100);
    Put16(f, at + 2, static_cast<std::uint16_t>(spec.vlan));
    at += 4;
  }
  std::size_t l3 = at + 2;
  std::size_t l3_len = spec.size - l3;
  switch (spec.proto) {
    case Proto::kUdp:
    case Proto::kIpv4: {
      Put16(f, at, 0x0800);
      f[l3] = 0x45;
      Put16(f, l3 + 2, static_cast<std::uint16_t>(l3_len));
      f[l3 + 8] = 64;
      f[l3 + 9] = spec.proto == Proto::kUdp ? 17 : 253;  // 253: RFC 3692 experiment
      std::memcpy(&f[l3 + 12], &spec.src4, 4);
      std::memcpy(&f[l3 + 16], &spec.dst4, 4);
      Put16(f, l3 + 10, IpChecksum(&f[l3], 20));
      if (spec.proto == Proto::kUdp) {
        Put16(f, l3 + 20, spec.sport);
        Put16(f, l3 + 22, spec.dport);
        Put16(f, l3 + 24, static_cast<std::uint16_t>(l3_len - 20));
        // checksum 0: none (IPv4 allows it)
      }
      break;
    }
    case Proto::kUdp6:
    case Proto::kIpv6: {
      Put16(f, at, 0x86dd);
      f[l3] = 0x60;
      Put16(f, l3 + 4, static_cast<std::uint16_t>(l3_len - 40));
      f[l3 + 6] = spec.proto == Proto::kUdp6 ? 17 : 59;  // 59: no next header
      f[l3 + 7] = 64;
      in6_addr src = IsZero6(spec.src6) ? Doc6(0x100) : spec.src6;
      in6_addr dst = IsZero6(spec.dst6) ? Doc6(0x11) : spec.dst6;
      std::memcpy(&f[l3 + 8], &src, 16);
      std::memcpy(&f[l3 + 24], &dst, 16);
      if (spec.proto == Proto::kUdp6) {
        std::size_t u = l3 + 40;
        std::uint16_t ulen = static_cast<std::uint16_t>(l3_len - 40);
        Put16(f, u, spec.sport);
        Put16(f, u + 2, spec.dport);
        Put16(f, u + 4, ulen);
        // UDP over IPv6 needs a checksum: pseudo-header + datagram.
        std::vector<std::uint8_t> ph(40 + ulen, 0);
        std::memcpy(&ph[0], &src, 16);
        std::memcpy(&ph[16], &dst, 16);
        ph[34] = ulen >> 8;
        ph[35] = ulen & 0xff;
        ph[39] = 17;
        std::memcpy(&ph[40], &f[u], ulen);
        if (ph.size() % 2) ph.push_back(0);
        std::uint16_t c = IpChecksum(ph.data(), ph.size());
        Put16(f, u + 6, c ? c : 0xffff);
      }
      break;
    }
    case Proto::kRaw:
      Put16(f, at, spec.ethertype);
      break;
  }
  return f;
}

bool KernelPktgenAvailable() { return ::access("/proc/net/pktgen", F_OK) == 0; }

absl::StatusOr<GenResult> RunGenerator(const GenOptions& opts, const std::atomic<bool>* stop) {
  if (opts.count == 0 && opts.duration <= 0 && !stop)
    return absl::InvalidArgumentError("generator: give a frame count or a duration");
  VNET_ASSIGN_OR_RETURN(std::vector<std::uint8_t> frame, BuildFrame(opts.frame));

  std::optional<ScopedNetns> in_netns;
  if (!opts.netns.empty()) {
    VNET_ASSIGN_OR_RETURN(UniqueFd ns, OpenNamedNetns(opts.netns));
    auto entered = ScopedNetns::Enter(ns.get(), opts.netns);
    if (!entered.ok()) return entered.status();
    in_netns.emplace(std::move(*entered));
  }
  unsigned ifindex = if_nametoindex(opts.dev.c_str());
  if (!ifindex)
    return absl::NotFoundError(absl::StrCat(opts.dev, ": no such device",
                                            opts.netns.empty() ? "" : absl::StrCat(" in netns ", opts.netns)));

  // The MAC-rotating program (bpf/pktgen.bpf.c), or with dst4_count > 1 the
  // one that also rotates the IPv4 destination (pktgen_ip.bpf.c).
  std::optional<AuxProgram> prog;
  if (opts.frame.dst4_count > 1) {
    if (opts.frame.proto != Proto::kUdp && opts.frame.proto != Proto::kIpv4)
      return absl::InvalidArgumentError("generator: rotating destination IPs needs IPv4 frames (udp or ipv4)");
    if (opts.frame.src_count > 1)
      return absl::InvalidArgumentError("generator: rotating destination IPs and source MACs together is not supported");
    std::size_t size = 0;
    const void* elf = pktgen_ip_bpf__elf_bytes(&size);
    VNET_ASSIGN_OR_RETURN(prog, AuxProgram::Load(elf, size, "pktgen_ip_bpf", "pktgen_ip_xdp"));
    VNET_RETURN_IF_ERROR(prog->SetGlobal("dst_base", opts.frame.dst.bytes.data(), 6));
    VNET_RETURN_IF_ERROR(prog->SetGlobal<std::uint32_t>("dst_count", opts.frame.dst_count));
    VNET_RETURN_IF_ERROR(prog->SetGlobal<std::uint32_t>("ip_offset", opts.frame.vlan >= 0 ? 18 : 14));
    VNET_RETURN_IF_ERROR(prog->SetGlobal<std::uint32_t>("dst4_base", ntohl(opts.frame.dst4.s_addr)));
    VNET_RETURN_IF_ERROR(prog->SetGlobal<std::uint32_t>("dst4_count", opts.frame.dst4_count));
  } else {
    std::size_t size = 0;
    const void* elf = pktgen_bpf__elf_bytes(&size);
    VNET_ASSIGN_OR_RETURN(prog, AuxProgram::Load(elf, size, "pktgen_bpf", "pktgen_xdp"));
    VNET_RETURN_IF_ERROR(prog->SetGlobal("dst_base", opts.frame.dst.bytes.data(), 6));
    VNET_RETURN_IF_ERROR(prog->SetGlobal("src_base", opts.frame.src.bytes.data(), 6));
    VNET_RETURN_IF_ERROR(prog->SetGlobal<std::uint32_t>("dst_count", opts.frame.dst_count));
    VNET_RETURN_IF_ERROR(prog->SetGlobal<std::uint32_t>("src_count", opts.frame.src_count));
  }

  ScopedAffinity pin(opts.cpu);
  GenResult result;
  const auto start = Clock::now();
  const auto deadline = opts.duration > 0
                            ? start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opts.duration))
                            : Clock::time_point::max();
  // Frames per BPF_PROG_RUN call. Each call ends with an RCU grace period
  // (page pool teardown), so calls are made long: about a quarter second of
  // frames at full speed, adapted from the kernel's per-frame time; under a
  // rate limit, 1/20 s worth followed by a sleep. The kernel itself works in
  // NAPI-sized batches of 64 frames, flushing the device after each.
  std::uint64_t per_call = opts.rate ? std::max<std::uint64_t>(1, opts.rate / 20) : 65536;
  if (opts.rate && opts.max_burst) per_call = std::min<std::uint64_t>(per_call, opts.max_burst);
  for (;;) {
    if (stop && stop->load(std::memory_order_relaxed)) break;
    auto now = Clock::now();
    if (now >= deadline) break;
    std::uint64_t n = per_call;
    if (opts.count) {
      if (result.frames >= opts.count) break;
      n = std::min<std::uint64_t>(n, opts.count - result.frames);
    }
    if (opts.rate) {
      auto due = start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(result.frames) / opts.rate));
      if (due > now) {
        std::this_thread::sleep_until(std::min(due, deadline));
        continue;
      }
    }
    absl::StatusOr<std::uint32_t> ns_per_frame = prog->RunXdpLiveFrames(frame, ifindex, static_cast<std::uint32_t>(n));
    if (!ns_per_frame.ok()) {
      if (absl::IsInvalidArgument(ns_per_frame.status()) && result.frames == 0)
        return absl::FailedPreconditionError(absl::StrCat(
            "generator: BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES refused on ", opts.dev,
            " (needs Linux 5.18+ and an up device): ", ns_per_frame.status().message()));
      return absl::Status(ns_per_frame.status().code(),
                          absl::StrCat("run generator on ", opts.dev, ": ", ns_per_frame.status().message()));
    }
    const std::uint32_t duration = *ns_per_frame;
    result.frames += n;
    result.busy_seconds += static_cast<double>(duration) * n / 1e9;
    if (!opts.rate && duration > 0) {
      double left = std::chrono::duration<double>(deadline - Clock::now()).count();
      double want = std::min(0.25, opts.duration > 0 ? left : 0.25);
      per_call = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(want * 1e9 / duration), 4096, 1u << 24);
    }
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace vnet::bench
