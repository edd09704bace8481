/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: which IP-demux port owns an address: its exact address in
 * vnet_ips first (one hash lookup, the common case), then the longest port
 * prefix in vnet_ip_nets, looked at only while the fabric has prefixes.
 */
#ifndef VNET_BPF_IP_OWNER_H
#define VNET_BPF_IP_OWNER_H

#include "maps.h"

static __always_inline struct vnet_ip_entry *vnet_ip_owner(const struct vnet_config *cfg,
							   const struct vnet_ip_key *key)
{
	struct vnet_ip_entry *owner = bpf_map_lookup_elem(&vnet_ips, key);
	struct vnet_ip_net_key net;

	if (owner || !(cfg->flags & VNET_FABRIC_F_HAS_IP_NETS))
		return owner;
	__builtin_memset(&net, 0, sizeof(net));
	net.prefixlen = 8 + (key->family == VNET_IP4 ? 32 : 128);
	net.family = key->family;
	__builtin_memcpy(net.addr, key->addr, 16);
	return bpf_map_lookup_elem(&vnet_ip_nets, &net);
}

#endif
