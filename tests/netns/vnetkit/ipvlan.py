"""The ipvlan-family topology (test_ipvlan_*.py, test_claims.py, test_dhcp_attacks.py).

Topology (build): topology.build_l2's switch, ext and host with no containers,
plus IPv6 on ext and the uplink, a fabric attached on up0 with the ipvlan
mode and flag asked for, and ipvlan ports c1.. created by
`vnetctl port add --netns NS --ip V4/24 --ip V6/64`:

    ext 198.18.0.100, 2001:db8:1::100 --- [sw: br0, hairpin on/off] --- up0 in host 198.18.0.1, 2001:db8:1::1
                                                                          |  vnet fabric (ipvlan ports)
                                                      cN: eth0 198.18.0.(10+N)/24, 2001:db8:1:0:N::1/64

Every port's IPv6 address (and the host's) ends in the same 24 bits, so they
all share one solicited-node multicast group (ff02::1:ff00:1): a fabric that
delivered a Neighbour Solicitation by its multicast address instead of its
target would hand each NS to every port.
"""
import functools
import tempfile

from . import probes, vnetstate
from .topology import NET, build_l2, mac_of, wait_ready

NET6 = "2001:db8:1"          # the /64 of the uplink's segment
EXT4, EXT6 = f"{NET}.100", f"{NET6}::100"
HOST4, HOST6 = f"{NET}.1", f"{NET6}::1"


def v4(i):
    return f"{NET}.{10 + i}"


def v6(i):
    return f"{NET6}:0:{i}::1"


# -- topology -------------------------------------------------------------------------
class Fabric:
    """One built topology: topo (a fixture.Topology), the fabric name, the uplink
    MAC, and ports {role: port dict from `vnetctl -j port add`}."""

    def __init__(self, topo, fabric, ports):
        self.topo, self.fabric, self.ports = topo, fabric, ports
        self.uplink_mac = mac_of(topo, "host", "up0")
        self.ext_mac = mac_of(topo, "ext", "eth0")

    def dev(self, role):
        return self.ports[role]["name"]

    def port_doc(self, role):
        return port_doc(self.topo, self.fabric, self.dev(role))


def port_doc(topo, fabric, dev):
    """The port's entry in `vnetctl -j show FABRIC` (by device name)."""
    found = [p for p in vnetstate.fabric_doc(topo, fabric)["ports"] if p["name"] == dev]
    assert len(found) == 1, f"vnetctl show: {len(found)} ports named {dev}"
    return found[0]


def build(topo, mode, flag, count, hairpin=False, attach_extra=(), port_extra=None, addresses=True):
    """Switch, ext, host, a fabric `--type ipvlan --ipvlan-mode MODE
    --ipvlan-flag FLAG` on up0, and count ipvlan ports c1..cN (with their
    addresses unless addresses is False). port_extra: {role: [more port add
    args]}. Returns a Fabric."""
    build_l2(topo, "none", "bridge", hairpin, containers=0)
    topo.ip("ext", "addr", "add", f"{EXT6}/64", "dev", "eth0", "nodad")
    topo.ip("host", "addr", "add", f"{HOST6}/64", "dev", "up0", "nodad")
    fabric = topo.attach("up0", "--type", "ipvlan", "--ipvlan-mode", mode, "--ipvlan-flag", flag, *attach_extra)
    ports = {}
    for i in range(1, count + 1):
        role = f"c{i}"
        ports[role] = add_port(topo, fabric, role, [v4(i) + "/24", v6(i) + "/64"] if addresses else [],
                               *(port_extra or {}).get(role, ()))
    fab = Fabric(topo, fabric, ports)
    wait_ready(topo, list(ports))
    return fab


def add_port(topo, fabric, role, ips, *extra):
    ns = topo.netns(role)
    args = ["port", "add", "--fabric", fabric, "--netns", ns]
    for a in ips:
        args += ["--ip", a]
    return topo.vnetctl(*args, *extra, json_out=True)


# -- reachability ----------------------------------------------------------------------
# The ipvlan tests give every ping two tries 0.2 s apart and a second each.
ping = functools.partial(probes.ping, count=2, interval=0.2, timeout=1)


# -- counters ------------------------------------------------------------------------------
def drops(fab, reason):
    """{device: drops[reason]} over the fabric's devices (ports and uplink)."""
    return vnetstate.fabric_drops(fab.topo, reason, [fab.fabric])


def tmpdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)
