#!/usr/bin/env python3
"""containerd 1.6's `ctr run --cni` puts busybox containers on a vnet
conflist (issue 12, "Proven with real engines").

    test_cni_containerd.py [PLUGIN_TYPE]   default vnet-macvlan; `macvlan` runs
                                           the same test on the reference plugin

ctr has no flag to choose a network: it takes the first conflist in
/etc/cni/net.d and finds plugins in /opt/cni/bin or /usr/lib/cni. So this
test writes /etc/cni/net.d/00-vnet-<unique>.conflist and an executable
/usr/lib/cni/vnet-<unique> (a wrapper that logs each call's command, netns and
exit status into the test's directory, then runs the plugin), and removes
both at the end whatever happens; it runs alone (is_parallel false). The
containerd itself is private (vnetkit/engines.py). Checked, on a master veth
in the root namespace whose peer is in an "ext" namespace: foreground
`ctr run --cni --rm` containers get distinct host-local addresses, reach
each other and ext; when their tasks end, ctr's DEL (with an empty
CNI_NETNS) succeeds and leaves no port, lease, new root-ns link or libcni
cache entry, and the fabric's removal leaves no pin.
"""
import os
import subprocess
import sys
import time

import vnetkit as vk
from vnetkit import enginenet, engines

PLUGIN = sys.argv[1] if len(sys.argv) > 1 else "vnet-macvlan"
CONTAINERS = ("a", "b")
NETD = "/etc/cni/net.d"
BIN = engines.REFERENCE_DIR  # exists on Debian; /opt/cni/bin may not, and would be left behind


def main():
    vk.require_root()
    vk.require_tools("containerd", "ctr", "runc", "busybox")
    vk.exit_on_signals()
    plugins = engines.plugin_dir(PLUGIN)
    if not plugins:
        vk.skip(f"the CNI plugin {PLUGIN} is not built")
    checks = vk.Checks()
    start = time.time()
    topo = vk.Topology("cd")
    wrapper = os.path.join(BIN, vk.unique("vnet-t"))
    conflist = None
    # containerd's CNI library locks the config directory with a file of its
    # own there; it is ours to remove unless it was there before.
    lock = os.path.join(NETD, "cni.lock")
    lock = None if os.path.exists(lock) else lock
    try:
        with topo, engines.temp_dir("vnet-cd-") as work:
            log = os.path.join(work, "calls.log")
            write_wrapper(wrapper, os.path.join(plugins, PLUGIN), log)
            with enginenet.Network(topo, work, os.path.basename(wrapper), vnet=PLUGIN.startswith("vnet")) as net, \
                    engines.Containerd(work) as ctd:
                conflist = net.write(os.path.join(NETD, f"00-vnet-{net.name}.conflist"))
                image = "localhost/vnet-bb:latest"
                ctd.import_image(engines.oci_archive(engines.busybox_rootfs(work), os.path.join(work, "bb.tar"),
                                                     image))
                scenario(checks, net, ctd, image, log)
    except Exception as e:  # pylint: disable=broad-except
        checks.fail("setup/teardown", repr(e))
    finally:
        for path in (conflist, wrapper, lock):
            if path and os.path.exists(path):
                os.unlink(path)
    checks.check("the conflist, the plugin wrapper and the lock file it caused are removed",
                 not any(p and os.path.exists(p) for p in (conflist, wrapper, lock)))
    checks.finish(f"cni-containerd ({PLUGIN})", start, [topo])


def write_wrapper(path, plugin, log):
    """An executable that records CNI_COMMAND, CNI_NETNS and the exit status
    of each call in log, then runs plugin with the same stdin and argv[0]'s
    name (vnet-macvlan takes its kind from it)."""
    with open(path, "w") as f:
        f.write(f"""#!/bin/sh
# vnet test wrapper (tests/netns/test_cni_containerd.py); removed by the test.
"{plugin}" "$@"
rc=$?
echo "$CNI_COMMAND netns=[$CNI_NETNS] rc=$rc" >> "{log}"
exit $rc
""")
    os.chmod(path, 0o755)


def scenario(checks, net, ctd, image, log):
    ids = {c: vk.unique(f"vnetcd{c}") for c in CONTAINERS}
    runs, peers = {}, []
    try:
        for c, cid in ids.items():
            runs[c] = subprocess.Popen(ctd.run_argv(image, cid, "sleep", "120"), stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
            up = vk.wait_until(lambda cid=cid: running(ctd, cid), timeout=30, interval=0.2)
            if not checks.check(f"ctr run --cni {c} runs", up, runs[c].poll() is not None and runs[c].stdout.read()):
                return
        execs = {c: (lambda *argv, cid=cid: ctd.exec(cid, *argv)) for c, cid in ids.items()}
        # containerd's CNI_CONTAINERID is <namespace>-<id>
        peers = enginenet.check_up(checks, net, execs, {c: f"default-{cid}" for c, cid in ids.items()})
        for c, cid in ids.items():
            ctd.ctr("tasks", "kill", "--signal", "SIGKILL", cid, check=False)
        for c, proc in runs.items():
            try:
                out, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            checks.check(f"ctr run {c} ends and removes its container",
                         ids[c] not in ctd.ctr("containers", "list", "--quiet").stdout.split(), out)
    finally:
        vk.reap(runs.values())
    calls = open(log).read().splitlines() if os.path.exists(log) else []
    dels = [line for line in calls if line.startswith("DEL")]
    checks.check("ctr sent one DEL per container, all with an empty CNI_NETNS, all successful",
                 len(dels) == len(CONTAINERS) and all(line == "DEL netns=[] rc=0" for line in dels), calls)
    adds = [line for line in calls if line.startswith("ADD")]
    checks.check("ADDs came with /proc/PID/ns/net and succeeded",
                 len(adds) == len(CONTAINERS) and all("netns=[/proc/" in a and a.endswith("rc=0") for a in adds),
                 calls)
    enginenet.check_released(checks, net, peers)


def running(ctd, cid):
    listing = ctd.ctr("tasks", "list", check=False).stdout.split("\n")
    return any(line.split()[:1] == [cid] and "RUNNING" in line for line in listing)


if __name__ == "__main__":
    main()
