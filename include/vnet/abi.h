/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one ABI shared by the BPF datapath (clang -target bpf) and libvnet (C++).
 * Every map key and value, every enum and every drop reason lives here, so the
 * two sides can never disagree about a layout. Sizes and offsets are checked by
 * static asserts at the bottom, in both compilers.
 *
 * Changing a struct or a meaning here means bumping VNET_ABI_VERSION: libvnet
 * (FabricMaps) then refuses another version's pinned maps, and `vnetctl
 * reload` refuses to take over such a fabric, instead of misreading memory.
 */
#ifndef VNET_ABI_H
#define VNET_ABI_H

#ifdef __cplusplus
#include <cstdint>
typedef std::uint8_t vnet_u8;
typedef std::uint16_t vnet_u16;
typedef std::uint32_t vnet_u32;
typedef std::uint64_t vnet_u64;
#define VNET_STATIC_ASSERT static_assert
#else
#include <linux/types.h>
#include <linux/bpf.h> /* struct bpf_timer */
typedef __u8 vnet_u8;
typedef __u16 vnet_u16;
typedef __u32 vnet_u32;
typedef __u64 vnet_u64;
#define VNET_STATIC_ASSERT _Static_assert
#endif

/* ABI version: bumped whenever a struct or map below changes shape. */
#define VNET_ABI_VERSION 6

/* Where a fabric's state lives: VNET_PIN_ROOT "/" <fabric> "/" <map or link>. */
#define VNET_PIN_ROOT "/sys/fs/bpf/vnet"

/* Map names (also the pin file names, libbpf pins by name). */
#define VNET_MAP_CONFIG "vnet_config"
#define VNET_MAP_MACS "vnet_macs"
#define VNET_MAP_PORTS "vnet_ports"
#define VNET_MAP_FLOOD "vnet_flood"
#define VNET_MAP_TX "vnet_tx"
#define VNET_MAP_STATS "vnet_stats"
#define VNET_MAP_SOURCES "vnet_sources"
#define VNET_MAP_IPS "vnet_ips"         /* port address -> IP-demux port */
#define VNET_MAP_IP_NETS "vnet_ip_nets" /* port prefix -> IP-demux port (LPM) */
#define VNET_MAP_DHCP "vnet_dhcp"       /* open DHCP transaction: xid -> its requester (struct vnet_dhcp_xact) */
#define VNET_MAP_DHCP_RING "vnet_dhcp_ring" /* slot -> the port's open transactions, oldest first out */
#define VNET_MAP_LEASES "vnet_leases"       /* learned address -> its lease (expiry, timer) */
#define VNET_MAP_HOST_IPS "vnet_host_ips"   /* the host's addresses on the uplink (no lease may take them) */
#define VNET_MAP_DHCP_CFG "vnet_dhcp_cfg"   /* DHCP settings of the fabric (struct vnet_dhcp_cfg) */
#define VNET_MAP_MAC_FRONT "vnet_mac_front" /* direct-mapped cache in front of vnet_macs */
#define VNET_MAP_ALLOW "vnet_allow"     /* MAC-demux port -> allowed source prefixes (LPM) */
#define VNET_MAP_SLOTS "vnet_slots"     /* slot -> its port, behind vnet_mac_front */
#define VNET_MAP_STORM "vnet_storm"     /* slot -> storm-control bucket (slot 0: the fabric's) */

/* skb->mark vnet puts on a frame it hands to the host stack through the
 * uplink's ingress (`host on`), so the uplink program passes it up untouched
 * and clears the mark. Frames from containers carry no mark of their own: veth
 * scrubs it when they cross netns (a port whose peer shares the host's netns
 * could forge it, and only reach the host stack with it). */
#define VNET_SKB_MARK_TO_HOST 0x766e6574u

/* Capacities. Slot 0 of the stats table is the uplink itself. */
#define VNET_MAX_MACS 131072
#define VNET_MAX_PORTS 1024
#define VNET_UPLINK_SLOT 0
/* vnet_mac_front: 2^18 slots of 16 bytes (4 MB), twice vnet_macs' size so
 * that at 100,000 MACs about one in six collides (and falls back to the hash). */
#define VNET_MAC_FRONT_BITS 18
#define VNET_MAC_FRONT_SIZE (1u << VNET_MAC_FRONT_BITS)
#define VNET_MAX_IPS 131072
#define VNET_MAX_IP_NETS 16384
#define VNET_MAX_DHCP 4096 /* VNET_MAX_PORTS * VNET_DHCP_OPEN_PER_PORT: never full */
#define VNET_MAX_ALLOW 16384

/* Port modes: the values match the kernel's enum macvlan_mode bit values, so a
 * mode set ("deliver to vepa or bridge ports") is a plain bit mask. */
enum vnet_mode {
	VNET_MODE_PRIVATE = 1,
	VNET_MODE_VEPA = 2,
	VNET_MODE_BRIDGE = 4,
	VNET_MODE_PASSTHRU = 8,
	VNET_MODE_SOURCE = 16,
	/* Not a macvlan mode: an IP-demux (ipvlan family) port. It shares the
	 * uplink's MAC on the wire; how it talks to its siblings is the fabric's
	 * ipvlan_mode and ipvlan_flags. */
	VNET_MODE_IPVLAN = 32,
};

/* ipvlan modes and flags (struct vnet_config.ipvlan_mode / ipvlan_flags); the
 * flag values match the kernel's IPVLAN_F_PRIVATE and IPVLAN_F_VEPA. */
enum vnet_ipvlan_mode {
	VNET_IPVLAN_L2 = 0,  /* ports do their own ARP/ND; group frames reach them */
	VNET_IPVLAN_L3 = 1,  /* vnet answers ARP/ND, routes by IP, no group frames */
	VNET_IPVLAN_L3S = 2, /* as l3, routed through the host stack (netfilter) */
};

enum vnet_ipvlan_flag {
	VNET_IPVLAN_F_BRIDGE = 0,  /* ports talk to each other locally */
	VNET_IPVLAN_F_PRIVATE = 1, /* ports never talk to each other */
	VNET_IPVLAN_F_VEPA = 2,    /* port to port goes out of the uplink */
};

/* Per-port flags (struct vnet_port.flags, struct vnet_mac_entry.flags). */
enum vnet_port_flag {
	VNET_PORT_F_SPOOFCHK = 1u << 0,   /* drop frames whose source MAC is not the port's */
	VNET_PORT_F_HAIRPIN = 1u << 1,    /* the fabric reflects this port's frames itself */
	VNET_PORT_F_ISOLATED = 1u << 2,   /* never exchange frames with another isolated port */
	VNET_PORT_F_PEER_NETNS = 1u << 3, /* veth peer lives in another netns: redirect_peer works */
	VNET_PORT_F_XDP_TARGET = 1u << 4, /* peer has NAPI: XDP may redirect into this port */
	VNET_PORT_F_NODST = 1u << 5,      /* source mode: listed sources go only here */
	VNET_PORT_F_ALLOW_IP = 1u << 6,   /* MAC-demux port with --allow-ip: check IP sources (vnet_allow) */
	/* Kept by vnet for itself, never read by the datapath: libvnet created
	 * the port's device (veth pair or tap) and deletes it with the port. Only
	 * in vnet_port.flags; libvnet masks it off in every other table. */
	VNET_PORT_F_OWNED = 1u << 7,
};

/* struct vnet_port.pad, which the datapath never reads, holds a mark vnet
 * keeps for itself (bit 6 of the flags held it before ABI 5). */
enum vnet_port_pad_bit {
	/* `vnetctl monitor` took the port down with its uplink and brings it back. */
	VNET_PORT_PAD_HELD_DOWN = 1u << 0,
};

/* Fabric-wide policies (struct vnet_config). */
enum vnet_unknown_policy {
	VNET_UNKNOWN_PASS = 0, /* unknown unicast goes to the host stack, like macvlan */
	VNET_UNKNOWN_DROP = 1, /* dropped in XDP before an skb exists */
};

enum vnet_fabric_flag {
	VNET_FABRIC_F_HOST = 1u << 0,    /* host stack is a member of the fabric */
	VNET_FABRIC_F_DEFUNCT = 1u << 1, /* the uplink is gone: forward nothing */
	VNET_FABRIC_F_NO_XDP_REDIRECT = 1u << 2, /* wire->port unicast via tc, not XDP */
	VNET_FABRIC_F_CLS_BPF = 1u << 3, /* tc programs on cls_bpf (no tcx in this kernel) */
	VNET_FABRIC_F_HAS_SOURCES = 1u << 4, /* vnet_sources is not empty: check source MACs */
	VNET_FABRIC_F_UPLINK_DOWN = 1u << 5, /* uplink has no carrier: ports forward nothing */
	VNET_FABRIC_F_HAS_HAIRPIN = 1u << 6, /* some port has VNET_PORT_F_HAIRPIN */
	VNET_FABRIC_F_SET_PROMISC = 1u << 7, /* control plane: vnet made the uplink promiscuous */
	VNET_FABRIC_F_NO_XDP = 1u << 8, /* no XDP on the uplink: tc also counts, checks and drops */
	VNET_FABRIC_F_IPVLAN = 1u << 9, /* control plane: `--type ipvlan`, ports demux by IP by default */
	VNET_FABRIC_F_HAS_IP_PORTS = 1u << 10, /* some port has VNET_MODE_IPVLAN */
	VNET_FABRIC_F_HAS_IP_NETS = 1u << 11,  /* vnet_ip_nets is not empty: try prefixes too */
	VNET_FABRIC_F_SET_FORWARDING = 1u << 12, /* control plane: l3s turned on forwarding */
};

/*
 * Drop reasons. Every frame the datapath drops is counted against exactly one
 * of these, on the slot of the port (or uplink) it arrived from.
 */
enum vnet_drop_reason {
	VNET_DROP_TRUNCATED_ETH = 0, /* shorter than an Ethernet header */
	VNET_DROP_TRUNCATED_VLAN,    /* VLAN TPID with no room for the tag */
	VNET_DROP_VLAN_DEPTH,        /* more stacked tags than the parser walks */
	VNET_DROP_UNKNOWN_DST,       /* unicast to no port, policy drop */
	VNET_DROP_SPOOFED_SRC,       /* source MAC is not the sending port's */
	VNET_DROP_NOT_A_PORT,        /* program ran on a device the fabric does not know */
	VNET_DROP_ISOLATED,          /* isolated port to isolated port */
	VNET_DROP_REDIRECT_FAILED,   /* the kernel refused the redirect */
	VNET_DROP_DEFUNCT,           /* fabric's uplink has gone */
	VNET_DROP_UPLINK_DOWN,       /* uplink has no carrier */
	VNET_DROP_SOURCE_NODST,      /* taken by a source-mode port with nodst */
	VNET_DROP_SPOOFED_IP,        /* IP-demux port sent from an address not its own */
	VNET_DROP_TRUNCATED_L3,      /* IP-demux needs an IPv4/IPv6/ARP header that is cut short or bad */
	VNET_DROP_PRIVATE,           /* ipvlan private: port to port */
	VNET_DROP_L3_GROUP,          /* ipvlan l3/l3s: a port sent a group or non-IP frame (no ARP/ND there) */
	VNET_DROP_NO_ROUTE,          /* ipvlan l3: the host has no route for the destination */
	VNET_DROP_REFLECTED,         /* a reflection of a frame the receivers already had (`host on`) */
	VNET_DROP_DHCP,              /* DHCP refused: another port's transaction, a lease nobody may take, over the cap */
	VNET_DROP_STORM,             /* over the port's or the fabric's storm limit (group or unknown-unicast frames) */
	VNET_DROP__MAX,
};

/* vnet_macs: destination MAC -> port. Key is the MAC in the low 6 bytes. */
struct vnet_mac_key {
	vnet_u8 addr[6];
	vnet_u16 pad; /* always 0 so the hash sees the same bytes */
};

struct vnet_mac_entry {
	vnet_u32 ifindex; /* host end of the veth, or the tap */
	vnet_u16 slot;    /* index into vnet_stats */
	vnet_u8 mode;     /* enum vnet_mode */
	vnet_u8 flags;    /* enum vnet_port_flag */
};

/*
 * vnet_mac_front: an mmapable array indexed by vnet_mac_front_index(MAC), so a
 * wire->port lookup costs one cache line instead of a hash bucket and an
 * element. It only caches vnet_macs, which stays the truth: a miss or a
 * collision sends the lookup there. Each entry is 8 bytes, written by libvnet
 * and read by the datapath as one aligned 64-bit word, so no CPU, however
 * weakly ordered, can show a reader half an entry; the port's details come
 * from vnet_slots[slot1 - 1], another 8-byte word, loaded through that
 * value (an address dependency, ordered everywhere). libvnet writes the slot
 * entry before the front entry that points to it.
 */
struct vnet_mac_front {
	vnet_u8 mac[6];
	vnet_u16 slot1; /* the port's slot + 1; 0: empty */
};

/* vnet_slots (VNET_MAP_SLOTS): slot -> the port's vnet_mac_entry, for the front cache. */

/* Fibonacci hashing of the 48-bit MAC: the same in the datapath and libvnet. */
static inline vnet_u32 vnet_mac_front_index(const vnet_u8 *mac)
{
	vnet_u64 v = (vnet_u64)mac[0] | (vnet_u64)mac[1] << 8 | (vnet_u64)mac[2] << 16 | (vnet_u64)mac[3] << 24 |
		     (vnet_u64)mac[4] << 32 | (vnet_u64)mac[5] << 40;

	return (vnet_u32)((v * 0x9E3779B97F4A7C15ull) >> (64 - VNET_MAC_FRONT_BITS));
}

/* vnet_ports: host-end ifindex -> port. The port program finds itself here. */
struct vnet_port {
	vnet_u8 mac[6]; /* the container-side MAC: the only source allowed with spoofchk */
	vnet_u16 slot;
	vnet_u8 mode;
	vnet_u8 flags;
	vnet_u16 pad;
};

/* vnet_flood: the flood targets, kept by libvnet as one value (key 0) of a
 * hash map without preallocation, like vnet_config: an update replaces the
 * whole list at once (the old value is freed after an RCU grace period), so
 * a reader walks the old list or the new one, never half of each. */
struct vnet_flood_entry {
	vnet_u32 ifindex;
	vnet_u16 slot;
	vnet_u8 mode;
	vnet_u8 flags;
};

struct vnet_flood_list {
	vnet_u32 nr; /* valid entries */
	vnet_u32 pad;
	struct vnet_flood_entry entries[VNET_MAX_PORTS];
};

/* vnet_sources: source MAC -> the source-mode ports listing it (macvlan
 * `macaddr add`). Frames from the wire with that source MAC are copied to
 * each; a port with VNET_PORT_F_NODST takes them exclusively. */
#define VNET_MAX_SOURCE_PORTS 8
struct vnet_source_port {
	vnet_u32 ifindex;
	vnet_u16 slot;
	vnet_u8 flags; /* enum vnet_port_flag */
	vnet_u8 pad;
};

struct vnet_source_entry {
	vnet_u32 count; /* valid entries in port[] */
	vnet_u32 pad;
	struct vnet_source_port port[VNET_MAX_SOURCE_PORTS];
};

/* vnet_ips: a port address (IPv4 in addr[0..3], the rest zero) -> its port.
 * vnet_ip_nets: the same for prefixes, an LPM trie whose key covers the
 * family byte too (prefixlen = 8 + prefix length). */
enum vnet_ip_family {
	VNET_IP4 = 4,
	VNET_IP6 = 6,
};

struct vnet_ip_key {
	vnet_u8 family; /* enum vnet_ip_family */
	vnet_u8 pad[3]; /* always 0 */
	vnet_u8 addr[16];
};

struct vnet_ip_net_key {
	vnet_u32 prefixlen; /* 8 + prefix length */
	vnet_u8 family;
	vnet_u8 addr[16];
	vnet_u8 pad[3];
};

enum vnet_ip_flag {
	VNET_IP_F_LEARNED = 1u << 0,    /* a lease from a DHCP ACK (vnet_leases says until when) */
	VNET_IP_F_LINK_LOCAL = 1u << 1, /* the IPv6 link-local address vnet gave the port */
};

struct vnet_ip_entry {
	vnet_u32 ifindex; /* host end of the port */
	vnet_u16 slot;
	vnet_u8 flags;    /* enum vnet_port_flag of the port */
	vnet_u8 ip_flags; /* enum vnet_ip_flag */
};

/* vnet_allow: the sources a MAC-demux port with VNET_PORT_F_ALLOW_IP may
 * use (`--allow-ip`), an LPM trie keyed by slot and address: prefixlen =
 * 32 (slot, family, pad) + the prefix length. The value is unused (1). */
struct vnet_allow_key {
	vnet_u32 prefixlen;
	vnet_u16 slot;
	vnet_u8 family; /* enum vnet_ip_family */
	vnet_u8 pad;    /* always 0 */
	vnet_u8 addr[16];
};
#define VNET_ALLOW_KEY_BITS 32

/*
 * DHCP of IP-demux l2 ports (bpf/lib/dhcp.h). They share the uplink's MAC, so
 * a server's reply is told apart by its transaction id:
 *  - vnet_dhcp: HASH, xid (as on the wire) -> struct vnet_dhcp_xact. The xid
 *    belongs to the first port that asked with it until a reply from the
 *    wire answers it (ACK, NAK) or VNET_DHCP_XACT_SECONDS pass without the
 *    port asking again; another port's request with a live xid is dropped.
 *  - vnet_dhcp_ring: ARRAY by slot -> struct vnet_dhcp_ring, the port's last
 *    VNET_DHCP_OPEN_PER_PORT xids. Opening one more closes the port's oldest
 *    own transaction, never another port's, so vnet_dhcp cannot fill up.
 *  - vnet_leases: HASH, struct vnet_ip_key -> struct vnet_lease. A lease an
 *    ACK from the wire gave a port (its vnet_ips entry is VNET_IP_F_LEARNED);
 *    the BPF timer removes both when the lease time (option 51) runs out.
 *  - vnet_host_ips: HASH, struct vnet_ip_key -> 1: the host's addresses on
 *    the uplink, published by libvnet (attach, `fabric set`, monitor).
 *  - vnet_dhcp_cfg: ARRAY, 1 entry, struct vnet_dhcp_cfg.
 * Times are CLOCK_BOOTTIME nanoseconds (bpf_ktime_get_boot_ns()).
 */
#define VNET_DHCP_XACT_SECONDS 60
#define VNET_DHCP_OPEN_PER_PORT 4 /* a power of two */
#define VNET_DHCP_DEFAULT_MAX_LEASES 4
#define VNET_DHCP_MAX_LEASES_LIMIT 64
#define VNET_DHCP_DEFAULT_LEASE_SECONDS 3600 /* an ACK without option 51 */
#define VNET_MAX_LEASES 16384
#define VNET_MAX_HOST_IPS 1024
#define VNET_LEASE_INFINITE 0xffffffffffffffffull /* expires_ns of a lease without end */

struct vnet_dhcp_xact {
	vnet_u64 expires_ns;
	vnet_u32 ifindex; /* the requester's host end */
	vnet_u16 slot;
	vnet_u8 flags;    /* enum vnet_port_flag of the port */
	vnet_u8 ring;     /* its index in the port's vnet_dhcp_ring */
};

#ifdef __cplusplus
struct vnet_bpf_timer { /* the kernel's struct bpf_timer: opaque, zero when read by userspace */
	vnet_u64 opaque[2];
};
#define VNET_BPF_TIMER struct vnet_bpf_timer
#define VNET_BPF_SPIN_LOCK vnet_u32
#else
#define VNET_BPF_TIMER struct bpf_timer
#define VNET_BPF_SPIN_LOCK struct bpf_spin_lock
#endif

struct vnet_dhcp_ring {
	VNET_BPF_SPIN_LOCK lock; /* a port's requests on several CPUs take distinct places */
	vnet_u32 next; /* ever increasing; next % VNET_DHCP_OPEN_PER_PORT is the oldest */
	vnet_u32 xid[VNET_DHCP_OPEN_PER_PORT];
};

struct vnet_lease {
	vnet_u64 expires_ns; /* VNET_LEASE_INFINITE: never */
	vnet_u32 ifindex;    /* the port's host end */
	vnet_u16 slot;
	vnet_u16 pad;
	VNET_BPF_TIMER timer;
};

struct vnet_dhcp_cfg {
	vnet_u32 max_leases; /* learned leases per port; 0: VNET_DHCP_DEFAULT_MAX_LEASES */
	vnet_u32 pad;
};

/* vnet_config: a single entry, key 0, of a hash map without preallocation:
 * an update replaces the whole value at once, so a reader sees the old
 * config or the new one, never a mix of their fields. */
struct vnet_config {
	vnet_u32 abi_version;
	vnet_u32 uplink_ifindex;
	vnet_u8 uplink_mac[6];
	vnet_u8 unknown_policy; /* enum vnet_unknown_policy */
	vnet_u8 ipvlan_mode;    /* enum vnet_ipvlan_mode, for the fabric's IP-demux ports */
	vnet_u32 flags;         /* enum vnet_fabric_flag */
	vnet_u32 nr_flood;      /* unused since ABI 5 (vnet_flood_list.nr), always 0 */
	/* Nonzero while a passthru port exists: every unicast from the wire goes
	 * to it, whatever its destination MAC (kernel macvlan passthru). */
	vnet_u32 passthru_ifindex;
	vnet_u16 passthru_slot;
	vnet_u8 passthru_flags;
	vnet_u8 ipvlan_flags;   /* enum vnet_ipvlan_flag */
	/* Control plane only: cookie (SO_NETNS_COOKIE) of the network namespace
	 * the fabric was attached in. Ifindexes are per netns, so a vnetctl only
	 * acts on the fabrics of its own netns; unlike an inode, a cookie is
	 * never reused while the system runs, so a dead namespace's fabric can
	 * never be mistaken for a new namespace's. */
	vnet_u64 netns_cookie;
};

/*
 * vnet_storm: storm control (bpf/lib/storm.h), an array by slot: a port's
 * entry limits the broadcast, multicast and unknown-unicast frames that port
 * sends; slot 0 (the uplink's slot) holds the fabric's limit on group frames
 * flooded from the wire and from ports together. Each entry is a GCRA
 * ("virtual scheduling") bucket: a frame at time t passes when
 * tat_ns - t <= burst_ns, and then moves tat_ns (never behind t) on by
 * interval_ns = 1e9 / limit_pps. libvnet writes a whole entry with
 * BPF_F_LOCK (limit, interval, burst, tat 0); interval_ns 0: no limit.
 */
#define VNET_STORM_MAX_PPS 10000000u  /* 100 ns apart: the rounding of interval_ns stays below 1 % */
#define VNET_STORM_BURST_DIV 10       /* a burst of a tenth of a second's frames ... */
#define VNET_STORM_BURST_MIN 8        /* ... and at least this many */

struct vnet_storm {
	VNET_BPF_SPIN_LOCK lock; /* a slot's frames on several CPUs update tat_ns one at a time */
	vnet_u32 limit_pps;      /* as configured, for show (0: off) */
	vnet_u64 interval_ns;    /* 1e9 / limit_pps; 0: no limit */
	vnet_u64 burst_ns;       /* how far ahead of now tat_ns may run */
	vnet_u64 tat_ns;         /* when the next frame is due (bpf_ktime_get_ns) */
};

/* vnet_stats: per-CPU, one entry per slot. "rx" is what the fabric received
 * from the port (the container transmitted it), "tx" what the fabric delivered
 * to the port, as `ip -s link` counts them on the port's host end. */
struct vnet_stats {
	vnet_u64 rx_packets;
	vnet_u64 rx_bytes;
	vnet_u64 tx_packets;
	vnet_u64 tx_bytes;
	vnet_u64 flood_packets; /* copies delivered to this port by flooding */
	vnet_u64 drops[VNET_DROP__MAX];
};

VNET_STATIC_ASSERT(sizeof(struct vnet_mac_key) == 8, "vnet_mac_key layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_mac_entry) == 8, "vnet_mac_entry layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_port) == 12, "vnet_port layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_flood_entry) == 8, "vnet_flood_entry layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_flood_list) == 8 + 8 * VNET_MAX_PORTS, "vnet_flood_list layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_config) == 40, "vnet_config layout");
VNET_STATIC_ASSERT(__builtin_offsetof(struct vnet_config, nr_flood) == 20, "vnet_config.nr_flood");
VNET_STATIC_ASSERT(__builtin_offsetof(struct vnet_config, netns_cookie) == 32, "vnet_config.netns_cookie");
VNET_STATIC_ASSERT(sizeof(struct vnet_mac_front) == 8, "vnet_mac_front layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_ip_key) == 20, "vnet_ip_key layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_ip_net_key) == 24, "vnet_ip_net_key layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_ip_entry) == 8, "vnet_ip_entry layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_allow_key) == 24, "vnet_allow_key layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_dhcp_xact) == 16, "vnet_dhcp_xact layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_dhcp_ring) == 8 + 4 * VNET_DHCP_OPEN_PER_PORT, "vnet_dhcp_ring layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_lease) == 32, "vnet_lease layout");
VNET_STATIC_ASSERT(__builtin_offsetof(struct vnet_lease, timer) == 16, "vnet_lease.timer");
VNET_STATIC_ASSERT(sizeof(struct vnet_dhcp_cfg) == 8, "vnet_dhcp_cfg layout");
VNET_STATIC_ASSERT(VNET_MAX_DHCP == VNET_MAX_PORTS * VNET_DHCP_OPEN_PER_PORT, "vnet_dhcp holds every port's ring");
VNET_STATIC_ASSERT((VNET_DHCP_OPEN_PER_PORT & (VNET_DHCP_OPEN_PER_PORT - 1)) == 0, "ring size a power of two");
VNET_STATIC_ASSERT(sizeof(struct vnet_source_entry) == 8 + 8 * VNET_MAX_SOURCE_PORTS, "vnet_source_entry layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_storm) == 32, "vnet_storm layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_stats) == 8 * (5 + VNET_DROP__MAX), "vnet_stats layout");

/* ---- The VXLAN underlay guard (bpf/underlay.bpf.c) ----
 * A kernel VXLAN device takes frames for its VNI from any underlay source;
 * the guard, on the underlay's tc ingress, drops those whose outer source is
 * not one of the fabric's remotes. One guard per VXLAN fabric; its objects
 * are pinned in that fabric's directory under these names, which no other
 * fabric has. Versioned on their own (vnet_guard_config.version), so adding
 * the guard leaves VNET_ABI_VERSION and every other fabric's pins alone.
 * Not VNET_MAP_*: that prefix is the list of maps every fabric pins (the
 * upgrade and crash tests read it from this file). */
#define VNET_GUARD_VERSION 1
#define VNET_GUARD_MAP_CFG "vxguard_cfg"         /* 0 -> struct vnet_guard_config */
#define VNET_GUARD_MAP_REMOTES "vxguard_remotes" /* struct vnet_ip_key -> 1: the allowed outer sources */
#define VNET_GUARD_MAP_STATS "vxguard_stats"     /* per-CPU, 0 -> struct vnet_guard_stats */
#define VNET_PIN_GUARD_LINK "link_vxguard"       /* the tcx link on the underlay's ingress */
#define VNET_GUARD_MAX_REMOTES 1024
#define VNET_VXLAN_PORT_DEFAULT 4789

enum vnet_guard_flag {
	/* Control plane only: the guard is a cls_bpf filter (no tcx), at
	 * handle VNET_GUARD_CLS_HANDLE_BASE | vni. */
	VNET_GUARD_F_CLS_BPF = 1u << 0,
};
#define VNET_GUARD_CLS_HANDLE_BASE 0x76000000u
#define VNET_GUARD_CLS_PRIORITY 0xbf00u /* before vnet's own filter (0xc000) */

/* vxguard_cfg: written once, before the program is attached. */
struct vnet_guard_config {
	vnet_u32 vni;              /* 24 bits, host order */
	vnet_u16 dstport;          /* UDP destination port, host order */
	vnet_u8 flags;             /* enum vnet_guard_flag */
	vnet_u8 version;           /* VNET_GUARD_VERSION */
	vnet_u32 underlay_ifindex; /* control plane only */
	vnet_u32 pad;
};

/* vxguard_stats: per-CPU counters of one guard. */
struct vnet_guard_stats {
	vnet_u64 dropped_packets;  /* the fabric's VNI/port from a source not allowed */
	vnet_u64 dropped_bytes;
	vnet_u64 allowed_packets;  /* the fabric's VNI/port from an allowed remote */
	vnet_u64 fragments_passed; /* IP fragments after the first, passed unchecked (no UDP header) */
};

VNET_STATIC_ASSERT(sizeof(struct vnet_guard_config) == 16, "vnet_guard_config layout");
VNET_STATIC_ASSERT(sizeof(struct vnet_guard_stats) == 32, "vnet_guard_stats layout");

#endif /* VNET_ABI_H */
