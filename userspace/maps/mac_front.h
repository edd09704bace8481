// libvnet's side of vnet_mac_front, the datapath's direct-mapped cache in
// front of vnet_macs (include/vnet/abi.h). The array is mmapped once; each
// entry is rewritten in place under its sequence count (odd while writing,
// with release ordering), so an XDP program reading concurrently either sees
// a whole entry or falls back to vnet_macs. Writers are serialised by the
// control lock, as for every other table.
#ifndef VNET_MAPS_MAC_FRONT_H
#define VNET_MAPS_MAC_FRONT_H

#include <cstddef>

#include "absl/status/statusor.h"
#include "netlink/mac_address.h"
#include "vnet/abi.h"

namespace vnet {

class MacFront {
 public:
  // Maps the array behind `fd` (a vnet_mac_front map) for reading and writing.
  static absl::StatusOr<MacFront> Map(int fd, absl::string_view fabric);
  MacFront(MacFront&& other) noexcept;
  MacFront& operator=(MacFront&& other) noexcept;
  MacFront(const MacFront&) = delete;
  MacFront& operator=(const MacFront&) = delete;
  ~MacFront();

  // Caches `entry` for `mac`, evicting whatever MAC held its slot (that one
  // is still found in vnet_macs).
  void Put(const MacAddress& mac, const vnet_mac_entry& entry);
  // Empties the slot if it caches `mac`.
  void Remove(const MacAddress& mac);
  // The entry cached for `mac`, if any (tests and `doctor`).
  bool Cached(const MacAddress& mac, vnet_mac_entry* out = nullptr) const;

 private:
  MacFront(vnet_mac_front* base, std::size_t bytes) : base_(base), bytes_(bytes) {}
  void Write(vnet_mac_front& slot, const vnet_mac_front& value);
  vnet_mac_front* base_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace vnet

#endif
