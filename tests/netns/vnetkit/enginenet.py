"""The network the engine tests put containers on, and what they check.

Network: a uniquely named veth in the ROOT namespace as the master (engines
run their plugins there), its peer in the test's "ext" namespace, and the
conflist docs/cni.md shows (documented), so the documentation's conflists are
the ones that run. check_up (addresses, leases, libcni's cache, the fabric's
ports, the reachability matrix) and check_released (no lease, host end,
cache entry, port or pin left) are the checks every engine test makes.
"""
import contextlib
import copy
import json
import os
import re

from . import cni
from .fixture import PIN_ROOT, SRC, VNETCTL, CommandError, run, unique


DOC = os.path.join(SRC, "docs", "cni.md")


def documented(tag):
    """The JSON block docs/cni.md shows right after `<!-- vnet-test: TAG -->`:
    the conflists the documentation shows are the ones the tests run."""
    with open(DOC) as f:
        text = f.read()
    m = re.search(r"<!-- vnet-test: %s -->\s*```json\n(.*?)```" % re.escape(tag), text, re.S)
    if not m:
        raise CommandError(f"{DOC} has no JSON block marked <!-- vnet-test: {tag} -->")
    return json.loads(m.group(1))


def documented_nad_config():
    """The `config` string of the NetworkAttachmentDefinition docs/cni.md
    shows (Multus), parsed."""
    with open(DOC) as f:
        m = re.search(r"kind: NetworkAttachmentDefinition\n.*?\n  config: '(.*?)'\n", f.read(), re.S)
    if not m:
        raise CommandError(f"{DOC} shows no NetworkAttachmentDefinition with a config")
    return json.loads(m.group(1))


class Network(contextlib.AbstractContextManager):
    """The network every engine test puts containers on: a uniquely named
    veth in the ROOT namespace (the engines run their plugins there) as the
    master, whose peer e0 sits in topo's "ext" namespace with the subnet's
    .1; and the engines' conflist of docs/cni.md with plugin_type as its
    type, that master, a unique name and host-local leases in a private
    dataDir. vnet plugins get a fabric of their own name, detached (and its
    pins removed) at the end."""

    def __init__(self, topo, work, plugin_type, vnet=None):
        self.topo = topo
        self.plugin_type = plugin_type
        self.template = documented("engines")
        subnet = self.template["plugins"][0]["ipam"]["ranges"][0][0]["subnet"]
        self.subnet = subnet.rsplit(".", 1)[0]  # "198.18.90.0/24" -> "198.18.90"
        self.name = unique("vnetcni")
        self.master = unique("cxm")
        self.data_dir = os.path.join(work, "ipam")
        # vnet: whether the plugin is vnet's (a wrapper's name may not say so)
        self.vnet = vnet if vnet is not None else plugin_type.startswith("vnet")
        self.fabric = unique("cf") if self.vnet else None
        self.ext = None

    def __enter__(self):
        self.ext = self.topo.netns("ext")
        run(["ip", "link", "add", self.master, "type", "veth", "peer", "name", "e0", "netns", self.ext])
        run(["ip", "link", "set", self.master, "up"])
        self.topo.ip("ext", "link", "set", "e0", "up")
        self.topo.ip("ext", "addr", "add", f"{self.subnet}.1/24", "dev", "e0")
        if self.fabric:
            self.topo.fabrics.append(self.fabric)  # for the leftovers check
        return self

    def conflist(self):
        """The documented conflist with this test's names (and no vnet key for another plugin)."""
        c = copy.deepcopy(self.template)
        c["name"] = self.name
        plugin = c["plugins"][0]
        plugin.update(type=self.plugin_type, master=self.master)
        plugin["ipam"]["dataDir"] = self.data_dir
        if self.vnet:
            plugin["fabric"] = self.fabric
        else:
            plugin.pop("fabric", None)
        return c

    def write(self, path):
        with open(path, "w") as f:
            json.dump(self.conflist(), f, indent=2)
        return path

    def leases(self):
        """{address: container ID} of host-local's leases in the private dataDir."""
        return {ip: owner[0] for ip, owner in cni.leases(self.data_dir, self.name).items()}

    def fabric_ports(self):
        """The ports vnetctl shows in this network's fabric ([] when it is gone), or None for other plugins."""
        if not self.fabric:
            return None
        p = run([VNETCTL, "-j", "show", self.fabric], check=False)
        if p.returncode != 0:
            return []
        found = [f for f in json.loads(p.stdout).get("fabrics", []) if f["name"] == self.fabric]
        return found[0].get("ports", []) if found else []

    def ext_ping(self, address):
        return ping_ok(lambda *argv: self.topo.exec("ext", *argv, check=False), address)

    def __exit__(self, *exc):
        if self.fabric:
            if os.path.isdir(f"{PIN_ROOT}/{self.fabric}"):
                run([VNETCTL, "detach", self.fabric], check=False)
            if os.path.isdir(f"{PIN_ROOT}/{self.fabric}"):
                run(["rm", "-rf", f"{PIN_ROOT}/{self.fabric}"], check=False)
        run(["ip", "link", "del", self.master], check=False)
        # An engine stopped before its DEL (a test killed midway) leaves
        # libcni's cached results; the network's name is this run's alone.
        for entry in cni_cache_files(self.name):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(CNI_CACHE, entry))
        return False


def ping_ok(execute, address, tries=3):
    """True when one echo request (busybox or iputils ping) run through
    execute(*argv) is answered, trying a few times: the first one may wait
    for ARP in a container that just came up."""
    for _ in range(tries):
        if execute("ping", "-c", "1", "-W", "1", address).returncode == 0:
            return True
    return False


def reachability(nodes, address_of, pinger):
    """{(src, dst): answered} for every ordered pair of distinct nodes;
    pinger(src) returns a function that runs argv in src."""
    return {(a, b): ping_ok(pinger(a), address_of[b]) for a in nodes for b in nodes if a != b}


def root_links():
    """{ifindex: (name, ifalias)} of the root namespace's links."""
    return {l["ifindex"]: (l["ifname"], l.get("ifalias", ""))
            for l in json.loads(run(["ip", "-j", "link", "show"]).stdout)}


def peer_ifindex(execute):
    """The root-namespace ifindex eth0's peer has (veth: the host end;
    macvlan: the master), read in the container through execute(*argv)."""
    p = execute("cat", "/sys/class/net/eth0/iflink")
    return int(p.stdout.strip()) if p.returncode == 0 and p.stdout.strip().isdigit() else None


def left_in_root(net, peers):
    """Root-namespace links a removed network's containers left: their eth0's
    peers (other than the master itself) and any link whose alias names the
    network. Other tests' links, made in parallel, do not count."""
    links = root_links()
    master = [i for i, (name, _) in links.items() if name == net.master]
    left = [links[i][0] for i in peers if i and i in links and i not in master]
    return left + [name for name, alias in links.values() if net.name in alias and name not in left]


CNI_CACHE = "/var/lib/cni/results"  # libcni's, for podman and containerd alike


def cni_cache_files(network):
    """libcni's cached results of a network: NETWORK-CONTAINERID-IFNAME files."""
    d = CNI_CACHE
    return [e for e in (os.listdir(d) if os.path.isdir(d) else []) if e.startswith(network + "-")]


def container_address(execute):
    """The IPv4 address on a container's eth0 (busybox ip), or None."""
    words = execute("ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout.split()
    return words[words.index("inet") + 1].split("/")[0] if "inet" in words else None


def check_up(checks, net, execs, owners):
    """What every engine test checks while its containers run. execs:
    {container: execute(*argv) inside it}; owners: {container: the ID its
    lease must name (what the engine passed as CNI_CONTAINERID)}. Returns
    the containers' eth0 peer ifindexes in the root namespace, for
    check_released."""
    address = {c: container_address(run_in) for c, run_in in execs.items()}
    address["ext"] = f"{net.subnet}.1"
    leases = net.leases()
    checks.check("each container has a host-local address", all(address.values()), address)
    checks.check("addresses are distinct", len(set(address.values())) == len(address), address)
    checks.check("each address is leased to its container",
                 all(leases.get(address[c]) == owners[c] for c in execs), f"{leases} {owners}")
    cache = cni_cache_files(net.name)
    checks.check("libcni cached a result per container", len(cache) == len(execs), cache)
    peers = {c: peer_ifindex(run_in) for c, run_in in execs.items()}
    ports = net.fabric_ports()
    if ports is not None:
        port_ifindexes = sorted(p.get("ifindex") for p in ports)
        checks.check("each container's eth0 is the peer of one of the fabric's ports",
                     port_ifindexes == sorted(peers.values()), f"ports {ports}, peers {peers}")

    def pinger(node):
        return execs.get(node) or (lambda *argv: net.topo.exec("ext", *argv, check=False))

    matrix = reachability(list(execs) + ["ext"], address, pinger)
    missing = [f"{a}->{b}" for (a, b), ok in matrix.items() if not ok]
    checks.check("containers and ext all reach each other", not missing, f"unanswered: {missing}")
    return list(peers.values())


def check_released(checks, net, peers):
    """What removing every container must have released; then the fabric's
    own removal (vnet) must leave no pin."""
    checks.check("no lease is left", not net.leases(), net.leases())
    left = left_in_root(net, peers)
    checks.check("no container's host end is left in the root namespace", not left, left)
    cache = cni_cache_files(net.name)
    checks.check("libcni keeps no cached result", not cache, cache)
    if net.fabric:
        ports = net.fabric_ports()
        checks.check("the fabric has no port left", ports == [], ports)
        root = f"{PIN_ROOT}/{net.fabric}"
        pins = [e for e in os.listdir(root) if e.startswith("link_port_")] if os.path.isdir(root) else []
        checks.check("no port link pin (link_port_*) is left", not pins, pins)
        net.__exit__(None, None, None)  # detach now: the pin check follows
        checks.check("the removed fabric leaves no pin", not os.path.exists(root))
