"""vnet-bench --cni works: the vnet plugin and the reference macvlan plugin
both measured at every size (ADD and DEL latency, containers per second in
parallel), ratios computed, the table printed, nothing left behind.

Tiny sizes (--containers 1,3, 3 samples, 5 at once). Never asserts a speed:
the machine may be shared and slow. Exit 77 (skip) without root.
VNET_CNI_PLUGIN names the vnet plugin (meson passes the build tree's).
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

BENCH = os.environ.get("VNET_BENCH") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "userspace", "bench", "vnet-bench")
SIZES = [1, 3]
SAMPLES = 3
PARALLEL = 5


def positive(v):
    return isinstance(v, (int, float)) and v > 0


def latency_problems(where, lat, samples):
    if lat["samples"] != samples or len(lat["runs_ms"]) != samples:
        return [f"{where}: {lat['samples']} samples, want {samples}"]
    if not (positive(lat["p50_ms"]) and positive(lat["p99_ms"]) and lat["p99_ms"] >= lat["p50_ms"]):
        return [f"{where}: p50/p99 {lat['p50_ms']}/{lat['p99_ms']}"]
    return []


def main():
    if os.geteuid() != 0:
        print("SKIP: vnet-bench needs root", file=sys.stderr)
        return 77
    argv = [BENCH, "--cni", "--containers", ",".join(map(str, SIZES)), "--samples", str(SAMPLES), "--parallel",
            str(PARALLEL)]
    if len(sys.argv) > 2 and sys.argv[1] == "--cni-plugin":  # by hand: another plugin to compare
        argv += ["--cni-plugin", sys.argv[2]]
    ipam_before = set(glob.glob("/tmp/vnet-bench-ipam-*"))
    with tempfile.TemporaryDirectory(prefix="vnet-bench-cni-") as tmp:
        out = os.path.join(tmp, "cni.json")
        p = subprocess.Popen(argv + ["-j", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            stdout, stderr = p.communicate(timeout=150)
        except subprocess.TimeoutExpired:
            p.send_signal(2)  # SIGINT to our own child: it tears down, then exits
            stdout, stderr = p.communicate(timeout=60)
        prefix = f"vb{p.pid % 100000}n"
        sys.stdout.write(stdout)
        sys.stderr.write(stderr[-4000:])
        problems = []
        if p.returncode != 0:
            problems.append(f"vnet-bench --cni exited {p.returncode}")
        if "[cni]" not in stderr:
            problems.append("no progress on stderr")
        doc = {}
        if os.path.exists(out):
            with open(out) as f:
                doc = json.load(f)
        else:
            problems.append("no JSON written")
        c = doc.get("cni", {})
        if c.get("errors"):
            problems.append(f"errors: {c['errors']}")
        if doc and doc.get("complete") is not True:
            problems.append("run not complete")
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
                for r in ("ratio_p50_vnet_reference", "ratio_p99_vnet_reference"):
                    if not positive(s[op][r]):
                        problems.append(f"{n} containers {op}: no {r}")
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
            for r in ("ratio_add_per_s_vnet_reference", "ratio_del_per_s_vnet_reference"):
                if not positive(par.get(r)):
                    problems.append(f"{n} containers parallel: no {r}")
            if not isinstance(s.get("target_met"), bool):
                problems.append(f"{n} containers: no target verdict")
        for k in ("vnet", "reference"):
            if not positive(c.get("first_add_ms", {}).get(k)):
                problems.append(f"first ADD of {k} not timed")
        for text in ("vnet p50/p99", "reference p50/p99", f"{PARALLEL} containers at once", "target (at or below"):
            if text not in stdout:
                problems.append(f"the table lacks '{text}'")
        # Everything it built is gone: namespaces, the fabric's pins, the
        # host-local dataDirs.
        left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
        leaked = [n for n in left if n.startswith(prefix)]
        if leaked:
            problems.append(f"namespaces left behind: {leaked[:10]} ({len(leaked)})")
        pins = os.listdir("/sys/fs/bpf/vnet") if os.path.isdir("/sys/fs/bpf/vnet") else []
        leaked_pins = [n for n in pins if n.startswith(prefix)]
        if leaked_pins:
            problems.append(f"fabrics left behind: {leaked_pins}")
        leaked_dirs = set(glob.glob("/tmp/vnet-bench-ipam-*")) - ipam_before
        if leaked_dirs:
            problems.append(f"host-local dataDirs left behind: {sorted(leaked_dirs)}")
        if problems:
            print("FAIL:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
    print("bench-cni: both plugins at every size, latency and containers per second; nothing left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
