#include "docker/args.h"

#include "absl/strings/str_cat.h"

namespace vnet::docker {

const char* Usage() {
  return "usage: vnet-docker [--socket PATH]... [--state-dir DIR]\n"
         "  Serves Docker's remote network driver API in the foreground.\n"
         "  --socket PATH     a Unix socket to listen on (repeatable); a socket file named\n"
         "                    *-ipvlan.sock serves the driver name vnet-ipvlan. Default:\n"
         "                    the sockets systemd passes (LISTEN_FDS), else\n"
         "                    /run/docker/plugins/vnet.sock and /run/docker/plugins/vnet-ipvlan.sock\n"
         "  --state-dir DIR   where the networks' records are kept (default /var/lib/vnet-docker)\n";
}

absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv) {
  Args args;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    auto value = [&](const char* flag) -> absl::StatusOr<std::string> {
      if (i + 1 >= argv.size() || argv[i + 1].empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": needs a value"));
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      args.help = true;
    } else if (a == "--socket") {
      auto v = value("--socket");
      if (!v.ok()) return v.status();
      if ((*v)[0] != '/') return absl::InvalidArgumentError(absl::StrCat("--socket ", *v, ": want an absolute path"));
      args.sockets.push_back(*v);
    } else if (a == "--state-dir") {
      auto v = value("--state-dir");
      if (!v.ok()) return v.status();
      if ((*v)[0] != '/') return absl::InvalidArgumentError(absl::StrCat("--state-dir ", *v, ": want an absolute path"));
      args.state_dir = *v;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument '", a, "'"));
    }
  }
  return args;
}

}  // namespace vnet::docker
