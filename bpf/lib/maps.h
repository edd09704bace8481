/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Contract: the fabric's maps, declared once for every program. They are
 * pinned by name under the fabric's directory (libvnet passes pin_root_path),
 * so the uplink and port objects share them and they outlive any process.
 */
#ifndef VNET_BPF_MAPS_H
#define VNET_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "vnet/abi.h"

/* Hash maps of one entry without preallocation: an update replaces the
 * whole value under RCU, so readers never see half of one (abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct vnet_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_config SEC(".maps");

/* Preallocated (about 8 MB per fabric): at 100,000 entries a lookup costs
 * ~130 ns less than with per-element allocation (docs/benchmarks.md). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNET_MAX_MACS);
	__type(key, struct vnet_mac_key);
	__type(value, struct vnet_mac_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_macs SEC(".maps");

/* In front of vnet_macs (abi.h says how it stays consistent). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNET_MAC_FRONT_SIZE);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct vnet_mac_front);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_mac_front SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNET_MAX_PORTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct vnet_mac_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNET_MAX_PORTS);
	__type(key, __u32); /* host-end ifindex */
	__type(value, struct vnet_port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct vnet_flood_list);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_flood SEC(".maps");


struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VNET_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct vnet_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vnet_mac_key);
	__type(value, struct vnet_source_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_sources SEC(".maps");

/* Preallocated for the same reason as vnet_macs (the benchmark's ipvlan rows). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNET_MAX_IPS);
	__type(key, struct vnet_ip_key);
	__type(value, struct vnet_ip_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_ips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VNET_MAX_IP_NETS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vnet_ip_net_key);
	__type(value, struct vnet_ip_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_ip_nets SEC(".maps");

/* DHCP of the fabric's l2 ports (abi.h says how the five fit together).
 * vnet_dhcp is no LRU: a port flooding xids only recycles its own ring. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNET_MAX_DHCP);
	__type(key, __u32); /* xid as on the wire */
	__type(value, struct vnet_dhcp_xact);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_dhcp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNET_MAX_PORTS);
	__type(key, __u32); /* slot */
	__type(value, struct vnet_dhcp_ring);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_dhcp_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNET_MAX_LEASES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vnet_ip_key);
	__type(value, struct vnet_lease);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_leases SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNET_MAX_HOST_IPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vnet_ip_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_host_ips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnet_dhcp_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_dhcp_cfg SEC(".maps");

/* --allow-ip of MAC-demux ports (abi.h, struct vnet_allow_key). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VNET_MAX_ALLOW);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vnet_allow_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_allow SEC(".maps");

/* Storm control buckets by slot (abi.h, struct vnet_storm). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNET_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct vnet_storm);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vnet_storm SEC(".maps");

static __always_inline struct vnet_config *vnet_get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&vnet_config, &zero);
}

#endif
