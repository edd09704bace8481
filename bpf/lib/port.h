/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: frames a container or VM transmitted, seen at tc ingress of the
 * port's host end (spec, "From a port"). The sender is found by ifindex in
 * vnet_ports. Bridge-mode ports deliver to bridge siblings locally (unicast by
 * redirect_peer straight into the sibling's netns, group frames by clone);
 * everything else leaves through the uplink.
 *
 * Why tc and not XDP here: containers hand us GSO super-packets with partial
 * checksums; an XDP redirect would lose both (docs/architecture.md).
 */
#ifndef VNET_BPF_PORT_H
#define VNET_BPF_PORT_H

#include <linux/pkt_cls.h>
#include "ctx.h"
#include "eth.h"
#include "flood.h"

static __always_inline int vnet_deliver_local(struct __sk_buff *skb, const struct vnet_mac_entry *dst)
{
	vnet_count_tx(dst->slot, skb->len);
	if (dst->flags & VNET_PORT_F_PEER_NETNS)
		return bpf_redirect_peer(dst->ifindex, 0);
	return bpf_redirect(dst->ifindex, 0);
}

static __always_inline int vnet_to_uplink(struct __sk_buff *skb, const struct vnet_config *cfg)
{
	vnet_count_tx(VNET_UPLINK_SLOT, skb->len);
	return bpf_redirect(cfg->uplink_ifindex, 0);
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
	int err;

	port = bpf_map_lookup_elem(&vnet_ports, &ifindex);
	if (!cfg || !port)
		return vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_NOT_A_PORT, TC_ACT_SHOT);
	vnet_skb_window(skb, &data, &data_end);
	err = vnet_parse_l2(data, data_end, &frame);
	if (err >= 0)
		return vnet_drop(port->slot, err, TC_ACT_SHOT);
	vnet_count_rx(port->slot, skb->len);

	if ((port->flags & VNET_PORT_F_SPOOFCHK) && !vnet_mac_equal(frame.eth->h_source, port->mac))
		return vnet_drop(port->slot, VNET_DROP_SPOOFED_SRC, TC_ACT_SHOT);
	if (cfg->flags & VNET_FABRIC_F_DEFUNCT)
		return vnet_drop(port->slot, VNET_DROP_DEFUNCT, TC_ACT_SHOT);

	if (port->mode != VNET_MODE_BRIDGE)
		return vnet_to_uplink(skb, cfg);

	if (vnet_mac_is_group(frame.eth->h_dest)) {
		vnet_flood_copies(skb, cfg, VNET_MODE_BRIDGE, ifindex, 0);
		return vnet_to_uplink(skb, cfg);
	}
	key = vnet_mac_key_of(frame.eth->h_dest);
	dst = bpf_map_lookup_elem(&vnet_macs, &key);
	if (dst && dst->mode == VNET_MODE_BRIDGE)
		return vnet_deliver_local(skb, dst);
	return vnet_to_uplink(skb, cfg);
}

#endif
