/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: Ethernet address helpers. Pure functions on bytes the caller has
 * already bounds-checked.
 */
#ifndef VNET_BPF_ETH_H
#define VNET_BPF_ETH_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "vnet/abi.h"

/* Group bit: broadcast and every multicast address. */
static __always_inline int vnet_mac_is_group(const __u8 *mac)
{
	return mac[0] & 1;
}

static __always_inline int vnet_mac_equal(const __u8 *a, const __u8 *b)
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) |
		(a[4] ^ b[4]) | (a[5] ^ b[5])) == 0;
}

static __always_inline struct vnet_mac_key vnet_mac_key_of(const __u8 *mac)
{
	struct vnet_mac_key key = {};

	__builtin_memcpy(key.addr, mac, 6);
	return key;
}

#endif
