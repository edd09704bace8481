// vnet_mac_front, the direct-mapped cache the XDP fast path looks a
// destination MAC up in before vnet_macs (bpf/lib/mac_lookup.h,
// userspace/maps/mac_front.h). The cache must serve lookups, lose nothing to
// collisions, and never be trusted beyond what its whole-word entries say.
#include <bpf/bpf.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/mman.h>

#include <cstring>

#include "harness.h"
#include "loader/pins.h"

namespace vnet::bpftest {
namespace {

using ::testing::IsEmpty;

class MacFrontTest : public FabricTest {
 protected:
  // Removes `mac` from vnet_macs only, leaving the cache as it is.
  void DeleteFromTableOnly(const MacAddress& mac) {
    UniqueFd fd(bpf_obj_get(FabricPinPath(fabric(), VNET_MAP_MACS).c_str()));
    ASSERT_TRUE(fd.valid());
    vnet_mac_key key{};
    std::memcpy(key.addr, mac.bytes.data(), 6);
    ASSERT_EQ(bpf_map_delete_elem(fd.get(), &key), 0);
  }
  // A MAC other than `mac` that lands in the same cache slot.
  static MacAddress Colliding(const MacAddress& mac) {
    std::uint32_t want = vnet_mac_front_index(mac.bytes.data());
    MacAddress other = mac;
    for (std::uint32_t i = 1;; ++i) {
      other.bytes[3] = static_cast<std::uint8_t>(i >> 16);
      other.bytes[4] = static_cast<std::uint8_t>(i >> 8);
      other.bytes[5] = static_cast<std::uint8_t>(i);
      if (other != mac && vnet_mac_front_index(other.bytes.data()) == want) return other;
    }
  }
};

TEST_F(MacFrontTest, PortMacIsCachedAndServesTheXdpLookup) {
  Port b = AddPort(VNET_MODE_BRIDGE, VNET_PORT_F_SPOOFCHK | VNET_PORT_F_XDP_TARGET);
  vnet_mac_entry cached{};
  ASSERT_TRUE(maps().mac_front().Cached(b.mac, &cached));
  EXPECT_EQ(cached.ifindex, b.ifindex);
  EXPECT_EQ(cached.slot, b.slot);

  // Only the cache knows the MAC now: XDP still delivers, so it read the cache.
  DeleteFromTableOnly(b.mac);
  Bytes f = Frame(b.mac, kExternal);
  EXPECT_EQ(XdpVerdict(f), XDP_REDIRECT);
  EXPECT_EQ(Deliveries(), Only({{b, Sent(f)}}));
  EXPECT_THAT(Drops(), IsEmpty());
}

// Each entry is one 64-bit word (no reader can see half of one on any CPU);
// a front entry whose slot holds no port is not trusted.
TEST_F(MacFrontTest, EntriesAreWholeWordsAndAnEmptySlotIsNotTrusted) {
  Port b = AddPort(VNET_MODE_BRIDGE, VNET_PORT_F_SPOOFCHK | VNET_PORT_F_XDP_TARGET);
  DeleteFromTableOnly(b.mac);
  UniqueFd front_fd(bpf_obj_get(FabricPinPath(fabric(), VNET_MAP_MAC_FRONT).c_str()));
  UniqueFd slots_fd(bpf_obj_get(FabricPinPath(fabric(), VNET_MAP_SLOTS).c_str()));
  ASSERT_TRUE(front_fd.valid() && slots_fd.valid());
  std::size_t front_bytes = sizeof(vnet_mac_front) * static_cast<std::size_t>(VNET_MAC_FRONT_SIZE);
  std::size_t slots_bytes = sizeof(vnet_mac_entry) * static_cast<std::size_t>(VNET_MAX_PORTS);
  auto* front = static_cast<std::uint64_t*>(::mmap(nullptr, front_bytes, PROT_READ, MAP_SHARED, front_fd.get(), 0));
  auto* slots = static_cast<std::uint64_t*>(::mmap(nullptr, slots_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
                                                   slots_fd.get(), 0));
  ASSERT_NE(front, MAP_FAILED);
  ASSERT_NE(slots, MAP_FAILED);
  vnet_mac_front line{};
  std::uint64_t word = front[vnet_mac_front_index(b.mac.bytes.data())];
  std::memcpy(&line, &word, sizeof(line));
  EXPECT_EQ(std::memcmp(line.mac, b.mac.bytes.data(), 6), 0);
  EXPECT_EQ(line.slot1, b.slot + 1);
  vnet_mac_entry port{};
  std::memcpy(&port, &slots[b.slot], sizeof(port));
  EXPECT_EQ(port.ifindex, b.ifindex);

  // The slot emptied under the front entry: the datapath goes to vnet_macs,
  // which no longer has the MAC.
  std::uint64_t saved = slots[b.slot];
  __atomic_store_n(&slots[b.slot], std::uint64_t{0}, __ATOMIC_RELEASE);
  EXPECT_EQ(XdpVerdict(Frame(b.mac, kExternal)), XDP_PASS);
  EXPECT_EQ(Deliveries(), Only());
  __atomic_store_n(&slots[b.slot], saved, __ATOMIC_RELEASE);
  EXPECT_EQ(XdpVerdict(Frame(b.mac, kExternal)), XDP_REDIRECT);
  ::munmap(front, front_bytes);
  ::munmap(slots, slots_bytes);
}

TEST_F(MacFrontTest, CollisionEvictsButLosesNothing) {
  Port a = AddPort(VNET_MODE_BRIDGE, VNET_PORT_F_SPOOFCHK | VNET_PORT_F_XDP_TARGET);
  Port b = AddPort(VNET_MODE_BRIDGE, VNET_PORT_F_SPOOFCHK | VNET_PORT_F_XDP_TARGET);
  MacAddress twin = Colliding(a.mac);
  // twin leads to b and takes a's cache slot; a is still found in vnet_macs.
  ASSERT_TRUE(maps().PutMac(twin, {b.ifindex, b.slot, VNET_MODE_BRIDGE, VNET_PORT_F_SPOOFCHK | VNET_PORT_F_XDP_TARGET}).ok());
  EXPECT_FALSE(maps().mac_front().Cached(a.mac));
  EXPECT_TRUE(maps().mac_front().Cached(twin));

  Bytes to_a = Frame(a.mac, kExternal), to_twin = Frame(twin, kExternal);
  EXPECT_EQ(XdpVerdict(to_a), XDP_REDIRECT);
  EXPECT_EQ(XdpVerdict(to_twin), XDP_REDIRECT);
  EXPECT_EQ(Deliveries(), Only({{a, Sent(to_a)}, {b, Sent(to_twin)}}));
}

TEST_F(MacFrontTest, DeletedMacLeavesTheCache) {
  Port b = AddPort(VNET_MODE_BRIDGE, VNET_PORT_F_SPOOFCHK | VNET_PORT_F_XDP_TARGET);
  ASSERT_TRUE(maps().DeleteMac(b.mac).ok());
  EXPECT_FALSE(maps().mac_front().Cached(b.mac));
  EXPECT_EQ(XdpVerdict(Frame(b.mac, kExternal)), XDP_PASS);  // unknown, policy pass
  EXPECT_EQ(Deliveries(), Only());
}

// Deleting a MAC whose slot another MAC holds must not empty that slot.
TEST_F(MacFrontTest, DeletingAnEvictedMacKeepsTheSlotsOwner) {
  Port a = AddPort(VNET_MODE_BRIDGE, VNET_PORT_F_SPOOFCHK | VNET_PORT_F_XDP_TARGET);
  MacAddress twin = Colliding(a.mac);
  ASSERT_TRUE(maps().PutMac(twin, {a.ifindex, a.slot, VNET_MODE_BRIDGE, VNET_PORT_F_SPOOFCHK | VNET_PORT_F_XDP_TARGET}).ok());
  ASSERT_TRUE(maps().DeleteMac(a.mac).ok());
  EXPECT_TRUE(maps().mac_front().Cached(twin));
}

}  // namespace
}  // namespace vnet::bpftest
