// vnet-docker's command line.
#ifndef VNET_DOCKER_ARGS_H
#define VNET_DOCKER_ARGS_H

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vnet::docker {

inline constexpr char kDefaultSocket[] = "/run/docker/plugins/vnet.sock";
inline constexpr char kDefaultIpvlanSocket[] = "/run/docker/plugins/vnet-ipvlan.sock";
inline constexpr char kDefaultStateDir[] = "/var/lib/vnet-docker";

struct Args {
  // Sockets to bind; empty: the defaults, unless systemd passes sockets.
  std::vector<std::string> sockets;
  std::string state_dir = kDefaultStateDir;
  bool help = false;
};

// argv without argv[0].
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv);
const char* Usage();

}  // namespace vnet::docker

#endif
