#!/usr/bin/python3
"""Where vnet goes further than macvlan (spec/forwarding.md, "Where vnet goes
further"): host <-> port traffic, per-port hairpin, isolation, anti-spoofing.

Each part builds build_l2's switch, ext and host (switch hairpin off unless
said), attaches a fabric on up0 and adds its own containers c1.. at
198.18.0.(10+i), each with its mode and flags:

  host-on    --host on; c1 bridge, c2 vepa, c3 private, c4 bridge. The host
             stack (198.18.0.1 on up0) and the bridge and vepa ports reach
             each other both ways: ping, arping and TCP (iperf3); the private
             port neither reaches the host nor is reached; broadcasts between
             the host and the ports arrive exactly once where they should.
  host-off   no --host (off, the default); c1 bridge, c2 vepa: the same
             pairs fail, as with macvlan.
  hairpin    c1, c2 vepa with --hairpin on, c3 vepa without: c1 <-> c2 through
             vnet; a broadcast from c1 reaches c2, c3, ext and the host exactly
             once each and never c1; `port set --hairpin off` cuts c1 <-> c2.
  isolated   c1, c2 bridge --isolated on, c3 bridge, c4 vepa --isolated on:
             c1 and c2 exchange nothing (unicast with static neighbours is
             dropped and counted as drops.isolated on the sender's port; a
             broadcast from one never reaches the other) yet reach c3 and ext;
             with the switch hairpinning, c4 reaches c3 through it, never c1/c2.
  spoof      on the host-on fabric: frames from c1 with a forged source MAC (a
             sibling's, the uplink's, a random one) and gratuitous ARPs
             claiming a sibling's MAC reach no container, not ext, not the host
             stack, and drops.spoofed_src counts every one; with
             `port set --spoofchk off` they are delivered (the captures work).

Frames are counted with tcpdump (-Q in, written as pcap) on every receiver;
test frames are IEEE 802 local experimental (0x88b5) frames whose payload
names the test, the sender and a sequence number, sent with scapy.
Exit 0 pass, 1 fail, 77 skip (not root). Prints "N passed, N failed".
"""
import random
import time

import vnetkit as vk

NET = vk.NET
IPERF_SECONDS = 2

# -- topology --------------------------------------------------------------------


# -- reachability ------------------------------------------------------------------


def expect_tcp(topo, eps, cases):
    """cases: [(client, server, want)]. Runs iperf3 for each; asserts they match."""
    bad = []
    for client, server, want in cases:
        vk.forget(topo, eps, client, server)
        doc, why = vk.iperf(topo, eps[client][0], eps[server][0], eps[server][2], IPERF_SECONDS if want else 1)
        got = doc["end"]["sum_received"]["bytes"] if doc else 0
        text = (f"{got} bytes in {IPERF_SECONDS}s, {doc['end']['sum_received']['bits_per_second'] / 1e9:.2f} Gbit/s"
                if got else f"no transfer ({why})")
        print(f"  iperf3 TCP {client} -> {server}: {text}{'' if bool(got) == want else '   <-- WRONG'}")
        if bool(got) != want:
            bad.append(f"TCP {client} -> {server}: {text}, want {'a transfer' if want else 'none'}")
    assert not bad, "; ".join(bad)


# -- host on / off -----------------------------------------------------------------------
HOST_ON = [("c1", "bridge"), ("c2", "vepa"), ("c3", "private"), ("c4", "bridge")]
HOST_OFF = [("c1", "bridge"), ("c2", "vepa")]


def expect_host_policy(topo, on):
    doc = vk.fabric_doc(topo, topo.fabrics[0])
    assert doc["host"] is on, f"vnetctl show: host {doc['host']}, want {on}"


def check_host_ping(topo, eps, ports):
    expect_host_policy(topo, True)
    cases = []
    for port, want in (("c1", True), ("c2", True), ("c3", False)):
        cases += [("host", port, "ping", want), (port, "host", "ping", want),
                  ("host", port, "arping", want), (port, "host", "arping", want)]
    vk.expect_reach(topo, eps, cases)


def check_host_tcp(topo, eps, ports):
    expect_tcp(topo, eps, [("host", "c1", True), ("c1", "host", True), ("host", "c2", True), ("c2", "host", True),
                           ("host", "c3", False), ("c3", "host", False)])


def check_host_broadcast(topo, eps, ports):
    """Broadcasts between the host stack and the ports: exactly one copy where
    the modes and host on say, none back to the sender."""
    receivers = ["host", "c1", "c2", "c3", "c4", "ext"]
    wants = {
        "host": {"c1": 1, "c2": 1, "c4": 1, "ext": 1},  # every port but private, and the wire
        "c1": {"c4": 1, "ext": 1, "host": 1},           # bridge: bridge siblings, wire, host
        "c2": {"ext": 1, "host": 1},                    # vepa: the wire (no switch hairpin), host
        "c3": {"ext": 1},                               # private: the wire only
    }
    sent = {s: vk.broadcasts(s, vk.mac_of(topo, *eps[s][:2]), 2, "bcast") for s in wants}
    seen = vk.capture(topo, eps, receivers, lambda: [vk.send_frames(topo, eps, s, f) for s, f in sent.items()])
    vk.expect_copies(seen, [(f, wants[s]) for s, frames in sent.items() for f in frames], "broadcast")


def check_host_off(topo, eps, ports):
    expect_host_policy(topo, False)  # attached without --host: the default
    cases = []
    for port in ("c1", "c2"):
        cases += [("host", port, "ping", False), (port, "host", "ping", False),
                  ("host", port, "arping", False), (port, "host", "arping", False)]
    cases += [("ext", "c1", "ping", True), ("ext", "host", "ping", True)]  # the topology itself works
    vk.expect_reach(topo, eps, cases)
    expect_tcp(topo, eps, [("host", "c1", False), ("c1", "host", False), ("host", "c2", False),
                           ("c2", "host", False)])


# -- hairpin -------------------------------------------------------------------------------
HAIRPIN = [("c1", "vepa", "--hairpin", "on"), ("c2", "vepa", "--hairpin", "on"), ("c3", "vepa")]


def check_hairpin_on(topo, eps, ports):
    vk.expect_reach(topo, eps, [("c1", "c2", "ping", True), ("c2", "c1", "ping", True),
                                ("c1", "c2", "arping", True), ("c1", "ext", "ping", True)])


def check_hairpin_broadcast(topo, eps, ports):
    """A hairpin vepa port's broadcast: reflected by vnet to every vepa/bridge
    sibling once (hairpin or not), out the wire once, up the host stack once
    (as a reflection from a hairpinning switch would), never back to c1."""
    frames = vk.broadcasts("c1", vk.mac_of(topo, *eps["c1"][:2]), 3, "hairpin")
    seen = vk.capture(topo, eps, ["c1", "c2", "c3", "ext", "host"], lambda: vk.send_frames(topo, eps, "c1", frames))
    vk.expect_copies(seen, [(f, {"c2": 1, "c3": 1, "ext": 1, "host": 1}) for f in frames], "c1 broadcast")


def check_hairpin_off(topo, eps, ports):
    for role in ("c1", "c2"):
        topo.vnetctl("port", "set", ports[role]["name"], "--hairpin", "off")
    vk.expect_reach(topo, eps, [("c1", "c2", "ping", False), ("c2", "c1", "ping", False),
                                ("c1", "c2", "arping", False), ("c1", "ext", "ping", True)])


def check_hairpin_host(topo, eps, ports):
    """Spec item 2: a hairpin port makes the fabric do what a hairpinning
    switch does, and through one a vepa port and the host reach each other
    (macvlan too): with --host off, c1 (vepa, hairpin) <-> host works both
    ways, because vnet reflects the host's frames to hairpin ports as well."""
    topo.vnetctl("port", "set", ports["c1"]["name"], "--hairpin", "on")
    try:
        got = {(src, dst): vk.reaches(topo, eps, src, dst) for src, dst in (("c1", "host"), ("host", "c1"))}
    finally:
        topo.vnetctl("port", "set", ports["c1"]["name"], "--hairpin", "off")
    text = ", ".join(f"ping {s} -> {d} {'ok' if ok else 'fails'}" for (s, d), ok in got.items())
    print(f"  hairpin vepa port <-> host with host off: {text}")
    assert all(got.values()), text


# -- isolation -----------------------------------------------------------------------------
ISOLATED = [("c1", "bridge", "--isolated", "on"), ("c2", "bridge", "--isolated", "on"), ("c3", "bridge"),
            ("c4", "vepa", "--isolated", "on")]


def check_isolated_unicast(topo, eps, ports):
    bad = []
    for src, dst in (("c1", "c2"), ("c2", "c1")):
        before = vk.stat(topo, ports[src]["name"], "drops", "isolated")
        answered = vk.unicast_count(topo, eps, ports, src, dst)
        grew = vk.stat(topo, ports[src]["name"], "drops", "isolated") - before
        print(f"  5 pings {src} -> {dst} (static neighbours): {answered} answered; "
              f"{src}'s port drops.isolated +{grew}")
        if answered:
            bad.append(f"{src} -> {dst}: {answered} of 5 pings answered between isolated ports")
        if grew < 5:
            bad.append(f"{src}'s port {ports[src]['name']} drops.isolated grew by {grew}, want >= 5")
    assert not bad, "; ".join(bad)
    vk.expect_reach(topo, eps, [("c1", "c2", "ping", False), ("c1", "c2", "arping", False),
                                ("c1", "c3", "ping", True), ("c3", "c1", "ping", True), ("c2", "c3", "ping", True),
                                ("c1", "ext", "ping", True), ("ext", "c2", "ping", True)])


def check_isolated_broadcast(topo, eps, ports):
    frames = vk.broadcasts("c1", vk.mac_of(topo, *eps["c1"][:2]), 3, "iso")
    seen = vk.capture(topo, eps, ["c1", "c2", "c3", "c4", "ext"], lambda: vk.send_frames(topo, eps, "c1", frames))
    vk.expect_copies(seen, [(f, {"c3": 1, "ext": 1}) for f in frames], "isolated c1 broadcast")


def check_isolated_reflected(topo, eps, ports):
    """With the switch hairpinning (the reflected path): c4 (vepa, isolated)
    reaches c3 through the switch but never c1 or c2, unicast or broadcast;
    c1 <-> c2 still nothing, and nothing reflected reaches an isolated port."""
    vk.set_switch_hairpin(topo, True)
    try:
        before = vk.fabric_drops(topo, "isolated")
        answered = vk.unicast_count(topo, eps, ports, "c4", "c1")
        grew = {dev: n - before.get(dev, 0) for dev, n in vk.fabric_drops(topo, "isolated").items()}
        names = {p["name"]: role for role, p in ports.items()}
        print(f"  5 pings c4 -> c1, switch hairpinning (static neighbours): {answered} answered; drops.isolated "
              + (", ".join(f"{names.get(d, d)} +{n}" for d, n in grew.items() if n) or "unchanged"))
        assert answered == 0, f"c4 -> c1: {answered} of 5 pings answered between isolated ports"
        assert sum(grew.values()) >= 5, f"isolated unicast c4 -> c1: drops.isolated grew by {grew}, want >= 5 in all"
        assert vk.unicast_count(topo, eps, ports, "c1", "c2") == 0, "c1 -> c2 answered with the switch hairpinning"
        vk.expect_reach(topo, eps, [("c4", "c3", "ping", True), ("c3", "c4", "ping", True),
                                    ("c4", "c1", "ping", False), ("c2", "c4", "ping", False),
                                    ("c1", "c2", "arping", False)])
        sent = [(f, {"c3": 1, "ext": 1}) for f in vk.broadcasts("c4", vk.mac_of(topo, *eps["c4"][:2]), 2, "iso-refl")]
        sent += [(f, {"c3": 1, "ext": 1}) for f in vk.broadcasts("c1", vk.mac_of(topo, *eps["c1"][:2]), 2, "iso-refl")]

        def send():
            for sender in ("c4", "c1"):
                vk.send_frames(topo, eps, sender, [f for f, _ in sent if f["mark"].split(":")[2] == sender])
        seen = vk.capture(topo, eps, ["c1", "c2", "c3", "c4", "ext"], send)
        vk.expect_copies(seen, sent, "switch hairpin on:")
    finally:
        vk.set_switch_hairpin(topo, False)


# -- anti-spoofing --------------------------------------------------------------------------
GARP_IP = f"{NET}.50"


def spoof_frames(topo, eps, ports):
    """The forged frames c1 sends, and where each would go if vnet let it
    through: [(frame, {receiver: 1})]. Sources: c4's MAC (a bridge sibling),
    the uplink's, a random one; destinations: broadcast, c4, the uplink, ext.
    Then gratuitous ARPs with c1's own Ethernet source claiming c4's MAC."""
    real, sibling = ports["c1"]["mac"], ports["c4"]["mac"]
    uplink, ext = vk.mac_of(topo, *eps["host"][:2]), vk.mac_of(topo, *eps["ext"][:2])
    rand = "02:" + ":".join(f"{random.randrange(256):02x}" for _ in range(5))
    where = {vk.BROADCAST: {"c4": 1, "ext": 1, "host": 1}, sibling: {"c4": 1}, uplink: {"host": 1}, ext: {"ext": 1}}
    sent = []
    for src in (sibling, uplink, rand):
        for dst, receivers in where.items():
            sent.append((vk.test_frame("c1", len(sent), src, dst, "spoof"), receivers))
    for op in (1, 2):
        sent.append((vk.garp(real, sibling, GARP_IP, op), where[vk.BROADCAST]))
    return sent


def spoof_round(topo, eps, ports, sent):
    receivers = ["c2", "c3", "c4", "ext", "host"]
    dev = ports["c1"]["name"]
    before = vk.stat(topo, dev, "drops", "spoofed_src")
    seen = vk.capture(topo, eps, receivers, lambda: vk.send_frames(topo, eps, "c1", [f for f, _ in sent]))
    vk.flush_neighbours(topo, receivers)  # what the ARPs taught them
    return seen, vk.stat(topo, dev, "drops", "spoofed_src") - before


def check_spoof(topo, eps, ports):
    """Every forged frame is dropped and counted; genuine frames sent in the
    same burst arrive (the captures are working)."""
    forged = spoof_frames(topo, eps, ports)
    real = ports["c1"]["mac"]
    genuine = [(vk.test_frame("c1", f"genuine{i}", real, dst, "spoof"), want)
               for i, (dst, want) in enumerate(((vk.BROADCAST, {"c4": 1, "ext": 1, "host": 1}),
                                                (ports["c4"]["mac"], {"c4": 1})))]
    genuine.append((vk.garp(real, real, GARP_IP, 1), {"c4": 1, "ext": 1, "host": 1}))
    seen, dropped = spoof_round(topo, eps, ports, forged + genuine)
    vk.expect_copies(seen, [(f, {}) for f, _ in forged] + genuine, "spoofchk on:")
    print(f"  c1's port drops.spoofed_src +{dropped} for {len(forged)} forged frames")
    assert dropped == len(forged), f"drops.spoofed_src grew by {dropped}, want {len(forged)}"


def check_spoof_off(topo, eps, ports):
    """Positive control: with spoofchk off the same frames are delivered (each
    wanted receiver gets it exactly once), and nothing is counted as spoofed."""
    dev = ports["c1"]["name"]
    topo.vnetctl("port", "set", dev, "--spoofchk", "off")
    try:
        sent = spoof_frames(topo, eps, ports)
        seen, dropped = spoof_round(topo, eps, ports, sent)
    finally:
        topo.vnetctl("port", "set", dev, "--spoofchk", "on")
    bad = []
    for frame, want in sent:
        key = vk.key_of(frame)
        got = {name: counts[key] for name, counts in seen.items()}
        print(f"  spoofchk off: {key} ({frame['src']} -> {frame['dst']}): "
              + ", ".join(f"{n} {c}" for n, c in got.items()))
        bad += [f"{key}: {n} got {got[n]} copies, want 1" for n in want if got[n] != 1]
    print(f"  c1's port drops.spoofed_src +{dropped}")
    assert not bad, "spoofchk off, forged frames not delivered: " + "; ".join(bad)
    assert dropped == 0, f"spoofchk off, yet drops.spoofed_src grew by {dropped}"


# -- main ----------------------------------------------------------------------------------
PARTS = [
    # (tag, containers, host, checks)
    ("hon", HOST_ON, True, [("host-on ping/arping", check_host_ping), ("host-on TCP", check_host_tcp),
                            ("host-on broadcast", check_host_broadcast), ("spoof", check_spoof),
                            ("spoof: spoofchk off delivers", check_spoof_off)]),
    ("hof", HOST_OFF, False, [("host-off", check_host_off)]),
    ("hp", HAIRPIN, False, [("hairpin on", check_hairpin_on), ("hairpin broadcast", check_hairpin_broadcast),
                            ("hairpin off", check_hairpin_off), ("hairpin <-> host", check_hairpin_host)]),
    ("iso", ISOLATED, False, [("isolated unicast", check_isolated_unicast),
                              ("isolated broadcast", check_isolated_broadcast),
                              ("isolated, switch hairpin on", check_isolated_reflected)]),
]


def main():
    vk.require_root()
    vk.exit_on_signals()
    start = time.time()
    checks = vk.Checks()
    topos = []
    for tag, containers, host, part in PARTS:
        print(f"=== {tag}: host {'on' if host else 'off (default)'}, "
              + ", ".join(f"{c[0]} {' '.join(c[1:])}" for c in containers), flush=True)
        with vk.Topology(tag=tag) as topo:
            topos.append(topo)
            try:
                eps, ports = vk.build_ports(topo, containers, host=host)
            except vk.CommandError as e:
                checks.fail(f"{tag} topology", str(e))
                continue
            for name, fn in part:
                checks.run(name, fn, topo, eps, ports)
    checks.finish("beyond macvlan", start, topos)


if __name__ == "__main__":
    main()
