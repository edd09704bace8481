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

static __always_inline int vnet_host_tc_egress(struct __sk_buff *skb)
{
	struct vnet_config *cfg = vnet_get_config();
	__u32 from = skb->ingress_ifindex;
	struct vnet_mac_entry *dst;
	struct vnet_frame frame;
	struct vnet_mac_key key;
	void *data, *data_end;

	int host;

	if (!cfg || !(cfg->flags & (VNET_FABRIC_F_HOST | VNET_FABRIC_F_HAS_HAIRPIN)) ||
	    (cfg->flags & VNET_FABRIC_F_DEFUNCT))
		return TC_ACT_OK;
	host = cfg->flags & VNET_FABRIC_F_HOST;
	if (from && bpf_map_lookup_elem(&vnet_ports, &from))
		return TC_ACT_OK; /* a port's frame on its way to the wire */
	vnet_skb_window(skb, &data, &data_end);
	if (vnet_parse_l2(data, data_end, &frame) >= 0)
		return TC_ACT_OK;

	if (vnet_mac_is_group(frame.eth->h_dest)) {
		if (host)
			vnet_flood_copies(skb, cfg, VNET_MODE_VEPA | VNET_MODE_BRIDGE | VNET_MODE_PASSTHRU, 0, 0);
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
