#!/usr/bin/env python3
"""Docker 20.10 runs busybox containers on vnet-docker's networks (issue 14).

    test_docker.py

dockerd (private roots, no iptables/bridge, live-restore, a private
containerd) and vnet-docker run in a "host" namespace made here; the parent
is a uniquely named veth there whose peer e0 is in an "ext" namespace with
the subnet's .1, the containers' gateway. Checked with real traffic (ping
inside `docker exec`):
  - `-d vnet -o parent=...`: two containers (one with --ip) reach each other
    and ext, both ways; each is a port of the parent's fabric whose alias
    names its network and endpoint; --ip is the address the container has;
  - a container sending from an address Docker did not give it (ip addr add
    with NET_ADMIN, ping -I) is dropped and counted (spoofed_ip);
  - dockerd restarted with the containers running (live-restore) and the
    driver restarted: connectivity and the network stay, a new container
    joins;
  - bad input (unknown option, no parent, a missing parent, modes of the
    wrong kind, a second network that cannot share the parent) fails
    `docker network create` with the driver's error and leaves nothing;
  - removing the containers leaves no port or host end, `docker network rm`
    no fabric, pin or record;
  - the driver's second name (vnet-ipvlan, kind ipvlan l2 and l3) connects its
    containers too;
  - the units as built verify, and a socket passed as systemd passes it is
    served (systemd-socket-activate);
  - differential: the same containers on `-d macvlan` give the same
    reachability matrix.
"""
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import vnetkit as vk
from vnetkit import docker, engines
from vnetkit.enginenet import ping_ok

SUBNET = "198.18.94"
NODES = ("a", "b", "ext")


def main():
    vk.require_root()
    vk.require_tools("dockerd", "containerd", "ctr", "runc", "busybox", "nsenter")
    if not os.access(docker.DOCKER, os.X_OK):
        vk.skip("docker.io's client /usr/bin/docker is not installed (scripts/install-deps.sh)")
    if not os.access(docker.DRIVER, os.X_OK):
        vk.skip(f"{docker.DRIVER} is not built")
    vk.exit_on_signals()
    checks = vk.Checks()
    start = time.time()
    units(checks)
    topo = vk.Topology("dk")
    try:
        with topo, engines.temp_dir("vnet-dk-") as work:
            host = topo.netns("host")
            topo.host = host
            ext = topo.netns("ext")
            parent = vk.unique("dkp")
            topo.ip("host", "link", "add", parent, "type", "veth", "peer", "name", "e0", "netns", ext)
            topo.ip("host", "link", "set", parent, "up")
            topo.ip("ext", "link", "set", "e0", "up")
            topo.ip("ext", "addr", "add", f"{SUBNET}.1/24", "dev", "e0")
            topo.fabrics.append(parent)  # the driver names the fabric after its parent
            with engines.Containerd(work) as ctrd, docker.Driver(work, host) as drv, \
                    docker.Dockerd(work, ctrd, host) as dockerd:
                SOCKETS.extend(drv.sockets)
                image = dockerd.import_image(engines.busybox_rootfs(work))
                scenario(checks, topo, parent, drv, dockerd, image)
                # The second driver name: kind ipvlan (l2), the parent's MAC for every container.
                matrix = run_pair(checks, topo, dockerd, image, f"{drv.name}-ipvlan", parent, "iv")
                checks.check("vnet-ipvlan: containers and ext all reach each other",
                             matrix is not None and all(matrix.values()), matrix)
                checks.check("vnet-ipvlan: the fabric goes with the network",
                             not os.path.exists(f"{vk.PIN_ROOT}/{parent}"))
                # Kind ipvlan l3: the host's FIB routes the ports' traffic
                # (docs/semantics.md 6.7), so the subnet is routed out of the parent.
                topo.ip("host", "route", "add", f"{SUBNET}.0/24", "dev", parent)
                def fabric_is_l3():
                    shown = json.loads(topo.vnetctl("-j", "show", parent).stdout)["fabrics"][0]
                    checks.check("vnet-ipvlan l3: the fabric is ipvlan l3",
                                 (shown["type"], shown["ipvlan_mode"]) == ("ipvlan", "l3"), shown["ipvlan_mode"])
                matrix = run_pair(checks, topo, dockerd, image, f"{drv.name}-ipvlan", parent, "i3",
                                  extra_opts=("-o", "ipvlan_mode=l3"), during=fabric_is_l3)
                topo.ip("host", "route", "del", f"{SUBNET}.0/24", "dev", parent)
                checks.check("vnet-ipvlan l3: containers and ext all reach each other",
                             matrix is not None and all(matrix.values()), matrix)
                # The differential: Docker's own macvlan on the same parent.
                matrix = run_pair(checks, topo, dockerd, image, "macvlan", parent, "mv")
                checks.check("macvlan: reachability matrix equals vnet's", matrix == VNET_MATRIX.get("m"),
                             f"macvlan {matrix} vnet {VNET_MATRIX.get('m')}")
    except Exception as e:  # pylint: disable=broad-except
        checks.fail("setup/teardown", repr(e))
    left = [s for s in SOCKETS if os.path.exists(s)]
    checks.check("no plugin socket of this run is left", not left, left)
    checks.finish("docker", start, [topo])


UNIT_DIR = os.environ.get("VNET_UNIT_DIR") or os.path.join(vk.SRC, "build")


class UnixHTTP(http.client.HTTPConnection):
    """An HTTP connection to a Unix socket, as dockerd makes to a plugin."""

    def __init__(self, path):
        super().__init__("localhost", timeout=5)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.path)


def call(path, method, body):
    conn = UnixHTTP(path)
    try:
        conn.request("POST", f"/{method}", json.dumps(body), {"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        conn.close()


def units(checks):
    """The units as built pass systemd-analyze verify, and the driver serves a
    socket passed the way vnet-docker.socket passes it (LISTEN_FDS)."""
    texts = {}
    for name in ("vnet-docker.service", "vnet-docker.socket"):
        with open(os.path.join(UNIT_DIR, name)) as f:
            texts[name] = f.read()
    listen = re.findall(r"^ListenStream=(.*)$", texts["vnet-docker.socket"], re.M)
    checks.check("vnet-docker.socket listens on vnet.sock and vnet-ipvlan.sock in /run/docker/plugins",
                 listen == ["/run/docker/plugins/vnet.sock", "/run/docker/plugins/vnet-ipvlan.sock"], listen)
    installed = re.search(r"^ExecStart=(\S+)", texts["vnet-docker.service"], re.M).group(1)
    tmp = tempfile.mkdtemp(prefix="vnet-dkunits-")
    proc = None
    try:
        for name, text in texts.items():  # systemd-analyze wants the executable to exist
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text.replace(installed, docker.DRIVER))
        r = subprocess.run(["systemd-analyze", "verify", *(os.path.join(tmp, n) for n in texts)],
                           capture_output=True, text=True)
        problems = [l for l in r.stderr.splitlines() if "vnet-docker" in l]
        checks.check("systemd-analyze verify passes on the driver's units", r.returncode == 0 and not problems,
                     r.stderr)
        if not vk.which("systemd-socket-activate"):
            checks.fail("socket activation", "systemd-socket-activate is not installed")
            return
        sock = os.path.join(tmp, "vnt-ipvlan.sock")
        proc = subprocess.Popen(["systemd-socket-activate", "-l", sock, docker.DRIVER, "--state-dir",
                                 os.path.join(tmp, "state")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        vk.wait_until(lambda: os.path.exists(sock), timeout=5)
        status, body = call(sock, "Plugin.Activate", {})
        checks.check("socket activation: Plugin.Activate answers NetworkDriver",
                     status == 200 and body == {"Implements": ["NetworkDriver"]}, f"{status} {body}")
        status, body = call(sock, "NetworkDriver.GetCapabilities", {})
        checks.check("socket activation: GetCapabilities is local scope",
                     status == 200 and body.get("Scope") == "local", f"{status} {body}")
        status, body = call(sock, "NetworkDriver.CreateNetwork", {
            "NetworkID": "0" * 64, "Options": {"com.docker.network.generic": {"parent": "x0", "kind": "macvlan"}}})
        checks.check("socket activation: the passed socket's name makes it the vnet-ipvlan driver",
                     status == 500 and "vnet-ipvlan driver is kind ipvlan" in body.get("Err", ""), f"{status} {body}")
        status, body = call(sock, "NetworkDriver.NoSuchCall", {})
        checks.check("an unknown call is 404 with Err", status == 404 and body.get("Err"), f"{status} {body}")
    except Exception as e:  # pylint: disable=broad-except
        checks.fail("units and socket activation", repr(e))
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


VNET_MATRIX = {}
SOCKETS = []


def container_ip(dockerd, name, network):
    p = dockerd("inspect", "--format", "{{json .NetworkSettings.Networks}}", name, check=False)
    nets = json.loads(p.stdout) if p.returncode == 0 else {}
    return (nets.get(network) or {}).get("IPAddress")


def execs(dockerd, name):
    return lambda *argv: dockerd("exec", name, *argv, check=False)


def matrix_of(topo, dockerd, names, address):
    """{(src, dst): answered} over the containers and ext."""
    def pinger(node):
        if node == "ext":
            return lambda *argv: topo.exec("ext", *argv, check=False)
        return execs(dockerd, names[node])
    return {(a, b): ping_ok(pinger(a), address[b], tries=2) for a in NODES for b in NODES if a != b}


def run_pair(checks, topo, dockerd, image, driver, parent, tag, extra_opts=(), during=None):
    """A network of `driver` on parent, containers a and b (b with --ip .50);
    returns the reachability matrix (after calling during(), if given, with
    the containers running), and removes the containers and network."""
    net = vk.unique(f"dkn{tag}")
    p = dockerd("network", "create", "-d", driver, "--subnet", f"{SUBNET}.0/24", "--gateway", f"{SUBNET}.1",
                "-o", f"parent={parent}", *extra_opts, net, check=False)
    if not checks.check(f"{tag}: docker network create -d {driver}", p.returncode == 0, p.stderr.strip()):
        return None
    names = {c: vk.unique(f"dk{tag}{c}") for c in ("a", "b")}
    try:
        for c, name in names.items():
            ip = ["--ip", f"{SUBNET}.50"] if c == "b" else []
            p = dockerd("run", "-d", "--name", name, "--network", net, *ip, image, "sleep", "300", check=False)
            checks.check(f"{tag}: docker run {c}", p.returncode == 0, p.stderr.strip())
        address = {c: container_ip(dockerd, n, net) for c, n in names.items()}
        address["ext"] = f"{SUBNET}.1"
        checks.check(f"{tag}: --ip respected", address["b"] == f"{SUBNET}.50", address)
        if during:
            during()
        return matrix_of(topo, dockerd, names, address)
    finally:
        dockerd("rm", "-f", *names.values(), check=False)
        dockerd("network", "rm", net, check=False)


def docker_ports(topo, parent):
    """The ports of the parent's fabric ([] when it is gone)."""
    p = topo.vnetctl("-j", "show", parent, check=False)
    if p.returncode != 0:
        return []
    fabrics = json.loads(p.stdout).get("fabrics", [])
    return fabrics[0].get("ports", []) if fabrics else []


def host_links(topo):
    return json.loads(topo.ip("host", "-j", "link", "show").stdout)


def scenario(checks, topo, parent, drv, dockerd, image):
    net = vk.unique("dknet")
    p = dockerd("network", "create", "-d", drv.name, "--subnet", f"{SUBNET}.0/24", "--gateway", f"{SUBNET}.1",
                "-o", f"parent={parent}", net, check=False)
    if not checks.check("docker network create -d vnet", p.returncode == 0, p.stderr.strip() + drv.log_text()):
        return
    net_id = dockerd("network", "inspect", "--format", "{{.Id}}", net).stdout.strip()
    checks.check("the network has a record", drv.records() == [f"{net_id}.json"], drv.records())
    checks.check("the parent's fabric is attached", os.path.isdir(f"{vk.PIN_ROOT}/{parent}"))

    names = {"a": vk.unique("dka"), "b": vk.unique("dkb")}
    for c, name in names.items():
        ip = ["--ip", f"{SUBNET}.50"] if c == "b" else []
        p = dockerd("run", "-d", "--name", name, "--network", net, "--cap-add", "NET_ADMIN", *ip, image,
                    "sleep", "300", check=False)
        checks.check(f"docker run {c}", p.returncode == 0, p.stderr.strip() + drv.log_text())
    address = {c: container_ip(dockerd, n, net) for c, n in names.items()}
    address["ext"] = f"{SUBNET}.1"
    checks.check("--ip respected", address["b"] == f"{SUBNET}.50", address)
    inside = execs(dockerd, names["b"])("ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout
    checks.check("b's eth0 has the --ip address", f"{SUBNET}.50/24" in inside, inside)

    ports = docker_ports(topo, parent)
    alias_of = {l["ifname"]: l.get("ifalias", "") for l in host_links(topo)}
    aliases = sorted(alias_of.get(p["name"], "") for p in ports)
    checks.check("one port per container, its host end aliased docker:NETWORK:ENDPOINT",
                 len(ports) == 2 and all(a.startswith(f"docker:{net_id}:") for a in aliases), f"{ports} {aliases}")
    checks.check("each port allows only its container's address",
                 sorted(tuple(p.get("allow_ips", [])) for p in ports)
                 == sorted(((f"{address['a']}/32",), (f"{address['b']}/32",))), ports)
    matrix = matrix_of(topo, dockerd, names, address)
    VNET_MATRIX["m"] = matrix
    missing = [f"{a}->{b}" for (a, b), ok in matrix.items() if not ok]
    checks.check("containers and ext all reach each other", not missing, f"unanswered: {missing}")

    # Anti-spoofing: a's own extra address is not one Docker gave it.
    run_a = execs(dockerd, names["a"])
    spoof = f"{SUBNET}.77"
    run_a("ip", "addr", "add", f"{spoof}/24", "dev", "eth0")
    before = vk.fabric_drops(topo, "spoofed_ip", [parent])
    answered = run_a("ping", "-c", "2", "-W", "1", "-I", spoof, address["ext"]).returncode == 0
    after = vk.fabric_drops(topo, "spoofed_ip", [parent])
    grew = vk.drops_grew(before, after)
    checks.check("a spoofed source is not answered", not answered)
    checks.check("the spoofed packets are counted (spoofed_ip)", sum(grew.values()) >= 2, grew)
    run_a("ip", "addr", "del", f"{spoof}/24", "dev", "eth0")

    # dockerd restarted with the containers running: live-restore keeps them.
    dockerd.stop()
    dockerd.start()
    running = dockerd("ps", "--format", "{{.Names}}").stdout.split()
    checks.check("dockerd restarted: the containers still run", all(n in running for n in names.values()), running)
    checks.check("dockerd restarted: a reaches b and ext",
                 ping_ok(run_a, address["b"], 2) and ping_ok(run_a, address["ext"], 2))
    checks.check("dockerd restarted: the ports stay", len(docker_ports(topo, parent)) == 2)

    # The driver restarted: the network and its endpoints come back from the record and the fabric.
    drv.stop()
    drv.start()
    c_name = vk.unique("dkc")
    p = dockerd("run", "-d", "--name", c_name, "--network", net, image, "sleep", "300", check=False)
    checks.check("driver restarted: a new container joins the network", p.returncode == 0, p.stderr.strip())
    c_ip = container_ip(dockerd, c_name, net)
    checks.check("driver restarted: the new container reaches a and ext",
                 bool(c_ip) and ping_ok(execs(dockerd, c_name), address["a"], 2)
                 and ping_ok(execs(dockerd, c_name), address["ext"], 2))
    checks.check("driver restarted: a still reaches b", ping_ok(run_a, address["b"], 2))

    bad_input(checks, topo, parent, drv, dockerd, net_id)

    # Removal: containers, then the network.
    p = dockerd("rm", "-f", *names.values(), c_name, check=False)
    checks.check("docker rm", p.returncode == 0, p.stderr.strip())
    checks.check("no port is left after the containers went", docker_ports(topo, parent) == [],
                 docker_ports(topo, parent))
    left = [l["ifname"] for l in host_links(topo) if l.get("ifalias", "").startswith("docker:")
            or l["ifname"].startswith("vdc")]
    checks.check("no host end or waiting container end is left", not left, left)
    pins = [e for e in os.listdir(f"{vk.PIN_ROOT}/{parent}") if e.startswith("link_port_")] \
        if os.path.isdir(f"{vk.PIN_ROOT}/{parent}") else []
    checks.check("no port link pin is left", not pins, pins)
    p = dockerd("network", "rm", net, check=False)
    checks.check("docker network rm", p.returncode == 0, p.stderr.strip())
    checks.check("the fabric the driver made is gone (no pin)", not os.path.exists(f"{vk.PIN_ROOT}/{parent}"))
    progs = topo.ip("host", "-d", "link", "show", parent).stdout
    checks.check("no XDP program is left on the parent", "xdp" not in progs, progs)
    checks.check("no record is left", drv.records() == [], drv.records())


def bad_input(checks, topo, parent, drv, dockerd, net_id):
    """docker network create fails with the driver's words and leaves nothing."""
    pins_before = sorted(os.listdir(vk.PIN_ROOT)) if os.path.isdir(vk.PIN_ROOT) else []
    cases = [
        ("an unknown option", ["-o", f"parent={parent}", "-o", "color=red"], "option color: unknown"),
        ("no parent", [], "option parent: required"),
        ("a parent that does not exist", ["-o", "parent=nosuchdev0"], "nosuchdev0: no such device"),
        ("ipvlan_mode on a macvlan network", ["-o", f"parent={parent}", "-o", "ipvlan_mode=l3"],
         "is for kind ipvlan"),
        ("passthru next to another network", ["-o", f"parent={parent}", "-o", "macvlan_mode=passthru"],
         "passthru"),
        ("ipvlan on the parent with another fabric policy",
         ["-o", f"parent={parent}", "-o", "kind=ipvlan", "-o", "vnet.unknown=drop"], "vnet.unknown"),
    ]
    # Docker's own IPAM refuses this one before the driver is asked; either says "overlaps".
    cases.append(("a subnet overlapping the running network's", ["-o", f"parent={parent}"], "overlaps"))
    for i, (what, opts, words) in enumerate(cases):
        name = vk.unique("dkbad")
        subnet = f"{SUBNET}.0/25" if "overlapping" in what else f"198.18.{100 + i}.0/24"
        p = dockerd("network", "create", "-d", drv.name, "--subnet", subnet, *opts, name, check=False)
        checks.check(f"bad input ({what}): refused with '{words}'", p.returncode != 0 and words in p.stderr,
                     p.stderr.strip())
        if p.returncode == 0:
            dockerd("network", "rm", name, check=False)
    p = dockerd("network", "create", "-d", f"{drv.name}-ipvlan", "--subnet", "198.18.110.0/24",
                "-o", f"parent={parent}", "-o", "kind=macvlan", vk.unique("dkbad"), check=False)
    checks.check("bad input (kind=macvlan on the vnet-ipvlan driver): refused", p.returncode != 0
                 and "the vnet-ipvlan driver is kind ipvlan" in p.stderr, p.stderr.strip())
    nets = dockerd("network", "ls", "--filter", f"driver={drv.name}", "-q").stdout.split()
    checks.check("bad input: Docker lists only the good network", len(nets) == 1 and net_id.startswith(nets[0]), nets)
    checks.check("bad input: no record is left", drv.records() == [f"{net_id}.json"], drv.records())
    pins_after = sorted(os.listdir(vk.PIN_ROOT)) if os.path.isdir(vk.PIN_ROOT) else []
    new = sorted(set(pins_after) - set(pins_before))
    checks.check("bad input: no fabric is left", not new, new)


if __name__ == "__main__":
    main()
