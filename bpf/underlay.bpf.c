/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Entry point on a VXLAN fabric's underlay device: tc ingress (the guard). */
#include "lib/underlay_guard.h"

SEC("tc")
int vnet_underlay_guard(struct __sk_buff *skb)
{
	return vnet_guard_tc(skb);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
