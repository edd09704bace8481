#include "model_source.h"

namespace vnet::fuzz {

std::optional<Reason> SourceCheck(const Bytes& f, const parse::L2& l2, const parse::L3& l3,
                                  const std::function<bool(const Addr&)>& owns, std::string& why) {
  using namespace parse;
  if (l2.proto == kArp) {
    if (l3.arp_other) {
      why = "ARP that is not Ethernet/IPv4 from a checked port";
      return Reason::kSpoofedIp;
    }
    if (l3.src.Unspecified()) {
      if (l3.arp_request) return std::nullopt;  // an ARP probe
      why = "ARP from 0.0.0.0 that is not a probe";
      return Reason::kSpoofedIp;
    }
    if (!owns(l3.src)) {
      why = "ARP claims an address the port does not own";
      return Reason::kSpoofedIp;
    }
    return std::nullopt;
  }
  if (l2.proto == kIpv4) {
    if (l3.src.Unspecified()) {
      if (DhcpClientBroadcast(f, l3)) return std::nullopt;
      why = "0.0.0.0 outside a DHCP DISCOVER/REQUEST to 255.255.255.255:67";
      return Reason::kSpoofedIp;
    }
    if (!owns(l3.src)) {
      why = "IPv4 source not the port's";
      return Reason::kSpoofedIp;
    }
    return std::nullopt;
  }
  if (l2.proto == kIpv6) {
    Upper up = WalkIpv6(f, l2.l3);
    if (up.err) {
      why = "IPv6 extension chain cut short or too deep";
      return up.err;
    }
    std::optional<std::uint8_t> icmp_type;
    if (up.proto == 58 && !up.later_fragment) {
      if (f.size() < up.off + 8) {
        why = "ICMPv6 header cut short";
        return Reason::kTruncatedL3;
      }
      icmp_type = f[up.off];
    }
    if (l3.src.Unspecified()) {
      // DAD (an NS) and MLD reports (v1 131, v2 143) may come from ::, as
      // the kernel sends them: right after the IPv6 header or behind one
      // hop-by-hop header (MLD's router alert). Behind anything else (a
      // fragment header, which RFC 6980 forbids for ND) they are not.
      bool plain = up.headers == 0 || (up.headers == 1 && up.only_hop_by_hop);
      if (plain && icmp_type && (*icmp_type == 135 || *icmp_type == 131 || *icmp_type == 143)) return std::nullopt;
      why = ":: outside DAD NS and MLD reports";
      return Reason::kSpoofedIp;
    }
    if (!owns(l3.src)) {
      why = "IPv6 source not the port's";
      return Reason::kSpoofedIp;
    }
    if (icmp_type && *icmp_type == 136) {
      if (f.size() < up.off + 24) {
        why = "NA target cut short";
        return Reason::kTruncatedL3;
      }
      if (!owns(AddrAt(f, up.off + 8, 6))) {
        why = "NA for a target the port does not own";
        return Reason::kSpoofedIp;
      }
    }
  }
  return std::nullopt;
}

}  // namespace vnet::fuzz
