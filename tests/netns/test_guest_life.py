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
  reload    a guest pings ext every 50 ms (busybox ping takes fractional
            intervals) while the host runs `vnetctl reload` 5 times: every
            echo is answered (no loss, every sequence number once), all
            reloads fall inside the ping, and the tap's counters grew by at
            least the pings (a reset counter could not have: the reloads
            end before the ping does). Nothing to compare with on macvtap:
            the kernel has no reload;
  port-del  `vnetctl port del TAP` while a guest runs on it succeeds, the
            device is gone from the host namespace and from `vnetctl show`,
            and the guest's pings to ext fail from then on.
reload and port-del share one guest (one boot fewer: TCG boots are the
test's time).
Exit 0 if none failed, 1 if any did, 77 if not root or tools are missing.
"""
import re
import time

import vnetkit as vk
from vnetkit import guest as gk

MAC, IP = "02:76:6d:00:04:01", f"{vk.NET}.45"
RELOADS, PINGS, INTERVAL = 5, 200, 0.05  # 10 s of pings at nominal pace; TCG stretches it


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


def check_reload(topo, g, tap):
    fabric = topo.fabrics[-1]
    assert ping_ext(g), "the guest could not reach ext before the reloads (harness broken)"
    before = vk.port_stats(topo, tap)
    g.run(f"ping -c {PINGS} -i {INTERVAL} -W 2 {vk.NET}.100 >/tmp/reload.ping 2>&1 &")
    time.sleep(0.5)
    failures = []
    for _ in range(RELOADS):
        r = topo.vnetctl("reload", fabric, check=False)
        if r.returncode != 0:
            failures.append(r.stderr.strip())
        time.sleep(0.3)
    # Still pinging: every reload happened while echoes were in flight.
    overlapped = g.run("pidof ping >/dev/null")[0] == 0
    status, out = g.run("while pidof ping >/dev/null; do sleep 0.2; done; cat /tmp/reload.ping", timeout=120)
    after = vk.port_stats(topo, tap)
    summary = [line for line in out if "packets transmitted" in line]
    sent, got = (int(n) for n in re.findall(r"(\d+) packets", summary[0])) if summary else (0, 0)
    seqs = [int(m.group(1)) for m in (re.search(r"seq=(\d+)", line) for line in out) if m]
    dups = sum("DUP" in line for line in out)
    grew = {k: after[k] - before[k] for k in ("rx_packets", "tx_packets")}
    print(f"  {RELOADS} reloads {'ok' if not failures else failures}; all during the ping {overlapped}; "
          f"{sent} echoes sent, {got} answered, {len(set(seqs))} distinct seqs, {dups} duplicates; "
          f"tap counters +{grew}")
    assert not failures, f"reload failed: {failures}"
    assert overlapped, "the ping ended before the last reload (make PINGS larger)"
    assert sent == PINGS and got == PINGS, f"{sent} sent, {got} answered: lost {sent - got}; {summary}"
    assert sorted(seqs) == list(range(PINGS)) and dups == 0, \
        f"gaps {sorted(set(range(PINGS)) - set(seqs))[:10]}, duplicates {dups}"
    assert all(n >= PINGS for n in grew.values()), f"tap counters did not keep counting: {before} -> {after}"


def check_port_del(topo, g, tap):
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


def held_guest_checks(checks, topo, kit, tap):
    """reload, then port-del, on one guest; a guest that does not boot fails both."""
    try:
        with gk.Guest(kit, topo.host, MAC, f"{IP}/24", tap=tap, name="held") as g:
            g.wait_ready()
            checks.run("reload", check_reload, topo, g, tap)
            checks.run("port-del", check_port_del, topo, g, tap)
    except (TimeoutError, RuntimeError) as e:
        checks.check("reload, port-del: the guest boots", False, e)


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
        held_guest_checks(checks, topo, kit, tap)
    checks.finish("guest-life", start, [topo])


if __name__ == "__main__":
    main()
