// What vnetctl prints: the text tables and the -j JSON documents, with the
// same fields in both.
#ifndef VNET_VNETCTL_OUTPUT_H
#define VNET_VNETCTL_OUTPUT_H

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vnet/vnet.h"

namespace vnet {

// [{"address": "198.18.0.5/32", "learned": false, "link_local": false}, ...]
// A learned address also has "lease_seconds" (null: never ends) when `leases` has it.
nlohmann::json AddressesToJson(const std::vector<PortAddress>& addresses,
                               const std::vector<LeaseTime>* leases = nullptr);
nlohmann::json PortToJson(const PortInfo& port);
nlohmann::json FabricToJson(const FabricInfo& fabric);
// A fabric's "vxlan" member: null unless its uplink is a VXLAN device.
nlohmann::json VxlanToJson(const std::optional<VxlanInfo>& vxlan);
nlohmann::json CountersToJson(const Counters& counters);

std::string FabricsToText(const std::vector<FabricInfo>& fabrics);
std::string CountersToText(const std::vector<Counters>& counters);
std::vector<std::string> PortFlagNames(const PortFlags& flags);
nlohmann::json DoctorToJson(const DoctorReport& report);
std::string DoctorToText(const DoctorReport& report);

}  // namespace vnet

#endif
