/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: DHCP for IP-demux (ipvlan l2) ports, which all share the uplink's
 * MAC, so a server's reply cannot be told apart by its client hardware
 * address (include/vnet/abi.h describes the maps). tc only.
 *  - vnet_dhcp_remember(): a port's request opens (or keeps alive) its
 *    transaction. Nonzero: the xid is another port's live transaction, and
 *    the caller drops the request (VNET_DROP_DHCP).
 *  - vnet_dhcp_reply(): a reply on the uplink. A reply carrying an open xid
 *    must come from the wire, not from a port (a reflection by vnet's hairpin
 *    or an external switch): its source MAC is neither the shared MAC nor a
 *    MAC port's, its source IP no port's. It goes to the requester alone; an
 *    ACK or NAK closes the transaction. An ACK registers its address for the
 *    port (VNET_IP_F_LEARNED) for the lease time (option 51), or renews it;
 *    an address the host (vnet_host_ips), another port or another port's
 *    prefix owns, or one over the port's cap of leases, is refused, and the
 *    ACK is dropped, so the client never configures an address that would
 *    not reach it. Every refusal is counted as VNET_DROP_DHCP: on the
 *    requester for its own cap (or a full lease table), on the uplink else.
 *  - A BPF timer per lease removes it (vnet_ips and vnet_leases) when it
 *    runs out.
 */
#ifndef VNET_BPF_DHCP_H
#define VNET_BPF_DHCP_H

#include <linux/pkt_cls.h>
#include "eth.h"
#include "ip_owner.h"
#include "l3.h"
#include "maps.h"
#include "stats.h"

#define VNET_BOOTP_YIADDR 16
#define VNET_BOOTP_COOKIE 236
#define VNET_BOOTP_OPTIONS 240
#define VNET_DHCP_COOKIE 0x63825363u
#define VNET_DHCP_OPT_LEASE_TIME 51
#define VNET_DHCP_OPT_TYPE 53
#define VNET_DHCP_ACK 5
#define VNET_DHCP_NAK 6
#define VNET_DHCP_MAX_OPTIONS 24
#define VNET_NSEC 1000000000ull
#ifndef CLOCK_BOOTTIME
#define CLOCK_BOOTTIME 7
#endif
#ifndef EBUSY
#define EBUSY 16
#endif

/* What vnet_dhcp_reply() decided. */
#define VNET_DHCP_NOT_OURS 0 /* no open transaction: an ordinary frame */
#define VNET_DHCP_DELIVER 1  /* to *to */
#define VNET_DHCP_REFUSED 2  /* dropped and counted */

static __always_inline int vnet_dhcp_remember(const struct vnet_l3 *l3, const struct vnet_port *port, __u32 ifindex)
{
	__u64 now = bpf_ktime_get_boot_ns(), expires = now + VNET_DHCP_XACT_SECONDS * VNET_NSEC;
	struct vnet_dhcp_xact *xact = bpf_map_lookup_elem(&vnet_dhcp, &l3->xid), fresh, *old;
	struct vnet_dhcp_ring *ring;
	__u32 slot = port->slot, pos, old_xid;
	int taken_over = 0;

	if (xact) {
		if (xact->ifindex == ifindex && xact->slot == port->slot) {
			xact->expires_ns = expires; /* its own retransmission */
			return 0;
		}
		if (xact->expires_ns > now)
			return 1; /* another port's, still live */
		taken_over = 1;
	}
	ring = bpf_map_lookup_elem(&vnet_dhcp_ring, &slot);
	if (!ring)
		return 1;
	/* The port's oldest own transaction makes room, whoever else asks. */
	bpf_spin_lock(&ring->lock);
	pos = ring->next++ & (VNET_DHCP_OPEN_PER_PORT - 1);
	old_xid = ring->xid[pos];
	ring->xid[pos] = l3->xid;
	bpf_spin_unlock(&ring->lock);
	old = bpf_map_lookup_elem(&vnet_dhcp, &old_xid);
	if (old && old->ifindex == ifindex && old->slot == port->slot && old->ring == pos)
		bpf_map_delete_elem(&vnet_dhcp, &old_xid);
	fresh.expires_ns = expires;
	fresh.ifindex = ifindex;
	fresh.slot = port->slot;
	fresh.flags = port->flags;
	fresh.ring = pos;
	if (!bpf_map_update_elem(&vnet_dhcp, &l3->xid, &fresh, taken_over ? BPF_ANY : BPF_NOEXIST))
		return 0;
	/* Another port opened it meanwhile. */
	xact = bpf_map_lookup_elem(&vnet_dhcp, &l3->xid);
	return !xact || xact->ifindex != ifindex;
}

struct vnet_dhcp_opts {
	__u32 lease_seconds;
	__u8 type;
	__u8 has_lease;
};

/* The message type (option 53) and lease time (option 51). Options are
 * walked with loads, not packet pointers: they are rarely in the linear head. */
static __always_inline void vnet_dhcp_options(struct __sk_buff *skb, __u32 bootp, struct vnet_dhcp_opts *o)
{
	__u32 off = bootp + VNET_BOOTP_OPTIONS;
	__be32 cookie, lease;
	__u8 opt[3];
	int i;

	o->type = 0;
	o->has_lease = 0;
	o->lease_seconds = 0;
	if (bpf_skb_load_bytes(skb, bootp + VNET_BOOTP_COOKIE, &cookie, 4) || cookie != bpf_htonl(VNET_DHCP_COOKIE))
		return;
	for (i = 0; i < VNET_DHCP_MAX_OPTIONS; i++) {
		if (bpf_skb_load_bytes(skb, off, opt, 1))
			return;
		if (opt[0] == 0) { /* pad */
			off++;
			continue;
		}
		if (opt[0] == 255 || bpf_skb_load_bytes(skb, off, opt, 3))
			return;
		if (opt[0] == VNET_DHCP_OPT_TYPE && opt[1] == 1) {
			o->type = opt[2];
		} else if (opt[0] == VNET_DHCP_OPT_LEASE_TIME && opt[1] == 4) {
			if (bpf_skb_load_bytes(skb, off + 2, &lease, 4))
				return;
			o->lease_seconds = bpf_ntohl(lease);
			o->has_lease = 1;
		}
		off += 2 + opt[1];
	}
}

/* A reply that came from the wire, not a port's frame reflected to us. */
static __always_inline int vnet_dhcp_from_wire(const struct vnet_config *cfg, const struct ethhdr *eth,
					       const struct vnet_l3 *l3)
{
	struct vnet_mac_key key;

	if (vnet_mac_equal(eth->h_source, cfg->uplink_mac))
		return 0;
	key = vnet_mac_key_of(eth->h_source);
	if (bpf_map_lookup_elem(&vnet_macs, &key))
		return 0;
	return !vnet_ip_owner(cfg, &l3->src);
}

/* An address a lease may hold: unicast, not 0/8, loopback or 224/3. */
static __always_inline int vnet_ip4_leasable(const __u8 *a)
{
	return a[0] != 0 && a[0] != 127 && a[0] < 224;
}

/* The lease ran out: its address stops reaching the port. */
static int __attribute__((unused)) vnet_lease_expired(void *map, struct vnet_ip_key *key, struct vnet_lease *lease)
{
	struct vnet_ip_entry *entry;

	if (lease->expires_ns > bpf_ktime_get_boot_ns())
		return 0; /* renewed while this run was due */
	entry = bpf_map_lookup_elem(&vnet_ips, key);
	if (entry && (entry->ip_flags & VNET_IP_F_LEARNED) && entry->ifindex == lease->ifindex)
		bpf_map_delete_elem(&vnet_ips, key);
	bpf_map_delete_elem(map, key);
	return 0;
}

/* (Re)starts the lease's clock; an infinite lease has none. */
static __always_inline int vnet_lease_arm(struct vnet_lease *lease, __u64 now, __u32 seconds)
{
	int err;

	if (seconds == 0xffffffffu) {
		lease->expires_ns = VNET_LEASE_INFINITE;
		bpf_timer_cancel(&lease->timer); /* fails harmlessly when never started */
		return 0;
	}
	lease->expires_ns = now + seconds * VNET_NSEC;
	err = bpf_timer_init(&lease->timer, &vnet_leases, CLOCK_BOOTTIME);
	if (err && err != -EBUSY)
		return err;
	err = bpf_timer_set_callback(&lease->timer, vnet_lease_expired);
	if (err)
		return err;
	return bpf_timer_start(&lease->timer, seconds * VNET_NSEC, 0);
}

struct vnet_lease_count {
	__u64 now;
	__u32 ifindex;
	__u32 n;
	__u16 slot;
};

/* One of the port's live leases (its vnet_ips entry agrees). */
static long __attribute__((unused)) vnet_lease_count_one(void *map, struct vnet_ip_key *key, struct vnet_lease *lease,
							 struct vnet_lease_count *c)
{
	struct vnet_ip_entry *entry;

	if (lease->ifindex != c->ifindex || lease->slot != c->slot || lease->expires_ns <= c->now)
		return 0;
	entry = bpf_map_lookup_elem(&vnet_ips, key);
	if (entry && (entry->ip_flags & VNET_IP_F_LEARNED) && entry->ifindex == c->ifindex)
		c->n++;
	return 0;
}

static __always_inline __u32 vnet_dhcp_max_leases(void)
{
	__u32 zero = 0;
	struct vnet_dhcp_cfg *cfg = bpf_map_lookup_elem(&vnet_dhcp_cfg, &zero);
	__u32 max = cfg ? cfg->max_leases : 0;

	if (!max)
		return VNET_DHCP_DEFAULT_MAX_LEASES;
	return max > VNET_DHCP_MAX_LEASES_LIMIT ? VNET_DHCP_MAX_LEASES_LIMIT : max;
}

/* A learned entry whose lease is gone (missed its timer): nobody's. */
static __always_inline int vnet_lease_stale(const struct vnet_ip_key *key, const struct vnet_ip_entry *owner, __u64 now)
{
	struct vnet_lease *lease;

	if (!(owner->ip_flags & VNET_IP_F_LEARNED))
		return 0;
	lease = bpf_map_lookup_elem(&vnet_leases, key);
	return !lease || lease->ifindex != owner->ifindex || lease->expires_ns <= now;
}

/* Registers (or renews) the ACK's lease for the requester. Returns 0, or the
 * slot the refusal is charged to plus one. */
static __always_inline __u32 vnet_lease_take(const struct vnet_config *cfg, const struct vnet_dhcp_xact *xact,
					     const __u8 *yiaddr, __u32 seconds, __u64 now)
{
	struct vnet_lease_count count = { .now = now, .ifindex = xact->ifindex, .slot = xact->slot };
	struct vnet_ip_entry *owner, entry;
	struct vnet_lease *lease, fresh;
	struct vnet_ip_key key;
	vnet_ip4_key(&key, yiaddr);
	if (!vnet_ip4_leasable(yiaddr) || bpf_map_lookup_elem(&vnet_host_ips, &key))
		return VNET_UPLINK_SLOT + 1;
	owner = vnet_ip_owner(cfg, &key);
	if (owner && owner->ifindex != xact->ifindex) {
		if (!vnet_lease_stale(&key, owner, now))
			return VNET_UPLINK_SLOT + 1; /* another port's address or prefix */
		bpf_map_delete_elem(&vnet_ips, &key);
		owner = NULL;
	}
	if (owner && !(owner->ip_flags & VNET_IP_F_LEARNED))
		return 0; /* its own address or prefix: nothing to learn */
	lease = bpf_map_lookup_elem(&vnet_leases, &key);
	if (owner && lease && lease->ifindex == xact->ifindex)
		return vnet_lease_arm(lease, now, seconds) ? xact->slot + 1u : 0; /* a renewal */

	if (!owner) {
		bpf_for_each_map_elem(&vnet_leases, vnet_lease_count_one, &count, 0);
		if (count.n >= vnet_dhcp_max_leases())
			return xact->slot + 1u;
	}
	__builtin_memset(&fresh, 0, sizeof(fresh));
	fresh.expires_ns = now;
	fresh.ifindex = xact->ifindex;
	fresh.slot = xact->slot;
	if (bpf_map_update_elem(&vnet_leases, &key, &fresh, BPF_ANY))
		return xact->slot + 1u; /* the lease table is full */
	lease = bpf_map_lookup_elem(&vnet_leases, &key);
	if (!lease)
		return xact->slot + 1u;
	if (!owner) {
		entry.ifindex = xact->ifindex;
		entry.slot = xact->slot;
		entry.flags = xact->flags;
		entry.ip_flags = VNET_IP_F_LEARNED;
		if (bpf_map_update_elem(&vnet_ips, &key, &entry, BPF_NOEXIST)) {
			bpf_map_delete_elem(&vnet_leases, &key);
			return VNET_UPLINK_SLOT + 1; /* taken meanwhile */
		}
	}
	/* Armed last: an expiry never runs before the address is registered. */
	if (vnet_lease_arm(lease, now, seconds)) {
		bpf_map_delete_elem(&vnet_ips, &key);
		bpf_map_delete_elem(&vnet_leases, &key);
		return xact->slot + 1u;
	}
	return 0;
}

/* A DHCP reply (UDP 67 -> 68) on the uplink, for the l2 ports. */
static __always_inline int vnet_dhcp_reply(struct __sk_buff *skb, const struct vnet_config *cfg,
					   const struct ethhdr *eth, const struct vnet_l3 *l3, struct vnet_ip_entry *to)
{
	__u32 bootp = l3->l4_offset + 8, xid = l3->xid, refused;
	struct vnet_dhcp_xact *found, xact;
	__u64 now = bpf_ktime_get_boot_ns();
	struct vnet_dhcp_opts opts;
	__u8 yiaddr[4];

	found = bpf_map_lookup_elem(&vnet_dhcp, &xid);
	if (!found || found->expires_ns <= now)
		return VNET_DHCP_NOT_OURS;
	xact = *found;
	if (!vnet_dhcp_from_wire(cfg, eth, l3)) {
		vnet_drop(VNET_UPLINK_SLOT, VNET_DROP_DHCP, 0);
		return VNET_DHCP_REFUSED;
	}
	to->ifindex = xact.ifindex;
	to->slot = xact.slot;
	to->flags = xact.flags;
	to->ip_flags = 0;
	vnet_dhcp_options(skb, bootp, &opts);
	if (opts.type != VNET_DHCP_ACK && opts.type != VNET_DHCP_NAK)
		return VNET_DHCP_DELIVER; /* an offer: the transaction goes on */
	bpf_map_delete_elem(&vnet_dhcp, &xid);
	if (opts.type == VNET_DHCP_NAK)
		return VNET_DHCP_DELIVER;
	if (bpf_skb_load_bytes(skb, bootp + VNET_BOOTP_YIADDR, yiaddr, 4))
		return VNET_DHCP_DELIVER;
	if ((yiaddr[0] | yiaddr[1] | yiaddr[2] | yiaddr[3]) == 0)
		return VNET_DHCP_DELIVER; /* an answer to DHCPINFORM: no lease */
	refused = vnet_lease_take(cfg, &xact, yiaddr,
				  opts.has_lease ? opts.lease_seconds : VNET_DHCP_DEFAULT_LEASE_SECONDS, now);
	if (refused) {
		vnet_drop(refused - 1, VNET_DROP_DHCP, 0);
		return VNET_DHCP_REFUSED;
	}
	return VNET_DHCP_DELIVER;
}

#endif
