/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: storm control, checked before a frame is flooded or sent on as
 * unknown unicast (docs/operations.md, "Storm control"). Two buckets in
 * vnet_storm may hold a frame back, each counted as VNET_DROP_STORM on the
 * slot the frame came from:
 *  - the sending port's own (its slot): the broadcast and multicast frames
 *    it sends;
 *  - the fabric's (slot 0): group frames flooded in the fabric, from ports,
 *    from the wire (not a local port's own, reflected: charged when sent)
 *    and from the host stack. A frame its port's bucket held back takes
 *    nothing from the fabric's.
 * Unknown unicast is never flooded by vnet (a port's goes to the uplink, the
 * way to every MAC outside the fabric, the gateway's too; the wire's goes to
 * the host stack or `unknown drop`), so no bucket charges it: it would only
 * throttle a port's traffic to the outside world.
 *
 * Precision: each bucket is a GCRA under its own bpf_spin_lock, so frames on
 * several CPUs are admitted one at a time and none is admitted twice: over T
 * seconds at most limit * T + burst frames pass (burst: a tenth of a second's
 * worth, at least VNET_STORM_BURST_MIN), and a sender offering more than the
 * limit gets the limit (to the rounding of interval_ns, below 1 % up to
 * VNET_STORM_MAX_PPS). A frame takes nothing when it is held back, so a storm
 * cannot push tat_ns ahead and starve the port after it ends. The lock is
 * taken only where a limit is set; without one a frame costs one array
 * lookup and one load.
 */
#ifndef VNET_BPF_STORM_H
#define VNET_BPF_STORM_H

#include "stats.h"

/* Whether one more frame fits `slot`'s bucket (always, without a limit). */
static __always_inline int vnet_storm_admit(__u32 slot)
{
	struct vnet_storm *b = bpf_map_lookup_elem(&vnet_storm, &slot);
	__u64 now, tat;
	int pass;

	if (!b || !b->interval_ns)
		return 1;
	now = bpf_ktime_get_ns();
	bpf_spin_lock(&b->lock);
	tat = b->tat_ns;
	if (tat < now)
		tat = now;
	pass = tat - now <= b->burst_ns;
	if (pass)
		b->tat_ns = tat + b->interval_ns;
	bpf_spin_unlock(&b->lock);
	return pass;
}

/* A port's broadcast or multicast frame: its own bucket, then the fabric's. Returns -1 (go on) or VNET_DROP_STORM. */
static __always_inline int vnet_storm_from_port(__u32 slot)
{
	if (!vnet_storm_admit(slot) || !vnet_storm_admit(VNET_UPLINK_SLOT))
		return VNET_DROP_STORM;
	return -1;
}

/* A group frame from the wire or the host stack about to be flooded to the
 * ports: the fabric's bucket. Returns -1 or VNET_DROP_STORM. */
static __always_inline int vnet_storm_from_wire(void)
{
	return vnet_storm_admit(VNET_UPLINK_SLOT) ? -1 : VNET_DROP_STORM;
}

#endif
