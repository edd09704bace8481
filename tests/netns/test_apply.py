#!/usr/bin/python3
"""`vnetctl apply FILE`: the running fabrics become what FILE says, applying
twice changes nothing, a file with any error changes nothing (and names file,
line and field), an apply killed with SIGKILL at any point is finished by the
next one, and `vnetctl down` removes everything vnet created and nothing else."""
import json
import os
import random
import signal
import subprocess
import sys
import time

from vnetkit import Checks, PIN_ROOT, VNETCTL, Topology, build_l2, ping, require_root, temp_file, unique

checks = Checks()


def config(fabric, t, *, host, c2_mode, c2_hairpin, with_c3, with_tap, tap):
    text = f'''# written by test_apply.py
[fabric.{fabric}]
uplink = "up0"
host = {str(host).lower()}

[[fabric.{fabric}.port]]
netns = "{t.ns('c1')}"
mode = "bridge"
mac = "02:a9:00:00:00:01"

[[fabric.{fabric}.port]]
netns = "{t.ns('c2')}"
mode = "{c2_mode}"
hairpin = {str(c2_hairpin).lower()}
mac = "02:a9:00:00:00:02"
'''
    if with_c3:
        text += f'''
[[fabric.{fabric}.port]]
netns = "{t.ns('c3')}"
ifname = "eth0"
mode = "source"
sources = ["02:a9:00:00:00:01"]
'''
    if with_tap:
        text += f'''
[[fabric.{fabric}.port]]
tap = "{tap}"
mode = "vepa"
mac = "02:a9:00:00:00:0a"
'''
    return text


def snapshot(t, fabric):
    """What apply may change: vnet's view, the fabric's pins (other tests run
    beside this one), the links of every namespace."""
    links = {role: sorted(l["ifname"] for l in json.loads(t.ip(role, "-j", "link").stdout))
             for role in ("host", "c1", "c2", "c3")}
    pins = sorted(os.listdir(f"{PIN_ROOT}/{fabric}")) if os.path.isdir(f"{PIN_ROOT}/{fabric}") else []
    return t.vnetctl("show", json_out=True), links, pins


def state_matches(t, fabric, *, host, c2_mode, c2_hairpin, with_c3, with_tap, tap):
    """The running state is the config's: fabric, ports (mode, MAC, flags) and
    the devices behind them; nothing extra anywhere."""
    fabrics = t.vnetctl("show", json_out=True)["fabrics"]
    if [f["name"] for f in fabrics] != [fabric]:
        return f"fabrics {[f['name'] for f in fabrics]}"
    f = fabrics[0]
    if f["host"] != host or f["defunct"]:
        return f"host {f['host']} defunct {f['defunct']}"
    ports = {p["mac"]: p for p in f["ports"]}
    want = {"02:a9:00:00:00:01": ("bridge", False), "02:a9:00:00:00:02": (c2_mode, c2_hairpin)}
    if with_tap:
        want["02:a9:00:00:00:0a"] = ("vepa", False)
    got = {mac: (p["mode"], p["hairpin"]) for mac, p in ports.items() if p["mode"] != "source"}
    if got != want:
        return f"ports {got}, want {want}"
    sources = [p for p in f["ports"] if p["mode"] == "source"]
    if with_c3 != bool(sources) or (sources and sources[0]["sources"] != ["02:a9:00:00:00:01"]):
        return f"source ports {sources}"
    for role in ("c1", "c2") + (("c3",) if with_c3 else ()):
        if t.ip(role, "link", "show", "eth0", check=False).returncode != 0:
            return f"{role} has no eth0"
    if not with_c3 and t.ip("c3", "link", "show", "eth0", check=False).returncode == 0:
        return "c3 still has an eth0"
    host_links = [l["ifname"] for l in json.loads(t.ip("host", "-j", "link").stdout)]
    vnp = sorted(n for n in host_links if n.startswith("vnp"))
    if len(vnp) != 2 + with_c3:
        return f"host ends {vnp}: want {2 + with_c3}"
    if (tap in host_links) != with_tap:
        return f"tap present: {tap in host_links}"
    if sorted(n for n in os.listdir(PIN_ROOT) if n == fabric or n.startswith(f"{fabric}_")) != [fabric]:
        return "pins"
    return ""


def main():
    require_root()
    with Topology("ap") as t:
        build_l2(t, "none", "bridge", hairpin=False, containers=3)
        fabric = unique("apf")
        t.fabrics.append(fabric)
        tap = unique("aptap")
        a = dict(host=True, c2_mode="vepa", c2_hairpin=False, with_c3=False, with_tap=True, tap=tap)
        b = dict(host=False, c2_mode="bridge", c2_hairpin=True, with_c3=True, with_tap=False, tap=tap)
        file_a, file_b = temp_file(config(fabric, t, **a)), temp_file(config(fabric, t, **b))
        try:
            r = t.vnetctl("-j", "apply", file_a)
            checks.check("apply creates the fabric and its ports", state_matches(t, fabric, **a) == "",
                         state_matches(t, fabric, **a))
            t.ip("c1", "addr", "add", "198.18.0.11/24", "dev", "eth0")
            checks.check("host on from the file: the host reaches c1", ping(t, "host", "198.18.0.11"))
            again = t.vnetctl("apply", file_a, json_out=True)
            checks.check("applying twice changes nothing", again["actions"] == [], again)

            r = t.vnetctl("apply", file_b, json_out=True)
            checks.check("apply changes what differs", state_matches(t, fabric, **b) == "", state_matches(t, fabric, **b))
            checks.check("ports changed in place, not re-created",
                         not any(a.startswith(("remove port", "add port")) and t.ns("c2") in a for a in r["actions"]),
                         r["actions"])

            bad_files = {
                "syntax": ("[fabric.x\nuplink = ", ":1: syntax"),
                "unknown key": (config(fabric, t, **b) + 'colour = "blue"\n', "colour: unknown key"),
                "bad mode": (config(fabric, t, **b).replace('"bridge"', '"brdge"', 1), "mode: mode 'brdge'"),
                "bad mac": (config(fabric, t, **b).replace("02:a9:00:00:00:01", "02:a9:00:00:00", 1), "mac:"),
                "passthru beside others": (config(fabric, t, **b).replace('"bridge"', '"passthru"', 1),
                                           "passthru port must be the fabric's only port"),
                "missing uplink": (config(fabric, t, **b).replace('"up0"', '"nosuch0"'), "uplink: device nosuch0"),
                "missing netns": (config(fabric, t, **b).replace(t.ns("c3"), "nosuchns"), "no network namespace"),
            }
            for name, (text, expect) in bad_files.items():
                path = temp_file(text)
                try:
                    before = snapshot(t, fabric)
                    r = t.vnetctl("apply", path, check=False)
                    line_ok = r.stderr.startswith(f"vnetctl: apply {path}:") and r.stderr.count("\n") == 1
                    checks.check(f"bad file ({name}): refused, names file, line and field, changes nothing",
                                 r.returncode != 0 and line_ok and expect in r.stderr and r.stdout == ""
                                 and snapshot(t, fabric) == before, r.stderr)
                finally:
                    os.unlink(path)

            # SIGKILL at random points of an apply; the next apply converges.
            rng = random.Random(7)
            bad = []
            for i in range(12):
                target, target_file = (a, file_a) if i % 2 == 0 else (b, file_b)
                p = subprocess.Popen(["nsenter", f"--net=/run/netns/{t.host}", VNETCTL, "apply", target_file],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(0.0, 0.25))
                p.send_signal(signal.SIGKILL)
                p.wait()
                r = t.vnetctl("apply", target_file, check=False)
                problem = state_matches(t, fabric, **target) if r.returncode == 0 else r.stderr
                if problem:
                    bad.append(f"round {i}: {problem}")
            checks.check("SIGKILL during apply, 12 rounds: the next apply converges every time", not bad, bad)

            t.ip("host", "link", "add", "keepme0", "type", "veth", "peer", "name", "keepme1")
            r = t.vnetctl("down", check=False)
            host_links = [l["ifname"] for l in json.loads(t.ip("host", "-j", "link").stdout)]
            checks.check("down removes every fabric, pin, port device and tap vnet created",
                         r.returncode == 0 and t.vnetctl("show", json_out=True)["fabrics"] == []
                         and not os.path.exists(f"{PIN_ROOT}/{fabric}")
                         and not [n for n in host_links if n.startswith("vnp") or n == tap], host_links)
            checks.check("down leaves what vnet did not create",
                         "keepme0" in host_links and "up0" in host_links and ping(t, "ext", "198.18.0.1"))
        finally:
            os.unlink(file_a)
            os.unlink(file_b)
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
