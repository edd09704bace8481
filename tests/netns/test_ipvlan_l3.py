#!/usr/bin/python3
"""ipvlan l3 and l3s with real traffic (spec/forwarding.md, "ipvlan family").

usage: test_ipvlan_l3.py l3|l3s

Three topologies (vnetkit.ipvlan.build), one per --ipvlan-flag, each a fabric
`vnetctl attach up0 --type ipvlan --ipvlan-mode MODE --ipvlan-flag FLAG` with
ports c1, c2 (`port add --netns NS --ip 198.18.0.(10+N)/24 --ip
2001:db8:1:0:N::1/64`). On the bridge topology:

  setup        `show -j` says the mode; each port's eth0 has the uplink's MAC,
               is NOARP and has default routes (v4, v6) through eth0.
  proxy        arping and ndisc6 from ext for each port address are answered
               with the uplink's MAC; for an address nobody owns, not at all.
  external     ping and ping -6 ext <-> each port, both ways.
  no groups    a broadcast and a multicast from ext reach no port (the host
               gets each: the control); ext's ARP requests and NS for port
               addresses reach no port (tcpdump in each port); a port's own
               broadcast/multicast reaches neither ext nor the sibling and is
               counted in drops.l3_group.
  netfilter    in the host netns, an nft forward chain with a conntrack
               counter and `ip saddr c1 drop` / `ip6 saddr c1 drop`:
               l3s: c1 <-> ext fails both ways, c2 <-> ext works, the ct
               counter counts the flows; l3: the rule changes nothing and the
               counter stays 0. Deleting the table restores c1 (control).
  l3s routes   (l3s) host routes ADDR/32|/128 dev HOSTEND and permanent
               neighbours with the port's MAC for every port address;
               forwarding on; after `fabric set --ipvlan-mode l3` the routes and
               neighbours are gone and the nft rule no longer matters.
  live flag    `fabric set --ipvlan-flag private` stops c1 -> c2 at once, and
               `--ipvlan-flag bridge` brings it back.
On every topology, port-port by flag: bridge, ping/ping -6 between the ports
work and never touch the wire; private, they fail and drops.private counts
the echo requests; vepa, they leave on the uplink and work only when the
switch hairpins.
Exit 0 pass, 1 fail, 77 skip (not root, a tool or nftables missing).
"""
import json
import sys
import time

from vnetkit import framecount as fc
from vnetkit import ipvlan as it
import vnetkit as vk

PORTS = ("c1", "c2")
NOBODY4, NOBODY6 = f"{vk.NET}.77", f"{it.NET6}:0:77::1"


def i_of(role):
    return int(role[1:])


def check_setup(fab, mode, flag):
    t = fab.topo
    doc = vk.fabric_doc(t, fab.fabric)
    results = [("fabric ipvlan_mode", doc.get("ipvlan_mode"), mode), ("fabric ipvlan_flag", doc.get("ipvlan_flag"), flag)]
    for role in PORTS:
        link = vk.link_json(t, role, "eth0")
        r4 = json.loads(t.ip(role, "-j", "-4", "route", "show", "default").stdout or "[]")
        r6 = json.loads(t.ip(role, "-j", "-6", "route", "show", "default").stdout or "[]")
        results += [(f"{role}: eth0 MAC", link["address"].lower(), fab.uplink_mac),
                    (f"{role}: eth0 NOARP", "NOARP" in link.get("flags", []), True),
                    (f"{role}: v4 default route dev eth0", any(r.get("dev") == "eth0" for r in r4), True),
                    (f"{role}: v6 default route dev eth0", any(r.get("dev") == "eth0" for r in r6), True)]
    vk.expect(results)


def check_proxy(fab, mode, flag):
    t = fab.topo
    results = []
    for role in PORTS:
        vk.flush_neighbours(t, ["ext"])
        results += [(f"arping ext -> {role} answered by", vk.arping_mac(t, "ext", "eth0", it.v4(i_of(role))), fab.uplink_mac),
                    (f"ndisc6 ext -> {role} answered by", vk.ndisc6(t, "ext", "eth0", it.v6(i_of(role))),
                     fab.uplink_mac)]
    results += [("arping ext -> an address nobody owns answered by", vk.arping_mac(t, "ext", "eth0", NOBODY4), None),
                ("ndisc6 ext -> an address nobody owns answered by", vk.ndisc6(t, "ext", "eth0", NOBODY6, 1), None),
                ("arping ext -> host (control) answered by", vk.arping_mac(t, "ext", "eth0", it.HOST4), fab.uplink_mac)]
    vk.expect(results)


def check_external(fab, mode, flag):
    t = fab.topo
    results = []
    for role in PORTS:
        i = i_of(role)
        vk.flush_neighbours(t, ["ext"])
        results += [(f"ping ext -> {role}", it.ping(t, "ext", it.v4(i)), True),
                    (f"ping -6 ext -> {role}", it.ping(t, "ext", it.v6(i)), True)]
        vk.flush_neighbours(t, ["ext"])
        results += [(f"ping {role} -> ext", it.ping(t, role, it.EXT4), True),
                    (f"ping -6 {role} -> ext", it.ping(t, role, it.EXT6), True)]
    vk.expect(results)


def check_no_groups(fab, mode, flag):
    t = fab.topo
    receivers = {r: (r, "eth0") for r in PORTS}
    receivers.update({"ext": ("ext", "eth0"), "host": ("host", "up0")})
    ext, u = fab.ext_mac, fab.uplink_mac
    before = it.drops(fab, "l3_group")
    with fc.counting(t, receivers) as counts:
        vk.scapy_send(t, "ext", "eth0", vk.marker_udp4(ext, vk.BROADCAST, it.EXT4, "255.255.255.255", "ext-bcast", 2))
        vk.scapy_send(t, "ext", "eth0", vk.marker_udp4(ext, "01:00:5e:00:00:fb", it.EXT4, "224.0.0.251", "ext-mcast", 2))
        vk.scapy_send(t, "c1", "eth0", vk.marker_udp4(u, vk.BROADCAST, it.v4(1), "255.255.255.255", "c1-bcast", 2))
        vk.scapy_send(t, "c1", "eth0", vk.marker_udp4(u, "01:00:5e:00:00:fb", it.v4(1), "224.0.0.251", "c1-mcast", 2))
    grew = vk.drops_grew(before, it.drops(fab, "l3_group"))
    results = []
    for marker, want in (("ext-bcast", {"c1": 0, "c2": 0, "host": 2}), ("ext-mcast", {"c1": 0, "c2": 0, "host": 2}),
                         ("c1-bcast", {"c2": 0, "ext": 0, "host": 0}), ("c1-mcast", {"c2": 0, "ext": 0, "host": 0})):
        results += [(f"{marker} -> {r} copies", counts[r].get(marker, 0), n) for r, n in want.items()]
    print(f"  drops.l3_group grew: {grew}")
    # >= : the port's own stack may send an MLD report or an RS meanwhile, dropped the same way.
    results.append(("c1's port drops.l3_group growth >= 4", grew.get(fab.dev("c1"), 0) >= 4, True))
    # ARP requests and NS from ext (the resolution itself succeeds: see proxy).
    where = {r: (r, "eth0") for r in PORTS}
    vk.flush_neighbours(t, ["ext"])
    with vk.sniffing(t, where, "arp or (icmp6 and ip6[40] == 135) or (ether multicast)") as seen:
        vk.arping_mac(t, "ext", "eth0", it.v4(1))
        vk.ndisc6(t, "ext", "eth0", it.v6(2))
        t.exec("ext", "ping", "-b", "-c", "2", "-i", "0.2", "-W", "1", f"{vk.NET}.255", check=False)
    for role in PORTS:
        results.append((f"group/ARP/NS frames {role} received during ext's arping, ndisc6, broadcast ping",
                        len(seen[role]), 0))
    vk.expect(results)


# -- port to port ------------------------------------------------------------------------------
def pp_round(fab, count=5):
    """c1 pings c2 (v4, v6) count times each; (answered v4, answered v6, ICMP frames on the switch side)."""
    expr = (f"(icmp and host {it.v4(1)} and host {it.v4(2)}) or "
            f"(icmp6 and ip6 host {it.v6(1)} and ip6 host {it.v6(2)})")
    with vk.sniffing(fab.topo, {"sw": ("sw", "swup")}, expr) as seen:
        r4 = vk.ping_count(fab.topo, "c1", it.v4(2), count)
        r6 = vk.ping_count(fab.topo, "c1", it.v6(2), count)
    return r4, r6, len(seen["sw"])


def check_port_port(fab, mode, flag):
    t = fab.topo
    if flag == "bridge":
        r4, r6, wire = pp_round(fab)
        vk.expect([("c1 -> c2 pings answered (v4, v6)", (r4, r6), (5, 5)), ("c1 <-> c2 ICMP on the wire", wire, 0),
                   ("ping c2 -> c1", it.ping(t, "c2", it.v4(1)), True),
                   ("ping -6 c2 -> c1", it.ping(t, "c2", it.v6(1)), True)])
    elif flag == "private":
        before = it.drops(fab, "private")
        r4, r6, wire = pp_round(fab)
        grew = vk.drops_grew(before, it.drops(fab, "private"))
        print(f"  drops.private grew: {grew}")
        vk.expect([("c1 -> c2 pings answered (v4, v6)", (r4, r6), (0, 0)), ("c1 <-> c2 ICMP on the wire", wire, 0),
                   ("drops.private growth >= 10", sum(grew.values()) >= 10, True),
                   ("ping c1 -> ext (control)", it.ping(t, "c1", it.EXT4), True)])
    else:
        r4, r6, wire = pp_round(fab)
        results = [("hairpin off: c1 -> c2 pings answered (v4, v6)", (r4, r6), (0, 0)),
                   ("hairpin off: echo requests leaving on the uplink >= 10", wire >= 10, True)]
        vk.set_switch_hairpin(t, True)
        try:
            r4, r6, wire = pp_round(fab)
        finally:
            vk.set_switch_hairpin(t, False)
        results += [("hairpin on: c1 -> c2 pings answered (v4, v6)", (r4, r6), (5, 5)),
                    ("hairpin on: ICMP frames from the uplink >= 20", wire >= 20, True)]
        vk.expect(results)


def check_live_flag(fab, mode, flag):
    """`fabric set --ipvlan-flag private` cuts c1 -> c2 at once; back to bridge restores it."""
    t = fab.topo
    t.vnetctl("fabric", "set", fab.fabric, "--ipvlan-flag", "private")
    try:
        shown = vk.fabric_doc(t, fab.fabric).get("ipvlan_flag")
        r4, r6, _ = pp_round(fab, count=3)
    finally:
        t.vnetctl("fabric", "set", fab.fabric, "--ipvlan-flag", "bridge")
    b4, b6, _ = pp_round(fab, count=3)
    vk.expect([("after fabric set --ipvlan-flag private: show", shown, "private"),
               ("private: c1 -> c2 pings answered (v4, v6)", (r4, r6), (0, 0)),
               ("back to bridge: c1 -> c2 pings answered (v4, v6)", (b4, b6), (3, 3))])


# -- netfilter ----------------------------------------------------------------------------------
TABLE = "vnetipvlan"


def nft(fab, *args, check=True):
    return vk.host_exec(fab.topo, "nft", *args, check=check)


def nft_install(fab):
    nft(fab, "add", "table", "inet", TABLE)
    nft(fab, "add", "chain", "inet", TABLE, "fw", "{ type filter hook forward priority 0; policy accept; }")
    nft(fab, "add", "rule", "inet", TABLE, "fw", "ct", "state", "new,established", "counter", "comment", "\"ct\"")
    nft(fab, "add", "rule", "inet", TABLE, "fw", "ip", "saddr", it.v4(1), "drop")
    nft(fab, "add", "rule", "inet", TABLE, "fw", "ip6", "saddr", it.v6(1), "drop")


def ct_counter(fab):
    doc = json.loads(nft(fab, "-j", "list", "table", "inet", TABLE).stdout)
    for item in doc["nftables"]:
        rule = item.get("rule")
        if rule and rule.get("comment") == "ct":
            for e in rule["expr"]:
                if "counter" in e:
                    return e["counter"]["packets"]
    raise AssertionError("the ct counter rule is missing")


def conntrack_flows(fab, addr):
    """Entries for addr in the host's conntrack table (conntrack -L), or None without the tool."""
    if not vk.which("conntrack"):
        return None
    p = vk.host_exec(fab.topo, "conntrack", "-L", "-s", addr, check=False)
    return len([line for line in p.stdout.splitlines() if addr in line])


def nft_round(fab, l3s):
    """Pings through the rule; returns the results to expect."""
    t = fab.topo
    if vk.which("conntrack"):  # the flows of an earlier round linger (30 s for ICMP)
        vk.host_exec(t, "conntrack", "-F", check=False)
    before = ct_counter(fab)
    vk.flush_neighbours(t, ["ext"])
    want = not l3s
    results = [(f"ping c1 -> ext, c1 dropped by nft ({'applies' if l3s else 'no effect'})", it.ping(t, "c1", it.EXT4), want),
               ("ping -6 c1 -> ext", it.ping(t, "c1", it.EXT6), want),
               ("ping ext -> c1", it.ping(t, "ext", it.v4(1)), want),
               ("ping -6 ext -> c1", it.ping(t, "ext", it.v6(1)), want),
               ("ping c2 -> ext", it.ping(t, "c2", it.EXT4), True), ("ping -6 c2 -> ext", it.ping(t, "c2", it.EXT6), True),
               ("ping ext -> c2", it.ping(t, "ext", it.v4(2)), True)]
    grew = ct_counter(fab) - before
    print(f"  nft ct state new,established counter: +{grew} packets")
    results.append(("forwarded packets seen by conntrack (> 0)" if l3s else "forwarded packets seen by conntrack",
                    grew > 0 if l3s else grew, True if l3s else 0))
    flows = conntrack_flows(fab, it.v4(2))
    if flows is not None:
        print(f"  conntrack -L -s {it.v4(2)}: {flows} entries")
        results.append((f"conntrack entries from c2 ({'> 0' if l3s else '0'})", flows > 0 if l3s else flows,
                        True if l3s else 0))
    return results


def check_netfilter(fab, mode, flag):
    nft_install(fab)
    try:
        results = nft_round(fab, mode == "l3s")
    finally:
        nft(fab, "delete", "table", "inet", TABLE, check=False)
    vk.flush_neighbours(fab.topo, ["ext"])
    results += [("table deleted: ping c1 -> ext (control)", it.ping(fab.topo, "c1", it.EXT4), True),
                ("table deleted: ping -6 c1 -> ext (control)", it.ping(fab.topo, "c1", it.EXT6), True)]
    vk.expect(results)


def host_state(fab):
    """{address: (route via the port's host end?, permanent neighbour with the port's MAC?)} in the host netns."""
    t = fab.topo
    out = {}
    for role in PORTS:
        dev, mac = fab.dev(role), fab.ports[role]["mac"].lower()
        for addr, plen in ((it.v4(i_of(role)), 32), (it.v6(i_of(role)), 128)):
            routes = json.loads(t.ip("host", "-j", "route", "show", "exact", f"{addr}/{plen}").stdout or "[]") \
                if plen == 32 else \
                json.loads(t.ip("host", "-j", "-6", "route", "show", "exact", f"{addr}/{plen}").stdout or "[]")
            neigh = json.loads(t.ip("host", "-j", "neigh", "show", addr, "dev", dev).stdout or "[]")
            out[addr] = (any(r.get("dev") == dev for r in routes),
                         any(n.get("lladdr", "").lower() == mac and "PERMANENT" in n.get("state", []) for n in neigh))
    return out


def sysctl(fab, path):
    return vk.host_exec(fab.topo, "cat", f"/proc/sys/net/{path}").stdout.strip()


def check_l3s_routes(fab, mode, flag):
    t = fab.topo
    state = host_state(fab)
    results = [(f"l3s: host route and permanent neighbour for {a}", v, (True, True)) for a, v in state.items()]
    for dev in ("up0", fab.dev("c1")):
        results += [(f"l3s: net.ipv4.conf.{dev}.forwarding", sysctl(fab, f"ipv4/conf/{dev}/forwarding"), "1"),
                    (f"l3s: net.ipv6.conf.{dev}.forwarding", sysctl(fab, f"ipv6/conf/{dev}/forwarding"), "1")]
    vk.expect(results)
    t.vnetctl("fabric", "set", fab.fabric, "--ipvlan-mode", "l3")
    doc = vk.fabric_doc(t, fab.fabric)
    state = host_state(fab)
    results = [("after fabric set --ipvlan-mode l3: show ipvlan_mode", doc.get("ipvlan_mode"), "l3")]
    results += [(f"after leaving l3s: host route / neighbour for {a}", v, (False, False)) for a, v in state.items()]
    vk.expect(results)
    nft_install(fab)
    try:
        results = nft_round(fab, False)
    finally:
        nft(fab, "delete", "table", "inet", TABLE, check=False)
    vk.expect([("after leaving l3s: " + w, g, x) for w, g, x in results])


def main():
    vk.require_root()
    if len(sys.argv) != 2 or sys.argv[1] not in ("l3", "l3s"):
        print("usage: test_ipvlan_l3.py l3|l3s", file=sys.stderr)
        return 2
    mode = sys.argv[1]
    vk.require_tools("tcpdump", "arping", "ndisc6", "ping", "nft", "scapy")
    vk.exit_on_signals()
    probe = vk.run(["unshare", "-n", "nft", "add", "table", "inet", "probe"], check=False)
    if probe.returncode != 0:
        vk.skip(f"this kernel has no nf_tables (nft: {probe.stderr.strip()})")
    start = time.time()
    checks = vk.Checks()
    topos = []
    plan = [("bridge", [("setup", check_setup), ("proxy", check_proxy), ("external", check_external),
                        ("no groups", check_no_groups), ("port-port", check_port_port), ("live flag", check_live_flag),
                        ("netfilter", check_netfilter)] + ([("l3s routes", check_l3s_routes)] if mode == "l3s" else [])),
            ("private", [("port-port", check_port_port)]),
            ("vepa", [("port-port", check_port_port)])]
    for flag, part in plan:
        with vk.Topology(tag=f"i3{mode[-1]}{flag[0]}") as topo:
            topos.append(topo)
            print(f"=== ipvlan {mode}, flag {flag}: c1, c2", flush=True)
            try:
                fab = it.build(topo, mode, flag, len(PORTS))
            except vk.CommandError as e:
                checks.fail(f"{flag} topology", str(e))
                continue
            for name, fn in part:
                checks.run(f"{mode} {flag}: {name}", fn, fab, mode, flag)
    checks.finish(f"ipvlan {mode}", start, topos)


if __name__ == "__main__":
    sys.exit(main())
