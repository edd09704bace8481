// The network configuration on stdin, decoded and checked: the reference
// macvlan/ipvlan plugins' keys plus vnet's own (docs/cni.md lists them all).
#ifndef VNET_CNI_NETCONF_H
#define VNET_CNI_NETCONF_H

#include <optional>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "vnet/vnet.h"

namespace vnet::cni {

enum class Kind { kMacvlan, kIpvlan };

struct NetConf {
  std::string cni_version;
  std::string name;
  std::string type;
  Kind kind = Kind::kMacvlan;
  std::string master;  // empty: the default route's interface, found at ADD
  std::string fabric;  // empty: the master's name
  // The VXLAN keys (cni/vxlan_conf.h): the master is then the VXLAN device
  // the first ADD on a host makes.
  std::optional<VxlanOptions> vxlan;
  // macvlan kind
  PortMode mode = PortMode::kBridge;
  // ipvlan kind (fabric policies: set when the plugin creates the fabric)
  IpvlanMode ipvlan_mode = IpvlanMode::kL2;
  IpvlanFlag ipvlan_flag = IpvlanFlag::kBridge;
  bool mode_given = false;
  bool flag_given = false;
  unsigned mtu = 0;  // 0: the master's
  std::optional<MacAddress> mac;  // mac < CNI_ARGS MAC= < runtimeConfig.mac
  bool hairpin = false;
  bool isolated = false;
  bool spoofchk = true;
  bool allow_ips = true;
  std::optional<bool> host;     // only compared/used when given
  std::optional<bool> unknown;  // "drop" or "pass"; true means drop
  std::string ipam_type;        // empty: no IPAM
  std::optional<nlohmann::json> dns;  // the top-level "dns": the result's, as the reference plugins give it
  std::optional<nlohmann::json> prev_result;  // in the internal (1.0.0) shape
  // GC: the attachments to keep, as (containerID, ifname).
  std::optional<std::set<std::pair<std::string, std::string>>> valid_attachments;
  std::string raw;  // stdin as it came: what IPAM is given
};

// The kind a binary stands for: "vnet-macvlan", "vnet-ipvlan", or nullopt
// for "vnet" (the "kind" key decides).
std::optional<Kind> KindFromArgv0(absl::string_view argv0);

// Just the cniVersion, for errors and VERSION (empty when stdin is no JSON).
std::string PeekVersion(absl::string_view raw);

// Decodes stdin. `cni_args_mac`: MAC= from CNI_ARGS. Codes: 6 not JSON or a
// key of the wrong type, 1 an unsupported cniVersion, 7 a bad value (the key
// named), 2 a field this plugin cannot honour.
absl::StatusOr<NetConf> DecodeNetConf(absl::string_view raw, std::optional<Kind> binary_kind,
                                      const std::optional<std::string>& cni_args_mac);

}  // namespace vnet::cni

#endif
