// vnetctl vxlan remote add|del|list: a VXLAN fabric's remote hosts.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "vnet/vnet.h"
#include "base/errors.h"
#include "vnetctl/cli.h"

namespace vnet {

int CmdVxlan(const Context& ctx, const std::vector<std::string>& args) {
  constexpr const char* kUsage = "vxlan: want `vxlan remote add|del FABRIC ADDR` or `vxlan remote list FABRIC`";
  if (args.size() < 2 || args[0] != "remote") return Fail(absl::InvalidArgumentError(kUsage));
  const std::string& verb = args[1];
  std::vector<std::string> rest(args.begin() + 2, args.end());
  std::string command = absl::StrCat("vxlan remote ", verb);
  if (verb == "list") {
    auto parsed = Parse(command, rest, {}, 1, 1);
    if (!parsed.ok()) return Fail(parsed.status());
    const std::string& name = parsed->positionals[0];
    auto handle = Fabric::Open(name);
    if (!handle.ok()) return Fail(Prefix(handle.status(), command));
    auto remotes = handle->Remotes();
    if (!remotes.ok()) return Fail(remotes.status());
    std::vector<std::string> texts;
    for (const auto& r : *remotes) texts.push_back(r.ToString());
    if (ctx.json) {
      PrintJson({{"fabric", handle->name()}, {"remotes", texts}});
    } else {
      for (const auto& t : texts) std::printf("%s\n", t.c_str());
    }
    return 0;
  }
  if (verb != "add" && verb != "del") return Fail(absl::InvalidArgumentError(kUsage));
  auto parsed = Parse(command, rest, {}, 2, 2);
  if (!parsed.ok()) return Fail(parsed.status());
  const std::string& name = parsed->positionals[0];
  auto remote = ParseRemote(parsed->positionals[1]);
  if (!remote.ok()) return Fail(Annotate(remote.status(), absl::StrCat(command, " ", name)));
  auto handle = Fabric::Open(name);
  if (!handle.ok()) return Fail(Prefix(handle.status(), command));
  auto status = verb == "add" ? handle->AddRemote(*remote) : handle->DeleteRemote(*remote);
  if (!status.ok()) return Fail(status);
  if (ctx.json) PrintJson({{"fabric", handle->name()}, {verb == "add" ? "added" : "deleted", remote->ToString()}});
  return 0;
}

}  // namespace vnet
