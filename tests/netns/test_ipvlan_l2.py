#!/usr/bin/python3
"""ipvlan l2 with real traffic, for one flag (spec/forwarding.md, "ipvlan family").

usage: test_ipvlan_l2.py bridge|private|vepa

A fabric `vnetctl attach up0 --type ipvlan --ipvlan-mode l2 --ipvlan-flag FLAG`
on vnetkit.ipvlan.build's topology with three ports c1..c3, each made by
`vnetctl port add --netns NS --ip 198.18.0.(10+N)/24 --ip 2001:db8:1:0:N::1/64`.
The external switch does not hairpin unless a check says so. Checks:

  setup         `show -j`: the fabric's type/ipvlan_mode/ipvlan_flag, each port
                type ipvlan with its two addresses and a link-local one; every
                port's eth0 has the uplink's MAC and the --ip addresses.
  link-local    each port has one fe80::/64 address, none equal: the uplink
                MAC's EUI-64 with the ff:fe replaced by the port's slot.
  external      ping and ping -6 port <-> ext both ways; arping port -> ext
                answers ext's MAC, ext -> port the uplink's; ndisc6 ext -> port
                answers the uplink's MAC; ping -6 ext -> a port's link-local.
  wire MAC      every ARP/ICMP/ICMPv6 frame ext receives from the ports carries
                the uplink's source MAC.
  port-port     bridge: ping/ping -6/arping/link-local ping between ports work
                and never touch the wire; private: all fail, unicast with
                static neighbours is dropped and counted in drops.private;
                vepa: unicast leaves on the uplink and reaches the sibling only
                when the switch hairpins.
  groups        a broadcast and a multicast from ext reach every port and the
                host exactly once; a port's broadcast reaches the siblings
                (bridge only), ext, and not the host (host off).
  NS demux      ndisc6 from ext (and, bridge, from c1) for c2's address: the NS
                reaches c2 alone (no other port, not the host), though every port's address
                shares one solicited-node group with the host's; ndisc6 for
                the host's address reaches the host and no port. Counted
                after tc (AF_PACKET bound to IPv6), not with tcpdump.
  DAD           a port adding ext's IPv6 address (and, bridge, a sibling's)
                ends "dadfailed"; an address nobody owns does not.
  spoof         scapy frames from c1 with a sibling's or nobody's source IPv4
                or IPv6 address never reach ext and are each counted in
                drops.spoofed_ip; the genuine ones of the same burst arrive.
Exit 0 pass, 1 fail, 77 skip (not root, a tool missing).
"""
import ipaddress
import re
import sys
import time

from vnetkit import framecount as fc
from vnetkit import ipvlan as it
import vnetkit as vk

FLAGS = ("bridge", "private", "vepa")
PORTS = ("c1", "c2", "c3")


def i_of(role):
    return int(role[1:])


# -- setup -----------------------------------------------------------------------------
def check_setup(fab, flag):
    doc = vk.fabric_doc(fab.topo, fab.fabric)
    vk.expect([("fabric type", doc.get("type"), "ipvlan"), ("fabric ipvlan_mode", doc.get("ipvlan_mode"), "l2"),
               ("fabric ipvlan_flag", doc.get("ipvlan_flag"), flag)])
    results = []
    for role in PORTS:
        p = fab.port_doc(role)
        listed = {a["address"].split("/")[0]: a for a in p.get("addresses", [])}
        results += [(f"{role}: show type", p.get("type"), "ipvlan"),
                    (f"{role}: show lists {it.v4(i_of(role))}", it.v4(i_of(role)) in listed, True),
                    (f"{role}: show lists {it.v6(i_of(role))}", it.v6(i_of(role)) in listed, True),
                    (f"{role}: link-local addresses listed", sum(1 for a in listed.values() if a.get("link_local")), 1),
                    (f"{role}: eth0 MAC is the uplink's", vk.mac_of(fab.topo, role, "eth0"), fab.uplink_mac)]
        have = {a for a, _, _, _ in vk.addresses(fab.topo, role, family="inet")}
        have |= {a for a, _, _, _ in vk.addresses(fab.topo, role)}
        results += [(f"{role}: eth0 has {it.v4(i_of(role))}", it.v4(i_of(role)) in have, True),
                    (f"{role}: eth0 has {it.v6(i_of(role))}", it.v6(i_of(role)) in have, True)]
    vk.expect(results)


def expected_link_local(uplink_mac, slot):
    b = bytes.fromhex(uplink_mac.replace(":", ""))
    iid = bytes([b[0] ^ 0x02, b[1], b[2], (slot >> 8) & 0xFF, slot & 0xFF, b[3], b[4], b[5]])
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid))


def check_link_local(fab, flag):
    found = {role: vk.link_local(fab.topo, role) for role in PORTS}
    print("  link-local: " + ", ".join(f"{r} {a}" for r, a in found.items()))
    results = [(f"{r}: number of fe80 addresses", len(a), 1) for r, a in found.items()]
    flat = [a for al in found.values() for a in al]
    results.append(("all link-local addresses distinct", len(set(flat)) == len(flat), True))
    for role in PORTS:
        want = expected_link_local(fab.uplink_mac, fab.port_doc(role)["slot"])
        results.append((f"{role}: link-local is the uplink EUI-64 with the slot", found[role][:1], [want]))
        listed = [a["address"].split("/")[0] for a in fab.port_doc(role).get("addresses", []) if a.get("link_local")]
        results.append((f"{role}: show's link-local matches eth0's", listed, found[role]))
    vk.expect(results)


# -- external ---------------------------------------------------------------------------
def check_external(fab, flag):
    t = fab.topo
    results = []
    for role in PORTS:
        i = i_of(role)
        vk.flush_neighbours(t, [role, "ext"])
        results += [(f"ping {role} -> ext", it.ping(t, role, it.EXT4), True),
                    (f"ping -6 {role} -> ext", it.ping(t, role, it.EXT6), True)]
        vk.flush_neighbours(t, [role, "ext"])
        results += [(f"ping ext -> {role}", it.ping(t, "ext", it.v4(i)), True),
                    (f"ping -6 ext -> {role}", it.ping(t, "ext", it.v6(i)), True)]
        vk.flush_neighbours(t, [role, "ext"])
        results += [(f"arping {role} -> ext answers", vk.arping_mac(t, role, "eth0", it.EXT4), fab.ext_mac),
                    (f"arping ext -> {role} answers", vk.arping_mac(t, "ext", "eth0", it.v4(i)), fab.uplink_mac),
                    (f"ndisc6 ext -> {role} answers", vk.ndisc6(t, "ext", "eth0", it.v6(i)), fab.uplink_mac)]
    ll = vk.link_local(t, "c2")
    results.append(("ping -6 ext -> c2's link-local", bool(ll) and it.ping(t, "ext", f"{ll[0]}%eth0"), True))
    vk.expect(results)


def check_wire_mac(fab, flag):
    """What ext receives from the ports' addresses (v4, v6, link-local): only
    frames with the uplink's source MAC. (ext also hears the switch's own
    IPv6 chatter: the filter keeps to the ports' source addresses.)"""
    t = fab.topo
    sources = [a for role in PORTS for a in (it.v4(i_of(role)), it.v6(i_of(role)), *vk.link_local(t, role))]
    expr = "(arp or icmp or icmp6) and (" + " or ".join(f"src host {a}" for a in sources) + ")"
    vk.flush_neighbours(t, list(PORTS) + ["ext"])
    with vk.sniffing(t, {"ext": ("ext", "eth0")}, expr) as seen:
        for role in PORTS:
            it.ping(t, role, it.EXT4, count=1)
            it.ping(t, role, it.EXT6, count=1)
            vk.arping_mac(t, role, "eth0", it.EXT4)
    wrong = [line for line in seen["ext"] if vk.src_macs([line])[0] != fab.uplink_mac]
    print(f"  ext received {len(seen['ext'])} ARP/ICMP/ICMPv6 frames from the ports' addresses; "
          f"with a source MAC other than the uplink's ({fab.uplink_mac}): {len(wrong)}")
    for line in wrong[:3]:
        print(f"    {line}")
    assert len(seen["ext"]) >= 3 * 3, f"ext captured only {len(seen['ext'])} frames, want at least 9"
    assert not wrong, f"{len(wrong)} frames reached the wire with another source MAC than the uplink's"


# -- port to port -------------------------------------------------------------------------
def static_neighbours(fab, a, b):
    """a and b know each other's v4 and v6 address at the uplink's MAC (no ARP/ND)."""
    for x, y in ((a, b), (b, a)):
        for addr in (it.v4(i_of(y)), it.v6(i_of(y))):
            fab.topo.ip(x, "neigh", "replace", addr, "lladdr", fab.uplink_mac, "dev", "eth0", "nud", "permanent")


def wire_icmp_between(fab, a, b):
    """tcpdump filter: ICMP/ICMPv6 between a's and b's addresses."""
    ia, ib = i_of(a), i_of(b)
    return (f"(icmp and host {it.v4(ia)} and host {it.v4(ib)}) or "
            f"(icmp6 and ip6 host {it.v6(ia)} and ip6 host {it.v6(ib)})")


def unicast_round(fab, a, b, count=5):
    """count pings a -> b over v4 and v6 with static neighbours; returns
    (answered v4, answered v6, ICMP frames seen leaving on the uplink side of the switch)."""
    static_neighbours(fab, a, b)
    with vk.sniffing(fab.topo, {"sw": ("sw", "swup")}, wire_icmp_between(fab, a, b)) as seen:
        r4 = vk.ping_count(fab.topo, a, it.v4(i_of(b)), count)
        r6 = vk.ping_count(fab.topo, a, it.v6(i_of(b)), count)
    return r4, r6, len(seen["sw"])


def probes(fab, a, b):
    """Ordinary clients (neighbours forgotten first): ping, ping -6, arping, link-local ping."""
    t = fab.topo
    vk.flush_neighbours(t, [a, b])
    ll = vk.link_local(t, b)
    return [(f"ping {a} -> {b}", it.ping(t, a, it.v4(i_of(b)))),
            (f"ping -6 {a} -> {b}", it.ping(t, a, it.v6(i_of(b)))),
            (f"arping {a} -> {b} answered", vk.arping_mac(t, a, "eth0", it.v4(i_of(b))) is not None),
            (f"ping -6 {a} -> {b}'s link-local", bool(ll) and it.ping(t, a, f"{ll[0]}%eth0"))]


def check_port_port(fab, flag):
    t = fab.topo
    results = []
    if flag == "bridge":
        for a, b in (("c1", "c2"), ("c2", "c1"), ("c3", "c1")):
            results += [(what, got, True) for what, got in probes(fab, a, b)]
        r4, r6, wire = unicast_round(fab, "c1", "c2")
        results += [("c1 -> c2 static-neighbour pings answered (v4, v6)", (r4, r6), (5, 5)),
                    ("c1 <-> c2 ICMP frames on the wire", wire, 0)]
    elif flag == "private":
        for a, b in (("c1", "c2"), ("c2", "c1"), ("c3", "c1")):
            results += [(what, got, False) for what, got in probes(fab, a, b)]
        before = it.drops(fab, "private")
        r4, r6, wire = unicast_round(fab, "c1", "c2")
        grew = vk.drops_grew(before, it.drops(fab, "private"))
        print(f"  drops.private grew: {grew}")
        results += [("c1 -> c2 static-neighbour pings answered (v4, v6)", (r4, r6), (0, 0)),
                    ("c1 <-> c2 ICMP frames on the wire", wire, 0),
                    ("drops.private grew by at least 10 (5 v4 + 5 v6 echo requests)",
                     sum(grew.values()) >= 10, True)]
        results.append(("ping c1 -> ext still works", it.ping(t, "c1", it.EXT4), True))
    else:  # vepa
        r4, r6, wire = unicast_round(fab, "c1", "c2")
        results += [("switch hairpin off: c1 -> c2 static-neighbour pings answered (v4, v6)", (r4, r6), (0, 0)),
                    ("switch hairpin off: c1 -> c2 echo requests seen leaving on the uplink (>= 10)",
                     wire >= 10, True)]
        vk.set_switch_hairpin(t, True)
        try:
            r4, r6, wire = unicast_round(fab, "c1", "c2")
            results += [("switch hairpin on: c1 -> c2 static-neighbour pings answered (v4, v6)", (r4, r6), (5, 5)),
                        ("switch hairpin on: c1 <-> c2 ICMP frames from the uplink (>= 20: requests and replies)",
                         wire >= 20, True)]
            # ARP/ND through the reflected broadcast: not specified for ipvlan vepa; reported only.
            info = probes(fab, "c2", "c3")
            print("  (not asserted) switch hairpin on, ordinary clients: "
                  + ", ".join(f"{w} {'ok' if g else 'fails'}" for w, g in info))
        finally:
            vk.set_switch_hairpin(t, False)
        for a, b in (("c2", "c3"),):
            results += [(f"switch hairpin off: {what}", got, False) for what, got in probes(fab, a, b)]
    for a, b in (("c1", "c2"), ("c2", "c1")):
        for addr in (it.v4(i_of(b)), it.v6(i_of(b))):
            t.ip(a, "neigh", "del", addr, "dev", "eth0", check=False)
    vk.expect(results)


# -- group frames ---------------------------------------------------------------------------
def check_groups(fab, flag):
    t = fab.topo
    receivers = {r: (r, "eth0") for r in PORTS}
    receivers.update({"ext": ("ext", "eth0"), "host": ("host", "up0")})
    ext, u = fab.ext_mac, fab.uplink_mac
    sends = [
        ("ext", vk.marker_udp4(ext, vk.BROADCAST, it.EXT4, "255.255.255.255", "ext-bcast", 2)),
        ("ext", vk.marker_udp4(ext, "01:00:5e:00:00:fb", it.EXT4, "224.0.0.251", "ext-mcast", 2)),
        ("c1", vk.marker_udp4(u, vk.BROADCAST, it.v4(1), "255.255.255.255", "c1-bcast", 2)),
        ("c1", vk.marker_udp4(u, "01:00:5e:00:00:fb", it.v4(1), "224.0.0.251", "c1-mcast", 2)),
    ]
    siblings = 2 if flag == "bridge" else 0
    want = {"ext-bcast": {"c1": 2, "c2": 2, "c3": 2, "host": 2, "ext": 0},
            "ext-mcast": {"c1": 2, "c2": 2, "c3": 2, "host": 2, "ext": 0},
            "c1-bcast": {"c1": 0, "c2": siblings, "c3": siblings, "ext": 2, "host": 0},
            "c1-mcast": {"c1": 0, "c2": siblings, "c3": siblings, "ext": 2, "host": 0}}
    with fc.counting(t, receivers) as counts:
        for role, expr in sends:
            vk.scapy_send(t, role, "eth0", expr)
    results = []
    for marker, per in want.items():
        for r, n in per.items():
            results.append((f"{marker} -> {r} copies", counts[r].get(marker, 0), n))
    vk.expect(results)


# -- NS demux -------------------------------------------------------------------------------
def ns_counts(fab, sender, target):
    """NS for target each port's stack and the host's are given while sender runs ndisc6 for it."""
    where = {r: (r, "eth0") for r in PORTS}
    where["host"] = ("host", "up0")
    vk.flush_neighbours(fab.topo, list(PORTS) + ["ext"])
    with vk.counting_ns(fab.topo, where) as seen:
        mac = vk.ndisc6(fab.topo, sender, "eth0", target)
    return mac, {r: counts.get(target, 0) for r, counts in seen.items()}


def check_ns_demux(fab, flag):
    group, gmac = vk.solicited_node(it.v6(2))
    print(f"  ports' and host's solicited-node group: {group} ({gmac}): "
          + ", ".join(vk.solicited_node(a)[0] for a in (it.v6(1), it.v6(3), it.HOST6)))
    mac, got = ns_counts(fab, "ext", it.v6(2))
    print(f"  ndisc6 ext -> {it.v6(2)}: answered {mac}; NS received {got}")
    # An NS for a port's address goes to that port alone: not the host either.
    results = [("ndisc6 ext -> c2 answered", mac, fab.uplink_mac), ("c2 received the NS", got["c2"] >= 1, True),
               ("c1 NS copies", got["c1"], 0), ("c3 NS copies", got["c3"], 0), ("host NS copies", got["host"], 0)]
    mac, got = ns_counts(fab, "ext", it.HOST6)
    print(f"  ndisc6 ext -> {it.HOST6} (the host's, same group): answered {mac}; NS received {got}")
    results += [("ndisc6 ext -> host answered", mac, fab.uplink_mac), ("host received the NS", got["host"] >= 1, True),
                ("NS for the host: port copies", [got[r] for r in PORTS], [0] * len(PORTS))]
    mac, got = ns_counts(fab, "c1", it.v6(2))
    print(f"  ndisc6 c1 -> {it.v6(2)}: answered {mac}; NS received {got}")
    results.append(("NS from c1 for c2: c3 copies", got["c3"], 0))
    if flag == "bridge":
        results += [("NS from c1 for c2: c2 received it", got["c2"] >= 1, True),
                    ("ndisc6 c1 -> c2 answered", mac, fab.uplink_mac)]
    vk.expect(results)


# -- DAD -----------------------------------------------------------------------------------------
def dad_outcome(fab, role, addr, timeout=5.0):
    """Adds addr/64 to role's eth0, waits for DAD to end; returns 'dadfailed',
    'ok' or 'tentative' (never ended) and removes the address."""
    t = fab.topo
    t.ip(role, "addr", "add", f"{addr}/64", "dev", "eth0")
    try:
        deadline = time.time() + timeout
        while True:
            flags = [f for a, _, _, f in vk.addresses(t, role) if a == addr]
            state = "gone" if not flags else "dadfailed" if "dadfailed" in flags[0] else \
                "tentative" if "tentative" in flags[0] else "ok"
            if state != "tentative" or time.time() >= deadline:
                return state
            time.sleep(0.1)
    finally:
        t.ip(role, "addr", "del", f"{addr}/64", "dev", "eth0", check=False)


def check_dad(fab, flag):
    results = [("c2 adds ext's address", dad_outcome(fab, "c2", it.EXT6), "dadfailed"),
               ("c2 adds an address nobody owns (control)", dad_outcome(fab, "c2", f"{it.NET6}:0:99::1"), "ok")]
    if flag == "bridge":
        results.append(("c2 adds c1's address", dad_outcome(fab, "c2", it.v6(1)), "dadfailed"))
    vk.expect(results)
    vk.expect([("c1 still reaches ext over IPv6", it.ping(fab.topo, "c1", it.EXT6), True)])


# -- spoofing --------------------------------------------------------------------------------------
def check_spoof(fab, flag):
    t = fab.topo
    u, ext = fab.uplink_mac, fab.ext_mac

    def udp4(src, tag):
        return f"Ether(src={u!r}, dst={ext!r}) / IP(src={src!r}, dst={it.EXT4!r}) / UDP(sport=40000, dport=40001) / Raw(b'{tag}')"

    def udp6(src, tag):
        return f"Ether(src={u!r}, dst={ext!r}) / IPv6(src={src!r}, dst={it.EXT6!r}) / UDP(sport=40000, dport=40001) / Raw(b'{tag}')"

    forged = {"sibling-v4": udp4(it.v4(2), "sibling-v4"), "nobody-v4": udp4(f"{vk.NET}.77", "nobody-v4"),
              "sibling-v6": udp6(it.v6(2), "sibling-v6"), "ext-v4": udp4(it.EXT4, "ext-v4")}
    genuine = {"own-v4": udp4(it.v4(1), "own-v4"), "own-v6": udp6(it.v6(1), "own-v6")}
    dev = fab.dev("c1")
    before = it.drops(fab, "spoofed_ip")
    with vk.sniffing(t, {"ext": ("ext", "eth0")}, "udp dst port 40001", verbose=False) as seen:
        vk.scapy_send(t, "c1", "eth0", "[" + ", ".join(list(forged.values()) + list(genuine.values())) + "]")
    after = it.drops(fab, "spoofed_ip")
    got = {}
    for line in seen["ext"]:
        m = re.search(r"length \d+: (\S+)\.40000 >", line)  # tcpdump -e: "..., length 62: SRC.40000 > DST.40001"
        if m:
            got[m.group(1)] = got.get(m.group(1), 0) + 1
    print(f"  ext received UDP from: {got}; drops.spoofed_ip grew {vk.drops_grew(before, after)}")
    vk.expect([("forged frames reaching ext", sum(got.get(a, 0) for a in (it.v4(2), f"{vk.NET}.77", it.v6(2),
                                                                          it.EXT4)), 0),
               ("genuine v4 frame reaching ext", got.get(it.v4(1), 0), 1),
               ("genuine v6 frame reaching ext", got.get(it.v6(1), 0), 1),
               ("c1's port drops.spoofed_ip growth", after[dev] - before.get(dev, 0), len(forged))])


# -- main ----------------------------------------------------------------------------------------
CHECKS = [("setup", check_setup), ("link-local", check_link_local), ("external", check_external),
          ("wire MAC", check_wire_mac), ("port-port", check_port_port), ("groups", check_groups),
          ("NS demux", check_ns_demux), ("DAD", check_dad), ("spoof", check_spoof)]


def main():
    vk.require_root()
    if len(sys.argv) != 2 or sys.argv[1] not in FLAGS:
        print("usage: test_ipvlan_l2.py bridge|private|vepa", file=sys.stderr)
        return 2
    flag = sys.argv[1]
    vk.require_tools("tcpdump", "arping", "ndisc6", "ping", "scapy")
    vk.exit_on_signals()
    start = time.time()
    checks = vk.Checks()
    with vk.Topology(tag=f"i2{flag[0]}") as topo:
        print(f"=== ipvlan l2, flag {flag}: c1..c3, switch hairpin off", flush=True)
        try:
            fab = it.build(topo, "l2", flag, len(PORTS))
        except vk.CommandError as e:
            checks.fail("topology", str(e))
        else:
            for name, fn in CHECKS:
                checks.run(f"{flag}: {name}", fn, fab, flag)
    checks.finish(f"ipvlan l2 {flag}", start, [topo])


if __name__ == "__main__":
    sys.exit(main())
