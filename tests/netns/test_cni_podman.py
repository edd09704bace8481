#!/usr/bin/env python3
"""podman 4.3 with its CNI backend puts busybox containers on a vnet
conflist (issue 12, "Proven with real engines").

    test_cni_podman.py [PLUGIN_TYPE]     default vnet-macvlan; `macvlan` runs
                                         the same test on the reference plugin

The conflist is docs/cni.md's (enginenet.documented); its master is a
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
from vnetkit import enginenet, engines

PLUGIN = sys.argv[1] if len(sys.argv) > 1 else "vnet-macvlan"
CONTAINERS = ("a", "b")


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
                 enginenet.documented_nad_config() == enginenet.documented("engines"))
    topo = vk.Topology("pm")
    try:
        with topo, engines.temp_dir("vnet-pm-") as work:
            netdir = os.path.join(work, "net.d")
            os.makedirs(netdir)
            with enginenet.Network(topo, work, PLUGIN) as net, \
                    engines.Podman(work, netdir, sorted({plugins, engines.REFERENCE_DIR})) as podman:
                net.write(os.path.join(netdir, f"{net.name}.conflist"))
                image = podman.import_image(engines.busybox_rootfs(work))
                scenario(checks, net, podman, image)
    except Exception as e:  # pylint: disable=broad-except
        checks.fail("setup/teardown", repr(e))
    checks.finish(f"cni-podman ({PLUGIN})", start, [topo])


def scenario(checks, net, podman, image):
    names = {c: vk.unique(f"vnetpm{c}") for c in CONTAINERS}
    ids, sandboxes = {}, {}
    for c, name in names.items():
        p = podman("run", "--detach", "--name", name, "--network", net.name, "--cap-add", "NET_RAW",
                   image, "sleep", "300", check=False, timeout=120)
        if not checks.check(f"podman run {c}", p.returncode == 0, p.stderr.strip()):
            return
        ids[c] = p.stdout.strip()
        sandboxes[c] = podman("inspect", "--format", "{{.NetworkSettings.SandboxKey}}", name).stdout.strip()

    execs = {c: (lambda *argv, n=name: podman("exec", n, *argv, check=False)) for c, name in names.items()}
    # podman's CNI_CONTAINERID is the container's full ID
    peers = enginenet.check_up(checks, net, execs, ids)

    p = podman("rm", "--force", "--time", "0", *names.values(), check=False, timeout=120)
    checks.check("podman rm", p.returncode == 0, p.stderr.strip())
    enginenet.check_released(checks, net, peers)
    left_ns = [s for s in sandboxes.values() if s and os.path.exists(s)]
    checks.check("the containers' network namespaces are gone", not left_ns, left_ns)


if __name__ == "__main__":
    main()
