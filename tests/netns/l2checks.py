"""Helpers for the L2 namespace tests (test_l2_matrix.py, test_l2_traffic.py),
on top of the shared fixture vnettest.py.

- reachability matrices: probe every ordered pair of endpoints of a build_l2
  topology with ping and arping, the spec's expected matrix, side-by-side text;
- vnet introspection: `vnetctl -j show/stats` of one fabric, pinned link ids,
  what is attached at tcx ingress (BPF_PROG_QUERY);
- frame captures: tcpdump per namespace while something sends;
- housekeeping: signals that still tear the topology down, leak checks,
  per-check failure collection.
"""
import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback

import vnettest as vt

ENDPOINTS = ("c1", "c2", "c3", "ext", "host")
CONTAINERS = ("c1", "c2", "c3")
KINDS = ("ping", "arping")


# -- housekeeping ------------------------------------------------------------
def exit_on_signals():
    """meson stops a test that overruns with SIGTERM: turn it (and SIGHUP) into
    SystemExit so every Topology's __exit__ still removes what the test made."""
    def handler(signum, _frame):
        raise SystemExit(f"killed by signal {signum}")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def leftovers(namespaces, fabrics):
    """What a finished Topology left behind: namespaces still listed, pins still present."""
    listed = set(vt.run(["ip", "netns", "list"]).stdout.split())
    left = [f"netns {n}" for n in namespaces if n in listed]
    left += [f"pin {vt.PIN_ROOT}/{f}" for f in fabrics if os.path.exists(f"{vt.PIN_ROOT}/{f}")]
    return left


class Checks:
    """Runs named checks, keeps going after a failure, reports them all."""

    def __init__(self):
        self.failures = []

    def run(self, name, fn, *args):
        print(f"--- {name}", flush=True)
        start = time.time()
        try:
            fn(*args)
        except (AssertionError, vt.CommandError) as e:
            self.failures.append(name)
            print(f"FAIL {name}: {e}", flush=True)
        except Exception:  # a bug in the test itself is a failure too, with its trace
            self.failures.append(name)
            print(f"FAIL {name}:\n{traceback.format_exc()}", flush=True)
        else:
            print(f"ok   {name} ({time.time() - start:.1f}s)", flush=True)

    def fail(self, name, why):
        self.failures.append(name)
        print(f"FAIL {name}: {why}", flush=True)

    def exit(self):
        if self.failures:
            print(f"FAILED: {', '.join(self.failures)}", flush=True)
            sys.exit(1)
        print("PASS", flush=True)
        sys.exit(0)


# -- reachability --------------------------------------------------------------
def pairs():
    return [(s, d) for s in ENDPOINTS for d in ENDPOINTS if s != d]


def probe(topo, eps, src, dst, kind, ping_timeout="0.5", arping_timeout=0.5):
    """One probe from a clean slate: every endpoint forgets its neighbours first,
    so the answer never rests on an ARP entry an earlier probe left."""
    vt.flush_neighbours(topo, [eps[e][0] for e in ENDPOINTS])
    role, ifname, _ = eps[src]
    target = eps[dst][2]
    if kind == "ping":
        return vt.ping(topo, role, target, timeout=ping_timeout)
    return vt.arping(topo, role, ifname, target, timeout=arping_timeout)


def probe_matrix(topo, eps, stop):
    """{kind: {(src, dst): bool}} for every ordered pair of distinct endpoints."""
    matrix = {kind: {} for kind in KINDS}
    for src, dst in pairs():
        for kind in KINDS:
            if stop.is_set():
                raise RuntimeError("stopped")
            matrix[kind][(src, dst)] = probe(topo, eps, src, dst, kind)
    return matrix


def run_parallel(jobs):
    """jobs: {key: callable}. Runs them in threads (each owns its namespaces,
    so they cannot see each other's frames) and returns {key: result}. On any
    error or signal the other jobs stop at their next probe."""
    stop = threading.Event()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs))
    try:
        futures = {key: pool.submit(fn, stop) for key, fn in jobs.items()}
        return {key: f.result() for key, f in futures.items()}
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


def spec_reachable(mode, hairpin, src, dst):
    """Whether src reaches dst (ping and arping alike) in the standard topology,
    per spec/forwarding.md (kernel macvlan semantics, host policy off)."""
    csrc, cdst = src in CONTAINERS, dst in CONTAINERS
    if not csrc and not cdst:
        return True  # ext <-> host: two stations on one switch
    if "ext" in (src, dst):
        return True  # wire <-> port works in every mode
    if csrc and cdst:
        # bridge: local delivery; vepa: only via a hairpinning switch; private:
        # the reflected ARP request goes back to its sender alone.
        return {"bridge": True, "vepa": hairpin, "private": False}[mode]
    if csrc:
        # port -> host: the host stack only sees what the switch reflects; a
        # private port's reflected broadcast goes back to that port, not the host.
        return hairpin and mode != "private"
    # host -> port: the host's ARP request must come back from the switch.
    return hairpin


def spec_matrix(mode, hairpin):
    return {kind: {p: spec_reachable(mode, hairpin, *p) for p in pairs()} for kind in KINDS}


def format_matrices(kind, named):
    """named: [(title, {(src, dst): bool})]. Prints them side by side, rows =
    source, columns = destination; Y reaches, . does not; a trailing ! marks a
    cell that differs from the first matrix."""
    width = 5 * len(ENDPOINTS) + 4
    header = "".join(d.rjust(5) for d in ENDPOINTS)
    lines = [(f"{kind:<8}" + "".join(title.center(width) for title, _ in named)).rstrip(),
             "src\\dst " + "".join(header.ljust(width) for _ in named)]
    reference = named[0][1]
    for src in ENDPOINTS:
        row = f"{src:<8}"
        for _, m in named:
            cells = ""
            for dst in ENDPOINTS:
                mark = "-" if src == dst else ("Y" if m[(src, dst)] else ".")
                if src != dst and m[(src, dst)] != reference[(src, dst)]:
                    mark += "!"
                cells += mark.rjust(5)
            row += cells.ljust(width)
        lines.append(row.rstrip())
    return "\n".join(lines)


def differing_cells(a, b):
    return [p for p in pairs() if a[p] != b[p]]


# -- vnet introspection ----------------------------------------------------------
def _vnetctl_one(topo, command, name, listing, key):
    """The one entry of `vnetctl -j COMMAND NAME`'s list `listing` whose `key` is NAME."""
    doc = topo.vnetctl(command, name, json_out=True)
    found = [entry for entry in doc[listing] if entry[key] == name]
    assert len(found) == 1, f"vnetctl {command} {name}: {len(found)} entries by that name: {doc}"
    return found[0]


def fabric_doc(topo, fabric):
    return _vnetctl_one(topo, "show", fabric, "fabrics", "name")


def port_stats(topo, device):
    """The counters of one port (or uplink) from `vnetctl -j stats DEV`."""
    return _vnetctl_one(topo, "stats", device, "stats", "device")


def link_json(topo, role, ifname):
    out = topo.ip(role, "-j", "-d", "link", "show", ifname).stdout
    return json.loads(out)[0]


def container_ports(topo, fabric):
    """{container role: port dict from `vnetctl show`}, matched by the
    container's eth0 MAC and by the veth peer ifindex."""
    ports = fabric_doc(topo, fabric)["ports"]
    found = {}
    for role in CONTAINERS:
        if role not in topo.roles:
            continue
        eth0 = link_json(topo, role, "eth0")
        match = [p for p in ports if p["mac"].lower() == eth0["address"].lower()]
        assert len(match) == 1, f"{role} eth0 {eth0['address']}: {len(match)} ports with that MAC in {ports}"
        assert match[0]["ifindex"] == eth0.get("link_index"), \
            f"{role}: port {match[0]['name']} ifindex {match[0]['ifindex']} is not eth0's peer {eth0.get('link_index')}"
        found[role] = match[0]
    return found


def host_exec(topo, *argv, check=True):
    """argv inside the host namespace with nsenter (keeps /sys/fs/bpf, like vnetctl)."""
    return vt.run(["nsenter", f"--net=/run/netns/{topo.host}", *argv], check=check)


def pinned_links(fabric):
    """{pin name: bpf link id} for the fabric's pinned links (uplink XDP/tcx, ports)."""
    links = {}
    root = f"{vt.PIN_ROOT}/{fabric}"
    for name in sorted(os.listdir(root)):
        p = vt.run(["bpftool", "-j", "link", "show", "pinned", f"{root}/{name}"], check=False)
        if p.returncode == 0 and p.stdout.strip():
            links[name] = json.loads(p.stdout)["id"]
    return links


def vnet_link_ids():
    """Ids of every bpf link on the machine whose program is one of vnet's."""
    links = json.loads(vt.run(["bpftool", "-j", "link", "show"]).stdout or "[]")
    names = prog_names()
    return {l["id"] for l in links if names.get(l.get("prog_id"), "").startswith("vnet_")}


def vnetctl_pids_in(netns):
    """Pids of running vnetctl processes inside the named network namespace."""
    want = os.stat(f"/run/netns/{netns}").st_ino
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            ino = os.stat(f"/proc/{pid}/ns/net").st_ino
        except OSError:
            continue
        if exe.startswith("vnetctl") and ino == want:
            pids.append(int(pid))
    return pids


# What BPF_PROG_QUERY reports for a device's tcx ingress hook, as JSON; run
# inside the device's namespace (ifindexes are per namespace). bpftool 7.1
# predates tcx (`bpftool net show` lists no tcx programs), so ask the kernel.
_TCX_QUERY = r"""
import ctypes, json, os, socket, sys
BPF_PROG_QUERY, BPF_TCX_INGRESS = 16, 46  # uapi linux/bpf.h
SYS_BPF = {"x86_64": 321, "aarch64": 280}[os.uname().machine]
ifindex = socket.if_nametoindex(sys.argv[1])
progs = (ctypes.c_uint32 * 64)()
links = (ctypes.c_uint32 * 64)()
attr = (ctypes.c_uint8 * 64)()
def put(off, ctype, value):
    ctype.from_buffer(attr, off).value = value
put(0, ctypes.c_uint32, ifindex)
put(4, ctypes.c_uint32, BPF_TCX_INGRESS)
put(16, ctypes.c_uint64, ctypes.addressof(progs))
put(24, ctypes.c_uint32, 64)
put(40, ctypes.c_uint64, ctypes.addressof(links))
libc = ctypes.CDLL(None, use_errno=True)
if libc.syscall(SYS_BPF, BPF_PROG_QUERY, ctypes.byref(attr), ctypes.sizeof(attr)) != 0:
    sys.exit(f"BPF_PROG_QUERY tcx ingress {sys.argv[1]}: errno {ctypes.get_errno()}")
n = ctypes.c_uint32.from_buffer(attr, 24).value
print(json.dumps({"prog_ids": list(progs[:n]), "link_ids": list(links[:n])}))
"""


def tcx_ingress(topo, dev):
    """{"prog_ids": [...], "link_ids": [...]} attached at tcx ingress of dev in the host namespace."""
    return json.loads(host_exec(topo, "/usr/bin/python3", "-c", _TCX_QUERY, dev).stdout)


def prog_names():
    """{prog id: name} of every loaded BPF program."""
    progs = json.loads(vt.run(["bpftool", "-j", "prog", "show"]).stdout or "[]")
    return {p["id"]: p.get("name", "") for p in progs}


def wait_until(predicate, timeout=3.0, interval=0.05):
    """Polls predicate until it is true or timeout passes; returns its last value."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() >= deadline:
            return value
        time.sleep(interval)


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


class Capture:
    """tcpdump on a namespace's eth0, incoming frames of one ethertype, tagged
    (802.1Q) or not. stop() returns [(src MAC, dst MAC, VLAN id or None)]."""

    def __init__(self, topo, role, ethertype):
        self.role = role
        expr = f"ether proto {ethertype} or (vlan and ether proto {ethertype})"
        self.proc = subprocess.Popen(["ip", "netns", "exec", topo.ns(role), "tcpdump", "-i", "eth0", "-Q", "in",
                                      "-n", "-e", "-l", "--immediate-mode", expr],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = []
        for line in self.proc.stderr:  # "listening on eth0, ..." once the filter is in place
            seen.append(line)
            if "listening on" in line:
                return
        self.proc.wait()
        raise AssertionError(f"tcpdump in {role} did not start: {''.join(seen)}")

    def stop(self):
        out = interrupt(self.proc)
        frames = []
        for line in out.splitlines():
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
