// vnet's CNI plugin: `vnet` (kind from the "kind" key), `vnet-macvlan` and
// `vnet-ipvlan` (kind from the name it is run by). The CNI_* environment and
// the network config on stdin in; a result or the spec's error JSON on
// stdout; logs on stderr only.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "cni/cni_env.h"
#include "cni/cni_error.h"
#include "cni/commands.h"
#include "cni/netconf.h"
#include "cni/version.h"

namespace vnet::cni {
namespace {

absl::StatusOr<Output> Dispatch(const CniEnv& env, const std::string& raw, std::optional<Kind> kind) {
  if (env.command.empty())
    return Error(kInvalidEnvironment, "invalid environment", "CNI_COMMAND is not set (this is a CNI plugin)");
  if (env.command == "VERSION") return Output(CmdVersion(raw));
  using Cmd = absl::StatusOr<Output> (*)(const CniEnv&, const NetConf&);
  Cmd cmd = nullptr;
  if (env.command == "ADD") cmd = CmdAdd;
  if (env.command == "DEL") cmd = CmdDel;
  if (env.command == "CHECK") cmd = CmdCheck;
  if (env.command == "GC") cmd = CmdGc;
  if (env.command == "STATUS") cmd = CmdStatus;
  if (!cmd) return Error(kInvalidEnvironment, "invalid environment", absl::StrCat("unknown CNI_COMMAND: ", env.command));
  auto mac = MacFromCniArgs(env.args);
  if (!mac.ok()) return mac.status();
  auto conf = DecodeNetConf(raw, kind, *mac);
  if (!conf.ok()) return conf.status();
  return cmd(env, *conf);
}

std::string ReadStdin() {
  std::string raw;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(0, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  return raw;
}

int Run(const char* argv0) {
  std::string raw = ReadStdin();
  CniEnv env = ReadCniEnv();
  auto out = Dispatch(env, raw, KindFromArgv0(argv0));
  if (!out.ok()) {
    CniError e = ToCniError(out.status());
    std::fprintf(stderr, "vnet: %s %s: %s\n", env.command.c_str(), env.container_id.c_str(),
                 std::string(out.status().message()).c_str());
    std::string version = PeekVersion(raw);
    std::printf("%s\n", ErrorJson(e, IsSupported(version) ? version : kLatestVersion).c_str());
    return 1;
  }
  if (*out) std::printf("%s\n", (*out)->dump(4).c_str());
  return 0;
}

}  // namespace
}  // namespace vnet::cni

int main(int, char** argv) { return vnet::cni::Run(argv[0]); }
