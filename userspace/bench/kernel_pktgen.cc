#include "bench/kernel_pktgen.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "base/unique_fd.h"
#include "netlink/netns.h"

namespace vnet::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string Ip4(std::uint32_t host_order) {
  in_addr a{htonl(host_order)};
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, buf, sizeof(buf));
  return buf;
}

absl::Status CheckDevName(const std::string& dev) {
  if (dev.empty()) return absl::InvalidArgumentError("pktgen: no device");
  if (dev.size() >= IFNAMSIZ)
    return absl::InvalidArgumentError(absl::StrCat("pktgen: device name '", dev, "' is longer than ", IFNAMSIZ - 1));
  for (char c : dev)
    // pktgen's parser ends a word at these; '@' selects a queue; '/' is no name.
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '"' || c == '=' || c == '@' || c == '/')
      return absl::InvalidArgumentError(absl::StrCat("pktgen: device name '", dev, "' has a character pktgen cannot take"));
  // Its file would be one of pktgen's own.
  if (dev == "pgctrl" || absl::StartsWith(dev, "kpktgend_"))
    return absl::InvalidArgumentError(absl::StrCat("pktgen: device name '", dev, "' clashes with pktgen's own files"));
  return absl::OkStatus();
}

}  // namespace

std::uint64_t PktgenBackstopCount(double seconds) {
  if (!(seconds > 0)) return 0;
  double n = seconds * 100e6;
  if (n >= static_cast<double>(kPktgenMaxCount)) return kPktgenMaxCount;
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(n));
}

absl::StatusOr<PktgenPlan> PktgenPlanFor(const KernelPktgenRequest& req) {
  VNET_RETURN_IF_ERROR(CheckDevName(req.dev));
  if (req.size < 60 || req.size > 1514)
    return absl::InvalidArgumentError(
        absl::StrCat("pktgen: frame size ", req.size, ": must be 60..1514 bytes (FCS excluded, as vnet-pktgen counts)"));
  if (req.count == 0)
    return absl::InvalidArgumentError("pktgen: count 0 would run until stopped; give a count");
  if (req.count > kPktgenMaxCount)
    return absl::InvalidArgumentError(absl::StrCat("pktgen: count ", req.count, " is more than pktgen parses (",
                                                   kPktgenMaxCount, ")"));
  if (req.dst_mac_count == 0 || req.src_mac_count == 0 || req.dst4_count == 0)
    return absl::InvalidArgumentError("pktgen: address counts start at 1");
  if (req.burst == 0) return absl::InvalidArgumentError("pktgen: burst starts at 1");
  if (req.cpu < 0) return absl::InvalidArgumentError("pktgen: no CPU for the kpktgend thread");
  if (req.vlan > 4094 || req.vlan < -1) return absl::InvalidArgumentError("pktgen: VLAN VID must be 0..4094");
  if (req.ratep > kPktgenMaxCount) return absl::InvalidArgumentError("pktgen: rate too large");

  const std::uint32_t dst_min = ntohl(req.dst4.s_addr);
  // Sequential rotation runs dst_min..dst_max inclusive; IPDST_RND draws from
  // [dst_min, dst_max) (net/core/pktgen.c, mod_cur_headers), so its upper
  // bound is one past the last address.
  const std::uint64_t span = req.dst4_count > 1 && req.dst4_random ? req.dst4_count : req.dst4_count - 1;
  if (dst_min + span > 0xffffffffULL)
    return absl::InvalidArgumentError(absl::StrCat("pktgen: ", req.dst4_count, " destinations from ",
                                                   Ip4(dst_min), " run past 255.255.255.255"));
  const std::uint32_t dst_max = static_cast<std::uint32_t>(dst_min + span);
  const std::string src = Ip4(ntohl(req.src4.s_addr));

  PktgenPlan p;
  p.thread = absl::StrCat("kpktgend_", req.cpu);
  const std::string& d = req.dev;
  auto dev = [&](std::string cmd) { p.setup.push_back({d, std::move(cmd)}); };
  // A thread may still hold devices from an interrupted run (the kernel's
  // samples start the same way).
  p.setup.push_back({p.thread, "rem_device_all"});
  p.setup.push_back({p.thread, absl::StrCat("add_device ", d)});
  dev(absl::StrCat("count ", req.count));
  dev(absl::StrCat("clone_skb ", req.clone_skb));
  dev(absl::StrCat("pkt_size ", req.size));  // min = max = size; see KernelPktgenRequest
  dev(absl::StrCat("burst ", req.burst));
  // ratep after pkt_size; delay 0 = no pacing.
  dev(req.ratep ? absl::StrCat("ratep ", req.ratep) : std::string("delay 0"));
  dev(absl::StrCat("dst_mac ", req.dst_mac.ToString()));
  dev(absl::StrCat("src_mac ", req.src_mac.ToString()));
  dev(absl::StrCat("dst_mac_count ", req.dst_mac_count));
  dev(absl::StrCat("src_mac_count ", req.src_mac_count));
  dev(absl::StrCat("dst_min ", Ip4(dst_min)));
  dev(absl::StrCat("dst_max ", Ip4(dst_max)));
  dev(absl::StrCat("src_min ", src));
  dev(absl::StrCat("src_max ", src));
  dev(absl::StrCat("udp_src_min ", req.sport));
  dev(absl::StrCat("udp_src_max ", req.sport));
  dev(absl::StrCat("udp_dst_min ", req.dport));
  dev(absl::StrCat("udp_dst_max ", req.dport));
  if (req.vlan >= 0) dev(absl::StrCat("vlan_id ", req.vlan));
  if (req.dst4_count > 1 && req.dst4_random) dev("flag IPDST_RND");
  p.start = {"pgctrl", "start"};
  p.stop = {"pgctrl", "stop"};
  p.teardown = {p.thread, "rem_device_all"};
  return p;
}

absl::StatusOr<KernelPktgenRequest> PktgenRequestFromFrame(const std::string& dev, const FrameSpec& f, int cpu) {
  if (f.proto != Proto::kUdp)
    return absl::InvalidArgumentError(
        "kernel pktgen sends UDP frames with its own payload; vnet-bench drives it for IPv4/UDP frames only");
  KernelPktgenRequest r;
  r.dev = dev;
  r.dst_mac = f.dst;
  r.src_mac = f.src;
  r.dst_mac_count = f.dst_count;
  r.src_mac_count = f.src_count;
  r.src4 = f.src4;
  r.dst4 = f.dst4;
  r.dst4_count = f.dst4_count;
  r.sport = f.sport;
  r.dport = f.dport;
  r.size = f.size;
  r.vlan = f.vlan;
  r.cpu = cpu < 0 ? 0 : cpu;
  return r;
}

absl::StatusOr<PktgenResult> ParsePktgenResult(absl::string_view text) {
  std::size_t pos = 0;
  for (;;) {
    pos = text.find("Result: ", pos);
    if (pos == absl::string_view::npos) return absl::NotFoundError("pktgen: no Result: line");
    if (pos == 0 || text[pos - 1] == '\n') break;
    ++pos;
  }
  PktgenResult r;
  r.text = std::string(absl::StripTrailingAsciiWhitespace(text.substr(pos + 8)));
  r.ok = absl::StartsWith(r.text, "OK:");
  unsigned long long usec = 0, busy = 0, idle = 0, sent = 0, pps = 0, errors = 0;
  unsigned size = 0;
  int frags = 0;
  if (r.ok && std::sscanf(r.text.c_str(), "OK: %llu(c%llu+d%llu) usec, %llu (%ubyte,%dfrags) %llupps %*[0-9]Mb/sec (%*[0-9]bps) errors: %llu",
                          &usec, &busy, &idle, &sent, &size, &frags, &pps, &errors) == 8) {
    r.has_run = true;
    r.usec = usec;
    r.busy_usec = busy;
    r.idle_usec = idle;
    r.sent = sent;
    r.pkt_size = size;
    r.pps = pps;
    r.errors = errors;
  }
  if (std::size_t c = text.find("pkts-sofar: "); c != absl::string_view::npos) {
    std::string cur(text.substr(c, 128));
    unsigned long long sofar = 0, cerr = 0;
    if (std::sscanf(cur.c_str(), "pkts-sofar: %llu errors: %llu", &sofar, &cerr) == 2) {
      r.has_current = true;
      r.sofar = sofar;
      r.current_errors = cerr;
    }
  }
  return r;
}

// ---- the real /proc/net/pktgen ------------------------------------------------

namespace {

class ProcIo : public PktgenIo {
 public:
  explicit ProcIo(std::string netns) : netns_(std::move(netns)) {}

  absl::Status Available() override {
    std::optional<ScopedNetns> in;
    VNET_RETURN_IF_ERROR(Enter(in));
    if (::access(Path("pgctrl").c_str(), F_OK) == 0) return absl::OkStatus();
    int err = errno;
    if (err == ENOENT)
      return absl::FailedPreconditionError(absl::StrCat(
          "kernel pktgen is unavailable: no /proc/net/pktgen", Where(),
          " (the pktgen module is not loaded, or the kernel was built without CONFIG_NET_PKTGEN)"));
    return ErrnoStatus(err, "look for", Describe("pgctrl"));
  }

  absl::Status Write(const std::string& file, const std::string& command) override {
    std::optional<ScopedNetns> in;
    VNET_RETURN_IF_ERROR(Enter(in));
    int fd = ::open(Path(file).c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, "open", Describe(file));
    UniqueFd f(fd);
    // One command per write(2): pktgen parses each write on its own.
    ssize_t n = ::write(fd, command.data(), command.size());
    if (n < 0) return ErrnoStatus(errno, "write to", Describe(file));
    if (static_cast<std::size_t>(n) != command.size())
      return absl::DataLossError(absl::StrCat("short write to ", Describe(file), ": ", n, " of ", command.size()));
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Read(const std::string& file) override {
    std::optional<ScopedNetns> in;
    VNET_RETURN_IF_ERROR(Enter(in));
    int fd = ::open(Path(file).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, "open", Describe(file));
    UniqueFd f(fd);
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "read", Describe(file));
      }
      if (n == 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  std::string Describe(const std::string& file) const override {
    return absl::StrCat("/proc/net/pktgen/", file, Where());
  }

 private:
  // /proc/net is /proc/self/net: the thread group leader's netns. The
  // calling thread may have entered another one: thread-self is its own.
  static std::string Path(const std::string& file) { return "/proc/thread-self/net/pktgen/" + file; }
  std::string Where() const { return netns_.empty() ? "" : absl::StrCat(" in netns ", netns_); }

  absl::Status Enter(std::optional<ScopedNetns>& in) {
    if (netns_.empty()) return absl::OkStatus();
    VNET_ASSIGN_OR_RETURN(UniqueFd ns, OpenNamedNetns(netns_));
    auto entered = ScopedNetns::Enter(ns.get(), netns_);
    if (!entered.ok()) return entered.status();
    in.emplace(std::move(*entered));
    return absl::OkStatus();
  }

  std::string netns_;
};

// `write` to its file, then the file's Result: line must say OK.
absl::Status CheckedWrite(PktgenIo& io, const PktgenWrite& w) {
  std::string what = absl::StrCat("pktgen: '", w.command, "' > ", io.Describe(w.file));
  if (absl::Status st = io.Write(w.file, w.command); !st.ok())
    return absl::Status(st.code(), absl::StrCat(what, ": ", st.message()));
  auto text = io.Read(w.file);
  if (!text.ok()) return absl::Status(text.status().code(), absl::StrCat(what, ": ", text.status().message()));
  auto r = ParsePktgenResult(*text);
  if (!r.ok()) return absl::InternalError(absl::StrCat(what, ": the file shows no Result: line"));
  if (!r->ok) return absl::FailedPreconditionError(absl::StrCat(what, ": ", r->text));
  return absl::OkStatus();
}

absl::StatusOr<KernelPktgenRun> RunPlan(PktgenIo& io, const PktgenPlan& plan, const std::string& dev,
                                        double duration, const std::atomic<bool>* stop) {
  for (const auto& w : plan.setup) VNET_RETURN_IF_ERROR(CheckedWrite(io, w));

  // pgctrl start returns when every device of this netns's threads is done:
  // at the count, or when pgctrl stop is written (from this netns: pgctrl
  // acts on its writer's). The stop is repeated until start returns, in case
  // the first came before the threads had picked up the start.
  std::atomic<bool> done{false};
  absl::Status start_status;
  std::thread runner([&] {
    start_status = io.Write(plan.start.file, plan.start.command);
    done = true;
  });
  const auto t0 = Clock::now();
  const auto deadline = duration > 0 ? t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration))
                                     : Clock::time_point::max();
  absl::Status stop_status;
  auto next_stop = Clock::time_point::min();
  while (!done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto now = Clock::now();
    bool want = now >= deadline || (stop && stop->load(std::memory_order_relaxed));
    if (want && !done && now >= next_stop) {
      absl::Status st = io.Write(plan.stop.file, plan.stop.command);
      if (!st.ok() && stop_status.ok()) stop_status = st;
      next_stop = now + std::chrono::milliseconds(250);
    }
  }
  runner.join();
  if (!start_status.ok())
    return absl::Status(start_status.code(), absl::StrCat("pktgen: 'start' > ", io.Describe(plan.start.file), ": ",
                                                          start_status.message()));
  if (!stop_status.ok())
    return absl::Status(stop_status.code(), absl::StrCat("pktgen: 'stop' > ", io.Describe(plan.stop.file), ": ",
                                                         stop_status.message()));

  VNET_ASSIGN_OR_RETURN(std::string text, io.Read(dev));
  auto r = ParsePktgenResult(text);
  if (!r.ok()) return absl::InternalError(absl::StrCat("pktgen: ", io.Describe(dev), " shows no Result: line after the run"));
  if (!r->ok || !r->has_run)
    return absl::FailedPreconditionError(absl::StrCat("pktgen: the run on ", dev, " did not complete: ", r->text));
  KernelPktgenRun run;
  run.sent = r->sent;
  run.errors = r->errors;
  run.seconds = static_cast<double>(r->usec) / 1e6;
  run.pps = r->pps;
  run.result = r->text;
  return run;
}

}  // namespace

std::unique_ptr<PktgenIo> ProcPktgenIo(const std::string& netns) { return std::make_unique<ProcIo>(netns); }

absl::StatusOr<KernelPktgenRun> RunKernelPktgen(PktgenIo& io, KernelPktgenRequest req, double duration,
                                                const std::atomic<bool>* stop) {
  if (req.count == 0) {
    if (!(duration > 0)) return absl::InvalidArgumentError("pktgen: give a frame count or a duration");
    req.count = PktgenBackstopCount(duration);
  }
  VNET_ASSIGN_OR_RETURN(PktgenPlan plan, PktgenPlanFor(req));
  VNET_RETURN_IF_ERROR(io.Available());
  absl::StatusOr<KernelPktgenRun> run = RunPlan(io, plan, req.dev, duration, stop);
  // Whatever happened, the thread gives its devices up.
  absl::Status td = io.Write(plan.teardown.file, plan.teardown.command);
  if (!run.ok()) return run.status();
  if (!td.ok())
    return absl::Status(td.code(), absl::StrCat("pktgen: '", plan.teardown.command, "' > ",
                                                io.Describe(plan.teardown.file), ": ", td.message()));
  return run;
}

absl::StatusOr<KernelPktgenRun> RunKernelPktgen(const std::string& netns, const KernelPktgenRequest& req,
                                                double duration, const std::atomic<bool>* stop) {
  auto io = ProcPktgenIo(netns);
  return RunKernelPktgen(*io, req, duration, stop);
}

}  // namespace vnet::bench
