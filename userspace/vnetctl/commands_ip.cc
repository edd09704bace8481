// vnetctl ip add|del|flush: the addresses of ipvlan ports.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "vnet/vnet.h"
#include "base/errors.h"
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
  std::string address;
  std::optional<PortIp> ip;
  bool plen_given = false;
  if (!flush) {
    const std::string& text = parsed->positionals[1];
    auto parsed_ip = PortIp::Parse(text);
    if (!parsed_ip.ok())
      return Fail(absl::InvalidArgumentError(absl::StrCat(command, " ", dev, ": ", parsed_ip.status().message())));
    ip = *parsed_ip;
    address = ip->Owned();
    plen_given = text.find('/') != std::string::npos;
  }
  auto handle = Fabric::OfDevice(dev);
  if (!handle.ok()) return Fail(Prefix(handle.status(), command));
  absl::Status status = flush            ? handle->FlushAddresses(dev)
                        : sub == "add" ? handle->AddAddress(dev, *ip)
                                       : handle->DeleteAddress(dev, *ip, plen_given);
  if (!status.ok()) return Fail(status);
  if (ctx.json) {
    nlohmann::json doc = {{"device", dev}, {"ip", sub}};
    if (!flush) doc["address"] = address;
    PrintJson(doc);
  }
  return 0;
}

}  // namespace vnet
