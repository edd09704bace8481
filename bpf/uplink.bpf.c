/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Entry points on the fabric's uplink: XDP receive, tc ingress, tc egress. */
#include "lib/host.h"
#include "lib/wire.h"

SEC("xdp")
int vnet_uplink_xdp(struct xdp_md *ctx)
{
	return vnet_wire_xdp(ctx);
}

SEC("tc")
int vnet_uplink_tc(struct __sk_buff *skb)
{
	return vnet_wire_tc(skb);
}

SEC("tc")
int vnet_uplink_egress(struct __sk_buff *skb)
{
	return vnet_host_tc_egress(skb);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
