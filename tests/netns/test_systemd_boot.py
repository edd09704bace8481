#!/usr/bin/python3
"""vnet.service under a real systemd boot: a Debian 12 root file system
(debootstrap from the Debian mirror, cached in the build tree) gets vnet
installed by `meson install --destdir`, the unit enabled and a config with a
mixed fabric (a macvlan bridge port and an ipvlan l2 port, each in its own
namespace). It boots with systemd-nspawn in a network namespace of ours
whose uplink leads to an external namespace: the boot must reach `running`
with vnet.service active, the fabric must forward (the external host pings
both ports), and `systemctl poweroff` (ExecStop: vnetctl down) must leave no
pin, no program on the uplink and promiscuous mode off."""
import os
import shutil
import subprocess
import sys
import time

from vnetkit import Checks, require_root, unique

BUILD = os.environ.get("VNET_UNIT_DIR", "")
ROOT = os.path.join(BUILD or "/var/tmp", "boot-root")
PACKAGES = "systemd,systemd-sysv,dbus,iproute2,libbpf1,libabsl20220623,libtomlplusplus3,libelf1,iputils-ping"
MIRROR = "http://deb.debian.org/debian"
CONFIG = """[fabric.lan]
uplink = "up0"
ipvlan_mode = "l2"

[[fabric.lan.port]]
netns = "c1"
mode = "bridge"

[[fabric.lan.port]]
netns = "c2"
type = "ipvlan"
ips = ["198.18.77.20/24"]
"""
# A stand-in for a container runtime: the namespaces exist before vnet starts.
NETNS_UNIT = """[Unit]
Description=namespaces c1 and c2 (a container runtime's job)
DefaultDependencies=no
Before=vnet.service
After=local-fs.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'ip netns add c1; ip netns add c2'
[Install]
WantedBy=multi-user.target
"""
checks = Checks()


def run(*argv, check_rc=True, timeout=120):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def make_root():
    """The Debian root, built once per build tree."""
    if os.path.exists(os.path.join(ROOT, "etc", "debian_version")) and os.path.exists(os.path.join(ROOT, ".vnet-ok")):
        return True
    shutil.rmtree(ROOT, ignore_errors=True)
    print(f"     debootstrap bookworm into {ROOT}", flush=True)
    p = subprocess.run(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "bookworm", ROOT, MIRROR],
                       capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        print(p.stdout[-2000:], p.stderr[-2000:])
        shutil.rmtree(ROOT, ignore_errors=True)
        return False
    open(os.path.join(ROOT, ".vnet-ok"), "w").close()
    return True


def install_vnet():
    run("meson", "install", "-C", BUILD, "--destdir", ROOT, "--no-rebuild", "--quiet")
    etc = os.path.join(ROOT, "usr/local/etc/vnet")
    os.makedirs(etc, exist_ok=True)
    with open(os.path.join(etc, "vnet.conf"), "w") as f:
        f.write(CONFIG)
    with open(os.path.join(ROOT, "etc/systemd/system/demo-netns.service"), "w") as f:
        f.write(NETNS_UNIT)
    wants = os.path.join(ROOT, "etc/systemd/system/multi-user.target.wants")
    os.makedirs(wants, exist_ok=True)
    for link, target in (("vnet.service", "/usr/local/lib/systemd/system/vnet.service"),
                         ("demo-netns.service", "/etc/systemd/system/demo-netns.service")):
        path = os.path.join(wants, link)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)


def container_pid(nspawn):
    """PID of the container's systemd (the nspawn child)."""
    for _ in range(100):
        p = run("pgrep", "-P", str(nspawn.pid), check_rc=False)
        if p.stdout.strip():
            return int(p.stdout.split()[0])
        time.sleep(0.1)
    return None


def main():
    require_root()
    if not BUILD or not shutil.which("systemd-nspawn") or not shutil.which("debootstrap"):
        print("SKIP: needs the build tree (VNET_UNIT_DIR), systemd-nspawn (systemd-container) and debootstrap")
        return 77
    if not make_root():
        print(f"SKIP: debootstrap from {MIRROR} failed (no mirror reachable?)")
        return 77
    install_vnet()
    host, ext = unique("vbth"), unique("vbte")
    bpffs = os.path.join(BUILD, unique("boot-bpffs"))
    nspawn = None
    try:
        run("ip", "netns", "add", host)
        run("ip", "netns", "add", ext)
        run("ip", "-n", host, "link", "add", "up0", "type", "veth", "peer", "name", "eth0", "netns", ext)
        run("ip", "-n", ext, "addr", "add", "198.18.77.100/24", "dev", "eth0")
        run("ip", "-n", ext, "link", "set", "eth0", "up")
        run("ip", "-n", host, "link", "set", "up0", "up")
        os.makedirs(bpffs)
        run("mount", "-t", "bpf", "bpf", bpffs)
        log = open(os.path.join(BUILD, "boot-nspawn.log"), "w")
        nspawn = subprocess.Popen(
            ["systemd-nspawn", "-D", ROOT, "--boot", f"--network-namespace-path=/run/netns/{host}",
             "--capability=all", "--system-call-filter=bpf", f"--bind={bpffs}:/sys/fs/bpf", "--register=no",
             "--keep-unit", "--console=pipe", "-q"], stdout=log, stderr=subprocess.STDOUT)
        pid = container_pid(nspawn)
        checks.check("systemd-nspawn started the container's systemd", pid is not None)
        inside = ["nsenter", "-t", str(pid), "-m", "-u", "-i", "-n", "-p"]
        state = ""
        for _ in range(60):
            state = run(*inside, "systemctl", "is-system-running", check_rc=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.5)
        checks.check("boot finished: system running", state == "running",
                     state + run(*inside, "systemctl", "--failed", "--no-pager", check_rc=False).stdout)
        active = run(*inside, "systemctl", "is-active", "vnet.service", check_rc=False).stdout.strip()
        checks.check("vnet.service active after boot", active == "active",
                     run(*inside, "journalctl", "-u", "vnet.service", "--no-pager", check_rc=False).stdout[-1500:])
        shown = run(*inside, "/usr/local/sbin/vnetctl", "show", check_rc=False).stdout
        checks.check("the config's fabric exists: two ports, one ipvlan", "fabric lan" in shown and "ipvlan" in shown, shown)
        run(*inside, "ip", "netns", "exec", "c1", "ip", "addr", "add", "198.18.77.10/24", "dev", "eth0")
        for addr in ("198.18.77.10", "198.18.77.20"):
            p = run("ip", "netns", "exec", ext, "ping", "-c", "3", "-i", "0.2", "-W", "1", addr, check_rc=False)
            checks.check(f"external host pings the booted fabric's port {addr}", p.returncode == 0, p.stdout[-300:])
        run(*inside, "systemctl", "poweroff", check_rc=False)
        try:
            nspawn.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        checks.check("poweroff ended the container", nspawn.poll() is not None)
        left = sorted(n for n in os.listdir(bpffs) if n not in ("maps.debug", "progs.debug"))
        checks.check("ExecStop (vnetctl down) left no pin", left == [], left)
        net = run("ip", "netns", "exec", host, "bpftool", "-j", "net", "show", check_rc=False).stdout
        checks.check("no program left on the uplink", '"tc":[]' in net.replace(" ", "") and '"xdp":[]' in net.replace(" ", ""),
                     net)
        link = run("ip", "-n", host, "-d", "link", "show", "up0").stdout
        checks.check("promiscuous mode off again", "promiscuity 0" in link, link)
    finally:
        if nspawn and nspawn.poll() is None:
            nspawn.kill()
            nspawn.wait()
        run("umount", bpffs, check_rc=False)
        shutil.rmtree(bpffs, ignore_errors=True)
        run("ip", "netns", "del", host, check_rc=False)
        run("ip", "netns", "del", ext, check_rc=False)
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
