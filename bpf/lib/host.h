/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: what the host stack transmits on the uplink, seen at tc egress.
 * With `host on`, unicast to a port's MAC is delivered to that port instead
 * of the wire, and group frames are copied to every port except private and
 * source ones and still go out. Without it, only hairpin ports get what a
 * reflecting switch would bring back to them. Frames vnet itself forwards
 * from ports to the wire also pass this hook, recognised by their ingress device.
 */
#ifndef VNET_BPF_HOST_H
#define VNET_BPF_HOST_H

#include <linux/pkt_cls.h>
#include "ctx.h"
#include "eth.h"
#include "flood.h"
#include "ip_owner.h"
#include "l3.h"
#include "proxy.h"
#include "storm.h"

/* `host on` with IP-demux ports: the host talks to them through the shared
 * MAC. Its unicast to a port's address goes to that port; in l3/l3s vnet
 * answers its ARP/NS for port addresses (marked, into the uplink's ingress);
 * in l2 an NS for a port's address goes to that port only. Returns a verdict or
 * VNET_HOST_CONTINUE, with *flood_ip: group frames reach the IP ports too. */
#define VNET_HOST_CONTINUE (-1)

static __always_inline int vnet_ipvlan_host_egress(struct __sk_buff *skb, const struct vnet_config *cfg,
						   __u8 *flood_ip)
{
	int l2 = cfg->ipvlan_mode == VNET_IPVLAN_L2;
	struct vnet_ip_entry *owner, to;
	struct vnet_frame frame;
	void *data, *data_end;
	struct vnet_l3 l3;
	int group, err;

	*flood_ip = 0;
	if (vnet_skb_frame(skb, &data, &data_end, &frame) >= 0)
		return VNET_HOST_CONTINUE;
	group = vnet_mac_is_group(frame.eth->h_dest);
	if (!group && !vnet_mac_equal(frame.eth->h_dest, cfg->uplink_mac))
		return VNET_HOST_CONTINUE;
	/* Only frames IP demux may concern pay for the L3 pull. */
	if (vnet_skb_frame_l3(skb, &data, &data_end, &frame) >= 0)
		return VNET_HOST_CONTINUE;
	if (vnet_parse_l3(data, data_end, &frame, &l3) >= 0 || l3.kind == VNET_L3_NONE) {
		*flood_ip = group && l2;
		return VNET_HOST_CONTINUE;
	}
	owner = vnet_ip_owner(cfg, &l3.dst);
	if (!l2 && owner && (l3.kind == VNET_L3_NS || (l3.kind == VNET_L3_ARP && l3.arp_op == VNET_ARP_REQUEST))) {
		err = vnet_answer_question(skb, &l3, frame.l3_offset, cfg->uplink_mac);
		if (err)
			return vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_TRUNCATED_L3, TC_ACT_SHOT);
		skb->mark = VNET_SKB_MARK_TO_HOST;
		return bpf_redirect(cfg->uplink_ifindex, BPF_F_INGRESS);
	}
	if (group) {
		if (!(l2 && l3.kind == VNET_L3_NS && owner)) {
			*flood_ip = l2;
			return VNET_HOST_CONTINUE;
		}
		/* The NS's owner only: not the wire, not the other ports. */
	}
	if (!owner || (!l2 && l3.kind == VNET_L3_ARP))
		return VNET_HOST_CONTINUE;
	to = *owner;
	vnet_count_tx(to.slot, skb->len);
	return bpf_redirect(to.ifindex, 0);
}

static __always_inline int vnet_host_tc_egress(struct __sk_buff *skb)
{
	struct vnet_config *cfg = vnet_get_config();
	__u32 from = skb->ingress_ifindex;
	struct vnet_mac_entry *dst;
	struct vnet_frame frame;
	struct vnet_mac_key key;
	void *data, *data_end;

	__u8 flood_ip = 0;
	int host, verdict;

	if (!cfg || !(cfg->flags & (VNET_FABRIC_F_HOST | VNET_FABRIC_F_HAS_HAIRPIN)) ||
	    (cfg->flags & VNET_FABRIC_F_DEFUNCT))
		return TC_ACT_OK;
	host = cfg->flags & VNET_FABRIC_F_HOST;
	if (from && bpf_map_lookup_elem(&vnet_ports, &from))
		return TC_ACT_OK; /* a port's frame on its way to the wire */
	if (host && (cfg->flags & VNET_FABRIC_F_HAS_IP_PORTS)) {
		verdict = vnet_ipvlan_host_egress(skb, cfg, &flood_ip);
		if (verdict != VNET_HOST_CONTINUE)
			return verdict;
	}
	if (vnet_skb_frame(skb, &data, &data_end, &frame) >= 0)
		return TC_ACT_OK;

	if (vnet_mac_is_group(frame.eth->h_dest)) {
		/* The host stack's group frame still leaves on the wire; over
		 * the fabric's storm limit the ports get no copy. */
		if (vnet_storm_from_wire() >= 0) {
			vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_STORM, 0);
			return TC_ACT_OK;
		}
		if (host)
			vnet_flood_copies(skb, cfg,
					  VNET_MODE_VEPA | VNET_MODE_BRIDGE | VNET_MODE_PASSTHRU |
						  (flood_ip ? VNET_MODE_IPVLAN : 0),
					  0, 0);
		/* Hairpin ports get what a reflecting switch would bring back to
		 * them: with `host on`, only private ones are still missing it. */
		if (cfg->flags & VNET_FABRIC_F_HAS_HAIRPIN)
			vnet_flood_only(skb, cfg, host ? VNET_MODE_PRIVATE : VNET_FLOOD_FROM_WIRE, 0, 0,
					VNET_PORT_F_HAIRPIN);
		return TC_ACT_OK;
	}
	key = vnet_mac_key_of(frame.eth->h_dest);
	dst = bpf_map_lookup_elem(&vnet_macs, &key);
	if (!dst || dst->mode == VNET_MODE_SOURCE)
		return TC_ACT_OK;
	if (!(dst->flags & VNET_PORT_F_HAIRPIN) && (!host || dst->mode == VNET_MODE_PRIVATE))
		return TC_ACT_OK;
	vnet_count_tx(dst->slot, skb->len);
	return bpf_redirect(dst->ifindex, 0);
}

#endif
