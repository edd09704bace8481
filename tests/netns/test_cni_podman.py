#!/usr/bin/env python3
"""podman 4.3 with its CNI backend puts busybox containers on a vnet
conflist (issue 12, "Proven with real engines").

    test_cni_podman.py [PLUGIN_TYPE]     default vnet-macvlan; `macvlan` runs
                                         the same test on the reference plugin

The conflist is docs/cni.md's (engines.documented); its master is a
uniquely named veth in the root namespace (podman runs its plugins there)
whose peer is in an "ext" namespace made here. podman's state, conflist
directory and plugin directories are private (vnetkit/engines.py), so
/etc/cni/net.d and its 87-podman-bridge are never read. Checked: every
container gets a distinct host-local address whose lease names it, the
containers reach each other and ext (and ext reaches them), the vnet fabric
has a port per container; then `podman rm` leaves no port, no new root-ns
link, no lease, no netns, no libcni cache entry, and the fabric's removal
leaves no pin.
"""
import os
import sys
import time

import vnetkit as vk
from vnetkit import engines

PLUGIN = sys.argv[1] if len(sys.argv) > 1 else "vnet-macvlan"
CONTAINERS = ("a", "b", "c")


def main():
    vk.require_root()
    vk.require_tools("podman", "runc", "conmon", "busybox")
    vk.exit_on_signals()
    plugins = engines.plugin_dir(PLUGIN)
    if not plugins:
        vk.skip(f"the CNI plugin {PLUGIN} is not built")
    checks = vk.Checks()
    start = time.time()
    # What docs/cni.md gives Multus must be what this test runs.
    checks.check("docs: the Multus config is the engines' conflist",
                 engines.documented_nad_config() == engines.documented("engines"))
    topo = vk.Topology("pm")
    try:
        with topo, engines.temp_dir("vnet-pm-") as work:
            netdir = os.path.join(work, "net.d")
            os.makedirs(netdir)
            with engines.Network(topo, work, PLUGIN) as net, \
                    engines.Podman(work, netdir, sorted({plugins, engines.REFERENCE_DIR})) as podman:
                net.write(os.path.join(netdir, f"{net.name}.conflist"))
                image = podman.import_image(engines.busybox_rootfs(work))
                scenario(checks, net, podman, image)
    except Exception as e:  # pylint: disable=broad-except
        checks.fail("setup/teardown", repr(e))
    checks.finish(f"cni-podman ({PLUGIN})", start, [topo])


def scenario(checks, net, podman, image):
    links_before = engines.root_links()
    names = {c: vk.unique(f"vnetpm{c}") for c in CONTAINERS}
    ids, sandboxes = {}, {}
    for c, name in names.items():
        p = podman("run", "--detach", "--name", name, "--network", net.name, "--cap-add", "NET_RAW",
                   image, "sleep", "300", check=False, timeout=120)
        if not checks.check(f"podman run {c}", p.returncode == 0, p.stderr.strip()):
            return
        ids[c] = p.stdout.strip()
        sandboxes[c] = podman("inspect", "--format", "{{.NetworkSettings.SandboxKey}}", name).stdout.strip()

    address = {c: container_address(podman, names[c]) for c in CONTAINERS}
    address["ext"] = f"{net.subnet}.1"
    leases = net.leases()
    checks.check("each container has a host-local address", all(address.values()), address)
    checks.check("addresses are distinct", len(set(address.values())) == len(address), address)
    checks.check("each address is leased to its container",
                 all(leases.get(address[c], "").startswith(ids[c]) for c in CONTAINERS), f"{leases} {ids}")
    cache = engines.cni_cache_files(net.name)
    checks.check("libcni cached a result per container", len(cache) == len(CONTAINERS), cache)
    ports = net.fabric_ports()
    if ports is not None:
        checks.check("the fabric has a port per container", len(ports) == len(CONTAINERS), ports)

    def pinger(node):
        if node == "ext":
            return lambda *argv: net.topo.exec("ext", *argv, check=False)
        return lambda *argv: podman("exec", names[node], *argv, check=False)

    nodes = list(CONTAINERS) + ["ext"]
    matrix = engines.reachability(nodes, address, pinger)
    missing = [f"{a}->{b}" for (a, b), ok in matrix.items() if not ok]
    checks.check("containers and ext all reach each other", not missing, f"unanswered: {missing}")

    p = podman("rm", "--force", "--time", "0", *names.values(), check=False, timeout=120)
    checks.check("podman rm", p.returncode == 0, p.stderr.strip())
    check_released(checks, net, links_before, sandboxes)


def container_address(podman, name):
    """The IPv4 address on the container's eth0 (busybox ip), or None."""
    p = podman("exec", name, "ip", "-4", "-o", "addr", "show", "dev", "eth0", check=False)
    words = p.stdout.split()
    return words[words.index("inet") + 1].split("/")[0] if "inet" in words else None


def check_released(checks, net, links_before, sandboxes):
    """What `podman rm` must have released, then the fabric's own removal."""
    checks.check("no lease is left", not net.leases(), net.leases())
    left_links = engines.root_links() - links_before
    checks.check("no new link is left in the root namespace", not left_links, left_links)
    left_ns = [s for s in sandboxes.values() if s and os.path.exists(s)]
    checks.check("the containers' network namespaces are gone", not left_ns, left_ns)
    cache = engines.cni_cache_files(net.name)
    checks.check("libcni keeps no cached result", not cache, cache)
    if net.fabric:
        ports = net.fabric_ports()
        checks.check("the fabric has no port left", ports == [], ports)
        pins = [e for e in os.listdir(f"{vk.PIN_ROOT}/{net.fabric}") if "port" in e] \
            if os.path.isdir(f"{vk.PIN_ROOT}/{net.fabric}") else []
        checks.check("no port pin is left", not pins, pins)
        net.__exit__(None, None, None)  # detach now: the pin check follows
        checks.check("the removed fabric leaves no pin", not os.path.exists(f"{vk.PIN_ROOT}/{net.fabric}"))


if __name__ == "__main__":
    main()
