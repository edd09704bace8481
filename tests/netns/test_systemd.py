#!/usr/bin/python3
"""The systemd units as built: `systemd-analyze verify` passes, the ordering
and service type are what boot needs, no sandboxing hides /sys/fs/bpf, and the
boot path works for real: vnet.service's ExecStart line (pointed at a test
config) builds a forwarding fabric from nothing, its ExecStop removes it all."""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

from vnetkit import Checks, PIN_ROOT, VNETCTL, Topology, build_l2, ping, require_root, unique

UNIT_DIR = os.environ.get("VNET_UNIT_DIR") or os.path.join(os.path.dirname(VNETCTL), "..")
SANDBOXING = ("ProtectSystem", "ProtectKernelTunables", "ProtectKernelModules", "PrivateNetwork", "PrivateTmp",
              "PrivateDevices", "ProtectControlGroups", "RestrictNamespaces", "CapabilityBoundingSet",
              "TemporaryFileSystem", "InaccessiblePaths", "ReadOnlyPaths")
checks = Checks()


def unit_text(name):
    with open(os.path.join(UNIT_DIR, name)) as f:
        return f.read()


def directive(text, key):
    return [m.group(1).strip() for m in re.finditer(rf"^{key}=(.*)$", text, re.M)]


def main():
    require_root()
    service, monitor = unit_text("vnet.service"), unit_text("vnet-monitor.service")
    installed = directive(service, "ExecStart")[0].split()[0]

    # systemd-analyze checks executables exist: verify copies that run this build's vnetctl.
    tmp = tempfile.mkdtemp(prefix="vnet-units-")
    try:
        for name, text in (("vnet.service", service), ("vnet-monitor.service", monitor)):
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text.replace(installed, os.path.abspath(VNETCTL)))
        r = subprocess.run(["systemd-analyze", "verify", os.path.join(tmp, "vnet.service"),
                            os.path.join(tmp, "vnet-monitor.service")], capture_output=True, text=True)
        problems = [l for l in r.stderr.splitlines() if "vnet" in l]
        checks.check("systemd-analyze verify passes", r.returncode == 0 and not problems, r.stderr)
    finally:
        shutil.rmtree(tmp)

    checks.check("vnet.service is oneshot with RemainAfterExit",
                 directive(service, "Type") == ["oneshot"] and directive(service, "RemainAfterExit") == ["yes"])
    checks.check("ordered before network-pre.target, which it wants",
                 "network-pre.target" in " ".join(directive(service, "Before"))
                 and "network-pre.target" in " ".join(directive(service, "Wants")))
    checks.check("ordered after bpffs is mounted", "sys-fs-bpf.mount" in " ".join(directive(service, "After")))
    checks.check("waits for late uplinks", "--wait" in directive(service, "ExecStart")[0])
    used = [k for k in SANDBOXING if directive(service, k) or directive(monitor, k)]
    checks.check("no sandboxing that would hide /sys/fs/bpf or the netns", not used, used)
    checks.check("ExecStop is vnetctl down", directive(service, "ExecStop")[0].endswith("vnetctl down"))

    # The boot path, for real, in the test's own "host" namespace.
    with Topology("sd") as t:
        build_l2(t, "none", "bridge", hairpin=False, containers=2)
        fabric = unique("sdf")
        t.fabrics.append(fabric)
        conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
        conf.write(f'[fabric.{fabric}]\nuplink = "up0"\n'
                   + "".join(f'[[fabric.{fabric}.port]]\nnetns = "{t.ns(c)}"\nmode = "bridge"\n' for c in ("c1", "c2")))
        conf.close()
        try:
            checks.check("no vnet state before boot", not os.path.exists(f"{PIN_ROOT}/{fabric}"))

            def run_line(key):
                argv = [conf.name if a.endswith("/vnet/vnet.conf") else a for a in shlex.split(directive(service, key)[0])]
                argv[0] = os.path.abspath(VNETCTL)
                return subprocess.run(["nsenter", f"--net=/run/netns/{t.host}", *argv], capture_output=True, text=True)

            r = run_line("ExecStart")
            checks.check("ExecStart builds the fabric", r.returncode == 0 and os.path.isdir(f"{PIN_ROOT}/{fabric}"), r.stderr)
            for role, i in (("c1", 11), ("c2", 12)):
                t.ip(role, "addr", "add", f"198.18.0.{i}/24", "dev", "eth0")
            checks.check("the booted fabric forwards (c1 <-> c2, ext -> c1)",
                         ping(t, "c1", "198.18.0.12") and ping(t, "ext", "198.18.0.11"))
            r = run_line("ExecStop")
            links = t.ip("host", "-o", "link").stdout
            checks.check("ExecStop leaves nothing", r.returncode == 0 and not os.path.exists(f"{PIN_ROOT}/{fabric}")
                         and "vnp" not in links and "xdp" not in links, (r.stderr, links))
        finally:
            os.unlink(conf.name)
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
