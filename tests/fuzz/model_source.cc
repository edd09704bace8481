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
    // One order for every drop reason (docs/semantics.md 6.2): the source
    // address, which the fixed header always shows, first; then whether
    // the upper layer could be read at all; then what it claims.
    if (l3.src.Unspecified()) {
      // DAD (an NS with no extension header) and MLD reports (v1 131,
      // v2 143, right after the IPv6 header or behind one hop-by-hop
      // header: the router alert) may come from ::, as the kernel sends
      // them. Behind anything else (a fragment header, which RFC 6980
      // forbids for ND) they are not.
      if (!l3.opaque) {
        if (l3.kind == Kind::kNs && !l3.ext && !l3.hop_by_hop) return std::nullopt;
        if (l3.kind != Kind::kNs && !l3.ext && l3.proto == 58 && l3.icmp_type &&
            (*l3.icmp_type == 131 || *l3.icmp_type == 143))
          return std::nullopt;
      }
      why = ":: outside DAD NS and MLD reports";
      return Reason::kSpoofedIp;
    }
    if (!owns(l3.src)) {
      why = "IPv6 source not the port's";
      return Reason::kSpoofedIp;
    }
    if (l3.opaque) {
      why = "IPv6 upper layer unreadable (chain too deep or cut short, ICMPv6 header or NA target cut short)";
      return Reason::kTruncatedL3;
    }
    if (l3.na_target && !owns(*l3.na_target)) {
      why = "NA for a target the port does not own";
      return Reason::kSpoofedIp;
    }
  }
  return std::nullopt;
}

}  // namespace vnet::fuzz
