/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: frames arriving on the uplink (spec, "From the uplink"): from the
 * wire, or handed in by vnet itself (a hairpin port's reflection; a frame for
 * the host stack marked VNET_SKB_MARK_TO_HOST). Two stages share this file:
 *  - vnet_wire_xdp(): the fast path. Unicast to a port that can take XDP
 *    frames is redirected through the devmap; unknown unicast is dropped under
 *    `unknown drop`; malformed frames are dropped. Everything else is passed.
 *  - vnet_wire_tc(): the skb path for what XDP passed: source-mode copies,
 *    group frames flooded by the sender/receiver mode rules, unicast to ports
 *    XDP could not reach, and what is the host stack's stays with it. Where no
 *    XDP program is attached (a veth uplink) it also counts, checks and drops
 *    as the XDP stage would.
 */
#ifndef VNET_BPF_WIRE_H
#define VNET_BPF_WIRE_H

#include <linux/pkt_cls.h>
#include "ctx.h"
#include "eth.h"
#include "flood.h"
#include "ipvlan_wire.h"
#include "isolation.h"
#include "mac_lookup.h"
#include "source.h"
#include "storm.h"
#include "tx_map.h"

/* Kernel macvlan hands a passthru port every unicast as its own
 * (PACKET_HOST), whatever its destination MAC; the port's veth peer would
 * drop one addressed to another MAC, so vnet writes the port's MAC into it. */
static __always_inline void vnet_passthru_own(struct ethhdr *eth, __u32 ifindex)
{
	struct vnet_port *port = bpf_map_lookup_elem(&vnet_ports, &ifindex);

	if (port && !vnet_mac_equal(eth->h_dest, port->mac))
		__builtin_memcpy(eth->h_dest, port->mac, 6);
}

/* Whether an isolated port sent this frame (through a reflecting switch, or
 * routed out by ipvlan l3), for the isolated port `receiver` (0: any).
 * Reads the L3 header when the sender is known only by its IP. */
static __always_inline int vnet_wire_isolated_sender(struct vnet_pkt *pkt, const struct vnet_config *cfg,
						     __u32 receiver)
{
	struct vnet_frame frame;

	if (vnet_pkt_frame_l3(pkt, &frame) >= 0)
		return 0;
	return vnet_isolated_sender_in(cfg, pkt->data, pkt->data_end, &frame, receiver);
}

/* Where a unicast frame from the wire goes, decided once for both stages
 * (`dst` is the destination MAC's entry, looked up by the caller: XDP goes
 * through the front cache). `unknown_drop`: whether this stage enforces
 * `unknown drop` (tc only for what XDP could not see). Returns
 * VNET_WIRE_DELIVER with *to filled, VNET_WIRE_STACK (the host stack's, or
 * nobody's under `unknown flood`), or the drop reason. */
#define VNET_WIRE_DELIVER (-1)
#define VNET_WIRE_STACK (-2)

struct vnet_wire_to {
	__u32 ifindex;
	__u16 slot;
	__u8 flags; /* the receiver's VNET_PORT_F_* */
};

static __always_inline int vnet_wire_unicast(struct vnet_pkt *pkt, const struct vnet_config *cfg,
					     struct ethhdr *eth, const struct vnet_mac_entry *dst, int unknown_drop,
					     struct vnet_wire_to *to)
{
	if (cfg->passthru_ifindex) {
		vnet_passthru_own(eth, cfg->passthru_ifindex);
		to->ifindex = cfg->passthru_ifindex;
		to->slot = cfg->passthru_slot;
		/* The passthru port is reached by a plain redirect. */
		to->flags = cfg->passthru_flags & ~VNET_PORT_F_PEER_NETNS;
		return VNET_WIRE_DELIVER;
	}
	if (!dst) {
		if (unknown_drop && cfg->unknown_policy == VNET_UNKNOWN_DROP && !vnet_mac_equal(eth->h_dest, cfg->uplink_mac))
			return VNET_DROP_UNKNOWN_DST;
		return VNET_WIRE_STACK;
	}
	/* A source-mode port's own MAC belongs to the host stack (kernel rule). */
	if (dst->mode == VNET_MODE_SOURCE)
		return VNET_WIRE_STACK;
	to->ifindex = dst->ifindex;
	to->slot = dst->slot;
	to->flags = dst->flags;
	if ((to->flags & VNET_PORT_F_ISOLATED) && vnet_wire_isolated_sender(pkt, cfg, to->ifindex))
		return VNET_DROP_ISOLATED;
	return VNET_WIRE_DELIVER;
}

static __always_inline int vnet_wire_xdp(struct xdp_md *ctx)
{
	void *data = vnet_xdp_data(ctx), *data_end = vnet_xdp_end(ctx);
	struct vnet_pkt pkt = {.skb = 0, .data = data, .data_end = data_end};
	struct vnet_config *cfg = vnet_get_config();
	const struct vnet_mac_entry *dst;
	struct vnet_mac_entry front;
	struct vnet_wire_to to = {};
	struct vnet_frame frame;
	__u64 bytes = data_end - data;
	int err;

	if (!cfg || (cfg->flags & VNET_FABRIC_F_DEFUNCT))
		return XDP_PASS;
	err = vnet_parse_l2(data, data_end, &frame);
	if (err >= 0)
		return vnet_drop(VNET_UPLINK_SLOT, err, XDP_DROP);
	vnet_count_rx(VNET_UPLINK_SLOT, bytes);

	/* Group frames and source-mode copies need clones: the tc stage. */
	if (vnet_mac_is_group(frame.eth->h_dest) ||
	    ((cfg->flags & VNET_FABRIC_F_HAS_SOURCES) && vnet_source_lookup(cfg, frame.eth->h_source)))
		return XDP_PASS;

	/* IP-demux ports share the uplink's MAC. */
	if ((cfg->flags & VNET_FABRIC_F_HAS_IP_PORTS) && vnet_mac_equal(frame.eth->h_dest, cfg->uplink_mac))
		return vnet_ipvlan_wire_xdp(data, data_end, cfg, &frame, bytes);

	dst = cfg->passthru_ifindex ? 0 : vnet_mac_find(frame.eth->h_dest, &front);
	/* Dropped here whichever path delivers to ports. */
	err = vnet_wire_unicast(&pkt, cfg, frame.eth, dst, 1, &to);
	if (err >= 0)
		return vnet_drop(VNET_UPLINK_SLOT, err, XDP_DROP);
	if (err == VNET_WIRE_STACK || !(to.flags & VNET_PORT_F_XDP_TARGET) ||
	    (cfg->flags & VNET_FABRIC_F_NO_XDP_REDIRECT))
		return XDP_PASS;
	err = bpf_redirect_map(&vnet_tx, to.ifindex, 0);
	if (err == XDP_REDIRECT)
		vnet_count_tx(to.slot, bytes);
	else
		vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_REDIRECT_FAILED, 0);
	return err;
}

/* Group frame on the uplink: who gets a copy depends on who sent it. */
static __always_inline int vnet_wire_flood(struct __sk_buff *skb, const struct vnet_config *cfg,
					   const struct ethhdr *eth, __u8 ip_modes)
{
	struct vnet_pkt pkt = {.skb = skb};
	struct vnet_mac_key key = vnet_mac_key_of(eth->h_source);
	struct vnet_mac_entry *src = bpf_map_lookup_elem(&vnet_macs, &key);
	int from_uplink_mac;
	__u8 modes;

	if (!src) {
		from_uplink_mac = vnet_mac_equal(eth->h_source, cfg->uplink_mac);
		/* With `host on` the ports already have the host's own group
		 * frames; a reflecting switch must not deliver them twice. */
		if ((cfg->flags & VNET_FABRIC_F_HOST) && from_uplink_mac)
			return TC_ACT_OK;
		/* Only here: a local port's frame, reflected, was charged when
		 * the port sent it. Held back, it reaches neither the ports nor
		 * the host stack. */
		if (vnet_storm_from_wire() >= 0)
			return vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_STORM, TC_ACT_SHOT);
		/* The uplink's MAC may also be an IP-demux port's reflected
		 * frame: an isolated one reaches no isolated MAC port. */
		vnet_flood_copies(skb, cfg, VNET_FLOOD_FROM_WIRE | ip_modes, 0,
				  from_uplink_mac && (cfg->flags & VNET_FABRIC_F_HAS_IP_PORTS) &&
					  vnet_wire_isolated_sender(&pkt, cfg, 0));
		return TC_ACT_OK;
	}
	if (src->mode != VNET_MODE_VEPA && src->mode != VNET_MODE_BRIDGE) {
		/* A private/passthru port's own group frame, reflected by the
		 * switch: it goes back to that port alone, not the host stack. */
		vnet_count_tx(src->slot, skb->len);
		return bpf_redirect(src->ifindex, 0);
	}
	/* IP-demux ports meet MAC-demux ports on the wire: a reflection of a
	 * vepa or bridge port's group frame reaches them too. */
	modes = vnet_reflected_modes(src->mode);
	if (src->mode == VNET_MODE_VEPA || src->mode == VNET_MODE_BRIDGE)
		modes |= ip_modes;
	vnet_flood_copies(skb, cfg, modes, src->ifindex, src->flags & VNET_PORT_F_ISOLATED);
	/* With `host on` the host got its copy straight from the port. */
	if (cfg->flags & VNET_FABRIC_F_HOST)
		return vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_REFLECTED, TC_ACT_SHOT);
	return TC_ACT_OK;
}

static __always_inline int vnet_wire_tc(struct __sk_buff *skb)
{
	struct vnet_pkt pkt = {.skb = skb};
	struct vnet_config *cfg = vnet_get_config();
	struct vnet_source_entry *sources;
	struct vnet_wire_to to = {};
	struct vnet_mac_entry *dst;
	struct vnet_frame frame;
	struct vnet_mac_key key;
	void *data, *data_end;
	__u8 flood_ip = 0;
	int no_xdp, err;

	if (skb->mark == VNET_SKB_MARK_TO_HOST) {
		/* A port's frame for the host stack (`host on`): deliver it as is. */
		skb->mark = 0;
		return TC_ACT_OK;
	}
	if (!cfg || (cfg->flags & VNET_FABRIC_F_DEFUNCT))
		return TC_ACT_OK;
	no_xdp = cfg->flags & VNET_FABRIC_F_NO_XDP;
	err = vnet_skb_frame(skb, &data, &data_end, &frame);
	if (err >= 0) /* XDP, when attached, has counted and dropped it already */
		return no_xdp ? vnet_drop(VNET_UPLINK_SLOT, err, TC_ACT_SHOT) : TC_ACT_OK;
	if (no_xdp)
		vnet_count_rx(VNET_UPLINK_SLOT, skb->len);

	sources = vnet_source_lookup(cfg, frame.eth->h_source);
	if (sources && vnet_source_copies(skb, sources))
		return vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_SOURCE_NODST, TC_ACT_SHOT);
	/* The clones may have moved the packet: reload the header. */
	if (vnet_skb_frame(skb, &data, &data_end, &frame) >= 0)
		return TC_ACT_OK;

	if (cfg->flags & VNET_FABRIC_F_HAS_IP_PORTS) {
		err = vnet_ipvlan_wire_tc(skb, cfg, &flood_ip);
		if (err != VNET_IPV_CONTINUE)
			return err;
		if (vnet_skb_frame(skb, &data, &data_end, &frame) >= 0)
			return TC_ACT_OK;
	}
	if (vnet_mac_is_group(frame.eth->h_dest))
		return vnet_wire_flood(skb, cfg, frame.eth, flood_ip ? VNET_MODE_IPVLAN : 0);

	dst = 0;
	if (!cfg->passthru_ifindex) {
		key = vnet_mac_key_of(frame.eth->h_dest);
		dst = bpf_map_lookup_elem(&vnet_macs, &key);
	}
	/* XDP drops unknown unicast itself, except what it passed for the
	 * source-mode copies: that is dropped here, after them. */
	err = vnet_wire_unicast(&pkt, cfg, frame.eth, dst, no_xdp || sources, &to);
	if (err >= 0)
		return vnet_drop(VNET_UPLINK_SLOT, err, TC_ACT_SHOT);
	if (err == VNET_WIRE_STACK)
		return TC_ACT_OK;
	vnet_count_tx(to.slot, skb->len);
	/* Straight into the container's netns: no second trip through the
	 * veth pair (docs/benchmarks.md measured the difference). */
	if (to.flags & VNET_PORT_F_PEER_NETNS)
		return bpf_redirect_peer(to.ifindex, 0);
	return bpf_redirect(to.ifindex, 0);
}

#endif
