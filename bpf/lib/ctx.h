/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: the packet window of an XDP or tc context as [data, data_end), so
 * parse.h serves both hooks. For tc it first makes sure the L2 header (with
 * its VLAN tags, and for IP demux the L3 header) is in the linear area.
 */
#ifndef VNET_BPF_CTX_H
#define VNET_BPF_CTX_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "parse.h"

#define VNET_L2_MAX (ETH_HLEN + VNET_MAX_VLAN_DEPTH * 4 + 4)

static __always_inline void *vnet_xdp_data(struct xdp_md *ctx) { return (void *)(long)ctx->data; }
static __always_inline void *vnet_xdp_end(struct xdp_md *ctx) { return (void *)(long)ctx->data_end; }

static __always_inline void vnet_skb_window(struct __sk_buff *skb, void **data, void **data_end)
{
	__u32 want = skb->len < VNET_L2_MAX ? skb->len : VNET_L2_MAX;

	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);
	*data = (void *)(long)skb->data;
	*data_end = (void *)(long)skb->data_end;
}

/* The same with the L3 header too (l3.h: IPv4 with options and the BOOTP
 * xid, or IPv6 with an NS target), for the IP-demux paths. */
#define VNET_L3_WINDOW (VNET_MAX_VLAN_DEPTH * 4 + 14 + 60 + 8 + 8 + 16)

static __always_inline void vnet_skb_window_l3(struct __sk_buff *skb, void **data, void **data_end)
{
	__u32 want = skb->len < VNET_L3_WINDOW ? skb->len : VNET_L3_WINDOW;

	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);
	*data = (void *)(long)skb->data;
	*data_end = (void *)(long)skb->data_end;
}

#endif
