// BPF_PROG_RUN harness for the datapath programs. The whole binary runs in a
// private network namespace (see harness.cc), so every veth it creates dies
// with the process. Each test gets a fresh fabric (its own pinned maps) whose
// directory is removed whatever happens, an uplink veth, and ports on veths
// registered the way libvnet registers them.
#ifndef VNET_TESTS_BPF_HARNESS_H
#define VNET_TESTS_BPF_HARNESS_H

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "loader/programs.h"
#include "maps/fabric_maps.h"
#include "base/ip_address.h"
#include "base/mac_address.h"
#include "netlink/rtnl.h"
#include "vnet/abi.h"

namespace vnet::bpftest {

using Bytes = std::vector<std::uint8_t>;
using Tags = std::vector<std::uint16_t>;  // TPIDs, outermost first

inline constexpr MacAddress kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
inline constexpr MacAddress kIpv4Multicast{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
inline constexpr MacAddress kIpv6Multicast{{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}};
inline constexpr MacAddress kExternal{{0x02, 0xee, 0x00, 0x00, 0x00, 0x01}};  // beyond the uplink
inline constexpr MacAddress kNobody{{0x02, 0xee, 0x00, 0x00, 0x00, 0x99}};    // in no table

// dst, src, one 4-byte tag per TPID in `tpids` (VID = position + 1), IPv4
// ethertype and a 46-byte patterned payload.
Bytes Frame(const MacAddress& dst, const MacAddress& src, const Tags& tpids = {});
inline Bytes Prefix(const Bytes& frame, std::size_t n) { return Bytes(frame.begin(), frame.begin() + n); }

// ---- L3 frames for the IP-demux (ipvlan family) paths ----
// An address from text ("198.18.0.5", "2001:db8::5"); bad text throws.
IpAddress Ip(absl::string_view text);
// ff02::1:ffXX:XXXX for `target`, and its MAC 33:33:ff:XX:XX:XX.
IpAddress SolicitedNode(const IpAddress& target);
MacAddress MulticastMac(const IpAddress& group);
inline constexpr std::size_t kEthLen = 14;
inline constexpr std::uint16_t kDhcpServerPort = 67, kDhcpClientPort = 68;

// Ethernet + IPv4 (IHL 5, valid header checksum) + UDP (checksum 0) with a
// patterned `payload_len`-byte payload.
Bytes Ipv4Udp(const MacAddress& dst, const MacAddress& src, const IpAddress& sip, const IpAddress& dip,
              std::uint16_t sport = 40000, std::uint16_t dport = 9, std::size_t payload_len = 18);
// Ethernet + IPv6 + UDP (valid checksum).
Bytes Ipv6Udp(const MacAddress& dst, const MacAddress& src, const IpAddress& sip, const IpAddress& dip,
              std::uint16_t sport = 40000, std::uint16_t dport = 9, std::size_t payload_len = 18);
// Ethernet/IPv4 ARP. `op`: 1 request, 2 reply.
Bytes Arp(const MacAddress& dst, const MacAddress& src, std::uint16_t op, const MacAddress& sha,
          const IpAddress& sip, const MacAddress& tha, const IpAddress& tip);
// IPv6 Neighbour Solicitation for `target` (hop limit 255, valid checksum),
// with a source link-layer address option when `sllao` is given. `sip` ::
// makes it a DAD probe.
Bytes Ns(const MacAddress& dst, const MacAddress& src, const IpAddress& sip, const IpAddress& dip,
         const IpAddress& target, const std::optional<MacAddress>& sllao);
// The usual NS: to the target's solicited-node group.
Bytes NsMulticast(const MacAddress& src, const IpAddress& sip, const IpAddress& target,
                  const std::optional<MacAddress>& sllao);
// A BOOTP/DHCP message over IPv4/UDP: a request (68 -> 67, op 1) or a reply
// (67 -> 68, op 2), with the magic cookie, option 53 = `msg_type` and `yiaddr`.
// `xid` is written in network order.
Bytes Dhcp(const MacAddress& dst, const MacAddress& src, const IpAddress& sip, const IpAddress& dip, bool reply,
           std::uint32_t xid, std::uint8_t msg_type, const IpAddress& yiaddr);
inline constexpr std::uint8_t kDhcpDiscover = 1, kDhcpOffer = 2, kDhcpRequest = 3, kDhcpAck = 5, kDhcpNak = 6;
// The Internet checksum of the upper-layer packet of an IPv6 frame (its IPv6
// header at `l3`), pseudo-header included, computed as if its checksum
// field held zero: what that field must contain. Reads payload_len bytes.
std::uint16_t Ipv6L4Checksum(const Bytes& frame, std::size_t l3, std::size_t csum_offset);

// What the fabric delivered to one slot.
struct Delivery {
  std::uint64_t tx_packets = 0, tx_bytes = 0, flood_packets = 0;
  bool operator==(const Delivery&) const = default;
};
inline Delivery Sent(const Bytes& f) { return {1, f.size(), 0}; }
inline Delivery Flooded(const Bytes& f) { return {1, f.size(), 1}; }
std::ostream& operator<<(std::ostream& os, const Delivery& d);

// One non-zero drop counter.
struct Drop {
  std::uint16_t slot = 0;
  int reason = 0;
  std::uint64_t count = 0;
  bool operator==(const Drop&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Drop& d);

// A program run: err is bpf_prog_test_run_opts' return (0 or -errno).
struct ProgRun {
  int err = 0;
  int verdict = -1;
  Bytes out;
  std::uint32_t mark = 0;  // tc: skb->mark after the run (ctx_out)
};

class FabricTest : public ::testing::Test {
 protected:
  struct Port {
    std::uint32_t ifindex = 0;
    std::uint16_t slot = 0;
    MacAddress mac;  // the container-side MAC
  };

  void SetUp() override;
  void TearDown() override;

  // A veth pair, both ends up, whose host end becomes a port. Registered in
  // libvnet's order: vnet_ports, the devmap (XDP_TARGET), flood list, vnet_macs.
  Port AddPort(std::uint8_t mode, std::uint8_t flags = VNET_PORT_F_SPOOFCHK);
  // An IP-demux port (VNET_MODE_IPVLAN): a veth whose container end has the
  // uplink's MAC (as vnet gives a --netns ipvlan port), registered in
  // vnet_ports, the devmap (XDP_TARGET) and the flood list, never vnet_macs.
  // `ips`: "ADDR" goes into vnet_ips, "NET/PLEN" into vnet_ip_nets. Sets
  // VNET_FABRIC_F_HAS_IP_PORTS (and HAS_IP_NETS for a prefix).
  Port AddIpPort(std::initializer_list<absl::string_view> ips, std::uint8_t flags = VNET_PORT_F_SPOOFCHK);
  // Rewrites the fabric's unknown-destination policy and flags (vnet_fabric_flag).
  void SetConfig(std::uint8_t unknown_policy, std::uint32_t flags);
  // ORs flags into vnet_config.flags.
  void AddFabricFlags(std::uint32_t flags);
  // vnet_config.ipvlan_mode / ipvlan_flags.
  void SetIpvlan(std::uint8_t mode, std::uint8_t flag = VNET_IPVLAN_F_BRIDGE);
  // vnet_ips[ip], if any.
  std::optional<vnet_ip_entry> IpOwner(const IpAddress& ip) const;

  // `linear_len`: only that many bytes in the linear area the program sees
  // (xdp_md.data_end), the rest of `frame` in a fragment.
  ProgRun RunXdp(const Bytes& frame, std::optional<std::uint32_t> linear_len = std::nullopt);
  ProgRun RunTc(int prog_fd, const Bytes& frame, std::uint32_t ifindex);
  // BPF_PROG_RUN flags for the tc runs below; kTestChecksumComplete asks the
  // kernel (6.11+) to hand the program a CHECKSUM_COMPLETE skb and to fail the
  // run with EBADMSG when skb->csum no longer matches the packet after it.
  static constexpr std::uint32_t kTestChecksumComplete = 1u << 2;  // BPF_F_TEST_SKB_CHECKSUM_COMPLETE
  std::uint32_t tc_run_flags_ = 0;
  // The same with skb->ingress_ifindex (0: a frame the host stack sent) and
  // skb->mark given apart from the device.
  ProgRun RunTc(int prog_fd, const Bytes& frame, std::uint32_t ifindex, std::uint32_t ingress_ifindex,
                std::uint32_t mark = 0);
  // Runs whose error the test looks at itself.
  ProgRun UplinkTcRun(const Bytes& frame) { return RunTc(programs_->uplink_tc_fd(), frame, uplink_.ifindex); }
  ProgRun PortTcRun(const Port& from, const Bytes& frame) { return RunTc(programs_->port_tc_fd(), frame, from.ifindex); }
  // Runs that must succeed, output kept.
  ProgRun PortTc(const Port& from, const Bytes& frame) { return Ok(RunTc(programs_->port_tc_fd(), frame, from.ifindex)); }
  ProgRun UplinkTc(const Bytes& frame) { return Ok(RunTc(programs_->uplink_tc_fd(), frame, uplink_.ifindex)); }
  // The uplink's tc egress for a frame the host stack sent.
  ProgRun HostEgress(const Bytes& frame) {
    return Ok(RunTc(programs_->uplink_egress_fd(), frame, uplink_.ifindex, 0));
  }
  // Verdicts of runs expected to succeed.
  int XdpVerdict(const Bytes& frame) { return Checked(RunXdp(frame)); }
  int UplinkTcVerdict(const Bytes& frame) { return Checked(RunTc(programs_->uplink_tc_fd(), frame, uplink_.ifindex)); }
  int PortTcVerdict(const Port& from, const Bytes& frame) { return Checked(RunTc(programs_->port_tc_fd(), frame, from.ifindex)); }

  vnet_stats Stats(std::uint16_t slot) const;
  // tx/flood counters of every slot: [0] the uplink, then the ports.
  std::vector<Delivery> Deliveries() const;
  // Deliveries() as they should be: `these`, and nothing anywhere else.
  std::vector<Delivery> Only(std::initializer_list<std::pair<Port, Delivery>> these = {}) const;
  // Only(): a flooded copy of `f` on each of `ports`.
  std::vector<Delivery> FloodedTo(const Bytes& f, std::initializer_list<Port> ports) const;
  std::vector<Drop> Drops() const;
  bool NothingCounted() const;

  const Port& uplink() const { return uplink_; }
  FabricPrograms& programs() { return *programs_; }
  FabricMaps& maps() { return *maps_; }
  Rtnl& rtnl() { return *rtnl_; }
  const std::string& fabric() const { return pin_dir_.fabric; }
  // A veth pair for a port whose registration the caller writes itself (the
  // fuzzer rewrites the maps per configuration); returns the host end.
  std::uint32_t MakePortVeth(const MacAddress& peer_mac) {
    return static_cast<std::uint32_t>(MakeVeth(peer_mac).ifindex);
  }

 private:
  // Removes the fabric's pin directory on destruction, whatever happened.
  struct PinDirGuard {
    std::string fabric;
    ~PinDirGuard();
  };
  static int Checked(const ProgRun& run);
  static ProgRun Ok(ProgRun run) {
    Checked(run);
    return run;
  }
  // A veth whose peer has `mac`, registered as the next slot in vnet_ports,
  // the devmap (XDP_TARGET) and the flood list.
  Port NewPort(const MacAddress& mac, std::uint8_t mode, std::uint8_t flags);
  // Creates host/peer veths, both up; returns the host end.
  LinkInfo MakeVeth(const std::optional<MacAddress>& peer_mac);

  PinDirGuard pin_dir_;  // first member: destroyed last
  std::optional<Rtnl> rtnl_;
  std::vector<int> veths_;
  std::optional<FabricPrograms> programs_;
  std::optional<FabricMaps> maps_;
  Port uplink_;
  std::vector<Port> ports_;
  std::vector<vnet_flood_entry> flood_;
};

}  // namespace vnet::bpftest

#endif
