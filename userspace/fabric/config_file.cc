#include "fabric/config_file.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fabric/port_options.h"
#include "fabric/vxlan_settings.h"
#include "base/errors.h"

namespace vnet {
namespace {

std::string_view Std(absl::string_view s) { return {s.data(), s.size()}; }

// Errors carry "FILE:LINE: FIELD: problem".
class Checker {
 public:
  explicit Checker(absl::string_view file) : file_(file) {}

  absl::Status Error(const toml::node* node, absl::string_view field, absl::string_view problem) const {
    int line = node ? static_cast<int>(node->source().begin.line) : 0;
    return absl::InvalidArgumentError(absl::StrCat(file_, ":", line, ": ", field, ": ", problem));
  }
  std::string Where(const toml::node& node) const { return absl::StrCat(file_, ":", node.source().begin.line); }

  absl::Status OnlyKeys(const toml::table& table, absl::string_view context, const std::set<std::string>& allowed) const {
    for (const auto& [key, value] : table)
      if (!allowed.count(std::string(key.str())))
        return Error(&value, absl::StrCat(context, ".", std::string(key.str())),
                     absl::StrCat("unknown key (want one of ", absl::StrJoin(allowed, ", "), ")"));
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> String(const toml::table& table, absl::string_view context,
                                                   absl::string_view key) const {
    const toml::node* node = table.get(Std(key));
    if (!node) return std::optional<std::string>();
    if (!node->is_string()) return Error(node, absl::StrCat(context, ".", key), "must be a string");
    return std::optional<std::string>(node->as_string()->get());
  }

  absl::StatusOr<std::optional<bool>> Bool(const toml::table& table, absl::string_view context,
                                           absl::string_view key) const {
    const toml::node* node = table.get(Std(key));
    if (!node) return std::optional<bool>();
    if (!node->is_boolean()) return Error(node, absl::StrCat(context, ".", key), "must be true or false");
    return std::optional<bool>(node->as_boolean()->get());
  }

  // A string value checked by `parse`, whose error message is wrapped with the location.
  template <typename T, typename Parse>
  absl::StatusOr<std::optional<T>> Value(const toml::table& table, absl::string_view context, absl::string_view key,
                                         Parse parse) const {
    VNET_ASSIGN_OR_RETURN(auto text, String(table, context, key));
    if (!text) return std::optional<T>();
    auto value = parse(*text);
    if (!value.ok()) return Error(table.get(Std(key)), absl::StrCat(context, ".", key), value.status().message());
    return std::optional<T>(*value);
  }

 private:
  std::string file_;
};

// An array of strings (`ips`, `allow_ips`, `sources`) as given; `want` says
// what it must be.
absl::StatusOr<std::optional<std::vector<std::string>>> Strings(const Checker& c, const toml::table& t,
                                                                const std::string& context, const char* key,
                                                                absl::string_view want) {
  const toml::node* node = t.get(key);
  if (!node) return std::optional<std::vector<std::string>>();
  std::string field = absl::StrCat(context, ".", key);
  if (!node->is_array()) return c.Error(node, field, want);
  std::vector<std::string> out;
  for (const auto& item : *node->as_array()) {
    if (!item.is_string()) return c.Error(&item, field, want);
    out.push_back(item.as_string()->get());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

// A refusal of fabric/port_options.h at the key's line (an entry's, for a list).
PortErrorReporter FileReporter(const Checker& c, const toml::table& t, const std::string& context) {
  return [&c, &t, context](const PortOptionError& e) {
    std::string key = OptionName(OptionDialect::kFile, e.key);
    const toml::node* node = t.get(key);
    if (node && e.index >= 0 && node->is_array() && static_cast<std::size_t>(e.index) < node->as_array()->size())
      node = node->as_array()->get(static_cast<std::size_t>(e.index));
    return c.Error(node ? node : &t, absl::StrCat(context, ".", key), e.problem);
  };
}

// A device name the file gives (checked here, so --dry-run refuses it too).
absl::Status DeviceNameKey(const Checker& c, const toml::table& t, const std::string& context, const char* key) {
  const toml::node* node = t.get(key);
  if (!node || !node->is_string()) return absl::OkStatus();
  if (auto s = ValidateDeviceName(key, node->as_string()->get()); !s.ok())
    return c.Error(node, absl::StrCat(context, ".", key), s.message());
  return absl::OkStatus();
}

// storm_limit = PPS (0: none), as text for the checks port add shares.
absl::StatusOr<std::optional<std::string>> StormLimitKey(const Checker& c, const toml::table& t,
                                                         const std::string& context) {
  const toml::node* node = t.get("storm_limit");
  if (!node) return std::nullopt;
  if (!node->is_integer())
    return c.Error(node, absl::StrCat(context, ".storm_limit"), "must be a number (frames per second, 0: no limit)");
  return absl::StrCat(node->as_integer()->get());
}

absl::StatusOr<DesiredPort> ParsePort(const Checker& c, const toml::table& t, const std::string& fabric,
                                      PortKind fabric_type, const std::string& context) {
  VNET_RETURN_IF_ERROR(c.OnlyKeys(t, context,
                                  {"device", "netns", "ifname", "tap", "user", "group", "type", "ips", "mode", "mac",
                                   "hairpin", "isolated", "spoofchk", "nodst", "sources", "allow_ips", "storm_limit"}));
  DesiredPort port;
  port.where = c.Where(t);
  port.field = context;
  GivenPort given;
  given.fabric = fabric;
  VNET_ASSIGN_OR_RETURN(given.device, c.String(t, context, "device"));
  VNET_ASSIGN_OR_RETURN(given.netns, c.String(t, context, "netns"));
  VNET_ASSIGN_OR_RETURN(given.tap, c.String(t, context, "tap"));
  int forms = given.device.has_value() + given.netns.has_value() + given.tap.has_value();
  if (forms != 1) return c.Error(&t, context, "give exactly one of device, netns or tap");
  port.origin = given.device ? PortOrigin::kDevice : given.netns ? PortOrigin::kNetns : PortOrigin::kTap;
  VNET_ASSIGN_OR_RETURN(given.ifname, c.String(t, context, "ifname"));
  for (const char* key : {"user", "group"}) {
    const toml::node* node = t.get(key);
    if (!node) continue;
    // An id is 32 bits and (uid_t)-1 means "none": a larger number must not
    // wrap to another id (4294967296 would become root).
    constexpr std::int64_t kMaxId = 4294967294;
    if (!node->is_integer() || node->as_integer()->get() < 0 || node->as_integer()->get() > kMaxId)
      return c.Error(node, absl::StrCat(context, ".", key), absl::StrCat("must be a numeric id (0-", kMaxId, ")"));
    (key[0] == 'u' ? given.user : given.group) = static_cast<unsigned>(node->as_integer()->get());
  }
  VNET_ASSIGN_OR_RETURN(given.type, c.String(t, context, "type"));
  VNET_ASSIGN_OR_RETURN(given.mode, c.String(t, context, "mode"));
  VNET_ASSIGN_OR_RETURN(given.mac, c.String(t, context, "mac"));
  VNET_ASSIGN_OR_RETURN(given.ips, Strings(c, t, context, "ips", "must be an array of addresses (\"ADDR[/PLEN]\")"));
  VNET_ASSIGN_OR_RETURN(given.allow_ips,
                        Strings(c, t, context, "allow_ips",
                                "must be an array of addresses or prefixes (\"ADDR\" or \"NET/PLEN\")"));
  VNET_ASSIGN_OR_RETURN(given.sources, Strings(c, t, context, "sources", "must be an array of MACs"));
  VNET_ASSIGN_OR_RETURN(given.hairpin, c.Bool(t, context, "hairpin"));
  VNET_ASSIGN_OR_RETURN(given.isolated, c.Bool(t, context, "isolated"));
  VNET_ASSIGN_OR_RETURN(given.spoofchk, c.Bool(t, context, "spoofchk"));
  VNET_ASSIGN_OR_RETURN(given.nodst, c.Bool(t, context, "nodst"));
  VNET_ASSIGN_OR_RETURN(given.storm_limit, StormLimitKey(c, t, context));
  // The checks every front end shares (fabric/port_options.h), at the key's line.
  PortErrorReporter report = FileReporter(c, t, context);
  VNET_ASSIGN_OR_RETURN(port.options, CheckPortOptions(given, OptionDialect::kFile, report));
  PortOptions& o = port.options;
  if (port.origin == PortOrigin::kTap) o.adopt_orphan = true;  // finishing an interrupted apply
  VNET_ASSIGN_OR_RETURN(PortKind kind, CheckPortKind(o, fabric_type, OptionDialect::kFile, report));
  o.type = kind;  // settled here, so apply compares like with like
  return port;
}

// vxlan = VNI with underlay, local, remotes, dstport, vxlan_name: the fabric's
// uplink is the VXLAN device vnet creates (named vxlan_name, or vx<VNI>).
absl::Status ParseVxlanKeys(const Checker& c, const toml::table& t, const std::string& context, AttachOptions& a) {
  const toml::node* vni = t.get("vxlan");
  if (!vni) {
    for (const char* key : {"underlay", "local", "remotes", "dstport", "vxlan_name"})
      if (const toml::node* node = t.get(key))
        return c.Error(node, absl::StrCat(context, ".", key), "only with vxlan = VNI");
    return absl::OkStatus();
  }
  std::string field = absl::StrCat(context, ".vxlan");
  if (!vni->is_integer()) return c.Error(vni, field, absl::StrCat("must be a number (the VNI, 1-", kMaxVni, ")"));
  auto parsed_vni = ParseVni(absl::StrCat(vni->as_integer()->get()));
  if (!parsed_vni.ok()) return c.Error(vni, field, parsed_vni.status().message());
  if (const toml::node* uplink = t.get("uplink"))
    return c.Error(uplink, absl::StrCat(context, ".uplink"), "not with vxlan (the VXLAN device is the uplink)");
  VxlanOptions v;
  v.vni = *parsed_vni;
  VNET_ASSIGN_OR_RETURN(auto underlay, c.String(t, context, "underlay"));
  if (!underlay) return c.Error(&t, absl::StrCat(context, ".underlay"), "missing (the device VXLAN frames leave by)");
  v.underlay = *underlay;
  VNET_RETURN_IF_ERROR(DeviceNameKey(c, t, context, "underlay"));
  VNET_ASSIGN_OR_RETURN(auto name, c.String(t, context, "vxlan_name"));
  if (name) v.name = *name;
  VNET_RETURN_IF_ERROR(DeviceNameKey(c, t, context, "vxlan_name"));
  VNET_ASSIGN_OR_RETURN(auto local, c.Value<IpAddress>(t, context, "local", IpAddress::Parse));
  v.local = local;
  if (const toml::node* port = t.get("dstport")) {
    std::string port_field = absl::StrCat(context, ".dstport");
    if (!port->is_integer()) return c.Error(port, port_field, "must be a number (1-65535)");
    auto p = ParseDstport(absl::StrCat(port->as_integer()->get()));
    if (!p.ok()) return c.Error(port, port_field, p.status().message());
    v.dstport = *p;
  }
  VNET_ASSIGN_OR_RETURN(auto remotes, Strings(c, t, context, "remotes", "must be an array of addresses"));
  if (remotes) {
    const toml::array& items = *t.get("remotes")->as_array();
    for (std::size_t i = 0; i < remotes->size(); ++i) {
      auto r = ParseRemote((*remotes)[i]);
      if (!r.ok()) return c.Error(items.get(i), absl::StrCat(context, ".remotes"), r.status().message());
      v.remotes.push_back(*r);
    }
  }
  if (auto s = CheckVxlanOptions(v); !s.ok()) return c.Error(vni, field, s.message());
  a.uplink = VxlanDeviceName(v);
  a.vxlan = std::move(v);
  return absl::OkStatus();
}

absl::StatusOr<DesiredFabric> ParseFabric(const Checker& c, const std::string& name, const toml::table& t) {
  std::string context = absl::StrCat("fabric.", name);
  if (auto s = ValidateFabricName(name); !s.ok()) return c.Error(&t, context, s.message());
  VNET_RETURN_IF_ERROR(c.OnlyKeys(t, context, {"uplink", "type", "ipvlan_mode", "ipvlan_flag", "host", "unknown",
                                               "xdp_mode", "xdp_redirect", "tc_hook", "dhcp_max_leases", "storm_limit", "port",
                                               "vxlan", "underlay", "local", "remotes", "dstport", "vxlan_name"}));
  DesiredFabric fabric;
  fabric.where = c.Where(t);
  AttachOptions& a = fabric.attach;
  a.fabric = name;
  VNET_RETURN_IF_ERROR(ParseVxlanKeys(c, t, context, a));
  if (!a.vxlan) {
    VNET_ASSIGN_OR_RETURN(auto uplink, c.String(t, context, "uplink"));
    if (!uplink) return c.Error(&t, absl::StrCat(context, ".uplink"), "missing (the uplink device)");
    a.uplink = *uplink;
    VNET_RETURN_IF_ERROR(DeviceNameKey(c, t, context, "uplink"));
  }
  VNET_ASSIGN_OR_RETURN(auto type, c.Value<PortKind>(t, context, "type", ParsePortKind));
  if (type) a.type = *type;
  VNET_ASSIGN_OR_RETURN(auto ipvlan_mode, c.Value<IpvlanMode>(t, context, "ipvlan_mode", ParseIpvlanMode));
  if (ipvlan_mode) a.ipvlan_mode = *ipvlan_mode;
  VNET_ASSIGN_OR_RETURN(auto ipvlan_flag, c.Value<IpvlanFlag>(t, context, "ipvlan_flag", ParseIpvlanFlag));
  if (ipvlan_flag) a.ipvlan_flag = *ipvlan_flag;
  VNET_ASSIGN_OR_RETURN(auto host, c.Bool(t, context, "host"));
  a.host = host.value_or(false);
  VNET_ASSIGN_OR_RETURN(auto unknown, c.String(t, context, "unknown"));
  if (unknown && *unknown != "pass" && *unknown != "drop")
    return c.Error(t.get("unknown"), absl::StrCat(context, ".unknown"), "want \"pass\" or \"drop\"");
  a.unknown_drop = unknown && *unknown == "drop";
  VNET_ASSIGN_OR_RETURN(auto xdp_mode, c.Value<XdpMode>(t, context, "xdp_mode", ParseXdpMode));
  if (xdp_mode) a.xdp_mode = *xdp_mode;
  VNET_ASSIGN_OR_RETURN(auto redirect, c.String(t, context, "xdp_redirect"));
  if (redirect && *redirect != "auto" && *redirect != "on" && *redirect != "off")
    return c.Error(t.get("xdp_redirect"), absl::StrCat(context, ".xdp_redirect"), "want \"auto\", \"on\" or \"off\"");
  if (redirect && *redirect != "auto") a.xdp_redirect = *redirect == "on";
  VNET_ASSIGN_OR_RETURN(auto hook, c.Value<TcHook>(t, context, "tc_hook", ParseTcHook));
  if (hook) a.tc_hook = *hook;
  if (const toml::node* cap = t.get("dhcp_max_leases")) {
    std::string field = absl::StrCat(context, ".dhcp_max_leases");
    if (!cap->is_integer()) return c.Error(cap, field, "must be a number (leases per ipvlan port)");
    auto n = ParseDhcpMaxLeases(absl::StrCat(cap->as_integer()->get()));
    if (!n.ok()) return c.Error(cap, field, n.status().message());
    a.dhcp_max_leases = *n;
  }
  VNET_ASSIGN_OR_RETURN(auto storm_limit, StormLimitKey(c, t, context));
  if (storm_limit) {
    auto pps = ParseStormLimit("storm_limit", *storm_limit);
    if (!pps.ok()) return c.Error(t.get("storm_limit"), absl::StrCat(context, ".storm_limit"), pps.status().message());
    a.storm_limit = *pps;
  }

  if (const toml::node* ports = t.get("port")) {
    if (!ports->is_array_of_tables())
      return c.Error(ports, absl::StrCat(context, ".port"), absl::StrCat("must be [[fabric.", name, ".port]] tables"));
    int i = 0;
    bool passthru = false;
    std::set<std::string> macs;
    for (const auto& item : *ports->as_array()) {
      std::string port_context = absl::StrCat(context, ".port[", i++, "]");
      VNET_ASSIGN_OR_RETURN(DesiredPort port, ParsePort(c, *item.as_table(), name, a.type, port_context));
      passthru |= port.options.mode == PortMode::kPassthru;
      if (port.options.mac && !macs.insert(port.options.mac->ToString()).second)
        return c.Error(&item, absl::StrCat(port_context, ".mac"), "used by another port of this fabric");
      fabric.ports.push_back(std::move(port));
    }
    if (passthru && fabric.ports.size() > 1)
      return c.Error(ports, absl::StrCat(context, ".port"), "a passthru port must be the fabric's only port");
  }
  return fabric;
}

}  // namespace

std::string DesiredPort::Identity() const {
  switch (origin) {
    case PortOrigin::kDevice: return absl::StrCat("device ", options.dev);
    case PortOrigin::kNetns: return absl::StrCat("netns ", options.netns, "/", options.ifname);
    case PortOrigin::kTap: return absl::StrCat("tap ", options.tap);
  }
  return "?";
}

absl::StatusOr<DesiredState> ParseConfig(absl::string_view text, absl::string_view file_name) {
  Checker c(file_name);
  toml::table root;
  try {
    root = toml::parse(std::string_view(text.data(), text.size()), std::string_view(file_name.data(), file_name.size()));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", e.source().begin.line, ": syntax: ", std::string(e.description())));
  }
  VNET_RETURN_IF_ERROR(c.OnlyKeys(root, "(top level)", {"fabric"}));
  DesiredState state;
  const toml::node* fabrics = root.get("fabric");
  if (!fabrics) return state;  // an empty file: no fabrics
  if (!fabrics->is_table()) return c.Error(fabrics, "fabric", "must be tables [fabric.NAME]");
  std::map<std::string, std::string> uplinks, identities, ips;
  for (const auto& [key, value] : *fabrics->as_table()) {
    std::string name(key.str());
    if (!value.is_table()) return c.Error(&value, absl::StrCat("fabric.", name), "must be a table");
    VNET_ASSIGN_OR_RETURN(DesiredFabric fabric, ParseFabric(c, name, *value.as_table()));
    if (auto [it, fresh] = uplinks.emplace(fabric.attach.uplink, name); !fresh)
      return c.Error(fabric.attach.vxlan ? value.as_table()->get("vxlan") : value.as_table()->get("uplink"),
                     absl::StrCat("fabric.", name, fabric.attach.vxlan ? ".vxlan" : ".uplink"),
                     absl::StrCat("already the uplink of fabric ", it->second));
    for (const auto& port : fabric.ports)
      if (auto [it, fresh] = identities.emplace(port.Identity(), name); !fresh)
        return absl::InvalidArgumentError(
            absl::StrCat(port.where, ": fabric.", name, ".port: ", port.Identity(), " is already a port of fabric ",
                         it->second));
    for (const auto& port : fabric.ports)
      for (const auto& ip : port.options.ips)
        if (auto [it, fresh] = ips.emplace(ip.Owned(), port.field); !fresh)
          return absl::InvalidArgumentError(absl::StrCat(port.where, ": ", port.field, ".ips: ", ip.Owned(),
                                                         " is already an address of ", it->second));
    state.fabrics.push_back(std::move(fabric));
  }
  return state;
}

absl::StatusOr<DesiredState> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read the file"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path);
}

}  // namespace vnet
