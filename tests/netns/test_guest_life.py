#!/usr/bin/env python3
"""Lifecycle of a vnet tap port under a real QEMU guest, and --allow-ip
against a guest that forges its IP (vnetkit.guest).

Standard topology (vnetkit.build_l2, bridge mode, no container) plus a tap
port (bridge mode). Checks, each reported on its own (all run):
  restart   a guest boots on the tap and pings ext; QEMU exits; the tap is
            still a port of the fabric (`vnetctl show`) and a second guest
            started on the same tap pings ext again;
  allow-ip  with `port set TAP --allow-ip IP/32` the guest still reaches ext
            from IP, while its pings from a second address it gives itself
            fail and raise the tap's drops.spoofed_ip; `--allow-ip none`
            lifts the rule;
  port-del  `vnetctl port del TAP` while a guest runs on it succeeds, the
            device is gone from the host namespace and from `vnetctl show`,
            and the guest's pings to ext fail from then on.
Exit 0 if none failed, 1 if any did, 77 if not root or tools are missing.
"""
import time

import vnetkit as vk
from vnetkit import guest as gk

MAC, IP = "02:76:6d:00:04:01", f"{vk.NET}.45"


def ping_ext(g):
    g.run("ip neigh flush all")
    return g.run(f"ping -c 2 -W 2 {vk.NET}.100 >/dev/null")[0] == 0


def ports(topo):
    return {p["name"] for p in vk.fabric_doc(topo, topo.fabrics[-1])["ports"]}


def check_restart(topo, kit, tap):
    with gk.Guest(kit, topo.host, MAC, f"{IP}/24", tap=tap, name="first") as g:
        g.wait_ready()
        first = ping_ext(g)
        status = g.stop()
    kept = tap in ports(topo) and topo.ip("host", "link", "show", tap, check=False).returncode == 0
    with gk.Guest(kit, topo.host, MAC, f"{IP}/24", tap=tap, name="second") as g:
        g.wait_ready()
        second = ping_ext(g)
    print(f"  first guest -> ext {first}; QEMU ended ({status}); tap kept {kept}; second guest -> ext {second}")
    assert first and kept and second, f"first {first}, tap kept {kept}, second {second}"


def check_allow_ip(topo, kit, tap):
    forged = f"{vk.NET}.46"
    drops = lambda: vk.port_stats(topo, tap)["drops"]["spoofed_ip"]  # noqa: E731
    topo.vnetctl("port", "set", tap, "--allow-ip", f"{IP}/32")
    try:
        with gk.Guest(kit, topo.host, MAC, f"{IP}/24", tap=tap, name="allow-ip") as g:
            g.wait_ready()
            g.run(f"ip addr add {forged}/24 dev eth0")
            own = ping_ext(g)
            before = drops()
            g.run("ip neigh flush all")
            from_forged = g.run(f"ping -c 3 -W 1 -I {forged} {vk.NET}.100 >/dev/null")[0] == 0
            grew = drops() - before
            topo.vnetctl("port", "set", tap, "--allow-ip", "none")
            lifted = g.run(f"ping -c 2 -W 2 -I {forged} {vk.NET}.100 >/dev/null")[0] == 0
    finally:
        topo.vnetctl("port", "set", tap, "--allow-ip", "none", check=False)
    print(f"  from its allowed IP -> ext {own}; from {forged} -> ext {from_forged}, drops.spoofed_ip +{grew}; "
          f"after --allow-ip none {lifted}")
    assert own and not from_forged and grew > 0 and lifted, \
        f"allowed {own}, forged {from_forged}, spoofed_ip +{grew}, lifted {lifted}"


def check_port_del(topo, kit, tap):
    with gk.Guest(kit, topo.host, MAC, f"{IP}/24", tap=tap, name="held") as g:
        g.wait_ready()
        before = ping_ext(g)
        deleted = topo.vnetctl("port", "del", tap, check=False)
        gone = topo.ip("host", "link", "show", tap, check=False).returncode != 0
        shown = tap in ports(topo)
        after = ping_ext(g)
    print(f"  guest -> ext {before}; port del exit {deleted.returncode} {deleted.stderr.strip()}; "
          f"device gone {gone}; still shown {shown}; guest -> ext afterwards {after}")
    assert before, "the guest could not reach ext before port del (harness broken)"
    assert deleted.returncode == 0 and gone and not shown and not after, \
        f"port del exit {deleted.returncode}, gone {gone}, shown {shown}, ping after {after}"


def main():
    kit = gk.prepare()
    checks = vk.Checks()
    start = time.time()
    with vk.Topology(tag="gl") as topo:
        vk.build_l2(topo, "vnet", "bridge", hairpin=False, containers=0)
        tap = vk.unique("glt")
        topo.vnetctl("port", "add", "--fabric", topo.fabrics[-1], "--tap", tap, "--mac", MAC, "--mode", "bridge")
        checks.run("restart", check_restart, topo, kit, tap)
        checks.run("allow-ip", check_allow_ip, topo, kit, tap)
        checks.run("port-del", check_port_del, topo, kit, tap)
    checks.finish("guest-life", start, [topo])


if __name__ == "__main__":
    main()
