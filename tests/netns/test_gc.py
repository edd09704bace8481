#!/usr/bin/python3
"""Fabrics whose network namespace died, or whose uplink is gone (issue 10,
hole 6). A namespace holding a fabric is deleted without `detach`; new
namespaces are created until one reuses its inode (which used to make the new
namespace inherit the dead fabric). Asserted: the new namespace does not
inherit it (the fabric is keyed by the netns cookie), `show` lists it as
defunct with no uplink and no ports, `attach` of the same name collects it
and builds a working fabric, `gc` (text and JSON) removes dead fabrics of
every namespace -- one whose namespace is gone, a cls_bpf one (no pinned
links), and one in a live namespace whose uplink was deleted, whose port
device vnet created goes too -- and `down` collects them as well. After each,
nothing of a dead fabric is left under /sys/fs/bpf/vnet."""
import json
import os
import sys

from vnetkit import Checks, PIN_ROOT, VNETCTL, require_root, run, unique, wait_until

checks = Checks()
DEATH = {"timeout": 10.0, "interval": 0.1}  # how long a dead namespace's fabric takes to show it
namespaces = []
fabrics = []


def netns():
    name = unique("vgc")
    run(["ip", "netns", "add", name])
    namespaces.append(name)
    return name


def delete_netns(name):
    run(["ip", "netns", "del", name])
    namespaces.remove(name)


def inode(ns):
    return os.stat(f"/run/netns/{ns}").st_ino


def vnetctl(ns, *args, check=True, json_out=False):
    argv = ["nsenter", f"--net=/run/netns/{ns}", VNETCTL] + (["-j"] if json_out else []) + list(args)
    p = run(argv, check=check)
    return json.loads(p.stdout) if json_out and p.returncode == 0 else p


def fabric_with_port(tc_hook="auto", uplink="up0"):
    """A namespace with a veth uplink (peer in a second namespace), a fabric
    and one port vnet creates in a third. Returns (host, fabric, container)."""
    host, wire, cont = netns(), netns(), netns()
    run(["ip", "-n", host, "link", "add", uplink, "type", "veth", "peer", "name", "wire0", "netns", wire])
    run(["ip", "-n", host, "link", "set", uplink, "up"])
    run(["ip", "-n", wire, "link", "set", "wire0", "up"])
    fabric = unique("gcf")
    fabrics.append(fabric)
    vnetctl(host, "attach", uplink, "--fabric", fabric, "--tc-hook", tc_hook)
    vnetctl(host, "port", "add", "--fabric", fabric, "--netns", cont, "--mode", "bridge")
    return host, fabric, cont


def shown(ns, fabric):
    for f in vnetctl(ns, "show", json_out=True)["fabrics"]:
        if f["name"] == fabric:
            return f
    return None


def pinned(fabric):
    return os.path.exists(f"{PIN_ROOT}/{fabric}")


def main():
    require_root()
    try:
        # 1. A fabric in namespace A; A deleted without detach.
        a, dead, a_cont = fabric_with_port()
        a_ino = inode(a)
        before = shown(a, dead)
        checks.check("the fabric is live in its namespace", before and not before["defunct"] and len(before["ports"]) == 1,
                     before)
        delete_netns(a)
        delete_netns(a_cont)

        # 2. New namespaces until one reuses A's inode (the kernel reuses them quickly).
        b = None
        made = []
        for _ in range(40):
            n = netns()
            made.append(n)
            if inode(n) == a_ino:
                b = n
                break
        for n in made:
            if n != b:
                delete_netns(n)
        reused = b is not None
        if not reused:
            b = netns()
        print(f"     new namespace {'reuses' if reused else 'does not reuse'} the dead one's inode {a_ino}")
        checks.check("the dead fabric's uplink link reports no device (namespace cleanup done)",
                     wait_until(lambda: (shown(b, dead) or {}).get("defunct") is True, **DEATH), shown(b, dead))
        f = shown(b, dead)
        checks.check("show in the new namespace lists the dead fabric as defunct, not as its own",
                     f and f["defunct"] and f["uplink"] == "" and f["ports"] == [], f)
        text = vnetctl(b, "show").stdout
        checks.check("show (text) marks it DEFUNCT with no uplink", f"fabric {dead}: uplink <gone>" in text and "DEFUNCT" in text,
                     text)
        r = vnetctl(b, "show", dead, check=False)
        checks.check("the dead fabric cannot be named as this namespace's", r.returncode != 0 and "gc" in r.stderr, r.stderr)
        r = vnetctl(b, "detach", dead, check=False)
        checks.check("detach refuses it (not this namespace's), saying gc removes it",
                     r.returncode != 0 and "gc" in r.stderr and pinned(dead), r.stderr)

        # 3. attach of the same name in the new namespace collects it.
        run(["ip", "-n", b, "link", "add", "up0", "type", "veth", "peer", "name", "up0p"])
        run(["ip", "-n", b, "link", "set", "up0", "up"])
        run(["ip", "-n", b, "link", "set", "up0p", "up"])
        r = vnetctl(b, "attach", "up0", "--fabric", dead, check=False)
        checks.check("attach of the dead fabric's name collects it and attaches", r.returncode == 0, r.stderr)
        f = shown(b, dead)
        checks.check("the new fabric by that name is live, on the new uplink, with no inherited port",
                     f and not f["defunct"] and f["uplink"] == "up0" and f["ports"] == [], f)
        vnetctl(b, "detach", dead)
        checks.check("detach of the new fabric leaves nothing", not pinned(dead))

        # 4. gc: a dead fabric whose namespace is gone, a cls_bpf one
        # (found dead by its uplink program being gone, no pinned links),
        # and one in a live namespace whose uplink was deleted.
        c, gone1, c_cont = fabric_with_port()
        d, gone2, d_cont = fabric_with_port(tc_hook="cls_bpf")
        e, live_dead, e_cont = fabric_with_port()
        e_port = vnetctl(e, "show", live_dead, json_out=True)["fabrics"][0]["ports"][0]["name"]
        keep_host, keep, keep_cont = fabric_with_port()
        for n in (c, c_cont, d, d_cont):
            delete_netns(n)
        run(["ip", "-n", e, "link", "del", "up0"])
        checks.check("the three become dead", wait_until(lambda: all(
            (shown(b, x) or {}).get("defunct") for x in (gone1, gone2)), **DEATH), (shown(b, gone1), shown(b, gone2)))
        checks.check("a dead fabric of a live namespace is not listed elsewhere", shown(b, live_dead) is None)
        f = shown(e, live_dead)
        checks.check("its own namespace shows it defunct", f and f["defunct"], f)
        r = vnetctl(b, "gc")
        lines = r.stdout.splitlines()
        checks.check("gc (text) names each fabric it removed and why",
                     f"removed fabric {gone1}: its network namespace is gone" in lines and
                     f"removed fabric {gone2}: its network namespace is gone" in lines and
                     any(l.startswith(f"removed fabric {live_dead}: its uplink is gone") for l in lines), r.stdout)
        checks.check("gc leaves no pin of any dead fabric", not any(pinned(x) for x in (gone1, gone2, live_dead)),
                     os.listdir(PIN_ROOT) if os.path.isdir(PIN_ROOT) else [])
        links = run(["ip", "-n", e, "-o", "link", "show"]).stdout
        checks.check("gc deleted the port device vnet created in the live namespace", e_port not in links, links)
        checks.check("gc leaves a live fabric of another namespace alone",
                     pinned(keep) and shown(keep_host, keep) and not shown(keep_host, keep)["defunct"])
        r = vnetctl(b, "gc")
        checks.check("a second gc finds none of them", not any(x in r.stdout for x in (gone1, gone2, live_dead)), r.stdout)

        # 5. gc -j, and down, on fresh dead fabrics.
        g, gone3, g_cont = fabric_with_port()
        delete_netns(g)
        delete_netns(g_cont)
        wait_until(lambda: (shown(b, gone3) or {}).get("defunct"), **DEATH)
        doc = vnetctl(b, "gc", json_out=True)
        checks.check("gc -j lists the removed fabric and its reason",
                     {"fabric": gone3, "reason": "its network namespace is gone"} in doc.get("removed", []), doc)
        checks.check("gc -j left no pin", not pinned(gone3))
        h, gone4, h_cont = fabric_with_port(tc_hook="cls_bpf")
        delete_netns(h)
        delete_netns(h_cont)
        wait_until(lambda: (shown(b, gone4) or {}).get("defunct"), **DEATH)
        doc = vnetctl(b, "down", json_out=True)
        checks.check("down collects a dead fabric whose namespace is gone", gone4 in doc.get("removed", []) and
                     not pinned(gone4), doc)
        checks.check("down in one namespace leaves another's live fabric", pinned(keep))
        vnetctl(keep_host, "down")
        checks.check("down in its own namespace removes it", not pinned(keep))
    finally:
        for fabric in fabrics:
            if pinned(fabric):
                run(["rm", "-rf", f"{PIN_ROOT}/{fabric}"], check=False)
        for n in list(namespaces):
            run(["ip", "netns", "del", n], check=False)
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
