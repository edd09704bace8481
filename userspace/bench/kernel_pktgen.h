// A driver for the kernel's packet generator, pktgen (net/core/pktgen.c,
// Documentation/networking/pktgen.rst), for `vnet-bench --generator pktgen`.
//
// pktgen is configured by writing one command per write(2) to files under
// /proc/net/pktgen: a per-CPU thread file (kpktgend_N: add_device,
// rem_device_all), one file per added device (count, pkt_size, dst_mac, ...),
// and pgctrl (start, stop). Each of those exists per network namespace: the
// writes happen inside the generator's netns. A device file reports the
// outcome of the last command on its "Result:" line ("OK: ..." or an error),
// and after a run "OK: <usec>(c<busy>+d<idle>) usec, <sent> (<size>byte,
// <frags>frags)\n  <pps>pps <Mb>Mb/sec (<bps>bps) errors: <errors>".
//
// Two halves: PktgenPlanFor() is pure (a request -> the ordered writes), and
// RunKernelPktgen() performs a plan through a PktgenIo (the real one writes
// /proc/thread-self/net/pktgen inside a named netns).
#ifndef VNET_BENCH_KERNEL_PKTGEN_H
#define VNET_BENCH_KERNEL_PKTGEN_H

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bench/pktgen.h"
#include "base/mac_address.h"

namespace vnet::bench {

// What to send. Sizes count as vnet-pktgen counts them (FrameSpec::size):
// the bytes handed to the device, Ethernet header (and VLAN tag) included,
// FCS excluded. pktgen's pkt_size counts the same way (its samples use
// pkt_size 60 for the 64-byte minimum frame on the wire, FCS added by the
// NIC), so a 64-byte vnet-pktgen frame is pkt_size 64: no 4-byte adjustment.
struct KernelPktgenRequest {
  std::string dev;  // as add_device takes it (the netns's name for the device)
  MacAddress dst_mac = *MacAddress::Parse("02:00:00:00:00:02");
  MacAddress src_mac = *MacAddress::Parse("02:00:00:00:00:01");
  // Rotate the MAC's low bytes over N consecutive addresses (pktgen
  // dst_mac_count/src_mac_count, sequential like vnet-pktgen's --dst-count).
  std::uint32_t dst_mac_count = 1, src_mac_count = 1;
  in_addr src4{htonl(0xc6120064)};  // 198.18.0.100
  in_addr dst4{htonl(0xc612000b)};  // 198.18.0.11
  // Rotate the IPv4 destination over dst4 .. dst4+N-1 (dst_min/dst_max):
  // sequentially, or drawn at random with flag IPDST_RND.
  std::uint32_t dst4_count = 1;
  bool dst4_random = false;
  std::uint16_t sport = 9, dport = 9;
  std::uint32_t size = 64;  // 60..1514 (see above)
  int vlan = -1;            // 802.1Q VID, -1 = untagged
  std::uint64_t count = 0;  // frames; must be > 0 (pktgen's count 0 never stops)
  std::uint64_t ratep = 0;  // frames/s limit; 0 = as fast as the thread can
  // Frames per skb (burst: xmit_more) and skb reuse (clone_skb). Both need a
  // device that can share skbs: veth cannot (pktgen answers EOPNOTSUPP), so
  // keep 1 and 0 there.
  std::uint32_t burst = 1;
  std::uint32_t clone_skb = 0;
  int cpu = 0;  // the kpktgend_<cpu> thread that sends (bound to that CPU)
};

// One write: `command` to /proc/net/pktgen/<file>.
struct PktgenWrite {
  std::string file;
  std::string command;
  bool operator==(const PktgenWrite& o) const { return file == o.file && command == o.command; }
};

struct PktgenPlan {
  std::string thread;               // "kpktgend_<cpu>"
  std::vector<PktgenWrite> setup;   // in order; each checked
  PktgenWrite start;                // pgctrl start (blocks until done)
  PktgenWrite stop;                 // pgctrl stop
  PktgenWrite teardown;             // <thread> rem_device_all
};

// The writes that configure and run `req`. InvalidArgument for what pktgen
// cannot do or would misread (a name it cannot take, count 0, a size out of
// range, an IPv4 range past 255.255.255.255, ...).
absl::StatusOr<PktgenPlan> PktgenPlanFor(const KernelPktgenRequest& req);

// The largest count pktgen parses (it reads at most 10 digits).
inline constexpr std::uint64_t kPktgenMaxCount = 9'999'999'999ULL;
// The count for a run meant to last `seconds` (then stopped with pgctrl
// stop): the frames of that long at a rate no single kpktgend thread reaches
// (100 Mpps), so the count never ends the run first but still ends it if the
// stop is never written. Capped at kPktgenMaxCount.
std::uint64_t PktgenBackstopCount(double seconds);

// The frames of vnet-bench's cases as a pktgen request, or why pktgen cannot
// build them (it sends IPv4/UDP or IPv6/UDP with its own payload; vnet-bench
// uses IPv4/UDP only, so anything else stays with vnet-pktgen).
absl::StatusOr<KernelPktgenRequest> PktgenRequestFromFrame(const std::string& dev, const FrameSpec& frame, int cpu);

// A pktgen file's "Result:" line (thread and device files have one).
struct PktgenResult {
  bool ok = false;    // "Result: OK: ..."
  std::string text;   // everything after "Result: ", trailing space removed
  // From a device file after a run:
  bool has_run = false;  // the "OK: <usec>(c..+d..) usec, <sent> ..." form
  std::uint64_t usec = 0, busy_usec = 0, idle_usec = 0;
  std::uint64_t sent = 0;  // frames transmitted (NETDEV_TX_OK)
  std::uint32_t pkt_size = 0;
  std::uint64_t pps = 0, errors = 0;
  // "Current:" section of a device file (present while idle, too).
  bool has_current = false;
  std::uint64_t sofar = 0, current_errors = 0;
};
// NotFound when the text has no "Result:" line.
absl::StatusOr<PktgenResult> ParsePktgenResult(absl::string_view file_text);

// Access to one netns's /proc/net/pktgen. Calls may come from any thread.
class PktgenIo {
 public:
  virtual ~PktgenIo() = default;
  // Whether pktgen exists there (its pgctrl file); the error says why not.
  virtual absl::Status Available() = 0;
  // One write(2) of `command`; the error carries the errno pktgen returned.
  virtual absl::Status Write(const std::string& file, const std::string& command) = 0;
  virtual absl::StatusOr<std::string> Read(const std::string& file) = 0;
  // For messages: "/proc/net/pktgen/FILE" (and the netns).
  virtual std::string Describe(const std::string& file) const = 0;
};

// /proc/thread-self/net/pktgen inside /run/netns/<netns> ("" = the calling
// thread's own netns), entered by the calling thread for each call (pgctrl
// acts on the writer's netns, not the file's, so every writer must be in it).
std::unique_ptr<PktgenIo> ProcPktgenIo(const std::string& netns);

struct KernelPktgenRun {
  std::uint64_t sent = 0;    // frames the device took (pktgen's sofar)
  std::uint64_t errors = 0;  // frames it refused (NET_XMIT_DROP etc.: a full veth ring)
  double seconds = 0;        // pktgen's own elapsed time for the run
  std::uint64_t pps = 0;     // pktgen's figure (sent / elapsed)
  std::string result;        // the device's Result: text
  std::uint64_t offered() const { return sent + errors; }
};

// Performs the plan for `req` through `io`: checks pktgen is there, makes
// every setup write and checks its result (the write's own error, then the
// file's Result: line), starts pgctrl in a thread, writes pgctrl stop after
// `duration` seconds (or when `stop` turns true; duration 0: until req.count,
// which duration > 0 and count 0 fill from PktgenBackstopCount), reads the
// device's result, and always ends with rem_device_all on the thread once
// anything was written, on errors too.
absl::StatusOr<KernelPktgenRun> RunKernelPktgen(PktgenIo& io, KernelPktgenRequest req, double duration,
                                                const std::atomic<bool>* stop = nullptr);
// The same inside /run/netns/<netns>.
absl::StatusOr<KernelPktgenRun> RunKernelPktgen(const std::string& netns, const KernelPktgenRequest& req,
                                                double duration, const std::atomic<bool>* stop = nullptr);

}  // namespace vnet::bench

#endif
