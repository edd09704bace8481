/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: source-mode ports (macvlan `mode source`). A frame from the wire
 * whose source MAC is in vnet_sources is copied to every source-mode port
 * listing it; vnet_source_copies() returns nonzero when one of them has
 * nodst, meaning the frame goes nowhere else. tc only (copies need clones).
 */
#ifndef VNET_BPF_SOURCE_H
#define VNET_BPF_SOURCE_H

#include "eth.h"
#include "stats.h"

static __always_inline struct vnet_source_entry *vnet_source_lookup(const struct vnet_config *cfg,
								  const __u8 *src_mac)
{
	struct vnet_mac_key key;

	if (!(cfg->flags & VNET_FABRIC_F_HAS_SOURCES))
		return 0;
	key = vnet_mac_key_of(src_mac);
	return bpf_map_lookup_elem(&vnet_sources, &key);
}

static __always_inline int vnet_source_copies(struct __sk_buff *skb, const struct vnet_source_entry *entry)
{
	int exclusive = 0;
	__u32 i;

#pragma unroll
	for (i = 0; i < VNET_MAX_SOURCE_PORTS; i++) {
		const struct vnet_source_port *p = &entry->port[i];

		if (i >= entry->count)
			break;
		if (p->flags & VNET_PORT_F_NODST)
			exclusive = 1;
		if (bpf_clone_redirect(skb, p->ifindex, 0) == 0)
			vnet_count_tx(p->slot, skb->len);
	}
	return exclusive;
}

#endif
