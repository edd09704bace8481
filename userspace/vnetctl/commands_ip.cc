// vnetctl ip add|del|flush: the addresses of ipvlan ports.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "vnet/vnet.h"
#include "vnetctl/cli.h"
#include "vnetctl/help.h"

namespace vnet {

int CmdIp(const Context& ctx, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "help") {
    std::fputs(kIpHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string& sub = args[0];
  std::string command = absl::StrCat("ip ", sub);
  std::vector<std::string> rest(args.begin() + 1, args.end());
  bool flush = sub == "flush";
  if (!flush && sub != "add" && sub != "del")
    return Fail(absl::InvalidArgumentError(absl::StrCat("ip: unknown subcommand '", sub, "' (add, del, flush)")));
  auto parsed = Parse(command, rest, {}, flush ? 1 : 2, flush ? 1 : 2);
  if (!parsed.ok()) return Fail(parsed.status());
  const std::string& dev = parsed->positionals[0];
  absl::Status status;
  std::string address;
  if (flush) {
    status = FlushPortAddresses(dev);
  } else {
    const std::string& text = parsed->positionals[1];
    auto ip = PortIp::Parse(text);
    if (!ip.ok()) return Fail(absl::InvalidArgumentError(absl::StrCat(command, " ", dev, ": ", ip.status().message())));
    address = ip->Owned();
    status = sub == "add" ? AddPortAddress(dev, *ip)
                          : DeletePortAddress(dev, *ip, text.find('/') != std::string::npos);
  }
  if (!status.ok()) return Fail(status);
  if (ctx.json) {
    nlohmann::json doc = {{"device", dev}, {"ip", sub}};
    if (!flush) doc["address"] = address;
    PrintJson(doc);
  }
  return 0;
}

}  // namespace vnet
