/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: what IP demultiplexing needs from the L3 header, for XDP and tc
 * alike: the demux key (IPv4/IPv6 destination; an ARP's target IP; an IPv6
 * Neighbour Solicitation's target address, so NS and DAD reach the address's
 * owner and not whoever listens on the solicited-node group), the source
 * address for anti-spoofing, and the DHCP transaction id of BOOTP frames.
 * Returns -1 on success, or the drop reason for a cut-short or bad header.
 * Never reads past data_end.
 */
#ifndef VNET_BPF_L3_H
#define VNET_BPF_L3_H

#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/udp.h>
#include "ctx.h"

#ifndef ETH_P_ARP
#define ETH_P_ARP 0x0806
#endif

#define VNET_ND_SOLICIT 135
#define VNET_ND_ADVERT 136
#define VNET_DHCP_SERVER_PORT 67
#define VNET_DHCP_CLIENT_PORT 68

enum vnet_l3_kind {
	VNET_L3_NONE = 0,    /* not IPv4, IPv6 or Ethernet/IPv4 ARP */
	VNET_L3_IP,          /* IPv4 or IPv6, demux by destination */
	VNET_L3_ARP,         /* demux by target IP; arp_op says which */
	VNET_L3_NS,          /* IPv6 Neighbour Solicitation, demux by target */
	VNET_L3_DHCP_REPLY,  /* UDP 67 -> 68: demux by xid */
	VNET_L3_DHCP_REQUEST, /* UDP 68 -> 67 */
	VNET_L3_NA,          /* IPv6 Neighbour Advertisement: demux by destination, claims its target */
};

/* ARP for Ethernet/IPv4 (linux/if_arp.h drags in libc headers). */
struct vnet_arp_eth {
	__be16 hrd;
	__be16 pro;
	__u8 hln;
	__u8 pln;
	__be16 op;
	__u8 sha[6];
	__u8 sip[4];
	__u8 tha[6];
	__u8 tip[4];
} __attribute__((packed));

#define VNET_ARP_REQUEST 1
#define VNET_ARP_REPLY 2

/* vnet_l3.flags */
#define VNET_L3_F_EXT 1u          /* IPv6: extension headers (other than one leading hop-by-hop) came before l4_proto */
#define VNET_L3_F_HBH 8u          /* IPv6: a hop-by-hop header came first */
#define VNET_L3_F_OPAQUE 2u       /* IPv6: the chain could not be walked to its end */
#define VNET_L3_F_FOREIGN_ARP 4u  /* ARP, but not Ethernet/IPv4 (kind stays NONE) */

/* IPv6 extension headers walked before giving up (hop-by-hop, destination
 * options, routing: what the host stack processes before ICMPv6). */
#define VNET_MAX_IP6_EXT 4

struct vnet_l3 {
	struct vnet_ip_key dst;    /* the demux key */
	struct vnet_ip_key src;
	struct vnet_ip_key target; /* Neighbour Advertisement: the address it claims */
	__u32 xid;                 /* DHCP transaction id, as on the wire */
	__u16 l4_offset;           /* bytes from data to the UDP/ICMPv6 header */
	__u8 kind;                 /* enum vnet_l3_kind */
	__u8 arp_op;
	__u8 l4_proto;             /* IPv6: the upper layer, after extension headers */
	__u8 icmp6_type;           /* 0 unless ICMPv6 */
	__u8 flags;                /* VNET_L3_F_* */
};

static __always_inline void vnet_ip4_key(struct vnet_ip_key *key, const void *addr)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->family = VNET_IP4;
	__builtin_memcpy(key->addr, addr, 4);
}

static __always_inline void vnet_ip6_key(struct vnet_ip_key *key, const void *addr)
{
	key->family = VNET_IP6;
	key->pad[0] = key->pad[1] = key->pad[2] = 0;
	__builtin_memcpy(key->addr, addr, 16);
}

static __always_inline int vnet_ip_key_unspecified(const struct vnet_ip_key *key)
{
	const __u32 *w = (const __u32 *)key->addr;

	return (w[0] | w[1] | w[2] | w[3]) == 0;
}

static __always_inline int vnet_parse_arp(void *data, void *data_end, __u16 off, struct vnet_l3 *l3)
{
	struct vnet_arp_eth *arp = data + off;

	if ((void *)(arp + 1) > data_end)
		return VNET_DROP_TRUNCATED_L3;
	if (arp->hrd != bpf_htons(1) || arp->pro != bpf_htons(ETH_P_IP) || arp->hln != 6 || arp->pln != 4) {
		/* Some other ARP: not ours to demux, and never a port's to send
		 * (the host's arp_process accepts more than Ethernet/IPv4). */
		l3->flags |= VNET_L3_F_FOREIGN_ARP;
		return -1;
	}
	l3->kind = VNET_L3_ARP;
	l3->arp_op = bpf_ntohs(arp->op) == VNET_ARP_REQUEST ? VNET_ARP_REQUEST : VNET_ARP_REPLY;
	vnet_ip4_key(&l3->dst, arp->tip);
	vnet_ip4_key(&l3->src, arp->sip);
	return -1;
}

static __always_inline int vnet_parse_ip4(void *data, void *data_end, __u16 off, struct vnet_l3 *l3)
{
	struct iphdr *ip = data + off;
	struct udphdr *udp;
	__u16 l4;

	if ((void *)(ip + 1) > data_end)
		return VNET_DROP_TRUNCATED_L3;
	if (ip->version != 4 || ip->ihl < 5)
		return VNET_DROP_TRUNCATED_L3;
	/* Options that run past the frame: the host's ip_rcv drops it too. */
	if ((void *)ip + ip->ihl * 4 > data_end)
		return VNET_DROP_TRUNCATED_L3;
	l3->kind = VNET_L3_IP;
	l3->l4_proto = ip->protocol;
	vnet_ip4_key(&l3->dst, &ip->daddr);
	vnet_ip4_key(&l3->src, &ip->saddr);
	l4 = off + ip->ihl * 4;
	l3->l4_offset = l4;
	if (ip->protocol != IPPROTO_UDP || (ip->frag_off & bpf_htons(0x3fff)))
		return -1;
	if (l4 > VNET_L3_WINDOW)
		return -1;
	udp = data + l4;
	/* The UDP header and the BOOTP op/htype/hlen/hops/xid words. */
	if ((void *)udp + sizeof(*udp) + 8 > data_end)
		return -1;
	if (udp->source == bpf_htons(VNET_DHCP_SERVER_PORT) && udp->dest == bpf_htons(VNET_DHCP_CLIENT_PORT))
		l3->kind = VNET_L3_DHCP_REPLY;
	else if (udp->source == bpf_htons(VNET_DHCP_CLIENT_PORT) && udp->dest == bpf_htons(VNET_DHCP_SERVER_PORT))
		l3->kind = VNET_L3_DHCP_REQUEST;
	else
		return -1;
	__builtin_memcpy(&l3->xid, (void *)udp + sizeof(*udp) + 4, 4);
	return -1;
}

/* Walks hop-by-hop, destination options and routing headers, and atomic
 * fragment headers (offset 0, no more fragments: the host processes what
 * follows as unfragmented, ND included, RFC 6946), to the upper layer; sets
 * VNET_L3_F_OPAQUE when the chain is longer than the parser walks or leaves
 * the window, so callers that must see the upper layer can refuse what they
 * cannot read. A real fragment stops the walk (l4_proto 44): the host
 * reassembles it and its ndisc drops reassembled ND (RFC 6980). */
static __always_inline int vnet_ip6_ext(__u8 proto)
{
	return proto == IPPROTO_HOPOPTS || proto == IPPROTO_DSTOPTS || proto == IPPROTO_ROUTING ||
	       proto == IPPROTO_FRAGMENT;
}

static __always_inline void vnet_walk_ip6_ext(void *data, void *data_end, __u16 *off, struct vnet_l3 *l3)
{
	__u8 *ext;
	int i;

#pragma unroll
	for (i = 0; i < VNET_MAX_IP6_EXT; i++) {
		if (!vnet_ip6_ext(l3->l4_proto))
			return;
		if (*off > VNET_L3_WINDOW)
			break;
		ext = data + *off;
		if ((void *)(ext + 8) > data_end)
			break;
		if (l3->l4_proto == IPPROTO_FRAGMENT) {
			if ((ext[2] | (ext[3] & 0xf9)) != 0)
				return; /* offset or more fragments: a real fragment */
			l3->flags |= VNET_L3_F_EXT;
			l3->l4_proto = ext[0];
			*off += 8;
			continue;
		}
		l3->flags |= i == 0 && l3->l4_proto == IPPROTO_HOPOPTS ? VNET_L3_F_HBH : VNET_L3_F_EXT;
		l3->l4_proto = ext[0];
		*off += ((__u16)ext[1] + 1) * 8;
	}
	if (vnet_ip6_ext(l3->l4_proto))
		l3->flags |= VNET_L3_F_OPAQUE;
}

static __always_inline int vnet_parse_ip6(void *data, void *data_end, __u16 off, struct vnet_l3 *l3)
{
	struct ipv6hdr *ip6 = data + off;
	struct icmp6hdr *icmp;
	__u16 l4 = off + sizeof(*ip6);
	__u8 *target;

	if ((void *)(ip6 + 1) > data_end)
		return VNET_DROP_TRUNCATED_L3;
	if (ip6->version != 6)
		return VNET_DROP_TRUNCATED_L3;
	l3->kind = VNET_L3_IP;
	l3->l4_proto = ip6->nexthdr;
	vnet_ip6_key(&l3->dst, &ip6->daddr);
	vnet_ip6_key(&l3->src, &ip6->saddr);
	/* ND behind extension headers still reaches the host's ndisc, so it
	 * is classified after them. */
	vnet_walk_ip6_ext(data, data_end, &l4, l3);
	l3->l4_offset = l4;
	if (l3->l4_proto != IPPROTO_ICMPV6 || (l3->flags & VNET_L3_F_OPAQUE))
		return -1;
	if (l4 > VNET_L3_WINDOW) {
		l3->flags |= VNET_L3_F_OPAQUE;
		return -1;
	}
	icmp = data + l4;
	if ((void *)(icmp + 1) > data_end) {
		if (!(l3->flags & (VNET_L3_F_EXT | VNET_L3_F_HBH)))
			return VNET_DROP_TRUNCATED_L3;
		l3->flags |= VNET_L3_F_OPAQUE;
		return -1;
	}
	l3->icmp6_type = icmp->icmp6_type;
	if (icmp->icmp6_type != VNET_ND_SOLICIT && icmp->icmp6_type != VNET_ND_ADVERT)
		return -1;
	target = (void *)(icmp + 1);
	if (icmp->icmp6_type == VNET_ND_ADVERT) {
		/* An NA is demultiplexed by destination like any packet; only
		 * a port's claim needs its target (an unreadable one: OPAQUE). */
		if ((void *)(target + 16) > data_end) {
			l3->flags |= VNET_L3_F_OPAQUE;
			return -1;
		}
		l3->kind = VNET_L3_NA;
		vnet_ip6_key(&l3->target, target);
		return -1;
	}
	if ((void *)(target + 16) > data_end)
		return VNET_DROP_TRUNCATED_L3;
	l3->kind = VNET_L3_NS;
	vnet_ip6_key(&l3->dst, target);
	return -1;
}

static __always_inline int vnet_parse_l3(void *data, void *data_end, const struct vnet_frame *frame,
					 struct vnet_l3 *l3)
{
	__u16 off = frame->l3_offset;

	l3->kind = VNET_L3_NONE;
	l3->arp_op = 0;
	l3->l4_proto = 0;
	l3->icmp6_type = 0;
	l3->flags = 0;
	l3->xid = 0;
	l3->l4_offset = 0;
	if (off > VNET_MAX_VLAN_DEPTH * 4 + 14)
		return VNET_DROP_VLAN_DEPTH;
	if (frame->proto == ETH_P_IP)
		return vnet_parse_ip4(data, data_end, off, l3);
	if (frame->proto == ETH_P_IPV6)
		return vnet_parse_ip6(data, data_end, off, l3);
	if (frame->proto == ETH_P_ARP)
		return vnet_parse_arp(data, data_end, off, l3);
	return -1;
}

/* tc: the L3 window, then the L2 and L3 headers in it (data and data_end
 * are the window's). Returns -1, or the drop reason. */
static __always_inline int vnet_skb_parse_l3(struct __sk_buff *skb, void **data, void **data_end,
					     struct vnet_frame *frame, struct vnet_l3 *l3)
{
	int err;

	err = vnet_skb_frame_l3(skb, data, data_end, frame);
	if (err >= 0)
		return err;
	return vnet_parse_l3(*data, *data_end, frame, l3);
}

#endif
