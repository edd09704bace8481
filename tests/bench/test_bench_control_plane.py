"""vnet-bench --control-plane works: every size measured, both systems, both
ways (in process and CLI), show/stats/detach reported, nothing left behind.

Tiny sizes (--ports 1,5, 5 samples). Never asserts a speed: the machine may
be shared and slow. Exit 77 (skip) without root, as the namespace tests do.
"""
import json
import os
import subprocess
import sys
import tempfile

BENCH = os.environ.get("VNET_BENCH") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "userspace", "bench", "vnet-bench")
SIZES = [1, 5]
SAMPLES = 5


def positive(v):
    return isinstance(v, (int, float)) and v > 0


def main():
    if os.geteuid() != 0:
        print("SKIP: vnet-bench needs root", file=sys.stderr)
        return 77
    with tempfile.TemporaryDirectory(prefix="vnet-bench-cp-") as tmp:
        out = os.path.join(tmp, "cp.json")
        before = set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()
        p = subprocess.Popen([BENCH, "--control-plane", "--ports", ",".join(map(str, SIZES)), "--samples",
                              str(SAMPLES), "-j", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            stdout, stderr = p.communicate(timeout=150)
        except subprocess.TimeoutExpired:
            p.send_signal(2)  # SIGINT to our own child: it tears down, then exits
            stdout, stderr = p.communicate(timeout=60)
        prefix = f"vb{p.pid % 100000}n"
        sys.stdout.write(stdout)
        sys.stderr.write(stderr[-4000:])
        assert p.returncode == 0, f"vnet-bench --control-plane exited {p.returncode}"
        assert "[control-plane]" in stderr, "no progress on stderr"
        with open(out) as f:
            doc = json.load(f)
        cp = doc["control_plane"]
        problems = []
        if cp.get("errors"):
            problems.append(f"errors: {cp['errors']}")
        if doc.get("complete") is not True:
            problems.append("run not complete")
        for key in ("kernel", "date", "command", "loadavg_before", "loadavg_after"):
            if key not in doc:
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
        if "vnet p50/p99" not in stdout or "detach of 5 ports" not in stdout:
            problems.append("the table is missing from stdout")
        # Everything it built is gone: namespaces and the fabric's pins.
        after = set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()
        leaked = [n for n in after - before if n.startswith(prefix)]
        if leaked:
            problems.append(f"namespaces left behind: {leaked}")
        pins = os.listdir("/sys/fs/bpf/vnet") if os.path.isdir("/sys/fs/bpf/vnet") else []
        leaked_pins = [n for n in pins if n.startswith(prefix)]
        if leaked_pins:
            problems.append(f"fabrics left behind: {leaked_pins}")
        if problems:
            print("FAIL:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
    print("bench-control-plane: every size, both systems, both ways; show, stats, detach; nothing left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
