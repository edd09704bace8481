/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: copy an skb to every flood-list port whose mode is in `modes`,
 * except `exclude_ifindex` (and isolated ports for an isolated sender, and
 * ports without `require_flags`), with bpf_clone_redirect (tc only). The flood list
 * is the one value of vnet_flood, replaced whole by libvnet (abi.h). The original
 * skb is left to the caller (host stack copy, uplink, or drop).
 *
 * Why tc and not a devmap broadcast in XDP: the spec wants the host stack to
 * get its copy too, and an XDP program cannot both broadcast-redirect and pass.
 * Each copy goes into its port's own veth ring, not the shared per-CPU
 * backlog, because port add leaves the host end without TSO (see
 * docs/architecture.md, "Flooding").
 */
#ifndef VNET_BPF_FLOOD_H
#define VNET_BPF_FLOOD_H

#include <linux/pkt_cls.h>
#include "stats.h"

/* A group frame from outside the fabric reaches every mode but source. */
#define VNET_FLOOD_FROM_WIRE (VNET_MODE_PRIVATE | VNET_MODE_VEPA | VNET_MODE_PASSTHRU | VNET_MODE_BRIDGE)

struct vnet_flood_ctx {
	struct __sk_buff *skb;
	const struct vnet_flood_list *list;
	__u32 exclude_ifindex;
	__u8 modes;
	__u8 skip_isolated; /* sender is isolated: skip isolated receivers */
	__u8 require_flags; /* only receivers with all these port flags */
};

static long vnet_flood_one(__u32 index, void *data)
{
	struct vnet_flood_ctx *ctx = data;
	const struct vnet_flood_entry *entry;

	if (index >= VNET_MAX_PORTS)
		return 1;
	entry = &ctx->list->entries[index];
	if (!entry->ifindex)
		return 0;
	if (!(entry->mode & ctx->modes) || entry->ifindex == ctx->exclude_ifindex)
		return 0;
	if (ctx->skip_isolated && (entry->flags & VNET_PORT_F_ISOLATED))
		return 0;
	if ((entry->flags & ctx->require_flags) != ctx->require_flags)
		return 0;
	if (bpf_clone_redirect(ctx->skb, entry->ifindex, 0) == 0)
		vnet_count_flood(entry->slot, ctx->skb->len);
	return 0;
}

static __always_inline void vnet_flood_only(struct __sk_buff *skb, const struct vnet_config *cfg, __u8 modes,
					    __u32 exclude_ifindex, __u8 skip_isolated, __u8 require_flags)
{
	__u32 zero = 0;
	const struct vnet_flood_list *list = bpf_map_lookup_elem(&vnet_flood, &zero);
	struct vnet_flood_ctx ctx = {
		.skb = skb,
		.list = list,
		.exclude_ifindex = exclude_ifindex,
		.modes = modes,
		.skip_isolated = skip_isolated,
		.require_flags = require_flags,
	};
	__u32 n;

	if (!list)
		return;
	n = list->nr;
	if (n > VNET_MAX_PORTS)
		n = VNET_MAX_PORTS;
	bpf_loop(n, vnet_flood_one, &ctx, 0);
}

static __always_inline void vnet_flood_copies(struct __sk_buff *skb, const struct vnet_config *cfg, __u8 modes,
					      __u32 exclude_ifindex, __u8 skip_isolated)
{
	vnet_flood_only(skb, cfg, modes, exclude_ifindex, skip_isolated, 0);
}

/* Who a reflecting switch sends a port's group frame back to (macvlan's rule
 * for a frame whose source is a local port): vepa and bridge ports for a vepa
 * sender, vepa ports for a bridge sender (its bridge siblings already have
 * it), nobody else for private, passthru and source senders. */
static __always_inline __u8 vnet_reflected_modes(__u8 sender_mode)
{
	if (sender_mode == VNET_MODE_VEPA)
		return VNET_MODE_VEPA | VNET_MODE_BRIDGE;
	if (sender_mode == VNET_MODE_BRIDGE)
		return VNET_MODE_VEPA;
	return 0;
}

#endif
