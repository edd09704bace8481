"""Per-frame delivery counts for the namespace tests, on top of the fixture (fixture.py).

Each test frame carries a marker: "VNFC<name>;" as the payload of a raw
Ethernet frame of the local experimental EtherType 0x88b5, or as the payload
of a UDP/IPv4 datagram. send() crafts frames with scapy and sends them from
inside a namespace; counting() runs one listener per receiver while the test
sends, and returns {receiver: {marker: copies}}.

A listener is this file run as a script (`framecount.py listen IFACE`) inside
the receiver's namespace. It reads from AF_PACKET sockets bound to IFACE with
a specific protocol (0x88b5 and IPv4), not ETH_P_ALL, on purpose: the kernel
hands a frame to protocol-specific packet sockets at the same point as to the
protocol handlers of the stack (ip_rcv and friends), that is after XDP, tc
ingress and the device's rx_handler (macvlan's), whereas tcpdump's ETH_P_ALL
tap sits before tc and rx_handler. So a listener on the uplink counts what the
host stack was given, for kernel macvlan (RX_HANDLER_PASS, not the frames it
consumed or handed to a child, which continue in the child's namespace) and
for vnet (XDP_PASS / TC_ACT_OK) alike, and it counts frames whatever their
pkt_type: a unicast to a MAC that is not the host's still counts as a copy the
host was given, though IP would drop it. Outgoing frames are never counted
(only ETH_P_ALL sockets see them), so a sender never counts its own frames,
only what comes back to it.
"""
import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import time

ETH_P_TEST = 0x88B5  # IEEE 802 local experimental: nothing else sends it
ETH_P_IP = 0x0800
MAGIC = b"VNFC"
SETTLE = 0.5  # seconds for the last frames to land (macvlan floods from a workqueue)
PY = "/usr/bin/python3"  # Debian's python3-scapy lives there

_SEND = r"""
import json, sys
from scapy.layers.inet import IP, UDP  # not scapy.all: twice as fast to import
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.sendrecv import sendp
frames = []
for src, dst, marker, kind in json.loads(sys.argv[2]):
    data = Raw(b"VNFC" + marker.encode() + b";")
    if kind == "udp":
        ip_dst = "255.255.255.255" if dst == "ff:ff:ff:ff:ff:ff" else "198.18.0.254"
        frames.append(Ether(src=src, dst=dst) / IP(src="198.18.0.253", dst=ip_dst) /
                      UDP(sport=40000, dport=40001) / data)
    else:
        frames.append(Ether(src=src, dst=dst, type=0x88B5) / data)
sendp(frames, iface=sys.argv[1], verbose=False)
"""


def send(topo, role, frames, ifname="eth0"):
    """Sends frames [(src MAC, dst MAC, marker, "raw"|"udp")] from role's ifname, in order."""
    argv = ["ip", "netns", "exec", topo.ns(role), PY, "-c", _SEND, ifname, json.dumps(frames)]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError(f"sending from {role}/{ifname} failed: {p.stderr.strip()}")


class Listener:
    """One listener process in a namespace; stop() returns {marker: copies}."""

    def __init__(self, netns, ifname):
        self.where = f"{netns}/{ifname}"
        self.proc = subprocess.Popen(["ip", "netns", "exec", netns, PY, os.path.abspath(__file__), "listen", ifname],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()  # "ready" once both sockets are bound
        if line.strip() != "ready":
            self.kill()
            raise AssertionError(f"listener on {self.where} did not start: {line}{self.proc.stderr.read()}")

    def stop(self):
        try:
            out, err = self.proc.communicate(timeout=10)  # closing stdin tells it to report
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"listener on {self.where} did not stop")
        if self.proc.returncode != 0:
            raise AssertionError(f"listener on {self.where} failed: {err.strip()}")
        return json.loads(out)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@contextlib.contextmanager
def counting(topo, receivers):
    """receivers: {name: (role, ifname)}. Listens on all of them while the body
    sends; the yielded dict is filled with {name: {marker: copies}} on the way
    out. Every listener is gone afterwards, whatever happened."""
    listeners = {}
    counts = {}
    try:
        for name, (role, ifname) in receivers.items():
            listeners[name] = Listener(topo.ns(role), ifname)
        yield counts
        time.sleep(SETTLE)
        for name, listener in listeners.items():
            counts[name] = listener.stop()
    finally:
        for listener in listeners.values():
            listener.kill()


def table(title, frames, receivers, results, expected):
    """Text table, a row per frame, a column per receiver. results:
    {system: {receiver: {marker: copies}}}, the first system the reference
    (kernel macvlan); expected: {marker: {receiver: copies}}; frames:
    [(marker, description)]. A cell lists the copies per system, '!' where
    another system differs from the reference, '?' where the reference
    differs from the expectation."""
    systems = list(results)
    width = max(len(d) for _, d in frames) + 2
    cell = 3 * len(systems) + 2
    lines = [f"{title}: copies received, {'/'.join(systems)}; ! differs from {systems[0]}, "
             f"? {systems[0]} differs from the spec",
             "frame".ljust(width) + "".join(r.rjust(cell) for r in receivers)]
    for marker, description in frames:
        row = description.ljust(width)
        for r in receivers:
            got = [results[s][r].get(marker, 0) for s in systems]
            mark = ("!" if len(set(got)) > 1 else "") + ("?" if got[0] != expected[marker].get(r, 0) else "")
            row += ("/".join(map(str, got)) + mark).rjust(cell)
        lines.append(row)
    return "\n".join(lines)


def mismatches(title, frames, receivers, results, expected):
    """One line per cell where a system differs from the reference (the first)
    or the reference from the expectation."""
    systems = list(results)
    out = []
    for marker, description in frames:
        for r in receivers:
            want = expected[marker].get(r, 0)
            ref = results[systems[0]][r].get(marker, 0)
            if ref != want:
                out.append(f"{title}: {description} -> {r}: {systems[0]} {ref} copies, the spec says {want}")
            for s in systems[1:]:
                got = results[s][r].get(marker, 0)
                if got != ref:
                    out.append(f"{title}: {description} -> {r}: {s} {got} copies, {systems[0]} {ref} (spec {want})")
    return out


# -- the listener process --------------------------------------------------------
def marker_of(frame):
    """The marker of a test frame, or None for any other frame."""
    ethertype = int.from_bytes(frame[12:14], "big")
    if ethertype == ETH_P_TEST:
        payload = frame[14:]
    elif ethertype == ETH_P_IP and len(frame) >= 34 and frame[23] == socket.IPPROTO_UDP:
        payload = frame[14 + (frame[14] & 0x0F) * 4 + 8:]
    else:
        return None
    end = payload.find(b";")
    if not payload.startswith(MAGIC) or end < 0:
        return None
    return payload[len(MAGIC):end].decode(errors="replace")


def listen(ifname):
    socks = []
    for proto in (ETH_P_TEST, ETH_P_IP):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # protocol 0: receives nothing until bound
        s.bind((ifname, proto))
        s.setblocking(False)
        socks.append(s)
    print("ready", flush=True)
    counts = {}

    def drain(s):
        while True:
            try:
                marker = marker_of(s.recv(65536))
            except BlockingIOError:
                return
            if marker is not None:
                counts[marker] = counts.get(marker, 0) + 1

    while True:
        readable, _, _ = select.select(socks + [sys.stdin], [], [])
        for s in socks:
            if s in readable:
                drain(s)
        if sys.stdin in readable and not os.read(sys.stdin.fileno(), 4096):
            break  # stdin closed: the test wants the counts
    for s in socks:
        drain(s)
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "listen":
        sys.exit("usage: framecount.py listen IFACE")
    listen(sys.argv[2])
