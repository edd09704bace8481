/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The benchmark's own programs (not part of the datapath):
 *  - pktgen_xdp: the generator. Run with BPF_PROG_RUN in
 *    BPF_F_TEST_XDP_LIVE_FRAMES mode on a device, it returns XDP_TX, so every
 *    run transmits one real frame on that device. Per frame it rewrites the
 *    destination (and optionally source) MAC, rotating the low 24 bits over
 *    dst_count (src_count) values, so table lookups are not all cache hits.
 *    Live frames may recycle a page that still holds the previous rewrite, so
 *    the fields are written on every run.
 *  - floor_xdp: the floor of the wire->port path, a bare bpf_redirect to one
 *    ifindex with no lookup.
 *  - floor_tc: the same for the tc paths (port->port with redirect_peer,
 *    port->wire and the generator's injector with a plain egress redirect).
 *  - sink_tc: counts and drops what reaches a receiver's tc ingress.
 *  - sink_unicast_tc: the same, counting only unicast destinations (a
 *    receiver's unicast rate measured during a broadcast storm).
 * Every object instance is loaded with only the programs it uses; the globals
 * below are its configuration (the skeleton maps .bss).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* pktgen_xdp */
__u8 dst_base[6];
__u32 dst_count; /* 0 or 1: fixed destination */
__u8 src_base[6];
__u32 src_count;
/* Rotation cursors; one generator thread per instance, so no atomics. */
__u32 dst_next;
__u32 src_next;

/* floor_xdp / floor_tc */
__u32 target_ifindex;
__u32 target_peer; /* floor_tc: bpf_redirect_peer instead of an egress redirect */

/* sink_tc: per-CPU packet and byte counts */
struct sink_count {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sink_count);
} sink_counts SEC(".maps");

static __always_inline void rotate(__u8 *mac, const __u8 *base, __u32 count, __u32 *next)
{
	__u32 low = ((__u32)base[3] << 16) | ((__u32)base[4] << 8) | base[5];
	__u32 i = *next;

	*next = i + 1 >= count ? 0 : i + 1;
	low += i;
	mac[0] = base[0];
	mac[1] = base[1];
	mac[2] = base[2];
	mac[3] = low >> 16;
	mac[4] = low >> 8;
	mac[5] = low;
}

SEC("xdp")
int pktgen_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	if (dst_count > 1)
		rotate(eth->h_dest, dst_base, dst_count, &dst_next);
	if (src_count > 1)
		rotate(eth->h_source, src_base, src_count, &src_next);
	return XDP_TX;
}

SEC("xdp")
int floor_xdp(struct xdp_md *ctx)
{
	return bpf_redirect(target_ifindex, 0);
}

SEC("tc")
int floor_tc(struct __sk_buff *skb)
{
	if (target_peer)
		return bpf_redirect_peer(target_ifindex, 0);
	return bpf_redirect(target_ifindex, 0);
}

SEC("tc")
int sink_tc(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct sink_count *c = bpf_map_lookup_elem(&sink_counts, &zero);

	if (c) {
		c->packets++;
		c->bytes += skb->len;
	}
	return TC_ACT_SHOT;
}

SEC("tc")
int sink_unicast_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0;
	struct sink_count *c;

	if ((void *)(eth + 1) > data_end || (eth->h_dest[0] & 1))
		return TC_ACT_SHOT;
	c = bpf_map_lookup_elem(&sink_counts, &zero);
	if (c) {
		c->packets++;
		c->bytes += skb->len;
	}
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
