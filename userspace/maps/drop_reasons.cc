#include "maps/drop_reasons.h"

#include "vnet/abi.h"

namespace vnet {

absl::string_view DropReasonName(int reason) {
  switch (reason) {
    case VNET_DROP_TRUNCATED_ETH: return "truncated_eth";
    case VNET_DROP_TRUNCATED_VLAN: return "truncated_vlan";
    case VNET_DROP_VLAN_DEPTH: return "vlan_depth";
    case VNET_DROP_UNKNOWN_DST: return "unknown_dst";
    case VNET_DROP_SPOOFED_SRC: return "spoofed_src";
    case VNET_DROP_NOT_A_PORT: return "not_a_port";
    case VNET_DROP_ISOLATED: return "isolated";
    case VNET_DROP_REDIRECT_FAILED: return "redirect_failed";
    case VNET_DROP_DEFUNCT: return "defunct";
    case VNET_DROP_UPLINK_DOWN: return "uplink_down";
    case VNET_DROP_SOURCE_NODST: return "source_nodst";
    case VNET_DROP_SPOOFED_IP: return "spoofed_ip";
    case VNET_DROP_TRUNCATED_L3: return "truncated_l3";
    case VNET_DROP_PRIVATE: return "private";
    case VNET_DROP_L3_GROUP: return "l3_group";
    case VNET_DROP_NO_ROUTE: return "no_route";
    case VNET_DROP_REFLECTED: return "reflected";
    case VNET_DROP_DHCP: return "dhcp";
    case VNET_DROP_STORM: return "storm";
    default: return "unknown";
  }
}

}  // namespace vnet
