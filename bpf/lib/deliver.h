/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: the ways a tc program hands a frame on, counted on the receiving
 * slot: to a port (straight into its netns when it lives in another one), out
 * of the uplink, or into the uplink's ingress (for the host stack, marked, or
 * as a reflection).
 */
#ifndef VNET_BPF_DELIVER_H
#define VNET_BPF_DELIVER_H

#include <linux/pkt_cls.h>
#include "stats.h"

/* Straight into the container's netns when the peer lives in another one:
 * no second trip through the veth pair (docs/benchmarks.md). */
static __always_inline int vnet_deliver_to(struct __sk_buff *skb, __u32 ifindex, __u16 slot, __u8 flags)
{
	vnet_count_tx(slot, skb->len);
	if (flags & VNET_PORT_F_PEER_NETNS)
		return bpf_redirect_peer(ifindex, 0);
	return bpf_redirect(ifindex, 0);
}

static __always_inline int vnet_deliver_local(struct __sk_buff *skb, const struct vnet_mac_entry *dst)
{
	return vnet_deliver_to(skb, dst->ifindex, dst->slot, dst->flags);
}

static __always_inline int vnet_to_uplink(struct __sk_buff *skb, const struct vnet_config *cfg)
{
	vnet_count_tx(VNET_UPLINK_SLOT, skb->len);
	return bpf_redirect(cfg->uplink_ifindex, 0);
}

/* Into the uplink's ingress: for the host stack (marked) or as a reflection. */
static __always_inline int vnet_to_uplink_ingress(struct __sk_buff *skb, const struct vnet_config *cfg, int to_host)
{
	if (to_host)
		skb->mark = VNET_SKB_MARK_TO_HOST;
	return bpf_redirect(cfg->uplink_ifindex, BPF_F_INGRESS);
}

static __always_inline void vnet_copy_to_uplink_ingress(struct __sk_buff *skb, const struct vnet_config *cfg,
							int to_host)
{
	if (to_host)
		skb->mark = VNET_SKB_MARK_TO_HOST;
	bpf_clone_redirect(skb, cfg->uplink_ifindex, BPF_F_INGRESS);
	skb->mark = 0;
}

/* The same for an IP-demux port (tc ingress only: redirect_peer). */
static __always_inline int vnet_deliver_ip_port(struct __sk_buff *skb, const struct vnet_ip_entry *dst)
{
	return vnet_deliver_to(skb, dst->ifindex, dst->slot, dst->flags);
}

#endif
