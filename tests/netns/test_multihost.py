#!/usr/bin/env python3
"""Issue 13, proven: one vnet segment across three hosts on a routed underlay
(vnetkit/multihost.py draws it), nine containers made by the CNI plugin.

    test_multihost.py matrix    the differential and the traffic facts
    test_multihost.py ops       isolation, DHCP, remotes and hosts changing
    test_multihost.py v6        the plugin's VXLAN keys over an IPv6 underlay
    test_multihost.py ipvlan    ipvlan-kind ports across hosts, l2 and l3

matrix: the VXLAN devices are user-made (`ip link add ... type vxlan`), the
CNI `master` names them. The same nine containers (modes: a3 vepa, b3
private, the rest bridge) are made once by the reference `macvlan` plugin
(kernel macvlan on the VXLAN devices) and once by `vnet-macvlan`, in this
run; for each: the IPv4 and IPv6 ping matrix (72 ordered pairs each) and
the copies of broadcasts from a1, a3 and b3 counted at every container.
Both must equal the model (multihost.spec_reach) and each other. Then, vnet
only: ARP and ND answered across hosts with the right MAC; a unicast burst
to a MAC behind host B reaches B's underlay and never C's (the VXLAN FDB
learned it), and follows that MAC when it moves to a container on C; the ports have the overlay MTU (1450), a 1450-byte packet
crosses hosts unfragmented, a larger MTU is refused by the plugin.

ops: vnet only, all bridge ports, every host built by the plugin's VXLAN
keys (`vxlan`, `underlay`, `remotes`, `dstport`): a first ADD asking more
than the overlay MTU makes nothing; the first ADD on a host makes vx42 and
the fabric, the later ones reuse it; conflicting keys are code 7 (code 6 for
a wrong type) and leave nothing. Isolated ports on one host do not reach
each other, across hosts they do (the remote host is the wire). dnsmasq in
a container on A leases to containers on B and C, which then talk with the
leased addresses. A remote removed and added again at runtime (`vnetctl
vxlan remote del|add`) under a ping
to the other host (0.05 s apart): no loss there, and the removed host is
unreachable for fresh ARP both ways (A's underlay guard refuses C) until it
is back. A container sending from an
address IPAM did not give it (anti-spoofing, `allowIPs`) reaches no other
host: not one frame from or about it arrives there. Host C's namespace deleted: A
and B keep talking, loss-free.

v6: the same hosts with VXLAN over the IPv6 underlay (the plugin's keys with
`local` and IPv6 `remotes`): every pair of four containers reaches over
IPv4 and IPv6, the fabric shows them, ports get 1430 (1500 - 70) and 1430
bytes cross.

ipvlan: six containers (two per host) made by `vnet-ipvlan` with the
plugin's VXLAN keys, first all in mode l2, then (every DEL, each host's
fabric and vx42 detached) all in l3, flag bridge. This kernel has no ipvlan
driver, so the expectations are docs/semantics.md section 6 (the forwarding
spec's ipvlan rules), not a differential. For each mode: every
port has its host's U (the MAC of that host's vx42, the uplink), the three
differ; the IPv4 and IPv6 matrices of all 30 ordered pairs (across hosts and
on one host) are full. ARP and ND from a container: in l2 the request crosses
hosts and the remote container answers with its MAC, which is the remote
host's U (what a kernel ipvlan l2 slave of that host's VXLAN device would
answer too: slaves share their master's MAC); in l3 vnet answers any ARP or
NS from a port with the local host's U (spec 6.2; a kernel l3 slave is NOARP
and the kernel drops its ARP on egress, so there is nothing to compare), and
what crosses hosts is each host's own resolution on vx42, which the remote
host's vnet answers with its U (spec 6.1: host A's neighbour entry for b1 is
host B's U). l3 leaves through the host's FIB (spec 6.2: what it will not
forward goes to the host stack, which drops it), so each host needs a route
for the overlay out of vx42: before the test adds it, cross-host pings fail
and those on one host pass. (Kernel ipvlan l3 routes with the master as
output interface, and IPv4 output with an interface and no route assumes
the destination on-link; vnet's bpf_fib_lookup assumes nothing.) A container sending from an address it does not own
(IPv4 and IPv6, `ip addr add` + ping -I) is answered by no one, not one
frame from or about that address reaches a container on its host or the
others, and only its port's `spoofed_ip` count grows; from its own
addresses it is answered.

Exit 0 pass, 1 fail, 77 skip (not root, tools or plugins missing).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import vnetkit as vk
from vnetkit import cni, engines, enginenet
from vnetkit import multihost as mh_

PART = sys.argv[1] if len(sys.argv) > 1 else "matrix"
MODES = {"a1": "bridge", "a2": "bridge", "a3": "vepa",
         "b1": "bridge", "b2": "bridge", "b3": "private",
         "c1": "bridge", "c2": "bridge", "c3": "bridge"}
NAMES = list(MODES)
SENDERS = ("a1", "a3", "b3")  # a bridge, a vepa and a private sender
BURST = 20
# ops builds its hosts with the plugin's VXLAN keys (the first ADD on a host
# makes the VXLAN device and fabric); matrix keeps user-made VXLAN devices,
# which kernel macvlan needs too.
KEYS = PART in ("ops", "v6", "ipvlan")


def main():
    vk.require_root()
    vk.exit_on_signals()
    vk.require_tools("tcpdump", "ping", "arping", "ndisc6", "scapy", "bridge")
    plugins = ["vnet-ipvlan"] if PART == "ipvlan" else ["vnet-macvlan"] + (["macvlan"] if PART == "matrix" else [])
    for p in plugins:
        if not engines.plugin_dir(p):
            vk.skip(f"the CNI plugin {p} is not built or installed")
    if PART == "ops":
        vk.require_tools("dnsmasq", "dhclient")
    checks = vk.Checks()
    start = time.time()
    mh = mh_.MultiHost("mh", family=6 if PART == "v6" else 4)
    try:
        with mh:
            mh_.build_underlay(mh)
            if not KEYS:
                for h in mh.hosts.values():
                    mh_.make_vxlan(mh, h)
            print(f"     underlay{'' if KEYS else ' and VXLAN'} up ({time.time() - start:.1f}s)", flush=True)
            {"matrix": part_matrix, "ops": part_ops, "v6": part_v6, "ipvlan": part_ipvlan}[PART](mh, checks)
    except Exception:  # pylint: disable=broad-except
        import traceback
        checks.fail("setup/teardown", traceback.format_exc())
    checks.finish(f"multihost {PART}", start, [mh])


# -- matrix ------------------------------------------------------------------

def observe(mh, plugin):
    """Everything compared about one plugin's nine containers."""
    t = time.time()
    mh_.add_containers(mh, plugin, MODES)
    seen = {"ipv4": mh_.reach_matrix(mh, NAMES, 4), "ipv6": mh_.reach_matrix(mh, NAMES, 6)}
    seen["broadcast"] = broadcast_copies(mh)
    print(f"     {plugin}: containers, matrices and broadcasts in {time.time() - t:.1f}s", flush=True)
    return seen


def broadcast_copies(mh):
    """{(sender, receiver): copies} of 3 broadcasts from each of SENDERS, captured on every container."""
    frames = {s: vk.broadcasts(s, mh.info[s]["mac"], 3, "mh") for s in SENDERS}

    def send():
        for s, fs in frames.items():
            vk.send_frames(mh, mh.eps, s, fs)
    seen = vk.capture(mh, mh.eps, NAMES, send)
    out = {}
    for s, fs in frames.items():
        for r in NAMES:
            if r != s:
                counts = {seen[r][vk.key_of(f)] for f in fs}
                out[(s, r)] = counts.pop() if len(counts) == 1 else f"varies {sorted(counts)}"
    return out


def part_matrix(mh, checks):
    results = {}
    for plugin in ("macvlan", "vnet-macvlan"):
        results[plugin] = observe(mh, plugin)
        if plugin == "macvlan":
            dels = [mh_.del_container(mh, n) for n in NAMES]
            checks.check("macvlan: every DEL succeeded", all(r.ok for r in dels), [r for r in dels if not r.ok])
    want = {(s, d): mh_.spec_reach(mh.info, s, d) for s in NAMES for d in NAMES if s != d}
    want_bc = {(s, r): mh_.spec_broadcast_copies(mh.info, s, r) for s in SENDERS for r in NAMES if r != s}
    for fam in ("ipv4", "ipv6"):
        for plugin, seen in results.items():
            print(f"{plugin} {fam}:\n{mh_.format_matrix(NAMES, seen[fam])}", flush=True)
        k, v = results["macvlan"][fam], results["vnet-macvlan"][fam]
        checks.check(f"{fam}: kernel macvlan's matrix is the model's", k == want,
                     sorted(p for p in want if k[p] != want[p]))
        checks.check(f"{fam}: vnet's matrix is kernel macvlan's (same run, same VXLAN devices)", v == k,
                     sorted(p for p in k if k[p] != v[p]))
        crossing = [p for p in want if p[0][0] != p[1][0]]
        checks.check(f"{fam}: vnet: all {len(crossing)} cross-host pairs reach each other",
                     all(v[p] for p in crossing), [p for p in crossing if not v[p]])
    k, v = results["macvlan"]["broadcast"], results["vnet-macvlan"]["broadcast"]
    print("broadcast copies (sender -> receiver: kernel, vnet, model): " +
          ", ".join(f"{s}->{r} {k[(s, r)]},{v[(s, r)]},{want_bc[(s, r)]}" for s, r in sorted(want_bc)), flush=True)
    checks.check("broadcast: kernel macvlan's copies per receiver are the model's", k == want_bc,
                 {p: k[p] for p in want_bc if k[p] != want_bc[p]})
    checks.check("broadcast: vnet's copies per receiver are kernel macvlan's (each remote container exactly once)",
                 v == k, {p: (k[p], v[p]) for p in k if k[p] != v[p]})
    checks.run("ARP and ND answered across hosts with the container's MAC", neighbours_across, mh)
    checks.run("unicast to a MAC behind host B reaches B only, never C's underlay", learned_unicast, mh)
    checks.run("MTU: ports have the overlay MTU, it crosses hosts, more is refused", mtu, mh)
    checks.run("a MAC moved from host B to host C: unicast follows it to C only", mac_move, mh)


def neighbours_across(mh):
    results = []
    for s, d in (("a1", "b2"), ("b1", "c3"), ("c2", "a2"), ("a3", "c1"), ("b3", "a1")):
        want = mh.info[d]["mac"]
        results.append((f"arping {s} -> {d}", vk.arping_mac(mh, s, "eth0", mh.info[d]["ip4"]), want))
        results.append((f"ndisc6 {s} -> {d}", vk.ndisc6(mh, s, "eth0", mh.info[d]["ip6"]), want))
    vk.expect(results)


def vxlan_to(mh, host_role, mac):
    """A tcpdump on host's underlay for VXLAN packets whose inner frame is for mac
    (UDP header 8 + VXLAN header 8: the inner destination MAC at udp[16])."""
    m = mac.replace(":", "")
    expr = f"udp dst port {mh_.DSTPORT} and udp[16:4] = 0x{m[:8]} and udp[20:2] = 0x{m[8:]}"
    return vk.Tcpdump(mh, host_role, "ul0", expr, options=("-l",))


def learned_unicast(mh):
    a, b, c = mh.hosts["a"], mh.hosts["b"], mh.hosts["c"]
    target = mh.info["b1"]
    assert vk.ping(mh, "a1", target["ip4"], timeout=1), "a1 does not reach b1"
    got = mh_.learned_dst(mh, a, target["mac"])
    vk.expect([("host A's VXLAN FDB has b1's MAC behind", got, b.local)])
    on_b, on_c = vxlan_to(mh, b.role, target["mac"]), vxlan_to(mh, c.role, target["mac"])
    try:
        answered = vk.ping_count(mh, "a1", target["ip4"], BURST)
    finally:
        time.sleep(0.3)
        seen_b, seen_c = len(on_b.stop()), len(on_c.stop())
    vk.expect([(f"a1 -> b1 echo requests answered (of {BURST})", answered, BURST),
               (f"VXLAN packets for b1's MAC on B's underlay >= {BURST}", seen_b >= BURST, True),
               ("VXLAN packets for b1's MAC on C's underlay", seen_c, 0)])


def burst_to(mh, src, dst, mac, to_host, not_host):
    """BURST pings src -> dst; (answered, VXLAN packets for mac on to_host's
    underlay, on not_host's)."""
    on, off = vxlan_to(mh, to_host.role, mac), vxlan_to(mh, not_host.role, mac)
    try:
        answered = vk.ping_count(mh, src, mh.info[dst]["ip4"], BURST)
    finally:
        time.sleep(0.3)
        seen_on, seen_off = len(on.stop()), len(off.stop())
    return answered, seen_on, seen_off


def mac_move(mh):
    a, b, c = mh.hosts["a"], mh.hosts["b"], mh.hosts["c"]
    mac = mh.info["b2"]["mac"]
    assert vk.ping(mh, "a1", mh.info["b2"]["ip4"], timeout=1), "a1 does not reach b2"
    before = mh_.learned_dst(mh, a, mac)
    r = mh_.del_container(mh, "b2")
    assert r.ok, f"DEL b2: {r}"
    r = mh_.add_container(mh, "c8", "vnet-macvlan", mac=mac)
    assert r.ok, f"ADD c8 with b2's MAC: {r}"
    assert not mh_.wait_ready(mh, ["c8"], timeout=8), "c8's IPv6 is still tentative"
    reached = vk.ping(mh, "a1", mh.info["c8"]["ip4"], timeout=1)
    after = mh_.learned_dst(mh, a, mac)
    answered, on_c, on_b = burst_to(mh, "a1", "c8", mac, c, b)
    vk.expect([("host A learned the MAC behind", before, b.local),
               ("a1 reaches the MAC's new container c8 on host C", reached, True),
               ("host A learned the MAC behind, after the move", after, c.local),
               (f"a1 -> c8 echo requests answered (of {BURST})", answered, BURST),
               (f"VXLAN packets for the MAC on C's underlay >= {BURST}", on_c >= BURST, True),
               ("VXLAN packets for the MAC on B's underlay", on_b, 0)])


def mtu(mh):
    want = mh.hosts["a"].overlay_mtu
    results = [(f"{n}: eth0 MTU", vk.link_json(mh, n, "eth0")["mtu"], want) for n in NAMES]
    payload = want - 28  # IPv4 + ICMP headers
    big = mh.exec("a1", "ping", "-c", "2", "-i", "0.2", "-W", "1", "-M", "do", "-s", str(payload),
                  mh.info["c1"]["ip4"], check=False)
    over = mh.exec("a1", "ping", "-c", "1", "-W", "1", "-M", "do", "-s", str(payload + 1), mh.info["c1"]["ip4"],
                   check=False)
    results += [(f"a1 -> c1: {want}-byte packets, DF, answered", big.returncode == 0, True),
                (f"a1 -> c1: {want + 1} bytes refused (EMSGSIZE)", over.returncode != 0, True)]
    mh.netns("a9")
    r = mh_.add_container(mh, "a9", "vnet-macvlan", netns=False, mtu=want + 1)
    results += [(f"CNI ADD with mtu {want + 1} on a {want}-byte VXLAN: code", r.code, 7),
                ("  its message names mtu", "mtu" in (r.result or {}).get("msg", ""), True),
                ("  no eth0 left in the container", mh.ip("a9", "link", "show", "eth0", check=False).returncode != 0,
                 True)]
    r = mh_.add_container(mh, "a9", "vnet-macvlan", netns=False, mtu=want)
    results.append((f"CNI ADD with mtu {want} succeeds", r.ok, True))
    vk.expect(results)


# -- v6 ----------------------------------------------------------------------

def part_v6(mh, checks):
    modes = {"a1": "bridge", "a2": "bridge", "b1": "bridge", "c1": "bridge"}
    mh_.add_containers(mh, "vnet-macvlan", modes, vxlan_keys=True)
    names = list(modes)

    def matrices():
        got = {fam: mh_.reach_matrix(mh, names, fam) for fam in (4, 6)}
        vk.expect([(f"IPv{fam} over the IPv6 underlay: pairs that fail", sorted(p for p, ok in m.items() if not ok),
                    []) for fam, m in got.items()])
    checks.run("every pair reaches over an IPv6 underlay, both overlay families", matrices)

    def settings():
        a = mh.hosts["a"]
        doc = mh.vnet(a, "show", a.fabric, json_out=True)
        vx = next(f for f in doc["fabrics"] if f["name"] == a.fabric).get("vxlan") or {}
        want = a.overlay_mtu  # 1500 - 70
        payload = want - 28
        big = mh.exec("a1", "ping", "-c", "2", "-i", "0.2", "-W", "1", "-M", "do", "-s", str(payload),
                      mh.info["c1"]["ip4"], check=False)
        vk.expect([("host A's VXLAN local address (the config's `local`)", vx.get("local"), a.ul6),
                   ("  its remotes", sorted(vx.get("remotes", [])), sorted(mh_.remotes(mh, a))),
                   ("  its MTU (underlay - 70)", vx.get("mtu"), want)]
                  + [(f"{n}: eth0 MTU", vk.link_json(mh, n, "eth0")["mtu"], want) for n in names]
                  + [(f"a1 -> c1: {want}-byte packets, DF, answered", big.returncode == 0, True)])
    checks.run("IPv6 underlay: local, remotes and MTU 1430 on the fabric and ports", settings)


# -- ipvlan ------------------------------------------------------------------

IPVLAN = ("a1", "a2", "b1", "b2", "c1", "c2")


def part_ipvlan(mh, checks):
    for mode in ("l2", "l3"):
        t = time.time()
        mh_.add_containers(mh, "vnet-ipvlan", {n: mode for n in IPVLAN}, vxlan_keys=True)
        # U of each host: the ipvlan ports' shared MAC is their uplink's, vx42's.
        macs = {k: vk.mac_of(mh, h.role, h.vx) for k, h in mh.hosts.items()}
        if mode == "l3":
            checks.run("ipvlan l3: without an overlay route on the hosts, only the host's own ports reach",
                       l3_needs_routes, mh)
            overlay_routes(mh)
        checks.run(f"ipvlan {mode}: the fabric made by the keys, every port with its host's VXLAN MAC",
                   ipvlan_ports, mh, mode, macs)
        checks.run(f"ipvlan {mode}: every pair reaches, across hosts and on one host, IPv4 and IPv6",
                   ipvlan_matrix, mh)
        checks.run(f"ipvlan {mode}: ARP and ND answered with the MAC {mode} gives", ipvlan_neighbours, mh, mode,
                   macs)
        checks.run(f"ipvlan {mode}: a source the port does not own reaches nobody, counted spoofed_ip",
                   ipvlan_spoofing, mh)
        print(f"     ipvlan {mode} in {time.time() - t:.1f}s", flush=True)
        if mode == "l2":
            checks.run("ipvlan l2 -> l3: every DEL succeeds, detach removes each host's vx42", ipvlan_reset, mh)


def overlay_routes(mh):
    """l3 ports leave through the host's FIB (spec 6.2): each host routes the
    overlay on-link out of vx42, and resolves the remote containers there itself."""
    for h in mh.hosts.values():
        mh.ip(h.role, "route", "add", f"{mh_.OVERLAY4}.0/24", "dev", h.vx)
        mh.ip(h.role, "-6", "route", "add", f"{mh_.OVERLAY6}:/64", "dev", h.vx)


def l3_needs_routes(mh):
    """What the FIB will not forward goes to the host stack, which drops it
    (spec 6.2): no host route covers the overlay yet."""
    jobs = {(s, d, fam): (lambda s=s, d=d, fam=fam: mh_.ping_ok(mh, s, mh.info[d][fam]))
            for s, d in (("a1", "b1"), ("c2", "a1"), ("a1", "a2")) for fam in ("ip4", "ip6")}
    got = mh_.parallel(jobs)
    vk.expect([(f"{fam} {s} -> {d}", ok, s[0] == d[0]) for (s, d, fam), ok in sorted(got.items())])


def ipvlan_ports(mh, mode, macs):
    results = []
    for k, h in mh.hosts.items():
        doc = mh.vnet(h, "show", h.fabric, json_out=True)
        fab = next(f for f in doc["fabrics"] if f["name"] == h.fabric)
        results += [(f"host {k.upper()}: fabric uplink", fab.get("uplink"), h.vx),
                    (f"  its ipvlan mode", fab.get("ipvlan_mode"), mode),
                    (f"  its VNI", (fab.get("vxlan") or {}).get("vni"), mh_.VNI)]
    results += [(f"{n}: eth0 MAC (host {n[0].upper()}'s {mh.hosts[n[0]].vx})", vk.mac_of(mh, n), macs[n[0]])
                for n in IPVLAN]
    results.append(("the three hosts' VXLAN MACs differ", len(set(macs.values())), 3))
    vk.expect(results)


def ipvlan_matrix(mh):
    got = {fam: mh_.reach_matrix(mh, list(IPVLAN), fam) for fam in (4, 6)}
    for fam, m in got.items():
        print(f"IPv{fam}:\n{mh_.format_matrix(list(IPVLAN), m)}", flush=True)
    vk.expect([(f"IPv{fam}: pairs of {len(m)} that fail", sorted(p for p, ok in m.items() if not ok), [])
               for fam, m in got.items()])


def host_neigh(mh, host, ip):
    """The MAC host's kernel resolved ip to on its VXLAN device, or None."""
    doc = json.loads(mh.ip(host.role, "-j", "neigh", "show", "dev", host.vx, "to", ip).stdout or "[]")
    return next((e.get("lladdr", "").lower() for e in doc if e.get("dst") == ip), None)


def ipvlan_neighbours(mh, mode, macs):
    """l2: the container does its own ARP and ND; the request crosses hosts
    and the remote container answers with its MAC, which is its host's U (its
    VXLAN device's MAC), as a kernel ipvlan l2 slave on that host's VXLAN
    device would. l3: vnet answers the container's ARP or NS for any other
    address with the local U, back into the port (spec 6.2); what crosses hosts
    is the host's own resolution on vx42, which the remote host's vnet answers
    with its U (spec 6.1)."""
    results = []
    for s, d in (("a1", "b1"), ("b2", "c1"), ("c2", "a2"), ("a1", "a2")):
        want = macs[d[0]] if mode == "l2" else macs[s[0]]
        whose = f"host {(d if mode == 'l2' else s)[0].upper()}'s U"
        results.append((f"arping {s} -> {d}: ({whose})", vk.arping_mac(mh, s, "eth0", mh.info[d]["ip4"]), want))
        results.append((f"ndisc6 {s} -> {d}: ({whose})", vk.ndisc6(mh, s, "eth0", mh.info[d]["ip6"]), want))
    if mode == "l3":
        for h, d in (("a", "b1"), ("b", "c2"), ("c", "a1")):
            for fam in ("ip4", "ip6"):
                results.append((f"host {h.upper()} resolved {d}'s {fam} on vx42 to host {d[0].upper()}'s U",
                                host_neigh(mh, mh.hosts[h], mh.info[d][fam]), macs[d[0]]))
    vk.expect(results)


def spoofed_ip(mh, host):
    """{device: spoofed_ip drops} over host's fabric."""
    doc = mh.vnet(host, "stats", json_out=True)
    return {s["device"]: s["drops"]["spoofed_ip"] for s in doc["stats"] if s["fabric"] == host.fabric}


def port_of(mh, name):
    """The vnet port (host end) of container name: the port whose ifindex is eth0's peer."""
    h = mh.host_of(name)
    peer = vk.link_json(mh, name, "eth0").get("link_index")
    doc = mh.vnet(h, "show", h.fabric, json_out=True)
    ports = next(f for f in doc["fabrics"] if f["name"] == h.fabric)["ports"]
    return next((p["name"] for p in ports if p.get("ifindex") == peer), None)


def ipvlan_spoofing(mh):
    """a2 adds an address no port owns and pings from it, over IPv4 and IPv6;
    the ipvlan kind sends only from its addresses (docs/cni.md), so every
    frame is dropped at a2's port (`spoofed_ip`) and a1 (same host), b1 and c1
    (the other hosts) see nothing from or about the address."""
    a = mh.hosts["a"]
    fakes = ((f"{mh_.OVERLAY4}.250", "24", mh.info["b1"]["ip4"]), (f"{mh_.OVERLAY6}:250", "64", mh.info["c1"]["ip6"]))
    for fake, plen, _ in fakes:
        mh.ip("a2", "addr", "add", f"{fake}/{plen}", "dev", "eth0", *(["nodad"] if ":" in fake else []))
    before = spoofed_ip(mh, a)
    answered = {}
    try:
        expr = " or ".join(f"host {f}" for f, _, _ in fakes)
        with vk.sniffing(mh, {n: (n, "eth0") for n in ("a1", "b1", "c1")}, expr) as seen:
            for fake, _, target in fakes:
                answered[fake] = mh.exec("a2", "ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", "-I", fake, target,
                                         check=False).returncode == 0
        grew = vk.drops_grew(before, spoofed_ip(mh, a))
    finally:
        for fake, plen, _ in fakes:
            mh.ip("a2", "addr", "del", f"{fake}/{plen}", "dev", "eth0", check=False)
    # After the fake addresses are gone: IPv6 source selection would pick one.
    own = {fam: mh_.ping_ok(mh, "a2", mh.info[d][fam]) for fam, d in (("ip4", "b1"), ("ip6", "c1"))}
    results = [(f"a2 -> {t} from {f} answered", answered[f], False) for f, _, t in fakes]
    results += [(f"frames from or about the spoofed addresses on {n}", len(seen[n]), 0) for n in ("a1", "b1", "c1")]
    results += [("host A's devices whose spoofed_ip drops grew", sorted(grew), [port_of(mh, "a2")]),
                ("  by at least the 6 echo requests", sum(grew.values()) >= 6, True)]
    results += [(f"a2 -> its {fam} peer from its own address answered", ok, True) for fam, ok in own.items()]
    vk.expect(results)


def ipvlan_reset(mh):
    dels = {n: mh_.del_container(mh, n) for n in IPVLAN}
    results = [(f"DEL {n}", r.ok, True) for n, r in dels.items()]
    for h in mh.hosts.values():
        r = mh.vnet(h, "detach", h.fabric, check=False)
        results += [(f"host {h.key.upper()}: detach", r.returncode, 0),
                    (f"  {h.vx} gone", mh.ip(h.role, "link", "show", h.vx, check=False).returncode != 0, True)]
    vk.expect(results)


# -- ops ---------------------------------------------------------------------

def part_ops(mh, checks):
    modes = {n: "bridge" for n in NAMES}
    if KEYS:
        checks.run("CNI vxlan keys: a first ADD asking more than the overlay MTU makes nothing", mtu_first, mh)
    t = time.time()
    mh_.add_containers(mh, "vnet-macvlan", modes, vxlan_keys=KEYS)
    print(f"     nine vnet containers in {time.time() - t:.1f}s", flush=True)
    if KEYS:
        checks.run("CNI vxlan keys: the first ADD made the VXLAN fabric, conflicting keys are code 7", cni_keys, mh)
    checks.run("isolation across hosts: isolated ports of one host do not meet, across hosts they do",
               isolation, mh)
    checks.run("anti-spoofing across hosts: a source IPAM did not assign never reaches another host", spoofing, mh)
    checks.run("DHCP: dnsmasq on host A leases to containers on B and C", dhcp, mh)
    checks.run("a remote removed and added under a ping: no loss to the other host", remote_change, mh)
    checks.run("host C deleted: A and B keep talking", host_removed, mh)


def isolation(mh):
    for n in ("ai1", "ai2", "bi1"):
        r = mh_.add_container(mh, n, "vnet-macvlan", vxlan_keys=KEYS, isolated=True)
        assert r.ok, f"ADD {n} isolated: {r}"
        mh.info[n]["isolated"] = True
    assert not mh_.wait_ready(mh, ["ai1", "ai2", "bi1"], timeout=8), "IPv6 still tentative"
    pairs = [(s, d) for s, d in (("ai1", "ai2"), ("ai2", "ai1"), ("ai1", "bi1"), ("bi1", "ai2"), ("ai1", "a1"),
                                 ("a2", "ai2"), ("bi1", "b1"), ("c1", "bi1"))]
    jobs = {(s, d, fam): (lambda s=s, d=d, fam=fam: mh_.ping_ok(mh, s, mh.info[d][fam]))
            for s, d in pairs for fam in ("ip4", "ip6")}
    got = mh_.parallel(jobs)
    vk.expect([(f"{fam} {s} -> {d}", got[(s, d, fam)], mh_.spec_reach(mh.info, s, d))
               for s, d in pairs for fam in ("ip4", "ip6")])


def spoofing(mh):
    fake = f"{mh_.OVERLAY4}.250"
    mh.ip("a2", "addr", "add", f"{fake}/24", "dev", "eth0")
    target = mh.info["b1"]["ip4"]
    try:
        with vk.sniffing(mh, {"b1": ("b1", "eth0"), "c1": ("c1", "eth0")}, f"host {fake}") as seen:
            spoofed = mh.exec("a2", "ping", "-c", "3", "-i", "0.2", "-W", "1", "-I", fake, target,
                              check=False).returncode == 0
        own = mh_.ping_ok(mh, "a2", target)
    finally:
        mh.ip("a2", "addr", "del", f"{fake}/24", "dev", "eth0", check=False)
    vk.expect([(f"a2 -> b1 from {fake} (not a2's lease) answered", spoofed, False),
               (f"frames from or about {fake} seen on b1", len(seen["b1"]), 0),
               (f"frames from or about {fake} seen on c1", len(seen["c1"]), 0),
               ("a2 -> b1 from its own address answered", own, True)])


def dhcp(mh):
    work = tempfile.mkdtemp(prefix="vnet-mhdhcp-")
    try:
        r = mh_.add_container(mh, "ad", "vnet-macvlan", vxlan_keys=KEYS)
        assert r.ok, f"ADD ad: {r}"
        server = mh.info["ad"]["ip4"]
        log = open(os.path.join(work, "dnsmasq.log"), "w")
        mh.procs.append(subprocess.Popen(
            ["ip", "netns", "exec", mh.ns("ad"), vk.which("dnsmasq"), "--keep-in-foreground", "--conf-file=/dev/null",
             "--port=0", "--interface=eth0", "--bind-interfaces",
             f"--dhcp-range={mh_.OVERLAY4}.200,{mh_.OVERLAY4}.209,255.255.255.0,10m",
             f"--dhcp-leasefile={work}/leases", "--log-dhcp", "--log-facility=-", "--user=root", "--group=root"],
            stdout=log, stderr=subprocess.STDOUT))
        assert vk.wait_until(lambda: ":67 " in mh.exec("ad", "ss", "-Hlun", "sport = :67").stdout, timeout=5), \
            "dnsmasq is not listening"
        clients = ("bd", "cd")
        for n in clients:
            r = mh_.add_container(mh, n, "vnet-macvlan", with_ipam=False, vxlan_keys=KEYS)
            assert r.ok, f"ADD {n} without IPAM: {r}"
        mh_.wait_ready(mh, list(clients))
        for n in clients:
            conf = os.path.join(work, f"{n}.conf")
            with open(conf, "w") as f:
                f.write(f'send dhcp-client-identifier "{n}";\ntimeout 40;\nretry 1;\ninitial-interval 1;\n')
            mh.procs.append(subprocess.Popen(
                ["ip", "netns", "exec", mh.ns(n), vk.which("dhclient"), "-1", "-d", "-cf", conf, "-sf", "/bin/true",
                 "-pf", f"{work}/{n}.pid", "-lf", f"{work}/{n}.leases", "eth0"],
                stdout=open(os.path.join(work, f"{n}.out"), "w"), stderr=subprocess.STDOUT))

        def lease(n):
            try:
                found = re.findall(r"fixed-address ([0-9.]+);", open(f"{work}/{n}.leases").read())
            except FileNotFoundError:
                return None
            return found[-1] if found else None
        vk.wait_until(lambda: all(lease(n) for n in clients), timeout=40, interval=0.2)
        got = {n: lease(n) for n in clients}
        for n in clients:
            if not got[n]:
                print(f"  {n}'s dhclient:\n    " + "\n    ".join(open(f"{work}/{n}.out").read().splitlines()[-12:]))
        if not all(got.values()):
            log.flush()
            print("  dnsmasq:\n    " + "\n    ".join(open(f"{work}/dnsmasq.log").read().splitlines()[-20:]))
        results = [(f"{n} (host {n[0].upper()}) leased an address of the range", bool(
            got[n] and re.fullmatch(rf"{re.escape(mh_.OVERLAY4)}\.20\d", got[n])), True) for n in clients]
        results.append(("the two leases differ", got["bd"] != got["cd"], True))
        vk.expect(results)
        for n in clients:
            mh.ip(n, "addr", "add", f"{got[n]}/24", "dev", "eth0")
        vk.expect([("bd -> cd with leased addresses", vk.ping_all(mh, "bd", got["cd"]), True),
                   ("cd -> the DHCP server's container on A", vk.ping_all(mh, "cd", server), True),
                   ("bd -> a1", vk.ping_all(mh, "bd", mh.info["a1"]["ip4"]), True)])
    finally:
        for p in mh.procs:
            if p.poll() is None:
                p.terminate()
        import shutil
        shutil.rmtree(work, ignore_errors=True)


def remote_change(mh):
    a, c = mh.hosts["a"], mh.hosts["c"]
    count = 120  # 6 s at 0.05 s
    bg = {(s, d): mh_.background_ping(mh, s, mh.info[d][fam], count)
          for s, d, fam in (("a1", "b1", "ip4"), ("a2", "b2", "ip6"), ("b3", "a3", "ip4"))}
    time.sleep(0.5)
    remote(mh, a, "del", c.local)
    flood_without = mh_.flood_list(mh, a)
    # A fresh ARP from A for a container on C must now go nowhere: forget
    # what both ends and A's VXLAN device learned.
    for n in ("a1", "c1"):
        mh.ip(n, "neigh", "flush", "all")
    mh.exec(a.role, "bridge", "fdb", "del", mh.info["c1"]["mac"], "dev", a.vx, check=False)
    without = vk.arping(mh, "a1", "eth0", mh.info["c1"]["ip4"], timeout=1)
    # The other way: C still floods to A, but A's underlay guard (a fabric
    # the plugin made is guarded) takes nothing from a host no longer a remote.
    from_c = vk.arping(mh, "c1", "eth0", mh.info["a1"]["ip4"], timeout=1) if KEYS else None
    remote(mh, a, "add", c.local)
    flood_with = mh_.flood_list(mh, a)
    back = vk.arping(mh, "a1", "eth0", mh.info["c1"]["ip4"], timeout=1)
    losses = {k: mh_.finish_ping(p) for k, p in bg.items()}
    results = [("A's flood list without C", flood_without, sorted([mh.hosts["b"].local])),
               ("a1 ARPs for c1 while C is no remote of A", without, False),
               ("c1 ARPs for a1 then (A's guard drops C's frames)", from_c, False if KEYS else None),
               ("A's flood list with C again", flood_with, sorted([mh.hosts["b"].local, c.local])),
               ("a1 ARPs for c1 once C is back", back, True)]
    results += [(f"{s} -> {d} during both changes: (sent, received)", got, (count, count))
                for (s, d), got in losses.items()]
    vk.expect(results)


def remote(mh, host, op, addr):
    """A remote changed as the hosts were built: vnetctl for a fabric the
    plugin made, the VXLAN device's FDB for a user-made device."""
    if KEYS:
        mh.vnet(host, "vxlan", "remote", op, host.fabric, addr)
    elif op == "add":
        mh_.remote_add(mh, host, addr)
    else:
        mh_.remote_del(mh, host, addr)


def mtu_first(mh):
    """Before any fabric: the ceiling is the underlay's MTU less 50, read from the underlay."""
    a = mh.hosts["a"]
    mh.netns("a7")
    r = mh_.add_container(mh, "a7", "vnet-macvlan", vxlan_keys=True, netns=False, mtu=a.overlay_mtu + 1)
    vk.expect([(f"first ADD on host A with mtu {a.overlay_mtu + 1}: code", r.code, 7),
               ("  its message names mtu", "mtu" in (r.result or {}).get("msg", ""), True),
               (f"  no {a.vx} made", mh.ip(a.role, "link", "show", a.vx, check=False).returncode != 0, True),
               ("  no fabric made", mh.vnet(a, "show", a.fabric, check=False).returncode != 0, True),
               ("  no eth0 in the container", mh.ip("a7", "link", "show", "eth0", check=False).returncode != 0, True)])


def cni_keys(mh):
    a = mh.hosts["a"]
    doc = mh.vnet(a, "show", a.fabric, json_out=True)
    fab = next(f for f in doc["fabrics"] if f["name"] == a.fabric)
    vx = fab.get("vxlan") or {}
    link = vk.link_json(mh, a.role, a.vx)
    results = [("host A's fabric uplink", fab.get("uplink"), a.vx),
               ("  its VNI", vx.get("vni"), mh_.VNI),
               ("  made by vnet (detach removes it)", vx.get("created"), True),
               ("  guarded (the underlay guard follows its remotes)", vx.get("guarded"), True),
               ("  remotes", sorted(vx.get("remotes", [])), sorted(mh_.remotes(mh, a))),
               (f"  {a.vx} is a VXLAN device over ul0", (link.get("linkinfo", {}).get("info_kind")), "vxlan"),
               (f"  {a.vx} MTU", link.get("mtu"), a.overlay_mtu),
               ("  a port per container of host A (later ADDs reused the fabric)", len(fab.get("ports", [])),
                len([n for n, i in mh.info.items() if i["host"] == "a"]))]
    documented = enginenet.documented("multihost")["plugins"][0]
    ours = mh.info["a1"]["conf"]
    results += [(f"docs/cni.md's multihost conflist: {k}", documented.get(k), ours.get(k))
                for k in ("type", "vxlan", "dstport", "mode")]
    results.append(("  it has underlay and remotes, no master",
                    ("underlay" in documented, "remotes" in documented, "master" in documented), (True, True, False)))
    mh.netns("a8")
    bad = [("vxlan 43 on a VNI 42 fabric", {"vxlan": 43}, 7, "vxlan"),
           ("dstport 4790", {"dstport": 4790}, 7, "dstport"),
           ("underlay lo", {"underlay": "lo"}, 7, "underlay"),
           ("master with vxlan", {"master": "ul0"}, 7, "master"),
           ("vxlan as a string", {"vxlan": "42"}, 6, "decoding"),
           ("vxlan 0", {"vxlan": 0}, 7, "vxlan")]
    for what, change, code, word in bad:
        conf = mh_.netconf(mh, a, "vnet-macvlan", vxlan_keys=True)
        conf.update(change)
        r = cni.exec_plugin("vnet-macvlan", "ADD", conf, host_ns=a.ns, netns=cni.netns_path(mh.ns("a8")),
                            containerid=vk.unique("mhbad"))
        results += [(f"ADD with {what}: code", r.code, code),
                    (f"  its message names {word}", word in (r.result or {}).get("msg", ""), True)]
    conf = mh_.netconf(mh, a, "vnet-macvlan", vxlan_keys=False, remotes=["198.18.42.9"])
    conf.pop("master")
    r = cni.exec_plugin("vnet-macvlan", "ADD", conf, host_ns=a.ns, netns=cni.netns_path(mh.ns("a8")),
                        containerid=vk.unique("mhbad"))
    results += [("ADD with remotes but no vxlan: code", r.code, 7),
                ("no eth0 left in the container after the refusals",
                 mh.ip("a8", "link", "show", "eth0", check=False).returncode != 0, True),
                ("host A still has one fabric", len([f for f in mh.vnet(a, "show", json_out=True)["fabrics"]]), 1)]
    vk.expect(results)


def host_removed(mh):
    c = mh.hosts["c"]
    count = 60
    bg = {(s, d): mh_.background_ping(mh, s, mh.info[d][fam], count)
          for s, d, fam in (("a1", "b2", "ip4"), ("b1", "a2", "ip6"))}
    time.sleep(0.5)
    vk.run(["ip", "netns", "del", c.ns])
    gone = vk.wait_until(lambda: c.ns not in vk.run(["ip", "netns", "list"]).stdout.split(), timeout=5)
    losses = {k: mh_.finish_ping(p) for k, p in bg.items()}
    results = [("host C's namespace is gone", bool(gone), True),
               ("c1 has no eth0 left", mh.ip("c1", "link", "show", "eth0", check=False).returncode != 0, True),
               ("a1 -> c1 fails", vk.ping(mh, "a1", mh.info["c1"]["ip4"], timeout=1), False)]
    results += [(f"{s} -> {d} while C went: (sent, received)", got, (count, count)) for (s, d), got in losses.items()]
    results += [("a3 -> b3 afterwards (IPv6)", mh_.ping_ok(mh, "a3", mh.info["b3"]["ip6"]), True)]
    vk.expect(results)


if __name__ == "__main__":
    main()
