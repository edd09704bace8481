// libvnet's side of vnet_mac_front and vnet_slots, the datapath's
// direct-mapped cache in front of vnet_macs (include/vnet/abi.h). Both arrays
// are mmapped once. Every entry is one aligned 64-bit word stored atomically
// with release ordering, the slot entry before the front entry that points to
// it, so an XDP program reading concurrently sees an old or a new entry, never
// a mix, on any CPU. Writers are serialised by the control lock, as for every
// other table.
#ifndef VNET_MAPS_MAC_FRONT_H
#define VNET_MAPS_MAC_FRONT_H

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "base/mac_address.h"
#include "vnet/abi.h"

namespace vnet {

class MacFront {
 public:
  // Maps the arrays behind `front_fd` (vnet_mac_front) and `slots_fd`
  // (vnet_slots) for reading and writing.
  static absl::StatusOr<MacFront> Map(int front_fd, int slots_fd, absl::string_view fabric);
  MacFront(MacFront&& other) noexcept;
  MacFront& operator=(MacFront&& other) noexcept;
  MacFront(const MacFront&) = delete;
  MacFront& operator=(const MacFront&) = delete;
  ~MacFront();

  // Caches `entry` for `mac`, evicting whatever MAC held its cache line
  // (that one is still found in vnet_macs).
  void Put(const MacAddress& mac, const vnet_mac_entry& entry);
  // Empties the cache line if it holds `mac`.
  void Remove(const MacAddress& mac);
  // The entry cached for `mac`, if any (tests and `doctor`).
  bool Cached(const MacAddress& mac, vnet_mac_entry* out = nullptr) const;

 private:
  MacFront(std::uint64_t* front, std::uint64_t* slots) : front_(front), slots_(slots) {}
  static constexpr std::size_t kFrontBytes = sizeof(vnet_mac_front) * static_cast<std::size_t>(VNET_MAC_FRONT_SIZE);
  static constexpr std::size_t kSlotsBytes = sizeof(vnet_mac_entry) * static_cast<std::size_t>(VNET_MAX_PORTS);
  void Unmap();
  std::uint64_t* front_ = nullptr;  // vnet_mac_front, one word per entry
  std::uint64_t* slots_ = nullptr;  // vnet_slots, one word per slot
};

}  // namespace vnet

#endif
