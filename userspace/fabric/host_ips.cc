#include "fabric/host_ips.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "base/errors.h"

namespace vnet {

absl::Status PublishHostIps(Rtnl& rtnl, FabricMaps& maps) {
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  auto uplink = rtnl.GetLink(static_cast<int>(config.uplink_ifindex));
  if (!uplink.ok()) return absl::OkStatus();  // gone: the fabric is defunct, no lease is learned
  VNET_ASSIGN_OR_RETURN(auto prefixes, rtnl.ListAddresses(uplink->ifindex, uplink->name));
  std::vector<IpAddress> ips;
  for (const auto& p : prefixes) ips.push_back(p.address);
  return Annotate(maps.SetHostIps(ips), absl::StrCat("publish the addresses of ", uplink->name));
}

}  // namespace vnet
