/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: the VXLAN underlay guard, run on the underlay device's tc ingress.
 * A kernel VXLAN device accepts a frame for its VNI from any outer source, so
 * this is where a fabric's remote list is enforced on receive: a frame that is
 * UDP to the fabric's VXLAN port with the fabric's VNI, from an outer source
 * not in vxguard_remotes, is dropped (TC_ACT_SHOT) and counted. Every other
 * frame continues untouched (TCX_NEXT, which is TC_ACT_UNSPEC for cls_bpf), so
 * other tcx programs and the guards of other fabrics on the same underlay
 * still run. Never writes the packet; reads it with bpf_skb_load_bytes, so
 * paged (non-linear) data is read the way the kernel's receive path sees it.
 *
 * What the outer parse accepts: Ethernet with up to VNET_MAX_VLAN_DEPTH
 * 802.1Q/802.1ad tags in the data (parse.h), IPv4 with any IHL, IPv6 with up
 * to VNET_GUARD_MAX_EXT extension headers (hop-by-hop, routing, destination
 * options, fragment).
 *
 * Fragments: the outer source is in every fragment but UDP only in the first.
 *   - A first fragment is checked like a whole datagram when its VXLAN header
 *     is in it; when it is too short to show the VNI but is UDP to the port
 *     (or too short to show the port), it "may be ours" and is dropped unless
 *     its source is allowed.
 *   - Later fragments pass (counted as fragments_passed): the kernel
 *     reassembles by (source, destination, id, protocol), so without their
 *     first fragment they can never become a datagram, and a source that is
 *     not allowed never gets a first fragment through. Overlapping fragments
 *     are discarded by the kernel (IPv4 and IPv6), so a later fragment cannot
 *     rewrite a first one's VNI.
 * Undecidable frames from a source that is not allowed are dropped the same
 * way ("may be ours"): an IPv6 chain of more than VNET_GUARD_MAX_EXT extension
 * headers. Not-IP, other protocols, ESP/AH (IPsec authenticates its own), and
 * frames too short to be delivered as VXLAN at all pass.
 */
#ifndef VNET_BPF_UNDERLAY_GUARD_H
#define VNET_BPF_UNDERLAY_GUARD_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "vnet/abi.h"
#include "parse.h"

/* tcx: TCX_NEXT (-1) runs the next program; cls_bpf: TC_ACT_UNSPEC (-1) the next filter. */
#define VNET_GUARD_CONTINUE (-1)
#define VNET_GUARD_DROP 2 /* TC_ACT_SHOT, TCX_DROP */
#define VNET_GUARD_MAX_EXT 8
#define VNET_VXLAN_HLEN 8

/* One instance per fabric; libvnet pins these in the fabric's directory. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnet_guard_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vxguard_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNET_GUARD_MAX_REMOTES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vnet_ip_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vxguard_remotes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnet_guard_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vxguard_stats SEC(".maps");

enum vnet_guard_class {
	VNET_GUARD_OTHER,      /* not this fabric's VXLAN traffic */
	VNET_GUARD_OURS,       /* UDP to the port with the fabric's VNI */
	VNET_GUARD_MAYBE,      /* cannot be told apart from ours */
	VNET_GUARD_LATER_FRAG, /* a fragment after the first: no UDP header */
};

struct vnet_guard_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct vnet_guard_frag6 {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be32 id;
};

/* The VXLAN part once the L4 offset is known: UDP to the port, then the VNI.
 * `first_frag`: a short read means the datagram goes on in a later fragment. */
static __always_inline int vnet_guard_udp(struct __sk_buff *skb, __u32 off, const struct vnet_guard_config *cfg,
					  int first_frag)
{
	struct udphdr udp;
	__u8 vxlan[VNET_VXLAN_HLEN];
	__u32 vni;

	if (bpf_skb_load_bytes(skb, off, &udp, sizeof(udp)))
		return first_frag ? VNET_GUARD_MAYBE : VNET_GUARD_OTHER;
	if (bpf_ntohs(udp.dest) != cfg->dstport)
		return VNET_GUARD_OTHER;
	if (bpf_skb_load_bytes(skb, off + sizeof(udp), vxlan, sizeof(vxlan)))
		return first_frag ? VNET_GUARD_MAYBE : VNET_GUARD_OTHER;
	vni = ((__u32)vxlan[4] << 16) | ((__u32)vxlan[5] << 8) | vxlan[6];
	return vni == cfg->vni ? VNET_GUARD_OURS : VNET_GUARD_OTHER;
}

static __always_inline int vnet_guard_ipv4(struct __sk_buff *skb, __u32 off, const struct vnet_guard_config *cfg,
					   struct vnet_ip_key *src)
{
	struct iphdr ip;
	__u16 frag;

	if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) || ip.ihl < 5 || ip.version != 4)
		return VNET_GUARD_OTHER; /* the kernel drops it too */
	src->family = VNET_IP4;
	__builtin_memcpy(src->addr, &ip.saddr, 4);
	frag = bpf_ntohs(ip.frag_off);
	if (frag & 0x1fff)
		return ip.protocol == IPPROTO_UDP ? VNET_GUARD_LATER_FRAG : VNET_GUARD_OTHER;
	if (ip.protocol != IPPROTO_UDP)
		return VNET_GUARD_OTHER;
	return vnet_guard_udp(skb, off + ip.ihl * 4, cfg, frag & 0x2000);
}

static __always_inline int vnet_guard_ipv6(struct __sk_buff *skb, __u32 off, const struct vnet_guard_config *cfg,
					   struct vnet_ip_key *src)
{
	struct ipv6hdr ip6;
	__u8 next;
	int first_frag = 0;
	int i;

	if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) || ip6.version != 6)
		return VNET_GUARD_OTHER;
	src->family = VNET_IP6;
	__builtin_memcpy(src->addr, &ip6.saddr, 16);
	next = ip6.nexthdr;
	off += sizeof(ip6);

#pragma unroll
	for (i = 0; i < VNET_GUARD_MAX_EXT; i++) {
		if (next == IPPROTO_UDP)
			return vnet_guard_udp(skb, off, cfg, first_frag);
		if (next == IPPROTO_FRAGMENT) {
			struct vnet_guard_frag6 fh;

			if (bpf_skb_load_bytes(skb, off, &fh, sizeof(fh)))
				return VNET_GUARD_OTHER;
			if (bpf_ntohs(fh.frag_off) & 0xfff8)
				return VNET_GUARD_LATER_FRAG; /* the protocol is only known after reassembly */
			first_frag = bpf_ntohs(fh.frag_off) & 1;
			next = fh.nexthdr;
			off += sizeof(fh);
			continue;
		}
		if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS) {
			struct vnet_guard_ext ext;

			if (bpf_skb_load_bytes(skb, off, &ext, sizeof(ext)))
				return VNET_GUARD_OTHER;
			next = ext.nexthdr;
			off += (ext.hdrlen + 1) * 8;
			continue;
		}
		return VNET_GUARD_OTHER; /* TCP, ICMPv6, ESP, AH, no next header... */
	}
	if (next == IPPROTO_UDP)
		return vnet_guard_udp(skb, off, cfg, first_frag);
	/* More headers than walked: the kernel might still find UDP behind them. */
	return next == IPPROTO_FRAGMENT || next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING ||
			       next == IPPROTO_DSTOPTS
		       ? VNET_GUARD_MAYBE
		       : VNET_GUARD_OTHER;
}

/* Classifies the frame and fills *src with its outer source address. */
static __always_inline int vnet_guard_classify(struct __sk_buff *skb, const struct vnet_guard_config *cfg,
					       struct vnet_ip_key *src)
{
	struct ethhdr eth;
	__u32 off = sizeof(eth);
	__u16 proto;
	int depth;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)))
		return VNET_GUARD_OTHER;
	proto = bpf_ntohs(eth.h_proto);
#pragma unroll
	for (depth = 0; depth < VNET_MAX_VLAN_DEPTH; depth++) {
		struct vnet_vlan_hdr vlan;

		if (!vnet_is_vlan_proto(proto))
			break;
		if (bpf_skb_load_bytes(skb, off, &vlan, sizeof(vlan)))
			return VNET_GUARD_OTHER;
		proto = bpf_ntohs(vlan.encap_proto);
		off += sizeof(vlan);
	}
	if (proto == ETH_P_IP)
		return vnet_guard_ipv4(skb, off, cfg, src);
	if (proto == ETH_P_IPV6)
		return vnet_guard_ipv6(skb, off, cfg, src);
	return VNET_GUARD_OTHER; /* a third tag: the stack does not take it as IP either */
}

static __always_inline int vnet_guard_tc(struct __sk_buff *skb)
{
	struct vnet_guard_config *cfg;
	struct vnet_guard_stats *st;
	struct vnet_ip_key src = {};
	__u32 zero = 0;
	int cls;

	cfg = bpf_map_lookup_elem(&vxguard_cfg, &zero);
	if (!cfg || cfg->version != VNET_GUARD_VERSION)
		return VNET_GUARD_CONTINUE;
	cls = vnet_guard_classify(skb, cfg, &src);
	if (cls == VNET_GUARD_OTHER)
		return VNET_GUARD_CONTINUE;
	st = bpf_map_lookup_elem(&vxguard_stats, &zero);
	if (cls == VNET_GUARD_LATER_FRAG) {
		if (st)
			st->fragments_passed++;
		return VNET_GUARD_CONTINUE;
	}
	if (bpf_map_lookup_elem(&vxguard_remotes, &src)) {
		if (st && cls == VNET_GUARD_OURS)
			st->allowed_packets++;
		return VNET_GUARD_CONTINUE;
	}
	if (st) {
		st->dropped_packets++;
		st->dropped_bytes += skb->len;
	}
	return VNET_GUARD_DROP;
}

#endif
