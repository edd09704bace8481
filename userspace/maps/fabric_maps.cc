#include "maps/fabric_maps.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "maps/storm_bucket.h"
#include "base/errors.h"
#include "loader/pins.h"

namespace vnet {
namespace {

vnet_mac_key KeyOf(const MacAddress& mac) {
  vnet_mac_key key{};
  std::memcpy(key.addr, mac.bytes.data(), 6);
  return key;
}

vnet_ip_key KeyOf(const IpAddress& ip) {
  vnet_ip_key key{};
  key.family = static_cast<std::uint8_t>(ip.family);
  std::memcpy(key.addr, ip.bytes.data(), 16);
  return key;
}

// LPM key: the family byte is part of the match, so prefixlen counts it.
vnet_ip_net_key KeyOf(const IpPrefix& net) {
  vnet_ip_net_key key{};
  key.prefixlen = 8 + static_cast<std::uint32_t>(net.plen);
  key.family = static_cast<std::uint8_t>(net.address.family);
  std::memcpy(key.addr, net.address.bytes.data(), 16);
  return key;
}

int NumCpus() {
  static const int n = libbpf_num_possible_cpus();
  return n > 0 ? n : 1;
}

// Typed wrappers around the map syscalls: each accessor below names only its
// map, its key and what to call the object in an error.
template <typename V, typename K>
absl::StatusOr<std::optional<V>> Lookup(int fd, const K& key, absl::string_view what, absl::string_view object) {
  V value{};
  if (bpf_map_lookup_elem(fd, &key, &value) == 0) return value;
  if (errno == ENOENT) return std::nullopt;
  return ErrnoStatus(errno, what, object);
}

template <typename K, typename V>
absl::Status Put(int fd, const K& key, const V& value, absl::string_view what, absl::string_view object) {
  if (bpf_map_update_elem(fd, &key, &value, BPF_ANY) != 0) return ErrnoStatus(errno, what, object);
  return absl::OkStatus();
}

template <typename K>
absl::Status Delete(int fd, const K& key, absl::string_view what, absl::string_view object) {
  if (bpf_map_delete_elem(fd, &key) != 0 && errno != ENOENT) return ErrnoStatus(errno, what, object);
  return absl::OkStatus();
}

// Reads a map in batches (BPF_MAP_LOOKUP_BATCH): a table of a thousand
// ports costs a few syscalls instead of two per entry, which is what made
// port add and del grow with the fabric. nullopt: this map type (an LPM
// trie) or kernel has no batch lookup; the caller walks it key by key.
template <typename K, typename V>
std::optional<absl::Status> ListBatched(int fd, std::vector<std::pair<K, V>>& out, absl::string_view what,
                                        absl::string_view object) {
  // The kernel's resume token: a bucket number for hash maps, a key for arrays.
  constexpr std::size_t kToken = sizeof(K) < 8 ? 8 : sizeof(K);
  alignas(8) unsigned char in_batch[kToken] = {}, out_batch[kToken] = {};
  std::uint32_t chunk = 256;
  std::vector<K> keys(chunk);
  std::vector<V> values(chunk);
  bool first = true;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  for (;;) {
    std::uint32_t count = chunk;
    int err = bpf_map_lookup_batch(fd, first ? nullptr : in_batch, out_batch, keys.data(), values.data(), &count,
                                   &opts) == 0 ? 0 : errno;
    if (err == ENOSPC && count == 0 && chunk < (1u << 16)) {  // one hash bucket holds more than a chunk
      chunk *= 2;
      keys.resize(chunk);
      values.resize(chunk);
      continue;
    }
    if (err && err != ENOENT) {
      constexpr int kKernelNotSupp = 524;  // ENOTSUPP: the map type has no batch operations
      if (first && out.empty() && (err == EINVAL || err == EOPNOTSUPP || err == kKernelNotSupp))
        return std::nullopt;
      return ErrnoStatus(err, what, object);
    }
    for (std::uint32_t i = 0; i < count && i < chunk; ++i) out.emplace_back(keys[i], values[i]);
    if (err == ENOENT) return absl::OkStatus();  // the end of the map
    std::memcpy(in_batch, out_batch, kToken);
    first = false;
  }
}

// Every (key, value) of a map; entries deleted meanwhile are skipped.
template <typename K, typename V>
absl::StatusOr<std::vector<std::pair<K, V>>> List(int fd, absl::string_view what, absl::string_view object) {
  std::vector<std::pair<K, V>> out;
  if (auto batched = ListBatched(fd, out, what, object)) {
    if (!batched->ok()) return *batched;
    return out;
  }
  out.clear();
  K key{}, next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    V value{};
    if (bpf_map_lookup_elem(fd, &next, &value) == 0) out.emplace_back(next, value);
    key = next;
    prev = &key;
  }
  if (errno != ENOENT) return ErrnoStatus(errno, what, object);
  return out;
}

}  // namespace

absl::StatusOr<FabricMaps> FabricMaps::Open(const std::string& fabric) {
  FabricMaps maps;
  maps.fabric_ = fabric;
  // A map pinned by another vnet version may have other layouts: reading it
  // with this one's structs would corrupt memory, so check before any use.
  auto open = [&](const char* name, UniqueFd& out, std::uint32_t key_size, std::uint32_t value_size) -> absl::Status {
    auto fd = OpenPinned(FabricPinPath(fabric, name));
    if (!fd.ok()) return fd.status();
    bpf_map_info info{};
    std::uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd->get(), &info, &len) != 0) return ErrnoStatus(errno, "inspect map", name);
    if (info.key_size != key_size || info.value_size != value_size)
      return absl::FailedPreconditionError(absl::StrCat(
          "fabric ", fabric, ": map ", name, " has the layout of another vnet version (value size ", info.value_size,
          ", this vnetctl (ABI ", VNET_ABI_VERSION, ") expects ", value_size, ")"));
    out = std::move(*fd);
    return absl::OkStatus();
  };
  VNET_RETURN_IF_ERROR(open(VNET_MAP_CONFIG, maps.config_, 4, sizeof(vnet_config)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_MACS, maps.macs_, sizeof(vnet_mac_key), sizeof(vnet_mac_entry)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_PORTS, maps.ports_, 4, sizeof(vnet_port)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_FLOOD, maps.flood_, 4, sizeof(vnet_flood_list)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_TX, maps.tx_, 4, 4));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_STATS, maps.stats_, 4, sizeof(vnet_stats)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_SOURCES, maps.sources_, sizeof(vnet_mac_key), sizeof(vnet_source_entry)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_IPS, maps.ips_, sizeof(vnet_ip_key), sizeof(vnet_ip_entry)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_IP_NETS, maps.ip_nets_, sizeof(vnet_ip_net_key), sizeof(vnet_ip_entry)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_DHCP, maps.dhcp_, 4, sizeof(vnet_dhcp_xact)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_DHCP_RING, maps.dhcp_ring_, 4, sizeof(vnet_dhcp_ring)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_LEASES, maps.leases_, sizeof(vnet_ip_key), sizeof(vnet_lease)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_HOST_IPS, maps.host_ips_, sizeof(vnet_ip_key), 1));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_DHCP_CFG, maps.dhcp_cfg_, 4, sizeof(vnet_dhcp_cfg)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_ALLOW, maps.allow_, sizeof(vnet_allow_key), 1));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_MAC_FRONT, maps.mac_front_fd_, 4, sizeof(vnet_mac_front)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_SLOTS, maps.slots_fd_, 4, sizeof(vnet_mac_entry)));
  VNET_RETURN_IF_ERROR(open(VNET_MAP_STORM, maps.storm_, 4, sizeof(vnet_storm)));
  // Same sizes can still mean other meanings: the config says which ABI wrote it
  // (0: being attached right now, written just after this open).
  VNET_ASSIGN_OR_RETURN(vnet_config config, maps.ReadConfig());
  if (config.abi_version != 0 && config.abi_version != VNET_ABI_VERSION)
    return absl::FailedPreconditionError(absl::StrCat("fabric ", fabric, " was made by vnet ABI ", config.abi_version,
                                                      ", this vnetctl speaks ABI ", VNET_ABI_VERSION));
  return maps;
}

absl::StatusOr<MacFront*> FabricMaps::Front() const {
  if (!mac_front_) {
    VNET_ASSIGN_OR_RETURN(MacFront front, MacFront::Map(mac_front_fd_.get(), slots_fd_.get(), fabric_));
    mac_front_.emplace(std::move(front));
  }
  return &*mac_front_;
}

const MacFront& FabricMaps::mac_front() const {
  auto front = Front();
  if (!front.ok()) std::abort();  // tests and doctor only; Open checked both maps exist
  return **front;
}

absl::StatusOr<vnet_config> FabricMaps::ReadConfig() const {
  std::uint32_t zero = 0;
  vnet_config config{};
  // No entry yet: a fabric being attached right now (all zero, as before ABI 5's hash map).
  if (bpf_map_lookup_elem(config_.get(), &zero, &config) != 0 && errno != ENOENT)
    return ErrnoStatus(errno, "read config of fabric", fabric_);
  return config;
}

absl::Status FabricMaps::WriteConfig(const vnet_config& config) {
  std::uint32_t zero = 0;
  if (bpf_map_update_elem(config_.get(), &zero, &config, BPF_ANY) != 0)
    return ErrnoStatus(errno, "write config of fabric", fabric_);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<vnet_mac_entry>> FabricMaps::LookupMac(const MacAddress& mac) const {
  return Lookup<vnet_mac_entry>(macs_.get(), KeyOf(mac), "look up MAC", mac.ToString());
}

// The table first and the cache second on the way in, the other way round on
// the way out: the cache never holds what the table does not.
absl::Status FabricMaps::PutMac(const MacAddress& mac, const vnet_mac_entry& entry) {
  VNET_ASSIGN_OR_RETURN(MacFront * front, Front());
  VNET_RETURN_IF_ERROR(Put(macs_.get(), KeyOf(mac), entry, "add MAC", mac.ToString()));
  front->Put(mac, entry);
  return absl::OkStatus();
}

absl::Status FabricMaps::DeleteMac(const MacAddress& mac) {
  VNET_ASSIGN_OR_RETURN(MacFront * front, Front());
  front->Remove(mac);
  return Delete(macs_.get(), KeyOf(mac), "remove MAC", mac.ToString());
}

absl::Status FabricMaps::RefillMacFront() {
  VNET_ASSIGN_OR_RETURN(MacFront * front, Front());
  vnet_mac_key key{}, next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(macs_.get(), prev, &next) == 0) {
    vnet_mac_entry entry{};
    if (bpf_map_lookup_elem(macs_.get(), &next, &entry) == 0) {
      MacAddress mac;
      std::memcpy(mac.bytes.data(), next.addr, 6);
      front->Put(mac, entry);
    }
    key = next;
    prev = &key;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<vnet_port>> FabricMaps::LookupPort(std::uint32_t ifindex) const {
  return Lookup<vnet_port>(ports_.get(), ifindex, "look up port", absl::StrCat("ifindex ", ifindex));
}

absl::Status FabricMaps::PutPort(std::uint32_t ifindex, const vnet_port& port) {
  return Put(ports_.get(), ifindex, port, "add port", absl::StrCat("ifindex ", ifindex));
}

absl::Status FabricMaps::DeletePort(std::uint32_t ifindex) {
  return Delete(ports_.get(), ifindex, "remove port", absl::StrCat("ifindex ", ifindex));
}

absl::StatusOr<std::vector<std::pair<std::uint32_t, vnet_port>>> FabricMaps::ListPorts() const {
  return List<std::uint32_t, vnet_port>(ports_.get(), "list ports of fabric", fabric_);
}

absl::Status FabricMaps::WriteFloodList(const std::vector<vnet_flood_entry>& entries) {
  if (entries.size() > VNET_MAX_PORTS) return absl::ResourceExhaustedError("flood list: too many ports");
  // One update replaces the whole list: readers never see half of it.
  auto list = std::make_unique<vnet_flood_list>();
  list->nr = static_cast<std::uint32_t>(entries.size());
  std::copy(entries.begin(), entries.end(), list->entries);
  std::uint32_t zero = 0;
  if (bpf_map_update_elem(flood_.get(), &zero, list.get(), BPF_ANY) != 0)
    return ErrnoStatus(errno, "write flood list of fabric", fabric_);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<vnet_flood_entry>> FabricMaps::ReadFloodList() const {
  auto list = std::make_unique<vnet_flood_list>();
  std::uint32_t zero = 0;
  if (bpf_map_lookup_elem(flood_.get(), &zero, list.get()) != 0) {
    if (errno == ENOENT) return std::vector<vnet_flood_entry>{};
    return ErrnoStatus(errno, "read flood list of fabric", fabric_);
  }
  std::uint32_t n = std::min<std::uint32_t>(list->nr, VNET_MAX_PORTS);
  return std::vector<vnet_flood_entry>(list->entries, list->entries + n);
}

absl::StatusOr<std::optional<vnet_source_entry>> FabricMaps::LookupSource(const MacAddress& mac) const {
  return Lookup<vnet_source_entry>(sources_.get(), KeyOf(mac), "look up source MAC", mac.ToString());
}

absl::Status FabricMaps::PutSource(const MacAddress& mac, const vnet_source_entry& entry) {
  return Put(sources_.get(), KeyOf(mac), entry, "add source MAC", mac.ToString());
}

absl::Status FabricMaps::DeleteSource(const MacAddress& mac) {
  return Delete(sources_.get(), KeyOf(mac), "remove source MAC", mac.ToString());
}

absl::StatusOr<std::vector<std::pair<MacAddress, vnet_source_entry>>> FabricMaps::ListSources() const {
  VNET_ASSIGN_OR_RETURN(auto raw, (List<vnet_mac_key, vnet_source_entry>(sources_.get(), "list source MACs of fabric",
                                                                          fabric_)));
  std::vector<std::pair<MacAddress, vnet_source_entry>> out;
  for (const auto& [key, entry] : raw) out.emplace_back(MacAddress::FromBytes(key.addr), entry);
  return out;
}

absl::StatusOr<std::optional<vnet_ip_entry>> FabricMaps::LookupIp(const IpAddress& ip) const {
  return Lookup<vnet_ip_entry>(ips_.get(), KeyOf(ip), "look up address", ip.ToString());
}

absl::Status FabricMaps::PutIp(const IpAddress& ip, const vnet_ip_entry& entry) {
  return Put(ips_.get(), KeyOf(ip), entry, "add address", ip.ToString());
}

absl::Status FabricMaps::DeleteIp(const IpAddress& ip) {
  return Delete(ips_.get(), KeyOf(ip), "remove address", ip.ToString());
}

absl::StatusOr<std::vector<std::pair<IpAddress, vnet_ip_entry>>> FabricMaps::ListIps() const {
  VNET_ASSIGN_OR_RETURN(auto raw, (List<vnet_ip_key, vnet_ip_entry>(ips_.get(), "list addresses of fabric", fabric_)));
  std::vector<std::pair<IpAddress, vnet_ip_entry>> out;
  for (const auto& [key, entry] : raw) out.emplace_back(IpAddress::FromBytes(key.family, key.addr), entry);
  return out;
}

absl::Status FabricMaps::PutIpNet(const IpPrefix& net, const vnet_ip_entry& entry) {
  return Put(ip_nets_.get(), KeyOf(net), entry, "add prefix", net.ToString());
}

absl::Status FabricMaps::DeleteIpNet(const IpPrefix& net) {
  return Delete(ip_nets_.get(), KeyOf(net), "remove prefix", net.ToString());
}

absl::StatusOr<std::vector<std::pair<IpPrefix, vnet_ip_entry>>> FabricMaps::ListIpNets() const {
  VNET_ASSIGN_OR_RETURN(auto raw,
                        (List<vnet_ip_net_key, vnet_ip_entry>(ip_nets_.get(), "list prefixes of fabric", fabric_)));
  std::vector<std::pair<IpPrefix, vnet_ip_entry>> out;
  for (const auto& [key, entry] : raw)
    out.emplace_back(IpPrefix{IpAddress::FromBytes(key.family, key.addr), static_cast<int>(key.prefixlen) - 8}, entry);
  return out;
}

namespace {
vnet_allow_key AllowKeyOf(std::uint16_t slot, const IpPrefix& prefix) {
  vnet_allow_key key{};
  key.prefixlen = VNET_ALLOW_KEY_BITS + static_cast<std::uint32_t>(prefix.plen);
  key.slot = slot;
  key.family = static_cast<std::uint8_t>(prefix.address.family);
  std::memcpy(key.addr, prefix.address.bytes.data(), 16);
  return key;
}
}  // namespace

absl::Status FabricMaps::PutAllow(std::uint16_t slot, const IpPrefix& prefix) {
  std::uint8_t one = 1;
  return Put(allow_.get(), AllowKeyOf(slot, prefix), one, "allow source", prefix.ToString());
}

absl::Status FabricMaps::DeleteAllow(std::uint16_t slot, const IpPrefix& prefix) {
  return Delete(allow_.get(), AllowKeyOf(slot, prefix), "remove allowed source", prefix.ToString());
}

absl::StatusOr<std::vector<std::pair<std::uint16_t, IpPrefix>>> FabricMaps::ListAllow() const {
  VNET_ASSIGN_OR_RETURN(auto raw, (List<vnet_allow_key, std::uint8_t>(allow_.get(), "list allowed sources of fabric", fabric_)));
  std::vector<std::pair<std::uint16_t, IpPrefix>> out;
  for (const auto& [key, unused] : raw)
    out.emplace_back(key.slot, IpPrefix{IpAddress::FromBytes(key.family, key.addr),
                                        static_cast<int>(key.prefixlen) - VNET_ALLOW_KEY_BITS});
  return out;
}

absl::StatusOr<bool> FabricMaps::HasIpNets() const {
  vnet_ip_net_key first{};
  if (bpf_map_get_next_key(ip_nets_.get(), nullptr, &first) == 0) return true;
  if (errno == ENOENT) return false;
  return ErrnoStatus(errno, "list prefixes of fabric", fabric_);
}

absl::StatusOr<std::vector<std::pair<std::uint32_t, vnet_dhcp_xact>>> FabricMaps::ListDhcp() const {
  return List<std::uint32_t, vnet_dhcp_xact>(dhcp_.get(), "list DHCP transactions of fabric", fabric_);
}

absl::Status FabricMaps::DeleteDhcp(std::uint32_t xid) {
  return Delete(dhcp_.get(), xid, "forget DHCP transaction", absl::StrCat(xid));
}

absl::StatusOr<std::vector<std::pair<IpAddress, vnet_lease>>> FabricMaps::ListLeases() const {
  VNET_ASSIGN_OR_RETURN(auto raw, (List<vnet_ip_key, vnet_lease>(leases_.get(), "list DHCP leases of fabric", fabric_)));
  std::vector<std::pair<IpAddress, vnet_lease>> out;
  for (const auto& [key, lease] : raw) out.emplace_back(IpAddress::FromBytes(key.family, key.addr), lease);
  return out;
}

absl::Status FabricMaps::DeleteLease(const IpAddress& ip) {
  return Delete(leases_.get(), KeyOf(ip), "forget DHCP lease", ip.ToString());
}

absl::StatusOr<std::vector<IpAddress>> FabricMaps::ListHostIps() const {
  VNET_ASSIGN_OR_RETURN(auto raw,
                        (List<vnet_ip_key, std::uint8_t>(host_ips_.get(), "list host addresses of fabric", fabric_)));
  std::vector<IpAddress> out;
  for (const auto& [key, one] : raw) out.push_back(IpAddress::FromBytes(key.family, key.addr));
  return out;
}

absl::Status FabricMaps::SetHostIps(const std::vector<IpAddress>& ips) {
  // Add before removing: the datapath never sees fewer host addresses than
  // both the old and the new set have in common.
  for (const auto& ip : ips)
    VNET_RETURN_IF_ERROR(Put(host_ips_.get(), KeyOf(ip), std::uint8_t{1}, "publish host address", ip.ToString()));
  VNET_ASSIGN_OR_RETURN(auto have, ListHostIps());
  for (const auto& ip : have)
    if (std::find(ips.begin(), ips.end(), ip) == ips.end())
      VNET_RETURN_IF_ERROR(Delete(host_ips_.get(), KeyOf(ip), "withdraw host address", ip.ToString()));
  return absl::OkStatus();
}

absl::StatusOr<vnet_dhcp_cfg> FabricMaps::ReadDhcpConfig() const {
  std::uint32_t zero = 0;
  vnet_dhcp_cfg cfg{};
  if (bpf_map_lookup_elem(dhcp_cfg_.get(), &zero, &cfg) != 0)
    return ErrnoStatus(errno, "read DHCP settings of fabric", fabric_);
  return cfg;
}

absl::Status FabricMaps::WriteDhcpConfig(const vnet_dhcp_cfg& cfg) {
  std::uint32_t zero = 0;
  return Put(dhcp_cfg_.get(), zero, cfg, "write DHCP settings of fabric", fabric_);
}

absl::Status FabricMaps::AddTxTarget(std::uint32_t ifindex) {
  return Put(tx_.get(), ifindex, ifindex, "add XDP redirect target", absl::StrCat("ifindex ", ifindex));
}

absl::Status FabricMaps::DeleteTxTarget(std::uint32_t ifindex) {
  return Delete(tx_.get(), ifindex, "remove XDP redirect target", absl::StrCat("ifindex ", ifindex));
}

absl::StatusOr<vnet_stats> FabricMaps::ReadStats(std::uint32_t slot) const {
  std::vector<vnet_stats> per_cpu(NumCpus());
  if (bpf_map_lookup_elem(stats_.get(), &slot, per_cpu.data()) != 0)
    return ErrnoStatus(errno, "read counters of slot", absl::StrCat(slot));
  vnet_stats sum{};
  for (const auto& s : per_cpu) {
    sum.rx_packets += s.rx_packets;
    sum.rx_bytes += s.rx_bytes;
    sum.tx_packets += s.tx_packets;
    sum.tx_bytes += s.tx_bytes;
    sum.flood_packets += s.flood_packets;
    for (int r = 0; r < VNET_DROP__MAX; ++r) sum.drops[r] += s.drops[r];
  }
  return sum;
}

absl::Status FabricMaps::ClearStats(std::uint32_t slot) {
  std::vector<vnet_stats> zero(NumCpus());
  if (bpf_map_update_elem(stats_.get(), &slot, zero.data(), BPF_ANY) != 0)
    return ErrnoStatus(errno, "clear counters of slot", absl::StrCat(slot));
  return absl::OkStatus();
}

// BPF_F_LOCK: the whole entry changes under the bucket's lock, so a frame
// on another CPU sees the old bucket or the new one, never a mix.
absl::Status FabricMaps::WriteStormLimit(std::uint32_t slot, std::uint32_t pps) {
  vnet_storm bucket = StormBucket(pps);
  if (bpf_map_update_elem(storm_.get(), &slot, &bucket, BPF_F_LOCK) != 0)
    return ErrnoStatus(errno, "write storm limit of slot", absl::StrCat(slot, " of fabric ", fabric_));
  return absl::OkStatus();
}

absl::StatusOr<std::uint32_t> FabricMaps::ReadStormLimit(std::uint32_t slot) const {
  vnet_storm bucket{};
  if (bpf_map_lookup_elem_flags(storm_.get(), &slot, &bucket, BPF_F_LOCK) != 0)
    return ErrnoStatus(errno, "read storm limit of slot", absl::StrCat(slot, " of fabric ", fabric_));
  return bucket.limit_pps;
}

}  // namespace vnet
