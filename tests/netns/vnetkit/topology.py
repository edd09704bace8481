"""Topologies built on a fixture.Topology, and the per-link facts tests read.

Standard L2 topology (build_l2):

    ext (198.18.0.100) --- [sw: bridge br0, hairpin on/off] --- up0 in host (198.18.0.1)
                                                                  |  vnet fabric or kernel macvlan
                                                     c1 .11    c2 .12    c3 .13  (eth0 each)

build_ports: the same switch, ext and host with a fabric on up0 and one
container per (role, mode, *port add flags), each at 198.18.0.(10+N).
An endpoint is (role, ifname, IPv4 address); `eps` maps names to endpoints.
"""
import json
import time

from .fixture import unique

NET = "198.18.0"


def build_l2(topo, system, mode, hairpin, containers=3):
    """The standard topology. system: 'vnet' or 'macvlan', or 'none' for the
    namespaces and uplink only (no fabric, containers without eth0). Returns
    endpoints: {name: (role, ifname, ip)} for c1..cN, ext and host."""
    sw = topo.netns("sw")
    topo.netns("ext")
    host = topo.netns("host")
    topo.host = host
    topo.ip("sw", "link", "add", "br0", "type", "bridge")
    topo.ip("sw", "link", "set", "br0", "up")
    # The external host on the switch.
    topo.ip("ext", "link", "add", "eth0", "type", "veth", "peer", "name", "swext", "netns", sw)
    topo.ip("sw", "link", "set", "swext", "master", "br0", "up")
    topo.ip("ext", "addr", "add", f"{NET}.100/24", "dev", "eth0")
    topo.ip("ext", "link", "set", "eth0", "up")
    # The uplink: up0 in host, its peer on the switch.
    topo.ip("host", "link", "add", "up0", "type", "veth", "peer", "name", "swup", "netns", sw)
    topo.ip("sw", "link", "set", "swup", "master", "br0", "up")
    topo.ip("sw", "link", "set", "swup", "type", "bridge_slave", "hairpin", "on" if hairpin else "off")
    topo.ip("host", "addr", "add", f"{NET}.1/24", "dev", "up0")
    topo.ip("host", "link", "set", "up0", "up")

    endpoints = {"ext": ("ext", "eth0", f"{NET}.100"), "host": ("host", "up0", f"{NET}.1")}
    if system == "vnet":
        topo.attach("up0")
    for i in range(1, containers + 1):
        role = f"c{i}"
        c = topo.netns(role)
        if system == "vnet":
            topo.vnetctl("port", "add", "--fabric", topo.fabrics[-1], "--netns", c, "--mode", mode)
        elif system == "none":
            endpoints[role] = (role, "eth0", f"{NET}.{10 + i}")
            continue
        elif system == "macvlan":
            tmp = unique("mv")
            topo.ip("host", "link", "add", "link", "up0", "name", tmp, "type", "macvlan", "mode", mode)
            topo.ip("host", "link", "set", tmp, "netns", c)
            topo.ip(role, "link", "set", tmp, "name", "eth0")
            topo.ip(role, "link", "set", "eth0", "up")
        else:
            raise ValueError(system)
        topo.ip(role, "addr", "add", f"{NET}.{10 + i}/24", "dev", "eth0")
        endpoints[role] = (role, "eth0", f"{NET}.{10 + i}")
    wait_dad(topo, [r for r, _, _ in endpoints.values()])
    return endpoints


def wait_dad(topo, roles, timeout=3.0):
    """IPv4 needs no DAD; give links a moment to reach carrier-up."""
    deadline = time.time() + timeout
    for role in roles:
        while time.time() < deadline:
            out = topo.ip(role, "-o", "link", "show", "up").stdout
            if "NO-CARRIER" not in out:
                break
            time.sleep(0.05)


def flush_neighbours(topo, roles):
    for role in roles:
        topo.ip(role, "neigh", "flush", "all", check=False)


def set_switch_hairpin(topo, on):
    """Whether the switch reflects frames back out of the uplink's port."""
    topo.ip("sw", "link", "set", "swup", "type", "bridge_slave", "hairpin", "on" if on else "off")


def build_ports(topo, containers, host=False, switch_hairpin=False):
    """build_l2's switch, ext and host with a fabric on up0 (--host on, or
    the default) and no containers, then one container per (role, mode, *port
    add flags) in containers, role cN at NET.(10+N). Returns (endpoints,
    {role: port})."""
    attach = topo.attach
    topo.attach = lambda uplink="up0", *extra: attach(uplink, *(("--host", "on") if host else ()), *extra)
    try:
        eps = build_l2(topo, "vnet", "vepa", switch_hairpin, containers=0)
    finally:
        del topo.attach
    ports = {}
    for role, mode, *flags in containers:
        ns = topo.netns(role)
        ports[role] = topo.vnetctl("port", "add", "--fabric", topo.fabrics[-1], "--netns", ns, "--mode", mode,
                                   *flags, json_out=True)
        ip = f"{NET}.{10 + int(role[1:])}"
        topo.ip(role, "addr", "add", f"{ip}/24", "dev", "eth0")
        eps[role] = (role, "eth0", ip)
    wait_dad(topo, list(ports))
    return eps, ports


def static_neighbour(topo, eps, on, peer, mac):
    """on's neighbour entry for peer's IP, fixed to mac: unicast leaves without ARP."""
    role, ifname, _ = eps[on]
    topo.ip(role, "neigh", "replace", eps[peer][2], "lladdr", mac, "dev", ifname, "nud", "permanent")


def link_json(topo, role, ifname):
    out = topo.ip(role, "-j", "-d", "link", "show", ifname).stdout
    return json.loads(out)[0]


def mac_of(topo, role, ifname="eth0"):
    """The MAC of role's ifname, lower case."""
    return link_json(topo, role, ifname)["address"].lower()


def addresses(topo, role, ifname="eth0", family="inet6"):
    """[(address, prefixlen, scope, flags)] of role's ifname."""
    doc = json.loads(topo.ip(role, "-j", "-f", family, "addr", "show", "dev", ifname).stdout or "[]")
    out = []
    for link in doc:
        for a in link.get("addr_info", []):
            flags = [k for k in ("tentative", "dadfailed", "nodad", "optimistic") if a.get(k)]
            out.append((a["local"], a["prefixlen"], a.get("scope"), flags))
    return out


def link_local(topo, role, ifname="eth0"):
    return [a for a, _, scope, _ in addresses(topo, role, ifname) if scope == "link"]


def wait_ready(topo, roles, timeout=6.0):
    """Carrier up (wait_dad) and no IPv6 address still tentative on any
    role's eth0; returns {role: [addresses still tentative]} (empty when ready)."""
    wait_dad(topo, roles)
    left = {}
    deadline = time.time() + timeout
    for role in roles:
        while True:
            pending = [a for a, _, _, f in addresses(topo, role) if "tentative" in f and "dadfailed" not in f]
            if not pending or time.time() >= deadline:
                break
            time.sleep(0.1)
        if pending:
            left[role] = pending
    return left
