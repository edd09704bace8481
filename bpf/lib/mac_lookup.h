/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: the port a destination MAC belongs to, on the XDP fast path:
 * the direct-mapped vnet_mac_front first (one cache line) and the port's
 * vnet_slots entry, vnet_macs when the front misses or holds another MAC. Returns `copy`
 * (filled from the front), the vnet_macs value, or NULL. Reads only.
 */
#ifndef VNET_BPF_MAC_LOOKUP_H
#define VNET_BPF_MAC_LOOKUP_H

#include "eth.h"
#include "maps.h"

static __always_inline const struct vnet_mac_entry *vnet_mac_find(const __u8 *mac, struct vnet_mac_entry *copy)
{
	__u32 index = vnet_mac_front_index(mac);
	struct vnet_mac_front *front = bpf_map_lookup_elem(&vnet_mac_front, &index);
	struct vnet_mac_entry *port;
	struct vnet_mac_front cached;
	struct vnet_mac_key key;
	__u64 word;
	__u32 slot;

	if (front) {
		/* One 64-bit load each: never half an entry (abi.h). */
		word = *(volatile __u64 *)front;
		__builtin_memcpy(&cached, &word, sizeof(cached));
		if (cached.slot1 && vnet_mac_equal(cached.mac, mac)) {
			slot = cached.slot1 - 1;
			port = bpf_map_lookup_elem(&vnet_slots, &slot);
			if (port) {
				word = *(volatile __u64 *)port;
				__builtin_memcpy(copy, &word, sizeof(*copy));
				if (copy->ifindex)
					return copy;
			}
		}
	}
	key = vnet_mac_key_of(mac);
	return bpf_map_lookup_elem(&vnet_macs, &key);
}

#endif
