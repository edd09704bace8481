"""vnetkit: everything vnet's namespace tests share, in one package.

    import vnetkit as vk
    from vnetkit import ipvlan as it        # the specialised parts, by module

The general helpers are names of the package itself (vk.Topology,
vk.build_l2, vk.ping, vk.Checks, vk.fabric_doc, ...); each lives in the
module that owns its job:

    fixture     run(), unique names, Topology (namespaces, fabrics, the vnetctl
                runner, teardown), root/tool checks, signals, leak checks,
                old vnetctls from git history
    topology    build_l2 (switch, ext, host, containers), build_ports, link
                facts (mac_of, addresses), neighbours, switch hairpin
    probes      ping, arping, ndisc6, iperf3, endpoint reachability, expect()
    vnetstate   vnetctl show/stats documents, counters, pinned links, tcx
    capture     tcpdump captures and NS listeners while a test sends
    frames      scapy-crafted frames and how they are recognised again
    checks      Checks: named checks, summary, exit status
    matrix      reachability matrices of build_l2 against the spec

Specialised modules, imported by name: ipvlan (the ipvlan topology),
framecount (per-frame delivery counts), and the scripts that run inside
namespaces: txring (non-linear skbs), udpseq (sequenced UDP streams),
tapvm (a VM-like endpoint on a tap).

Tests run as scripts from tests/netns, so the package is on sys.path with no
setup (Python puts the script's directory first).
"""
from .checks import Checks
from .fixture import (OLD_ABIS, PIN_ROOT, PY, SRC, VNETCTL, CommandError, Topology, exit_on_signals,
                      fabric_map_names, host_exec, leftovers, old_vnetctl, reap, require_root, require_tools, run,
                      script, skip, spawn, temp_file, unique, wait_until, which)
from .topology import (NET, addresses, build_l2, build_ports, flush_neighbours, link_json, link_local, mac_of,
                       set_switch_hairpin, static_neighbour, wait_dad, wait_ready)
from .probes import (Pinger, arping, arping_mac, expect, expect_reach, forget, iperf, ndisc6, ping, ping_all,
                     ping_count, reaches, unicast_count)
from .vnetstate import (container_ports, drops_grew, fabric_doc, fabric_drops, pinned_links, port_stats, prog_names,
                        stat, tcx_ingress, vnet_link_ids, vnetctl_pids_in)
from .capture import Capture, Sniffer, Tcpdump, capture, capture_during, counting_ns, interrupt, sniffing, src_macs
from .frames import (BROADCAST, TEST_ETHERTYPE, broadcasts, expect_copies, garp, key_of, marker_udp4, scapy_send,
                     send_frames, solicited_node, test_frame)
from . import framecount, ipvlan, matrix, udpseq  # noqa: F401  (specialised modules, used by name)
