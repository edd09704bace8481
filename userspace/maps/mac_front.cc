#include "maps/mac_front.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "loader/errors.h"

namespace vnet {

absl::StatusOr<MacFront> MacFront::Map(int fd, absl::string_view fabric) {
  std::size_t bytes = sizeof(vnet_mac_front) * static_cast<std::size_t>(VNET_MAC_FRONT_SIZE);
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return ErrnoStatus(errno, "map the MAC front table of fabric", fabric);
  return MacFront(static_cast<vnet_mac_front*>(base), bytes);
}

MacFront::MacFront(MacFront&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

MacFront& MacFront::operator=(MacFront&& other) noexcept {
  if (this != &other) {
    if (base_) ::munmap(base_, bytes_);
    base_ = std::exchange(other.base_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

MacFront::~MacFront() {
  if (base_) ::munmap(base_, bytes_);
}

void MacFront::Write(vnet_mac_front& slot, const vnet_mac_front& value) {
  // Odd while the fields change; the release fences keep the compiler and
  // the CPU from moving the field stores outside the odd window.
  std::uint16_t seq = __atomic_load_n(&slot.seq, __ATOMIC_RELAXED);
  __atomic_store_n(&slot.seq, static_cast<std::uint16_t>(seq | 1), __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  std::memcpy(slot.mac, value.mac, sizeof(slot.mac));
  __atomic_store_n(&slot.ifindex, value.ifindex, __ATOMIC_RELAXED);
  __atomic_store_n(&slot.slot, value.slot, __ATOMIC_RELAXED);
  __atomic_store_n(&slot.mode, value.mode, __ATOMIC_RELAXED);
  __atomic_store_n(&slot.flags, value.flags, __ATOMIC_RELAXED);
  __atomic_store_n(&slot.seq, static_cast<std::uint16_t>((seq | 1) + 1), __ATOMIC_RELEASE);
}

void MacFront::Put(const MacAddress& mac, const vnet_mac_entry& entry) {
  vnet_mac_front value{};
  std::memcpy(value.mac, mac.bytes.data(), sizeof(value.mac));
  value.ifindex = entry.ifindex;
  value.slot = entry.slot;
  value.mode = entry.mode;
  value.flags = entry.flags;
  Write(base_[vnet_mac_front_index(mac.bytes.data())], value);
}

void MacFront::Remove(const MacAddress& mac) {
  vnet_mac_front& slot = base_[vnet_mac_front_index(mac.bytes.data())];
  if (slot.ifindex && std::memcmp(slot.mac, mac.bytes.data(), sizeof(slot.mac)) == 0) Write(slot, vnet_mac_front{});
}

bool MacFront::Cached(const MacAddress& mac, vnet_mac_entry* out) const {
  const vnet_mac_front& slot = base_[vnet_mac_front_index(mac.bytes.data())];
  if (!slot.ifindex || std::memcmp(slot.mac, mac.bytes.data(), sizeof(slot.mac)) != 0) return false;
  if (out) *out = vnet_mac_entry{slot.ifindex, slot.slot, slot.mode, slot.flags};
  return true;
}

}  // namespace vnet
