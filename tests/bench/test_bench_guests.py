"""vnet-bench --guests works: a QEMU guest on a vnet tap port and the same
guest on a kernel macvtap both carried TCP to and from the external host,
the JSON holds both systems' runs, the offloads of both devices and the
vnet/macvtap ratios, the table prints the ratio, and nothing is left behind
(namespaces, fabric pins, iperf3 servers, QEMU).

Quick mode (1 repetition of 3 s each way). Slow (two TCG boots): suite
'extra'. Never asserts a speed. Exit 77 (skip) without root or QEMU.
"""
import shutil
import sys

import benchrun
from benchrun import positive

SYSTEMS = ("vnet", "macvtap")
DIRECTIONS = ("guest_to_ext", "ext_to_guest")


def main():
    if (skip := benchrun.skip_without_root()) is not None:
        return skip
    if not shutil.which("qemu-system-x86_64"):
        print("SKIP: no qemu-system-x86_64", file=sys.stderr)
        return 77
    r = benchrun.run(["--guests", "--quick"], "guests", "guests", timeout=600)
    g, problems, prefix = r.section, r.problems, r.prefix
    systems = g.get("systems", {})
    for name in SYSTEMS:
        s = systems.get(name)
        if s is None:
            problems.append(f"{name} not in the JSON")
            continue
        for d in DIRECTIONS:
            runs = s.get(d, {}).get("runs", [])
            if len(runs) != 1 or not runs[0] or not positive(runs[0].get("mbit_s")):
                problems.append(f"{name} {d}: want one run with Mbit/s > 0, got {runs}")
            elif not positive(runs[0].get("qemu_cpu_pct")):
                problems.append(f"{name} {d}: QEMU's CPU share not measured: {runs[0]}")
        # QEMU negotiated offloads on the device (the kernel's defaults differ).
        if s.get("offloads", {}).get("tcp-segmentation-offload") not in ("on", "off"):
            problems.append(f"{name}: offloads not read: {s.get('offloads')}")
    ratios = g.get("ratios", {}).get("vnet/macvtap", {})
    for d in DIRECTIONS:
        if not positive(ratios.get(d, {}).get("median")):
            problems.append(f"no vnet/macvtap ratio for {d}: {ratios.get(d)}")
    problems += benchrun.table_problems(r.stdout, ("Guests:", "guest->ext Mbit/s", "vnet/macvtap guest->ext",
                                                   "vnet/macvtap ext->guest"))
    problems += benchrun.leftover_problems(prefix)
    if servers := benchrun.iperf3_servers(prefix):
        problems.append(f"iperf3 servers left running: {servers}")
    # Only vnet-bench boots from guest-kit-bench: any QEMU on it now is ours.
    if qemus := benchrun.processes(b"qemu-system-x86_64", b"guest-kit-bench"):
        problems.append(f"QEMU left running: {qemus}")
    return benchrun.verdict("bench-guests", problems,
                            "a guest on a vnet tap and on a macvtap carried TCP both ways; ratios printed; nothing left")


if __name__ == "__main__":
    sys.exit(main())
