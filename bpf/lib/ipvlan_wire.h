/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: frames from the wire for the fabric's IP-demux ports (spec,
 * "ipvlan family"). They share the uplink's MAC, so unicast to that MAC is
 * demultiplexed by IP: the IPv4/IPv6 destination, an ARP's target IP, an NS's
 * target address; a DHCP reply by its transaction id (dhcp.h). What no port owns is
 * the host's. l2 ports also get broadcasts and multicasts (an NS only when
 * it asks for their address); in l3/l3s vnet answers ARP and NS for port
 * addresses itself, and l3s hands port traffic to the host stack, which routes
 * it to the port through netfilter.
 *  - vnet_ipvlan_wire_xdp(): the fast path, unicast IP to a port.
 *  - vnet_ipvlan_wire_tc(): everything else. Returns a verdict, or
 *    VNET_IPV_CONTINUE when the MAC path should go on with the frame;
 *    *flood_ip then says whether group frames reach the IP ports too.
 */
#ifndef VNET_BPF_IPVLAN_WIRE_H
#define VNET_BPF_IPVLAN_WIRE_H

#include <linux/pkt_cls.h>
#include "deliver.h"
#include "dhcp.h"
#include "eth.h"
#include "ip_owner.h"
#include "isolation.h"
#include "l3.h"
#include "proxy.h"
#include "tx_map.h"

#define VNET_IPV_CONTINUE (-1)

static __always_inline int vnet_ipvlan_wire_xdp(void *data, void *data_end, const struct vnet_config *cfg,
						const struct vnet_frame *frame, __u64 bytes)
{
	struct vnet_ip_entry *owner;
	struct vnet_l3 l3;
	int err;

	err = vnet_parse_l3(data, data_end, frame, &l3);
	if (err >= 0)
		return vnet_drop(VNET_UPLINK_SLOT, err, XDP_DROP);
	if (l3.kind != VNET_L3_IP || cfg->ipvlan_mode == VNET_IPVLAN_L3S ||
	    (cfg->flags & VNET_FABRIC_F_NO_XDP_REDIRECT))
		return XDP_PASS;
	owner = vnet_ip_owner(cfg, &l3.dst);
	if (!owner || !(owner->flags & VNET_PORT_F_XDP_TARGET))
		return XDP_PASS;
	if ((owner->flags & VNET_PORT_F_ISOLATED) && vnet_isolated_sender(cfg, frame->eth->h_source, &l3, owner->ifindex))
		return vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_ISOLATED, XDP_DROP);
	err = bpf_redirect_map(&vnet_tx, owner->ifindex, 0);
	if (err == XDP_REDIRECT)
		vnet_count_tx(owner->slot, bytes);
	else
		vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_REDIRECT_FAILED, 0);
	return err;
}

/* l3/l3s: the uplink answers for the port's address. */
static __always_inline int vnet_ipv_answer_wire(struct __sk_buff *skb, const struct vnet_config *cfg,
						const struct vnet_l3 *l3, const struct vnet_frame *frame)
{
	int err;

	if (l3->kind == VNET_L3_ARP)
		err = vnet_answer_arp(skb, frame->l3_offset, cfg->uplink_mac);
	else
		err = vnet_answer_ns(skb, frame->l3_offset, cfg->uplink_mac, l3->dst.addr);
	if (err)
		return vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_TRUNCATED_L3, TC_ACT_SHOT);
	vnet_count_tx(VNET_UPLINK_SLOT, skb->len);
	return bpf_redirect(cfg->uplink_ifindex, 0);
}

static __always_inline int vnet_ipv_is_question(const struct vnet_l3 *l3)
{
	return l3->kind == VNET_L3_NS || (l3->kind == VNET_L3_ARP && l3->arp_op == VNET_ARP_REQUEST);
}

static __always_inline int vnet_ipvlan_wire_tc(struct __sk_buff *skb, const struct vnet_config *cfg, __u8 *flood_ip)
{
	int l2 = cfg->ipvlan_mode == VNET_IPVLAN_L2;
	struct vnet_ip_entry *owner, to;
	struct vnet_frame frame;
	void *data, *data_end;
	struct vnet_l3 l3;
	int err;

	*flood_ip = 0;
	vnet_skb_window(skb, &data, &data_end);
	if (vnet_parse_l2(data, data_end, &frame) >= 0)
		return VNET_IPV_CONTINUE;
	if (vnet_mac_is_group(frame.eth->h_dest)) {
		/* The fabric's own (or the host's) group frames, reflected by
		 * the switch: IP ports had them already. */
		if (vnet_mac_equal(frame.eth->h_source, cfg->uplink_mac))
			return VNET_IPV_CONTINUE;
	} else if (!vnet_mac_equal(frame.eth->h_dest, cfg->uplink_mac)) {
		return VNET_IPV_CONTINUE; /* a MAC-demux port's, or nobody's */
	}
	/* Only frames IP demux may concern pay for the L3 pull. */
	vnet_skb_window_l3(skb, &data, &data_end);
	if (vnet_parse_l2(data, data_end, &frame) >= 0)
		return VNET_IPV_CONTINUE;
	err = vnet_parse_l3(data, data_end, &frame, &l3);
	if (err >= 0)
		return vnet_drop(VNET_UPLINK_SLOT, err, TC_ACT_SHOT);

	if (l3.kind == VNET_L3_DHCP_REPLY && l2) {
		err = vnet_dhcp_reply(skb, cfg, frame.eth, &l3, &to);
		if (err == VNET_DHCP_DELIVER)
			return vnet_deliver_ip_port(skb, &to);
		if (err == VNET_DHCP_REFUSED)
			return TC_ACT_SHOT; /* counted */
	}
	if (vnet_mac_is_group(frame.eth->h_dest)) {
		if (vnet_ipv_is_question(&l3) && (l3.kind == VNET_L3_NS || !l2)) {
			owner = vnet_ip_owner(cfg, &l3.dst);
			if (!owner)
				return VNET_IPV_CONTINUE;
			if (!l2)
				return vnet_ipv_answer_wire(skb, cfg, &l3, &frame);
			to = *owner;
			if ((to.flags & VNET_PORT_F_ISOLATED) && vnet_isolated_sender(cfg, frame.eth->h_source, &l3, to.ifindex))
				return vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_ISOLATED, TC_ACT_SHOT);
			return vnet_deliver_ip_port(skb, &to); /* the NS's owner only */
		}
		*flood_ip = l2;
		return VNET_IPV_CONTINUE;
	}

	if (l3.kind == VNET_L3_NONE)
		return TC_ACT_OK;
	owner = vnet_ip_owner(cfg, &l3.dst);
	if (!owner)
		return TC_ACT_OK; /* the host's */
	if (!l2) {
		if (vnet_ipv_is_question(&l3))
			return vnet_ipv_answer_wire(skb, cfg, &l3, &frame);
		/* l3s: the host routes it to the port, through netfilter. An
		 * ARP reply (ports ask nothing in l3) answers the host. */
		if (l3.kind == VNET_L3_ARP || cfg->ipvlan_mode == VNET_IPVLAN_L3S)
			return TC_ACT_OK;
	}
	to = *owner;
	if ((to.flags & VNET_PORT_F_ISOLATED) && vnet_isolated_sender(cfg, frame.eth->h_source, &l3, to.ifindex))
		return vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_ISOLATED, TC_ACT_SHOT);
	return vnet_deliver_ip_port(skb, &to);
}

#endif
