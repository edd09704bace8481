#!/usr/bin/python3
"""TCP throughput through vnet and kernel macvlan (bridge mode), measured in
the same run on identical topologies (tests/netns/vnettest.py): port->port,
wire->port and port->wire, iperf3 runs interleaved between the two systems,
with the vnet/macvlan ratio taken run by run. Needs root; builds everything in
its own namespaces and removes it. Usage: compare-tcp.py [RUNS] [SECONDS]"""
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "netns"))
from vnettest import Topology, build_l2, require_root  # noqa: E402

PATHS = (("port->port", "c1", "c2"), ("wire->port", "ext", "c2"), ("port->wire", "c2", "ext"))


def iperf(topo, client, server, ip, seconds):
    srv = subprocess.Popen(["ip", "netns", "exec", topo.ns(server), "iperf3", "-s", "-1", "-B", ip],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.4)
        p = topo.exec(client, "iperf3", "-c", ip, "-t", str(seconds), "-J", check=False, timeout=seconds + 60)
        return json.loads(p.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9
    finally:
        if srv.poll() is None:
            srv.kill()
        srv.wait()


def main():
    require_root()
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    results = {(system, path): [] for system in ("vnet", "macvlan") for path, _, _ in PATHS}
    with Topology("cm") as tm, Topology("cv") as tv:
        systems = {"macvlan": (tm, build_l2(tm, "macvlan", "bridge", hairpin=False, containers=2)),
                   "vnet": (tv, build_l2(tv, "vnet", "bridge", hairpin=False, containers=2))}
        for i in range(runs):
            for path, client, server in PATHS:
                for system, (topo, eps) in systems.items():
                    results[(system, path)].append(iperf(topo, client, server, eps[server][2], seconds))
            print(f"run {i + 1}/{runs} done", file=sys.stderr, flush=True)
    print(f"{'path':12} {'vnet Gbit/s':>12} {'macvlan Gbit/s':>15} {'ratio (run by run)':>19}")
    for path, _, _ in PATHS:
        v, m = results[("vnet", path)], results[("macvlan", path)]
        ratio = statistics.median(a / b for a, b in zip(v, m))
        print(f"{path:12} {statistics.median(v):12.2f} {statistics.median(m):15.2f} {ratio:19.2f}")


if __name__ == "__main__":
    main()
