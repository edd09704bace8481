// vnet's packet generator: real frames transmitted on a device by an XDP
// program (bpf/pktgen.bpf.c) run with BPF_PROG_RUN in live-frames mode. Each
// run of the program returns XDP_TX, so the kernel sends the frame out of the
// device (for a veth: into its peer's receive ring, as a wire would).
#ifndef VNET_BENCH_PKTGEN_H
#define VNET_BENCH_PKTGEN_H

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/mac_address.h"

namespace vnet::bench {

enum class Proto { kUdp, kUdp6, kIpv4, kIpv6, kRaw };

struct FrameSpec {
  std::uint32_t size = 64;  // bytes handed to the device (Ethernet header on, no FCS)
  MacAddress dst = *MacAddress::Parse("02:00:00:00:00:02");
  MacAddress src = *MacAddress::Parse("02:00:00:00:00:01");
  std::uint32_t dst_count = 1;  // rotate the destination's low 24 bits over N values
  std::uint32_t src_count = 1;
  int vlan = -1;  // 802.1Q VID, -1 = untagged
  Proto proto = Proto::kUdp;
  std::uint16_t ethertype = 0x88b5;  // kRaw (local experimental)
  in_addr src4{htonl(0xc6120064)};   // 198.18.0.100
  in_addr dst4{htonl(0xc612000b)};   // 198.18.0.11
  // IPv4 frames: rotate the destination address over N consecutive values
  // from dst4 (IP-demultiplexed tables, vnet's ipvlan ports); the header
  // checksum follows.
  std::uint32_t dst4_count = 1;
  in6_addr src6{};                   // 2001:db8::100 unless set
  in6_addr dst6{};                   // 2001:db8::11 unless set
  std::uint16_t sport = 9, dport = 9;
};

// The frame the generator starts from; the program rewrites the MACs.
absl::StatusOr<std::vector<std::uint8_t>> BuildFrame(const FrameSpec& spec);

// "ipv4", "ipv6", "udp", "udp6", "raw:0x88b5" (or decimal).
absl::Status ParseProto(const std::string& text, FrameSpec& spec);

struct GenOptions {
  std::string netns;  // /run/netns/NAME to enter ("" = the caller's)
  std::string dev;
  FrameSpec frame;
  std::uint64_t count = 0;   // frames; 0 = until duration (or stop)
  double duration = 0;       // seconds; 0 = until count
  std::uint64_t rate = 0;    // frames/s; 0 = as fast as the core can
  // Under a rate: at most this many frames per BPF_PROG_RUN call (each call
  // is a burst at full speed); 0 = 1/20 s worth.
  std::uint32_t max_burst = 0;
  int cpu = -1;              // pin the calling thread here while it runs (-1: leave)
};

struct GenResult {
  std::uint64_t frames = 0;  // frames the program transmitted (XDP_TX verdicts)
  double seconds = 0;        // wall time
  // Time the kernel reports spent running frames. Every BPF_PROG_RUN call in
  // live-frames mode also sets up and tears down a page pool, and the
  // teardown waits for an RCU grace period (milliseconds on a busy VM) with
  // nothing transmitted: rates are per busy second.
  double busy_seconds = 0;
  double pps() const {
    double t = busy_seconds > 0 ? busy_seconds : seconds;
    return t > 0 ? frames / t : 0;
  }
};

// Runs in the calling thread, which enters opts.netns for the duration of the
// call and returns to its own netns afterwards. `stop` (optional) ends the run
// early between batches.
absl::StatusOr<GenResult> RunGenerator(const GenOptions& opts, const std::atomic<bool>* stop = nullptr);

// Whether the kernel has pktgen (/proc/net/pktgen), for --generator pktgen.
bool KernelPktgenAvailable();

}  // namespace vnet::bench

#endif
