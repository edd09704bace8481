#!/usr/bin/python3
"""MAC-demux and IP-demux ports on one uplink, the refusals, and live address
changes (issue 6, "Beyond ipvlan"; spec/cli.md).

build_l2's switch, ext and host (IPv6 added), one fabric attached with the
default type (macvlan) and `--ipvlan-mode l2 --ipvlan-flag bridge`, and:
  m1, m2  `port add --netns NS --mode bridge`: macvlan ports with their own
          MACs; the test gives them 198.18.0.2N/24 and 2001:db8:1::2N/64;
  i1, i2  `port add --netns NS --ip 198.18.0.3N/24 --ip 2001:db8:1::3N/64`:
          ipvlan ports (kind from --ip), sharing the uplink's MAC.
Checks:
  setup      `show -j`: kinds, modes, addresses, MACs.
  external   ping/ping -6 every port <-> ext, both ways.
  siblings   m1 <-> m2 and i1 <-> i2 (bridge, bridge flag) over v4 and v6;
             with the switch hairpinning, m1 <-> i1 both ways (macvlan to the
             uplink MAC and ipvlan to another MAC both leave on the uplink);
             without, reported only.
  refusals   each of these exits non-zero with exactly one line on stderr and
             leaves `show -j` (and the new namespace's links) as they were:
             an address of another port (v4, v6), the same address twice, an
             IPv4 address with /64, --mode or --mac on an ipvlan port,
             --type macvlan with --ip, `port set --type macvlan` on an ipvlan
             port with addresses, `ip add` on a macvlan port, `ip add` of a
             sibling's address; afterwards traffic still flows.
  live ip    `vnetctl ip add i1 198.18.0.41/24` (and an IPv6 one): ext reaches
             it (it was unreachable while only configured in i1's namespace);
             `vnetctl ip del`: unreachable again even with the address put
             back in the namespace by hand.
Exit 0 pass, 1 fail, 77 skip (not root, a tool missing).
"""
import json
import sys
import time

from vnetkit import ipvlan as it
import vnetkit as vk

NET, NET6 = vk.NET, it.NET6
ADDR = {"m1": 21, "m2": 22, "i1": 31, "i2": 32}
LIVE4, LIVE6 = f"{NET}.41", f"{NET6}::41"


def a4(role):
    return f"{NET}.{ADDR[role]}"


def a6(role):
    return f"{NET6}::{ADDR[role]}"


class Mixed:
    def __init__(self, topo):
        self.topo = topo
        vk.build_l2(topo, "none", "bridge", False, containers=0)
        topo.ip("ext", "addr", "add", f"{it.EXT6}/64", "dev", "eth0", "nodad")
        topo.ip("host", "addr", "add", f"{it.HOST6}/64", "dev", "up0", "nodad")
        self.fabric = topo.attach("up0", "--ipvlan-mode", "l2", "--ipvlan-flag", "bridge")
        self.ports = {}
        for role in ("m1", "m2"):
            ns = topo.netns(role)
            self.ports[role] = topo.vnetctl("port", "add", "--fabric", self.fabric, "--netns", ns, "--mode", "bridge",
                                            json_out=True)
            topo.ip(role, "addr", "add", f"{a4(role)}/24", "dev", "eth0")
            topo.ip(role, "addr", "add", f"{a6(role)}/64", "dev", "eth0", "nodad")
        for role in ("i1", "i2"):
            ns = topo.netns(role)
            self.ports[role] = topo.vnetctl("port", "add", "--fabric", self.fabric, "--netns", ns,
                                            "--ip", f"{a4(role)}/24", "--ip", f"{a6(role)}/64", json_out=True)
        left = vk.wait_ready(topo, list(self.ports))
        if left:
            print(f"  still tentative after 6s: {left}")
        self.uplink_mac = vk.mac_of(topo, "host", "up0")

    def dev(self, role):
        return self.ports[role]["name"]

    def port_doc(self, role):
        return it.port_doc(self.topo, self.fabric, self.dev(role))

    def listed(self, role):
        return sorted(a["address"].split("/")[0] for a in self.port_doc(role).get("addresses", [])
                      if not a.get("link_local"))


def check_setup(mx):
    t = mx.topo
    results = []
    for role in ("m1", "m2"):
        p = mx.port_doc(role)
        mac = vk.mac_of(t, role, "eth0")
        results += [(f"{role}: type", p.get("type"), "macvlan"), (f"{role}: mode", p.get("mode"), "bridge"),
                    (f"{role}: own MAC, not the uplink's", mac != mx.uplink_mac and mac == p["mac"].lower(), True)]
    for role in ("i1", "i2"):
        p = mx.port_doc(role)
        results += [(f"{role}: type", p.get("type"), "ipvlan"),
                    (f"{role}: eth0 MAC is the uplink's", vk.mac_of(t, role, "eth0"), mx.uplink_mac),
                    (f"{role}: addresses listed", mx.listed(role), sorted([a4(role), a6(role)]))]
    doc = vk.fabric_doc(t, mx.fabric)
    results += [("fabric type", doc.get("type"), "macvlan"), ("fabric ipvlan_mode", doc.get("ipvlan_mode"), "l2")]
    vk.expect(results)


def check_external(mx):
    t = mx.topo
    results = []
    for role in mx.ports:
        vk.flush_neighbours(t, [role, "ext"])
        results += [(f"ping {role} -> ext", it.ping(t, role, it.EXT4), True),
                    (f"ping -6 {role} -> ext", it.ping(t, role, it.EXT6), True),
                    (f"ping ext -> {role}", it.ping(t, "ext", a4(role)), True),
                    (f"ping -6 ext -> {role}", it.ping(t, "ext", a6(role)), True)]
    vk.expect(results)


def reach(mx, a, b):
    vk.flush_neighbours(mx.topo, [a, b])
    return (it.ping(mx.topo, a, a4(b)), it.ping(mx.topo, a, a6(b)))


def check_siblings(mx):
    t = mx.topo
    results = [(f"ping, ping -6 {a} -> {b}", reach(mx, a, b), (True, True))
               for a, b in (("m1", "m2"), ("m2", "m1"), ("i1", "i2"), ("i2", "i1"))]
    info = {(a, b): reach(mx, a, b) for a, b in (("m1", "i1"), ("i1", "m1"))}
    print("  (not asserted) switch hairpin off: "
          + ", ".join(f"{a} -> {b} v4 {r[0]} v6 {r[1]}" for (a, b), r in info.items()))
    vk.set_switch_hairpin(t, True)
    try:
        results += [(f"switch hairpin on: ping, ping -6 {a} -> {b}", reach(mx, a, b), (True, True))
                    for a, b in (("m1", "i1"), ("i1", "m1"), ("m2", "i2"))]
    finally:
        vk.set_switch_hairpin(t, False)
    vk.expect(results)


# -- refusals --------------------------------------------------------------------------
def state(mx):
    """What a refusal must not change: the fabric document and every namespace's links and addresses."""
    doc = mx.topo.vnetctl("show", json_out=True)
    links = {}
    for role in list(mx.ports) + ["host"]:
        links[role] = json.loads(mx.topo.ip(role, "-j", "addr", "show").stdout)
        for link in links[role]:
            for a in link.get("addr_info", []):  # lifetimes tick
                a.pop("valid_life_time", None)
                a.pop("preferred_life_time", None)
            for k in ("stats64", "operstate", "linkmode"):
                link.pop(k, None)
    return doc, links


def refusal(mx, title, args, new_ns=False):
    """Runs `vnetctl ARGS` (a port add in a fresh namespace when new_ns) and
    returns the results to expect."""
    t = mx.topo
    extra = []
    if new_ns:
        role = f"r{len(t.namespaces)}"
        extra = ["--fabric", mx.fabric, "--netns", t.netns(role)]
    vk.wait_ready(t, list(mx.ports))  # DAD finishing mid-check is not the refusal's doing
    before = state(mx)
    p = t.vnetctl(*args, *extra, check=False)
    after = state(mx)
    lines = p.stderr.strip().splitlines()
    print(f"  {title}: exit {p.returncode}; stderr: {p.stderr.strip()!r}")
    results = [(f"{title}: exit status non-zero", p.returncode != 0, True),
               (f"{title}: stderr lines", len(lines), 1),
               (f"{title}: show -j unchanged", after[0] == before[0], True),
               (f"{title}: links and addresses unchanged", after[1] == before[1], True)]
    if new_ns:
        left = sorted(link["ifname"] for link in json.loads(t.ip(role, "-j", "link", "show").stdout))
        results.append((f"{title}: links left in the new namespace", left, ["lo"]))
    return results


def check_refusals(mx):
    i1, i2, m1 = mx.dev("i1"), mx.dev("i2"), mx.dev("m1")
    cases = [
        ("port add with i1's IPv4 address", ["port", "add", "--ip", f"{a4('i1')}/24"], True),
        ("port add with i1's IPv6 address", ["port", "add", "--ip", f"{a6('i1')}/64"], True),
        ("port add with i2's address as a host address", ["port", "add", "--ip", a4("i2")], True),
        ("port add with the same address twice", ["port", "add", "--ip", f"{NET}.44/24", "--ip", f"{NET}.44/24"], True),
        ("port add with an IPv4 address /64", ["port", "add", "--ip", f"{NET}.45/64"], True),
        ("port add --ip --mode bridge", ["port", "add", "--ip", f"{NET}.46/24", "--mode", "bridge"], True),
        ("port add --ip --mac", ["port", "add", "--ip", f"{NET}.47/24", "--mac", "02:00:5e:10:00:47"], True),
        ("port add --type macvlan --ip", ["port", "add", "--type", "macvlan", "--ip", f"{NET}.48/24"], True),
        ("port set --type macvlan on i1 with addresses", ["port", "set", i1, "--type", "macvlan"], False),
        ("ip add on macvlan port m1", ["ip", "add", m1, f"{NET}.49/24"], False),
        ("ip add of i1's address to i2", ["ip", "add", i2, f"{a4('i1')}/24"], False),
        ("ip add of an IPv4 address /33", ["ip", "add", i2, f"{NET}.50/33"], False),
    ]
    results = []
    for title, args, new_ns in cases:
        results += refusal(mx, title, args, new_ns)
    vk.flush_neighbours(mx.topo, ["i1", "ext"])
    results += [("after the refusals: ping ext -> i1", it.ping(mx.topo, "ext", a4("i1")), True),
                ("after the refusals: ping -6 ext -> i2", it.ping(mx.topo, "ext", a6("i2")), True),
                ("after the refusals: ping ext -> m1", it.ping(mx.topo, "ext", a4("m1")), True)]
    vk.expect(results)


# -- live ip add/del -------------------------------------------------------------------------
def reachable(mx, addr):
    vk.flush_neighbours(mx.topo, ["ext", "i1"])
    return it.ping(mx.topo, "ext", addr)


def check_live_ip(mx):
    t = mx.topo
    dev = mx.dev("i1")
    results = []
    # Configured in the namespace only: vnet does not know it.
    t.ip("i1", "addr", "add", f"{LIVE4}/24", "dev", "eth0")
    t.ip("i1", "addr", "add", f"{LIVE6}/64", "dev", "eth0", "nodad")
    results += [("only in i1's namespace: ext -> new v4", reachable(mx, LIVE4), False),
                ("only in i1's namespace: ext -> new v6", reachable(mx, LIVE6), False)]
    t.ip("i1", "addr", "del", f"{LIVE4}/24", "dev", "eth0")
    t.ip("i1", "addr", "del", f"{LIVE6}/64", "dev", "eth0")
    t.vnetctl("ip", "add", dev, f"{LIVE4}/24")
    t.vnetctl("ip", "add", dev, f"{LIVE6}/64")
    vk.wait_ready(t, ["i1"])
    have = {a for a, _, _, _ in vk.addresses(t, "i1", family="inet")} | {a for a, _, _, _ in vk.addresses(t, "i1")}
    results += [("after ip add: show lists both", sorted(set(mx.listed("i1")) & {LIVE4, LIVE6}), sorted([LIVE4, LIVE6])),
                ("after ip add: configured in i1's namespace", sorted(have & {LIVE4, LIVE6}), sorted([LIVE4, LIVE6])),
                ("after ip add: ext -> new v4", reachable(mx, LIVE4), True),
                ("after ip add: ext -> new v6", reachable(mx, LIVE6), True),
                ("after ip add: ext -> i1's first address still", reachable(mx, a4("i1")), True)]
    t.vnetctl("ip", "del", dev, f"{LIVE4}/24")
    t.vnetctl("ip", "del", dev, f"{LIVE6}/64")
    results.append(("after ip del: show lists them", sorted(set(mx.listed("i1")) & {LIVE4, LIVE6}), []))
    # Put back by hand: the port's stack would answer, vnet must not deliver.
    t.ip("i1", "addr", "replace", f"{LIVE4}/24", "dev", "eth0")
    t.ip("i1", "addr", "replace", f"{LIVE6}/64", "dev", "eth0", "nodad")
    results += [("after ip del (address back in the namespace): ext -> v4", reachable(mx, LIVE4), False),
                ("after ip del (address back in the namespace): ext -> v6", reachable(mx, LIVE6), False),
                ("after ip del: ext -> i1's first address still", reachable(mx, a4("i1")), True)]
    t.ip("i1", "addr", "del", f"{LIVE4}/24", "dev", "eth0", check=False)
    t.ip("i1", "addr", "del", f"{LIVE6}/64", "dev", "eth0", check=False)
    vk.expect(results)


CHECKS = [("setup", check_setup), ("external", check_external), ("siblings", check_siblings),
          ("refusals", check_refusals), ("live ip add/del", check_live_ip)]


def main():
    vk.require_root()
    vk.require_tools("ping")
    vk.exit_on_signals()
    start = time.time()
    checks = vk.Checks()
    with vk.Topology(tag="imx") as topo:
        print("=== mixed fabric: m1, m2 macvlan bridge; i1, i2 ipvlan (l2, bridge flag)", flush=True)
        try:
            mx = Mixed(topo)
        except vk.CommandError as e:
            checks.fail("topology", str(e))
        else:
            for name, fn in CHECKS:
                checks.run(f"mixed: {name}", fn, mx)
    checks.finish("ipvlan mixed", start, [topo])


if __name__ == "__main__":
    sys.exit(main())
