// vnetctl's help texts, one per command, written like a man page's synopsis.
#ifndef VNET_VNETCTL_HELP_H
#define VNET_VNETCTL_HELP_H

namespace vnet {

inline constexpr const char* kMainHelp = R"(usage: vnetctl [-j|--json] COMMAND [ARGS...]

vnet switches frames between an uplink NIC and veth/tap ports with XDP and tc
programs, with the semantics of macvlan/macvtap (bridge, vepa, private,
passthru and source modes) and of ipvlan (ports found by IP address, sharing
the uplink's MAC; l2, l3 and l3s modes) and what those drivers cannot do: host<->port traffic,
per-port hairpin, isolation, anti-spoofing, drop reasons. State lives in
pinned BPF objects under /sys/fs/bpf/vnet/FABRIC/: forwarding continues after
vnetctl exits. vnetctl acts on the fabrics of its own network namespace.

commands:
  attach UPLINK [--fabric NAME] [--type macvlan|ipvlan] [--host on|off] ...
                                  put a fabric on UPLINK (vnetctl help attach)
  attach --vxlan VNI --underlay DEV [--local ADDR] [--remote ADDR]... [--dstport PORT]
         [--vxlan-name NAME] [--fabric NAME] [attach options]
                                  create VXLAN device vx<VNI> on DEV and put a fabric
                                  on it: one segment across hosts (docs/multihost.md)
  detach UPLINK|NAME              remove a fabric, its programs, pins and the ports vnet created
  fabric set NAME [--host on|off] [--unknown pass|drop] [--ipvlan-mode M] [--ipvlan-flag F]
                  [--dhcp-max-leases N] [--storm-limit PPS|off]
                                  change a live fabric's policies
  port add DEV --fabric NAME [OPTIONS]
  port add --fabric NAME --netns NS [--ifname IF] [OPTIONS]
  port add --fabric NAME --tap TAP [--user U] [--group G] [OPTIONS]
                                  attach a veth/tap, or create one (vnetctl help port)
  port set DEV [--type T] [--mode M] [--mac MAC] [--hairpin on|off] [--isolated on|off] ...
                                  change a port at runtime (--allow-ip: its IP source filter)
  port del DEV                    detach a port (and delete it, if vnet created it)
  source add|del DEV MAC          a source-mode port's list of source MACs
  source flush DEV
  ip add|del DEV ADDR[/PLEN]      an ipvlan port's addresses (vnetctl help ip)
  ip flush DEV
  vxlan remote add|del FABRIC ADDR
  vxlan remote list FABRIC        the remote hosts a VXLAN fabric floods to (vnetctl help vxlan)
  show [NAME]                     fabrics, uplinks, modes and ports
  doctor                          what this kernel and these devices support, what will not work
  stats [DEV]                     per-port rx/tx/flood counters and drops by reason
  down                            remove every fabric in this network namespace
  gc                              remove dead fabrics (uplink or network namespace gone)
                                  of every namespace; print what was removed
  apply FILE [--dry-run] [--wait SECONDS]
                                  make the running fabrics equal to FILE (docs/config.md);
                                  idempotent, used at boot by vnet.service; --wait lets
                                  late uplinks appear first
  reload [NAME]                   replace the running programs of NAME (default: all) with
                                  this build's, atomically, keeping tables and counters
  monitor [--once]                keep ports in step with their uplinks (carrier, MTU,
                                  deletion), like macvlan children follow their lower
                                  device; runs until stopped (vnet-monitor.service)
  help [COMMAND]                  this text, or a command's

-j, --json prints one JSON document with the same fields as the text form.
Errors go to stderr as one line naming the object and the cause, the exit
status is non-zero, and the system is left as it was.
)";

inline constexpr const char* kAttachHelp = R"(usage: vnetctl attach UPLINK [--fabric NAME] [--type macvlan|ipvlan]
                      [--ipvlan-mode l2|l3|l3s] [--ipvlan-flag bridge|private|vepa]
                      [--host on|off] [--unknown pass|drop] [--xdp-mode auto|native|generic|none]
                      [--xdp-redirect auto|on|off] [--tc-hook auto|tcx|cls_bpf] [--force]
                      [--dhcp-max-leases N] [--storm-limit PPS|off]
       vnetctl attach --vxlan VNI --underlay DEV [--local ADDR] [--remote ADDR]...
                      [--dstport PORT] [--vxlan-name NAME] [--fabric NAME] [the options above]

Loads the vnet programs and maps for a new fabric on UPLINK: XDP on receive
(unicast fast path, early drop), tc ingress (flooding, source copies, host
copies) and tc egress (host-to-port delivery with --host on, and to hairpin
ports).
  --fabric NAME   the fabric's name (default: UPLINK); its pins live in
                  /sys/fs/bpf/vnet/NAME/
  --type macvlan|ipvlan
                  the kind `port add` gives a port that does not choose one
                  (with --type, or ipvlan by giving --ip). Default macvlan.
                  macvlan ports are found by their MAC; ipvlan ports share the
                  uplink's MAC and are found by their IP addresses. One fabric
                  may hold both kinds.
  --ipvlan-mode l2|l3|l3s
                  how the fabric's ipvlan ports reach the world, as the
                  kernel's ipvlan modes (default l3):
                  l2   ports do their own ARP/ND; broadcast and multicast
                       reach them; DHCP works
                  l3   vnet answers ARP/ND for port addresses and routes by IP
                       through the host's routing table (no group frames)
                  l3s  as l3, but routed through the host stack so netfilter
                       sees the traffic: vnet adds a host route and a
                       permanent neighbour per port address on the port's
                       host end and turns on forwarding on UPLINK (restored at
                       detach) and the host ends
  --ipvlan-flag bridge|private|vepa
                  how ipvlan ports reach each other (default bridge):
                  bridge directly, private never, vepa out through UPLINK
  --host on       the host stack (UPLINK's own addresses) and the ports reach
                  each other directly, in every mode but private; macvlan
                  cannot do this without a hairpinning switch. Default off.
  --unknown drop  drop unicast to no port (and not to UPLINK's MAC) in XDP,
                  counted as unknown_dst; default pass hands it to the host
  --xdp-mode      native (driver), generic (skb), none (tc only), or auto: none
                  on a veth uplink (its frames are skbs already, and XDP there
                  would take GSO from its peer), else native, else generic
  --xdp-redirect auto|on|off
                  on: unicast from the wire to a port is redirected in XDP;
                  off: it takes the tc path like flooded frames. auto (default):
                  on for a NIC, off for a veth uplink, whose peer may hand over
                  partially checksummed packets and offloaded VLAN tags that an
                  XDP redirect cannot carry. With a NIC whose rx VLAN offload is
                  on, XDP cannot see tags either: `ethtool -K NIC rxvlan off`.
  --tc-hook       how tc programs attach, for the uplink and every port:
                  tcx (Linux 6.6+, pinned links, coexists with other programs),
                  cls_bpf (a filter on the clsact qdisc, for older kernels),
                  auto (tcx when the kernel has it; the default)
  --dhcp-max-leases N
                  DHCP leases each l2 ipvlan port may hold (1-64, default 4).
                  An ACK from the wire registers its address for the port
                  until the lease (option 51) ends; one beyond the cap, for
                  the host's or another port's address, or reflected from a
                  port is dropped (not delivered) and counted as dhcp.
  --storm-limit PPS|off
                  storm control for the whole fabric: at most PPS group
                  (broadcast and multicast) frames a second are flooded,
                  from the wire, the host stack and the ports together, with
                  bursts of a tenth of a second's worth (at least 8 frames).
                  The rest are dropped and counted as storm (on the slot the
                  frame came from; the host stack's still leave on the wire,
                  without copies to the ports). 1 to 10000000; off or 0: no
                  limit (the default). Unknown unicast is never flooded by
                  vnet, so no limit applies to it (docs/operations.md).
  --force         replace an XDP program on UPLINK that vnet does not own

VXLAN (one segment across hosts over an IP underlay, docs/multihost.md):
  --vxlan VNI     create a VXLAN device for VNI (1-16777215) and use it as
                  UPLINK; the fabric is named after the device unless --fabric.
                  detach (and down, and gc) delete the device again; a VXLAN
                  device you made yourself (`ip link add vx9 type vxlan ...`)
                  is attached as a plain UPLINK instead and is never deleted.
  --underlay DEV  the device the encapsulated frames leave by (required)
  --local ADDR    the source address, one of DEV's (default: DEV's first global
                  address of the remotes' family; IPv4 when no remote is given)
  --remote ADDR   (repeatable) a remote host: broadcast, multicast and unknown
                  unicast are copied to each (head-end replication); unicast to
                  a MAC learned behind one goes to that one. Same family as the
                  local address. Change the list later with `vnetctl vxlan remote`.
  --dstport PORT  the UDP port (default 4789)
  --vxlan-name NAME
                  the device's name (default vx<VNI>); a device by that name
                  must not exist
The device gets DEV's MTU minus 50 over IPv4 (70 over IPv6), and ports get
the device's MTU; a port with a larger MTU is refused. An underlay guard on
DEV drops this VNI's frames from any source that is not a remote. XDP stays off on it
under --xdp-mode auto, as on a veth (its frames are skbs already).
)";

inline constexpr const char* kPortHelp = R"(usage: vnetctl port add DEV --fabric NAME [OPTIONS]
       vnetctl port add --fabric NAME --netns NS [--ifname IF] [--mtu N] [OPTIONS]
       vnetctl port add --fabric NAME --tap TAP [--user U] [--group G] [--multi-queue] [OPTIONS]
       vnetctl port add ... --type ipvlan | --ip ADDR[/PLEN]... [--isolated on|off] [--spoofchk on|off]
       vnetctl port set DEV [--type macvlan|ipvlan] [--mode M] [--mac MAC] [--hairpin on|off]
                        [--isolated on|off] [--spoofchk on|off] [--nodst on|off]
                        [--allow-ip ADDR|NET/PLEN]... | [--allow-ip none] [--storm-limit PPS|off]
       vnetctl port del DEV

port add attaches a veth host end (or a tap) DEV. With --netns it first
creates the pair, moves the peer into NS as IF (default eth0) and brings both
up, like `ip link add link UPLINK name IF type macvlan mode M; ip link set IF
netns NS`. With --tap it creates a persistent tap for a VM (like `ip tuntap
add TAP mode tap user U group G`), the vnet equivalent of a macvtap device.
--multi-queue makes a tap a VM manager opens with several queues (QEMU
queues=N, which then needs IFF_MULTI_QUEUE too). It prints the port's device name.
The pair gets the uplink's MTU (on a VXLAN fabric: the overlay MTU), or
--mtu N (--netns only); a port above the uplink's MTU is refused.
options:
  --mode bridge|vepa|private|passthru|source
                   default vepa, as macvlan's. passthru: the only port of the
                   fabric, takes every unicast from the uplink, and inherits the
                   uplink's MAC. source: receives copies of frames from the MACs
                   in its source list (and unicast to its own MAC goes to the host).
  --mac MAC        the port's MAC (default: the veth peer's, or the tap's); set on
                   the peer. A MAC equal to the uplink's or another port's is
                   refused (address in use).
  --source MAC     (repeatable, mode source) initial source list
  --nodst          (mode source) frames from listed sources go to this port only
  --hairpin on|off the fabric reflects this port's frames like a hairpinning
                   switch: vepa ports reach their siblings (and the host) through vnet
  --isolated on|off  isolated ports never exchange frames with each other
  --spoofchk on|off  drop frames (and ARP claims) from the port with a source
                   MAC that is not its own, and from an ipvlan port with a
                   source IP that is not its own (default on)
  --allow-ip ADDR|NET/PLEN
                   (repeatable, IPv4 or IPv6, macvlan ports) the only IP
                   sources the port may send from, and the only addresses its
                   ARP and Neighbour Advertisements may claim; anything else
                   is dropped and counted as spoofed_ip. Exceptions: DHCP
                   from 0.0.0.0, DAD and MLD from ::, and the link-local the
                   kernel derives from the port's MAC (EUI-64). Frames that
                   are neither IP, ARP nor ND are not concerned. Without
                   --allow-ip nothing is checked but the source MAC (this is
                   libvirt's clean-traffic, OpenStack's allowed address pairs).
                   ADDR            one address (/32 or /128)
                   NET/PLEN        a prefix, host bits zero (0.0.0.0/0 lets
                                   every IPv4 source through and still checks
                                   IPv6)
                   ADDR/PLEN with host bits set is refused: give the address or
                   the prefix. Multicast, broadcast and unspecified addresses
                   are refused; so are duplicates and more than 64 entries.
                   port set replaces the whole list; --allow-ip none (alone)
                   clears it. Refused on ipvlan ports, whose sources are their
                   --ip addresses.
  --storm-limit PPS|off
                   storm control: at most PPS broadcast and multicast frames
                   a second from this port (bursts of a tenth of a second's
                   worth, at least 8 frames); the rest are dropped before
                   they are flooded or sent out, counted as storm on the
                   port. What passes still counts against the fabric's
                   --storm-limit. 1 to 10000000; off or 0: no limit (the
                   default). port set changes it live.
  --type macvlan|ipvlan
                   the port's kind; default: ipvlan if --ip is given, else the
                   fabric's --type. An ipvlan port shares the uplink's MAC and
                   is found by its addresses; --mode, --mac, --hairpin, --nodst
                   and --source are refused on it (its mode is the fabric's
                   --ipvlan-flag).
  --ip ADDR[/PLEN] (repeatable, IPv4 or IPv6, ipvlan ports)
                   ADDR            an address of the port (/32 or /128)
                   ADDR/PLEN       ADDR on subnet /PLEN (host bits set): the
                                   port owns ADDR; with --netns, ADDR/PLEN is
                                   configured on IF
                   NET/PLEN        a prefix routed to the port (host bits zero)
                   An address or prefix another port owns is refused.
With --netns, an ipvlan port's IF gets the uplink's MAC, IPv6 addr_gen_mode
none and a link-local vnet derives from the uplink's MAC and the port's slot,
its addresses, and in l3/l3s NOARP and a default route `default dev IF`
(IPv4 and IPv6). An existing DEV only has its addresses registered; the
container side is the operator's to configure.
port set changes these at runtime; a change to or from passthru is refused,
and leaving source mode flushes the source list, as the kernel does.
--type changes a port's kind: to ipvlan drops its MAC table entry, and is
refused while the port has an --allow-ip list unless the same command says
--allow-ip none; to macvlan is refused while it has addresses (vnetctl ip
flush DEV first), and may give the new list (--type macvlan --allow-ip ...).
A list change never opens a gap: new entries are written before the old ones
go, and the check is switched on only once its list is complete.
)";

inline constexpr const char* kSourceHelp = R"(usage: vnetctl source add DEV MAC
       vnetctl source del DEV MAC
       vnetctl source flush DEV

The source list of a source-mode port DEV (macvlan's `macaddr add|del|flush`):
every frame from the uplink whose source MAC is listed is also copied to DEV;
with --nodst on DEV, only to DEV. Lists exist only for source-mode ports.
)";

inline constexpr const char* kIpHelp = R"(usage: vnetctl [-j] ip add DEV ADDR[/PLEN]
       vnetctl [-j] ip del DEV ADDR[/PLEN]
       vnetctl [-j] ip flush DEV

The addresses of an ipvlan port DEV, changed live (the form of ADDR[/PLEN] is
port add's --ip: an address, an address on a subnet, or a routed prefix).
add refuses an address or prefix any port already owns; del without /PLEN
removes the address whatever its prefix length. For a port vnet created with
--netns, the address is also added to (removed from) the container's
interface; in l3s mode, the host route and neighbour follow. flush removes
every address but the link-local vnet gave the port, learned (DHCP) ones
included. Refused on macvlan ports.
)";

// Short pages for the commands without a long one: `vnetctl help COMMAND`.
struct CommandHelp {
  const char* command;
  const char* text;
};
inline constexpr CommandHelp kCommandHelp[] = {
    {"vxlan", R"(usage: vnetctl vxlan remote add FABRIC ADDR
       vnetctl vxlan remote del FABRIC ADDR
       vnetctl [-j] vxlan remote list FABRIC

The remote hosts of a VXLAN fabric (one attached with --vxlan, or to a VXLAN
device of the user's): the head-end replication list, kept by the kernel as
FDB entries of the all-zeros MAC on the fabric's VXLAN device.
  add   appends ADDR: broadcast, multicast and unknown unicast are copied to it
        from now on. The other remotes' traffic is not disturbed.
  del   removes ADDR, and forgets the MACs learned behind it, so nothing is
        sent to it any more, flooded or unicast.
  list  the remotes, one per line (with -j: {"fabric": F, "remotes": [...]}).
ADDR is an IPv4 or IPv6 unicast address of the local address's family.
Refused, changing nothing: a fabric that is not a VXLAN fabric, a remote
already in the list (add) or not in it (del), an address of the other family
or not a unicast address.
)"},
    {"detach", R"(usage: vnetctl detach UPLINK|NAME

Removes a fabric: every port's program (and the veth pairs and taps vnet
created for ports), the uplink's XDP and tc programs, promiscuous mode if vnet
set it, and every pin under /sys/fs/bpf/vnet/NAME, and the VXLAN device
`attach --vxlan` created. Devices vnet did not create stay. Works on a defunct fabric (uplink deleted) and on one an
interrupted vnetctl of this version left half-built here. A fabric made by
another vnet version is left as it is, with an error saying so (`vnetctl
reload NAME` first migrates an older one); one of another network namespace
cannot be named (`vnetctl gc` removes it once dead).
)"},
    {"show", R"(usage: vnetctl [-j] show [NAME]

Fabrics of this network namespace (or the one named, by fabric or uplink):
uplink, XDP mode and whether unicast from the wire is redirected in XDP, the
tc hook, policies (unknown, host), and each port's device, MAC, mode, state
(up, down, no-carrier) and flags; source-mode ports list their sources.
A fabric shows its type, ipvlan mode and ipvlan flag; an ipvlan port has no
mode ("-", null in JSON) and lists its addresses (and prefixes, as NET/PLEN),
marked learned (from DHCP) or link-local (given by vnet). A macvlan port with
--allow-ip has the flag allow-ip and an "allow-ip:" line listing its entries
as ADDR/PLEN (JSON: "allow_ips", a list of strings, empty without a list).
DEFUNCT marks a fabric whose uplink is gone. Without NAME, fabrics whose
network namespace died are listed too, DEFUNCT, with uplink <gone> and no
ports, in every namespace, until `vnetctl gc` (or attach of the same name,
or down) removes them.
)"},
    {"stats", R"(usage: vnetctl [-j] stats [DEV|NAME]

Counters of every uplink and port (or of one device, or one fabric's): rx is
what the fabric received from the device, tx what it delivered to it, flooded
the copies among tx; dropped, with the reason of each drop (see
docs/operations.md for what each reason means).
)"},
    {"doctor", R"(usage: vnetctl [-j] doctor

What this kernel offers vnet (bpffs, BTF, tcx, the helpers vnet uses, pktgen),
probed rather than inferred from the version; each Ethernet device's XDP
features (native XDP, redirect target) and what is attached to it; and what
will not work here. Changes nothing.
)"},
    {"apply", R"(usage: vnetctl [-j] apply FILE [--dry-run] [--wait SECONDS]

Makes this namespace's fabrics equal to FILE (TOML, docs/config.md): creates
what is missing, changes what differs (in place where it can), removes
fabrics and ports vnet runs that FILE lacks. Idempotent. A file with any
error (syntax, value, missing device or namespace) changes nothing, and the
error names the file, line and field. An interrupted apply is finished by the
next. --dry-run prints the plan; --wait lets late devices appear first.
)"},
    {"reload", R"(usage: vnetctl [-j] reload [NAME]

Replaces the running programs of NAME (default: every fabric here) with the
ones built into this vnetctl: all new programs are loaded against the pinned
maps first (tables and counters carry over), then each attachment is switched
atomically (bpf_link_update with BPF_F_REPLACE, or BPF_TC_F_REPLACE for
cls_bpf). If anything cannot load, nothing live is touched. A fabric made by
an older vnet (ABI 2 and on) is migrated: maps whose layout changed are
copied into new ones before the switch. A reload (or migration) killed at
any point leaves the old or the new programs serving; the next vnetctl
command that changes state finishes or undoes it.
)"},
    {"down", R"(usage: vnetctl [-j] down

Removes every fabric of this network namespace (as detach does), what an
interrupted vnetctl left half-built here, dead fabrics of this namespace and
those whose namespace is gone. Nothing vnet did not create is touched.
Fabrics of another vnet version are left, each named on stderr ("left
NAME: made by vnet ABI 4; ..."); -j lists them under "left".
)"},
    {"gc", R"(usage: vnetctl [-j] gc

Removes dead fabrics, in every network namespace: a fabric is dead when its
uplink is gone -- deleted, or gone with its network namespace -- which vnet
sees from the pins alone (its pinned XDP or tcx link reports no device; with
cls_bpf and no XDP, its uplink program is no longer loaded), or when the
monitor marked it defunct. A dead fabric of a live namespace is removed from
inside that namespace, as detach does (its ports' programs go, and the veth
pairs and taps vnet created); one whose namespace is gone loses its pins
(its devices went with the namespace). Fabrics of any vnet version are
collected: a dead fabric forwards nothing. Also removes what an interrupted
vnetctl left half-built here. Afterwards nothing of a dead fabric is pinned
under /sys/fs/bpf/vnet.
Prints one line per fabric removed ("removed fabric NAME: REASON"), or "no
dead fabrics"; with -j, {"removed": [{"fabric": NAME, "reason": REASON}]}.
attach collects a dead fabric of the same name or on the same uplink, and
down those of its namespace and of dead namespaces, without gc.
)"},
    {"monitor", R"(usage: vnetctl monitor [--once]

Keeps ports in step with their uplinks, as macvlan children follow their lower
device: uplink without carrier -> ports lose carrier and forward nothing;
uplink back -> ports back; uplink MTU lowered -> port MTUs clamped; uplink
deleted -> fabric defunct; port devices deleted behind vnet's back are
forgotten. Prints each change; runs until SIGTERM (vnet-monitor.service), or
one pass with --once.
)"},
    {"fabric", R"(usage: vnetctl [-j] fabric set NAME [--host on|off] [--unknown pass|drop]
                              [--ipvlan-mode l2|l3|l3s] [--ipvlan-flag bridge|private|vepa]
                              [--dhcp-max-leases N] [--storm-limit PPS|off]

Changes a live fabric's policies without touching its ports: --host (the host
stack as a member of the fabric), --unknown (unicast to no port: to the host
stack, or dropped in XDP), the ipvlan mode and flag of its ipvlan ports, the
fabric's storm limit on flooded group frames (off: none) and
the DHCP leases each l2 ipvlan port may hold (see vnetctl help attach; a
lower cap keeps existing leases until they end). Entering l3s adds the host routes, neighbours and
forwarding l3s needs, leaving it removes them; the container side of ports
vnet created follows l2 (ARP on) or l3/l3s (NOARP, default route), as the
kernel flips its ipvlan slaves' NOARP.
)"},
};

}  // namespace vnet

#endif
