#include "cni/ipam.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/unique_fd.h"
#include "cni/cni_error.h"
#include "cni/version.h"

extern char** environ;

namespace vnet::cni {
namespace {

absl::StatusOr<std::string> FindPlugin(const CniEnv& env, const std::string& type) {
  for (const auto& dir : env.path) {
    std::string p = absl::StrCat(dir, "/", type);
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return Error(kInvalidConfig, "invalid config: ipam.type",
               absl::StrCat("ipam.type: no plugin \"", type, "\" in CNI_PATH ", absl::StrJoin(env.path, ":")));
}

std::vector<std::string> ChildEnv(const std::string& command, const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  vars["CNI_COMMAND"] = command;
  for (const auto& [k, v] : overrides) vars[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(absl::StrCat(k, "=", v));
  return out;
}

absl::Status WriteAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnknownError(absl::StrCat("write to IPAM plugin: ", std::strerror(errno)));
    off += static_cast<std::size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> RunIpam(const std::string& path, const std::string& type, const std::string& command,
                                       const std::string& stdin_config,
                                       const std::map<std::string, std::string>& overrides) {
  std::string argv0 = path;
  // The config goes in through a memory file, not a pipe: a plugin that
  // exits without reading it cannot leave us blocked or SIGPIPE'd.
  int memfd = ::memfd_create("cni-config", MFD_CLOEXEC);
  if (memfd < 0) return absl::UnknownError(absl::StrCat("ipam ", type, ": memfd_create: ", std::strerror(errno)));
  UniqueFd in(memfd);
  if (auto w = WriteAll(in.get(), stdin_config); !w.ok()) return Error(kIoFailure, "ipam I/O", w.message());
  if (::lseek(in.get(), 0, SEEK_SET) != 0)
    return absl::UnknownError(absl::StrCat("ipam ", type, ": lseek: ", std::strerror(errno)));
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return absl::UnknownError(absl::StrCat("ipam ", type, ": pipe: ", std::strerror(errno)));
  UniqueFd out_r(out[0]), out_w(out[1]);
  std::vector<std::string> env_strings = ChildEnv(command, overrides);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  char* argv[] = {argv0.data(), nullptr};
  pid_t pid = ::fork();
  if (pid < 0) return absl::UnknownError(absl::StrCat("ipam ", type, ": fork: ", std::strerror(errno)));
  if (pid == 0) {
    // stderr stays ours: the IPAM plugin's logs go where this plugin's go.
    ::dup2(in.get(), 0);
    ::dup2(out_w.get(), 1);
    ::execve(argv0.c_str(), argv, envp.data());
    _exit(127);
  }
  in.Reset();
  out_w.Reset();
  std::string output;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out_r.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<std::size_t>(n));
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  bool ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
  nlohmann::json j = output.empty() ? nlohmann::json() : nlohmann::json::parse(output, nullptr, false);
  if (!ok) {
    if (j.is_object() && j.contains("code") && j["code"].is_number_integer()) {
      std::string msg = j.value("msg", "");
      std::string details = j.value("details", "");
      return Error(j["code"].get<int>(), absl::StrCat("ipam ", type, ": ", msg),
                   details.empty() ? absl::StrCat("ipam ", type, " ", command, ": ", msg)
                                   : absl::StrCat("ipam ", type, " ", command, ": ", msg, ": ", details));
    }
    return Error(kGeneric, absl::StrCat("ipam ", type, " ", command, " failed"),
                 absl::StrCat("ipam ", type, " ", command, ": exit status ", wstatus, ", output '", output, "'"));
  }
  if (j.is_discarded())
    return Error(kDecodeFailure, "decoding IPAM result", absl::StrCat("ipam ", type, " printed no JSON: ", output));
  return j;
}

// The newest version both this config allows and the plugin speaks, from its
// VERSION answer; empty when there is none.
std::string CommonVersion(const std::string& path, const std::string& type, const std::string& wanted) {
  auto answer = RunIpam(path, type, "VERSION", nlohmann::json{{"cniVersion", wanted}}.dump(), {});
  if (!answer.ok() || !answer->is_object() || !answer->contains("supportedVersions")) return "";
  std::string best;
  for (const auto& v : (*answer)["supportedVersions"]) {
    if (!v.is_string()) continue;
    std::string s = v.get<std::string>();
    if (IsSupported(s) && CompareVersions(s, wanted) <= 0 && (best.empty() || CompareVersions(s, best) > 0)) best = s;
  }
  return best;
}

}  // namespace

bool IpamSpeaks(const CniEnv& env, const std::string& type, const std::string& version) {
  auto path = FindPlugin(env, type);
  if (!path.ok()) return false;
  auto answer = RunIpam(*path, type, "VERSION", nlohmann::json{{"cniVersion", version}}.dump(), {});
  if (!answer.ok() || !answer->is_object() || !answer->contains("supportedVersions")) return false;
  for (const auto& v : (*answer)["supportedVersions"])
    if (v.is_string() && v.get<std::string>() == version) return true;
  return false;
}

absl::StatusOr<nlohmann::json> ExecIpam(const CniEnv& env, const std::string& type, const std::string& command,
                                        const std::string& stdin_config,
                                        const std::map<std::string, std::string>& overrides) {
  auto path = FindPlugin(env, type);
  if (!path.ok()) return path.status();
  auto out = RunIpam(*path, type, command, stdin_config, overrides);
  if (out.ok() || ToCniError(out.status()).code != kIncompatibleVersion) return out;
  if (command != "ADD" && command != "DEL" && command != "CHECK") return out;
  // An IPAM plugin older than the request (Debian's host-local stops at
  // 1.0.0) gets the config in the newest version it speaks; ParseResult
  // reads its answer in that version and the result is re-encoded.
  nlohmann::json conf = nlohmann::json::parse(stdin_config, nullptr, false);
  if (!conf.is_object() || !conf.contains("cniVersion") || !conf["cniVersion"].is_string()) return out;
  std::string wanted = conf["cniVersion"];
  std::string common = CommonVersion(*path, type, wanted);
  if (common.empty() || common == wanted) return out;
  std::fprintf(stderr, "vnet: ipam %s speaks up to %s: asking it in that version\n", type.c_str(), common.c_str());
  conf["cniVersion"] = common;
  if (conf.contains("prevResult")) {
    auto prev = ParseResult(conf["prevResult"], wanted);
    if (prev.ok()) conf["prevResult"] = EncodeResult(*prev, common);
  }
  return RunIpam(*path, type, command, conf.dump(), overrides);
}

}  // namespace vnet::cni
