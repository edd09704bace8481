/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: anti-spoofing by IP address for frames a port transmitted. The
 * addresses a frame claims are its IPv4/IPv6 source, an ARP's sender IP and
 * a Neighbour Advertisement's target; each must be the port's own:
 *  - an IP-demux (ipvlan) port owns its addresses and prefixes (vnet_ips,
 *    vnet_ip_nets, its link-local among them);
 *  - a MAC-demux port with VNET_PORT_F_ALLOW_IP owns its --allow-ip prefixes
 *    (vnet_allow, keyed by its slot) and its own EUI-64 link-local.
 * The unspecified source is allowed only where the protocols need it: 0.0.0.0
 * for a DHCP DISCOVER or REQUEST to 255.255.255.255:67 and for an ARP probe,
 * :: for a DAD Neighbour Solicitation and an MLD report. ARP that is not
 * Ethernet/IPv4 and IPv6 whose upper layer could not be reached are refused:
 * what the check cannot read, it does not let through. tc only (the DHCP
 * message type is read with skb loads). Returns -1, or the drop reason.
 */
#ifndef VNET_BPF_CLAIMS_H
#define VNET_BPF_CLAIMS_H

#include "dhcp.h"
#include "ip_owner.h"
#include "l3.h"

#define VNET_MLD_REPORT 131
#define VNET_MLD2_REPORT 143
#define VNET_DHCP_DISCOVER 1
#define VNET_DHCP_REQUEST 3

/* fe80::/64 with the EUI-64 of `mac` (RFC 4291, appendix A). */
static __always_inline int vnet_is_eui64_link_local(const struct vnet_ip_key *ip, const __u8 *mac)
{
	const __u8 *a = ip->addr;

	return ip->family == VNET_IP6 && a[0] == 0xfe && a[1] == 0x80 && !(a[2] | a[3] | a[4] | a[5] | a[6] | a[7]) &&
	       a[8] == (mac[0] ^ 2) && a[9] == mac[1] && a[10] == mac[2] && a[11] == 0xff && a[12] == 0xfe &&
	       a[13] == mac[3] && a[14] == mac[4] && a[15] == mac[5];
}

static __always_inline int vnet_allowed_source(const struct vnet_port *port, const struct vnet_ip_key *ip)
{
	struct vnet_allow_key key;

	key.prefixlen = VNET_ALLOW_KEY_BITS + (ip->family == VNET_IP4 ? 32 : 128);
	key.slot = port->slot;
	key.family = ip->family;
	key.pad = 0;
	__builtin_memcpy(key.addr, ip->addr, 16);
	return bpf_map_lookup_elem(&vnet_allow, &key) || vnet_is_eui64_link_local(ip, port->mac);
}

static __always_inline int vnet_port_owns(const struct vnet_config *cfg, const struct vnet_port *port, __u32 ifindex,
					  const struct vnet_ip_key *ip)
{
	struct vnet_ip_entry *owner;

	if (port->mode != VNET_MODE_IPVLAN)
		return vnet_allowed_source(port, ip);
	owner = vnet_ip_owner(cfg, ip);
	return owner && owner->ifindex == ifindex;
}

static __always_inline int vnet_ip4_limited_broadcast(const struct vnet_ip_key *ip)
{
	return ip->addr[0] == 0xff && ip->addr[1] == 0xff && ip->addr[2] == 0xff && ip->addr[3] == 0xff;
}

/* The few messages that are sent before a host has an address. */
static __always_inline int vnet_unspecified_source_ok(struct __sk_buff *skb, const struct vnet_l3 *l3)
{
	struct vnet_dhcp_opts opts;

	if (l3->src.family == VNET_IP4) {
		if (l3->kind == VNET_L3_ARP)
			return l3->arp_op == VNET_ARP_REQUEST; /* a probe (RFC 5227) */
		if (l3->kind != VNET_L3_DHCP_REQUEST || !vnet_ip4_limited_broadcast(&l3->dst))
			return 0;
		vnet_dhcp_options(skb, l3->l4_offset + 8, &opts);
		return opts.type == VNET_DHCP_DISCOVER || opts.type == VNET_DHCP_REQUEST;
	}
	if (l3->flags & VNET_L3_F_OPAQUE)
		return 0;
	if (l3->kind == VNET_L3_NS)
		return !(l3->flags & (VNET_L3_F_EXT | VNET_L3_F_HBH)); /* DAD */
	/* MLD reports: right after the IPv6 header, or behind one hop-by-hop
	 * header (the router alert), nothing else. */
	return !(l3->flags & VNET_L3_F_EXT) && l3->l4_proto == IPPROTO_ICMPV6 &&
	       (l3->icmp6_type == VNET_MLD_REPORT || l3->icmp6_type == VNET_MLD2_REPORT);
}

static __always_inline int vnet_claims_check(struct __sk_buff *skb, const struct vnet_config *cfg,
					     const struct vnet_port *port, __u32 ifindex, const struct vnet_l3 *l3)
{
	if (l3->flags & VNET_L3_F_FOREIGN_ARP)
		return VNET_DROP_SPOOFED_IP;
	if (l3->kind == VNET_L3_NONE)
		return -1; /* not IP: nothing claimed */
	if (vnet_ip_key_unspecified(&l3->src))
		return vnet_unspecified_source_ok(skb, l3) ? -1 : VNET_DROP_SPOOFED_IP;
	if (!vnet_port_owns(cfg, port, ifindex, &l3->src))
		return VNET_DROP_SPOOFED_IP;
	/* From its own address, but with an upper layer vnet cannot reach
	 * (an NA behind it could claim anything): refused. */
	if (l3->flags & VNET_L3_F_OPAQUE)
		return VNET_DROP_TRUNCATED_L3;
	if (l3->kind == VNET_L3_NA && !vnet_port_owns(cfg, port, ifindex, &l3->target))
		return VNET_DROP_SPOOFED_IP;
	return -1;
}

#endif
