"""Helpers for the ipvlan-family namespace tests (test_ipvlan_*.py), on top of
vnettest.py (namespaces, fabrics, teardown) and l2checks.py (checks, stats).

Topology (build): vnettest.build_l2's switch, ext and host with no containers,
plus IPv6 on ext and the uplink, a fabric attached on up0 with the ipvlan
mode and flag asked for, and ipvlan ports c1.. created by
`vnetctl port add --netns NS --ip V4/24 --ip V6/64`:

    ext 198.18.0.100, 2001:db8:1::100 --- [sw: br0, hairpin on/off] --- up0 in host 198.18.0.1, 2001:db8:1::1
                                                                          |  vnet fabric (ipvlan ports)
                                                      cN: eth0 198.18.0.(10+N)/24, 2001:db8:1:0:N::1/64

Every port's IPv6 address (and the host's) ends in the same 24 bits, so they
all share one solicited-node multicast group (ff02::1:ff00:1): a fabric that
delivered a Neighbour Solicitation by its multicast address instead of its
target would hand each NS to every port.
"""
import contextlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import l2checks as lc
import vnettest as vt
import test_beyond_macvlan as tbm

NET = vt.NET                 # 198.18.0
NET6 = "2001:db8:1"          # the /64 of the uplink's segment
EXT4, EXT6 = f"{NET}.100", f"{NET6}::100"
HOST4, HOST6 = f"{NET}.1", f"{NET6}::1"
PY = "/usr/bin/python3"      # Debian's python3-scapy lives there
BROADCAST = "ff:ff:ff:ff:ff:ff"


def v4(i):
    return f"{NET}.{10 + i}"


def v6(i):
    return f"{NET6}:0:{i}::1"


def skip(why):
    print(f"SKIP: {why}", file=sys.stderr, flush=True)
    sys.exit(77)


def which(tool):
    """The path of a program, looking in the sbin directories too."""
    found = shutil.which(tool)
    if found:
        return found
    for d in ("/usr/sbin", "/sbin"):
        if os.access(os.path.join(d, tool), os.X_OK):
            return os.path.join(d, tool)
    return None


def require_tools(*tools):
    """Exits 77 naming the first missing program (or Python module 'scapy')."""
    for tool in tools:
        if tool == "scapy":
            p = subprocess.run([PY, "-c", "import scapy.layers.inet"], capture_output=True)
            if p.returncode != 0:
                skip("python3-scapy is not installed (scripts/install-deps.sh)")
        elif not which(tool):
            skip(f"{tool} is not installed (scripts/install-deps.sh)")


# -- topology -------------------------------------------------------------------------
class Fabric:
    """One built topology: topo (a vt.Topology), the fabric name, the uplink
    MAC, and ports {role: port dict from `vnetctl -j port add`}."""

    def __init__(self, topo, fabric, ports):
        self.topo, self.fabric, self.ports = topo, fabric, ports
        self.uplink_mac = mac_of(topo, "host", "up0")
        self.ext_mac = mac_of(topo, "ext", "eth0")

    def dev(self, role):
        return self.ports[role]["name"]

    def port_doc(self, role):
        return port_doc(self.topo, self.fabric, self.dev(role))


def port_doc(topo, fabric, dev):
    """The port's entry in `vnetctl -j show FABRIC` (by device name)."""
    found = [p for p in lc.fabric_doc(topo, fabric)["ports"] if p["name"] == dev]
    assert len(found) == 1, f"vnetctl show: {len(found)} ports named {dev}"
    return found[0]


def build(topo, mode, flag, count, hairpin=False, attach_extra=(), port_extra=None, addresses=True):
    """Switch, ext, host, a fabric `--type ipvlan --ipvlan-mode MODE
    --ipvlan-flag FLAG` on up0, and count ipvlan ports c1..cN (with their
    addresses unless addresses is False). port_extra: {role: [more port add
    args]}. Returns a Fabric."""
    vt.build_l2(topo, "none", "bridge", hairpin, containers=0)
    topo.ip("ext", "addr", "add", f"{EXT6}/64", "dev", "eth0", "nodad")
    topo.ip("host", "addr", "add", f"{HOST6}/64", "dev", "up0", "nodad")
    fabric = topo.attach("up0", "--type", "ipvlan", "--ipvlan-mode", mode, "--ipvlan-flag", flag, *attach_extra)
    ports = {}
    for i in range(1, count + 1):
        role = f"c{i}"
        ports[role] = add_port(topo, fabric, role, [v4(i) + "/24", v6(i) + "/64"] if addresses else [],
                               *(port_extra or {}).get(role, ()))
    fab = Fabric(topo, fabric, ports)
    wait_ready(topo, list(ports))
    return fab


def add_port(topo, fabric, role, ips, *extra):
    ns = topo.netns(role)
    args = ["port", "add", "--fabric", fabric, "--netns", ns]
    for a in ips:
        args += ["--ip", a]
    return topo.vnetctl(*args, *extra, json_out=True)


def mac_of(topo, role, ifname):
    return lc.link_json(topo, role, ifname)["address"].lower()


def addresses(topo, role, ifname="eth0", family="inet6"):
    """[(address, prefixlen, scope, flags)] of role's ifname."""
    doc = json.loads(topo.ip(role, "-j", "-f", family, "addr", "show", "dev", ifname).stdout or "[]")
    out = []
    for link in doc:
        for a in link.get("addr_info", []):
            flags = [k for k in ("tentative", "dadfailed", "nodad", "optimistic") if a.get(k)]
            out.append((a["local"], a["prefixlen"], a.get("scope"), flags))
    return out


def wait_ready(topo, roles, timeout=6.0):
    """Carrier up (vt.wait_dad) and no IPv6 address still tentative on any
    role's eth0; returns {role: [addresses still tentative]} (empty when ready)."""
    vt.wait_dad(topo, roles)
    left = {}
    deadline = time.time() + timeout
    for role in roles:
        while True:
            pending = [a for a, _, _, f in addresses(topo, role) if "tentative" in f and "dadfailed" not in f]
            if not pending or time.time() >= deadline:
                break
            time.sleep(0.1)
        if pending:
            left[role] = pending
    return left


def link_local(topo, role, ifname="eth0"):
    found = [a for a, _, scope, _ in addresses(topo, role, ifname) if scope == "link"]
    return found


def set_switch_hairpin(topo, on):
    topo.ip("sw", "link", "set", "swup", "type", "bridge_slave", "hairpin", "on" if on else "off")


# -- reachability ----------------------------------------------------------------------
def ping(topo, role, dst, count=2, timeout=1, iface=None):
    """True if any of count echo requests is answered."""
    argv = ["ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", str(timeout)]
    if ":" in dst and "%" not in dst:
        argv.insert(1, "-6")
    if iface:
        argv += ["-I", iface]
    p = topo.exec(role, *argv, dst, check=False, timeout=30)
    return p.returncode == 0


def arping(topo, role, ifname, dst, timeout=1):
    """The MAC that answered an ARP request for dst, or None."""
    p = topo.exec(role, "arping", "-c", "1", "-w", str(timeout), "-I", ifname, dst, check=False, timeout=30)
    m = re.search(r"bytes from ([0-9a-fA-F:]{17})", p.stdout)  # Debian's arping (Habets)
    return m.group(1).lower() if p.returncode == 0 and m else None


def ndisc6(topo, role, ifname, target, tries=2):
    """The MAC in the Neighbour Advertisement for target, or None (ndisc6)."""
    p = topo.exec(role, "ndisc6", "-n", "-r", str(tries), "-w", "700", target, ifname, check=False, timeout=30)
    m = re.search(r"Target link-layer address:\s*([0-9A-Fa-f:]{17})", p.stdout)
    return m.group(1).lower() if m else None


def forget(topo, roles):
    vt.flush_neighbours(topo, roles)


def expect(results):
    """results: [(description, got, want)]; prints each, asserts all match."""
    bad = []
    for what, got, want in results:
        mark = "" if got == want else "   <-- WRONG"
        print(f"  {what}: {got}{'' if got == want else f' (want {want})'}{mark}", flush=True)
        if got != want:
            bad.append(f"{what}: {got}, want {want}")
    assert not bad, "; ".join(bad)


# -- counters ------------------------------------------------------------------------------
def drops(fab, reason):
    """{device: drops[reason]} over the fabric's devices (ports and uplink)."""
    doc = fab.topo.vnetctl("stats", json_out=True)
    return {s["device"]: s["drops"][reason] for s in doc["stats"] if s["fabric"] == fab.fabric}


def drops_grew(before, after):
    return {d: after[d] - before.get(d, 0) for d in after if after[d] != before.get(d, 0)}


# -- captures ------------------------------------------------------------------------------
class Tcpdump:
    """tcpdump -e -n (one line per frame) on role's ifname with a filter;
    direction 'in', 'out' or 'inout'. stop() returns the lines."""

    def __init__(self, topo, role, ifname, expr, direction="in", verbose=False):
        self.where = f"{role}/{ifname}"
        argv = ["ip", "netns", "exec", topo.ns(role), "tcpdump", "-i", ifname, "-Q", direction, "-n", "-e", "-l",
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
        out = lc.interrupt(self.proc)
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


# -- crafted frames --------------------------------------------------------------------------
_SCAPY = r"""
import sys
from scapy.layers.inet import IP, UDP, ICMP
from scapy.layers.inet6 import IPv6, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw
from scapy.sendrecv import sendp
frames = eval(sys.argv[2])
sendp(frames if isinstance(frames, list) else [frames], iface=sys.argv[1], verbose=False)
"""


def scapy_send(topo, role, ifname, expr):
    """Sends the frames a Python expression builds (scapy names in scope) from role's ifname."""
    p = vt.run(["ip", "netns", "exec", topo.ns(role), PY, "-c", _SCAPY, ifname, expr], check=False, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"scapy in {role} failed: {p.stderr.strip()[-300:]}")


def marker_udp4(src_mac, dst_mac, src_ip, dst_ip, marker, count=1):
    """A scapy expression: count UDP/IPv4 frames carrying framecount's marker."""
    return (f"[Ether(src={src_mac!r}, dst={dst_mac!r}) / IP(src={src_ip!r}, dst={dst_ip!r}) / "
            f"UDP(sport=40000, dport=40001) / Raw(b'VNFC{marker};') for _ in range({count})]")


def solicited_node(addr):
    """(group address, group MAC) of addr's solicited-node multicast group."""
    low = int(ipaddress.IPv6Address(addr)) & 0xFFFFFF
    group = ipaddress.IPv6Address(int(ipaddress.IPv6Address("ff02::1:ff00:0")) | low)
    b = group.packed
    return str(group), "33:33:" + ":".join(f"{x:02x}" for x in b[12:])


# -- run ------------------------------------------------------------------------------------
Checks = tbm.Checks  # lc.Checks that counts what passed; finish() below


def finish(checks, title, start, topos):
    """Checks.finish over every namespace and fabric of topos: leak check, summary, exit."""
    checks.finish(title, start, [n for t in topos for n in t.namespaces], [f for t in topos for f in t.fabrics])


def tmpdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)
