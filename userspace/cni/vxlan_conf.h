// The CNI plugin's VXLAN keys (docs/cni.md "One segment across hosts"):
// `vxlan` (VNI), `underlay`, `remotes`, `local`, `dstport`. The first ADD on
// a host creates the VXLAN fabric from them; later ADDs find it and must
// agree with it. The VXLAN rules themselves are libvnet's (vxlan_settings.h).
#ifndef VNET_CNI_VXLAN_CONF_H
#define VNET_CNI_VXLAN_CONF_H

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "vnet/vnet.h"

namespace vnet::cni {

// The keys of one config: nullopt without `vxlan`. Code 6 for a key of the
// wrong JSON type, 7 naming the key for a wrong value (and for `underlay`,
// `remotes`, `local` or `dstport` without `vxlan`, or `master` with it).
absl::StatusOr<std::optional<VxlanOptions>> DecodeVxlanKeys(const nlohmann::json& conf);

// The master a VXLAN config stands for: the device attach creates (vx<VNI>).
std::string VxlanMaster(const VxlanOptions& want);

// The largest port MTU: the running device's, or the overlay MTU its
// underlay gives before the first ADD made it. Code 7 naming `underlay`
// when that device does not exist here.
absl::StatusOr<unsigned> VxlanMtuCeiling(const VxlanOptions& want);

// A running fabric against the config: code 7 naming the first key that
// differs (`vxlan` also when the fabric's uplink is no VXLAN device).
// `remotes` are not compared: a running list is changed at runtime
// (`vnetctl vxlan remote`, a control plane), and the plugin never undoes that.
absl::Status CheckVxlanMatches(const VxlanOptions& want, const FabricInfo& running);

}  // namespace vnet::cni

#endif
