"""Reachability matrices of build_l2's topology: every ordered pair of
endpoints probed with ping and arping from a clean slate, the matrix the spec
expects (spec/forwarding.md), and side-by-side text of several matrices."""
import concurrent.futures
import threading

from .probes import arping, ping
from .topology import flush_neighbours

ENDPOINTS = ("c1", "c2", "c3", "ext", "host")
CONTAINERS = ("c1", "c2", "c3")
KINDS = ("ping", "arping")


def pairs():
    return [(s, d) for s in ENDPOINTS for d in ENDPOINTS if s != d]


def probe(topo, eps, src, dst, kind, ping_timeout="0.5", arping_timeout=0.5):
    """One probe from a clean slate: every endpoint forgets its neighbours first,
    so the answer never rests on an ARP entry an earlier probe left."""
    flush_neighbours(topo, [eps[e][0] for e in ENDPOINTS])
    role, ifname, _ = eps[src]
    target = eps[dst][2]
    if kind == "ping":
        return ping(topo, role, target, timeout=ping_timeout)
    return arping(topo, role, ifname, target, timeout=arping_timeout)


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
