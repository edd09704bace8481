// vnet-pktgen: transmit real frames on a device from an XDP program
// (BPF_PROG_RUN, live-frames mode). See bench/pktgen.h.
#include <arpa/inet.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "bench/pktgen.h"

namespace {

std::atomic<bool> g_stop{false};

constexpr char kUsage[] = R"(usage: vnet-pktgen --dev DEV [--netns NS] (--count N | --duration SECONDS)
                   [--size BYTES] [--rate PPS] [--dst-mac MAC] [--dst-count N]
                   [--src-mac MAC] [--src-count N] [--dst-ip IPV4] [--dst-ip-count N]
                   [--src-ip IPV4] [--vlan VID]
                   [--proto ipv4|ipv6|udp|udp6|raw:ETHERTYPE] [--cpu N]

Transmits real frames on DEV: an XDP program returning XDP_TX is run with
BPF_PROG_RUN and BPF_F_TEST_XDP_LIVE_FRAMES, one frame per run. On a veth the
frames arrive on its peer as if from a wire (the peer needs NAPI: an XDP
program or GRO on). Prints the frames sent and the achieved rate.
  --netns NS       DEV lives in /run/netns/NS (entered with setns)
  --size BYTES     frame length without FCS, 60..1514 (default 64)
  --count N        frames to send; --duration SECONDS: send for that long
  --rate PPS       limit (frames/s, 0 = as fast as one core can; default 0)
  --dst-mac MAC    destination (default 02:00:00:00:00:02); with --dst-count N
                   the low 24 bits rotate over N consecutive addresses
  --src-mac MAC    source (default 02:00:00:00:00:01), --src-count likewise
  --dst-ip IPV4    IPv4 destination (default 198.18.0.11); with --dst-ip-count
                   N it rotates over N consecutive addresses (the header
                   checksum follows): IP-demultiplexed (ipvlan) tables
  --src-ip IPV4    IPv4 source (default 198.18.0.100)
  --vlan VID       add an 802.1Q tag
  --proto P        udp (IPv4/UDP 198.18.0.100 -> 198.18.0.11, default), udp6
                   (2001:db8::100 -> 2001:db8::11), ipv4, ipv6, raw:ETHERTYPE
  --cpu N          pin the generator to CPU N
)";

bool ParseU64(const char* s, std::uint64_t& out) { return absl::SimpleAtoi(s, &out); }

}  // namespace

int main(int argc, char** argv) {
  vnet::bench::GenOptions opts;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "vnet-pktgen: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    auto bad = [&](const char* v) {
      std::fprintf(stderr, "vnet-pktgen: %s %s: invalid value\n", a.c_str(), v);
      std::exit(2);
    };
    std::uint64_t n = 0;
    if (a == "-h" || a == "--help" || a == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--dev") {
      opts.dev = value();
    } else if (a == "--netns") {
      opts.netns = value();
    } else if (a == "--size") {
      const char* v = value();
      if (!ParseU64(v, n)) bad(v);
      opts.frame.size = static_cast<std::uint32_t>(n);
    } else if (a == "--count") {
      const char* v = value();
      if (!ParseU64(v, opts.count) || !opts.count) bad(v);
    } else if (a == "--duration") {
      const char* v = value();
      if (!absl::SimpleAtod(v, &opts.duration) || opts.duration <= 0) bad(v);
    } else if (a == "--rate") {
      const char* v = value();
      if (!ParseU64(v, opts.rate)) bad(v);
    } else if (a == "--dst-mac" || a == "--src-mac") {
      const char* v = value();
      auto mac = vnet::MacAddress::Parse(v);
      if (!mac.ok()) bad(v);
      (a == "--dst-mac" ? opts.frame.dst : opts.frame.src) = *mac;
    } else if (a == "--dst-count" || a == "--src-count") {
      const char* v = value();
      if (!ParseU64(v, n) || n == 0 || n > (1u << 24)) bad(v);
      (a == "--dst-count" ? opts.frame.dst_count : opts.frame.src_count) = static_cast<std::uint32_t>(n);
    } else if (a == "--dst-ip" || a == "--src-ip") {
      const char* v = value();
      in_addr addr{};
      if (inet_pton(AF_INET, v, &addr) != 1) bad(v);
      (a == "--dst-ip" ? opts.frame.dst4 : opts.frame.src4) = addr;
    } else if (a == "--dst-ip-count") {
      const char* v = value();
      if (!ParseU64(v, n) || n == 0 || n > (1u << 24)) bad(v);
      opts.frame.dst4_count = static_cast<std::uint32_t>(n);
    } else if (a == "--vlan") {
      const char* v = value();
      if (!ParseU64(v, n) || n > 4094) bad(v);
      opts.frame.vlan = static_cast<int>(n);
    } else if (a == "--proto") {
      auto st = vnet::bench::ParseProto(value(), opts.frame);
      if (!st.ok()) {
        std::fprintf(stderr, "vnet-pktgen: %s\n", std::string(st.message()).c_str());
        return 2;
      }
    } else if (a == "--cpu") {
      const char* v = value();
      if (!ParseU64(v, n)) bad(v);
      opts.cpu = static_cast<int>(n);
    } else {
      std::fprintf(stderr, "vnet-pktgen: unknown argument '%s'\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (opts.dev.empty() || (!opts.count && opts.duration <= 0)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  auto result = vnet::bench::RunGenerator(opts, &g_stop);
  if (!result.ok()) {
    std::fprintf(stderr, "vnet-pktgen: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  std::printf("%s", absl::StrFormat("sent %u frames of %u bytes on %s in %.3f s: %.0f pps over the run; %.0f pps "
                                    "(%.3f Mpps, %.2f Gbit/s) while transmitting (%.3f s)\n",
                                    result->frames, opts.frame.size, opts.dev, result->seconds,
                                    result->seconds > 0 ? result->frames / result->seconds : 0, result->pps(),
                                    result->pps() / 1e6, result->pps() * opts.frame.size * 8 / 1e9, result->busy_seconds)
                        .c_str());
  return 0;
}
