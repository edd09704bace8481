#!/usr/bin/env python3
"""Real QEMU guests (TCG) on vnet taps, side by side with the same guests on
kernel macvtaps (vnetkit.guest).

Two systems are built and probed concurrently, each the standard topology
(vnetkit.build_l2, one container c1, the external host ext behind the switch)
plus two guests g1 and g2 (one boot each for the whole run):
  macvtap   c1 a macvlan, the guests on macvtaps of up0 (QEMU -netdev tap,fd=N)
  vnet      c1 a vnet port, the guests on vnet tap ports (QEMU -netdev tap,ifname=)
Checks, each reported on its own (all run):
  matrix     for bridge, vepa and private (every port switched to the mode)
             and the switch hairpinning off and on: every ordered pair of
             g1, g2, c1, ext pings from a clean neighbour slate (the guests'
             pings run inside them, results read from the serial console),
             plus broadcast delivery (g1's gratuitous ARPs seen by c1, ext and
             g2). The two matrices must be equal, and guest -> ext must hold
             everywhere (a harness that reaches nothing fails here).
  mac-change g1 changes its MAC inside the guest and pings ext: on macvtap its
             frames reach the wire (what it sends is its own business); on
             vnet spoofchk drops them (ext captures none) and counts them in
             `vnetctl stats` drops.spoofed_src; after `vnetctl port set TAP
             --mac NEW` the ping from the new MAC passes.
  extras     vnet only, what macvtap has no setting for, with guests as the
             members: vepa guests reach each other through `port set
             --hairpin on` on their taps (and not without); `--isolated on`
             on both taps parts them while each still reaches c1 and ext;
             the host stack (up0's address) is reachable from a bridge guest
             only with `fabric set --host on`.
Exit 0 if none failed, 1 if any did, 77 if not root or tools are missing.
Last line: "N passed, N failed".
"""
import concurrent.futures
import contextlib
import time

import vnetkit as vk
from vnetkit import guest as gk

GUESTS = {"g1": ("02:76:6d:00:01:01", f"{vk.NET}.21"), "g2": ("02:76:6d:00:01:02", f"{vk.NET}.22")}
NEW_MAC = "02:76:6d:00:01:99"
MODES = ("bridge", "vepa", "private")
ENDPOINTS = ("g1", "g2", "c1", "ext")
GARPS = 3


class System:
    """One side of the differential: topology, c1 and two booted guests."""

    def __init__(self, kind, kit, stack):
        self.kind = kind
        self.topo = stack.enter_context(vk.Topology(tag="g" + kind[0]))
        self.eps = vk.build_l2(self.topo, "vnet" if kind == "vnet" else "macvlan", "bridge", hairpin=False,
                               containers=1)
        self.links = {}  # guest -> tap or macvtap name in host
        self.guests = {}
        for name, (mac, ip) in GUESTS.items():
            link = vk.unique("gt")
            if kind == "vnet":
                self.topo.vnetctl("port", "add", "--fabric", self.topo.fabrics[-1], "--tap", link, "--mac", mac,
                                  "--mode", "bridge")
                where = {"tap": link}
            else:
                self.topo.ip("host", "link", "add", "link", "up0", "name", link, "address", mac, "type", "macvtap",
                             "mode", "bridge")
                self.topo.ip("host", "link", "set", link, "up")
                where = {"macvtap": link}
            self.links[name] = link
            self.guests[name] = stack.enter_context(
                gk.Guest(kit, self.topo.host, mac, f"{ip}/24", name=f"{kind}/{name}", **where))
            self.eps[name] = (name, "eth0", ip)
        if kind == "vnet":
            ports = {p["mac"].lower(): p["name"] for p in vk.fabric_doc(self.topo, self.topo.fabrics[-1])["ports"]}
            self.c1_port = ports[vk.mac_of(self.topo, "c1")]

    def boot(self):
        for g in self.guests.values():
            g.wait_ready()

    def set_mode(self, mode, hairpin):
        if self.kind == "vnet":
            for port in [*self.links.values(), self.c1_port]:
                self.topo.vnetctl("port", "set", port, "--mode", mode)
        else:
            for link in self.links.values():
                self.topo.ip("host", "link", "set", link, "type", "macvtap", "mode", mode)
            self.topo.ip("c1", "link", "set", "eth0", "type", "macvlan", "mode", mode)
        vk.set_switch_hairpin(self.topo, hairpin)

    def flush(self):
        vk.flush_neighbours(self.topo, ["c1", "ext", "host"])
        for g in self.guests.values():
            g.run("ip neigh flush all")

    def ping(self, src, dst):
        self.flush()
        ip = self.eps[dst][2]
        if src in self.guests:
            return self.guests[src].run(f"ping -c 1 -W 2 {ip} >/dev/null")[0] == 0
        return vk.ping(self.topo, src, ip, timeout=2)

    def rx(self, guest):
        return int(self.guests[guest].run("cat /sys/class/net/eth0/statistics/rx_packets")[1][-1])

    def broadcast(self):
        """Who receives g1's gratuitous ARP broadcasts: {role: bool}."""
        mac = GUESTS["g1"][0]
        before = self.rx("g2")
        frames = vk.capture_during(self.topo, ["c1", "ext"], "0x0806", lambda: self.guests["g1"].run(
            f"arping -U -c {GARPS} -w 3 -I eth0 {GUESTS['g1'][1]}"))
        got = {role: sum(1 for src, _, _ in frames[role] if src == mac) >= GARPS for role in frames}
        got["g2"] = self.rx("g2") - before >= GARPS
        return got

    def matrix(self, mode, hairpin):
        self.set_mode(mode, hairpin)
        row = {f"{s}->{d}": self.ping(s, d) for s in ENDPOINTS for d in ENDPOINTS if s != d}
        row.update({f"g1=>{r}": ok for r, ok in self.broadcast().items()})
        return row


def check_matrix(systems):
    def sweep(system):
        return {(m, h): system.matrix(m, h) for m in MODES for h in (False, True)}

    with concurrent.futures.ThreadPoolExecutor(len(systems)) as pool:
        results = dict(zip(systems, pool.map(sweep, systems.values())))
    kernel, vnet = results["macvtap"], results["vnet"]
    bad = []
    for case in kernel:
        label = f"{case[0]}, switch hairpin {'on' if case[1] else 'off'}"
        diff = {k: (kernel[case][k], vnet[case][k]) for k in kernel[case] if kernel[case][k] != vnet[case][k]}
        print(f"  {label:32} macvtap {sum(kernel[case].values())}/{len(kernel[case])} reachable, "
              f"vnet {sum(vnet[case].values())}/{len(vnet[case])}; differ (macvtap, vnet): {diff or 'none'}")
        if diff:
            bad.append(f"{label}: {diff}")
        for side, rows in results.items():
            if not rows[case]["g1->ext"] or not rows[case]["g2->ext"]:
                bad.append(f"{side}, {label}: a guest cannot reach ext (harness or datapath broken)")
    assert not bad, "; ".join(bad)


def mac_change(system):
    """g1 takes NEW_MAC inside the guest and pings ext: (ping ok, frames from
    NEW_MAC ext captured, spoofed_src growth or None)."""
    g, ext_ip = system.guests["g1"], system.eps["ext"][2]
    system.set_mode("bridge", False)
    system.flush()
    drops = lambda: vk.port_stats(system.topo, system.links["g1"])["drops"]["spoofed_src"]  # noqa: E731
    before = drops() if system.kind == "vnet" else None
    result = {}

    def ping():
        result["ok"] = g.run(f"ip link set eth0 address {NEW_MAC} && ping -c 3 -W 1 {ext_ip} >/dev/null")[0] == 0

    frames = vk.capture_during(system.topo, ["ext"], "0x0806", ping)["ext"]
    seen = sum(1 for src, _, _ in frames if src == NEW_MAC)
    grew = drops() - before if before is not None else None
    return result["ok"], seen, grew


def check_mac_change(systems):
    kernel = mac_change(systems["macvtap"])
    vnet = mac_change(systems["vnet"])
    print(f"  new MAC inside the guest: macvtap (ping, frames on the wire) {kernel[:2]}; "
          f"vnet {vnet[:2]}, drops.spoofed_src +{vnet[2]}")
    bad = []
    if not kernel[1]:
        bad.append("macvtap: no frame from the new MAC reached ext (the harness changed no MAC?)")
    if vnet[0] or vnet[1]:
        bad.append(f"vnet let the new MAC through: ping {vnet[0]}, {vnet[1]} frames at ext")
    if not vnet[2]:
        bad.append("vnet: drops.spoofed_src did not grow")
    s = systems["vnet"]
    s.topo.vnetctl("port", "set", s.links["g1"], "--mac", NEW_MAC)
    s.flush()
    followed = s.guests["g1"].run(f"ping -c 3 -W 1 {s.eps['ext'][2]} >/dev/null")[0] == 0
    shown = {p["name"]: p["mac"].lower() for p in vk.fabric_doc(s.topo, s.topo.fabrics[-1])["ports"]}
    print(f"  after port set --mac: ping {followed}, show {shown.get(s.links['g1'])}")
    if not followed:
        bad.append("vnet: after port set --mac NEW the guest still cannot reach ext")
    assert not bad, "; ".join(bad)


def check_extras(s):
    fabric = s.topo.fabrics[-1]
    taps = list(s.links.values())
    got = {}
    s.set_mode("vepa", False)
    got["vepa g1->g2"] = s.ping("g1", "g2")
    for tap in taps:
        s.topo.vnetctl("port", "set", tap, "--hairpin", "on")
    got["vepa g1->g2, port hairpin on"] = s.ping("g1", "g2")
    for tap in taps:
        s.topo.vnetctl("port", "set", tap, "--hairpin", "off")
    s.set_mode("bridge", False)
    got["bridge g1->g2"] = s.ping("g1", "g2")
    for tap in taps:
        s.topo.vnetctl("port", "set", tap, "--isolated", "on")
    got["isolated g1->g2"] = s.ping("g1", "g2")
    got["isolated g1->c1"] = s.ping("g1", "c1")
    got["isolated g1->ext"] = s.ping("g1", "ext")
    for tap in taps:
        s.topo.vnetctl("port", "set", tap, "--isolated", "off")
    s.eps["host"] = ("host", "up0", f"{vk.NET}.1")
    got["g1->host, host off"] = s.ping("g1", "host")
    s.topo.vnetctl("fabric", "set", fabric, "--host", "on")
    got["g1->host, host on"] = s.ping("g1", "host")
    want = {"vepa g1->g2": False, "vepa g1->g2, port hairpin on": True, "bridge g1->g2": True,
            "isolated g1->g2": False, "isolated g1->c1": True, "isolated g1->ext": True,
            "g1->host, host off": False, "g1->host, host on": True}
    bad = {k: got[k] for k in want if got[k] != want[k]}
    for k in want:
        print(f"  {k:32} {got[k]}")
    assert not bad, f"want the opposite of {bad}"


def main():
    kit = gk.prepare("tcpdump")
    checks = vk.Checks()
    start = time.time()
    with contextlib.ExitStack() as stack:
        systems = {kind: System(kind, kit, stack) for kind in ("macvtap", "vnet")}
        for s in systems.values():  # all four boot concurrently: QEMU started in System()
            s.boot()
        checks.run("matrix", lambda: check_matrix(systems))
        checks.run("mac-change", lambda: check_mac_change(systems))
        checks.run("extras", lambda: check_extras(systems["vnet"]))
        topos = [s.topo for s in systems.values()]
    checks.finish("guest", start, topos)


if __name__ == "__main__":
    main()
