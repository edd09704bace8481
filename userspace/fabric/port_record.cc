#include "fabric/port_record.h"

#include "base/errors.h"
#include "fabric/ip_ports.h"
#include "fabric/port_tables.h"

namespace vnet {

absl::Status RecordNewPort(TablesBackend& tables, const NewPortRecord& record, Undo& undo,
                           const std::function<absl::Status()>& listen, const std::string& what) {
  const std::uint32_t ifindex = record.ifindex;
  const vnet_port& port = record.port;
  VNET_RETURN_IF_ERROR(tables.ClearStats(port.slot));
  VNET_RETURN_IF_ERROR(Annotate(tables.WriteStormLimit(port.slot, record.storm_limit), what));
  // The allowed sources before the port entry whose flag points at them (and
  // nothing a crashed command left under this free slot).
  undo.Push([&tables, slot = port.slot] { (void)SyncAllowIps(tables, slot, {}); });  // first: a partial write is undone too
  VNET_RETURN_IF_ERROR(Annotate(SyncAllowIps(tables, port.slot, record.allow_ips), what));
  // The port program must know its port before it sees the first frame.
  VNET_RETURN_IF_ERROR(tables.PutPort(ifindex, port));
  undo.Push([&tables, ifindex, port] { (void)WithdrawPort(tables, ifindex, port); });
  VNET_RETURN_IF_ERROR(listen());
  for (const auto& source : record.sources) VNET_RETURN_IF_ERROR(AddSource(tables, ifindex, port, source));
  if (record.link_local) {
    PortIp ll{IpPrefix{*record.link_local, 128}, false};
    VNET_RETURN_IF_ERROR(AddPortIp(tables, ifindex, port, ll, VNET_IP_F_LINK_LOCAL, undo));
  }
  for (const auto& ip : record.ips) VNET_RETURN_IF_ERROR(AddPortIp(tables, ifindex, port, ip, 0, undo));
  // Last: from here on the wire side delivers to this port.
  return PublishPort(tables, ifindex, port);
}

}  // namespace vnet
