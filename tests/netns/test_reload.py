#!/usr/bin/python3
"""`vnetctl reload` replaces a live fabric's programs without losing a packet:
a ping every 2 ms, a long TCP stream and a UDP stream with sequence numbers
run while it reloads 50 times; zero datagrams lost, no TCP reset, tables and
counters kept. A reload whose new objects cannot load leaves the running
datapath serving, untouched."""
import json
import os
import subprocess
import sys
import time

from vnetkit import Checks, PIN_ROOT, Topology, build_l2, ping, reap, require_root, spawn, udpseq

RELOADS = 50
UDP_PORT = 40123

checks = Checks()


def program_ids(fabric):
    """Program id behind each pinned link of the fabric."""
    ids = {}
    for name in sorted(os.listdir(f"{PIN_ROOT}/{fabric}")):
        if name.startswith("link_"):
            info = json.loads(subprocess.run(["bpftool", "-j", "link", "show", "pinned", f"{PIN_ROOT}/{fabric}/{name}"],
                                             capture_output=True, text=True, check=True).stdout)
            ids[name] = info["prog_id"]
    return ids


def main():
    require_root()
    procs = []
    with Topology("rl") as t:
        try:
            eps = build_l2(t, "vnet", "bridge", hairpin=False, containers=2)
            fabric = t.fabrics[0]
            c1, c2 = eps["c1"][2], eps["c2"][2]

            assert ping(t, "c1", c2) and ping(t, "ext", c1)
            stats_before = {s["device"]: s for s in t.vnetctl("stats", json_out=True)["stats"]}
            ids_before = program_ids(fabric)

            receiver = udpseq.receiver(t, "c2", c2, UDP_PORT)
            procs.append(receiver)
            iperf_srv = spawn(t, "c2", "iperf3", "-s", "-1", "-B", c2)
            procs.append(iperf_srv)
            time.sleep(0.5)
            pinger = spawn(t, "ext", "ping", "-i", "0.002", "-c", "2500", "-q", c1)
            pinger_local = spawn(t, "c2", "ping", "-i", "0.002", "-c", "2500", "-q", c1)
            tcp = spawn(t, "c1", "iperf3", "-c", c2, "-t", "6", "-J")
            udp = udpseq.sender(t, "c1", c2, UDP_PORT, 10000, 2000)
            procs += [pinger, pinger_local, tcp, udp]
            time.sleep(0.5)

            failures = []
            start = time.time()
            for i in range(RELOADS):
                r = t.vnetctl("reload", fabric, check=False)
                if r.returncode != 0:
                    failures.append(r.stderr.strip())
            took = time.time() - start
            checks.check(f"{RELOADS} reloads under load ({took:.1f}s)", not failures, failures[:3])

            out, _ = pinger.communicate(timeout=30)
            checks.check("ping ext -> c1 every 2 ms: no loss", " 0% packet loss" in out, out.strip().splitlines()[-2:])
            out, _ = pinger_local.communicate(timeout=30)
            checks.check("ping c2 -> c1 every 2 ms: no loss", " 0% packet loss" in out, out.strip().splitlines()[-2:])
            out, err = tcp.communicate(timeout=60)
            doc = json.loads(out) if out.strip().startswith("{") else {"error": err}
            retrans = doc.get("end", {}).get("sum_sent", {}).get("retransmits")
            checks.check("TCP stream survived (no reset, no error)", "error" not in doc and
                         doc["end"]["sum_received"]["bytes"] > 0, doc.get("error"))
            print(f"     TCP c1 -> c2: {doc.get('end', {}).get('sum_received', {}).get('bits_per_second', 0) / 1e9:.1f}"
                  f" Gbit/s, {retrans} retransmits")
            udp.wait(timeout=30)
            out, _ = receiver.communicate(timeout=40)
            got, expected = (int(x) for x in out.split())
            checks.check("UDP stream: zero datagrams lost", got == 10000 and expected == 10000, f"{got} of 10000 received")

            ids_after = program_ids(fabric)
            checks.check("every attachment runs a new program", all(ids_after[k] != ids_before[k] for k in ids_before),
                         (ids_before, ids_after))
            stats_after = {s["device"]: s for s in t.vnetctl("stats", json_out=True)["stats"]}
            checks.check("counters kept across reloads",
                         all(stats_after[d]["rx_packets"] >= stats_before[d]["rx_packets"] + 2000 for d in stats_before
                             if d != t.vnetctl("show", fabric, json_out=True)["fabrics"][0]["uplink"]),
                         (stats_before, stats_after))
            checks.check("tables kept: forwarding after reloads", ping(t, "c1", c2) and ping(t, "ext", c1))

            # New objects that cannot take over (here: an incompatible map
            # pinned where vnet_stats was) must leave the running datapath serving.
            pins = f"{PIN_ROOT}/{fabric}"
            os.rename(f"{pins}/vnet_stats", f"{pins}/vnet_stats_saved")
            try:
                subprocess.run(["bpftool", "map", "create", f"{pins}/vnet_stats", "type", "percpu_array", "key", "4",
                                "value", "8", "entries", "4", "name", "vnet_stats"], check=True)
                ids_live = program_ids(fabric)
                r = t.vnetctl("reload", fabric, check=False)
                checks.check("failed reload reports an error naming the map",
                             r.returncode != 0 and "vnet_stats" in r.stderr and r.stderr.count("\n") == 1, r.stderr)
                checks.check("failed reload touched no attachment", program_ids(fabric) == ids_live)
                checks.check("failed reload: datapath still forwards", ping(t, "c1", c2) and ping(t, "ext", c1))
            finally:
                os.unlink(f"{pins}/vnet_stats")
                os.rename(f"{pins}/vnet_stats_saved", f"{pins}/vnet_stats")
            checks.check("reload works again once the pins are sound", t.vnetctl("reload", fabric, check=False).returncode == 0)
        finally:
            reap(procs)
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
