/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: frames an IP-demux (ipvlan family) port transmitted, at tc
 * ingress of its host end (spec, "ipvlan family"). The port shares the
 * uplink's MAC, so the destination is found by IP:
 *  - l2: the port does its own ARP/ND. To the shared MAC: another port's
 *    address goes to that port (flag bridge), is dropped (private) or leaves
 *    through the uplink for a reflecting switch (vepa); any other address is
 *    the host's, as with ipvlan. Group frames reach the other ports (bridge),
 *    the host (`host on`) and the wire, except a Neighbour Solicitation,
 *    which goes to the port owning its target only, so DAD works.
 *  - l3/l3s: vnet answers the port's ARP and NS itself; group frames are
 *    dropped; another port's address as in l2; everything else is routed by
 *    the host's FIB out of the uplink (l3; what the FIB will not forward, a
 *    host address or no route, goes to the host stack), or handed to the host
 *    stack, which routes it through netfilter (l3s).
 * Anti-spoofing: every address the frame claims must be the port's
 * (claims.h).
 */
#ifndef VNET_BPF_IPVLAN_PORT_H
#define VNET_BPF_IPVLAN_PORT_H

#include <linux/pkt_cls.h>
#include "deliver.h"
#include "dhcp.h"
#include "eth.h"
#include "flood.h"
#include "storm.h"
#include "ip_owner.h"
#include "l3.h"
#include "claims.h"
#include "isolation.h"
#include "proxy.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif
#define VNET_PACKET_HOST 0

static __always_inline int vnet_ip6_link_local(const struct vnet_ip_key *key)
{
	return key->family == VNET_IP6 && key->addr[0] == 0xfe && (key->addr[1] & 0xc0) == 0x80;
}

/* ipvlan l3: out of the uplink as the host's FIB says (the lookup is done as
 * if the packet arrived on the port's host end, whose forwarding vnet turns
 * on; the uplink's own forwarding setting stays the operator's). */
static __always_inline int vnet_ipv_route_out(struct __sk_buff *skb, const struct vnet_config *cfg,
					      const struct vnet_l3 *l3, __u32 ifindex, __u16 slot)
{
	struct bpf_redir_neigh nh;
	struct bpf_fib_lookup fib;
	void *data, *data_end;
	struct ethhdr *eth;
	int rc;

	__builtin_memset(&fib, 0, sizeof(fib));
	__builtin_memset(&nh, 0, sizeof(nh));
	fib.ifindex = ifindex;
	fib.l4_protocol = l3->l4_proto;
	if (l3->dst.family == VNET_IP4) {
		fib.family = AF_INET;
		__builtin_memcpy(&fib.ipv4_src, l3->src.addr, 4);
		__builtin_memcpy(&fib.ipv4_dst, l3->dst.addr, 4);
	} else {
		fib.family = AF_INET6;
		__builtin_memcpy(fib.ipv6_src, l3->src.addr, 16);
		__builtin_memcpy(fib.ipv6_dst, l3->dst.addr, 16);
		if (vnet_ip6_link_local(&l3->dst)) {
			/* On-link by definition: resolve it on the uplink. */
			nh.nh_family = AF_INET6;
			__builtin_memcpy(nh.ipv6_nh, l3->dst.addr, 16);
			vnet_count_tx(VNET_UPLINK_SLOT, skb->len);
			return bpf_redirect_neigh(cfg->uplink_ifindex, &nh, sizeof(nh), 0);
		}
	}
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_NOT_FWDED) {
		/* The FIB will not forward it: a local address (the host's) or
		 * no route at all; the helper cannot tell which. The host stack
		 * delivers the one and drops the other, as it does for ipvlan l3,
		 * whose egress is the host's routing. */
		vnet_skb_window(skb, &data, &data_end);
		eth = data;
		if ((void *)(eth + 1) > data_end)
			return vnet_drop(slot, VNET_DROP_TRUNCATED_ETH, TC_ACT_SHOT);
		__builtin_memcpy(eth->h_dest, cfg->uplink_mac, 6);
		return vnet_to_uplink_ingress(skb, cfg, 1);
	}
	if (rc == BPF_FIB_LKUP_RET_FWD_DISABLED) {
		/* Forwarding is off on the host end (vnet could not turn it
		 * on): the kernel still routes it, without the fast path. */
		vnet_count_tx(VNET_UPLINK_SLOT, skb->len);
		return bpf_redirect_neigh(cfg->uplink_ifindex, 0, 0, 0);
	}
	if ((rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) || fib.ifindex != cfg->uplink_ifindex)
		return vnet_drop(slot, VNET_DROP_NO_ROUTE, TC_ACT_SHOT);
	vnet_count_tx(VNET_UPLINK_SLOT, skb->len);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		nh.nh_family = fib.family;
		if (fib.family == AF_INET)
			nh.ipv4_nh = fib.ipv4_dst;
		else
			__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, 16);
		return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
	}
	vnet_skb_window(skb, &data, &data_end);
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return vnet_drop(slot, VNET_DROP_TRUNCATED_ETH, TC_ACT_SHOT);
	__builtin_memcpy(eth->h_dest, fib.dmac, 6);
	__builtin_memcpy(eth->h_source, fib.smac, 6);
	return bpf_redirect(fib.ifindex, 0);
}

/* A port's frame for another port's address. */
static __always_inline int vnet_ipv_to_sibling(struct __sk_buff *skb, const struct vnet_config *cfg,
					       const struct vnet_port *port, const struct vnet_ip_entry *dst)
{
	struct vnet_ip_entry to = *dst;

	if ((to.flags & VNET_PORT_F_ISOLATED) && (port->flags & VNET_PORT_F_ISOLATED))
		return vnet_drop(port->slot, VNET_DROP_ISOLATED, TC_ACT_SHOT);
	if (cfg->ipvlan_flags == VNET_IPVLAN_F_PRIVATE)
		return vnet_drop(port->slot, VNET_DROP_PRIVATE, TC_ACT_SHOT);
	if (cfg->ipvlan_flags == VNET_IPVLAN_F_VEPA)
		return vnet_to_uplink(skb, cfg); /* a reflecting switch brings it back */
	return vnet_deliver_ip_port(skb, &to);
}

/* l3/l3s: vnet is the port's only neighbour and answers for everyone but the
 * port itself (answering its own address would fail its DAD). */
static __always_inline int vnet_ipv_answer_port(struct __sk_buff *skb, const struct vnet_config *cfg,
						const struct vnet_port *port, const struct vnet_l3 *l3,
						const struct vnet_frame *frame, __u32 ifindex)
{
	struct vnet_ip_entry *owner;
	int err;

	if (l3->kind == VNET_L3_ARP && l3->arp_op != VNET_ARP_REQUEST)
		return vnet_drop(port->slot, VNET_DROP_L3_GROUP, TC_ACT_SHOT);
	owner = vnet_ip_owner(cfg, &l3->dst);
	if (owner && owner->ifindex == ifindex)
		return vnet_drop(port->slot, VNET_DROP_L3_GROUP, TC_ACT_SHOT);
	err = vnet_answer_question(skb, l3, frame->l3_offset, cfg->uplink_mac);
	if (err)
		return vnet_drop(port->slot, VNET_DROP_TRUNCATED_L3, TC_ACT_SHOT);
	vnet_count_tx(port->slot, skb->len);
	return bpf_redirect(ifindex, 0);
}

static __always_inline int vnet_ipvlan_port_l2(struct __sk_buff *skb, const struct vnet_config *cfg,
					       const struct vnet_port *port, const struct vnet_l3 *l3,
					       const struct vnet_frame *frame, __u32 ifindex)
{
	struct vnet_ip_entry *owner;
	int err;

	if (vnet_mac_is_group(frame->eth->h_dest)) {
		err = vnet_storm_from_port(port->slot);
		if (err >= 0)
			return vnet_drop(port->slot, err, TC_ACT_SHOT);
		if (l3->kind == VNET_L3_NS) {
			owner = vnet_ip_owner(cfg, &l3->dst);
			if (owner && owner->ifindex != ifindex)
				return vnet_ipv_to_sibling(skb, cfg, port, owner);
		} else if (cfg->ipvlan_flags == VNET_IPVLAN_F_BRIDGE) {
			vnet_flood_copies(skb, cfg, VNET_MODE_IPVLAN, ifindex, port->flags & VNET_PORT_F_ISOLATED);
		}
		if (cfg->flags & VNET_FABRIC_F_HOST)
			vnet_copy_to_uplink_ingress(skb, cfg, 1);
		return vnet_to_uplink(skb, cfg);
	}
	if (!vnet_mac_equal(frame->eth->h_dest, cfg->uplink_mac)) {
		/* A MAC-demux port's, reached through the wire: isolation holds
		 * there too (a reflecting switch would bring it back). */
		if (vnet_isolated_mac_dst(port->flags, frame->eth->h_dest))
			return vnet_drop(port->slot, VNET_DROP_ISOLATED, TC_ACT_SHOT);
		return vnet_to_uplink(skb, cfg);
	}
	if (l3->kind != VNET_L3_NONE) {
		owner = vnet_ip_owner(cfg, &l3->dst);
		if (owner && owner->ifindex != ifindex)
			return vnet_ipv_to_sibling(skb, cfg, port, owner);
	}
	/* The shared MAC and no port's address: the host's, as with ipvlan. */
	return vnet_to_uplink_ingress(skb, cfg, 1);
}

static __always_inline int vnet_ipvlan_port_tc(struct __sk_buff *skb, const struct vnet_config *cfg,
					       const struct vnet_port *port, __u32 ifindex)
{
	struct vnet_ip_entry *owner;
	struct vnet_frame frame;
	void *data, *data_end;
	struct vnet_l3 l3;
	int err;

	err = vnet_skb_parse_l3(skb, &data, &data_end, &frame, &l3);
	if (err >= 0)
		return vnet_drop(port->slot, err, TC_ACT_SHOT);
	if (port->flags & VNET_PORT_F_SPOOFCHK) {
		err = vnet_claims_check(skb, cfg, port, ifindex, &l3);
		if (err >= 0)
			return vnet_drop(port->slot, err, TC_ACT_SHOT);
	}

	if (cfg->ipvlan_mode == VNET_IPVLAN_L2) {
		if (l3.kind == VNET_L3_DHCP_REQUEST && vnet_dhcp_remember(&l3, port, ifindex))
			return vnet_drop(port->slot, VNET_DROP_DHCP, TC_ACT_SHOT);
		return vnet_ipvlan_port_l2(skb, cfg, port, &l3, &frame, ifindex);
	}

	if (l3.kind == VNET_L3_ARP || l3.kind == VNET_L3_NS)
		return vnet_ipv_answer_port(skb, cfg, port, &l3, &frame, ifindex);
	if (l3.kind == VNET_L3_NONE || vnet_mac_is_group(frame.eth->h_dest))
		return vnet_drop(port->slot, VNET_DROP_L3_GROUP, TC_ACT_SHOT);
	owner = vnet_ip_owner(cfg, &l3.dst);
	if (owner && owner->ifindex != ifindex)
		return vnet_ipv_to_sibling(skb, cfg, port, owner);
	if (cfg->ipvlan_mode == VNET_IPVLAN_L3S) {
		/* Routed by the host stack (ip_forward on the host end), so
		 * its netfilter and conntrack see the flow. */
		bpf_skb_change_type(skb, VNET_PACKET_HOST);
		return TC_ACT_OK;
	}
	return vnet_ipv_route_out(skb, cfg, &l3, ifindex, port->slot);
}

#endif
