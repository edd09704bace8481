/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: parse the L2 header of a frame given [data, data_end), for XDP and
 * tc alike. On success fills *frame and returns -1; on a malformed frame
 * returns the vnet_drop_reason to count. Never reads past data_end.
 */
#ifndef VNET_BPF_PARSE_H
#define VNET_BPF_PARSE_H

#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include "vnet/abi.h"

/* 802.1Q / 802.1ad tags walked before giving up (QinQ). */
#define VNET_MAX_VLAN_DEPTH 2

struct vnet_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct vnet_frame {
	struct ethhdr *eth;
	__u16 proto;       /* host order, after any VLAN tags */
	__u16 l3_offset;   /* bytes from data to the L3 header */
	__u8 vlan_depth;
};

static __always_inline int vnet_is_vlan_proto(__u16 proto)
{
	return proto == ETH_P_8021Q || proto == ETH_P_8021AD;
}

static __always_inline int vnet_parse_l2(void *data, void *data_end, struct vnet_frame *frame)
{
	struct ethhdr *eth = data;
	__u16 offset = sizeof(*eth);
	__u16 proto;
	int depth;

	if (data + sizeof(*eth) > data_end)
		return VNET_DROP_TRUNCATED_ETH;
	proto = bpf_ntohs(eth->h_proto);

#pragma unroll
	for (depth = 0; depth < VNET_MAX_VLAN_DEPTH; depth++) {
		struct vnet_vlan_hdr *vlan;

		if (!vnet_is_vlan_proto(proto))
			break;
		vlan = data + offset;
		if ((void *)(vlan + 1) > data_end)
			return VNET_DROP_TRUNCATED_VLAN;
		proto = bpf_ntohs(vlan->encap_proto);
		offset += sizeof(*vlan);
	}
	if (vnet_is_vlan_proto(proto))
		return VNET_DROP_VLAN_DEPTH;

	frame->eth = eth;
	frame->proto = proto;
	frame->l3_offset = offset;
	frame->vlan_depth = depth;
	return -1;
}

#endif
