#!/usr/bin/python3
"""Ports follow their uplink, as macvlan children follow their lower device,
with `vnetctl monitor` running: uplink down -> ports lose carrier and nothing
is forwarded; up -> restored; uplink MTU lowered -> port MTUs clamped; a port
MTU above the uplink's is refused; uplink deleted -> fabric defunct, no
crash, detach cleans up, and a recreated uplink can be attached again."""
import json
import os
import subprocess
import sys
import time

from vnetkit import Checks, PIN_ROOT, VNETCTL, Topology, build_l2, ping, require_root, wait_until

checks = Checks()


def link(t, role, dev):
    return json.loads(t.ip(role, "-j", "link", "show", dev).stdout)[0]


def main():
    require_root()
    with Topology("us") as t:
        eps = build_l2(t, "vnet", "bridge", hairpin=False, containers=2)
        fabric = t.fabrics[0]
        c1, c2 = eps["c1"][2], eps["c2"][2]
        monitor = subprocess.Popen(["nsenter", f"--net=/run/netns/{t.host}", VNETCTL, "monitor"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(0.3)
            checks.check("forwarding before", ping(t, "ext", c1) and ping(t, "c1", c2))

            t.ip("host", "link", "set", "up0", "down")
            no_carrier = wait_until(lambda: "NO-CARRIER" in link(t, "c1", "eth0")["flags"])
            checks.check("uplink down: container reports no carrier", no_carrier, str(link(t, "c1", "eth0")["flags"]))
            checks.check("uplink down: nothing forwarded", not ping(t, "c1", c2) and not ping(t, "ext", c1))
            show = t.vnetctl("show", fabric, json_out=True)["fabrics"][0]
            checks.check("uplink down: ports shown down", all(not p["up"] for p in show["ports"]), str(show["ports"]))

            t.ip("host", "link", "set", "up0", "up")
            carrier = wait_until(lambda: "LOWER_UP" in link(t, "c1", "eth0")["flags"])
            checks.check("uplink up: carrier back", carrier)
            # ARP entries that failed while down are retried: allow a few seconds.
            checks.check("uplink up: forwarding restored",
                         wait_until(lambda: ping(t, "c1", c2) and ping(t, "ext", c1), timeout=5))

            t.ip("host", "link", "set", "up0", "mtu", "1400")
            checks.check("uplink MTU lowered: container MTU clamped",
                         wait_until(lambda: link(t, "c1", "eth0")["mtu"] == 1400), str(link(t, "c1", "eth0")["mtu"]))

            # A port whose MTU exceeds the uplink's is refused and nothing changes.
            t.ip("host", "link", "add", "big0", "mtu", "9000", "type", "veth", "peer", "name", "big1")
            before = t.vnetctl("show", json_out=True)
            r = t.vnetctl("port", "add", "big0", "--fabric", fabric, check=False)
            checks.check("port MTU above the uplink refused",
                         r.returncode != 0 and "MTU 9000 exceeds" in r.stderr and r.stdout == "", r.stderr)
            checks.check("refusal changed nothing", t.vnetctl("show", json_out=True) == before)

            t.ip("host", "link", "del", "up0")
            defunct = wait_until(lambda: t.vnetctl("show", fabric, json_out=True)["fabrics"][0]["defunct"], timeout=10)
            checks.check("uplink deleted: fabric defunct", defunct)
            checks.check("uplink deleted: monitor still running", monitor.poll() is None)
            checks.check("uplink deleted: containers lose carrier",
                         wait_until(lambda: "NO-CARRIER" in link(t, "c2", "eth0")["flags"], timeout=10))
            r = t.vnetctl("stats", check=False)
            checks.check("stats still works on a defunct fabric", r.returncode == 0, r.stderr)
        finally:
            monitor.terminate()
            out, err = monitor.communicate(timeout=10)
        checks.check("monitor exits cleanly on SIGTERM", monitor.returncode == 0, err)
        checks.check("monitor reported the changes", "uplink down" in out and "MTU clamped" in out and "defunct" in out, out)

        r = t.vnetctl("detach", fabric, check=False)
        checks.check("detach of a defunct fabric", r.returncode == 0 and not os.path.exists(f"{PIN_ROOT}/{fabric}"), r.stderr)
        ports_left = [l for l in t.ip("host", "-o", "link").stdout.splitlines() if "vnp" in l]
        checks.check("detach removed the ports vnet created", not ports_left, str(ports_left))

        t.ip("host", "link", "add", "up0", "type", "veth", "peer", "name", "swup", "netns", t.ns("sw"))
        t.ip("sw", "link", "set", "swup", "master", "br0", "up")
        t.ip("host", "link", "set", "up0", "up")
        again = t.attach("up0")
        t.vnetctl("port", "add", "--fabric", again, "--netns", t.ns("c1"), "--ifname", "eth1", "--mode", "bridge")
        t.ip("c1", "addr", "add", "198.18.0.21/24", "dev", "eth1")
        checks.check("recreated uplink: attach and forward", wait_until(lambda: ping(t, "ext", "198.18.0.21")))
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
