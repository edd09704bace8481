/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pktgen_ip_xdp: the generator for IP-demultiplexed destinations (vnet's
 * ipvlan ports). Like pktgen_xdp (bpf/pktgen.bpf.c), run with BPF_PROG_RUN
 * in BPF_F_TEST_XDP_LIVE_FRAMES mode it returns XDP_TX, one real frame per
 * run; per frame it also rewrites the IPv4 destination, rotating it over
 * dst4_count consecutive addresses from dst4_base, and fixes the IPv4 header
 * checksum incrementally (RFC 1624). The UDP checksum is 0 (none) in the
 * generator's IPv4 frames, so nothing else depends on the address.
 * Live frames may recycle a page that still holds the previous rewrite: the
 * incremental update starts from whatever the header holds, which is always
 * self-consistent (address and checksum are written together).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

__u8 dst_base[6];
__u32 dst_count; /* 0 or 1: fixed destination MAC */
__u32 dst_next;
__u32 ip_offset; /* 14, or 18 behind an 802.1Q tag */
__u32 dst4_base; /* host byte order */
__u32 dst4_count;
__u32 dst4_next;

static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

SEC("xdp")
int pktgen_ip_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 i, sum, old, new;

	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	if (dst_count > 1) {
		__u32 low = ((__u32)dst_base[3] << 16) | ((__u32)dst_base[4] << 8) | dst_base[5];

		i = dst_next;
		dst_next = i + 1 >= dst_count ? 0 : i + 1;
		low += i;
		eth->h_dest[3] = low >> 16;
		eth->h_dest[4] = low >> 8;
		eth->h_dest[5] = low;
	}
	ip = data + (ip_offset == 18 ? 18 : 14);
	if ((void *)(ip + 1) > data_end)
		return XDP_ABORTED;
	i = dst4_next;
	dst4_next = i + 1 >= dst4_count ? 0 : i + 1;
	old = ip->daddr;
	new = bpf_htonl(dst4_base + i);
	/* HC' = ~(~HC + ~m + m'), over the 16-bit words as they lie in memory. */
	sum = (__u16)~ip->check;
	sum += (~old & 0xffff) + (~old >> 16);
	sum += (new & 0xffff) + (new >> 16);
	ip->check = (__u16)~fold(sum);
	ip->daddr = new;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
