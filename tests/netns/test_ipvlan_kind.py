#!/usr/bin/python3
"""Changing a port's kind and its addresses' prefix lengths (issue 6): what
`port set --type`, `ip add` and `apply` do to the container side.

Usage: test_ipvlan_kind.py [l2|l3] (the fabric's --ipvlan-mode; default l2).

build_l2's switch, ext and host (IPv6 added), one fabric attached with the
default type (macvlan) and `--ipvlan-mode MODE --ipvlan-flag bridge`, and:
  k    `port add --netns NS --mode bridge`: the port whose kind changes;
       198.18.0.51/24 and 2001:db8:1::51/64, set in its namespace by hand
       while it is macvlan and with `vnetctl ip add` while it is ipvlan;
  m1   `port add --netns NS --mode bridge`: a macvlan sibling, .52 / ::52;
  s1   `port add --netns NS --ip .53/24 --ip ::53/64`: an ipvlan sibling;
  d    a veth vnet did not create (`port add DEV`), for the messages.

Checks:
  kind      k turned macvlan -> ipvlan -> macvlan with `port set --type`:
            after each step its container side is what `port add --netns`
            gives that kind (MAC, NOARP in l3, link-local, default routes),
            and it reaches ext and its sibling of the same kind by ping.
  dev       on d: `port set --type ipvlan` names the container's MAC and
            the uplink's; `--type macvlan` without --mac says to pass --mac;
            a refusal changes nothing.
  ip add    of an address the port has: "DEV already has ADDR"; another
            /PLEN on a port vnet created changes the container's address.
  apply     (a topology of its own) ips = ["198.18.0.5/24"] -> "/25": the
            container's address follows, ext still reaches it, and a second
            apply does nothing.
Exit 0 pass, 1 fail, 77 skip (not root, a tool missing).
"""
import ipaddress
import json
import os
import sys
import time

from vnetkit import ipvlan as it
import vnetkit as vk

NET, NET6 = vk.NET, it.NET6
ADDR = {"k": 51, "m1": 52, "s1": 53}


def a4(role):
    return f"{NET}.{ADDR[role]}"


def a6(role):
    return f"{NET6}::{ADDR[role]}"


def eui64(mac):
    b = bytes(int(x, 16) for x in mac.split(":"))
    iid = bytes([b[0] ^ 2]) + b[1:3] + b"\xff\xfe" + b[3:]
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid))


class Kind:
    def __init__(self, topo, mode):
        self.topo, self.mode = topo, mode
        vk.build_l2(topo, "none", "bridge", False, containers=0)
        topo.ip("ext", "addr", "add", f"{it.EXT6}/64", "dev", "eth0", "nodad")
        topo.ip("host", "addr", "add", f"{it.HOST6}/64", "dev", "up0", "nodad")
        self.fabric = topo.attach("up0", "--ipvlan-mode", mode, "--ipvlan-flag", "bridge")
        self.ports = {}
        for role in ("k", "m1"):
            self.ports[role] = topo.vnetctl("port", "add", "--fabric", self.fabric, "--netns", topo.netns(role),
                                            "--mode", "bridge", json_out=True)
            self.configure_by_hand(role)
        self.ports["s1"] = topo.vnetctl("port", "add", "--fabric", self.fabric, "--netns", topo.netns("s1"),
                                        "--ip", f"{a4('s1')}/24", "--ip", f"{a6('s1')}/64", json_out=True)
        # d: a veth pair of the operator's, host end dvnkNNNN in host.
        self.d_host = vk.unique("dvk")[:15]
        ns = topo.netns("d")
        topo.ip("host", "link", "add", self.d_host, "type", "veth", "peer", "name", "eth0", "netns", ns)
        topo.ip("d", "link", "set", "eth0", "address", "02:00:5e:51:00:0d", "up")
        self.ports["d"] = topo.vnetctl("port", "add", self.d_host, "--fabric", self.fabric, "--mode", "bridge",
                                       json_out=True)
        vk.wait_ready(topo, ["k", "m1", "s1"])
        self.uplink_mac = vk.mac_of(topo, "host", "up0")

    def configure_by_hand(self, role):
        self.topo.ip(role, "addr", "replace", f"{a4(role)}/24", "dev", "eth0")
        self.topo.ip(role, "addr", "replace", f"{a6(role)}/64", "dev", "eth0", "nodad")

    def dev(self, role):
        return self.ports[role]["name"]

    def port_doc(self, role):
        return it.port_doc(self.topo, self.fabric, self.dev(role))


def container_side(kx, role):
    """(MAC, NOARP, link-locals, default routes v4+v6 via eth0) of role's eth0."""
    t = kx.topo
    link = vk.link_json(t, role, "eth0")
    lls = sorted(a for a, _, scope, _ in vk.addresses(t, role) if scope == "link")
    routes = 0
    for family in ("-4", "-6"):
        doc = json.loads(t.ip(role, family, "-j", "route", "show", "default", "dev", "eth0").stdout or "[]")
        routes += len(doc)
    return link["address"].lower(), "NOARP" in link.get("flags", []), lls, routes


def reach(kx, a, b):
    vk.flush_neighbours(kx.topo, [a, b])
    return it.ping(kx.topo, a, a4(b)), it.ping(kx.topo, a, a6(b))


def reach_ext(kx, role):
    t = kx.topo
    vk.flush_neighbours(t, [role, "ext"])
    out = (it.ping(t, role, it.EXT4), it.ping(t, role, it.EXT6))
    vk.flush_neighbours(t, [role, "ext"])
    return out + (it.ping(t, "ext", a4(role)), it.ping(t, "ext", a6(role)))


def check_kind(kx):
    t = kx.topo
    k = kx.dev("k")
    l3 = kx.mode != "l2"
    results = []
    own_mac = kx.port_doc("k")["mac"].lower()
    results += [("macvlan: ext <-> k (v4, v6 both ways)", reach_ext(kx, "k"), (True,) * 4),
                ("macvlan: k -> m1", reach(kx, "k", "m1"), (True, True))]

    # -> ipvlan
    t.vnetctl("port", "set", k, "--type", "ipvlan")
    t.vnetctl("ip", "add", k, f"{a4('k')}/24")
    t.vnetctl("ip", "add", k, f"{a6('k')}/64")
    vk.wait_ready(t, ["k"])
    doc = kx.port_doc("k")
    vnet_ll = [a["address"].split("/")[0] for a in doc.get("addresses", []) if a.get("link_local")]
    mac, noarp, lls, routes = container_side(kx, "k")
    results += [("ipvlan: show type", doc.get("type"), "ipvlan"),
                ("ipvlan: show MAC is the uplink's", doc["mac"].lower(), kx.uplink_mac),
                ("ipvlan: vnet's link-local registered", len(vnet_ll), 1),
                ("ipvlan: container MAC is the uplink's", mac, kx.uplink_mac),
                ("ipvlan: container NOARP", noarp, l3),
                ("ipvlan: container link-locals are vnet's alone", lls, vnet_ll),
                ("ipvlan: container default routes (v4 + v6)", routes, 2 if l3 else 0),
                ("ipvlan: ext <-> k (v4, v6 both ways)", reach_ext(kx, "k"), (True,) * 4),
                ("ipvlan: k -> s1", reach(kx, "k", "s1"), (True, True)),
                ("ipvlan: s1 -> k", reach(kx, "s1", "k"), (True, True))]

    # -> macvlan: addresses first (the refusal says so), then the kind.
    p = t.vnetctl("port", "set", k, "--type", "macvlan", check=False)
    results.append(("macvlan with addresses: refused, says ip flush", p.returncode != 0 and "ip flush" in p.stderr,
                    True))
    t.vnetctl("ip", "flush", k)
    t.vnetctl("port", "set", k, "--type", "macvlan", "--mode", "bridge")  # it would start at vepa
    kx.configure_by_hand("k")
    vk.wait_ready(t, ["k"])
    doc = kx.port_doc("k")
    mac, noarp, lls, routes = container_side(kx, "k")
    first = int(mac.split(":")[0], 16)
    results += [("macvlan again: show type, mode", (doc.get("type"), doc.get("mode")), ("macvlan", "bridge")),
                ("macvlan again: container MAC is the port's", mac, doc["mac"].lower()),
                ("macvlan again: MAC not the uplink's nor m1's nor the old one",
                 mac not in (kx.uplink_mac, kx.port_doc("m1")["mac"].lower(), own_mac), True),
                ("macvlan again: MAC locally administered unicast", (first & 3), 2),
                ("macvlan again: no vnet addresses left", doc.get("addresses", []), []),
                ("macvlan again: ARP on", noarp, False),
                ("macvlan again: EUI-64 link-local of the new MAC", lls, [eui64(mac)]),
                ("macvlan again: no default routes", routes, 0),
                ("macvlan again: ext <-> k (v4, v6 both ways)", reach_ext(kx, "k"), (True,) * 4),
                ("macvlan again: k -> m1", reach(kx, "k", "m1"), (True, True)),
                ("macvlan again: m1 -> k", reach(kx, "m1", "k"), (True, True))]
    vk.expect(results)


def state(kx):
    t = kx.topo
    doc = t.vnetctl("show", json_out=True)
    links = {}
    for role in ("k", "d", "s1", "host"):
        links[role] = json.loads(t.ip(role, "-j", "addr", "show").stdout)
        for link in links[role]:
            for a in link.get("addr_info", []):
                a.pop("valid_life_time", None)
                a.pop("preferred_life_time", None)
            for key in ("stats64", "operstate", "linkmode"):
                link.pop(key, None)
    return doc, links


def refused(kx, title, args, *needles):
    # A MAC just changed restarts DAD: a link-local turning from tentative to
    # ready between the two snapshots is not the refusal's doing.
    vk.wait_ready(kx.topo, ["k", "d", "s1"])
    before = state(kx)
    p = kx.topo.vnetctl(*args, check=False)
    after = state(kx)
    print(f"  {title}: exit {p.returncode}; stderr: {p.stderr.strip()!r}")
    return [(f"{title}: refused", p.returncode != 0, True),
            (f"{title}: says {' / '.join(needles)}", all(n in p.stderr for n in needles), True),
            (f"{title}: one line", p.stderr.strip().count("\n"), 0),
            (f"{title}: show -j unchanged", after[0] == before[0], True),
            (f"{title}: links and addresses unchanged", after[1] == before[1], True)]


def check_dev(kx):
    t = kx.topo
    d = kx.dev("d")
    results = refused(kx, "DEV --type ipvlan with its own MAC", ["port", "set", d, "--type", "ipvlan"],
                      f"{d}'s container side still has MAC 02:00:5e:51:00:0d",
                      f"set it to the uplink's MAC {kx.uplink_mac}")
    t.ip("d", "link", "set", "eth0", "address", kx.uplink_mac)
    t.vnetctl("port", "set", d, "--type", "ipvlan")
    results.append(("DEV --type ipvlan after the operator set the MAC", kx.port_doc("d")["type"], "ipvlan"))
    results += refused(kx, "DEV --type macvlan without --mac", ["port", "set", d, "--type", "macvlan"],
                       f"{d}'s container side has the uplink's MAC {kx.uplink_mac}", "pass --mac")
    t.vnetctl("port", "set", d, "--type", "macvlan", "--mac", "02:00:5e:51:00:0e")
    results += [("DEV --type macvlan --mac: type", kx.port_doc("d")["type"], "macvlan"),
                ("DEV --type macvlan --mac: container MAC", vk.mac_of(t, "d", "eth0"), "02:00:5e:51:00:0e")]
    vk.expect(results)


def check_ip_add(kx):
    t = kx.topo
    s1 = kx.dev("s1")
    results = refused(kx, "ip add of s1's own address", ["ip", "add", s1, f"{a4('s1')}/24"],
                      f"{s1} already has {a4('s1')}/24")
    t.vnetctl("ip", "add", s1, f"{a4('s1')}/25")
    have = [(a, p) for a, p, _, _ in vk.addresses(t, "s1", family="inet")]
    results += [("ip add of s1's address /25: the container has /25 only", have, [(a4("s1"), 25)]),
                ("ip add of s1's address /25: the table still has it",
                 any(a["address"] == f"{a4('s1')}/32" for a in kx.port_doc("s1")["addresses"]), True)]
    vk.flush_neighbours(t, ["s1", "ext"])
    results.append(("ip add of s1's address /25: ext -> s1", it.ping(t, "ext", a4("s1")), True))
    t.vnetctl("ip", "add", s1, f"{a4('s1')}/24")
    # A DEV port: vnet does not configure its container side.
    d = kx.dev("d")
    t.ip("d", "link", "set", "eth0", "address", kx.uplink_mac)
    t.vnetctl("port", "set", d, "--type", "ipvlan")
    t.vnetctl("ip", "add", d, f"{NET}.54")
    results += refused(kx, "ip add of DEV's own address", ["ip", "add", d, f"{NET}.54/24"],
                       f"{d} already has {NET}.54")
    vk.expect(results)


# -- apply ------------------------------------------------------------------------------------
def apply_file(t, fabric, plen):
    return vk.temp_file(f'''[fabric.{fabric}]
uplink = "up0"
ipvlan_mode = "l2"

[[fabric.{fabric}.port]]
netns = "{t.ns('a1')}"
ips = ["{NET}.5/{plen}", "{NET6}::5/64"]
''')


def check_apply(checks):
    with vk.Topology(tag="ipk") as t:
        vk.build_l2(t, "none", "bridge", False, containers=0)
        t.ip("ext", "addr", "add", f"{it.EXT6}/64", "dev", "eth0", "nodad")
        t.netns("a1")
        fabric = vk.unique("apk")
        t.fabrics.append(fabric)
        files = [apply_file(t, fabric, 24), apply_file(t, fabric, 25)]
        try:
            def run():
                results = []
                t.vnetctl("apply", files[0])
                vk.wait_ready(t, ["a1"])
                v4 = lambda: [(a, p) for a, p, _, _ in vk.addresses(t, "a1", family="inet")]  # noqa: E731
                results.append(("apply /24: container", v4(), [(f"{NET}.5", 24)]))
                r = t.vnetctl("apply", files[1], json_out=True)
                print(f"  apply /25: actions {r['actions']}")
                results += [("apply /25: one action", len(r["actions"]), 1),
                            ("apply /25: container has /25 only", v4(), [(f"{NET}.5", 25)])]
                vk.flush_neighbours(t, ["a1", "ext"])
                results.append(("apply /25: ext -> a1", it.ping(t, "ext", f"{NET}.5"), True))
                again = t.vnetctl("apply", files[1], json_out=True)
                results.append(("apply /25 again: no actions", again["actions"], []))
                vk.expect(results)
            checks.run("apply: changed prefix length", run)
        finally:
            for f in files:
                os.unlink(f)
    return t


CHECKS = [("kind macvlan -> ipvlan -> macvlan", check_kind), ("DEV messages", check_dev),
          ("ip add of its own address", check_ip_add)]


def main():
    vk.require_root()
    vk.require_tools("ping")
    vk.exit_on_signals()
    mode = sys.argv[1] if len(sys.argv) > 1 else "l2"
    start = time.time()
    checks = vk.Checks()
    topos = []
    with vk.Topology(tag="ikd") as topo:
        topos.append(topo)
        print(f"=== port kind changes (ipvlan mode {mode})", flush=True)
        try:
            kx = Kind(topo, mode)
        except vk.CommandError as e:
            checks.fail("topology", str(e))
        else:
            for name, fn in CHECKS:
                checks.run(f"{mode}: {name}", fn, kx)
    print("=== apply with a changed prefix length", flush=True)
    topos.append(check_apply(checks))
    checks.finish(f"ipvlan kind ({mode})", start, topos)


if __name__ == "__main__":
    sys.exit(main())
