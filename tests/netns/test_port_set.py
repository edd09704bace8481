#!/usr/bin/python3
"""`vnetctl port set` at runtime: each change takes effect, and the other
ports' traffic is not disturbed while it happens.

Topology: build_l2's switch (hairpin off), ext and host, a fabric on up0 (host
off) with c1 bridge, c2 bridge (the undisturbed pair), c3 vepa (the port under
change), c4 bridge --isolated on, c5 vepa --hairpin on (c3's partners for the
behaviour checks); a second fabric on up1 with one passthru port (c6).

  changes     while c1 -> c2 and ext -> c1 ping every 10 ms, c3 goes through
              hairpin on/off, vepa -> bridge, isolated on/off, a new MAC,
              spoofchk off/on, bridge -> private; after each, `vnetctl -j show`
              reports it and a behaviour check proves it (vepa c3 cannot reach
              bridge c4 without a hairpinning switch, bridge c3 can; hairpin c3
              reaches hairpin c5; isolated c3 cannot reach isolated c4; the new
              MAC is on c3's eth0 and ext reaches it; spoofchk off lets a
              forged source through; private c3 reaches ext, not c4). Both
              pings lose nothing and see no duplicate; c1's and c2's ports are
              unchanged in `show`.
  refusals    to and from passthru, --nodst on a non-source port, source add on
              a non-source port, c3's MAC set to the uplink's or a sibling's,
              an unknown DEV, port set with nothing to change: each exits
              non-zero with one stderr line 'vnetctl: ...', prints nothing on
              stdout, and leaves `vnetctl -j show` (and c3's eth0 MAC) as it was.
Exit 0 pass, 1 fail, 77 skip (not root). Prints "N passed, N failed".
"""
import time

import vnetkit as vk

CONTAINERS = [("c1", "bridge"), ("c2", "bridge"), ("c3", "vepa"), ("c4", "bridge", "--isolated", "on"),
              ("c5", "vepa", "--hairpin", "on")]
NEW_MAC = "02:5e:10:00:00:33"
FORGED_MAC = "02:5e:10:00:00:99"


def port_doc(topo, dev):
    for fabric in topo.fabrics:
        for port in vk.fabric_doc(topo, fabric)["ports"]:
            if port["name"] == dev:
                return port
    raise AssertionError(f"vnetctl show: no port {dev}")


def expect_port(topo, dev, **want):
    port = port_doc(topo, dev)
    wrong = {k: port[k] for k, v in want.items() if port[k] != v}
    assert not wrong, f"vnetctl show {dev}: {wrong}, want {want}"


# -- changes -------------------------------------------------------------------------
def set_port(topo, ports, *args, **shows):
    """vnetctl port set c3 ARGS; show must then report shows."""
    dev = ports["c3"]["name"]
    print(f"  port set c3 {' '.join(args)}", flush=True)
    topo.vnetctl("port", "set", dev, *args)
    expect_port(topo, dev, **shows)


def spoof_delivered(topo, eps, ports):
    """c3 sends one frame with a forged source and one genuine, both to c4's
    MAC; returns (forged copies c4 got, drops.spoofed_src growth)."""
    real = vk.mac_of(topo, *eps["c3"][:2])
    frames = [vk.test_frame("c3", f"forged{time.time()}", FORGED_MAC, ports["c4"]["mac"], "set"),
              vk.test_frame("c3", f"genuine{time.time()}", real, ports["c4"]["mac"], "set")]
    before = vk.stat(topo, ports["c3"]["name"], "drops", "spoofed_src")
    seen = vk.capture(topo, eps, ["c4"], lambda: vk.send_frames(topo, eps, "c3", frames))["c4"]
    grew = vk.stat(topo, ports["c3"]["name"], "drops", "spoofed_src") - before
    forged, genuine = (seen[f["mark"]] for f in frames)
    print(f"    c4 got {forged} forged and {genuine} genuine frames from c3; drops.spoofed_src +{grew}")
    assert genuine == 1, f"c4 got {genuine} of c3's genuine frame: capture or delivery broken"
    return forged, grew


def reach(topo, eps, *cases):
    vk.expect_reach(topo, eps, list(cases))


def step_vepa(topo, eps, ports):
    """c3 as added: vepa, so without a hairpinning switch no sibling, except
    c5, for which vnet is the reflective relay (its hairpin works both ways)."""
    expect_port(topo, ports["c3"]["name"], mode="vepa", hairpin=False, isolated=False, spoofchk=True)
    reach(topo, eps, ("c3", "c4", "ping", False), ("c3", "ext", "ping", True), ("c3", "c5", "ping", True))


def step_hairpin(topo, eps, ports):
    set_port(topo, ports, "--hairpin", "on", hairpin=True, mode="vepa")
    reach(topo, eps, ("c3", "c4", "ping", True), ("c4", "c3", "ping", True))
    set_port(topo, ports, "--hairpin", "off", hairpin=False)
    reach(topo, eps, ("c3", "c4", "ping", False))


def step_bridge(topo, eps, ports):
    set_port(topo, ports, "--mode", "bridge", mode="bridge")
    reach(topo, eps, ("c3", "c4", "ping", True), ("c4", "c3", "ping", True), ("c3", "ext", "ping", True))


def step_isolated(topo, eps, ports):
    c3 = ports["c3"]["name"]
    set_port(topo, ports, "--isolated", "on", isolated=True)
    before = vk.stat(topo, c3, "drops", "isolated")
    answered = vk.unicast_count(topo, eps, ports, "c3", "c4")
    grew = vk.stat(topo, c3, "drops", "isolated") - before
    print(f"    5 pings c3 -> c4 (static neighbours): {answered} answered, c3's drops.isolated +{grew}")
    assert answered == 0 and grew >= 5, f"isolated c3 -> isolated c4: {answered} answered, drops.isolated +{grew}"
    reach(topo, eps, ("c3", "c4", "ping", False), ("c3", "ext", "ping", True))
    set_port(topo, ports, "--isolated", "off", isolated=False)
    reach(topo, eps, ("c3", "c4", "ping", True))


def step_mac(topo, eps, ports):
    old_mac = vk.mac_of(topo, *eps["c3"][:2])
    set_port(topo, ports, "--mac", NEW_MAC, mac=NEW_MAC)
    eth0 = vk.mac_of(topo, *eps["c3"][:2])
    print(f"    c3 eth0: {old_mac} -> {eth0}")
    assert eth0 == NEW_MAC, f"c3's eth0 has {eth0} after port set --mac {NEW_MAC}"
    macs = [p["mac"] for p in vk.fabric_doc(topo, topo.fabrics[0])["ports"]]
    assert old_mac not in macs, f"show still lists c3's old MAC {old_mac}: {macs}"
    reach(topo, eps, ("ext", "c3", "ping", True), ("c3", "ext", "ping", True), ("c4", "c3", "ping", True))


def step_spoofchk(topo, eps, ports):
    set_port(topo, ports, "--spoofchk", "off", spoofchk=False)
    forged, grew = spoof_delivered(topo, eps, ports)
    assert forged == 1 and grew == 0, f"spoofchk off: c4 got {forged} forged frames, drops.spoofed_src +{grew}"
    set_port(topo, ports, "--spoofchk", "on", spoofchk=True)
    forged, grew = spoof_delivered(topo, eps, ports)
    assert forged == 0 and grew == 1, f"spoofchk on: c4 got {forged} forged frames, drops.spoofed_src +{grew}"


def step_private(topo, eps, ports):
    set_port(topo, ports, "--mode", "private", mode="private")
    reach(topo, eps, ("c3", "c4", "ping", False), ("c4", "c3", "ping", False), ("c3", "ext", "ping", True),
          ("ext", "c3", "ping", True))


STEPS = [("c3 vepa (as added)", step_vepa), ("hairpin on/off", step_hairpin), ("vepa -> bridge", step_bridge),
         ("isolated on/off", step_isolated), ("mac", step_mac), ("spoofchk off/on", step_spoofchk),
         ("bridge -> private", step_private)]
FLOWS = [("c1", "c2"), ("ext", "c1")]


def changes_under_traffic(checks, topo, eps, ports):
    """Every step as its own check while FLOWS ping; then one check that the
    flows lost nothing and c1's and c2's ports are as they were."""
    stable = {role: port_doc(topo, ports[role]["name"]) for role in ("c1", "c2")}
    pingers = []
    start = time.time()
    try:
        for src, dst in FLOWS:
            pingers.append(vk.Pinger(topo, eps, src, dst))
        time.sleep(0.5)  # both flows under way, ARP done
        for name, fn in STEPS:
            checks.run(name, fn, topo, eps, ports)
        time.sleep(0.3)
    finally:
        results = [(p.title, *p.stop()) for p in pingers]
    checks.run("undisturbed flows", check_flows, topo, ports, stable, results, time.time() - start)


def check_flows(topo, ports, stable, results, seconds):
    bad = []
    for title, sent, lost, dups in results:
        print(f"  ping -i 0.01 {title} over {seconds:.1f}s: {sent} sent, {len(lost)} lost"
              f"{' (icmp_seq ' + ', '.join(map(str, lost[:10])) + ')' if lost else ''}, {dups} duplicates")
        if sent < 100 or lost or dups:
            bad.append(f"{title}: {sent} sent, {len(lost)} lost, {dups} duplicates")
    for role, before in stable.items():
        after = port_doc(topo, ports[role]["name"])
        if after != before:
            bad.append(f"{role}'s port changed in show: {before} -> {after}")
    assert not bad, "; ".join(bad)


# -- refusals --------------------------------------------------------------------------
def check_refused(topo, eps, args):
    """vnetctl ARGS fails: non-zero, one 'vnetctl: ' line on stderr, nothing on
    stdout, show and c3's eth0 MAC unchanged."""
    before = (topo.vnetctl("show", json_out=True), vk.mac_of(topo, *eps["c3"][:2]))
    p = topo.vnetctl(*args, check=False)
    after = (topo.vnetctl("show", json_out=True), vk.mac_of(topo, *eps["c3"][:2]))
    print(f"  vnetctl {' '.join(args)} -> exit {p.returncode}, stderr {p.stderr.strip()!r}")
    lines = p.stderr.splitlines()
    bad = []
    if p.returncode == 0:
        bad.append("exit 0")
    if len(lines) != 1 or not lines[0].startswith("vnetctl: "):
        bad.append(f"stderr {p.stderr!r}, want one line 'vnetctl: ...'")
    if p.stdout:
        bad.append(f"stdout {p.stdout!r}")
    if after != before:
        bad.append("state changed: " + "; ".join(f"{x} -> {y}" for x, y in zip(before, after) if x != y))
    assert not bad, ", ".join(bad)


def refusals(topo, eps, ports):
    """[(name, vnetctl args)] for the refusals."""
    c3, c4, c6 = ports["c3"]["name"], ports["c4"]["name"], ports["c6"]["name"]
    return [
        ("change to passthru", ("port", "set", c3, "--mode", "passthru")),
        ("change from passthru", ("port", "set", c6, "--mode", "bridge")),
        ("--nodst on a non-source port", ("port", "set", c3, "--nodst", "on")),
        ("source add on a non-source port", ("source", "add", c3, "02:5e:10:00:00:44")),
        ("the uplink's MAC", ("port", "set", c3, "--mac", vk.mac_of(topo, *eps["host"][:2]))),
        ("a sibling's MAC", ("port", "set", c3, "--mac", port_doc(topo, c4)["mac"])),
        ("unknown DEV", ("port", "set", "vnnosuch0", "--mode", "bridge")),
        ("nothing to change", ("port", "set", c3)),
    ]


def build(topo):
    eps, ports = vk.build_ports(topo, CONTAINERS)
    # A second fabric, on up1 (a veth whose peer stays in the host namespace),
    # whose only port is passthru.
    topo.ip("host", "link", "add", "up1", "type", "veth", "peer", "name", "up1p")
    for dev in ("up1", "up1p"):
        topo.ip("host", "link", "set", dev, "up")
    fabric = topo.attach("up1")
    c6 = topo.netns("c6")
    ports["c6"] = topo.vnetctl("port", "add", "--fabric", fabric, "--netns", c6, "--mode", "passthru",
                               json_out=True)
    return eps, ports


def main():
    vk.require_root()
    vk.exit_on_signals()
    start = time.time()
    checks = vk.Checks()
    with vk.Topology(tag="ps") as topo:
        try:
            eps, ports = build(topo)
        except vk.CommandError as e:
            checks.fail("topology", str(e))
        else:
            changes_under_traffic(checks, topo, eps, ports)
            for name, args in refusals(topo, eps, ports):
                checks.run(f"refused: {name}", check_refused, topo, eps, args)
    checks.finish("port set", start, [topo])


if __name__ == "__main__":
    main()
