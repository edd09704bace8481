#!/usr/bin/python3
"""vnet takes nothing it did not make, and gives back what it took (issue 10):
  - a failed `attach --force` puts back the foreign XDP program it removed
    (a generic-mode program on a macvlan uplink; `--xdp-mode native` then
    fails on it, after the foreign program was detached);
  - `apply` adopts no tap it did not create: a tap someone else made under the
    configured name is refused and left untouched (also by `down`), while a
    tap vnet itself created before being SIGKILLed is adopted by the next
    apply and deleted by `down`;
  - `detach` and `down` leave a fabric made by another ABI, and say so."""
import json
import os
import subprocess
import sys
import tempfile

from vnetkit import Checks, PIN_ROOT, VNETCTL, require_root, run, unique

checks = Checks()

FOREIGN_XDP = r'''
struct xdp_md;
__attribute__((section("xdp"), used)) int foreign_pass(struct xdp_md *ctx) { return 2; /* XDP_PASS */ }
char _license[] __attribute__((section("license"), used)) = "GPL";
'''


def vnetctl(ns, *args, env=None):
    return subprocess.run(["nsenter", f"--net=/run/netns/{ns}", VNETCTL, *args], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})), timeout=60)


def xdp_of(ns, dev):
    info = json.loads(run(["ip", "-n", ns, "-j", "-d", "link", "show", dev]).stdout)[0]
    return info.get("xdp", {})


def links(ns):
    return [l["ifname"] for l in json.loads(run(["ip", "-n", ns, "-j", "link", "show"]).stdout)]


def main():
    require_root()
    ns = unique("vtk")
    workdir = tempfile.mkdtemp(prefix="vnet-takeover-")
    fabrics = []
    run(["ip", "netns", "add", ns])
    try:
        # 1. attach --force that fails after removing a foreign XDP program.
        src, obj = os.path.join(workdir, "foreign.c"), os.path.join(workdir, "foreign.o")
        with open(src, "w") as f:
            f.write(FOREIGN_XDP)
        run(["clang", "-O2", "-target", "bpf", "-c", src, "-o", obj])
        # A macvlan has no native XDP: the uplink `--xdp-mode native` fails on.
        run(["ip", "-n", ns, "link", "add", "up0", "type", "veth", "peer", "name", "up0p"])
        run(["ip", "-n", ns, "link", "set", "up0", "up"])
        run(["ip", "-n", ns, "link", "set", "up0p", "up"])
        run(["ip", "-n", ns, "link", "add", "d0", "link", "up0p", "type", "macvlan", "mode", "bridge"])
        run(["ip", "-n", ns, "link", "set", "d0", "up"])
        run(["ip", "-n", ns, "link", "set", "dev", "d0", "xdpgeneric", "obj", obj, "sec", "xdp"])
        before = xdp_of(ns, "d0")
        checks.check("a foreign XDP program is on the uplink", before.get("prog", {}).get("name") == "foreign_pass", before)
        fabric = unique("tkf")
        fabrics.append(fabric)
        r = vnetctl(ns, "attach", "d0", "--fabric", fabric, "--xdp-mode", "native")
        checks.check("attach without --force refuses a foreign XDP program", r.returncode != 0 and "--force" in r.stderr,
                     r.stderr)
        r = vnetctl(ns, "attach", "d0", "--fabric", fabric, "--xdp-mode", "native", "--force",
                    env={"VNET_TEST_CHECKPOINTS": "1"})
        checks.check("attach --force removed the foreign program, then failed (no native XDP on a macvlan)",
                     r.returncode != 0 and "foreign XDP program removed" in r.stderr, r.stderr)
        after = xdp_of(ns, "d0")
        checks.check("the failed attach --force put the foreign program back, in generic mode",
                     after.get("prog", {}).get("id") == before.get("prog", {}).get("id") and after.get("mode") == before.get("mode"),
                     (before, after))
        checks.check("the failed attach left no pin", not os.path.exists(f"{PIN_ROOT}/{fabric}"))
        run(["ip", "-n", ns, "link", "set", "dev", "d0", "xdpgeneric", "off"])

        # 2. apply and taps.
        fabric = unique("tkt")
        fabrics.append(fabric)
        tap = unique("tkp")
        conf = os.path.join(workdir, "tap.toml")
        with open(conf, "w") as f:
            f.write(f'[fabric.{fabric}]\nuplink = "up0"\n\n[[fabric.{fabric}.port]]\ntap = "{tap}"\nmode = "vepa"\n')
        run(["ip", "-n", ns, "tuntap", "add", tap, "mode", "tap"])
        foreign_ifindex = json.loads(run(["ip", "-n", ns, "-j", "link", "show", tap]).stdout)[0]["ifindex"]
        r = vnetctl(ns, "apply", conf)
        checks.check("apply refuses a tap it did not create", r.returncode != 0 and "vnet did not create it" in r.stderr,
                     r.stdout + r.stderr)
        r = vnetctl(ns, "-j", "show", fabric)
        shown = json.loads(r.stdout)["fabrics"][0] if r.returncode == 0 else {}
        checks.check("the foreign tap is no port", not shown.get("ports"), shown)
        vnetctl(ns, "down")
        now = json.loads(run(["ip", "-n", ns, "-j", "link", "show", tap], check=False).stdout or "[{}]")[0]
        checks.check("down leaves the foreign tap (same device)", now.get("ifindex") == foreign_ifindex, now)
        run(["ip", "-n", ns, "link", "del", tap])

        # vnet's own tap, created by an apply killed before recording it.
        r = vnetctl(ns, "apply", conf, env={"VNET_TEST_CHECKPOINTS": "1"})
        lines = [l for l in r.stderr.splitlines() if l.startswith("checkpoint ")]
        kill_at = next((l.split()[1].rstrip(":") for l in lines if "tap created" in l), None)
        checks.check("apply passes a checkpoint right after creating the tap", r.returncode == 0 and kill_at, r.stderr)
        vnetctl(ns, "down")
        if kill_at:
            r = vnetctl(ns, "apply", conf, env={"VNET_TEST_KILL_AT": kill_at})
            checks.check("apply killed right after creating its tap", r.returncode == -9 and tap in links(ns), r.returncode)
            r = vnetctl(ns, "apply", conf)
            shown = json.loads(vnetctl(ns, "-j", "show", fabric).stdout)["fabrics"][0]
            checks.check("the next apply adopts the tap vnet created", r.returncode == 0 and
                         [p["name"] for p in shown["ports"]] == [tap], (r.stderr, shown))
            again = vnetctl(ns, "apply", conf)
            checks.check("and converges", "nothing to change" in again.stdout, again.stdout + again.stderr)
            pins = os.listdir(f"{PIN_ROOT}/{fabric}")
            checks.check("no pending note is left", not [p for p in pins if p.startswith("pending_tap")], pins)
            vnetctl(ns, "down")
            checks.check("down deletes the tap vnet created", tap not in links(ns), links(ns))

        # 3. Another ABI's fabric: detach and down leave it and say so.
        other = unique("tko")
        fabrics.append(other)
        r = vnetctl(ns, "attach", "up0", "--fabric", other)
        config = f"{PIN_ROOT}/{other}/vnet_config"
        dump = json.loads(run(["bpftool", "-j", "map", "lookup", "pinned", config, "key", "0", "0", "0", "0"]).stdout)
        value = [int(b, 16) for b in dump["value"]]
        cookie, this_abi = value[32:40], value[0]
        value[0] = 4  # abi_version, and the netns inode where ABI 4 kept it: as the ABI 4 vnet made it
        value[32:40] = list(os.stat(f"/run/netns/{ns}").st_ino.to_bytes(8, "little"))
        run(["bpftool", "map", "update", "pinned", config, "key", "0", "0", "0", "0", "value", *map(str, value)])
        r = vnetctl(ns, "detach", other)
        checks.check("detach leaves another ABI's fabric and says so", r.returncode != 0 and "ABI 4" in r.stderr and
                     "left as it is" in r.stderr and os.path.isdir(f"{PIN_ROOT}/{other}"), r.stderr)
        r = vnetctl(ns, "down")
        checks.check("down leaves another ABI's fabric and says so", r.returncode == 0 and f"left {other}" in r.stderr and
                     os.path.isdir(f"{PIN_ROOT}/{other}"), r.stderr)
        value[0] = this_abi
        value[32:40] = cookie
        run(["bpftool", "map", "update", "pinned", config, "key", "0", "0", "0", "0", "value", *map(str, value)])
        vnetctl(ns, "down")
        checks.check("with this ABI again, down removes it", not os.path.exists(f"{PIN_ROOT}/{other}"))
    finally:
        for fabric in fabrics:
            if os.path.exists(f"{PIN_ROOT}/{fabric}"):
                vnetctl(ns, "detach", fabric)
                run(["rm", "-rf", f"{PIN_ROOT}/{fabric}"], check=False)
        run(["ip", "netns", "del", ns], check=False)
        run(["rm", "-rf", workdir], check=False)
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
