#!/usr/bin/python3
"""Anti-spoofing and isolation against a root user in a port's namespace
(issue 10, holes 2 and 4, and --allow-ip): the frames an attacker would
send, crafted with scapy on the port's own eth0, and what reaches the other
side.

ipvlan (hole 2): an ipvlan l2 fabric (flag bridge), ports c1 (the attacker)
and c2, ext beyond the switch. Each forged frame is sent alone from c1 while
tcpdump listens on ext's and c2's eth0; a forged frame must reach neither and
be counted as spoofed_ip on c1's port. Beside each attack, the legitimate
frame of the same shape (its own NA, DAD, an MLD report, a DHCP DISCOVER, an
ARP probe) must still get through, so the refusals are not a blanket drop.

isolation (hole 4): one fabric with an isolated MAC-demux port m1 and an
isolated IP-demux port i1, the switch hairpinning (a reflecting switch), on
the tc path and on the XDP path (`--xdp-mode native --xdp-redirect on`):
m1 <-> i1 ping and ARP both ways must fail, counted as isolated drops; with
i1's isolation turned off the same pings work (the path is real).

allow-ip: a macvlan bridge port with `--allow-ip` may send from its allowed
addresses (and its EUI-64 link-local, DHCP DISCOVER from 0.0.0.0); a forged
IPv4/IPv6 source, an ARP or NA claiming another address are dropped as
spoofed_ip and reach nobody; `--allow-ip none` lifts the check.

Exit 0 pass, 1 fail, 77 skip (not root, a tool missing).
"""
import ipaddress
import sys
import time

from vnetkit import ipvlan as it
import vnetkit as vk

NET, NET6 = vk.NET, it.NET6
BCAST = vk.BROADCAST
ALL_NODES_MAC = "33:33:00:00:00:01"
MLD_MAC = "33:33:00:00:00:16"

_SEND = r"""
import sys
from scapy.all import *  # noqa: the frames below use many layers
sendp(eval(sys.argv[2]), iface=sys.argv[1], verbose=False)
"""


def hex4(addr):
    """The last 32 bits of an address, as a tcpdump constant (filters below
    match the forged frames' own fields, not every ARP or NA on the segment)."""
    return "0x" + ipaddress.ip_address(addr).packed[-4:].hex()


def send(topo, role, expr, ifname="eth0"):
    p = vk.run(["ip", "netns", "exec", topo.ns(role), vk.PY, "-c", _SEND, ifname, expr], check=False, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"scapy in {role} failed: {p.stderr.strip()[-400:]}")


def spoof_drops(fab, dev):
    doc = fab.topo.vnetctl("stats", dev, json_out=True)
    return doc["stats"][0]["drops"]


def attempt(fab, sender, expr, filt, receivers, want_delivered, reason="spoofed_ip"):
    """Sends expr from sender; returns [(what, got, want)] for expect()."""
    dev = fab.dev(sender)
    before = spoof_drops(fab, dev)[reason]
    with vk.sniffing(fab.topo, {r: (r, "eth0") for r in receivers}, filt) as seen:
        send(fab.topo, sender, expr)
    grew = spoof_drops(fab, dev)[reason] - before
    out = [(f"copies at {r}", len(seen[r]) > 0, want_delivered) for r in receivers]
    out.append((f"{reason} drops on {sender}", grew, 0 if want_delivered else 1))
    return out


# -- hole 2: ipvlan source checks --------------------------------------------------------------
def ipvlan_cases(fab):
    u, ext_mac = fab.uplink_mac, fab.ext_mac
    c1_4, c2_4, c1_6, c2_6 = it.v4(1), it.v4(2), it.v6(1), it.v6(2)
    na = ("Ether(src={u!r}, dst={d!r}) / IPv6(src={s!r}, dst='ff02::1', hlim=255) / "
          "ICMPv6ND_NA(tgt={t!r}, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr={u!r})")
    dhcp = ("Ether(src={u!r}, dst={d!r}) / IP(src='0.0.0.0', dst={ip!r}) / UDP(sport=68, dport=67) / "
            "BOOTP(op=1, chaddr=bytes.fromhex({u!r}.replace(':', '')), xid=0x5eed) / "
            "DHCP(options=[('message-type', {t!r}), 'end'])")
    # An NA to ff02::1 (ip6[24] is the first byte of the destination) whose
    # target (ip6[48..63]) ends like `t`.
    def na_filter(t):
        return f"icmp6 and ip6[40] == 136 and ip6[24] == 0xff and ip6[60:4] == {hex4(t)}"

    # ARP (Ethernet/IPv4 layout) with sender IP s and target IP t.
    def arp_filter(s, t):
        return f"arp and arp[14:4] == {hex4(s)} and arp[24:4] == {hex4(t)}"

    return [
        # (name, expression, tcpdump filter, receivers, delivered?, drop reason)
        ("ARP of hardware type IEEE 802 claiming c2's address",
         f"Ether(src={u!r}, dst={BCAST!r}) / ARP(hwtype=6, op=2, hwsrc={u!r}, psrc={c2_4!r}, "
         f"hwdst={BCAST!r}, pdst={c2_4!r})", "arp and arp[0:2] == 6", ["ext", "c2"], False, "spoofed_ip"),
        ("ARP with a 4-byte hardware length (padded to a full frame)",
         f"Ether(src={u!r}, dst={BCAST!r}) / ARP(hwlen=4, op=1, hwsrc=b'\\x02\\x00\\x00\\x01', psrc={c1_4!r}, "
         f"hwdst=b'\\x00\\x00\\x00\\x00', pdst={it.EXT4!r}) / Raw(bytes(20))", "arp and arp[4] == 4", ["ext", "c2"], False,
         "spoofed_ip"),
        ("Ethernet/IPv4 ARP claiming c2's address",
         f"Ether(src={u!r}, dst={BCAST!r}) / ARP(op=2, hwsrc={u!r}, psrc={c2_4!r}, hwdst={BCAST!r}, "
         f"pdst={c2_4!r})", arp_filter(c2_4, c2_4), ["ext", "c2"], False, "spoofed_ip"),
        ("gratuitous ARP for its own address", f"Ether(src={u!r}, dst={BCAST!r}) / ARP(op=2, hwsrc={u!r}, "
         f"psrc={c1_4!r}, hwdst={BCAST!r}, pdst={c1_4!r})", arp_filter(c1_4, c1_4), ["ext", "c2"], True,
         "spoofed_ip"),
        ("unsolicited NA for c2's address", na.format(u=u, d=ALL_NODES_MAC, s=c1_6, t=c2_6), na_filter(c2_6),
         ["ext", "c2"], False, "spoofed_ip"),
        ("unsolicited NA for the gateway's address", na.format(u=u, d=ALL_NODES_MAC, s=c1_6, t=it.EXT6),
         na_filter(it.EXT6), ["ext", "c2"], False, "spoofed_ip"),
        ("NA for the gateway's address behind a hop-by-hop header",
         f"Ether(src={u!r}, dst={ALL_NODES_MAC!r}) / IPv6(src={c1_6!r}, dst='ff02::1', hlim=255) / "
         f"IPv6ExtHdrHopByHop() / ICMPv6ND_NA(tgt={it.EXT6!r}, R=0, S=0, O=1) / "
         f"ICMPv6NDOptDstLLAddr(lladdr={u!r})", "ip6 and ip6[6] == 0 and ip6[40] == 58 and ip6[48] == 136",
         ["ext", "c2"], False, "spoofed_ip"),
        ("NA for its own address", na.format(u=u, d=ALL_NODES_MAC, s=c1_6, t=c1_6), na_filter(c1_6),
         ["ext", "c2"], True, "spoofed_ip"),
        ("echo request from :: behind a hop-by-hop header",
         f"Ether(src={u!r}, dst={ext_mac!r}) / IPv6(src='::', dst={it.EXT6!r}) / IPv6ExtHdrHopByHop() / "
         f"ICMPv6EchoRequest()", "ip6 and src host :: and ip6[6] == 0", ["ext"], False, "spoofed_ip"),
        ("MLDv2 report from :: behind a hop-by-hop header",
         f"Ether(src={u!r}, dst={MLD_MAC!r}) / IPv6(src='::', dst='ff02::16', hlim=1) / "
         f"IPv6ExtHdrHopByHop(options=[RouterAlert()]) / ICMPv6MLReport2()",
         "ip6 and src host :: and ip6[6] == 0 and ip6[48] == 143", ["ext"], True, "spoofed_ip"),
        ("DAD Neighbour Solicitation from ::",
         f"Ether(src={u!r}, dst='33:33:ff:00:00:99') / IPv6(src='::', dst='ff02::1:ff00:99', hlim=255) / "
         f"ICMPv6ND_NS(tgt='{NET6}::99')", f"ip6 and src host :: and ip6[60:4] == {hex4(NET6 + '::99')}", ["ext"],
         True, "spoofed_ip"),
        ("UDP 68->67 from 0.0.0.0 to the gateway's unicast address",
         dhcp.format(u=u, d=ext_mac, ip=it.EXT4, t="discover"), "udp port 67 and src host 0.0.0.0", ["ext"], False,
         "spoofed_ip"),
        ("DHCP INFORM from 0.0.0.0 to 255.255.255.255",
         dhcp.format(u=u, d=BCAST, ip="255.255.255.255", t="inform"), "udp port 67 and src host 0.0.0.0", ["ext"],
         False, "spoofed_ip"),
        ("DHCP DISCOVER from 0.0.0.0 to 255.255.255.255",
         dhcp.format(u=u, d=BCAST, ip="255.255.255.255", t="discover"), "udp port 67 and src host 0.0.0.0",
         ["ext"], True, "spoofed_ip"),
        ("ARP reply from 0.0.0.0",
         f"Ether(src={u!r}, dst={ext_mac!r}) / ARP(op=2, hwsrc={u!r}, psrc='0.0.0.0', hwdst={ext_mac!r}, "
         f"pdst={it.EXT4!r})", arp_filter("0.0.0.0", it.EXT4), ["ext"], False, "spoofed_ip"),
        ("ARP probe from 0.0.0.0", f"Ether(src={u!r}, dst={BCAST!r}) / ARP(op=1, hwsrc={u!r}, psrc='0.0.0.0', "
         f"pdst={c1_4!r})", arp_filter("0.0.0.0", c1_4), ["ext"], True, "spoofed_ip"),
    ]


TOPOLOGIES = []  # every topology built, for the leak check at the end


def topology(tag):
    topo = vk.Topology(tag)
    TOPOLOGIES.append(topo)
    return topo


def check_ipvlan(checks):
    with topology("cl") as topo:
        fab = it.build(topo, "l2", "bridge", 2)
        # ext knows c2's address (and the gateway's) before the attacks.
        it.ping(topo, "c2", it.EXT4)
        it.ping(topo, "c2", it.EXT6)
        for name, expr, filt, receivers, delivered, reason in ipvlan_cases(fab):
            checks.run(f"ipvlan: {name}",
                       lambda: vk.expect(attempt(fab, "c1", expr, filt, receivers, delivered, reason)))
        checks.run("ipvlan: c2 still reaches the gateway", lambda: vk.expect([
            ("ping c2 -> ext", it.ping(topo, "c2", it.EXT4), True),
            ("ping -6 c2 -> ext", it.ping(topo, "c2", it.EXT6), True)]))
        # The legitimate way still works end to end.
        checks.run("ipvlan: c1 <-> c2 and ext", lambda: vk.expect([
            ("ping c1 -> c2", it.ping(topo, "c1", it.v4(2)), True),
            ("ping -6 c1 -> ext", it.ping(topo, "c1", it.EXT6), True)]))


# -- hole 4: isolation across kinds ------------------------------------------------------------
M1_4, M1_6, I1_4, I1_6 = f"{NET}.21", f"{NET6}::21", f"{NET}.31", f"{NET6}::31"


def mixed(topo, *attach_extra):
    vk.build_l2(topo, "none", "bridge", True, containers=0)  # the switch reflects
    topo.ip("ext", "addr", "add", f"{it.EXT6}/64", "dev", "eth0", "nodad")
    fabric = topo.attach("up0", "--ipvlan-mode", "l2", "--ipvlan-flag", "bridge", *attach_extra)
    ports = {}
    ns = topo.netns("m1")
    ports["m1"] = topo.vnetctl("port", "add", "--fabric", fabric, "--netns", ns, "--mode", "vepa", "--isolated",
                               "on", json_out=True)
    topo.ip("m1", "addr", "add", f"{M1_4}/24", "dev", "eth0")
    topo.ip("m1", "addr", "add", f"{M1_6}/64", "dev", "eth0", "nodad")
    ns = topo.netns("i1")
    ports["i1"] = topo.vnetctl("port", "add", "--fabric", fabric, "--netns", ns, "--ip", f"{I1_4}/24", "--ip",
                               f"{I1_6}/64", "--isolated", "on", json_out=True)
    vk.wait_ready(topo, ["m1", "i1"])
    return it.Fabric(topo, fabric, ports)


def isolated_drops(fab):
    return sum(it.drops(fab, "isolated").values())


def check_isolation(checks, path, attach_extra):
    with topology("ci") as topo:
        fab = mixed(topo, *attach_extra)

        def isolated():
            before = isolated_drops(fab)
            results = [
                ("ping m1 -> i1", it.ping(topo, "m1", I1_4), False),
                ("ping i1 -> m1", it.ping(topo, "i1", M1_4), False),
                ("ping -6 m1 -> i1", it.ping(topo, "m1", I1_6), False),
                ("ping -6 i1 -> m1", it.ping(topo, "i1", M1_6), False),
                # Both still reach the world beyond the switch.
                ("ping m1 -> ext", it.ping(topo, "m1", it.EXT4), True),
                ("ping i1 -> ext", it.ping(topo, "i1", it.EXT4), True),
            ]
            results.append(("isolated drops counted", isolated_drops(fab) > before, True))
            vk.expect(results)

        def one_side_open():
            fab.topo.vnetctl("port", "set", fab.dev("i1"), "--isolated", "off")
            vk.flush_neighbours(topo, ["m1", "i1"])
            vk.expect([("ping m1 -> i1", it.ping(topo, "m1", I1_4), True),
                       ("ping i1 -> m1", it.ping(topo, "i1", M1_4), True),
                       ("ping -6 i1 -> m1", it.ping(topo, "i1", M1_6), True)])

        checks.run(f"isolation ({path}): MAC port <-> IP port, switch reflecting", isolated)
        checks.run(f"isolation ({path}): with i1 not isolated they talk", one_side_open)


# -- --allow-ip on a MAC port ------------------------------------------------------------------
A1_4, A1_6, A2_4 = f"{NET}.41", f"{NET6}::41", f"{NET}.42"


def check_allow_ip(checks):
    with topology("ca") as topo:
        vk.build_l2(topo, "none", "bridge", False, containers=0)
        topo.ip("ext", "addr", "add", f"{it.EXT6}/64", "dev", "eth0", "nodad")
        fabric = topo.attach("up0")
        ports = {}
        for role, extra in (("a1", ["--allow-ip", f"{A1_4}/32", "--allow-ip", A1_6]), ("a2", [])):
            ns = topo.netns(role)
            ports[role] = topo.vnetctl("port", "add", "--fabric", fabric, "--netns", ns, "--mode", "bridge",
                                       *extra, json_out=True)
        topo.ip("a1", "addr", "add", f"{A1_4}/24", "dev", "eth0")
        topo.ip("a1", "addr", "add", f"{A1_6}/64", "dev", "eth0", "nodad")
        topo.ip("a2", "addr", "add", f"{A2_4}/24", "dev", "eth0")
        vk.wait_ready(topo, ["a1", "a2"])
        fab = it.Fabric(topo, fabric, ports)
        mac = vk.mac_of(topo, "a1", "eth0")
        ext_mac = fab.ext_mac

        checks.run("allow-ip: allowed sources work", lambda: vk.expect([
            ("ping a1 -> ext", it.ping(topo, "a1", it.EXT4), True),
            ("ping -6 a1 -> ext", it.ping(topo, "a1", it.EXT6), True),
            ("ping a1 -> a2", it.ping(topo, "a1", A2_4), True),
            ("ping -6 a1 -> ext from its EUI-64 link-local",
             it.ping(topo, "a1", f"{vk.link_local(topo, 'ext')[0]}%eth0"), True)]))
        cases = [
            ("IPv4 from another address",
             f"Ether(src={mac!r}, dst={ext_mac!r}) / IP(src={A2_4!r}, dst={it.EXT4!r}) / ICMP()",
             f"icmp and src host {A2_4}", False),
            ("IPv6 from another address",
             f"Ether(src={mac!r}, dst={ext_mac!r}) / IPv6(src='{NET6}::42', dst={it.EXT6!r}) / ICMPv6EchoRequest()",
             f"icmp6 and src host {NET6}::42", False),
            ("ARP claiming a2's address", f"Ether(src={mac!r}, dst={BCAST!r}) / ARP(op=2, hwsrc={mac!r}, "
             f"psrc={A2_4!r}, hwdst={BCAST!r}, pdst={A2_4!r})",
             f"arp and arp[14:4] == {hex4(A2_4)} and arp[24:4] == {hex4(A2_4)}", False),
            ("NA claiming the gateway's address",
             f"Ether(src={mac!r}, dst={ALL_NODES_MAC!r}) / IPv6(src={A1_6!r}, dst='ff02::1', hlim=255) / "
             f"ICMPv6ND_NA(tgt={it.EXT6!r}, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr={mac!r})",
             f"icmp6 and ip6[40] == 136 and ip6[24] == 0xff and ip6[60:4] == {hex4(it.EXT6)}", False),
            ("ARP for its own address", f"Ether(src={mac!r}, dst={BCAST!r}) / ARP(op=2, hwsrc={mac!r}, "
             f"psrc={A1_4!r}, hwdst={BCAST!r}, pdst={A1_4!r})",
             f"arp and arp[14:4] == {hex4(A1_4)} and arp[24:4] == {hex4(A1_4)}", True),
            ("DHCP DISCOVER from 0.0.0.0",
             f"Ether(src={mac!r}, dst={BCAST!r}) / IP(src='0.0.0.0', dst='255.255.255.255') / "
             f"UDP(sport=68, dport=67) / BOOTP(op=1, xid=7) / DHCP(options=[('message-type', 'discover'), 'end'])",
             "udp port 67 and src host 0.0.0.0", True),
        ]
        for name, expr, filt, delivered in cases:
            checks.run(f"allow-ip: {name}", lambda: vk.expect(attempt(fab, "a1", expr, filt, ["ext", "a2"],
                                                                      delivered)))

        def cleared():
            topo.vnetctl("port", "set", fab.dev("a1"), "--allow-ip", "none")
            vk.expect(attempt(fab, "a1", cases[0][1], cases[0][2], ["ext"], True))

        checks.run("allow-ip: none lifts the check", cleared)


PARTS = {
    "ipvlan": lambda checks: check_ipvlan(checks),
    "isolation": lambda checks: (check_isolation(checks, "tc", ()),
                                 check_isolation(checks, "XDP", ("--xdp-mode", "native", "--xdp-redirect", "on"))),
    "allow-ip": lambda checks: check_allow_ip(checks),
}


def main():
    parts = sys.argv[1:] or list(PARTS)
    vk.require_root()
    vk.require_tools("tcpdump", "ping", "scapy")
    vk.exit_on_signals()
    start = time.time()
    checks = vk.Checks()
    for part in parts:
        PARTS[part](checks)
    checks.finish(f"claims ({', '.join(parts)})", start, TOPOLOGIES)


if __name__ == "__main__":
    main()
