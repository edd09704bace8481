// vnetctl's help texts, one per command, written like a man page's synopsis.
#ifndef VNET_VNETCTL_HELP_H
#define VNET_VNETCTL_HELP_H

namespace vnet {

inline constexpr const char* kMainHelp = R"(usage: vnetctl [-j|--json] COMMAND [ARGS...]

vnet switches frames between an uplink NIC and veth/tap ports with XDP and tc
programs, with the semantics of macvlan (bridge, vepa, private modes).
State lives in pinned BPF objects under /sys/fs/bpf/vnet/FABRIC/: forwarding
continues after vnetctl exits.

commands:
  attach UPLINK [--fabric NAME] [--type macvlan] [--unknown pass|drop]
                [--xdp-mode auto|native|generic] [--xdp-redirect on|off]
                [--tc-hook auto|tcx|cls_bpf] [--force]
                                  put a fabric on UPLINK
  detach UPLINK|NAME              remove a fabric, its ports' programs and its pins
  port add DEV --fabric NAME [--mode M] [--mac MAC] [--spoofchk on|off]
                                  attach an existing veth host end or tap as a port
  port add --fabric NAME --netns NS [--ifname IF] [--mode M] [--mac MAC] ...
                                  create a veth pair, put IF into NS, attach the host end
  port del DEV                    detach a port (and delete it, if vnet created it)
  show [NAME]                     fabrics, uplinks, modes and ports
  stats [DEV]                     per-port rx/tx/flood counters and drops by reason
  down                            remove every fabric in this network namespace
  help [COMMAND]                  this text, or a command's

modes (as macvlan): bridge  ports talk locally, the rest goes out the uplink
                    vepa    everything goes out the uplink (default)
                    private like vepa, and group frames never reach siblings

-j, --json prints one JSON document with the same fields as the text form.
Errors go to stderr as one line and leave the system as it was.
)";

inline constexpr const char* kAttachHelp = R"(usage: vnetctl attach UPLINK [--fabric NAME] [--type macvlan|ipvlan]
                      [--unknown pass|drop] [--xdp-mode auto|native|generic]
                      [--xdp-redirect on|off] [--tc-hook auto|tcx|cls_bpf] [--force]

Loads the vnet programs and maps for a new fabric on UPLINK: XDP on receive
(unicast fast path, early drop) and tc ingress (flooding, host copies).
  --fabric NAME   the fabric's name (default: UPLINK); its pins live in
                  /sys/fs/bpf/vnet/NAME/
  --unknown drop  drop unicast to no port (and not to UPLINK's MAC) in XDP,
                  counted as unknown_dst; default pass hands it to the host
  --xdp-mode      native (driver), generic (skb) or auto (native, else generic)
  --xdp-redirect on|off
                  on (default): unicast from the wire to a port is redirected in
                  XDP; off: it takes the tc path like flooded frames (for NICs
                  whose XDP redirect misbehaves, and to measure the difference)
  --tc-hook       how tc programs attach, for the uplink and every port:
                  tcx (Linux 6.6+, pinned links, coexists with other programs),
                  cls_bpf (a filter on the clsact qdisc, for older kernels),
                  auto (tcx when the kernel has it; the default)
  --force         replace an XDP program on UPLINK that vnet does not own
)";

inline constexpr const char* kPortHelp = R"(usage: vnetctl port add DEV --fabric NAME [OPTIONS]
       vnetctl port add --fabric NAME --netns NS [--ifname IF] [OPTIONS]
       vnetctl port del DEV

port add attaches a veth host end (or tap) DEV; with --netns it first creates
the pair, moves the peer into NS as IF (default eth0) and brings both up,
like `ip link add link UPLINK name IF type macvlan mode M; ip link set IF netns NS`.
It prints the host end's name.
  --mode bridge|vepa|private   default vepa, as macvlan's
  --mac MAC        the port's MAC (default: the peer's); set on the peer
  --spoofchk on|off  drop frames from the port with another source MAC (default on)
A MAC equal to the uplink's or another port's is refused (address in use).
)";

}  // namespace vnet

#endif
