#include "docker/driver.h"

#include <sys/random.h>

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "docker/fabric_ops.h"

namespace vnet::docker {
namespace {

using nlohmann::json;

// Libnetwork's route type for a route with no next hop (types.CONNECTED).
constexpr int kRouteConnected = 1;

absl::StatusOr<std::string> StringField(const json& request, const char* key) {
  if (!request.is_object() || !request.contains(key) || !request[key].is_string() || request[key].get<std::string>().empty())
    return absl::InvalidArgumentError(absl::StrCat("the request has no ", key));
  return request[key].get<std::string>();
}

// The network and endpoint a request is about.
struct EndpointIds {
  std::string nid;
  std::string eid;
};

absl::StatusOr<EndpointIds> EndpointIdsOf(const json& request) {
  auto nid = StringField(request, "NetworkID");
  if (!nid.ok()) return nid.status();
  auto eid = StringField(request, "EndpointID");
  if (!eid.ok()) return eid.status();
  return EndpointIds{*std::move(nid), *std::move(eid)};
}

std::string Optional(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
  return object[key].get<std::string>();
}

absl::Status Step(const absl::Status& s, absl::string_view step) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(step, ": ", s.message()));
}

// Held by every call that changes fabrics, as vnetctl and the CNI plugin
// hold it; what a killed vnetctl left half-done is settled first.
absl::StatusOr<UniqueFd> Lock() {
  auto fd = AcquireControlLock();
  if (!fd.ok()) return Step(fd.status(), "vnet control lock");
  for (const auto& line : RecoverInterrupted()) std::fprintf(stderr, "vnet-docker: recovered %s\n", line.c_str());
  return fd;
}

// Docker's macvlan driver makes a container's MAC from its IPv4 address
// (02:42 and the four bytes); without one, a random local address.
MacAddress GeneratedMac(const std::optional<IpAddress>& ipv4) {
  if (ipv4) return MacAddress{{0x02, 0x42, ipv4->bytes[0], ipv4->bytes[1], ipv4->bytes[2], ipv4->bytes[3]}};
  std::array<std::uint8_t, 6> random{};
  if (getrandom(random.data(), random.size(), 0) != static_cast<ssize_t>(random.size())) random = {0, 0x42, 1, 2, 3, 4};
  return MacAddress::LocalUnicast(random);
}

// The pool of `pools` holding one of `addresses`, else the first.
const Pool* PoolOf(const std::vector<Pool>& pools, const std::vector<IpPrefix>& addresses) {
  for (const auto& p : pools)
    for (const auto& a : addresses)
      if (Overlaps(p.subnet, IpPrefix{a.address, a.address.MaxPrefix()})) return &p;
  return pools.empty() ? nullptr : &pools.front();
}

// The addresses a port was given: the allowed sources of a macvlan-kind
// port, the addresses of an ipvlan-kind one.
std::vector<IpPrefix> PortAddresses(const std::string& fabric, const std::string& dev) {
  std::vector<IpPrefix> out;
  auto handle = Fabric::Open(fabric);
  if (!handle.ok()) return out;
  auto info = handle->Describe();
  if (!info.ok()) return out;
  for (const auto& p : info->ports) {
    if (p.name != dev) continue;
    out = p.allow_ips;
    for (const auto& a : p.addresses)
      if (!a.link_local) out.push_back(a.prefix);
  }
  return out;
}

}  // namespace

absl::StatusOr<json> Driver::Call(const std::string& method, const json& request, DriverName driver) {
  std::lock_guard<std::mutex> hold(mu_);
  if (method == "Plugin.Activate") return json{{"Implements", {"NetworkDriver"}}};
  if (method == "NetworkDriver.GetCapabilities") return json{{"Scope", "local"}, {"ConnectivityScope", "local"}};
  if (method == "NetworkDriver.CreateNetwork") return CreateNetwork(request, driver);
  if (method == "NetworkDriver.DeleteNetwork") return DeleteNetwork(request);
  if (method == "NetworkDriver.CreateEndpoint") return CreateEndpoint(request);
  if (method == "NetworkDriver.DeleteEndpoint") return DeleteEndpoint(request);
  if (method == "NetworkDriver.EndpointOperInfo") return EndpointOperInfo(request);
  if (method == "NetworkDriver.Join") return Join(request);
  if (method == "NetworkDriver.Leave") return Leave(request);
  // Nothing to do on a single host: discovery of other nodes, port mapping
  // and NAT (a vnet network is on the wire, as macvlan's are), and the
  // global-scope allocation calls.
  if (method == "NetworkDriver.DiscoverNew" || method == "NetworkDriver.DiscoverDelete" ||
      method == "NetworkDriver.ProgramExternalConnectivity" || method == "NetworkDriver.RevokeExternalConnectivity" ||
      method == "NetworkDriver.AllocateNetwork" || method == "NetworkDriver.FreeNetwork")
    return json::object();
  return absl::NotFoundError(absl::StrCat(method, ": unknown call"));
}

absl::StatusOr<json> Driver::CreateNetwork(const json& request, DriverName driver) {
  auto config = ParseCreateNetwork(request, driver);
  if (!config.ok()) return config.status();
  if (auto s = ValidateNetworkId(config->id); !s.ok()) return s;
  if (store_.Load(config->id).ok()) return json::object();  // a repeated call
  for (const auto& other : store_.List())
    if (auto s = CheckCompatible(other.config, *config); !s.ok()) return s;
  auto lock = Lock();
  if (!lock.ok()) return lock.status();
  bool created = false;
  auto fabric = EnsureFabric(*config, &created);
  if (!fabric.ok()) return Step(fabric.status(), absl::StrCat("parent ", config->parent));
  NetworkRecord record{driver, request, created, *config};
  if (auto s = store_.Save(record); !s.ok()) {
    if (created) (void)DetachIfEmpty(*fabric);  // nothing left behind
    return s;
  }
  return json::object();
}

absl::StatusOr<json> Driver::DeleteNetwork(const json& request) {
  auto id = StringField(request, "NetworkID");
  if (!id.ok()) return id.status();
  auto record = store_.Load(*id);
  if (absl::IsNotFound(record.status())) return json::object();  // already gone: Docker may repeat it
  if (!record.ok()) return record.status();
  auto lock = Lock();
  if (!lock.ok()) return lock.status();
  // Endpoints Docker did not delete (a dockerd killed midway) go with the network.
  auto ports = FindPorts(absl::StrCat("docker:", *id, ":"), /*prefix=*/true);
  if (!ports.ok()) return Step(ports.status(), "listing the network's ports");
  for (const auto& p : *ports)
    if (auto s = RemovePort(p.fabric, p.port.name); !s.ok()) return Step(s, absl::StrCat("removing port ", p.port.name));
  if (auto s = store_.Remove(*id); !s.ok()) return s;
  if (!record->created_fabric) return json::object();
  // The fabric the driver made goes with the last network on its parent;
  // until then another network on it inherits the duty.
  for (auto& other : store_.List()) {
    if (other.config.parent != record->config.parent) continue;
    other.created_fabric = true;
    if (auto s = store_.Save(other); !s.ok()) return s;
    return json::object();
  }
  auto settings = FabricSettings(record->config.parent);
  if (!settings.ok()) return json::object();  // gone already
  auto detached = DetachIfEmpty(settings->name);
  if (!detached.ok()) return Step(detached.status(), absl::StrCat("detaching fabric ", settings->name));
  return json::object();
}

absl::StatusOr<json> Driver::CreateEndpoint(const json& request) {
  auto ids = EndpointIdsOf(request);
  if (!ids.ok()) return ids.status();
  const std::string& nid = ids->nid;
  const std::string& eid = ids->eid;
  auto record = store_.Load(nid);
  if (!record.ok()) return record.status();
  const NetworkConfig& config = record->config;
  const json iface = request.contains("Interface") ? request["Interface"] : json::object();
  NewEndpoint want{nid, eid, {}, {}};
  std::optional<IpAddress> ipv4;
  for (const char* key : {"Address", "AddressIPv6"}) {
    std::string text = Optional(iface, key);
    if (text.empty()) continue;
    auto a = ParseAddressWithPlen(text);
    if (!a.ok()) return Step(a.status(), absl::StrCat("Interface.", key));
    if (a->address.family == 4) ipv4 = a->address;
    want.addresses.push_back(*a);
  }
  auto lock = Lock();
  if (!lock.ok()) return lock.status();
  bool created = false;
  auto fabric = EnsureFabric(config, &created);  // after a reboot the fabric is made again
  if (!fabric.ok()) return Step(fabric.status(), absl::StrCat("parent ", config.parent));
  auto stale = FindPorts(EndpointAlias(nid, eid), /*prefix=*/false);
  if (stale.ok())
    for (const auto& p : *stale) (void)RemovePort(p.fabric, p.port.name);

  std::string given_mac = Optional(iface, "MacAddress");
  bool generated = given_mac.empty();
  if (config.kind == PortKind::kIpvlan) {
    // ipvlan: every container shares the parent's MAC, as with the kernel's.
    auto settings = FabricSettings(*fabric);
    if (!settings.ok()) return settings.status();
    want.mac = settings->uplink_mac;
    if (!generated) {
      auto mac = MacAddress::Parse(given_mac);
      if (!mac.ok() || !(*mac == want.mac))
        return absl::InvalidArgumentError(absl::StrCat("MAC ", given_mac, ": ipvlan containers have the parent's MAC ",
                                                       want.mac.ToString(), "; drop --mac-address"));
    }
  } else if (!generated) {
    auto mac = MacAddress::Parse(given_mac);
    if (!mac.ok()) return Step(mac.status(), "Interface.MacAddress");
    want.mac = *mac;
  } else {
    want.mac = GeneratedMac(ipv4);
  }
  auto port = AddEndpointPort(config, *fabric, want);
  if (!port.ok()) {
    if (created) (void)DetachIfEmpty(*fabric);
    return Step(port.status(), absl::StrCat("endpoint ", eid.substr(0, 12)));
  }
  json out_iface = json::object();
  if (generated) out_iface["MacAddress"] = want.mac.ToString();
  return json{{"Interface", out_iface}};
}

absl::StatusOr<json> Driver::DeleteEndpoint(const json& request) {
  auto ids = EndpointIdsOf(request);
  if (!ids.ok()) return ids.status();
  const std::string& nid = ids->nid;
  const std::string& eid = ids->eid;
  auto lock = Lock();
  if (!lock.ok()) return lock.status();
  auto ports = FindPorts(EndpointAlias(nid, eid), /*prefix=*/false);
  if (!ports.ok()) return ports.status();
  for (const auto& p : *ports)
    if (auto s = RemovePort(p.fabric, p.port.name); !s.ok()) return Step(s, absl::StrCat("removing port ", p.port.name));
  if (ports->empty()) {
    // The sandbox went first and took the pair (and its alias) with it: the
    // fabric forgets the port whose device is gone.
    auto record = store_.Load(nid);
    if (record.ok())
      if (auto settings = FabricSettings(record->config.parent); settings.ok()) (void)PruneFabric(settings->name);
  }
  return json::object();
}

absl::StatusOr<json> Driver::EndpointOperInfo(const json& request) {
  auto ids = EndpointIdsOf(request);
  if (!ids.ok()) return ids.status();
  const std::string& nid = ids->nid;
  const std::string& eid = ids->eid;
  json value = json::object();
  auto ports = FindPorts(EndpointAlias(nid, eid), /*prefix=*/false);
  if (ports.ok() && !ports->empty()) {
    value["vnet.fabric"] = ports->front().fabric;
    value["vnet.port"] = ports->front().port.name;
  }
  return json{{"Value", value}};
}

absl::StatusOr<json> Driver::Join(const json& request) {
  auto ids = EndpointIdsOf(request);
  if (!ids.ok()) return ids.status();
  const std::string& nid = ids->nid;
  const std::string& eid = ids->eid;
  auto record = store_.Load(nid);
  if (!record.ok()) return record.status();
  const NetworkConfig& config = record->config;
  auto ports = FindPorts(EndpointAlias(nid, eid), /*prefix=*/false);
  if (!ports.ok()) return ports.status();
  if (ports->empty())
    return absl::NotFoundError(absl::StrCat("endpoint ", eid.substr(0, 12), ": no vnet port (it was removed since CreateEndpoint)"));
  std::string inner = ContainerEndName(eid);
  if (!DeviceMtu(inner).ok())
    return absl::FailedPreconditionError(absl::StrCat("endpoint ", eid.substr(0, 12), ": its container end ", inner,
                                                      " is not in the driver's namespace (joined already?)"));
  json out = {{"InterfaceName", {{"SrcName", inner}, {"DstPrefix", "eth"}}}};
  auto addresses = PortAddresses(ports->front().fabric, ports->front().port.name);
  bool routed = config.kind == PortKind::kIpvlan && config.ipvlan_mode != IpvlanMode::kL2;
  if (routed) {
    // l3/l3s: the parent routes; the container's default route is the
    // device itself, as Docker's ipvlan driver sets it.
    json routes = json::array();
    if (!config.ipv4.empty()) routes.push_back({{"Destination", "0.0.0.0/0"}, {"RouteType", kRouteConnected}, {"NextHop", ""}});
    if (!config.ipv6.empty()) routes.push_back({{"Destination", "::/0"}, {"RouteType", kRouteConnected}, {"NextHop", ""}});
    out["StaticRoutes"] = routes;
    // Without this libnetwork adds its own gateway (docker_gwbridge), whose
    // default route clashes with the one above ("file exists").
    out["DisableGatewayService"] = true;
    return out;
  }
  if (const Pool* p = PoolOf(config.ipv4, addresses); p && p->gateway) out["Gateway"] = p->gateway->ToString();
  if (const Pool* p = PoolOf(config.ipv6, addresses); p && p->gateway) out["GatewayIPv6"] = p->gateway->ToString();
  return out;
}

absl::StatusOr<json> Driver::Leave(const json& request) {
  // The port stays until DeleteEndpoint: Docker moves the container end back
  // out of the sandbox after Leave, and DeleteEndpoint removes the pair.
  auto nid = StringField(request, "NetworkID");
  if (!nid.ok()) return nid.status();
  if (auto eid = StringField(request, "EndpointID"); !eid.ok()) return eid.status();
  return json::object();
}

}  // namespace vnet::docker
