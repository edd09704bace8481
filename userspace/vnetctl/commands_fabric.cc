// vnetctl attach, detach, fabric set, down: whole fabrics.
#include <cstdio>
#include <utility>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "vnet/vnet.h"
#include "base/errors.h"
#include "vnetctl/cli.h"
#include "vnetctl/output.h"

namespace vnet {
namespace {

// attach's --vxlan group: all or nothing of it.
absl::Status VxlanAttachOptions(const ParsedArgs& parsed, AttachOptions& options) {
  auto vni = parsed.Get("--vxlan");
  if (!vni) {
    for (const char* o : {"--underlay", "--local", "--remote", "--dstport", "--vxlan-name"})
      if (parsed.Has(o)) return absl::InvalidArgumentError(absl::StrCat("attach: ", o, " needs --vxlan VNI"));
    return absl::OkStatus();
  }
  VxlanOptions v;
  auto parsed_vni = ParseVni(*vni);
  if (!parsed_vni.ok()) return Annotate(parsed_vni.status(), "attach --vxlan");
  v.vni = *parsed_vni;
  auto underlay = parsed.Get("--underlay");
  if (!underlay) return absl::InvalidArgumentError("attach --vxlan: --underlay DEV is required");
  v.underlay = *underlay;
  if (auto local = parsed.Get("--local")) {
    auto a = IpAddress::Parse(*local);
    if (!a.ok()) return absl::InvalidArgumentError(absl::StrCat("attach --vxlan: --local '", *local, "': not an address"));
    v.local = *a;
  }
  for (const auto& text : parsed.GetAll("--remote")) {
    auto r = ParseRemote(text);
    if (!r.ok()) return Annotate(r.status(), "attach --vxlan");
    v.remotes.push_back(*r);
  }
  if (auto port = parsed.Get("--dstport")) {
    auto p = ParseDstport(*port);
    if (!p.ok()) return Annotate(p.status(), "attach --vxlan: --dstport");
    v.dstport = *p;
  }
  v.name = parsed.Get("--vxlan-name").value_or("");
  options.vxlan = std::move(v);
  return absl::OkStatus();
}

}  // namespace

int CmdAttach(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("attach", args,
                      {{"--fabric"}, {"--type"}, {"--ipvlan-mode"}, {"--ipvlan-flag"}, {"--host"},
                       {"--unknown"}, {"--xdp-mode"}, {"--xdp-redirect"}, {"--tc-hook"}, {"--force", false},
                       {"--dhcp-max-leases"}, {"--storm-limit"}, {"--vxlan"}, {"--underlay"}, {"--local"}, {"--remote", true, true},
                       {"--dstport"}, {"--vxlan-name"}},
                      0, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  AttachOptions options;
  if (auto s = VxlanAttachOptions(*parsed, options); !s.ok()) return Fail(s);
  if (!options.vxlan && parsed->positionals.empty())
    return Fail(absl::InvalidArgumentError("attach: want UPLINK, or --vxlan VNI --underlay DEV (see vnetctl help attach)"));
  if (options.vxlan && !parsed->positionals.empty())
    return Fail(absl::InvalidArgumentError(absl::StrCat("attach ", parsed->positionals[0],
                                                        ": --vxlan creates its own uplink; give no UPLINK")));
  if (!options.vxlan) options.uplink = parsed->positionals[0];
  options.fabric = parsed->Get("--fabric").value_or("");
  options.force = parsed->Has("--force");
  // The ipvlan mode and flag apply to the fabric's IP-demux ports whatever its type.
  if (auto s = ParsedOption(*parsed, "--type", ParsePortKind, options.type); !s.ok()) return Fail(Annotate(s, "attach"));
  if (auto s = ParsedOption(*parsed, "--ipvlan-mode", ParseIpvlanMode, options.ipvlan_mode); !s.ok())
    return Fail(Annotate(s, "attach"));
  if (auto s = ParsedOption(*parsed, "--ipvlan-flag", ParseIpvlanFlag, options.ipvlan_flag); !s.ok())
    return Fail(Annotate(s, "attach"));
  if (auto s = OnOffOption(*parsed, "--host", options.host); !s.ok()) return Fail(Annotate(s, "attach"));
  if (auto v = parsed->Get("--xdp-redirect"); v && *v != "auto") {
    bool on = false;
    if (auto s = OnOffOption(*parsed, "--xdp-redirect", on); !s.ok())
      return Fail(Annotate(absl::InvalidArgumentError(absl::StrCat("--xdp-redirect '", *v, "': want auto, on or off")),
                           "attach"));
    options.xdp_redirect = on;
  }
  if (auto v = parsed->Get("--unknown")) {
    if (*v != "pass" && *v != "drop")
      return Fail(absl::InvalidArgumentError(absl::StrCat("--unknown '", *v, "': want pass or drop")));
    options.unknown_drop = *v == "drop";
  }
  if (auto v = parsed->Get("--tc-hook")) {
    auto hook = ParseTcHook(*v);
    if (!hook.ok()) return Fail(Annotate(hook.status(), "attach"));
    options.tc_hook = *hook;
  }
  if (auto v = parsed->Get("--xdp-mode")) {
    auto mode = ParseXdpMode(*v);
    if (!mode.ok()) return Fail(Annotate(mode.status(), "attach"));
    options.xdp_mode = *mode;
  }
  if (auto v = parsed->Get("--dhcp-max-leases")) {
    auto n = ParseDhcpMaxLeases(*v);
    if (!n.ok()) return Fail(Annotate(n.status(), "attach"));
    options.dhcp_max_leases = *n;
  }
  if (auto v = parsed->Get("--storm-limit")) {
    auto pps = ParseStormLimit("--storm-limit", *v);
    if (!pps.ok()) return Fail(Annotate(pps.status(), "attach"));
    options.storm_limit = *pps;
  }
  FabricInfo info;
  auto handle = Fabric::Attach(options, &info);
  if (!handle.ok()) return Fail(handle.status());
  if (ctx.json)
    PrintJson(FabricToJson(info));
  else
    std::printf("fabric %s attached to %s (xdp %s)%s\n", info.name.c_str(), info.uplink.c_str(), info.xdp_mode.c_str(),
                info.vxlan && info.vxlan->created ? absl::StrCat(", VXLAN ", info.vxlan->vni, " on ", info.vxlan->underlay,
                                                                 " mtu ", info.vxlan->mtu).c_str()
                                                  : "");
  return 0;
}

int CmdDetach(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("detach", args, {}, 1, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  auto handle = Fabric::Open(parsed->positionals[0]);
  if (!handle.ok()) return Fail(Prefix(handle.status(), "detach"));
  auto status = std::move(*handle).Detach();
  if (!status.ok()) return Fail(status);
  if (ctx.json) PrintJson({{"detached", parsed->positionals[0]}});
  return 0;
}

int CmdDown(const Context& ctx, const std::vector<std::string>& args) {
  auto parsed = Parse("down", args, {}, 0, 0);
  if (!parsed.ok()) return Fail(parsed.status());
  auto report = DetachAll();
  if (!report.ok()) return Fail(report.status());
  // Fabrics of another vnet version are never taken apart: say which.
  for (const auto& left : report->left) std::fprintf(stderr, "vnetctl: down: left %s\n", left.c_str());
  if (ctx.json) PrintJson({{"removed", report->removed}, {"left", report->left}});
  return 0;
}

int CmdFabric(const Context& ctx, const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "set")
    return Fail(absl::InvalidArgumentError(
        "fabric: want `fabric set NAME [--host on|off] [--unknown pass|drop] [--ipvlan-mode M] [--ipvlan-flag F] "
        "[--dhcp-max-leases N] [--storm-limit PPS|off]`"));
  std::vector<std::string> rest(args.begin() + 1, args.end());
  auto parsed = Parse("fabric set", rest,
                      {{"--host"}, {"--unknown"}, {"--ipvlan-mode"}, {"--ipvlan-flag"}, {"--dhcp-max-leases"},
                       {"--storm-limit"}},
                      1, 1);
  if (!parsed.ok()) return Fail(parsed.status());
  const std::string& name = parsed->positionals[0];
  auto handle = Fabric::Open(name);
  if (!handle.ok()) return Fail(Prefix(handle.status(), "fabric set"));
  auto described = handle->Describe();
  if (!described.ok()) return Fail(Prefix(described.status(), "fabric set"));
  const FabricInfo& have = *described;
  FabricPolicy policy{have.host, have.unknown_drop, have.ipvlan_mode, have.ipvlan_flag, std::nullopt, std::nullopt};
  if (auto s = OnOffOption(*parsed, "--host", policy.host); !s.ok()) return Fail(Annotate(s, "fabric set"));
  if (auto v = parsed->Get("--unknown")) {
    if (*v != "pass" && *v != "drop")
      return Fail(absl::InvalidArgumentError(absl::StrCat("fabric set: --unknown '", *v, "': want pass or drop")));
    policy.unknown_drop = *v == "drop";
  }
  if (auto s = ParsedOption(*parsed, "--ipvlan-mode", ParseIpvlanMode, policy.ipvlan_mode); !s.ok())
    return Fail(Annotate(s, "fabric set"));
  if (auto s = ParsedOption(*parsed, "--ipvlan-flag", ParseIpvlanFlag, policy.ipvlan_flag); !s.ok())
    return Fail(Annotate(s, "fabric set"));
  if (auto v = parsed->Get("--dhcp-max-leases")) {
    auto n = ParseDhcpMaxLeases(*v);
    if (!n.ok()) return Fail(Annotate(n.status(), "fabric set"));
    policy.dhcp_max_leases = *n;
  }
  if (auto v = parsed->Get("--storm-limit")) {
    auto pps = ParseStormLimit("--storm-limit", *v);
    if (!pps.ok()) return Fail(Annotate(pps.status(), "fabric set"));
    policy.storm_limit = *pps;
  }
  if (parsed->options.empty())
    return Fail(absl::InvalidArgumentError(absl::StrCat("fabric set ", name, ": nothing to change")));
  if (auto s = handle->SetPolicy(policy); !s.ok()) return Fail(s);
  if (ctx.json)
    PrintJson({{"fabric", have.name},
               {"host", policy.host},
               {"unknown", policy.unknown_drop ? "drop" : "pass"},
               {"ipvlan_mode", std::string(IpvlanModeName(policy.ipvlan_mode))},
               {"ipvlan_flag", std::string(IpvlanFlagName(policy.ipvlan_flag))},
               {"dhcp_max_leases", policy.dhcp_max_leases.value_or(have.dhcp_max_leases)},
               {"storm_limit", policy.storm_limit.value_or(have.storm_limit)}});
  return 0;
}

}  // namespace vnet
