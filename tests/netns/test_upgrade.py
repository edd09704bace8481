#!/usr/bin/python3
"""Upgrades across ABI changes: a fabric built by the last vnet of earlier
ABIs (2, 4 and 5, built here from this repository's history and cached in
the build tree) is taken over by this build's `vnetctl reload`, which
migrates the maps whose layout changed before the new programs go live.
ABI 3 is left out for CI's time (one old build fewer): every rule of
loader/migrate.cc's kMapRules applies to ABI 2 fabrics as to ABI 3 ones, and
ABI 2 -> 3 changed nothing an ABI 3 fabric would migrate differently (its
new maps start empty either way; vnet_config's former pad bytes are zero in
both); VNET_UPGRADE_ABIS="3" still runs it. For every ABI taken over, under traffic: zero ping and UDP loss, counters and the
MAC table kept, this build's new drop counters present, the netns cookie
written (the fabric stays this namespace's), exactly this build's pins. For
ABI 2, also: Asserted: zero ping and UDP loss during the takeover,
counters kept (and the new drop counters present), MAC table kept, the fabric
then does what only ABI 3 can (an IP-demux port), and detach leaves nothing;
`vnetctl apply` takes an older fabric over the same way.
A migration that cannot complete (the new objects do not load) leaves the old
datapath serving with its old maps."""
import os
import subprocess
import sys
import time

import vnetkit as vk
from vnetkit import Checks, PIN_ROOT, Topology, build_l2, ping, reap, require_root, spawn, udpseq

# The last commit of each earlier ABI (`git log -S'VNET_ABI_VERSION N' -- include/vnet/abi.h`).
OLD_ABIS = vk.OLD_ABIS
ABI2_COMMIT = OLD_ABIS[2]
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UDP_PORT = 40124

checks = Checks()


def old_vnetctl(abi=2):
    """$VNET_OLD_VNETCTL for ABI 2, or a build from git history (vnetkit)."""
    if abi == 2 and os.environ.get("VNET_OLD_VNETCTL"):
        return os.environ["VNET_OLD_VNETCTL"]
    return vk.old_vnetctl(abi)


def stats_by_device(t):
    return {s["device"]: s for s in t.vnetctl("stats", json_out=True)["stats"]}


def reload_under_traffic(t, fabric, c1, c2, procs, migrates, prefix):
    """Reloads fabric (an older ABI's) while ext pings c1 every 2 ms and c1
    sends c2 4000 sequenced datagrams: the reload migrates (check `migrates`),
    no ping and no datagram is lost (checks named after prefix)."""
    receiver = udpseq.receiver(t, "c2", c2, UDP_PORT)
    procs.append(receiver)
    pinger = spawn(t, "ext", "ping", "-i", "0.002", "-c", "1000", "-q", c1)
    udp = udpseq.sender(t, "c1", c2, UDP_PORT, 4000, 2000)
    procs += [pinger, udp]
    time.sleep(0.5)
    r = t.vnetctl("-j", "reload", fabric, check=False)
    checks.check(migrates, r.returncode == 0 and "vnet_stats" in r.stdout, r.stdout + r.stderr)
    out, _ = pinger.communicate(timeout=30)
    checks.check(f"{prefix}ping ext -> c1 every 2 ms across the migration: no loss", " 0% packet loss" in out,
                 out.strip().splitlines()[-2:])
    udp.wait(timeout=30)
    out, _ = receiver.communicate(timeout=40)
    checks.check(f"{prefix}UDP c1 -> c2 across the migration: zero lost", out.split()[:2] == ["4000", "4000"],
                 out.strip())


def takeover(abi, new):
    """A fabric of ABI `abi` taken over by this build under traffic."""
    old = old_vnetctl(abi)
    if not old:
        checks.check(f"ABI {abi}: commit {OLD_ABIS[abi][:7]} in this clone's history", False)
        return
    procs = []
    with Topology(f"u{abi}") as t:
        try:
            vk.fixture.VNETCTL = old
            eps = build_l2(t, "vnet", "bridge", hairpin=False, containers=2)
            fabric = t.fabrics[0]
            pins = f"{PIN_ROOT}/{fabric}"
            c1, c2 = eps["c1"][2], eps["c2"][2]
            checks.check(f"ABI {abi} fabric forwards", ping(t, "c1", c2) and ping(t, "ext", c1))
            old_stats = stats_by_device(t)
            vk.fixture.VNETCTL = new
            reload_under_traffic(t, fabric, c1, c2, procs, f"ABI {abi}: reload migrates the fabric",
                                 f"ABI {abi}: ")
            new_stats = stats_by_device(t)
            checks.check(f"ABI {abi}: counters kept",
                         all(d in new_stats and new_stats[d]["rx_packets"] >= old_stats[d]["rx_packets"] for d in old_stats),
                         (old_stats, new_stats))
            checks.check(f"ABI {abi}: this build's drop counters present",
                         all("storm" in s["drops"] and "dhcp" in s["drops"] and "reflected" in s["drops"]
                             for s in new_stats.values()), new_stats)
            checks.check(f"ABI {abi}: MAC table kept: forwarding after migration", ping(t, "c1", c2) and ping(t, "ext", c1))
            # vnet_storm is new in ABI 6: the migrated fabric has it, without limits until one is set.
            before = t.vnetctl("show", fabric, json_out=True)["fabrics"][0].get("storm_limit")
            t.vnetctl("fabric", "set", fabric, "--storm-limit", "500")
            after = t.vnetctl("show", fabric, json_out=True)["fabrics"][0].get("storm_limit")
            checks.check(f"ABI {abi}: the migrated fabric takes a storm limit", (before, after) == (0, 500),
                         (before, after))
            have = sorted(os.listdir(pins))
            ports = [p["ifindex"] for p in t.vnetctl("show", fabric, json_out=True)["fabrics"][0]["ports"]]
            maps = vk.fabric_map_names()
            want = maps | {"prog_port_tc", "link_uplink_tc", "link_uplink_egress"} | {f"link_port_{i}" for i in ports}
            checks.check(f"ABI {abi}: exactly this build's pins (nothing aside, nothing missing)",
                         set(have) >= want and not [p for p in have if p.endswith("_old") or p.endswith("_new")] and
                         not [p for p in have if p not in want and not p.startswith("vnet_")], have)
            again = t.vnetctl("reload", fabric, check=False)
            checks.check(f"ABI {abi}: a second reload is an ordinary one", again.returncode == 0 and
                         "migrated" not in again.stdout, again.stdout + again.stderr)
            t.vnetctl("detach", fabric)
            checks.check(f"ABI {abi}: detach leaves nothing", not os.path.exists(pins))
        finally:
            vk.fixture.VNETCTL = new
            reap(procs)


def main():
    require_root()
    new = vk.fixture.VNETCTL
    # VNET_UPGRADE_ABIS="3 4" picks the ABIs (debugging); by default 2, 4 and 5.
    only = [int(a) for a in os.environ.get("VNET_UPGRADE_ABIS", "2 4 5").split()]
    for abi in (3, 4, 5):
        if abi in only:
            takeover(abi, new)
    if 2 not in only:
        return checks.status()
    vk.fixture.VNETCTL = new
    old = old_vnetctl()
    if not old:
        print(f"SKIP: commit {ABI2_COMMIT[:7]} (the last ABI 2 vnet) is not in this clone's history")
        return 77
    procs = []
    with Topology("up") as t:
        try:
            vk.fixture.VNETCTL = old
            eps = build_l2(t, "vnet", "bridge", hairpin=False, containers=2)
            fabric = t.fabrics[0]
            c1, c2 = eps["c1"][2], eps["c2"][2]
            checks.check("ABI 2 fabric forwards", ping(t, "c1", c2) and ping(t, "ext", c1))
            old_stats = stats_by_device(t)
            vk.fixture.VNETCTL = new

            r = t.vnetctl("show", check=False)
            checks.check("this vnetctl does not misread the ABI 2 fabric before reload", fabric not in r.stdout, r.stdout)

            # A migration that cannot finish: the new objects fail to load
            # because a pinned map they reuse has a foreign layout.
            pins = f"{PIN_ROOT}/{fabric}"
            os.rename(f"{pins}/vnet_sources", f"{pins}/vnet_sources_saved")
            try:
                subprocess.run(["bpftool", "map", "create", f"{pins}/vnet_sources", "type", "hash", "key", "8",
                                "value", "8", "entries", "4", "name", "vnet_sources"], check=True)
                before = sorted(os.listdir(pins))
                r = t.vnetctl("reload", fabric, check=False)
                checks.check("failed migration refused with one line naming the map",
                             r.returncode != 0 and "vnet_sources" in r.stderr and r.stderr.count("\n") == 1, r.stderr)
                checks.check("failed migration restored every pin", sorted(os.listdir(pins)) == before,
                             (before, sorted(os.listdir(pins))))
                checks.check("failed migration: old datapath still forwards", ping(t, "c1", c2) and ping(t, "ext", c1))
            finally:
                os.unlink(f"{pins}/vnet_sources")
                os.rename(f"{pins}/vnet_sources_saved", f"{pins}/vnet_sources")
            vk.fixture.VNETCTL = old
            r = t.vnetctl("show", fabric, check=False)
            checks.check("failed migration: the ABI 2 vnetctl still reads its fabric", r.returncode == 0 and fabric in r.stdout,
                         r.stdout + r.stderr)
            vk.fixture.VNETCTL = new

            reload_under_traffic(t, fabric, c1, c2, procs, "reload migrates the ABI 2 fabric", "")

            new_stats = stats_by_device(t)
            checks.check("counters kept by the migration",
                         all(d in new_stats and new_stats[d]["rx_packets"] >= old_stats[d]["rx_packets"] for d in old_stats),
                         (old_stats, new_stats))
            checks.check("new drop counters present after migration",
                         all("spoofed_ip" in s["drops"] and "storm" in s["drops"] for s in new_stats.values()),
                         new_stats)
            checks.check("no pin left aside", not [p for p in os.listdir(pins) if p.endswith("_old")], os.listdir(pins))
            checks.check("MAC table kept: forwarding after migration", ping(t, "c1", c2) and ping(t, "ext", c1))
            again = t.vnetctl("reload", fabric, check=False)
            checks.check("a second reload is an ordinary one", again.returncode == 0 and "migrated" not in again.stdout,
                         again.stdout + again.stderr)

            # Something only ABI 3 has: an IP-demux port on the migrated fabric.
            ipns = t.netns("c3")
            r = t.vnetctl("port", "add", "--fabric", fabric, "--netns", ipns, "--type", "ipvlan",
                          "--ip", f"{vk.NET}.33/24", check=False)
            checks.check("IP-demux port added to the migrated fabric", r.returncode == 0, r.stderr)
            checks.check("IP-demux port reachable from the wire", r.returncode == 0 and ping(t, "ext", f"{vk.NET}.33"))

            vk.fixture.VNETCTL = old
            r = t.vnetctl("show", fabric, check=False)
            checks.check("the ABI 2 vnetctl refuses the migrated fabric cleanly", r.returncode != 0 and r.stderr.strip(),
                         r.stdout + r.stderr)
            vk.fixture.VNETCTL = new
            t.vnetctl("detach", fabric)
            checks.check("detach leaves nothing", not os.path.exists(pins))

            # `apply` takes over an older fabric the same way, then converges.
            vk.fixture.VNETCTL = old
            second = t.attach("up0")
            t.vnetctl("port", "add", "--fabric", second, "--netns", t.ns("c1"), "--ifname", "eth1", "--mode", "bridge")
            vk.fixture.VNETCTL = new
            conf = os.path.join(os.environ.get("VNET_UNIT_DIR", "/tmp"), f"upgrade-{os.getpid()}.conf")
            with open(conf, "w") as f:
                f.write(f'[fabric.{second}]\nuplink = "up0"\n\n[[fabric.{second}.port]]\n'
                        f'netns = "{t.ns("c1")}"\nifname = "eth1"\nmode = "bridge"\n')
            try:
                r = t.vnetctl("apply", conf, json_out=True)
                actions = r.get("actions", []) if isinstance(r, dict) else []
                checks.check("apply migrates an ABI 2 fabric instead of rebuilding it",
                             any(a.startswith(f"migrate fabric {second}") for a in actions) and
                             not any("attach" in a or "detach" in a for a in actions), actions)
                again = t.vnetctl("apply", conf, json_out=True)
                checks.check("a second apply changes nothing", again.get("actions") == [], again)
                shown = t.vnetctl("show", second, json_out=True)["fabrics"][0]
                checks.check("the migrated fabric kept its port", len(shown["ports"]) == 1, shown)
            finally:
                os.unlink(conf)
        finally:
            vk.fixture.VNETCTL = new
            reap(procs)
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
