#!/usr/bin/python3
"""Flooding to many bridge-mode ports: every port gets every frame.

Topology: ext (wire) == host (up0, a fabric) and N bridge-mode ports whose
container ends e0..eN-1 share one namespace (ct), IPv6 off everywhere so
that nothing but the test's frames moves. N is the first argument (default
128; the 'extra' suite runs 1000).

  from-wire   FRAMES broadcasts (EtherType 0x88b5) sent from the wire at a
              modest rate (one every PACE seconds) reach every one of the N
              ports exactly FRAMES times (rx_packets of each container end,
              counted per receiver);
  from-port   FRAMES broadcasts sent by one port reach each of the other N-1
              ports exactly FRAMES times and the wire at least FRAMES times
              (bridge mode: group frames go out too), and never come back to
              the sender.
Exit 0 pass, 1 fail, 77 skip (not root). Prints "N passed, N failed" and the
time taken.
"""
import json
import sys
import time

import vnetkit as vk

FRAMES = 50
PACE = 0.002  # seconds between frames: a modest 500 frames/s

# Sends FRAMES raw broadcasts on a device from inside its namespace, paced.
SEND = r"""
import socket, sys, time
dev, src, count, pace = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
for i in range(count):
    s.send(b"\xff" * 6 + src + b"\x88\xb5" + b"vnet-flood-%06d" % i + bytes(30))
    time.sleep(pace)
"""


def rx_packets(topo, role):
    """{ifname: rx_packets} of every device in role's namespace (one dump)."""
    out = topo.ip(role, "-s", "-j", "link", "show").stdout
    return {l["ifname"]: l["stats64"]["rx"]["packets"] for l in json.loads(out) if "stats64" in l}


def send(topo, role, dev, count):
    mac = vk.mac_of(topo, role, dev)
    topo.exec(role, vk.PY, "-c", SEND, dev, mac, str(count), str(PACE), timeout=120)


def delta(before, after, names):
    return {n: after[n] - before[n] for n in names}


def build(topo, ports):
    topo.host = topo.netns("host")
    for role in ("host", "ext", "ct"):
        if role != "host":
            topo.netns(role)
        topo.exec(role, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
    topo.ip("ext", "link", "add", "wire", "type", "veth", "peer", "name", "up0", "netns", topo.ns("host"))
    topo.ip("ext", "link", "set", "wire", "up")
    topo.ip("host", "link", "set", "up0", "up")
    fabric = topo.attach("up0")
    start = time.time()
    names = [f"e{i}" for i in range(ports)]
    for name in names:
        topo.vnetctl("port", "add", "--fabric", fabric, "--netns", topo.ns("ct"), "--ifname", name,
                     "--mode", "bridge")
    print(f"{ports} ports added in {time.time() - start:.1f}s", flush=True)
    return names


def from_wire(topo, names):
    before = rx_packets(topo, "ct")
    send(topo, "ext", "wire", FRAMES)
    # The last frames land (the copies go through the ports' rings).
    vk.wait_until(lambda: min(delta(before, rx_packets(topo, "ct"), names).values()) >= FRAMES, timeout=3)
    got = delta(before, rx_packets(topo, "ct"), names)
    wrong = {n: v for n, v in got.items() if v != FRAMES}
    assert not wrong, (f"{len(wrong)} of {len(names)} ports did not get exactly {FRAMES} broadcasts "
                       f"(first ones: {dict(list(wrong.items())[:8])})")


def from_port(topo, names):
    sender, others = names[len(names) // 2], [n for n in names if n != names[len(names) // 2]]
    before, wire0 = rx_packets(topo, "ct"), rx_packets(topo, "ext")["wire"]
    send(topo, "ct", sender, FRAMES)
    vk.wait_until(lambda: min(delta(before, rx_packets(topo, "ct"), others).values()) >= FRAMES, timeout=3)
    after = rx_packets(topo, "ct")
    got = delta(before, after, others)
    wrong = {n: v for n, v in got.items() if v != FRAMES}
    assert not wrong, (f"{len(wrong)} of {len(others)} other ports did not get exactly {FRAMES} broadcasts from "
                       f"{sender} (first ones: {dict(list(wrong.items())[:8])})")
    back = after[sender] - before[sender]
    assert back == 0, f"{back} frames came back to the sender {sender}"
    wire = rx_packets(topo, "ext")["wire"] - wire0
    assert wire >= FRAMES, f"the wire got {wire} of {FRAMES} broadcasts from {sender}"


def main():
    vk.require_root()
    vk.exit_on_signals()
    ports = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    start = time.time()
    checks = vk.Checks()
    topo = vk.Topology(tag="fl")
    with topo:
        try:
            names = build(topo, ports)
        except vk.CommandError as e:
            checks.fail("topology", str(e))
        else:
            checks.run(f"from-wire ({ports} ports)", from_wire, topo, names)
            checks.run(f"from-port ({ports} ports)", from_port, topo, names)
    checks.finish(f"flood scale {ports}", start, [topo])


if __name__ == "__main__":
    main()
