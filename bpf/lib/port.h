/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: frames a container or VM transmitted, seen at tc ingress of the
 * port's host end (spec, "From a port"). The sender is found by ifindex in
 * vnet_ports. Bridge-mode ports deliver to bridge siblings locally (unicast by
 * redirect_peer straight into the sibling's netns, group frames by clone);
 * everything else leaves through the uplink. Beyond macvlan:
 *  - `host on`: frames for the uplink's MAC (and a copy of group frames) go
 *    up the host stack through the uplink's ingress, marked so the uplink
 *    program passes them untouched; private ports excluded.
 *  - hairpin: vnet is the reflective relay for the port: its frames for local
 *    destinations come back in through the uplink's ingress, exactly as from
 *    a hairpinning switch, and frames other ports send it are delivered
 *    locally instead of being lost on a non-reflecting wire.
 *  - isolated ports never deliver to isolated ports.
 *
 * Why tc and not XDP here: containers hand us GSO super-packets with partial
 * checksums; an XDP redirect would lose both (docs/architecture.md).
 */
#ifndef VNET_BPF_PORT_H
#define VNET_BPF_PORT_H

#include <linux/pkt_cls.h>
#include "ctx.h"
#include "eth.h"
#include "deliver.h"
#include "flood.h"
#include "ipvlan_port.h"
#include "l3.h"

/* Anti-spoofing: the Ethernet source, and an ARP sender's hardware address,
 * must be the port's own MAC. */
static __always_inline int vnet_spoofed(const struct vnet_frame *frame, void *data, void *data_end,
				       const struct vnet_port *port)
{
	struct vnet_arp_eth *arp;

	if (!vnet_mac_equal(frame->eth->h_source, port->mac))
		return 1;
	if (frame->proto != ETH_P_ARP)
		return 0;
	arp = data + frame->l3_offset;
	if ((void *)(arp + 1) > data_end || arp->hln != 6)
		return 0; /* not an Ethernet/IPv4 ARP we can read: not a claim */
	return !vnet_mac_equal(arp->sha, port->mac);
}

static __always_inline int vnet_port_tc_rx(struct __sk_buff *skb)
{
	struct vnet_config *cfg = vnet_get_config();
	__u32 ifindex = skb->ingress_ifindex;
	struct vnet_mac_entry *dst;
	struct vnet_frame frame;
	struct vnet_mac_key key;
	struct vnet_port *port;
	void *data, *data_end;
	int host, hairpin, err;

	port = bpf_map_lookup_elem(&vnet_ports, &ifindex);
	if (!cfg || !port)
		return vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_NOT_A_PORT, TC_ACT_SHOT);
	vnet_skb_window(skb, &data, &data_end);
	err = vnet_parse_l2(data, data_end, &frame);
	if (err >= 0)
		return vnet_drop(port->slot, err, TC_ACT_SHOT);
	vnet_count_rx(port->slot, skb->len);

	if ((port->flags & VNET_PORT_F_SPOOFCHK) && vnet_spoofed(&frame, data, data_end, port))
		return vnet_drop(port->slot, VNET_DROP_SPOOFED_SRC, TC_ACT_SHOT);
	if (cfg->flags & VNET_FABRIC_F_DEFUNCT)
		return vnet_drop(port->slot, VNET_DROP_DEFUNCT, TC_ACT_SHOT);
	if (cfg->flags & VNET_FABRIC_F_UPLINK_DOWN)
		return vnet_drop(port->slot, VNET_DROP_UPLINK_DOWN, TC_ACT_SHOT);

	if (port->mode == VNET_MODE_IPVLAN)
		return vnet_ipvlan_port_tc(skb, cfg, port, ifindex);

	host = (cfg->flags & VNET_FABRIC_F_HOST) && port->mode != VNET_MODE_PRIVATE;
	hairpin = port->flags & VNET_PORT_F_HAIRPIN;

	if (vnet_mac_is_group(frame.eth->h_dest)) {
		__u8 isolated = port->flags & VNET_PORT_F_ISOLATED;

		if (port->mode == VNET_MODE_BRIDGE)
			vnet_flood_copies(skb, cfg, VNET_MODE_BRIDGE, ifindex, isolated);
		/* The reflection reaches every port the rules allow (and the
		 * host, unless `host on` gives it its own copy below); without
		 * one, hairpin receivers still get what a reflecting switch
		 * would send them. */
		if (hairpin)
			vnet_copy_to_uplink_ingress(skb, cfg, 0);
		else if (cfg->flags & VNET_FABRIC_F_HAS_HAIRPIN)
			vnet_flood_only(skb, cfg, vnet_reflected_modes(port->mode), ifindex, isolated,
					VNET_PORT_F_HAIRPIN);
		if (host)
			vnet_copy_to_uplink_ingress(skb, cfg, 1);
		return vnet_to_uplink(skb, cfg);
	}

	if (vnet_mac_equal(frame.eth->h_dest, cfg->uplink_mac)) {
		if (host || hairpin)
			return vnet_to_uplink_ingress(skb, cfg, !hairpin);
		return vnet_to_uplink(skb, cfg);
	}
	key = vnet_mac_key_of(frame.eth->h_dest);
	dst = bpf_map_lookup_elem(&vnet_macs, &key);
	if (!dst)
		return vnet_to_uplink(skb, cfg);
	if ((dst->flags & VNET_PORT_F_ISOLATED) && (port->flags & VNET_PORT_F_ISOLATED))
		return vnet_drop(port->slot, VNET_DROP_ISOLATED, TC_ACT_SHOT);
	if ((port->mode == VNET_MODE_BRIDGE && dst->mode == VNET_MODE_BRIDGE) ||
	    ((hairpin || (dst->flags & VNET_PORT_F_HAIRPIN)) && dst->mode != VNET_MODE_SOURCE))
		return vnet_deliver_local(skb, dst);
	return vnet_to_uplink(skb, cfg);
}

#endif
