"""Shared fixture for vnet's namespace tests.

Every test builds its own topology from uniquely named network namespaces and
tears all of it down whatever happens (namespaces, fabrics, pins). Nothing is
ever created in the root namespace: the uplink, the ports' host ends and the
vnet programs live in a "host" namespace, which plays the machine's root.

Standard L2 topology (build_l2):

    ext (198.18.0.100) --- [sw: bridge br0, hairpin on/off] --- up0 in host (198.18.0.1)
                                                                  |  vnet fabric or kernel macvlan
                                                     c1 .11    c2 .12    c3 .13  (eth0 each)
"""
import contextlib
import json
import os
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VNETCTL = os.environ.get("VNETCTL") or os.path.join(HERE, "..", "..", "build", "userspace", "vnetctl")
PIN_ROOT = "/sys/fs/bpf/vnet"
NET = "198.18.0"


class CommandError(Exception):
    pass


def run(argv, check=True, timeout=60, input=None):
    """Runs argv, returns CompletedProcess with text output."""
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise CommandError(f"{shlex.join(argv)} -> {p.returncode}\n{p.stdout}{p.stderr}")
    return p


_counter = 0


# The last commit of each earlier ABI, for the upgrade and crash tests.
OLD_ABIS = {
    2: "0645b1b80ddee35069ac310e52800e0e2becdcdf",
    3: "de23a56304628d3d1d6c4131da9c5be3e4f19ea1",
    4: "8e8427533e277320ffa7c99cf36305c2c75b9350",
}


def old_vnetctl(abi):
    """Path of an ABI `abi` vnetctl built once from git history into the build
    tree (git archive: the repository is not touched), or None when this
    clone lacks the commit. Unoptimised: it only has to run a few commands,
    and an -O0 build of libvnet takes a fraction of the time."""
    commit = OLD_ABIS[abi]
    src = os.path.abspath(os.path.join(HERE, "..", ".."))
    root = os.path.join(os.environ.get("VNET_UNIT_DIR", "/tmp"), f"abi{abi}-vnetctl")
    binary = os.path.join(root, "build", "userspace", "vnetctl")
    if os.path.exists(binary):
        return binary
    if subprocess.run(["git", "-C", src, "cat-file", "-e", commit], capture_output=True).returncode != 0:
        return None
    import shutil
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    print(f"     building the ABI {abi} vnetctl ({commit[:7]}) into {root}", flush=True)
    archive = subprocess.Popen(["git", "-C", src, "archive", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", root], stdin=archive.stdout, check=True)
    archive.wait()
    env = dict(os.environ, CCACHE_BASEDIR=os.path.dirname(src), CCACHE_NOHASHDIR="1")
    subprocess.run(["meson", "setup", "build", "-Doptimization=0", "-Ddebug=false"], cwd=root, check=True,
                   capture_output=True, env=env)
    subprocess.run(["ninja", "-C", "build", "userspace/vnetctl"], cwd=root, check=True, capture_output=True, env=env)
    return binary


def fabric_map_names():
    """The names of every map this build pins per fabric (VNET_MAP_* in
    include/vnet/abi.h, the one list of them), plus the devmap vnet_tx."""
    import re
    with open(os.path.join(HERE, "..", "..", "include", "vnet", "abi.h")) as f:
        return set(re.findall(r'^#define VNET_MAP_\w+\s+"(\w+)"', f.read(), re.M))


def unique(prefix):
    """A short name unique to this process: namespaces, fabrics, links."""
    global _counter
    _counter += 1
    return f"{prefix}{os.getpid() % 100000}{_counter}"


class Topology(contextlib.AbstractContextManager):
    """Owns namespaces and fabrics; __exit__ removes all of them."""

    def __init__(self, tag="t"):
        self.tag = tag
        self.namespaces = []
        self.fabrics = []
        self.host = None
        self.roles = {}

    # -- building blocks -------------------------------------------------
    def netns(self, role):
        name = unique(f"v{self.tag}{role[:3]}")
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        self.roles[role] = name
        return name

    def ns(self, role):
        return self.roles[role]

    def ip(self, role, *args, check=True):
        return run(["ip", "-n", self.ns(role), *args], check=check)

    def exec(self, role, *argv, check=True, timeout=60):
        return run(["ip", "netns", "exec", self.ns(role), *argv], check=check, timeout=timeout)

    def vnetctl(self, *args, check=True, json_out=False):
        """Runs vnetctl inside the host namespace (nsenter keeps /sys/fs/bpf)."""
        argv = ["nsenter", f"--net=/run/netns/{self.host}", VNETCTL]
        if json_out:
            argv.append("-j")
        p = run(argv + list(args), check=check)
        if json_out and p.returncode == 0:
            return json.loads(p.stdout)
        return p

    def attach(self, uplink="up0", *extra):
        fabric = unique("f")
        self.vnetctl("attach", uplink, "--fabric", fabric, *extra)
        self.fabrics.append(fabric)
        return fabric

    # -- teardown --------------------------------------------------------
    def __exit__(self, *exc):
        for fabric in self.fabrics:
            if self.host and os.path.isdir(f"{PIN_ROOT}/{fabric}"):
                run(["nsenter", f"--net=/run/netns/{self.host}", VNETCTL, "detach", fabric], check=False)
            # Whatever detach could not remove (a crashed test) still goes.
            if os.path.isdir(f"{PIN_ROOT}/{fabric}"):
                run(["rm", "-rf", f"{PIN_ROOT}/{fabric}"], check=False)
        for name in reversed(self.namespaces):
            run(["ip", "netns", "del", name], check=False)
        return False


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


def ping(topo, role, ip, count=1, timeout="0.5"):
    p = topo.exec(role, "ping", "-n", "-q", "-c", str(count), "-W", timeout, ip, check=False, timeout=30)
    return p.returncode == 0


def arping(topo, role, ifname, ip, timeout=1):
    p = topo.exec(role, "arping", "-q", "-c", "1", "-w", str(timeout), "-I", ifname, ip, check=False, timeout=30)
    return p.returncode == 0


def require_root():
    if os.geteuid() != 0:
        print("SKIP: namespace tests need root", file=sys.stderr)
        sys.exit(77)
