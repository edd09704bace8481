"""vnet-bench --cni works: the vnet plugin and the reference macvlan plugin
both measured at every size (ADD and DEL latency, containers per second in
parallel), ratios computed, the table printed, nothing left behind.

Tiny sizes (--containers 1,3, 3 samples, 5 at once). Never asserts a speed:
the machine may be shared and slow. Exit 77 (skip) without root.
VNET_CNI_PLUGIN names the vnet plugin (meson passes the build tree's).
"""
import glob
import sys

import benchrun
from benchrun import positive

SIZES = [1, 3]
SAMPLES = 3
PARALLEL = 5


def latency_problems(where, lat, samples):
    if lat["samples"] != samples or len(lat["runs_ms"]) != samples:
        return [f"{where}: {lat['samples']} samples, want {samples}"]
    if not (positive(lat["p50_ms"]) and positive(lat["p99_ms"]) and lat["p99_ms"] >= lat["p50_ms"]):
        return [f"{where}: p50/p99 {lat['p50_ms']}/{lat['p99_ms']}"]
    return []


def main():
    if (skip := benchrun.skip_without_root()) is not None:
        return skip
    args = ["--cni", "--containers", ",".join(map(str, SIZES)), "--samples", str(SAMPLES), "--parallel",
            str(PARALLEL)]
    if len(sys.argv) > 2 and sys.argv[1] == "--cni-plugin":  # by hand: another plugin to compare
        args += ["--cni-plugin", sys.argv[2]]
    ipam_before = set(glob.glob("/tmp/vnet-bench-ipam-*"))
    r = benchrun.run(args, "cni", "cni", timeout=150)
    c, problems = r.section, r.problems
    plugins = c.get("plugins", {})
    if not (plugins.get("vnet") and plugins.get("reference")):
        problems.append(f"plugins not both named: {plugins}")
    got = [s["containers"] for s in c.get("by_size", [])]
    if got != SIZES:
        problems.append(f"sizes measured {got}, want {SIZES}")
    for s in c.get("by_size", []):
        n = s["containers"]
        for op in ("add", "del"):
            for system in ("vnet", "reference"):
                problems += latency_problems(f"{n} containers {op} {system}", s[op][system], SAMPLES)
            for ratio in ("ratio_p50_vnet_reference", "ratio_p99_vnet_reference"):
                if not positive(s[op][ratio]):
                    problems.append(f"{n} containers {op}: no {ratio}")
        par = s.get("parallel", {})
        if par.get("containers") != PARALLEL:
            problems.append(f"{n} containers: parallel wave of {par.get('containers')}, want {PARALLEL}")
        for system in ("vnet", "reference"):
            e = par.get(system, {})
            for k in ("add_per_s", "del_per_s"):
                if not positive(e.get(k)):
                    problems.append(f"{n} containers parallel {system}: no {k}")
            for k in ("add_latency", "del_latency"):
                if k in e:
                    problems += latency_problems(f"{n} containers parallel {system} {k}", e[k], PARALLEL)
                else:
                    problems.append(f"{n} containers parallel {system}: no {k}")
        for ratio in ("ratio_add_per_s_vnet_reference", "ratio_del_per_s_vnet_reference"):
            if not positive(par.get(ratio)):
                problems.append(f"{n} containers parallel: no {ratio}")
        if not isinstance(s.get("target_met"), bool):
            problems.append(f"{n} containers: no target verdict")
    for k in ("vnet", "reference"):
        if not positive(c.get("first_add_ms", {}).get(k)):
            problems.append(f"first ADD of {k} not timed")
    problems += benchrun.table_problems(r.stdout, ("vnet p50/p99", "reference p50/p99", f"{PARALLEL} containers at once",
                                                   "target (at or below"))
    # Everything it built is gone: namespaces, the fabric's pins, the
    # host-local dataDirs.
    problems += benchrun.leftover_problems(r.prefix)
    leaked_dirs = set(glob.glob("/tmp/vnet-bench-ipam-*")) - ipam_before
    if leaked_dirs:
        problems.append(f"host-local dataDirs left behind: {sorted(leaked_dirs)}")
    return benchrun.verdict("bench-cni", problems, "both plugins at every size, latency and containers per second; nothing left")


if __name__ == "__main__":
    sys.exit(main())
