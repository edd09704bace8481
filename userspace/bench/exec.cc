#include "bench/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace vnet::bench {

ExecResult Exec(const std::vector<std::string>& argv, double timeout_s, const std::string& netns) {
  ExecResult r;
  // Opened before fork: the child only calls setns.
  int ns_fd = -1;
  if (!netns.empty()) {
    ns_fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0) {
      r.output = "open /run/netns/" + netns + ": " + std::strerror(errno);
      return r;
    }
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    if (ns_fd >= 0) ::close(ns_fd);
    return r;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    if (ns_fd >= 0) ::close(ns_fd);
    return r;
  }
  if (pid == 0) {
    if (ns_fd >= 0 && ::setns(ns_fd, CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "setns %s: %s\n", netns.c_str(), std::strerror(errno));
      ::_exit(127);
    }
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "%s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fds[1]);
  if (ns_fd >= 0) ::close(ns_fd);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  char buf[4096];
  bool killed = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !killed) {
      ::kill(pid, SIGKILL);  // our own child, by pid
      killed = true;
    }
    pollfd p{fds[0], POLLIN, 0};
    int n = ::poll(&p, 1, killed ? 1000 : static_cast<int>(std::min<long>(left.count(), 1000)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (killed) break;
      continue;
    }
    ssize_t got = ::read(fds[0], buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    r.output.append(buf, got);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.status = (!killed && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  if (killed) r.output += "\n(killed after timeout)";
  return r;
}

absl::StatusOr<std::string> Run(const std::vector<std::string>& argv, double timeout_s, const std::string& netns) {
  ExecResult r = Exec(argv, timeout_s, netns);
  if (r.status != 0)
    return absl::InternalError(absl::StrCat(absl::StrJoin(argv, " "), " -> ", r.status, ": ",
                                            absl::StripTrailingAsciiWhitespace(r.output)));
  return r.output;
}

}  // namespace vnet::bench
