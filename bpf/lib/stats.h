/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: the only place counters are touched. Every drop in the datapath
 * goes through vnet_drop(), which counts a reason on a slot and returns the
 * caller's drop verdict, so a drop can never go uncounted.
 */
#ifndef VNET_BPF_STATS_H
#define VNET_BPF_STATS_H

#include "maps.h"

static __always_inline struct vnet_stats *vnet_stats_at(__u32 slot)
{
	return bpf_map_lookup_elem(&vnet_stats, &slot);
}

static __always_inline void vnet_count_rx(__u32 slot, __u64 bytes)
{
	struct vnet_stats *s = vnet_stats_at(slot);

	if (s) {
		s->rx_packets++;
		s->rx_bytes += bytes;
	}
}

static __always_inline void vnet_count_tx(__u32 slot, __u64 bytes)
{
	struct vnet_stats *s = vnet_stats_at(slot);

	if (s) {
		s->tx_packets++;
		s->tx_bytes += bytes;
	}
}

static __always_inline void vnet_count_flood(__u32 slot, __u64 bytes)
{
	struct vnet_stats *s = vnet_stats_at(slot);

	if (s) {
		s->flood_packets++;
		s->tx_packets++;
		s->tx_bytes += bytes;
	}
}

/* Counts `reason` on `slot` and returns `verdict` (XDP_DROP or TC_ACT_SHOT). */
static __always_inline int vnet_drop(__u32 slot, __u32 reason, int verdict)
{
	struct vnet_stats *s = vnet_stats_at(slot);

	if (s && reason < VNET_DROP__MAX)
		s->drops[reason]++;
	return verdict;
}

#endif
