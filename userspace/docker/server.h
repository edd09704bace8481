// The HTTP side: cpp-httplib serving the driver on Unix sockets, bound here
// or passed by systemd (socket activation), one listening thread each.
#ifndef VNET_DOCKER_SERVER_H
#define VNET_DOCKER_SERVER_H

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "docker/driver.h"

namespace vnet::docker {

struct Listener {
  int fd = -1;
  std::string path;
  bool ours = false;  // bound here: the file is removed at the end
};

// Binds a Unix socket at `path` (making its directory). A stale socket file
// nobody answers on is replaced; a live one is refused.
absl::StatusOr<Listener> BindSocket(const std::string& path);
// The sockets systemd passed (LISTEN_PID/LISTEN_FDS), empty when none.
absl::StatusOr<std::vector<Listener>> PassedSockets();

// Serves `listeners` until Stop() (from any thread); returns when all have stopped.
class Server {
 public:
  Server(Driver& driver, std::vector<Listener> listeners);
  ~Server();
  absl::Status Run();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vnet::docker

#endif
