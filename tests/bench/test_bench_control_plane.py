"""vnet-bench --control-plane works: every size measured, both systems, both
ways (in process and CLI), show/stats/detach reported, nothing left behind.

Tiny sizes (--ports 1,5, 5 samples). Never asserts a speed: the machine may
be shared and slow. Exit 77 (skip) without root, as the namespace tests do.
"""
import sys

import benchrun
from benchrun import positive

SIZES = [1, 5]
SAMPLES = 5


def main():
    if (skip := benchrun.skip_without_root()) is not None:
        return skip
    r = benchrun.run(["--control-plane", "--ports", ",".join(map(str, SIZES)), "--samples", str(SAMPLES)],
                     "control-plane", "control_plane", timeout=150)
    doc, cp, problems = r.doc, r.section, r.problems
    for key in ("kernel", "date", "command", "loadavg_before", "loadavg_after"):
        if doc and key not in doc:
            problems.append(f"JSON lacks {key}")
    got = [s["ports"] for s in cp.get("by_size", [])]
    if got != SIZES:
        problems.append(f"sizes measured {got}, want {SIZES}")
    for s in cp.get("by_size", []):
        for op in ("add", "del"):
            for how in ("in_process", "cli"):
                e = s[op][how]
                for system in ("vnet", "kernel"):
                    lat = e[system]
                    if lat["samples"] != SAMPLES or len(lat["runs_ms"]) != SAMPLES:
                        problems.append(f"{s['ports']} ports {op} {how} {system}: {lat['samples']} samples")
                    if not (positive(lat["p50_ms"]) and positive(lat["p99_ms"]) and lat["p99_ms"] >= lat["p50_ms"]):
                        problems.append(f"{s['ports']} ports {op} {how} {system}: p50/p99 {lat['p50_ms']}/{lat['p99_ms']}")
                if not positive(e["ratio_p50_vnet_kernel"]):
                    problems.append(f"{s['ports']} ports {op} {how}: no ratio")
    ss = cp.get("show_stats", {})
    if ss.get("ports") != SIZES[-1]:
        problems.append(f"show/stats at {ss.get('ports')} ports, want {SIZES[-1]}")
    for what in ("show", "stats"):
        for how in ("in_process", "cli"):
            if not positive(ss.get(what, {}).get(how, {}).get("p50_ms")):
                problems.append(f"{what} {how}: not measured")
    d = cp.get("detach", {})
    if d.get("ports") != SIZES[-1] or not positive(d.get("vnet_ms")) or not positive(d.get("kernel_ms")):
        problems.append(f"detach not measured: {d}")
    problems += benchrun.table_problems(r.stdout, ("vnet p50/p99", "detach of 5 ports"))
    problems += benchrun.leftover_problems(r.prefix)
    return benchrun.verdict("bench-control-plane", problems,
                            "every size, both systems, both ways; show, stats, detach; nothing left")


if __name__ == "__main__":
    sys.exit(main())
