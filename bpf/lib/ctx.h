/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: the packet window of an XDP or tc context as [data, data_end), so
 * parse.h serves both hooks. For tc it first makes sure the L2 header (with
 * its VLAN tags, and for IP demux the L3 header) is in the linear area.
 * struct vnet_pkt carries either context into code both hooks run (the wire
 * stage's unicast rules): a stage builds it with a constant `skb` (NULL
 * under XDP), so after inlining each program keeps only its own branch and
 * the verifier never sees a tc helper in an XDP program.
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

/* Window the packet and parse its L2 header (again: a pull, a clone or a
 * rewrite may have moved it). Returns -1, or the drop reason. */
static __always_inline int vnet_skb_frame(struct __sk_buff *skb, void **data, void **data_end,
					  struct vnet_frame *frame)
{
	vnet_skb_window(skb, data, data_end);
	return vnet_parse_l2(*data, *data_end, frame);
}

/* The same with the L3 header in the window too. */
static __always_inline int vnet_skb_frame_l3(struct __sk_buff *skb, void **data, void **data_end,
					     struct vnet_frame *frame)
{
	vnet_skb_window_l3(skb, data, data_end);
	return vnet_parse_l2(*data, *data_end, frame);
}

struct vnet_pkt {
	struct __sk_buff *skb; /* NULL under XDP */
	void *data;
	void *data_end;
};

/* Makes the L3 header readable in pkt's window and parses L2 into `frame`.
 * XDP sees the whole frame already. Returns -1, or the drop reason. */
static __always_inline int vnet_pkt_frame_l3(struct vnet_pkt *pkt, struct vnet_frame *frame)
{
	if (pkt->skb)
		return vnet_skb_frame_l3(pkt->skb, &pkt->data, &pkt->data_end, frame);
	return vnet_parse_l2(pkt->data, pkt->data_end, frame);
}

#endif
