"""Frame captures while a test sends: tcpdump per namespace (text lines,
parsed (src, dst, VLAN) tuples, or pcap read back into frame keys), and
AF_PACKET listeners that count the Neighbour Solicitations a stack is given.
Every capture is stopped whatever happens."""
import collections
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from .fixture import PY
from .frames import TEST_ETHERTYPE, frame_key, read_pcap


def interrupt(proc, timeout=10):
    """SIGINT to a running tool (tcpdump, ping) so it prints its summary;
    returns its stdout, killing it if it does not end in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


class Tcpdump:
    """tcpdump on role's ifname with a filter, direction 'in', 'out' or
    'inout'; by default one line per frame (-e -l), else the options given
    (e.g. -w FILE). Returns once the filter is in place; stop() returns the
    non-empty lines it printed."""

    def __init__(self, topo, role, ifname, expr, direction="in", verbose=False, options=("-e", "-l")):
        self.where = f"{role}/{ifname}"
        argv = ["ip", "netns", "exec", topo.ns(role), "tcpdump", "-i", ifname, "-Q", direction, "-n", *options,
                "--immediate-mode"]
        if verbose:
            argv.append("-v")
        self.proc = subprocess.Popen(argv + [expr], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = []
        for line in self.proc.stderr:  # "listening on ..." once the filter is in place
            seen.append(line)
            if "listening on" in line:
                return
        self.proc.wait()
        raise AssertionError(f"tcpdump on {self.where} did not start: {''.join(seen)}")

    def stop(self):
        out = interrupt(self.proc)
        return [line for line in out.splitlines() if line.strip()]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@contextlib.contextmanager
def sniffing(topo, where, expr, direction="in", verbose=False):
    """where: {name: (role, ifname)}. Captures while the body runs; the
    yielded dict is filled with {name: [lines]} on the way out."""
    dumps, result = {}, {}
    try:
        for name, (role, ifname) in where.items():
            dumps[name] = Tcpdump(topo, role, ifname, expr, direction, verbose)
        yield result
        time.sleep(0.4)  # the last frames land
        for name, d in dumps.items():
            result[name] = d.stop()
    finally:
        for d in dumps.values():
            d.kill()


def src_macs(lines):
    """Source MACs of tcpdump -e lines (the second word)."""
    return [line.split()[1].lower() for line in lines if len(line.split()) > 2]


class Capture(Tcpdump):
    """Incoming frames of one ethertype, tagged (802.1Q) or not, on a
    namespace's eth0. stop() returns [(src MAC, dst MAC, VLAN id or None)]."""

    def __init__(self, topo, role, ethertype):
        self.role = role
        super().__init__(topo, role, "eth0", f"ether proto {ethertype} or (vlan and ether proto {ethertype})")

    def stop(self):
        frames = []
        for line in super().stop():
            words = line.split()
            if len(words) < 4:
                continue
            vlan = re.search(r"\bvlan (\d+)", line)
            frames.append((words[1].lower(), words[3].rstrip(",").lower(), int(vlan.group(1)) if vlan else None))
        return frames


def capture_during(topo, roles, ethertype, action):
    """Runs action() while capturing on every role's eth0; {role: frames}.
    Every capture is stopped whatever happens."""
    captures = []
    try:
        for role in roles:
            captures.append(Capture(topo, role, ethertype))
        action()
        time.sleep(0.3)  # let the last frames land
    finally:
        frames = {c.role: c.stop() for c in captures}
    return frames


class Sniffer(Tcpdump):
    """Incoming test frames (frames.test_frame) and ARP on an endpoint's
    interface, written as pcap so that payloads and ARP fields can be read;
    stop() returns a Counter of frames.frame_key."""

    def __init__(self, topo, eps, name, directory):
        role, ifname, _ = eps[name]
        self.path = os.path.join(directory, f"{name}.pcap")
        super().__init__(topo, role, ifname, f"ether proto {TEST_ETHERTYPE:#x} or arp",
                         options=("-U", "-s", "256", "-w", self.path))

    def stop(self):
        super().stop()
        return collections.Counter(k for k in map(frame_key, read_pcap(self.path)) if k)


def capture(topo, eps, receivers, action):
    """Runs action() while sniffing on every receiver endpoint; {receiver:
    Counter of frame keys}. Every tcpdump is stopped and the pcaps removed,
    whatever happens."""
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


# What a stack was given: an AF_PACKET socket bound to ETH_P_IPV6 sees frames
# where the protocol handlers do, after tc ingress (tcpdump's ETH_P_ALL tap on
# the uplink sits before vnet and would count what vnet took away). Counts the
# Neighbour Solicitations received, by target; prints JSON when stdin closes.
_NS_LISTENER = r"""
import ipaddress, json, os, select, socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
s.bind((sys.argv[1], 0x86DD))
s.setblocking(False)
print("ready", flush=True)
counts = {}
def drain():
    while True:
        try:
            f, addr = s.recvfrom(65536)
        except BlockingIOError:
            return
        if addr[2] == socket.PACKET_OUTGOING or len(f) < 78:
            continue
        if f[20] == 58 and f[54] == 135:  # no extension headers: NH ICMPv6, type NS
            t = str(ipaddress.IPv6Address(f[62:78]))
            counts[t] = counts.get(t, 0) + 1
while True:
    r, _, _ = select.select([s, sys.stdin], [], [])
    if s in r:
        drain()
    if sys.stdin in r and not os.read(sys.stdin.fileno(), 4096):
        break
drain()
print(json.dumps(counts), flush=True)
"""


@contextlib.contextmanager
def counting_ns(topo, where):
    """where: {name: (role, ifname)}. Counts the NS each receiver's stack is
    given while the body runs; fills the yielded dict with {name: {target: n}}."""
    procs, result = {}, {}
    try:
        for name, (role, ifname) in where.items():
            p = subprocess.Popen(["ip", "netns", "exec", topo.ns(role), PY, "-c", _NS_LISTENER, ifname],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs[name] = p
            line = p.stdout.readline()
            assert line.strip() == "ready", f"NS listener on {role}/{ifname} did not start: {p.stderr.read()}"
        yield result
        time.sleep(0.4)
        for name, p in procs.items():
            out, err = p.communicate(timeout=10)
            assert p.returncode == 0, f"NS listener {name} failed: {err}"
            result[name] = json.loads(out)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.communicate()
