/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: the port a destination MAC belongs to, on the XDP fast path:
 * the direct-mapped vnet_mac_front first (one cache line), vnet_macs when the
 * front misses, holds another MAC, or is being rewritten. Returns `copy`
 * (filled from the front), the vnet_macs value, or NULL. Reads only.
 */
#ifndef VNET_BPF_MAC_LOOKUP_H
#define VNET_BPF_MAC_LOOKUP_H

#include "eth.h"
#include "maps.h"

#define vnet_compiler_barrier() asm volatile("" ::: "memory")

static __always_inline const struct vnet_mac_entry *vnet_mac_find(const __u8 *mac, struct vnet_mac_entry *copy)
{
	__u32 index = vnet_mac_front_index(mac);
	struct vnet_mac_front *front = bpf_map_lookup_elem(&vnet_mac_front, &index);
	struct vnet_mac_key key;
	__u16 seq;

	if (front) {
		/* A sequence count: even and unchanged around the reads means
		 * libvnet was not writing this entry meanwhile (abi.h). */
		seq = *(volatile __u16 *)&front->seq;
		vnet_compiler_barrier();
		if (!(seq & 1) && front->ifindex && vnet_mac_equal(front->mac, mac)) {
			copy->ifindex = front->ifindex;
			copy->slot = front->slot;
			copy->mode = front->mode;
			copy->flags = front->flags;
			vnet_compiler_barrier();
			if (*(volatile __u16 *)&front->seq == seq)
				return copy;
		}
	}
	key = vnet_mac_key_of(mac);
	return bpf_map_lookup_elem(&vnet_macs, &key);
}

#endif
