#!/usr/bin/python3
"""Storm control (issue 15): per-port and per-fabric limits on flooded group
frames, enforced in the datapath and counted as drop reason `storm`.

Topology: build_ports' switch, ext and host, a fabric on up0 (host off) with
c1..c4 bridge ports; c1 has --storm-limit LIMIT.

  port limit    c1 sends broadcasts (EtherType 0x88b5) as fast as a raw socket
                can for STORM s, while c2 pings c3 every 10 ms. c2, c3 and c4
                each receive about LIMIT * STORM (+ the burst), counted in
                their namespaces; c1's `storm` drops are what reached vnet
                (its rx) minus what passed; the ping loses nothing.
  port off      `port set c1 --storm-limit off`, live: the same storm now
                passes (receivers get far more than the limit) and no storm
                drop is counted.
  fabric limit  `fabric set --storm-limit LIMIT`: ext floods broadcasts from
                the wire; c2..c4 receive about LIMIT * STORM, the uplink's
                `storm` drops are its rx minus what passed.
  refusals      port set / port add / fabric set with a negative, non-numeric
                or too large limit: exit non-zero, one clear stderr line,
                nothing changed (`vnetctl -j show` as before, no new port).
Exit 0 pass, 1 fail, 77 skip (not root). Prints "N passed, N failed".
"""
import json
import re
import subprocess
import time

import vnetkit as vk

LIMIT = 1000  # pps
STORM = 2.0  # seconds
BURST = max(LIMIT // 10, 8)  # the datapath's bucket depth (include/vnet/abi.h)
RECEIVERS = ("c2", "c3", "c4")
STORM_PY = vk.script("storm.py")


class Counter:
    """storm.py count in one namespace; stop() returns the frames it saw."""

    def __init__(self, topo, role):
        self.role = role
        self.proc = vk.spawn(topo, role, "python3", STORM_PY, "count", "eth0", stdin=subprocess.PIPE)
        line = self.proc.stdout.readline().strip()
        assert line == "ready", f"counter in {role}: {line!r} {self.proc.stderr.read()}"

    def stop(self):
        out, err = self.proc.communicate(timeout=10)  # closing stdin makes it report
        assert self.proc.returncode == 0, f"counter in {self.role}: {err.strip()}"
        return int(out.strip())


def storm(topo, sender, receivers, seconds=STORM):
    """sender floods broadcasts for `seconds` while receivers count.
    Returns (sent, seconds taken, {receiver: frames seen})."""
    counters = [Counter(topo, r) for r in receivers]
    try:
        p = topo.exec(sender, "python3", STORM_PY, "send", "eth0", str(seconds), timeout=30)
        m = re.match(r"sent (\d+) ([\d.]+)", p.stdout)
        assert m, f"storm from {sender}: {p.stdout!r} {p.stderr!r}"
        time.sleep(0.3)  # the last copies land
        return int(m.group(1)), float(m.group(2)), {c.role: c.stop() for c in counters}
    finally:
        vk.reap([c.proc for c in counters])


def limited(sent, took, seen, rx, drops):
    """What is wrong with a storm held to LIMIT: each receiver got
    L*T*(1 +- 0.25) + burst copies over the `took` seconds, and every frame
    vnet took in (rx) either passed or is a storm drop."""
    low, high = LIMIT * took * 0.75, LIMIT * took * 1.25 + BURST
    bad = [f"{role} received {n}, want {round(low)}..{round(high)}" for role, n in seen.items()
           if not low <= n <= high]
    if sent < 5 * LIMIT * took:
        bad.append(f"the storm was too slow to test a limit: {sent} frames in {took:.2f}s")
    passed = max(seen.values())
    if abs(rx - passed - drops) > 0.02 * rx + 10:
        bad.append(f"storm drops {drops} != rx {rx} - passed {passed}")
    return bad


def build(topo):
    containers = [("c1", "bridge", "--storm-limit", str(LIMIT))] + [(r, "bridge") for r in RECEIVERS]
    eps, ports = vk.build_ports(topo, containers)
    # Only the storm's frames and the ping's: no IPv6 chatter in the counts.
    for role in ["ext", *ports]:
        topo.exec(role, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
    return eps, {role: p["name"] for role, p in ports.items()}


def port_limit(topo, eps, ports):
    port = vk.port_stats(topo, ports["c1"])
    shown = [p for p in vk.fabric_doc(topo, topo.fabrics[0])["ports"] if p["name"] == ports["c1"]][0]
    assert shown["storm_limit"] == LIMIT, f"show: c1 storm_limit {shown['storm_limit']}, want {LIMIT}"
    before_rx, before_storm = port["rx_packets"], port["drops"]["storm"]
    ping = vk.Pinger(topo, eps, "c2", "c3")
    time.sleep(0.3)
    try:
        sent, took, seen = storm(topo, "c1", RECEIVERS)
    finally:
        ping_sent, lost, _ = ping.stop()
    after = vk.port_stats(topo, ports["c1"])
    rx = after["rx_packets"] - before_rx
    drops = after["drops"]["storm"] - before_storm
    print(f"  c1 sent {sent} in {took:.2f}s, vnet rx {rx}, storm drops {drops}, received {seen}; "
          f"ping c2 -> c3: {ping_sent} sent, lost {lost}")
    bad = limited(sent, took, seen, rx, drops)
    if ping_sent < 50 or lost:
        bad.append(f"ping c2 -> c3 during the storm: {ping_sent} sent, lost {lost}")
    assert not bad, "; ".join(bad)


def port_off(topo, eps, ports):
    topo.vnetctl("port", "set", ports["c1"], "--storm-limit", "off")
    shown = [p for p in vk.fabric_doc(topo, topo.fabrics[0])["ports"] if p["name"] == ports["c1"]][0]
    assert shown["storm_limit"] == 0, f"show after --storm-limit off: {shown['storm_limit']}"
    before = vk.fabric_drops(topo, "storm")
    sent, took, seen = storm(topo, "c1", RECEIVERS, seconds=1.0)
    grew = vk.drops_grew(before, vk.fabric_drops(topo, "storm"))
    print(f"  c1 sent {sent} in {took:.2f}s with no limit, received {seen}, storm drops grew {grew}")
    bad = []
    if grew:
        bad.append(f"storm drops counted with the limit off: {grew}")
    for role, n in seen.items():
        if n <= 3 * (LIMIT * took + BURST):
            bad.append(f"{role} received {n}: still limited")
    assert not bad, "; ".join(bad)


def fabric_limit(topo, eps, ports):
    fabric = topo.fabrics[0]
    topo.vnetctl("fabric", "set", fabric, "--storm-limit", str(LIMIT))
    assert vk.fabric_doc(topo, fabric)["storm_limit"] == LIMIT, "show: fabric storm_limit"
    before = vk.port_stats(topo, "up0")
    sent, took, seen = storm(topo, "ext", RECEIVERS)
    after = vk.port_stats(topo, "up0")
    rx = after["rx_packets"] - before["rx_packets"]
    drops = after["drops"]["storm"] - before["drops"]["storm"]
    print(f"  ext sent {sent} in {took:.2f}s, uplink rx {rx}, storm drops {drops}, received {seen}")
    bad = limited(sent, took, seen, rx, drops)
    topo.vnetctl("fabric", "set", fabric, "--storm-limit", "off")
    if vk.fabric_doc(topo, fabric)["storm_limit"] != 0:
        bad.append("fabric set --storm-limit off: show still has a limit")
    assert not bad, "; ".join(bad)


def check_refused(topo, args, want):
    """vnetctl ARGS fails with one stderr line containing `want`; show unchanged."""
    before = topo.vnetctl("show", json_out=True)
    p = topo.vnetctl(*args, check=False)
    after = topo.vnetctl("show", json_out=True)
    print(f"  vnetctl {' '.join(args)} -> exit {p.returncode}, stderr {p.stderr.strip()!r}")
    bad = []
    if p.returncode == 0:
        bad.append("exit 0")
    lines = p.stderr.splitlines()
    if len(lines) != 1 or not lines[0].startswith("vnetctl: ") or want not in lines[0]:
        bad.append(f"stderr {p.stderr!r}, want one line 'vnetctl: ...{want}...'")
    if p.stdout:
        bad.append(f"stdout {p.stdout!r}")
    if json.dumps(after, sort_keys=True) != json.dumps(before, sort_keys=True):
        bad.append("state changed")
    assert not bad, ", ".join(bad)


def refusals(topo, ports):
    fabric = topo.fabrics[0]
    want = "want frames per second, 1 to 10000000, or off (or 0) for no limit"
    spare = topo.netns("c9")
    for value in ("-5", "many", "10000001"):
        check_refused(topo, ("port", "set", ports["c2"], "--storm-limit", value), f"'{value}': {want}")
        check_refused(topo, ("fabric", "set", fabric, "--storm-limit", value), f"'{value}': {want}")
        check_refused(topo, ("port", "add", "--fabric", fabric, "--netns", spare, "--storm-limit", value),
                      f"'{value}': {want}")


def main():
    vk.require_root()
    vk.exit_on_signals()
    start = time.time()
    checks = vk.Checks()
    with vk.Topology(tag="st") as topo:
        try:
            eps, ports = build(topo)
        except vk.CommandError as e:
            checks.fail("topology", str(e))
        else:
            checks.run("port limit: receivers get the limit, the rest are storm drops, unicast unharmed",
                       port_limit, topo, eps, ports)
            checks.run("port set --storm-limit off: live, no storm drops", port_off, topo, eps, ports)
            checks.run("fabric limit: broadcasts from the wire", fabric_limit, topo, eps, ports)
            checks.run("refused: negative, non-numeric, too large", refusals, topo, ports)
    checks.finish("storm", start, [topo])


if __name__ == "__main__":
    main()
