/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: DHCP for IP-demux (ipvlan l2) ports, which all share the uplink's
 * MAC, so a server's reply cannot be told apart by its client hardware
 * address. A port's request records its transaction id (vnet_dhcp, LRU);
 * a reply with that xid goes to that port only, and an ACK registers the
 * leased address for it (VNET_IP_F_LEARNED) so traffic to the lease is
 * demultiplexed from then on. tc only.
 */
#ifndef VNET_BPF_DHCP_H
#define VNET_BPF_DHCP_H

#include "l3.h"
#include "maps.h"

#define VNET_BOOTP_YIADDR 16
#define VNET_BOOTP_COOKIE 236
#define VNET_BOOTP_OPTIONS 240
#define VNET_DHCP_COOKIE 0x63825363u
#define VNET_DHCP_OPT_TYPE 53
#define VNET_DHCP_ACK 5
#define VNET_DHCP_MAX_OPTIONS 24

static __always_inline void vnet_dhcp_remember(const struct vnet_l3 *l3, const struct vnet_port *port,
					       __u32 ifindex)
{
	struct vnet_ip_entry who = {
		.ifindex = ifindex,
		.slot = port->slot,
		.flags = port->flags,
	};

	bpf_map_update_elem(&vnet_dhcp, &l3->xid, &who, BPF_ANY);
}

/* The DHCP message type (option 53), or 0. Options are walked with loads,
 * not packet pointers: the options area is rarely in the linear head. */
static __always_inline int vnet_dhcp_type(struct __sk_buff *skb, __u32 bootp)
{
	__u32 off = bootp + VNET_BOOTP_OPTIONS;
	__be32 cookie;
	__u8 opt[3];
	int i;

	if (bpf_skb_load_bytes(skb, bootp + VNET_BOOTP_COOKIE, &cookie, 4) ||
	    cookie != bpf_htonl(VNET_DHCP_COOKIE))
		return 0;
	for (i = 0; i < VNET_DHCP_MAX_OPTIONS; i++) {
		if (bpf_skb_load_bytes(skb, off, opt, 1))
			return 0;
		if (opt[0] == 0) { /* pad */
			off++;
			continue;
		}
		if (opt[0] == 255 || bpf_skb_load_bytes(skb, off, opt, 3))
			return 0;
		if (opt[0] == VNET_DHCP_OPT_TYPE)
			return opt[2];
		off += 2 + opt[1];
	}
	return 0;
}

/* The port this reply is for (NULL: none of ours), learning an ACK's lease. */
static __always_inline struct vnet_ip_entry *vnet_dhcp_reply_owner(struct __sk_buff *skb, const struct vnet_l3 *l3)
{
	__u32 bootp = l3->l4_offset + 8;
	struct vnet_ip_entry *who = bpf_map_lookup_elem(&vnet_dhcp, &l3->xid);
	struct vnet_ip_entry lease;
	struct vnet_ip_key key;
	__u8 yiaddr[4];

	if (!who)
		return NULL;
	if (vnet_dhcp_type(skb, bootp) != VNET_DHCP_ACK ||
	    bpf_skb_load_bytes(skb, bootp + VNET_BOOTP_YIADDR, yiaddr, 4))
		return who;
	vnet_ip4_key(&key, yiaddr);
	if (vnet_ip_key_unspecified(&key))
		return who;
	lease = *who;
	lease.ip_flags = VNET_IP_F_LEARNED;
	/* Never takes an address another port owns. */
	bpf_map_update_elem(&vnet_ips, &key, &lease, BPF_NOEXIST);
	return who;
}

#endif
