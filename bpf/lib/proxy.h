/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: answer an ARP request or an IPv6 Neighbour Solicitation in place
 * with `mac` (the uplink's: ipvlan l3/l3s ports share it and are NOARP), by
 * rewriting the skb into the reply; the caller then redirects it back where
 * the question came from. tc only. Returns 0 when the skb now holds the reply,
 * nonzero when the frame could not be rewritten (the caller drops it).
 */
#ifndef VNET_BPF_PROXY_H
#define VNET_BPF_PROXY_H

#include <linux/pkt_cls.h>
#include "l3.h"

/* A frame that came with CHECKSUM_COMPLETE carries the sum of its L3 bytes
 * in skb->csum; after rewriting `len` (a multiple of 4) bytes in place from
 * `before` to `now`, the sum follows, or the receiver reports a hardware
 * checksum failure. A no-op for other skbs. */
static __always_inline int vnet_csum_rewritten(struct __sk_buff *skb, void *before, void *now, __u32 len)
{
	__s64 diff = bpf_csum_diff(before, len, now, len, 0);

	if (diff < 0)
		return 1;
	bpf_csum_update(skb, (__wsum)diff);
	return 0;
}

static __always_inline int vnet_answer_arp(struct __sk_buff *skb, __u16 l3_off, const __u8 *mac)
{
	struct vnet_arp_eth *arp, before;
	void *data, *data_end;
	struct ethhdr *eth;
	__u8 asked[4];

	if (l3_off > VNET_MAX_VLAN_DEPTH * 4 + 14)
		return 1;
	if (bpf_skb_pull_data(skb, l3_off + sizeof(*arp)))
		return 1;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	arp = data + l3_off;
	if ((void *)(eth + 1) > data_end || (void *)(arp + 1) > data_end)
		return 1;
	before = *arp;
	__builtin_memcpy(eth->h_dest, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, mac, 6);
	__builtin_memcpy(asked, arp->tip, 4);
	arp->op = bpf_htons(VNET_ARP_REPLY);
	__builtin_memcpy(arp->tha, arp->sha, 6);
	__builtin_memcpy(arp->tip, arp->sip, 4);
	__builtin_memcpy(arp->sha, mac, 6);
	__builtin_memcpy(arp->sip, asked, 4);
	return vnet_csum_rewritten(skb, &before, arp, sizeof(before));
}

static __always_inline __u16 vnet_csum_fold(__s64 sum)
{
	__u64 s = (__u64)sum & 0xffffffffu;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* Neighbour Advertisement: IPv6 header, ICMPv6 header, target, and one
 * target link-layer address option. */
#define VNET_NA_LEN (8 + 16 + 8)

struct vnet_na {
	__u8 type;
	__u8 code;
	__sum16 csum;
	__u8 flags; /* R, S, O in the top bits */
	__u8 reserved[3];
	__u8 target[16];
	__u8 opt_type;
	__u8 opt_len;
	__u8 opt_mac[6];
};

/* `target` is the NS's target as the parser found it, behind any extension
 * headers: the answer replaces the whole payload (headers included), so it
 * never takes the target from where an NS without them would carry it. */
static __always_inline int vnet_answer_ns(struct __sk_buff *skb, __u16 l3_off, const __u8 *mac, const __u8 *target)
{
	__be32 pseudo[2] = {bpf_htonl(VNET_NA_LEN), bpf_htonl(IPPROTO_ICMPV6)};
	void *data, *data_end;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	struct vnet_na *na;
	__u32 before[(sizeof(struct ipv6hdr) + VNET_NA_LEN) / 4];
	__u8 asker[16], asked[16];
	int unspecified;
	__s64 sum;

	if (l3_off > VNET_MAX_VLAN_DEPTH * 4 + 14)
		return 1;
	__builtin_memcpy(asked, target, 16);
	/* A solicitation without options (DAD) is shorter than the answer. */
	if (bpf_skb_change_tail(skb, l3_off + sizeof(*ip6) + VNET_NA_LEN, 0))
		return 1;
	if (bpf_skb_pull_data(skb, l3_off + sizeof(*ip6) + VNET_NA_LEN))
		return 1;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	ip6 = data + l3_off;
	na = (void *)(ip6 + 1);
	if ((void *)(eth + 1) > data_end || (void *)(na + 1) > data_end)
		return 1;

	__builtin_memcpy(before, ip6, sizeof(before));
	__builtin_memcpy(asker, &ip6->saddr, 16);
	unspecified = !(((__u32 *)asker)[0] | ((__u32 *)asker)[1] | ((__u32 *)asker)[2] | ((__u32 *)asker)[3]);
	/* A DAD probe (from ::) is answered to all nodes (RFC 4861 7.2.4). */
	if (unspecified) {
		/* ff02::1 and its MAC 33:33:00:00:00:01, built in place: no
		 * .rodata in the objects. */
		__builtin_memset(eth->h_dest, 0, 6);
		eth->h_dest[0] = eth->h_dest[1] = 0x33;
		eth->h_dest[5] = 1;
		__builtin_memset(&ip6->daddr, 0, 16);
		ip6->daddr.in6_u.u6_addr8[0] = 0xff;
		ip6->daddr.in6_u.u6_addr8[1] = 0x02;
		ip6->daddr.in6_u.u6_addr8[15] = 1;
	} else {
		__builtin_memcpy(eth->h_dest, eth->h_source, 6);
		__builtin_memcpy(&ip6->daddr, asker, 16);
	}
	__builtin_memcpy(eth->h_source, mac, 6);
	__builtin_memcpy(&ip6->saddr, asked, 16);
	ip6->payload_len = bpf_htons(VNET_NA_LEN);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = 255;

	na->type = VNET_ND_ADVERT;
	na->code = 0;
	na->csum = 0;
	na->flags = unspecified ? 0x20 : 0x60; /* Override, and Solicited when asked by a unicast source */
	na->reserved[0] = na->reserved[1] = na->reserved[2] = 0;
	__builtin_memcpy(na->target, asked, 16);
	na->opt_type = 2; /* target link-layer address */
	na->opt_len = 1;
	__builtin_memcpy(na->opt_mac, mac, 6);

	sum = bpf_csum_diff(0, 0, (__be32 *)&ip6->saddr, 32, 0);
	if (sum < 0)
		return 1;
	sum = bpf_csum_diff(0, 0, pseudo, sizeof(pseudo), (__wsum)sum);
	if (sum < 0)
		return 1;
	sum = bpf_csum_diff(0, 0, (__be32 *)na, VNET_NA_LEN, (__wsum)sum);
	if (sum < 0)
		return 1;
	na->csum = vnet_csum_fold(sum);
	return vnet_csum_rewritten(skb, before, ip6, sizeof(before));
}

/* The one dispatch for the questions vnet answers: an ARP request or an NS
 * (the caller decided it is to be answered). */
static __always_inline int vnet_answer_question(struct __sk_buff *skb, const struct vnet_l3 *l3, __u16 l3_off,
						const __u8 *mac)
{
	if (l3->kind == VNET_L3_ARP)
		return vnet_answer_arp(skb, l3_off, mac);
	return vnet_answer_ns(skb, l3_off, mac, l3->dst.addr);
}

#endif
