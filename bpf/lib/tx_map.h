/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: the XDP redirect targets (ports whose peer has NAPI), keyed by
 * ifindex. Only the uplink object declares it: the kernel forces
 * BPF_F_RDONLY_PROG on devmaps, which makes libbpf's pin-compatibility check
 * fail, so libvnet hands the pinned map to the loader itself (loader/programs.cc).
 */
#ifndef VNET_BPF_TX_MAP_H
#define VNET_BPF_TX_MAP_H

#include "maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, VNET_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} vnet_tx SEC(".maps");

#endif
