#include "docker/server.h"

#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "docker/network_options.h"

namespace vnet::docker {
namespace {

using nlohmann::json;

constexpr char kContentType[] = "application/vnd.docker.plugins.v1+json";

// cpp-httplib binds the sockets it serves itself and has no call taking a
// bound one; a socket systemd passed is handed over through its protected
// listening socket, which listen_after_bind() then serves as its own.
class HttpServer : public httplib::Server {
 public:
  void Adopt(int fd) { svr_sock_ = fd; }
};

absl::Status Errno(absl::string_view step, const std::string& path) {
  return absl::InternalError(absl::StrCat(step, " ", path, ": ", std::strerror(errno)));
}

// Whether something answers on the socket file at `path`.
bool Answers(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  bool live = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return live;
}

absl::Status MakeParents(const std::string& path) {
  for (size_t i = 1; i < path.size(); ++i) {
    if (path[i] != '/') continue;
    std::string dir = path.substr(0, i);
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("making directory", dir);
  }
  return absl::OkStatus();
}

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), kContentType);
}

}  // namespace

absl::StatusOr<Listener> BindSocket(const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) return absl::InvalidArgumentError(absl::StrCat("socket ", path, ": path too long"));
  if (auto s = MakeParents(path); !s.ok()) return s;
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return absl::AlreadyExistsError(absl::StrCat("socket ", path, ": a file that is no socket is there"));
    if (Answers(path)) return absl::AlreadyExistsError(absl::StrCat("socket ", path, ": another process serves it"));
    if (unlink(path.c_str()) != 0) return Errno("removing stale socket", path);
  }
  return Listener{-1, path, true};
}

absl::StatusOr<std::vector<Listener>> PassedSockets() {
  std::vector<Listener> out;
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  long long want_pid = 0;
  int n = 0;
  if (!pid || !fds || !absl::SimpleAtoi(pid, &want_pid) || want_pid != getpid() || !absl::SimpleAtoi(fds, &n) || n <= 0)
    return out;
  // Not for the children: they would take the sockets for theirs.
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  constexpr int kFirst = 3;  // SD_LISTEN_FDS_START
  for (int fd = kFirst; fd < kFirst + n; ++fd) {
    sockaddr_un addr{};
    socklen_t len = sizeof(addr);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || addr.sun_family != AF_UNIX)
      return absl::InvalidArgumentError(absl::StrCat("passed socket ", fd, ": not a Unix socket"));
    out.push_back(Listener{fd, addr.sun_path, false});
  }
  return out;
}

struct Server::Impl {
  Driver& driver;
  std::vector<Listener> listeners;
  std::mutex mu;  // servers: Stop may come from another thread while Run fills it
  std::vector<std::unique_ptr<HttpServer>> servers;
};

Server::Server(Driver& driver, std::vector<Listener> listeners)
    : impl_(new Impl{driver, std::move(listeners), {}, {}}) {}

Server::~Server() = default;

absl::Status Server::Run() {
  for (const auto& l : impl_->listeners) {
    auto http = std::make_unique<HttpServer>();
    DriverName name = DriverOfSocket(l.path);
    Driver& driver = impl_->driver;
    // Every call is a POST to /Plugin.Method with a JSON body.
    http->Post(R"(/([A-Za-z]+\.[A-Za-z]+))", [&driver, name](const httplib::Request& req, httplib::Response& res) {
      std::string method = req.matches[1];
      json request = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
      if (request.is_discarded()) return Reply(res, 400, {{"Err", absl::StrCat(method, ": the request is not JSON")}});
      auto out = driver.Call(method, request, name);
      if (out.ok()) return Reply(res, 200, *out);
      std::fprintf(stderr, "vnet-docker: %s: %s\n", method.c_str(), std::string(out.status().message()).c_str());
      // Docker treats 404 as "the driver does not implement this call".
      Reply(res, absl::IsNotFound(out.status()) && absl::EndsWith(out.status().message(), "unknown call") ? 404 : 500,
            {{"Err", std::string(out.status().message())}});
    });
    if (l.fd >= 0) {
      http->Adopt(l.fd);
    } else {
      http->set_address_family(AF_UNIX);
      // The port is not used for a Unix socket, but must be a valid one.
      if (!http->bind_to_port(l.path, 80)) return Errno("binding socket", l.path);
      chmod(l.path.c_str(), 0660);  // root's (and the docker group's, if a unit sets it) only
    }
    std::fprintf(stderr, "vnet-docker: serving driver %s on %s\n", std::string(DriverNameText(name)).c_str(), l.path.c_str());
    std::lock_guard<std::mutex> hold(impl_->mu);
    impl_->servers.push_back(std::move(http));
  }
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> hold(impl_->mu);
    for (auto& http : impl_->servers) threads.emplace_back([s = http.get()] { s->listen_after_bind(); });
  }
  for (auto& t : threads) t.join();
  for (const auto& l : impl_->listeners)
    if (l.ours) unlink(l.path.c_str());
  return absl::OkStatus();
}

void Server::Stop() {
  std::lock_guard<std::mutex> hold(impl_->mu);
  for (auto& http : impl_->servers) http->stop();
}

}  // namespace vnet::docker
