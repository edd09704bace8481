#!/usr/bin/python3
"""Upgrades across ABI changes: a fabric built by the last vnet of each
earlier ABI (2, 3 and 4, built here from this repository's history and cached
in the build tree) is taken over by this build's `vnetctl reload`, which
migrates the maps whose layout changed before the new programs go live. For
every earlier ABI, under traffic: zero ping and UDP loss, counters and the
MAC table kept, this build's new drop counters present, the netns cookie
written (the fabric stays this namespace's), exactly this build's pins. For
ABI 2, also: Asserted: zero ping and UDP loss during the takeover,
counters kept (and the new drop counters present), MAC table kept, the fabric
then does what only ABI 3 can (an IP-demux port), and detach leaves nothing;
`vnetctl apply` takes an older fabric over the same way.
A migration that cannot complete (the new objects do not load) leaves the old
datapath serving with its old maps."""
import os
import shutil
import subprocess
import sys
import time

import vnettest
from udpseq import RECEIVER, SENDER
from vnettest import PIN_ROOT, Topology, build_l2, ping, require_root

# The last commit of each earlier ABI (`git log -S'VNET_ABI_VERSION N' -- include/vnet/abi.h`).
OLD_ABIS = vnettest.OLD_ABIS
ABI2_COMMIT = OLD_ABIS[2]
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UDP_PORT = 40124

checks = []


def check(name, ok, detail=""):
    checks.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + str(detail)}")


def old_vnetctl(abi=2):
    """$VNET_OLD_VNETCTL for ABI 2, or a build from git history (vnettest)."""
    if abi == 2 and os.environ.get("VNET_OLD_VNETCTL"):
        return os.environ["VNET_OLD_VNETCTL"]
    return vnettest.old_vnetctl(abi)


def in_ns(t, role, *argv):
    return subprocess.Popen(["ip", "netns", "exec", t.ns(role), *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def stats_by_device(t):
    return {s["device"]: s for s in t.vnetctl("stats", json_out=True)["stats"]}


def takeover(abi, new):
    """A fabric of ABI `abi` taken over by this build under traffic."""
    old = old_vnetctl(abi)
    if not old:
        check(f"ABI {abi}: commit {OLD_ABIS[abi][:7]} in this clone's history", False)
        return
    procs = []
    with Topology(f"u{abi}") as t:
        try:
            vnettest.VNETCTL = old
            eps = build_l2(t, "vnet", "bridge", hairpin=False, containers=2)
            fabric = t.fabrics[0]
            pins = f"{PIN_ROOT}/{fabric}"
            c1, c2 = eps["c1"][2], eps["c2"][2]
            check(f"ABI {abi} fabric forwards", ping(t, "c1", c2) and ping(t, "ext", c1))
            old_stats = stats_by_device(t)
            vnettest.VNETCTL = new
            receiver = in_ns(t, "c2", "/usr/bin/python3", "-c", RECEIVER, c2, str(UDP_PORT))
            procs.append(receiver)
            assert receiver.stdout.readline().strip() == "ready"
            pinger = in_ns(t, "ext", "ping", "-i", "0.002", "-c", "1000", "-q", c1)
            udp = in_ns(t, "c1", "/usr/bin/python3", "-c", SENDER, c2, str(UDP_PORT), "4000", "2000")
            procs += [pinger, udp]
            time.sleep(0.5)
            r = t.vnetctl("-j", "reload", fabric, check=False)
            check(f"ABI {abi}: reload migrates the fabric", r.returncode == 0 and "vnet_stats" in r.stdout,
                  r.stdout + r.stderr)
            out, _ = pinger.communicate(timeout=30)
            check(f"ABI {abi}: ping ext -> c1 every 2 ms across the migration: no loss", " 0% packet loss" in out,
                  out.strip().splitlines()[-2:])
            udp.wait(timeout=30)
            out, _ = receiver.communicate(timeout=40)
            check(f"ABI {abi}: UDP c1 -> c2 across the migration: zero lost", out.split()[:2] == ["4000", "4000"],
                  out.strip())
            new_stats = stats_by_device(t)
            check(f"ABI {abi}: counters kept",
                  all(d in new_stats and new_stats[d]["rx_packets"] >= old_stats[d]["rx_packets"] for d in old_stats),
                  (old_stats, new_stats))
            check(f"ABI {abi}: this build's drop counters present",
                  all("dhcp" in s["drops"] and "reflected" in s["drops"] for s in new_stats.values()), new_stats)
            check(f"ABI {abi}: MAC table kept: forwarding after migration", ping(t, "c1", c2) and ping(t, "ext", c1))
            have = sorted(os.listdir(pins))
            ports = [p["ifindex"] for p in t.vnetctl("show", fabric, json_out=True)["fabrics"][0]["ports"]]
            maps = vnettest.fabric_map_names()
            want = maps | {"prog_port_tc", "link_uplink_tc", "link_uplink_egress"} | {f"link_port_{i}" for i in ports}
            check(f"ABI {abi}: exactly this build's pins (nothing aside, nothing missing)",
                  set(have) >= want and not [p for p in have if p.endswith("_old") or p.endswith("_new")] and
                  not [p for p in have if p not in want and not p.startswith("vnet_")], have)
            again = t.vnetctl("reload", fabric, check=False)
            check(f"ABI {abi}: a second reload is an ordinary one", again.returncode == 0 and
                  "migrated" not in again.stdout, again.stdout + again.stderr)
            t.vnetctl("detach", fabric)
            check(f"ABI {abi}: detach leaves nothing", not os.path.exists(pins))
        finally:
            vnettest.VNETCTL = new
            for p in procs:
                if p.poll() is None:
                    p.kill()
                p.wait()


def main():
    require_root()
    new = vnettest.VNETCTL
    # VNET_UPGRADE_ABIS="3 4" limits the run (debugging); by default every one.
    only = [int(a) for a in os.environ.get("VNET_UPGRADE_ABIS", "2 3 4").split()]
    for abi in (3, 4):
        if abi in only:
            takeover(abi, new)
    if 2 not in only:
        failed = checks.count(False)
        print(f"{len(checks) - failed} passed, {failed} failed")
        return 1 if failed else 0
    vnettest.VNETCTL = new
    old = old_vnetctl()
    if not old:
        print(f"SKIP: commit {ABI2_COMMIT[:7]} (the last ABI 2 vnet) is not in this clone's history")
        return 77
    procs = []
    with Topology("up") as t:
        try:
            vnettest.VNETCTL = old
            eps = build_l2(t, "vnet", "bridge", hairpin=False, containers=2)
            fabric = t.fabrics[0]
            c1, c2 = eps["c1"][2], eps["c2"][2]
            check("ABI 2 fabric forwards", ping(t, "c1", c2) and ping(t, "ext", c1))
            old_stats = stats_by_device(t)
            vnettest.VNETCTL = new

            r = t.vnetctl("show", check=False)
            check("this vnetctl does not misread the ABI 2 fabric before reload", fabric not in r.stdout, r.stdout)

            # A migration that cannot finish: the new objects fail to load
            # because a pinned map they reuse has a foreign layout.
            pins = f"{PIN_ROOT}/{fabric}"
            os.rename(f"{pins}/vnet_sources", f"{pins}/vnet_sources_saved")
            try:
                subprocess.run(["bpftool", "map", "create", f"{pins}/vnet_sources", "type", "hash", "key", "8",
                                "value", "8", "entries", "4", "name", "vnet_sources"], check=True)
                before = sorted(os.listdir(pins))
                r = t.vnetctl("reload", fabric, check=False)
                check("failed migration refused with one line naming the map",
                      r.returncode != 0 and "vnet_sources" in r.stderr and r.stderr.count("\n") == 1, r.stderr)
                check("failed migration restored every pin", sorted(os.listdir(pins)) == before,
                      (before, sorted(os.listdir(pins))))
                check("failed migration: old datapath still forwards", ping(t, "c1", c2) and ping(t, "ext", c1))
            finally:
                os.unlink(f"{pins}/vnet_sources")
                os.rename(f"{pins}/vnet_sources_saved", f"{pins}/vnet_sources")
            vnettest.VNETCTL = old
            r = t.vnetctl("show", fabric, check=False)
            check("failed migration: the ABI 2 vnetctl still reads its fabric", r.returncode == 0 and fabric in r.stdout,
                  r.stdout + r.stderr)
            vnettest.VNETCTL = new

            receiver = in_ns(t, "c2", "/usr/bin/python3", "-c", RECEIVER, c2, str(UDP_PORT))
            procs.append(receiver)
            assert receiver.stdout.readline().strip() == "ready"
            pinger = in_ns(t, "ext", "ping", "-i", "0.002", "-c", "1000", "-q", c1)
            udp = in_ns(t, "c1", "/usr/bin/python3", "-c", SENDER, c2, str(UDP_PORT), "4000", "2000")
            procs += [pinger, udp]
            time.sleep(0.5)
            r = t.vnetctl("-j", "reload", fabric, check=False)
            check("reload migrates the ABI 2 fabric", r.returncode == 0 and "vnet_stats" in r.stdout,
                  r.stdout + r.stderr)
            out, _ = pinger.communicate(timeout=30)
            check("ping ext -> c1 every 2 ms across the migration: no loss", " 0% packet loss" in out,
                  out.strip().splitlines()[-2:])
            udp.wait(timeout=30)
            out, _ = receiver.communicate(timeout=40)
            check("UDP c1 -> c2 across the migration: zero lost", out.split()[:2] == ["4000", "4000"], out.strip())

            new_stats = stats_by_device(t)
            check("counters kept by the migration",
                  all(d in new_stats and new_stats[d]["rx_packets"] >= old_stats[d]["rx_packets"] for d in old_stats),
                  (old_stats, new_stats))
            check("new drop counters present after migration",
                  all("spoofed_ip" in s["drops"] for s in new_stats.values()), new_stats)
            check("no pin left aside", not [p for p in os.listdir(pins) if p.endswith("_old")], os.listdir(pins))
            check("MAC table kept: forwarding after migration", ping(t, "c1", c2) and ping(t, "ext", c1))
            again = t.vnetctl("reload", fabric, check=False)
            check("a second reload is an ordinary one", again.returncode == 0 and "migrated" not in again.stdout,
                  again.stdout + again.stderr)

            # Something only ABI 3 has: an IP-demux port on the migrated fabric.
            ipns = t.netns("c3")
            r = t.vnetctl("port", "add", "--fabric", fabric, "--netns", ipns, "--type", "ipvlan",
                          "--ip", f"{vnettest.NET}.33/24", check=False)
            check("IP-demux port added to the migrated fabric", r.returncode == 0, r.stderr)
            check("IP-demux port reachable from the wire", r.returncode == 0 and ping(t, "ext", f"{vnettest.NET}.33"))

            vnettest.VNETCTL = old
            r = t.vnetctl("show", fabric, check=False)
            check("the ABI 2 vnetctl refuses the migrated fabric cleanly", r.returncode != 0 and r.stderr.strip(),
                  r.stdout + r.stderr)
            vnettest.VNETCTL = new
            t.vnetctl("detach", fabric)
            check("detach leaves nothing", not os.path.exists(pins))

            # `apply` takes over an older fabric the same way, then converges.
            vnettest.VNETCTL = old
            second = t.attach("up0")
            t.vnetctl("port", "add", "--fabric", second, "--netns", t.ns("c1"), "--ifname", "eth1", "--mode", "bridge")
            vnettest.VNETCTL = new
            conf = os.path.join(os.environ.get("VNET_UNIT_DIR", "/tmp"), f"upgrade-{os.getpid()}.conf")
            with open(conf, "w") as f:
                f.write(f'[fabric.{second}]\nuplink = "up0"\n\n[[fabric.{second}.port]]\n'
                        f'netns = "{t.ns("c1")}"\nifname = "eth1"\nmode = "bridge"\n')
            try:
                r = t.vnetctl("apply", conf, json_out=True)
                actions = r.get("actions", []) if isinstance(r, dict) else []
                check("apply migrates an ABI 2 fabric instead of rebuilding it",
                      any(a.startswith(f"migrate fabric {second}") for a in actions) and
                      not any("attach" in a or "detach" in a for a in actions), actions)
                again = t.vnetctl("apply", conf, json_out=True)
                check("a second apply changes nothing", again.get("actions") == [], again)
                shown = t.vnetctl("show", second, json_out=True)["fabrics"][0]
                check("the migrated fabric kept its port", len(shown["ports"]) == 1, shown)
            finally:
                os.unlink(conf)
        finally:
            vnettest.VNETCTL = new
            for p in procs:
                if p.poll() is None:
                    p.kill()
                p.wait()
    failed = checks.count(False)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
