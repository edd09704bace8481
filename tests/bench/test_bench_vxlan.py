"""vnet-bench --vxlan works: vnet and kernel macvlan, each on the same pair of
VXLAN devices, both carried TCP (iperf3) and 64-byte frames from container A
on host A to container B on host B (datagrams counted by B's stack), the
JSON holds both systems and the vnet/macvlan ratios and target verdicts, and
nothing is left behind (namespaces, fabric pins, links, iperf3 servers).

Quick mode (1 repetition, 0.5 s, 1 s of TCP). Never asserts a speed: the
machine may be shared and slow. Exit 77 (skip) without root.
"""
import subprocess
import sys

import benchrun
from benchrun import positive

SYSTEMS = ("vnet", "macvlan")


def root_links():
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}


def main():
    if (skip := benchrun.skip_without_root()) is not None:
        return skip
    links_before = root_links()
    r = benchrun.run(["--vxlan", "--quick"], "vxlan", "vxlan", timeout=100)
    v, problems, prefix = r.section, r.problems, r.prefix
    systems = v.get("systems", {})
    for name in SYSTEMS:
        s = systems.get(name)
        if s is None:
            problems.append(f"{name} not in the JSON")
            continue
        if len(s.get("runs", [])) != 1:
            problems.append(f"{name}: {len(s.get('runs', []))} runs, want 1")
        if not positive(s.get("tcp_gbps", {}).get("median")):
            problems.append(f"{name}: no TCP throughput ({s.get('tcp_gbps')})")
        pps = s.get("pps", {}).get("64", {})
        if not positive(pps.get("delivered_pps", {}).get("median")):
            problems.append(f"{name}: no 64-byte frame delivered in container B ({pps.get('delivered_pps')})")
        # What was delivered crossed the underlay: B's VXLAN device
        # decapsulated at least that many.
        rx = pps.get("b_vx0_rx_pps", {}).get("median")
        got = pps.get("delivered_pps", {}).get("median")
        if positive(got) and not (positive(rx) and rx >= got * 0.99):
            problems.append(f"{name}: delivered {got} pps but B's vx0 received {rx}")
    if not isinstance(systems.get("vnet", {}).get("xdp_mode"), str):
        problems.append("vnet's XDP mode on the VXLAN device not recorded")
    ratios = v.get("ratios", {}).get("vnet/macvlan", {})
    for metric in ("tcp_gbps", "pps_64"):
        if not positive(ratios.get(metric, {}).get("median")):
            problems.append(f"no vnet/macvlan ratio for {metric}: {ratios.get(metric)}")
    verdicts = {t.get("metric"): t.get("met") for t in v.get("targets", [])}
    if set(verdicts) != {"tcp_gbps", "pps_64"} or not all(isinstance(m, bool) for m in verdicts.values()):
        problems.append(f"target verdicts: {verdicts}")
    problems += benchrun.table_problems(r.stdout, ("VXLAN (cross-host)", "tcp Gbit/s", "64B Mpps delivered",
                                                   "target tcp_gbps"))
    # Everything it built is gone.
    problems += benchrun.leftover_problems(prefix)
    new_links = root_links() - links_before
    mine = [l for l in new_links if l in ("ul0", "vx0", "mvx", "gi", "go") or prefix in l]
    if mine:
        problems.append(f"links left in the root namespace: {mine}")
    servers = benchrun.iperf3_servers(prefix)
    if servers:
        problems.append(f"iperf3 servers left running: {servers}")
    return benchrun.verdict("bench-vxlan", problems,
                            "vnet and macvlan carried TCP and 64-byte frames across the VXLAN underlay; nothing left")


if __name__ == "__main__":
    sys.exit(main())
