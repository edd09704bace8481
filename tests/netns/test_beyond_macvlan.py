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
import collections
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import l2checks as lc  # noqa: E402
import vnettest as vt  # noqa: E402

NET = vt.NET
IPERF_SECONDS = 2
TEST_ETHERTYPE = 0x88B5
BROADCAST = "ff:ff:ff:ff:ff:ff"

# -- topology --------------------------------------------------------------------


def build(topo, containers, host=False, switch_hairpin=False):
    """build_l2's switch, ext and host with a fabric on up0 (--host on, or
    the default) and no containers, then one container per (role, mode, *port
    add flags) in containers, role cN at NET.(10+N). Returns (endpoints,
    {role: port})."""
    attach = topo.attach
    topo.attach = lambda uplink="up0", *extra: attach(uplink, *(("--host", "on") if host else ()), *extra)
    try:
        eps = vt.build_l2(topo, "vnet", "vepa", switch_hairpin, containers=0)
    finally:
        del topo.attach
    ports = {}
    for role, mode, *flags in containers:
        ns = topo.netns(role)
        ports[role] = topo.vnetctl("port", "add", "--fabric", topo.fabrics[-1], "--netns", ns, "--mode", mode,
                                   *flags, json_out=True)
        ip = f"{NET}.{10 + int(role[1:])}"
        topo.ip(role, "addr", "add", f"{ip}/24", "dev", "eth0")
        eps[role] = (role, "eth0", ip)
    vt.wait_dad(topo, list(ports))
    return eps, ports


def mac_of(topo, eps, name):
    role, ifname, _ = eps[name]
    return lc.link_json(topo, role, ifname)["address"].lower()


def set_switch_hairpin(topo, on):
    topo.ip("sw", "link", "set", "swup", "type", "bridge_slave", "hairpin", "on" if on else "off")


def static_neighbour(topo, eps, on, peer, mac):
    """on's neighbour entry for peer's IP, fixed to mac: unicast leaves without ARP."""
    role, ifname, _ = eps[on]
    topo.ip(role, "neigh", "replace", eps[peer][2], "lladdr", mac, "dev", ifname, "nud", "permanent")


def stat(topo, dev, *path):
    """One counter of `vnetctl -j stats DEV`: stat(topo, dev, "drops", "isolated")."""
    value = lc.port_stats(topo, dev)
    for key in path:
        value = value[key]
    return value


def fabric_drops(topo, reason):
    """{device: drops[reason]} over every device of the topology's fabrics."""
    return {s["device"]: s["drops"][reason] for s in topo.vnetctl("stats", json_out=True)["stats"]
            if s["fabric"] in topo.fabrics}


# -- reachability ------------------------------------------------------------------


def forget(topo, eps, a, b):
    """a forgets b's address and b a's (other neighbour entries stay)."""
    for x, y in ((a, b), (b, a)):
        topo.ip(eps[x][0], "neigh", "flush", "to", eps[y][2], check=False)


def reaches(topo, eps, src, dst, kind="ping"):
    """One probe, neither end knowing the other's MAC yet: ping or arping."""
    forget(topo, eps, src, dst)
    role, ifname, _ = eps[src]
    if kind == "arping":
        return vt.arping(topo, role, ifname, eps[dst][2], timeout=1)
    return vt.ping(topo, role, eps[dst][2], timeout="1")


def expect_reach(topo, eps, cases):
    """cases: [(src, dst, kind, want)]. Probes each; asserts they all match."""
    bad = []
    for src, dst, kind, want in cases:
        got = reaches(topo, eps, src, dst, kind)
        print(f"  {kind} {src} -> {dst}: {'ok' if got else 'fails'}{'' if got == want else '   <-- WRONG'}")
        if got != want:
            bad.append(f"{kind} {src} -> {dst} {'works' if got else 'fails'}, want {'ok' if want else 'failure'}")
    assert not bad, "; ".join(bad)


def iperf(topo, eps, client, server, seconds=IPERF_SECONDS, port=5201):
    """TCP iperf3 client -> server. Returns (received bytes, Gbit/s), or
    (0, why) when no connection carried data. The server is always killed."""
    srole, _, sip = eps[server]
    srv = subprocess.Popen(["ip", "netns", "exec", topo.ns(srole), "iperf3", "-s", "-1", "-B", sip, "-p", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert lc.wait_until(lambda: f":{port}" in topo.exec(srole, "ss", "-Hltn", f"sport = :{port}").stdout,
                             timeout=5), f"iperf3 server in {server} is not listening (exit {srv.poll()})"
        p = topo.exec(eps[client][0], "iperf3", "-c", sip, "-p", str(port), "-t", str(seconds), "-J",
                      "--connect-timeout", "1000", check=False, timeout=seconds + 30)
        try:
            doc = json.loads(p.stdout)
        except json.JSONDecodeError:
            return 0, f"exit {p.returncode}, no JSON: {p.stderr.strip()[-200:]}"
        if p.returncode != 0 or "error" in doc:
            return 0, doc.get("error", f"exit {p.returncode}")
        total = doc["end"]["sum_received"]
        return total["bytes"], total["bits_per_second"] / 1e9
    finally:
        if srv.poll() is None:
            srv.kill()
        srv.wait(timeout=10)


def expect_tcp(topo, eps, cases):
    """cases: [(client, server, want)]. Runs iperf3 for each; asserts they match."""
    bad = []
    for client, server, want in cases:
        forget(topo, eps, client, server)
        got, detail = iperf(topo, eps, client, server, seconds=IPERF_SECONDS if want else 1)
        text = f"{got} bytes in {IPERF_SECONDS}s, {detail:.2f} Gbit/s" if got else f"no transfer ({detail})"
        print(f"  iperf3 TCP {client} -> {server}: {text}{'' if bool(got) == want else '   <-- WRONG'}")
        if bool(got) != want:
            bad.append(f"TCP {client} -> {server}: {text}, want {'a transfer' if want else 'none'}")
    assert not bad, "; ".join(bad)


# -- frames --------------------------------------------------------------------------

# Runs in the sender's namespace: argv[1] the interface, argv[2] a JSON list of
# frames {src, dst, mark} (a test frame) or {src, dst, arp: {ARP fields}}.
SEND_FRAMES = r"""
import json, sys
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw
from scapy.sendrecv import sendp
frames = []
for f in json.loads(sys.argv[2]):
    if "arp" in f:
        frames.append(Ether(src=f["src"], dst=f["dst"]) / ARP(**f["arp"]))
    else:
        frames.append(Ether(src=f["src"], dst=f["dst"], type=0x88b5) / Raw(f["mark"].encode()))
sendp(frames, iface=sys.argv[1], verbose=False)
"""


def send_frames(topo, eps, sender, frames):
    role, ifname, _ = eps[sender]
    topo.exec(role, "/usr/bin/python3", "-c", SEND_FRAMES, ifname, json.dumps(frames))


def test_frame(sender, seq, src, dst, tag="t"):
    return {"src": src, "dst": dst, "mark": f"vnet-beyond:{tag}:{sender}:{seq}"}


def garp(src, hwsrc, ip, op):
    """A gratuitous ARP (request or reply, op 1 or 2) for ip claiming hwsrc."""
    return {"src": src, "dst": BROADCAST,
            "arp": {"op": op, "hwsrc": hwsrc, "psrc": ip, "hwdst": "00:00:00:00:00:00" if op == 1 else BROADCAST,
                    "pdst": ip}}


def frame_key(frame):
    """What identifies a frame we sent: the test frame's mark, or
    'arp:OP:SENDER-MAC:SENDER-IP' for an ARP; None for anything else."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype == TEST_ETHERTYPE:
        payload = frame[14:].rstrip(b"\0").decode("ascii", "replace")
        return payload if payload.startswith("vnet-beyond:") else None
    if ethertype == 0x0806 and len(frame) >= 42:
        op = struct.unpack("!H", frame[20:22])[0]
        sha = ":".join(f"{b:02x}" for b in frame[22:28])
        return f"arp:{op}:{sha}:{'.'.join(str(b) for b in frame[28:32])}"
    return None


def arp_key(frame):
    arp = frame["arp"]
    return f"arp:{arp['op']}:{arp['hwsrc']}:{arp['psrc']}"


def key_of(frame):
    return arp_key(frame) if "arp" in frame else frame["mark"]


def read_pcap(path):
    """The frames of a classic pcap file (either byte order, us or ns)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    frames, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(order + "IIII", data[off:off + 16])[2]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


class Sniffer(lc.Capture):
    """lc.Capture's tcpdump (incoming frames only), on any interface of an
    endpoint and written as pcap, so that payloads and ARP fields can be read."""

    def __init__(self, topo, eps, name, directory):  # pylint: disable=super-init-not-called
        role, ifname, _ = eps[name]
        self.role = name
        self.path = os.path.join(directory, f"{name}.pcap")
        self.proc = subprocess.Popen(["ip", "netns", "exec", topo.ns(role), "tcpdump", "-i", ifname, "-Q", "in",
                                      "-n", "-U", "--immediate-mode", "-s", "256", "-w", self.path,
                                      f"ether proto {TEST_ETHERTYPE:#x} or arp"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = ""
        while "listening on" not in line:  # tcpdump says so once the filter is in place
            line = self.proc.stderr.readline()
            if not line:
                self.proc.wait()
                raise AssertionError(f"tcpdump on {name} ({role} {ifname}) did not start")

    def stop(self):
        """Stops tcpdump (lc.Capture.stop); a Counter of frame_key over the pcap."""
        super().stop()
        return collections.Counter(k for k in map(frame_key, read_pcap(self.path)) if k)


def capture(topo, eps, receivers, action):
    """Runs action() while sniffing on every receiver; {receiver: Counter of
    frame keys}. Every tcpdump is stopped and the pcaps removed, whatever happens."""
    directory = tempfile.mkdtemp(prefix="vnet-beyond-")
    sniffers = {}
    try:
        for name in receivers:
            sniffers[name] = Sniffer(topo, eps, name, directory)
        action()
        time.sleep(0.3)  # let the last copies land
    finally:
        seen = {name: s.stop() for name, s in sniffers.items()}
        shutil.rmtree(directory, ignore_errors=True)
    return seen


def expect_copies(seen, sent, title):
    """sent: [(frame, {receiver: copies wanted})]; a receiver captured but not
    named wants 0. Prints a table; asserts every count."""
    bad = []
    for frame, want in sent:
        key = key_of(frame)
        got = {name: counts[key] for name, counts in seen.items()}
        wrong = [name for name in got if got[name] != want.get(name, 0)]
        print(f"  {title} {key} ({frame['src']} -> {frame['dst']}): "
              + ", ".join(f"{n} {c}" + ("!" if n in wrong else "") for n, c in got.items()))
        bad += [f"{key}: {n} got {got[n]} copies, want {want.get(n, 0)}" for n in wrong]
    assert not bad, "; ".join(bad)


def broadcasts(sender, sender_mac, count, tag):
    return [test_frame(sender, i, sender_mac, BROADCAST, tag) for i in range(count)]


# -- host on / off -----------------------------------------------------------------------
HOST_ON = [("c1", "bridge"), ("c2", "vepa"), ("c3", "private"), ("c4", "bridge")]
HOST_OFF = [("c1", "bridge"), ("c2", "vepa")]


def expect_host_policy(topo, on):
    doc = lc.fabric_doc(topo, topo.fabrics[0])
    assert doc["host"] is on, f"vnetctl show: host {doc['host']}, want {on}"


def check_host_ping(topo, eps, ports):
    expect_host_policy(topo, True)
    cases = []
    for port, want in (("c1", True), ("c2", True), ("c3", False)):
        cases += [("host", port, "ping", want), (port, "host", "ping", want),
                  ("host", port, "arping", want), (port, "host", "arping", want)]
    expect_reach(topo, eps, cases)


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
    sent = {s: broadcasts(s, mac_of(topo, eps, s), 2, "bcast") for s in wants}
    seen = capture(topo, eps, receivers, lambda: [send_frames(topo, eps, s, f) for s, f in sent.items()])
    expect_copies(seen, [(f, wants[s]) for s, frames in sent.items() for f in frames], "broadcast")


def check_host_off(topo, eps, ports):
    expect_host_policy(topo, False)  # attached without --host: the default
    cases = []
    for port in ("c1", "c2"):
        cases += [("host", port, "ping", False), (port, "host", "ping", False),
                  ("host", port, "arping", False), (port, "host", "arping", False)]
    cases += [("ext", "c1", "ping", True), ("ext", "host", "ping", True)]  # the topology itself works
    expect_reach(topo, eps, cases)
    expect_tcp(topo, eps, [("host", "c1", False), ("c1", "host", False), ("host", "c2", False),
                           ("c2", "host", False)])


# -- hairpin -------------------------------------------------------------------------------
HAIRPIN = [("c1", "vepa", "--hairpin", "on"), ("c2", "vepa", "--hairpin", "on"), ("c3", "vepa")]


def check_hairpin_on(topo, eps, ports):
    expect_reach(topo, eps, [("c1", "c2", "ping", True), ("c2", "c1", "ping", True),
                             ("c1", "c2", "arping", True), ("c1", "ext", "ping", True)])


def check_hairpin_broadcast(topo, eps, ports):
    """A hairpin vepa port's broadcast: reflected by vnet to every vepa/bridge
    sibling once (hairpin or not), out the wire once, up the host stack once
    (as a reflection from a hairpinning switch would), never back to c1."""
    frames = broadcasts("c1", mac_of(topo, eps, "c1"), 3, "hairpin")
    seen = capture(topo, eps, ["c1", "c2", "c3", "ext", "host"], lambda: send_frames(topo, eps, "c1", frames))
    expect_copies(seen, [(f, {"c2": 1, "c3": 1, "ext": 1, "host": 1}) for f in frames], "c1 broadcast")


def check_hairpin_off(topo, eps, ports):
    for role in ("c1", "c2"):
        topo.vnetctl("port", "set", ports[role]["name"], "--hairpin", "off")
    expect_reach(topo, eps, [("c1", "c2", "ping", False), ("c2", "c1", "ping", False),
                             ("c1", "c2", "arping", False), ("c1", "ext", "ping", True)])


def check_hairpin_host(topo, eps, ports):
    """Spec item 2: a hairpin port makes the fabric do what a hairpinning
    switch does, and through one a vepa port and the host reach each other
    (macvlan too): with --host off, c1 (vepa, hairpin) <-> host works both
    ways, because vnet reflects the host's frames to hairpin ports as well."""
    topo.vnetctl("port", "set", ports["c1"]["name"], "--hairpin", "on")
    try:
        got = {(src, dst): reaches(topo, eps, src, dst) for src, dst in (("c1", "host"), ("host", "c1"))}
    finally:
        topo.vnetctl("port", "set", ports["c1"]["name"], "--hairpin", "off")
    text = ", ".join(f"ping {s} -> {d} {'ok' if ok else 'fails'}" for (s, d), ok in got.items())
    print(f"  hairpin vepa port <-> host with host off: {text}")
    assert all(got.values()), text


# -- isolation -----------------------------------------------------------------------------
ISOLATED = [("c1", "bridge", "--isolated", "on"), ("c2", "bridge", "--isolated", "on"), ("c3", "bridge"),
            ("c4", "vepa", "--isolated", "on")]


def isolated_unicast(topo, eps, ports, src, dst, count=5):
    """count pings src -> dst with static neighbours on both sides (so the ICMP
    frames themselves meet the fabric); returns the number answered."""
    static_neighbour(topo, eps, src, dst, ports[dst]["mac"])
    static_neighbour(topo, eps, dst, src, ports[src]["mac"])
    try:
        p = topo.exec(src, "ping", "-n", "-q", "-c", str(count), "-i", "0.05", "-W", "0.5", eps[dst][2], check=False)
        m = re.search(r"(\d+) received", p.stdout)
        return int(m.group(1)) if m else 0
    finally:
        for a, b in ((src, dst), (dst, src)):
            topo.ip(a, "neigh", "del", eps[b][2], "dev", "eth0", check=False)


def check_isolated_unicast(topo, eps, ports):
    bad = []
    for src, dst in (("c1", "c2"), ("c2", "c1")):
        before = stat(topo, ports[src]["name"], "drops", "isolated")
        answered = isolated_unicast(topo, eps, ports, src, dst)
        grew = stat(topo, ports[src]["name"], "drops", "isolated") - before
        print(f"  5 pings {src} -> {dst} (static neighbours): {answered} answered; "
              f"{src}'s port drops.isolated +{grew}")
        if answered:
            bad.append(f"{src} -> {dst}: {answered} of 5 pings answered between isolated ports")
        if grew < 5:
            bad.append(f"{src}'s port {ports[src]['name']} drops.isolated grew by {grew}, want >= 5")
    assert not bad, "; ".join(bad)
    expect_reach(topo, eps, [("c1", "c2", "ping", False), ("c1", "c2", "arping", False),
                             ("c1", "c3", "ping", True), ("c3", "c1", "ping", True), ("c2", "c3", "ping", True),
                             ("c1", "ext", "ping", True), ("ext", "c2", "ping", True)])


def check_isolated_broadcast(topo, eps, ports):
    frames = broadcasts("c1", mac_of(topo, eps, "c1"), 3, "iso")
    seen = capture(topo, eps, ["c1", "c2", "c3", "c4", "ext"], lambda: send_frames(topo, eps, "c1", frames))
    expect_copies(seen, [(f, {"c3": 1, "ext": 1}) for f in frames], "isolated c1 broadcast")


def check_isolated_reflected(topo, eps, ports):
    """With the switch hairpinning (the reflected path): c4 (vepa, isolated)
    reaches c3 through the switch but never c1 or c2, unicast or broadcast;
    c1 <-> c2 still nothing, and nothing reflected reaches an isolated port."""
    set_switch_hairpin(topo, True)
    try:
        before = fabric_drops(topo, "isolated")
        answered = isolated_unicast(topo, eps, ports, "c4", "c1")
        grew = {dev: n - before.get(dev, 0) for dev, n in fabric_drops(topo, "isolated").items()}
        names = {p["name"]: role for role, p in ports.items()}
        print(f"  5 pings c4 -> c1, switch hairpinning (static neighbours): {answered} answered; drops.isolated "
              + (", ".join(f"{names.get(d, d)} +{n}" for d, n in grew.items() if n) or "unchanged"))
        assert answered == 0, f"c4 -> c1: {answered} of 5 pings answered between isolated ports"
        assert sum(grew.values()) >= 5, f"isolated unicast c4 -> c1: drops.isolated grew by {grew}, want >= 5 in all"
        assert isolated_unicast(topo, eps, ports, "c1", "c2") == 0, "c1 -> c2 answered with the switch hairpinning"
        expect_reach(topo, eps, [("c4", "c3", "ping", True), ("c3", "c4", "ping", True),
                                 ("c4", "c1", "ping", False), ("c2", "c4", "ping", False),
                                 ("c1", "c2", "arping", False)])
        sent = [(f, {"c3": 1, "ext": 1}) for f in broadcasts("c4", mac_of(topo, eps, "c4"), 2, "iso-refl")]
        sent += [(f, {"c3": 1, "ext": 1}) for f in broadcasts("c1", mac_of(topo, eps, "c1"), 2, "iso-refl")]

        def send():
            for sender in ("c4", "c1"):
                send_frames(topo, eps, sender, [f for f, _ in sent if f["mark"].split(":")[2] == sender])
        seen = capture(topo, eps, ["c1", "c2", "c3", "c4", "ext"], send)
        expect_copies(seen, sent, "switch hairpin on:")
    finally:
        set_switch_hairpin(topo, False)


# -- anti-spoofing --------------------------------------------------------------------------
GARP_IP = f"{NET}.50"


def spoof_frames(topo, eps, ports):
    """The forged frames c1 sends, and where each would go if vnet let it
    through: [(frame, {receiver: 1})]. Sources: c4's MAC (a bridge sibling),
    the uplink's, a random one; destinations: broadcast, c4, the uplink, ext.
    Then gratuitous ARPs with c1's own Ethernet source claiming c4's MAC."""
    real, sibling = ports["c1"]["mac"], ports["c4"]["mac"]
    uplink, ext = mac_of(topo, eps, "host"), mac_of(topo, eps, "ext")
    rand = "02:" + ":".join(f"{random.randrange(256):02x}" for _ in range(5))
    where = {BROADCAST: {"c4": 1, "ext": 1, "host": 1}, sibling: {"c4": 1}, uplink: {"host": 1}, ext: {"ext": 1}}
    sent = []
    for src in (sibling, uplink, rand):
        for dst, receivers in where.items():
            sent.append((test_frame("c1", len(sent), src, dst, "spoof"), receivers))
    for op in (1, 2):
        sent.append((garp(real, sibling, GARP_IP, op), where[BROADCAST]))
    return sent


def spoof_round(topo, eps, ports, sent):
    receivers = ["c2", "c3", "c4", "ext", "host"]
    dev = ports["c1"]["name"]
    before = stat(topo, dev, "drops", "spoofed_src")
    seen = capture(topo, eps, receivers, lambda: send_frames(topo, eps, "c1", [f for f, _ in sent]))
    vt.flush_neighbours(topo, receivers)  # what the ARPs taught them
    return seen, stat(topo, dev, "drops", "spoofed_src") - before


def check_spoof(topo, eps, ports):
    """Every forged frame is dropped and counted; genuine frames sent in the
    same burst arrive (the captures are working)."""
    forged = spoof_frames(topo, eps, ports)
    real = ports["c1"]["mac"]
    genuine = [(test_frame("c1", f"genuine{i}", real, dst, "spoof"), want)
               for i, (dst, want) in enumerate(((BROADCAST, {"c4": 1, "ext": 1, "host": 1}),
                                                (ports["c4"]["mac"], {"c4": 1})))]
    genuine.append((garp(real, real, GARP_IP, 1), {"c4": 1, "ext": 1, "host": 1}))
    seen, dropped = spoof_round(topo, eps, ports, forged + genuine)
    expect_copies(seen, [(f, {}) for f, _ in forged] + genuine, "spoofchk on:")
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
        key = key_of(frame)
        got = {name: counts[key] for name, counts in seen.items()}
        print(f"  spoofchk off: {key} ({frame['src']} -> {frame['dst']}): "
              + ", ".join(f"{n} {c}" for n, c in got.items()))
        bad += [f"{key}: {n} got {got[n]} copies, want 1" for n in want if got[n] != 1]
    print(f"  c1's port drops.spoofed_src +{dropped}")
    assert not bad, "spoofchk off, forged frames not delivered: " + "; ".join(bad)
    assert dropped == 0, f"spoofchk off, yet drops.spoofed_src grew by {dropped}"


# -- main ----------------------------------------------------------------------------------
class Checks(lc.Checks):
    """lc.Checks that also counts what passed, for the summary line."""

    def __init__(self):
        super().__init__()
        self.ran = 0

    def run(self, name, fn, *args):
        self.ran += 1
        super().run(name, fn, *args)

    def fail(self, name, why):
        self.ran += 1
        super().fail(name, why)

    def finish(self, title, start, namespaces, fabrics):
        """Fails on anything the topologies left behind, prints the time and
        the summary line, and exits 0 or 1."""
        left = lc.leftovers(namespaces, fabrics)
        if left:
            self.fail("cleanup", f"left behind: {', '.join(left)}")
        print(f"{title}: {time.time() - start:.1f}s")
        print(f"{self.ran - len(self.failures)} passed, {len(self.failures)} failed", flush=True)
        self.exit()


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
    vt.require_root()
    lc.exit_on_signals()
    start = time.time()
    checks = Checks()
    namespaces, fabrics = [], []
    for tag, containers, host, part in PARTS:
        print(f"=== {tag}: host {'on' if host else 'off (default)'}, "
              + ", ".join(f"{c[0]} {' '.join(c[1:])}" for c in containers), flush=True)
        with vt.Topology(tag=tag) as topo:
            try:
                eps, ports = build(topo, containers, host=host)
            except vt.CommandError as e:
                checks.fail(f"{tag} topology", str(e))
                continue
            finally:
                namespaces += topo.namespaces
                fabrics += topo.fabrics
            for name, fn in part:
                checks.run(name, fn, topo, eps, ports)
    checks.finish("beyond macvlan", start, namespaces, fabrics)


if __name__ == "__main__":
    main()
