// An in-memory TablesBackend (maps/tables_backend.h): a fabric's tables
// without a kernel, for unit tests of the port rules and the table steps of
// port add, set and del. `fail_writes_after` makes the write after the Nth
// fail, for the rollback tests; Snapshot() is everything, for comparing the
// tables before and after.
#ifndef VNET_TESTS_UNIT_MEMORY_TABLES_H
#define VNET_TESTS_UNIT_MEMORY_TABLES_H

#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fabric/tables_backend.h"

namespace vnet {

class MemoryTables final : public TablesBackend {
 public:
  using MacKey = std::array<std::uint8_t, 6>;

  vnet_config config{};
  std::map<std::uint32_t, vnet_port> ports;
  std::map<MacKey, vnet_mac_entry> macs;
  std::vector<vnet_flood_entry> flood;
  std::map<MacKey, vnet_source_entry> sources;
  std::map<IpAddress, vnet_ip_entry> ips;
  std::map<IpPrefix, vnet_ip_entry> ip_nets;
  std::map<std::uint32_t, vnet_dhcp_xact> dhcp;
  std::map<IpAddress, vnet_lease> leases;
  std::set<std::pair<std::uint16_t, IpPrefix>> allow;
  std::set<std::uint32_t> tx_targets;
  std::set<std::uint32_t> cleared_stats;
  std::map<std::uint32_t, std::uint32_t> storm_limits;  // slot -> pps; absent: 0

  // Writes that succeed before one fails (nullopt: none fails), and how many ran.
  std::optional<int> fail_writes_after;
  int writes = 0;

  // A port as port add publishes it: its entry and (MAC-demux) its MAC.
  void AddPort(std::uint32_t ifindex, std::uint16_t slot, const MacAddress& mac, std::uint8_t mode = VNET_MODE_VEPA) {
    vnet_port port{};
    std::memcpy(port.mac, mac.bytes.data(), 6);
    port.slot = slot;
    port.mode = mode;
    ports[ifindex] = port;
    if (mode != VNET_MODE_IPVLAN) macs[mac.bytes] = vnet_mac_entry{ifindex, slot, mode, 0};
  }

  // Every table as text, byte for byte, so that two states compare with ==.
  std::string Snapshot() const {
    std::string out = Bytes("config", config);
    for (const auto& [k, v] : ports) out += absl::StrCat("port ", k, Bytes("", v));
    for (const auto& [k, v] : macs) out += absl::StrCat("mac ", MacAddress{k}.ToString(), Bytes("", v));
    for (const auto& v : flood) out += Bytes("flood", v);
    for (const auto& [k, v] : sources) out += absl::StrCat("source ", MacAddress{k}.ToString(), Bytes("", v));
    for (const auto& [k, v] : ips) out += absl::StrCat("ip ", k.ToString(), Bytes("", v));
    for (const auto& [k, v] : ip_nets) out += absl::StrCat("net ", k.ToString(), Bytes("", v));
    for (const auto& [k, v] : dhcp) out += absl::StrCat("dhcp ", k, Bytes("", v));
    for (const auto& [k, v] : leases) out += absl::StrCat("lease ", k.ToString(), Bytes("", v));
    for (const auto& [slot, prefix] : allow) out += absl::StrCat("allow ", slot, " ", prefix.ToString(), "\n");
    for (auto i : tx_targets) out += absl::StrCat("tx ", i, "\n");
    return out;
  }

  absl::StatusOr<vnet_config> ReadConfig() const override { return config; }
  absl::Status WriteConfig(const vnet_config& c) override { return Write([&] { config = c; }); }

  absl::StatusOr<std::optional<vnet_mac_entry>> LookupMac(const MacAddress& mac) const override {
    return Find(macs, mac.bytes);
  }
  absl::Status PutMac(const MacAddress& mac, const vnet_mac_entry& e) override {
    return Write([&] { macs[mac.bytes] = e; });
  }
  absl::Status DeleteMac(const MacAddress& mac) override { return Erase(macs, mac.bytes); }

  absl::StatusOr<std::optional<vnet_port>> LookupPort(std::uint32_t ifindex) const override {
    return Find(ports, ifindex);
  }
  absl::Status PutPort(std::uint32_t ifindex, const vnet_port& p) override {
    return Write([&] { ports[ifindex] = p; });
  }
  absl::Status DeletePort(std::uint32_t ifindex) override { return Erase(ports, ifindex); }
  absl::StatusOr<std::vector<std::pair<std::uint32_t, vnet_port>>> ListPorts() const override {
    return std::vector<std::pair<std::uint32_t, vnet_port>>(ports.begin(), ports.end());
  }

  absl::Status WriteFloodList(const std::vector<vnet_flood_entry>& entries) override {
    return Write([&] { flood = entries; });
  }
  absl::StatusOr<std::vector<vnet_flood_entry>> ReadFloodList() const override { return flood; }

  absl::StatusOr<std::optional<vnet_source_entry>> LookupSource(const MacAddress& mac) const override {
    return Find(sources, mac.bytes);
  }
  absl::Status PutSource(const MacAddress& mac, const vnet_source_entry& e) override {
    return Write([&] { sources[mac.bytes] = e; });
  }
  absl::Status DeleteSource(const MacAddress& mac) override { return Erase(sources, mac.bytes); }
  absl::StatusOr<std::vector<std::pair<MacAddress, vnet_source_entry>>> ListSources() const override {
    std::vector<std::pair<MacAddress, vnet_source_entry>> out;
    for (const auto& [k, v] : sources) out.emplace_back(MacAddress{k}, v);
    return out;
  }

  absl::StatusOr<std::optional<vnet_ip_entry>> LookupIp(const IpAddress& ip) const override { return Find(ips, ip); }
  absl::Status PutIp(const IpAddress& ip, const vnet_ip_entry& e) override { return Write([&] { ips[ip] = e; }); }
  absl::Status DeleteIp(const IpAddress& ip) override { return Erase(ips, ip); }
  absl::StatusOr<std::vector<std::pair<IpAddress, vnet_ip_entry>>> ListIps() const override {
    return std::vector<std::pair<IpAddress, vnet_ip_entry>>(ips.begin(), ips.end());
  }
  absl::Status PutIpNet(const IpPrefix& net, const vnet_ip_entry& e) override {
    return Write([&] { ip_nets[net] = e; });
  }
  absl::Status DeleteIpNet(const IpPrefix& net) override { return Erase(ip_nets, net); }
  absl::StatusOr<std::vector<std::pair<IpPrefix, vnet_ip_entry>>> ListIpNets() const override {
    return std::vector<std::pair<IpPrefix, vnet_ip_entry>>(ip_nets.begin(), ip_nets.end());
  }
  absl::StatusOr<bool> HasIpNets() const override { return !ip_nets.empty(); }
  absl::StatusOr<std::vector<std::pair<std::uint32_t, vnet_dhcp_xact>>> ListDhcp() const override {
    return std::vector<std::pair<std::uint32_t, vnet_dhcp_xact>>(dhcp.begin(), dhcp.end());
  }
  absl::Status DeleteDhcp(std::uint32_t xid) override { return Erase(dhcp, xid); }
  absl::StatusOr<std::vector<std::pair<IpAddress, vnet_lease>>> ListLeases() const override {
    return std::vector<std::pair<IpAddress, vnet_lease>>(leases.begin(), leases.end());
  }
  absl::Status DeleteLease(const IpAddress& ip) override { return Erase(leases, ip); }

  absl::Status PutAllow(std::uint16_t slot, const IpPrefix& prefix) override {
    return Write([&] { allow.insert({slot, prefix}); });
  }
  absl::Status DeleteAllow(std::uint16_t slot, const IpPrefix& prefix) override {
    return Write([&] { allow.erase({slot, prefix}); });
  }
  absl::StatusOr<std::vector<std::pair<std::uint16_t, IpPrefix>>> ListAllow() const override {
    return std::vector<std::pair<std::uint16_t, IpPrefix>>(allow.begin(), allow.end());
  }

  absl::Status AddTxTarget(std::uint32_t ifindex) override { return Write([&] { tx_targets.insert(ifindex); }); }
  absl::Status DeleteTxTarget(std::uint32_t ifindex) override { return Write([&] { tx_targets.erase(ifindex); }); }
  absl::Status ClearStats(std::uint32_t slot) override { return Write([&] { cleared_stats.insert(slot); }); }
  absl::Status WriteStormLimit(std::uint32_t slot, std::uint32_t pps) override {
    return Write([&] { storm_limits[slot] = pps; });
  }
  absl::StatusOr<std::uint32_t> ReadStormLimit(std::uint32_t slot) const override {
    return Find(storm_limits, slot).value_or(0);
  }

 private:
  template <typename T>
  static std::string Bytes(const char* what, const T& value) {
    const auto* p = reinterpret_cast<const unsigned char*>(&value);
    std::string out = absl::StrCat(what, " ");
    for (std::size_t i = 0; i < sizeof(T); ++i) absl::StrAppend(&out, static_cast<int>(p[i]), ",");
    return out + "\n";
  }
  template <typename M, typename K>
  static std::optional<typename M::mapped_type> Find(const M& m, const K& k) {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
  // Deleting what is not there succeeds, as the maps layer treats ENOENT.
  template <typename M, typename K>
  absl::Status Erase(M& m, const K& k) {
    return Write([&] { m.erase(k); });
  }
  template <typename F>
  absl::Status Write(F f) {
    if (fail_writes_after && writes >= *fail_writes_after)
      return absl::InternalError(absl::StrCat("write ", writes + 1, " failed (injected)"));
    ++writes;
    f();
    return absl::OkStatus();
  }
};

}  // namespace vnet

#endif
