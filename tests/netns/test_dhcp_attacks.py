#!/usr/bin/python3
"""DHCP demultiplexing of ipvlan l2 ports under attack (issue 10, hole 3),
with real frames: scapy in a port's namespace plays the root user inside a
container, scapy on ext plays a DHCP server (or an accomplice) on the wire.

vnetkit.ipvlan.build's topology, fabric `--type ipvlan --ipvlan-mode l2
--ipvlan-flag vepa`, the switch reflecting (hairpin on) so a port's frame for
a sibling comes back in through the uplink as from the wire; ports c1 .11,
c2 .12, c3 .13 (c3 also owns the routed prefix 198.18.7.0/24). Every check
opens its DHCP transactions with fresh transaction ids. Checks:

  replay     c1 asks with xid X, then c2 replays X: c2's request is dropped
             (drop reason dhcp on c2); ext's OFFER and ACK for X reach c1
             only, and the lease is c1's.
  flood      c1 asks with xid Y, c2 sends 20000 requests with other xids;
             ext's ACK for Y still reaches c1 alone and its lease is c1's.
  reflected  c2 asks with xid Z and answers itself: an ACK (from its own
             address, to c1's, so vepa sends it out and the switch brings it
             back) for a free address. Not learned, not delivered, counted
             on the uplink.
  host       ext ACKs c1's transaction with the host's address 198.18.0.1:
             refused (not learned, not delivered, counted); ext still reaches
             the host at .1, not c1.
  prefix     ext ACKs c1's transaction with 198.18.7.9 (inside c3's prefix):
             refused; traffic to it still reaches c3.
  expiry     ext ACKs c1's lease .60 with option 51 = 4 s: ext reaches .60 in
             c1 at once and `show -j` lists it with at most 4 s left; 6 s
             later ext no longer reaches it and show no longer lists it. A
             second lease .61 (4 s) renewed after 2 s with 60 s outlives its
             first 4 s, with more than 4 s left.
  cap        c3 gets 4 leases; the 5th ACK is refused (not learned, not
             delivered, counted on c3).
  cap raised after `fabric set --dhcp-max-leases 5` a 5th lease succeeds.
VNET_DHCP_CHECKS=replay,cap runs only those (each opens its own transactions).
Exit 0 pass, 1 fail, 77 skip (not root, tools missing).
"""
import os
import random
import re
import sys
import time

from vnetkit import ipvlan as it
import vnetkit as vk

NET = vk.NET
PREFIX = "198.18.7.0/24"
IN_PREFIX = "198.18.7.9"
REPLY_FILTER = "udp src port 67 and udp dst port 68"

_SCAPY = r"""
import sys, time
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.sendrecv import sendp
def mac(m):
    return bytes(int(x, 16) for x in m.split(":")) + bytes(10)
def request(src, xid, mtype="discover"):
    return (Ether(src=src, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") /
            UDP(sport=68, dport=67) / BOOTP(op=1, xid=xid, chaddr=mac(src)) /
            DHCP(options=[("message-type", mtype), "end"]))
def reply(src, dst, sip, dip, xid, yiaddr, chaddr, mtype="ack", lease=600):
    opts = [("message-type", mtype), ("server_id", sip)]
    if lease is not None:
        opts.append(("lease_time", lease))
    return (Ether(src=src, dst=dst) / IP(src=sip, dst=dip) / UDP(sport=67, dport=68) /
            BOOTP(op=2, xid=xid, yiaddr=yiaddr, siaddr=sip, chaddr=mac(chaddr)) / DHCP(options=opts + ["end"]))
def flood(src, count, seed):
    # Raw sends: scapy would take minutes to build this many frames.
    import random, socket, struct
    template = bytearray(bytes(request(src, 0)))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((sys.argv[1], 0))
    rng = random.Random(seed)
    for i in range(count):
        struct.pack_into("!I", template, 14 + 20 + 8 + 4, rng.randrange(1, 1 << 32))
        s.send(template)
        if i % 200 == 199:
            time.sleep(0.005)  # the veth's backlog would drop a longer burst
    return []
frames = eval(sys.argv[2])
frames = frames if isinstance(frames, list) else [frames]
if frames:
    sendp(frames, iface=sys.argv[1], verbose=False)
"""


def send(t, role, expr):
    p = vk.run(["ip", "netns", "exec", t.ns(role), vk.PY, "-c", _SCAPY, "eth0", expr], check=False, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"scapy in {role} failed: {p.stderr.strip()[-400:]}")


def new_xid():
    return random.randrange(1, 1 << 32)


class World:
    def __init__(self, fab):
        self.fab, self.t = fab, fab.topo
        self.u = fab.uplink_mac

    def ask(self, role, xid, mtype="discover"):
        send(self.t, role, f"request({self.u!r}, {xid}, {mtype!r})")

    def ack(self, xid, yiaddr, lease=600, mtype="ack"):
        """ext answers as a DHCP server would: broadcast, to the shared MAC's client."""
        send(self.t, "ext", f"reply({self.fab.ext_mac!r}, 'ff:ff:ff:ff:ff:ff', {it.EXT4!r}, '255.255.255.255', "
                            f"{xid}, {yiaddr!r}, {self.u!r}, {mtype!r}, {lease!r})")

    def addresses(self, role):
        """{address: entry} of role's port in `show -j`."""
        return {a["address"].split("/")[0]: a for a in self.fab.port_doc(role).get("addresses", [])}

    def owners(self, address):
        doc = vk.fabric_doc(self.t, self.fab.fabric)
        return sorted(p["name"] for p in doc["ports"] for a in p.get("addresses", [])
                      if a["address"].split("/")[0] == address)

    def dhcp_drops(self):
        return it.drops(self.fab, "dhcp")


def replies_by_xid(lines):
    return [int(x, 16) for line in lines for x in re.findall(r"\bxid 0x([0-9a-f]+)", line)]


def sniff_replies(t, roles):
    return vk.sniffing(t, {r: (r, "eth0") for r in roles}, REPLY_FILTER, verbose=True)


class Selected:
    """Checks limited to VNET_DHCP_CHECKS (comma-separated names), if set."""

    def __init__(self, checks):
        self.checks = checks
        only = os.environ.get("VNET_DHCP_CHECKS")
        self.only = set(only.split(",")) if only else None

    def run(self, name, fn):
        if self.only is None or name in self.only:
            self.checks.run(name, fn)


def run(w, all_checks):
    t, fab = w.t, w.fab
    checks = Selected(all_checks)
    dev = {r: fab.dev(r) for r in ("c1", "c2", "c3")}

    def replay():
        x = new_xid()
        lease = f"{NET}.70"
        before = w.dhcp_drops()
        w.ask("c1", x)
        w.ask("c2", x)  # the thief replays the victim's transaction id
        with sniff_replies(t, ("c1", "c2")) as got:
            w.ack(x, lease, mtype="offer")
            w.ask("c1", x, "request")
            w.ack(x, lease)
        grew = vk.drops_grew(before, w.dhcp_drops())
        vk.expect([("replies with X reaching c1 (offer, ack)", replies_by_xid(got["c1"]).count(x), 2),
                   ("replies with X reaching the thief c2", replies_by_xid(got["c2"]).count(x), 0),
                   (f"owner of {lease} in show", w.owners(lease), [dev["c1"]]),
                   ("dhcp drops on c2 (its replayed request)", grew.get(dev["c2"], 0) >= 1, True)])
    checks.run("replay", replay)

    def flood():
        y = new_xid()
        lease = f"{NET}.71"
        w.ask("c1", y)
        # Five times what the old LRU table held, so an LRU would have lost Y.
        rx = vk.port_stats(t, dev["c2"])["rx_packets"]
        send(t, "c2", f"flood({w.u!r}, 20000, {new_xid()})")
        arrived = vk.port_stats(t, dev["c2"])["rx_packets"] - rx
        print(f"  c2's requests that reached vnet: {arrived}")
        assert arrived >= 16384, f"only {arrived} of c2's 20000 requests reached vnet: no flood"
        with sniff_replies(t, ("c1", "c2")) as got:
            w.ack(y, lease)
        vk.expect([("the ack for c1's xid reaching c1", replies_by_xid(got["c1"]).count(y), 1),
                   ("the ack for c1's xid reaching c2", replies_by_xid(got["c2"]).count(y), 0),
                   (f"owner of {lease} in show", w.owners(lease), [dev["c1"]])])
    checks.run("flood", flood)

    def reflected():
        z = new_xid()
        rogue = f"{NET}.77"
        before = w.dhcp_drops()
        w.ask("c2", z)
        with sniff_replies(t, ("c2",)) as got:
            # From c2's own address to c1's: vepa sends it out, the switch reflects it.
            send(t, "c2", f"reply({w.u!r}, {w.u!r}, {it.v4(2)!r}, {it.v4(1)!r}, {z}, {rogue!r}, {w.u!r})")
        grew = vk.drops_grew(before, w.dhcp_drops())
        vk.expect([(f"owner of {rogue} in show", w.owners(rogue), []),
                   ("the reflected ack delivered to c2", replies_by_xid(got["c2"]).count(z), 0),
                   ("dhcp drops on the uplink", grew.get("up0", 0) >= 1, True)])
    checks.run("reflected", reflected)

    def refused(name, address, role="c1"):
        x = new_xid()
        before = w.dhcp_drops()
        w.ask(role, x)
        with sniff_replies(t, (role,)) as got:
            w.ack(x, address)
        grew = vk.drops_grew(before, w.dhcp_drops())
        return [(f"{name}: owners of {address} after a wire ack to {role}", w.owners(address), []),
                (f"{name}: the ack delivered to {role}", replies_by_xid(got[role]).count(x), 0),
                (f"{name}: dhcp drops on the uplink", grew.get("up0", 0) >= 1, True)]

    def host():
        results = refused("host", it.HOST4)
        vk.flush_neighbours(t, ["ext", "host", "c1"])
        results.append(("ext pings the host's 198.18.0.1", it.ping(t, "ext", it.HOST4), True))
        vk.expect(results)
    checks.run("host", host)

    def prefix():
        results = refused("prefix", IN_PREFIX)
        doc = w.addresses("c3")
        results.append((f"c3 still owns {PREFIX}", PREFIX.split("/")[0] in doc, True))
        vk.expect(results)
    checks.run("prefix", prefix)

    def lease_of(role, address, seconds):
        x = new_xid()
        w.ask(role, x, "request")
        w.ack(x, address, lease=seconds)

    def expiry():
        short = f"{NET}.60"
        lease_of("c1", short, 4)
        t.ip("c1", "addr", "add", f"{short}/24", "dev", "eth0")
        vk.flush_neighbours(t, ["ext", "c1"])
        listed = w.addresses("c1").get(short, {})
        left = listed.get("lease_seconds")
        results = [(f"ext reaches {short} in c1 during its lease", it.ping(t, "ext", short), True),
                   (f"show lists {short} as learned", listed.get("learned"), True),
                   (f"show: {short} has 0-4 s left", left is not None and 0 <= left <= 4, True)]
        renewed = f"{NET}.61"
        lease_of("c1", renewed, 4)
        time.sleep(2)
        lease_of("c1", renewed, 60)  # a renewal from the wire extends it
        time.sleep(4.5)
        vk.flush_neighbours(t, ["ext", "c1"])
        now = w.addresses("c1")
        left = now.get(renewed, {}).get("lease_seconds")
        results += [(f"ext reaches {short} after its lease ended", it.ping(t, "ext", short), False),
                    (f"show lists {short} after its lease ended", short in now, False),
                    (f"show lists {renewed} after its renewal", renewed in now, True),
                    (f"show: {renewed} has more than 4 s left", left is not None and left > 4, True)]
        vk.expect(results)
    checks.run("expiry", expiry)

    def cap():
        addresses = [f"{NET}.{81 + i}" for i in range(5)]
        for a in addresses[:4]:
            lease_of("c3", a, 600)
        before = w.dhcp_drops()
        x = new_xid()
        w.ask("c3", x, "request")
        with sniff_replies(t, ("c3",)) as got:
            w.ack(x, addresses[4])
        grew = vk.drops_grew(before, w.dhcp_drops())
        listed = w.addresses("c3")
        results = [("c3's first 4 leases learned", [a for a in addresses[:4] if a in listed], addresses[:4]),
                   ("c3's 5th lease learned", addresses[4] in listed, False),
                   ("the 5th ack delivered to c3", replies_by_xid(got["c3"]).count(x), 0),
                   ("dhcp drops on c3", grew.get(dev["c3"], 0), 1)]
        vk.expect(results)
    checks.run("cap", cap)

    def cap_raised():
        fifth = f"{NET}.85"
        t.vnetctl("fabric", "set", fab.fabric, "--dhcp-max-leases", "5")
        lease_of("c3", fifth, 600)
        vk.expect([("c3's 5th lease learned with --dhcp-max-leases 5", fifth in w.addresses("c3"), True)])
    checks.run("cap raised", cap_raised)


def main():
    vk.require_root()
    vk.require_tools("scapy", "tcpdump", "ping")
    vk.exit_on_signals()
    start = time.time()
    checks = vk.Checks()
    with vk.Topology(tag="dha") as topo:
        print("=== ipvlan l2 vepa, switch hairpin on, c1..c3; c3 owns 198.18.7.0/24", flush=True)
        try:
            fab = it.build(topo, "l2", "vepa", 3, hairpin=True)
            topo.vnetctl("ip", "add", fab.dev("c3"), PREFIX)
        except vk.CommandError as e:
            checks.fail("topology", str(e))
        else:
            run(World(fab), checks)
    checks.finish("dhcp attacks", start, [topo])


if __name__ == "__main__":
    sys.exit(main())
