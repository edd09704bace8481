#include "bench/variant_setup.h"

#include <arpa/inet.h>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "base/mac_address.h"

namespace vnet::bench {
namespace {

const MacAddress kMacBase = *MacAddress::Parse("02:be:00:00:00:00");
const MacAddress kUnknownBase = *MacAddress::Parse("02:dd:00:00:00:00");
// The ips case's addresses: 10.0.0.0 + 0..N-1, away from the topology's
// 198.18.0.0/24.
constexpr std::uint32_t kIpBase = 0x0a000000;

}  // namespace

absl::Status SetUpVariant(const Case& c, Live& l, const Config& cfg, const std::string& tag) {
  TopoOptions o;
  o.ports = c.path == "broadcast" ? 4 : 2;
  o.unknown_drop = c.path == "unknown";
  o.injector = c.from_port();
  o.threaded_napi = cfg.split && !c.from_port();
  o.napi_cpu = cfg.rx_cpu;
  VNET_ASSIGN_OR_RETURN(l.topo, Topology::Build(l.variant.system, o, cfg.vnetctl, tag));
  Topology& t = *l.topo;
  FrameSpec f;
  f.size = c.size;
  f.proto = Proto::kUdp;
  if (c.from_port()) {
    l.gen_dev = t.injector();
    f.src = t.container(0).mac;
    f.src4.s_addr = htonl(0xc612000b);  // 198.18.0.11
  } else {
    l.gen_dev = t.wire();
    f.src = t.wire().mac;
  }
  bool is_floor = IsFloor(l.variant.system);
  // vnet-ipvlan: every port shares the uplink's MAC; frames go to it and the
  // destination IP picks the port.
  const bool ipvlan = l.variant.system == System::kVnetIpvlan;
  FloorKind wire_floor = l.variant.system == System::kFloorTc ? FloorKind::kTcPeer : FloorKind::kXdp;
  if (c.path == "ips") {
    if (!ipvlan) return absl::InvalidArgumentError("the ips case is vnet-ipvlan's");
    f.dst = t.uplink().mac;
    VNET_ASSIGN_OR_RETURN(Sink * s, t.AddSink(t.container(0)));
    l.sinks.push_back(s);
    VNET_ASSIGN_OR_RETURN(l.table_note, t.FillIps(kIpBase, l.variant.ips));
    f.dst4.s_addr = htonl(kIpBase);
    f.dst4_count = l.variant.ips;
  } else if (c.path == "wire->port" || c.path == "macs") {
    f.dst = ipvlan ? t.uplink().mac : t.container(0).mac;
    VNET_ASSIGN_OR_RETURN(Sink * s, t.AddSink(t.container(0)));
    l.sinks.push_back(s);
    if (is_floor) VNET_RETURN_IF_ERROR(t.AddFloor(wire_floor, t.uplink(), t.host_end(0).ifindex));
    if (c.path == "macs" && !is_floor) {
      VNET_ASSIGN_OR_RETURN(l.table_note, t.FillMacs(kMacBase, l.variant.macs));
      if (l.variant.system != System::kMacvlan) {
        f.dst = kMacBase;
        f.dst_count = l.variant.macs;
      }
    }
  } else if (c.path == "port->port") {
    f.dst = ipvlan ? t.uplink().mac : t.container(1).mac;  // by IP: c2's 198.18.0.12
    f.dst4.s_addr = htonl(0xc612000c);
    VNET_ASSIGN_OR_RETURN(Sink * s, t.AddSink(t.container(1)));
    l.sinks.push_back(s);
    if (is_floor) VNET_RETURN_IF_ERROR(t.AddFloor(FloorKind::kTcPeer, t.host_end(0), t.host_end(1).ifindex));
  } else if (c.path == "port->wire") {
    f.dst = t.wire().mac;
    f.dst4.s_addr = htonl(0xc6120064);
    VNET_ASSIGN_OR_RETURN(Sink * s, t.AddSink(t.wire()));
    l.sinks.push_back(s);
    if (is_floor) VNET_RETURN_IF_ERROR(t.AddFloor(FloorKind::kTcEgress, t.host_end(0), t.uplink().ifindex));
  } else if (c.path == "broadcast") {
    f.dst = *MacAddress::Parse("ff:ff:ff:ff:ff:ff");
    f.dst4.s_addr = htonl(0xc61200ff);
    for (int i = 0; i < o.ports; ++i) {
      VNET_ASSIGN_OR_RETURN(Sink * s, t.AddSink(t.container(i)));
      l.sinks.push_back(s);
    }
  } else if (c.path == "unknown") {
    f.dst = kUnknownBase;
    f.dst_count = 4096;
    // Flood copies (bridge) are counted where they land, for the record.
    VNET_ASSIGN_OR_RETURN(Sink * s, t.AddSink(t.container(0)));
    l.sinks.push_back(s);
  }
  l.frame = f;
  if (cfg.kernel_pktgen) {
    auto req = PktgenRequestFromFrame(l.gen_dev.name, f, cfg.gen_cpu);
    if (req.ok()) {
      l.kreq = *req;
      l.generator = "pktgen";
    } else {
      l.generator_note = absl::StrCat("vnet-pktgen here: ", req.status().message());
    }
  }
  return absl::OkStatus();
}

}  // namespace vnet::bench
