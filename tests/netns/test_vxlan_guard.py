#!/usr/bin/python3
"""Issue 13, the underlay guard: a host on the underlay that is not one of a
VXLAN fabric's remotes cannot inject frames into the segment.

    a1 a2 (containers)        b1 b2
     |  |                      |  |
  [F1 on vx100, F2 on vx200]  [F1, F2]      vx100: VNI 100 over IPv4, vx200: VNI 200 over IPv6
   host A (eth0) --- br0 in "ul" --- host B (eth0)
                        |
                      rogue (eth0)

Host A's fabrics are made by `vnetctl attach --vxlan VNI --underlay eth0
--local .. --remote B`, which attaches the underlay guard with B as the one
remote. Host B's VXLAN devices are the user's (`ip link add ... type vxlan`,
`bridge fdb append`) with a fabric attached on each: no guard, so B is where
the same attack is shown to work. The rogue sends scapy-built
Ether/IP/UDP/VXLAN(vni)/Ether/IPv4-ICMP and /IPv6-ICMPv6 echo requests aimed
at a container's MAC and at broadcast, whole and in outer fragments. What the
container's stack received is read from its own counters (Icmp InEchos,
Icmp6InEchos), what the guard dropped from the guard's counters
(tests/tools/vnet-guard-tool show, the C++ API of fabric/vxlan_guard.h);
both must match what was sent exactly. `vnetctl vxlan remote del|add` takes
B out of the set and back; `vnetctl reload` switches a guard to the new
build's program with its set and counters kept; the tool removes one guard
alone, to show that a guard leaves other VNIs on the same underlay alone.
"""
import json
import os
import sys
import time

from vnetkit import (PIN_ROOT, PY, SRC, VNETCTL, Checks, Topology, exit_on_signals, mac_of, require_root,
                     require_tools, run, tcx_ingress, unique, wait_until)

TOOL = os.path.join(os.environ.get("VNET_UNIT_DIR") or os.path.join(SRC, "build"), "tests", "tools",
                    "vnet-guard-tool")
UL4 = {"ha": "198.19.77.1", "hb": "198.19.77.2", "rg": "198.19.77.66"}
UL6 = {"ha": "2001:db8:77::1", "hb": "2001:db8:77::2", "rg": "2001:db8:77::66"}
# Fabric -> VNI, underlay family, overlay subnets; containers .11 on A, .12 on B.
FABRICS = {
    "F1": {"vni": 100, "dev": "vx100", "ul": UL4, "net4": "198.18.77", "net6": "2001:db8:177::"},
    "F2": {"vni": 200, "dev": "vx200", "ul": UL6, "net4": "198.18.78", "net6": "2001:db8:178::"},
}
REPEAT = 5  # each kind of rogue frame, per burst

_ROGUE = r"""
import json, sys
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import Ether
from scapy.layers.vxlan import VXLAN
from scapy.sendrecv import sendp
s = json.loads(sys.argv[1])
outer_ip = IPv6(src=s["src"], dst=s["dst"]) if ":" in s["src"] else IP(src=s["src"], dst=s["dst"])
outer = Ether(dst=s["outer_mac"]) / outer_ip / UDP(sport=49999, dport=4789) / VXLAN(vni=s["vni"], flags=0x08)
frames = []
for i in range(s["repeat"]):
    for mac in (s["inner_mac"], "ff:ff:ff:ff:ff:ff"):
        inner = Ether(src="02:66:66:00:00:01", dst=mac)
        frames.append(outer / inner / IP(src=s["net4"] + ".66", dst=s["net4"] + "." + s["last"]) /
                      ICMP(id=0x6666, seq=i))
        frames.append(outer / inner / IPv6(src=s["net6"] + "66", dst=s["net6"] + s["last"]) /
                      ICMPv6EchoRequest(id=0x6666, seq=i))
datagrams = len(frames)
if s["frag"]:  # outer fragments: IPv4 with s["frag"] payload bytes each, IPv6 of s["frag"] bytes in all
    from scapy.layers.inet import fragment
    from scapy.layers.inet6 import IPv6ExtHdrFragment, fragment6
    whole, frames = frames, []
    for p in whole:
        if ":" in s["src"]:
            parts = fragment6(IPv6(src=s["src"], dst=s["dst"]) / IPv6ExtHdrFragment(id=0x1000 + len(frames)) /
                              p[UDP], s["frag"])
        else:
            parts = fragment(p[IP], fragsize=s["frag"])
        frames += [Ether(dst=s["outer_mac"]) / f for f in parts]
sendp(frames, iface="eth0", verbose=False)
print(datagrams, len(frames))
"""


class Rig:
    def __init__(self, topo):
        self.t = topo
        self.fabric = {}  # "F1" -> {"ha": name on A, "hb": name on B}

    def nsenter(self, role, *argv, check=True):
        return run(["nsenter", f"--net=/run/netns/{self.t.ns(role)}", *argv], check=check)

    def vnetctl(self, role, *args, check=True):
        return self.nsenter(role, VNETCTL, *args, check=check)

    def tool(self, *args, check=True):
        """The guard tool on host A, where the guards live."""
        return self.nsenter("ha", TOOL, *args, check=check)

    def guard(self, f):
        return json.loads(self.tool("show", self.fabric[f]["ha"]).stdout)

    def build(self):
        t = self.t
        for role in ("ul", "ha", "hb", "rg", "a1", "a2", "b1", "b2"):
            t.netns(role)
        t.host = t.ns("ha")
        t.ip("ul", "link", "add", "br0", "type", "bridge")
        t.ip("ul", "link", "set", "br0", "up")
        for h in ("ha", "hb", "rg"):
            t.ip(h, "link", "add", "eth0", "type", "veth", "peer", "name", f"p{h}", "netns", t.ns("ul"))
            t.ip("ul", "link", "set", f"p{h}", "master", "br0", "up")
            t.ip(h, "addr", "add", f"{UL4[h]}/24", "dev", "eth0")
            t.ip(h, "addr", "add", f"{UL6[h]}/64", "dev", "eth0", "nodad")
            t.ip(h, "link", "set", "eth0", "up")
        for h, other in (("ha", "hb"), ("hb", "ha")):
            for f, spec in FABRICS.items():
                ul = spec["ul"]
                name = unique("f")
                if h == "ha":  # vnet makes the device, and the guard
                    self.vnetctl(h, "attach", "--vxlan", str(spec["vni"]), "--underlay", "eth0", "--local", ul[h],
                                 "--remote", ul[other], "--fabric", name)
                else:  # the user's device, no guard
                    t.ip(h, "link", "add", spec["dev"], "type", "vxlan", "id", str(spec["vni"]), "dstport", "4789",
                         "local", ul[h], "dev", "eth0")
                    t.exec(h, "bridge", "fdb", "append", "00:00:00:00:00:00", "dev", spec["dev"], "dst", ul[other])
                    t.ip(h, "link", "set", spec["dev"], "up")
                    self.vnetctl(h, "attach", spec["dev"], "--fabric", name)
                t.fabrics.append(name)
                self.fabric.setdefault(f, {})[h] = name
                c = ("a" if h == "ha" else "b") + f[1]
                self.vnetctl(h, "port", "add", "--fabric", name, "--netns", t.ns(c), "--mode", "bridge")
                last = "11" if h == "ha" else "12"
                t.ip(c, "addr", "add", f"{spec['net4']}.{last}/24", "dev", "eth0")
                t.ip(c, "addr", "add", f"{spec['net6']}{last}/64", "dev", "eth0", "nodad")
                t.ip(c, "link", "set", "eth0", "up")

    def teardown(self):
        """Guards first, then the fabrics, each in its host's namespace."""
        for f, by_host in self.fabric.items():
            self.tool("detach", by_host["ha"], check=False)
            for h, name in by_host.items():
                if os.path.isdir(f"{PIN_ROOT}/{name}"):
                    self.vnetctl(h, "detach", name, check=False)

    # -- probes ------------------------------------------------------------
    def echoes(self, role):
        """(IPv4 echo requests, IPv6 echo requests) role's stack has received."""
        snmp = self.t.exec(role, "cat", "/proc/net/snmp").stdout.splitlines()
        icmp = [line.split()[1:] for line in snmp if line.startswith("Icmp:")]
        v4 = int(dict(zip(icmp[0], icmp[1]))["InEchos"])
        snmp6 = dict(line.split()[:2] for line in self.t.exec(role, "cat", "/proc/net/snmp6").stdout.splitlines())
        return v4, int(snmp6["Icmp6InEchos"])

    def inject(self, f, family, frag=0, host="ha"):
        """A burst from the rogue into fabric f's VNI toward the container of
        f on `host`, over the underlay `family` (4 or 6), in outer fragments
        when `frag` says how big. Returns (datagrams, frames) sent."""
        spec = FABRICS[f]
        ul = UL4 if family == 4 else UL6
        arg = {"src": ul["rg"], "dst": ul[host], "outer_mac": mac_of(self.t, host), "vni": spec["vni"],
               "inner_mac": mac_of(self.t, host[1] + f[1]), "net4": spec["net4"], "net6": spec["net6"],
               "last": "11" if host == "ha" else "12", "repeat": REPEAT, "frag": frag}
        datagrams, frames = self.t.exec("rg", PY, "-c", _ROGUE, json.dumps(arg), timeout=60).stdout.split()
        return int(datagrams), int(frames)

    def received_during(self, f, family, frag=0, host="ha"):
        """(datagrams sent, echo requests the container received) for one burst."""
        c = host[1] + f[1]
        before = self.echoes(c)
        sent, self.last_frames = self.inject(f, family, frag, host)
        # Positive cases land within milliseconds; negative ones get the same wait.
        wait_until(lambda: sum(self.echoes(c)) - sum(before) >= sent, timeout=1.0)
        after = self.echoes(c)
        return sent, (after[0] - before[0]) + (after[1] - before[1])

    def ping(self, f, count=3):
        """Echo replies b -> a over fabric f (IPv4 and IPv6), out of 2*count."""
        spec = FABRICS[f]
        got = 0
        for dst in (f"{spec['net4']}.11", f"{spec['net6']}11"):
            p = self.t.exec("b" + f[1], "ping", "-c", str(count), "-i", "0.2", "-W", "1", dst, check=False,
                            timeout=30)
            for line in p.stdout.splitlines():
                if "received" in line:
                    got += int(line.split(",")[1].split()[0])
        return got


def main():
    require_root()
    require_tools("scapy", "bridge", "ping")
    if not os.access(TOOL, os.X_OK):
        print(f"FAIL: {TOOL} is not built", file=sys.stderr)
        return 1
    exit_on_signals()
    checks = Checks()
    start = time.time()
    topo = Topology("vg")
    with topo:
        rig = Rig(topo)
        try:
            rig.build()
            run_checks(rig, checks)
        finally:
            rig.teardown()
    left = [p for p in (run(["ip", "netns", "list"]).stdout.split()) if p in topo.namespaces]
    left += [f for f in topo.fabrics if os.path.exists(f"{PIN_ROOT}/{f}")]
    checks.check("nothing left behind (namespaces, pins)", not left, left)
    print(f"{checks.ran} checks, {len(checks.failures)} failed, {time.time() - start:.1f}s", flush=True)
    return checks.status()


def run_checks(rig, checks):
    F1, F2 = rig.fabric["F1"]["ha"], rig.fabric["F2"]["ha"]
    n = 4 * REPEAT  # datagrams per burst: 2 families x (unicast, broadcast)
    family = {"F1": 4, "F2": 6}
    # Outer fragments: 8-byte pieces (the first shows UDP but not the VNI),
    # 16-byte ones (the first shows the VNI), IPv6 fragments of 64 bytes.
    frag_cases = [("F1", 4, 8), ("F1", 4, 16), ("F2", 6, 64)]

    checks.check("b1 -> a1 and b2 -> a2 ping through A's guards (IPv4 and IPv6 underlay)",
                 rig.ping("F1") >= 5 and rig.ping("F2") >= 5, "pings lost")
    for f, ul in (("F1", UL4), ("F2", UL6)):
        g = rig.guard(f)
        checks.check(f"attach --vxlan guarded {f} with B as its one remote",
                     g["attached"] and g["remotes"] == [ul["hb"]] and g["vni"] == FABRICS[f]["vni"], g)
    tcx = tcx_ingress(rig.t, "eth0")
    checks.check("two guards, two tcx programs on A's underlay", len(tcx["prog_ids"]) == 2, tcx)

    # The attack works where there is no guard: host B's own VXLAN devices.
    for f in ("F1", "F2"):
        sent, got = rig.received_during(f, family[f], host="hb")
        checks.check(f"unguarded host B: the rogue's {sent} frames reach {f}'s container (IPv{family[f]} underlay)",
                     got == sent == n, f"received {got} of {sent}")
    for f, fam, frag in frag_cases:
        sent, got = rig.received_during(f, fam, frag, host="hb")
        checks.check(f"unguarded host B: {sent} datagrams in {rig.last_frames} IPv{fam} fragments of {frag} are "
                     f"reassembled and reach {f}'s container", got == sent == n, f"received {got} of {sent}")

    # The same on host A: nothing arrives, each is counted by its VNI's guard only.
    for f, other in (("F1", "F2"), ("F2", "F1")):
        before, before_other = rig.guard(f), rig.guard(other)
        sent, got = rig.received_during(f, family[f])
        after = rig.guard(f)
        checks.check(f"guarded host A: none of the rogue's {sent} frames reach {f}'s container (IPv{family[f]} "
                     "underlay)", got == 0, f"received {got} of {sent}")
        checks.check(f"  {f}'s guard counted each of them",
                     after["dropped_packets"] - before["dropped_packets"] == sent == n, f"{before} -> {after}")
        checks.check(f"  {other}'s guard counted none of them",
                     rig.guard(other)["dropped_packets"] == before_other["dropped_packets"], rig.guard(other))
    for f, fam, frag in frag_cases:
        before = rig.guard(f)
        sent, got = rig.received_during(f, fam, frag)
        after = rig.guard(f)
        checks.check(f"guarded host A: none of {sent} datagrams in IPv{fam} fragments of {frag} reach {f}'s "
                     "container", got == 0, f"received {got}")
        checks.check(f"  the guard dropped each first fragment and passed the {rig.last_frames - sent} others",
                     after["dropped_packets"] - before["dropped_packets"] == sent and
                     after["fragments_passed"] - before["fragments_passed"] == rig.last_frames - sent,
                     f"{before} -> {after}")
    before = rig.guard("F1")["allowed_packets"]
    checks.check("B's traffic still flows through the guards", rig.ping("F1") >= 5 and rig.ping("F2") >= 5,
                 "pings lost")
    checks.check("  and is counted as allowed", rig.guard("F1")["allowed_packets"] > before, rig.guard("F1"))

    # vnetctl vxlan remote del: B's frames stop at once, F2 is unaffected; add brings them back.
    rig.vnetctl("ha", "vxlan", "remote", "del", F1, UL4["hb"])
    checks.check("vxlan remote del F1 B: the guard's set is empty", rig.tool("list", F1).stdout.split() == [],
                 rig.tool("list", F1).stdout)
    before = rig.guard("F1")["dropped_packets"]
    got = rig.ping("F1")
    checks.check("  b1 -> a1 gets no reply", got == 0, f"{got} replies")
    checks.check("  B's frames were dropped by the guard", rig.guard("F1")["dropped_packets"] > before,
                 rig.guard("F1"))
    checks.check("  meanwhile b2 -> a2 (F2) still works", rig.ping("F2") >= 5, "pings lost")
    rig.vnetctl("ha", "vxlan", "remote", "add", F1, UL4["hb"])
    checks.check("vxlan remote add F1 B: in the set again", rig.tool("list", F1).stdout.split() == [UL4["hb"]],
                 rig.tool("list", F1).stdout)
    checks.check("  b1 -> a1 works again", rig.ping("F1") >= 5, "pings lost")

    # vnetctl reload: the guard's program changes hands in place; its set and
    # counters carry over and the rogue stays out.
    before_ids = set(tcx_ingress(rig.t, "eth0")["prog_ids"])
    before = rig.guard("F1")
    rig.vnetctl("ha", "reload", F1)
    after_ids = set(tcx_ingress(rig.t, "eth0")["prog_ids"])
    checks.check("reload F1: its guard runs a new program, F2's guard keeps its own",
                 len(after_ids) == 2 and len(after_ids & before_ids) == 1, f"{sorted(before_ids)} -> {sorted(after_ids)}")
    after = rig.guard("F1")
    checks.check("  the allowed set and the counters carried over",
                 after["remotes"] == [UL4["hb"]] and after["dropped_packets"] >= before["dropped_packets"] and
                 after["allowed_packets"] >= before["allowed_packets"], f"{before} -> {after}")
    sent, got = rig.received_during("F1", 4)
    checks.check("  the rogue's frames are still kept out and counted",
                 got == 0 and rig.guard("F1")["dropped_packets"] - after["dropped_packets"] == sent == n,
                 f"received {got} of {sent}; {rig.guard('F1')}")
    checks.check("  b1 -> a1 still works", rig.ping("F1") >= 5, "pings lost")

    # One guard removed alone: its VNI is open again, the other guard does not touch it.
    rig.tool("detach", F2)
    tcx = tcx_ingress(rig.t, "eth0")
    checks.check("F2's guard removed alone: one tcx program left on A's underlay", len(tcx["prog_ids"]) == 1, tcx)
    before = rig.guard("F1")["dropped_packets"]
    sent, got = rig.received_during("F2", 6)
    checks.check("  the rogue's frames reach a2 again: F1's guard leaves VNI 200 alone", got == sent == n,
                 f"received {got} of {sent}")
    checks.check("  F1's guard counted none of them", rig.guard("F1")["dropped_packets"] == before, rig.guard("F1"))
    sent, got = rig.received_during("F1", 4)
    checks.check("  and F1 still keeps the rogue out", got == 0, f"received {got} of {sent}")

    # vnetctl detach: no pin, no tcx program, no device left.
    for f in (F1, F2):
        rig.vnetctl("ha", "detach", f)
    left = [f for f in (F1, F2) if os.path.exists(f"{PIN_ROOT}/{f}")]
    checks.check("detach leaves no pin directory", not left, left)
    tcx = tcx_ingress(rig.t, "eth0")
    checks.check("detach leaves no tcx program on the underlay", not tcx["prog_ids"], tcx)
    devs = [d for d in ("vx100", "vx200") if rig.t.ip("ha", "link", "show", d, check=False).returncode == 0]
    checks.check("detach removes the VXLAN devices attach --vxlan made", not devs, devs)
    show = rig.tool("show", F1, check=False)
    checks.check("the guard cannot be opened after detach", show.returncode != 0, show.stdout)


if __name__ == "__main__":
    sys.exit(main())
