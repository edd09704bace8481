#include "bench/cni_exec.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace vnet::bench {
namespace {

// Closes what it holds on every path out of ExecCni.
struct Fd {
  int fd = -1;
  ~Fd() { Close(); }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

}  // namespace

CniOutcome ExecCni(const CniCall& call, double timeout_s) {
  CniOutcome r;
  auto t0 = std::chrono::steady_clock::now();
  // Everything the child touches exists before fork: other threads may hold
  // the allocator's lock at that moment.
  std::vector<std::string> env = {
      "CNI_COMMAND=" + call.command,       "CNI_CONTAINERID=" + call.container_id,
      "CNI_NETNS=" + call.netns_path,      "CNI_IFNAME=" + call.ifname,
      "CNI_PATH=" + call.cni_path,         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  };
  std::vector<char*> envp, argv = {const_cast<char*>(call.plugin.c_str()), nullptr};
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  Fd ns;
  if (!call.runtime_netns.empty()) {
    ns.fd = ::open(("/run/netns/" + call.runtime_netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns.fd < 0) {
      r.err = absl::StrCat("open /run/netns/", call.runtime_netns, ": ", std::strerror(errno));
      return r;
    }
  }
  // O_CLOEXEC everywhere: a plugin started by another thread must not hold
  // this call's pipes open.
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return r;
  Fd in_r{in[0]}, in_w{in[1]};
  if (::pipe2(out, O_CLOEXEC) != 0) return r;
  Fd out_r{out[0]}, out_w{out[1]};
  if (::pipe2(err, O_CLOEXEC) != 0) return r;
  Fd err_r{err[0]}, err_w{err[1]};
  pid_t pid = ::fork();
  if (pid < 0) {
    r.err = absl::StrCat("fork: ", std::strerror(errno));
    return r;
  }
  if (pid == 0) {
    if (ns.fd >= 0 && ::setns(ns.fd, CLONE_NEWNET) != 0) ::_exit(126);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  in_r.Close();
  out_w.Close();
  err_w.Close();
  // The configuration is far below a pipe's capacity: one write, then EOF.
  const char* p = call.config.data();
  std::size_t left = call.config.size();
  while (left > 0) {
    ssize_t n = ::write(in_w.fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the plugin exited without reading: its status says why
    p += n;
    left -= n;
  }
  in_w.Close();
  auto deadline = t0 + std::chrono::duration<double>(timeout_s);
  bool killed = false;
  char buf[4096];
  while (out_r.fd >= 0 || err_r.fd >= 0) {
    auto ms_left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (ms_left.count() <= 0 && !killed) {
      ::kill(pid, SIGKILL);  // our own child, by pid
      killed = true;
    }
    pollfd fds[2] = {{out_r.fd, POLLIN, 0}, {err_r.fd, POLLIN, 0}};
    int n = ::poll(fds, 2, killed ? 1000 : static_cast<int>(std::min<long>(ms_left.count(), 1000)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (n == 0 && killed)) break;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof(buf));
      if (got < 0 && errno == EINTR) continue;
      Fd& f = i == 0 ? out_r : err_r;
      if (got <= 0) {
        f.Close();
        continue;
      }
      (i == 0 ? r.out : r.err).append(buf, got);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  r.status = (!killed && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  if (killed) r.err += "\n(killed after timeout)";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 126) r.err += "\n(could not enter the runtime's netns)";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) r.err += "\n(could not exec the plugin)";
  return r;
}

absl::StatusOr<CniOutcome> RunCni(const CniCall& call, double timeout_s) {
  CniOutcome r = ExecCni(call, timeout_s);
  if (r.status == 0) return r;
  return absl::InternalError(absl::StrCat(call.plugin, " ", call.command, " of ", call.container_id, " (", call.ifname,
                                          " in ", call.netns_path, ") -> ", r.status, ": ",
                                          absl::StripAsciiWhitespace(r.out), " ",
                                          absl::StripAsciiWhitespace(r.err)));
}

}  // namespace vnet::bench
