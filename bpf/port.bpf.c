/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Entry point on each port's host end: tc ingress (what the container sent). */
#include "lib/port.h"

SEC("tc")
int vnet_port_tc(struct __sk_buff *skb)
{
	return vnet_port_tc_rx(skb);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
