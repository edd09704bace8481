#include "bench/ip_batch.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "base/errors.h"

namespace vnet::bench {
namespace {

// `link show dev lo` prints "1: lo: <LOOPBACK..." first: the marker's line.
constexpr char kMarkerCommand[] = "link show dev lo\n";
constexpr char kMarkerLine[] = ": lo: <";

}  // namespace

absl::StatusOr<IpBatch> IpBatch::Start(const std::string& netns) {
  int to_ip[2], from_ip[2];
  if (::pipe2(to_ip, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe for ip -batch in", netns);
  if (::pipe2(from_ip, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(to_ip[0]);
    ::close(to_ip[1]);
    return ErrnoStatus(err, "pipe for ip -batch in", netns);
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    for (int fd : {to_ip[0], to_ip[1], from_ip[0], from_ip[1]}) ::close(fd);
    return ErrnoStatus(err, "fork ip -batch in", netns);
  }
  if (pid == 0) {
    ::dup2(to_ip[0], 0);
    ::dup2(from_ip[1], 1);
    ::dup2(from_ip[1], 2);
    // stdbuf: ip writes through stdio, which would hold the marker's line
    // back in a pipe's buffer.
    ::execlp("stdbuf", "stdbuf", "-oL", "-eL", "ip", "-n", netns.c_str(), "-force", "-batch", "-", nullptr);
    ::_exit(127);
  }
  ::close(to_ip[0]);
  ::close(from_ip[1]);
  IpBatch b(pid, to_ip[1], from_ip[0], netns);
  // The first marker proves ip runs (and in that netns).
  VNET_RETURN_IF_ERROR(b.Do({}, 30));
  return b;
}

IpBatch::IpBatch(IpBatch&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      in_(std::exchange(other.in_, -1)),
      out_(std::exchange(other.out_, -1)),
      netns_(std::move(other.netns_)),
      pending_(std::move(other.pending_)) {}

IpBatch::~IpBatch() {
  if (in_ >= 0) ::close(in_);  // EOF: ip exits
  if (pid_ > 0) {
    int status = 0;
    for (int i = 0; i < 50; ++i) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) {
        pid_ = -1;
        break;
      }
      ::usleep(20000);
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);  // our own child, by pid
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  if (out_ >= 0) ::close(out_);
}

absl::Status IpBatch::Do(const std::vector<std::string>& commands, double timeout_s) {
  // Long lists go in chunks, each waited for: ip's error lines could
  // otherwise fill its output pipe while this side still blocks writing.
  constexpr std::size_t kChunk = 256;
  if (commands.size() > kChunk) {
    for (std::size_t at = 0; at < commands.size(); at += kChunk) {
      std::vector<std::string> part(commands.begin() + at,
                                    commands.begin() + std::min(commands.size(), at + kChunk));
      VNET_RETURN_IF_ERROR(Do(part, timeout_s));
    }
    return absl::OkStatus();
  }
  std::string text;
  for (const auto& c : commands) absl::StrAppend(&text, c, "\n");
  text += kMarkerCommand;
  for (std::size_t done = 0; done < text.size();) {
    ssize_t n = ::write(in_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "write to ip -batch in", netns_);
    done += n;
  }
  // Read until the marker's line: everything before it is the commands'
  // output (nothing, when they succeed).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  std::string& got = pending_;
  for (;;) {
    std::size_t at = got.find(kMarkerLine);
    if (at != std::string::npos) {
      std::size_t line_start = got.rfind('\n', at);
      line_start = line_start == std::string::npos ? 0 : line_start + 1;
      std::string before = got.substr(0, line_start);
      // The marker prints two lines (the link, its link/loopback address).
      std::size_t end = got.find('\n', at);
      std::size_t end2 = end == std::string::npos ? std::string::npos : got.find('\n', end + 1);
      if (end2 == std::string::npos) {
        // Its second line is still coming: read on.
      } else {
        got.erase(0, end2 + 1);
        if (!absl::StripAsciiWhitespace(before).empty())
          return absl::InternalError(absl::StrCat("ip -n ", netns_, " -batch: ", absl::StrJoin(commands, "; "), ": ",
                                                  absl::StripAsciiWhitespace(before)));
        return absl::OkStatus();
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return absl::DeadlineExceededError(absl::StrCat("ip -n ", netns_, " -batch: no answer to ",
                                                      absl::StrJoin(commands, "; ")));
    pollfd p{out_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[8192];
    ssize_t n = ::read(out_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::InternalError(absl::StrCat("ip -n ", netns_, " -batch exited: ", got));
    got.append(buf, n);
  }
}

}  // namespace vnet::bench
