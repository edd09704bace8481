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
#include "claims.h"
#include "isolation.h"
#include "l3.h"
#include "storm.h"

/* Anti-spoofing by MAC: the Ethernet source, and an ARP's sender hardware
 * address, must be the port's own. The ARP body is read with loads, not
 * from the linear head, which may hold only the Ethernet header (a frame
 * sent through a PACKET_TX_RING). Any ARP with 6-byte hardware addresses is
 * checked, whatever its hardware type (the host's arp_process accepts
 * IEEE 802 as well as Ethernet); one too short to show its sender is
 * refused. Whether a port may send ARP other than Ethernet/IPv4 at all is
 * an IP claim (claims.h). Returns -1 or the drop reason. */
static __always_inline int vnet_mac_spoofed(struct __sk_buff *skb, const struct vnet_frame *frame,
					    const struct vnet_port *port)
{
	struct vnet_arp_eth arp;

	if (!vnet_mac_equal(frame->eth->h_source, port->mac))
		return VNET_DROP_SPOOFED_SRC;
	if (frame->proto != ETH_P_ARP)
		return -1;
	if (bpf_skb_load_bytes(skb, frame->l3_offset, &arp, 8))
		return VNET_DROP_SPOOFED_SRC;
	if (arp.hln != 6)
		return -1; /* the host's arp_rcv drops it on an Ethernet device */
	if (bpf_skb_load_bytes(skb, frame->l3_offset + 8, arp.sha, 6) || !vnet_mac_equal(arp.sha, port->mac))
		return VNET_DROP_SPOOFED_SRC;
	return -1;
}

/* What needs the L3 header of a MAC-demux port's frame: --allow-ip, and an
 * isolated port's frame for the uplink's MAC (an IP-demux port's, maybe).
 * Returns -1 or the drop reason. */
static __always_inline int vnet_mac_port_l3_checks(struct __sk_buff *skb, const struct vnet_config *cfg,
						   const struct vnet_port *port, __u32 ifindex)
{
	struct vnet_frame frame;
	void *data, *data_end;
	struct vnet_l3 l3;
	int err;

	err = vnet_skb_parse_l3(skb, &data, &data_end, &frame, &l3);
	if (err >= 0)
		return err;
	if (port->flags & VNET_PORT_F_ALLOW_IP) {
		err = vnet_claims_check(skb, cfg, port, ifindex, &l3);
		if (err >= 0)
			return err;
	}
	if (l3.kind != VNET_L3_NONE && !vnet_mac_is_group(frame.eth->h_dest) &&
	    vnet_mac_equal(frame.eth->h_dest, cfg->uplink_mac) && vnet_isolated_ip_dst(cfg, port->flags, &l3.dst))
		return VNET_DROP_ISOLATED;
	return -1;
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
	err = vnet_skb_frame(skb, &data, &data_end, &frame);
	if (err >= 0)
		return vnet_drop(port->slot, err, TC_ACT_SHOT);
	vnet_count_rx(port->slot, skb->len);

	if (port->flags & VNET_PORT_F_SPOOFCHK) {
		err = vnet_mac_spoofed(skb, &frame, port);
		if (err >= 0)
			return vnet_drop(port->slot, err, TC_ACT_SHOT);
	}
	if (cfg->flags & VNET_FABRIC_F_DEFUNCT)
		return vnet_drop(port->slot, VNET_DROP_DEFUNCT, TC_ACT_SHOT);
	if (cfg->flags & VNET_FABRIC_F_UPLINK_DOWN)
		return vnet_drop(port->slot, VNET_DROP_UPLINK_DOWN, TC_ACT_SHOT);

	if (port->mode == VNET_MODE_IPVLAN)
		return vnet_ipvlan_port_tc(skb, cfg, port, ifindex);

	if ((port->flags & VNET_PORT_F_ALLOW_IP) ||
	    ((port->flags & VNET_PORT_F_ISOLATED) && (cfg->flags & VNET_FABRIC_F_HAS_IP_PORTS) &&
	     vnet_mac_equal(frame.eth->h_dest, cfg->uplink_mac))) {
		err = vnet_mac_port_l3_checks(skb, cfg, port, ifindex);
		if (err >= 0)
			return vnet_drop(port->slot, err, TC_ACT_SHOT);
		/* The pull moved the packet: the frame is read again. */
		if (vnet_skb_frame(skb, &data, &data_end, &frame) >= 0)
			return vnet_drop(port->slot, VNET_DROP_TRUNCATED_ETH, TC_ACT_SHOT);
	}

	host = (cfg->flags & VNET_FABRIC_F_HOST) && port->mode != VNET_MODE_PRIVATE;
	hairpin = port->flags & VNET_PORT_F_HAIRPIN;

	if (vnet_mac_is_group(frame.eth->h_dest)) {
		__u8 isolated = port->flags & VNET_PORT_F_ISOLATED;

		err = vnet_storm_from_port(port->slot);
		if (err >= 0)
			return vnet_drop(port->slot, err, TC_ACT_SHOT);
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
