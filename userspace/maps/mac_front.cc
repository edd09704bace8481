#include "maps/mac_front.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/errors.h"

namespace vnet {
namespace {

static_assert(sizeof(vnet_mac_front) == sizeof(std::uint64_t) && sizeof(vnet_mac_entry) == sizeof(std::uint64_t),
              "front and slot entries are single 64-bit words");

template <typename T>
std::uint64_t Word(const T& value) {
  std::uint64_t word;
  std::memcpy(&word, &value, sizeof(word));
  return word;
}

template <typename T>
T Value(std::uint64_t word) {
  T value;
  std::memcpy(&value, &word, sizeof(value));
  return value;
}

}  // namespace

absl::StatusOr<MacFront> MacFront::Map(int front_fd, int slots_fd, absl::string_view fabric) {
  void* front = ::mmap(nullptr, kFrontBytes, PROT_READ | PROT_WRITE, MAP_SHARED, front_fd, 0);
  if (front == MAP_FAILED) return ErrnoStatus(errno, "map the MAC front table of fabric", fabric);
  void* slots = ::mmap(nullptr, kSlotsBytes, PROT_READ | PROT_WRITE, MAP_SHARED, slots_fd, 0);
  if (slots == MAP_FAILED) {
    int err = errno;
    ::munmap(front, kFrontBytes);
    return ErrnoStatus(err, "map the slot table of fabric", fabric);
  }
  return MacFront(static_cast<std::uint64_t*>(front), static_cast<std::uint64_t*>(slots));
}

MacFront::MacFront(MacFront&& other) noexcept
    : front_(std::exchange(other.front_, nullptr)), slots_(std::exchange(other.slots_, nullptr)) {}

MacFront& MacFront::operator=(MacFront&& other) noexcept {
  if (this != &other) {
    Unmap();
    front_ = std::exchange(other.front_, nullptr);
    slots_ = std::exchange(other.slots_, nullptr);
  }
  return *this;
}

MacFront::~MacFront() { Unmap(); }

void MacFront::Unmap() {
  if (front_) ::munmap(front_, kFrontBytes);
  if (slots_) ::munmap(slots_, kSlotsBytes);
  front_ = slots_ = nullptr;
}

void MacFront::Put(const MacAddress& mac, const vnet_mac_entry& entry) {
  if (entry.slot >= VNET_MAX_PORTS) return;  // not a port's: vnet_macs alone serves it
  __atomic_store_n(&slots_[entry.slot], Word(entry), __ATOMIC_RELEASE);
  vnet_mac_front value{};
  std::memcpy(value.mac, mac.bytes.data(), sizeof(value.mac));
  value.slot1 = static_cast<std::uint16_t>(entry.slot + 1);
  __atomic_store_n(&front_[vnet_mac_front_index(mac.bytes.data())], Word(value), __ATOMIC_RELEASE);
}

void MacFront::Remove(const MacAddress& mac) {
  std::uint64_t& line = front_[vnet_mac_front_index(mac.bytes.data())];
  auto cached = Value<vnet_mac_front>(__atomic_load_n(&line, __ATOMIC_ACQUIRE));
  if (cached.slot1 && std::memcmp(cached.mac, mac.bytes.data(), sizeof(cached.mac)) == 0)
    __atomic_store_n(&line, std::uint64_t{0}, __ATOMIC_RELEASE);
}

bool MacFront::Cached(const MacAddress& mac, vnet_mac_entry* out) const {
  auto cached = Value<vnet_mac_front>(__atomic_load_n(&front_[vnet_mac_front_index(mac.bytes.data())], __ATOMIC_ACQUIRE));
  if (!cached.slot1 || std::memcmp(cached.mac, mac.bytes.data(), sizeof(cached.mac)) != 0) return false;
  auto entry = Value<vnet_mac_entry>(__atomic_load_n(&slots_[cached.slot1 - 1], __ATOMIC_ACQUIRE));
  if (!entry.ifindex) return false;
  if (out) *out = entry;
  return true;
}

}  // namespace vnet
