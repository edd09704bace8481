/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: isolated ports never exchange frames, whichever kind they are.
 * A MAC-demux port is known by its MAC; an IP-demux port shares the uplink's
 * MAC and is known by its address. Checked twice: where the sender is known
 * (its port program, before the frame can leave for a reflecting switch) and
 * where a frame from the uplink is delivered (reflections, and ipvlan l3
 * traffic the host's FIB sent out). Reads only.
 */
#ifndef VNET_BPF_ISOLATION_H
#define VNET_BPF_ISOLATION_H

#include "eth.h"
#include "ip_owner.h"
#include "l3.h"

/* A sender with `sender_flags` and the MAC-demux port at `dst_mac`. */
static __always_inline int vnet_isolated_mac_dst(__u8 sender_flags, const __u8 *dst_mac)
{
	struct vnet_mac_key key;
	struct vnet_mac_entry *dst;

	if (!(sender_flags & VNET_PORT_F_ISOLATED))
		return 0;
	key = vnet_mac_key_of(dst_mac);
	dst = bpf_map_lookup_elem(&vnet_macs, &key);
	return dst && (dst->flags & VNET_PORT_F_ISOLATED);
}

/* A sender with `sender_flags` and the IP-demux port owning `dst_ip`. */
static __always_inline int vnet_isolated_ip_dst(const struct vnet_config *cfg, __u8 sender_flags,
						const struct vnet_ip_key *dst_ip)
{
	struct vnet_ip_entry *dst;

	if (!(sender_flags & VNET_PORT_F_ISOLATED) || !(cfg->flags & VNET_FABRIC_F_HAS_IP_PORTS))
		return 0;
	dst = vnet_ip_owner(cfg, dst_ip);
	return dst && (dst->flags & VNET_PORT_F_ISOLATED);
}

/* Whether the sender of a frame that arrived on the uplink is an isolated
 * port other than `receiver` (a port's own frame reflected back to it is
 * not an exchange between two ports): by source MAC, or, for the uplink's own
 * MAC, by the source address (`l3` may be NULL when the frame has no
 * readable L3 header: then only an IP-demux port's non-IP frame could hide,
 * and its port program stopped those already). */
static __always_inline int vnet_isolated_sender(const struct vnet_config *cfg, const __u8 *src_mac,
						const struct vnet_l3 *l3, __u32 receiver)
{
	struct vnet_mac_key key = vnet_mac_key_of(src_mac);
	struct vnet_mac_entry *src = bpf_map_lookup_elem(&vnet_macs, &key);
	struct vnet_ip_entry *owner;

	if (src)
		return (src->flags & VNET_PORT_F_ISOLATED) && src->ifindex != receiver;
	if (!l3 || l3->kind == VNET_L3_NONE || !(cfg->flags & VNET_FABRIC_F_HAS_IP_PORTS) ||
	    !vnet_mac_equal(src_mac, cfg->uplink_mac))
		return 0;
	owner = vnet_ip_owner(cfg, &l3->src);
	return owner && (owner->flags & VNET_PORT_F_ISOLATED) && owner->ifindex != receiver;
}

/* The same from a frame window: parses the L3 header only when the source
 * is the uplink's MAC and the fabric has IP-demux ports. */
static __always_inline int vnet_isolated_sender_in(const struct vnet_config *cfg, void *data, void *data_end,
						   const struct vnet_frame *frame, __u32 receiver)
{
	struct vnet_l3 l3;

	if (!(cfg->flags & VNET_FABRIC_F_HAS_IP_PORTS) || !vnet_mac_equal(frame->eth->h_source, cfg->uplink_mac))
		return vnet_isolated_sender(cfg, frame->eth->h_source, 0, receiver);
	if (vnet_parse_l3(data, data_end, frame, &l3) >= 0)
		return 0;
	return vnet_isolated_sender(cfg, frame->eth->h_source, &l3, receiver);
}

#endif
