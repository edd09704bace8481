#include "bench/guest_vm.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/errors.h"
#include "bench/exec.h"
#include "bench/teardown.h"
#include "bench/topology.h"

namespace vnet::bench {
namespace {

constexpr int kMacvtapFd = 3;  // where the child puts the macvtap's fd for QEMU's fd=N

// The macvtap's character device, opened: /dev/tapIFINDEX belongs to the
// root namespace's udev (and may be missing), so make a node of our own from
// the device number sysfs gives inside the macvtap's namespace, open it and
// remove it again.
absl::StatusOr<UniqueFd> OpenMacvtap(const std::string& netns, const std::string& dev) {
  VNET_ASSIGN_OR_RETURN(Device d, DescribeDevice(netns, dev));
  VNET_ASSIGN_OR_RETURN(std::string numbers,
                        Run({"ip", "netns", "exec", netns, "cat",
                             absl::StrCat("/sys/class/net/", dev, "/macvtap/tap", d.ifindex, "/dev")}));
  std::vector<std::string> mm = absl::StrSplit(absl::StripAsciiWhitespace(numbers), ':');
  unsigned major = 0, minor = 0;
  if (mm.size() != 2 || !absl::SimpleAtoi(mm[0], &major) || !absl::SimpleAtoi(mm[1], &minor))
    return absl::InternalError(absl::StrCat("macvtap ", dev, ": device number '", numbers, "' unreadable"));
  char dir[] = "/tmp/vnet-bench-macvtap-XXXXXX";
  if (!::mkdtemp(dir)) return ErrnoStatus(errno, "mkdtemp", dir);
  std::string node = absl::StrCat(dir, "/tap", d.ifindex);
  UniqueFd fd;
  int err = 0;
  if (::mknod(node.c_str(), S_IFCHR | 0600, makedev(major, minor)) != 0) {
    err = errno;
  } else {
    fd.Reset(::open(node.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd.valid()) err = errno;
    ::unlink(node.c_str());
  }
  ::rmdir(dir);
  if (err) return ErrnoStatus(err, "open macvtap device of", dev);
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GuestVm>> GuestVm::Start(const GuestKit& kit, const GuestSpec& spec) {
  UniqueFd tapfd;
  std::string netdev;
  if (!spec.tap.empty()) {
    netdev = absl::StrCat("tap,id=n0,ifname=", spec.tap, ",script=no,downscript=no");
  } else {
    VNET_ASSIGN_OR_RETURN(tapfd, OpenMacvtap(spec.netns, spec.macvtap));
    netdev = absl::StrCat("tap,id=n0,fd=", kMacvtapFd);
  }
  const std::vector<std::string> argv = {
      "qemu-system-x86_64", "-accel", "tcg", "-m", absl::StrCat(spec.memory_mb), "-smp", "1", "-nodefaults",
      "-no-user-config", "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot", "-kernel",
      kit.kernel, "-initrd", kit.initrd, "-append", absl::StrCat("console=ttyS0 quiet panic=-1 vnet.ip=", spec.ip),
      "-netdev", netdev, "-device", absl::StrCat("virtio-net-pci,netdev=n0,mac=", spec.mac)};

  UniqueFd ns(::open(("/run/netns/" + spec.netns).c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) return ErrnoStatus(errno, "open netns", spec.netns);
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe for", spec.name);
  UniqueFd in_r(in[0]), in_w(in[1]);
  if (::pipe2(out, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe for", spec.name);
  UniqueFd out_r(out[0]), out_w(out[1]);

  pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus(errno, "fork QEMU for", spec.name);
  if (pid == 0) {
    if (::setns(ns.get(), CLONE_NEWNET) != 0) ::_exit(127);
    ::dup2(in_r.get(), 0);
    ::dup2(out_w.get(), 1);
    ::dup2(out_w.get(), 2);
    // dup2 clears close-on-exec, except onto itself: then clear it by hand.
    if (tapfd.get() == kMacvtapFd) ::fcntl(kMacvtapFd, F_SETFD, 0);
    else if (tapfd.valid()) ::dup2(tapfd.get(), kMacvtapFd);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  auto vm = std::unique_ptr<GuestVm>(new GuestVm());
  vm->name_ = spec.name;
  vm->pid_ = pid;
  vm->to_guest_ = std::move(in_w);
  vm->from_guest_ = std::move(out_r);
  return vm;
}

GuestVm::~GuestVm() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);  // our own child, by pid
    int status = 0;
    bool gone = false;
    for (int i = 0; i < 50 && !gone; ++i) {
      gone = ::waitpid(pid_, &status, WNOHANG) == pid_;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!gone) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
}

std::string GuestVm::Tail() const {
  return absl::StrCat("[", absl::StrJoin(tail_, " | "), "]");
}

absl::StatusOr<std::string> GuestVm::NextLine(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    std::size_t nl = pending_.find('\n');
    if (nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      line.erase(std::remove(line.begin(), line.end(), '\r'), line.end());
      tail_.push_back(line);
      if (tail_.size() > 12) tail_.pop_front();
      return line;
    }
    // SIGINT/SIGTERM: give up at once; the caller tears down (QEMU included).
    if (g_stop) return absl::CancelledError(absl::StrCat(name_, ": interrupted"));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return absl::DeadlineExceededError(absl::StrCat(name_, ": console silent; last lines ", Tail()));
    pollfd p{from_guest_.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) return ErrnoStatus(errno, "poll the console of", name_);
    if (n <= 0) continue;
    char buf[4096];
    ssize_t got = ::read(from_guest_.get(), buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      return absl::UnavailableError(absl::StrCat(name_, ": QEMU ended (wait status ", status, "); last lines ",
                                                 Tail(), pending_));
    }
    pending_.append(buf, got);
  }
}

absl::Status GuestVm::WaitReady(double timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    VNET_ASSIGN_OR_RETURN(std::string line, NextLine(std::chrono::time_point_cast<std::chrono::steady_clock::duration>(deadline)));
    if (absl::StrContains(line, "GUEST-ERROR")) return absl::InternalError(absl::StrCat(name_, ": ", line));
    if (absl::StripAsciiWhitespace(line) == "GUEST-READY") return absl::OkStatus();
  }
}

absl::StatusOr<GuestVm::Result> GuestVm::Run(const std::string& command, double timeout_s) {
  if (absl::StrContains(command, "\n")) return absl::InvalidArgumentError("guest command with a newline");
  std::string line = command + "\n";
  if (::write(to_guest_.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    return ErrnoStatus(errno, "write to the console of", name_);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  Result r;
  for (;;) {
    VNET_ASSIGN_OR_RETURN(std::string got, NextLine(std::chrono::time_point_cast<std::chrono::steady_clock::duration>(deadline)));
    if (absl::StartsWith(got, "END ")) {
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(got.substr(4)), &r.status))
        return absl::InternalError(absl::StrCat(name_, ": bad status line '", got, "'"));
      return r;
    }
    absl::StrAppend(&r.output, got, "\n");
  }
}

GuestVm::CpuTimes GuestVm::Cpu() const {
  CpuTimes t;
  if (pid_ <= 0) return t;
  std::ifstream in(absl::StrCat("/proc/", pid_, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return t;
  // After "pid (comm) ": state is field 3, utime 14, stime 15.
  std::vector<std::string> f = absl::StrSplit(stat.substr(close + 2), ' ');
  double utime = 0, stime = 0;
  if (f.size() < 13 || !absl::SimpleAtod(f[11], &utime) || !absl::SimpleAtod(f[12], &stime)) return t;
  const double tck = static_cast<double>(::sysconf(_SC_CLK_TCK));
  t.user = utime / tck;
  t.sys = stime / tck;
  return t;
}

}  // namespace vnet::bench
