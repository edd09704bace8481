"""guest: real QEMU guests (TCG, no KVM) on vnet taps or kernel macvtaps.

    from vnetkit import guest as gk
    kit = gk.kit()                                   # kernel + initramfs, built once
    with gk.Guest(kit, netns, mac, ip, tap=TAP) as g:         # a vnet tap by name
        g.wait_ready()
        g.run("ping -c 3 -W 1 198.18.0.100")        # -> (exit status, output lines)
    with gk.Guest(kit, netns, mac, ip, macvtap=MVT) as g: ...  # a macvtap, as fd=N

The kit is a Debian cloud kernel taken from its package (apt-get download,
dpkg -x: vmlinuz and the virtio-net modules) and a busybox initramfs whose
/init loads those modules, configures eth0 from the kernel command line,
runs an optional per-guest script, then serves commands read from the serial
console: each line is run by the shell and answered with its output and a
line "END <status>". Results therefore come back on the console, one boot
per guest for any number of probes. The script travels as a second cpio
archive appended to the initramfs (the kernel unpacks both).

The kit is cached in VNET_GUEST_DIR, else VNET_UNIT_DIR (the meson build
tree), else the repository's build/ directory, under guest-kit/; concurrent
tests build it under a flock, into a temporary directory renamed into place.
"""
import fcntl
import glob
import gzip
import io
import os
import queue
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time

from .fixture import SRC, exit_on_signals, require_root, require_tools, run

KERNEL_PACKAGE = "linux-image-cloud-amd64"  # the metapackage names the versioned image
# Load order matters: each needs the ones before it.
MODULES = ("virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "failover",
           "net_failover", "virtio_net")
BOOT_TIMEOUT = 60.0  # TCG on a busy 2-core machine; an idle one boots in ~2 s

INIT = r"""#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in MODULES; do insmod /lib/modules/$m.ko || echo "GUEST-ERROR insmod $m"; done
arg() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" /proc/cmdline; }
ip link set lo up
ip link set eth0 up || echo "GUEST-ERROR no eth0"
[ -n "$(arg vnet.ip)" ] && ip addr add "$(arg vnet.ip)" dev eth0
stty -echo 2>/dev/null
[ -x /probe.sh ] && /probe.sh
echo "GUEST-READY"
while read -r line; do
  sh -c "$line" 2>&1
  echo "END $?"
done
poweroff -f
""".replace("MODULES", " ".join(MODULES))


# -- the kit ------------------------------------------------------------------------
def cache_root():
    base = os.environ.get("VNET_GUEST_DIR") or os.environ.get("VNET_UNIT_DIR") or os.path.join(SRC, "build")
    return os.path.join(base, "guest-kit")


class Kit:
    def __init__(self, root):
        self.root = root
        self.kernel = os.path.join(root, "vmlinuz")
        self.initrd = os.path.join(root, "initrd.gz")


def kit():
    """The cached kit, built first if missing (a flock serialises builders)."""
    root = cache_root()
    os.makedirs(os.path.dirname(root), exist_ok=True)
    done = Kit(root)
    if os.path.exists(done.initrd):
        return done
    with open(root + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(done.initrd):
            tmp = tempfile.mkdtemp(prefix="guest-kit.", dir=os.path.dirname(root))
            try:
                build_kit(tmp)
                os.rename(tmp, root)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
    return done


def prepare(*extra_tools):
    """What every guest test does first: root, QEMU and the kit's tools (and
    extra_tools) present, teardown on SIGTERM/SIGINT; returns the kit."""
    require_root()
    require_tools("qemu-system-x86_64", "cpio", "busybox", "apt-get", "dpkg", *extra_tools)
    exit_on_signals()
    return kit()


def build_kit(out):
    image = run(["sh", "-c", f"apt-cache depends {KERNEL_PACKAGE} | sed -n 's/.*Depends: \\(linux-image-.*\\)/\\1/p'"
                 ]).stdout.split()
    if not image:
        raise RuntimeError(f"guest kit: apt-cache names no image for {KERNEL_PACKAGE}")
    dl = os.path.join(out, "deb")
    os.makedirs(dl)
    os.chmod(dl, 0o777)  # apt-get download may fetch as _apt
    run(["sh", "-c", f"cd {dl} && apt-get download -q {image[0]}"], timeout=300)
    debs = glob.glob(os.path.join(dl, "*.deb"))
    if len(debs) != 1:
        raise RuntimeError(f"guest kit: apt-get download {image[0]} left {debs}")
    tree = os.path.join(out, "pkg")
    run(["dpkg", "-x", debs[0], tree], timeout=300)
    shutil.copy(glob.glob(os.path.join(tree, "boot", "vmlinuz-*"))[0], os.path.join(out, "vmlinuz"))
    rootfs = os.path.join(out, "rootfs")
    for d in ("bin", "sbin", "proc", "sys", "dev", "lib/modules", "tmp"):
        os.makedirs(os.path.join(rootfs, d))
    for name in MODULES:
        found = glob.glob(os.path.join(tree, "lib", "modules", "*", "kernel", "**", name + ".ko"), recursive=True)
        if not found:
            raise RuntimeError(f"guest kit: {image[0]} has no module {name}.ko")
        shutil.copy(found[0], os.path.join(rootfs, "lib", "modules", name + ".ko"))
    shutil.copy("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    applets = run(["/bin/busybox", "--list"]).stdout.split()
    for applet in applets:
        if applet != "busybox":
            os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    with open(os.path.join(rootfs, "init"), "w") as f:
        f.write(INIT)
    os.chmod(os.path.join(rootfs, "init"), 0o755)
    run(["sh", "-c", f"cd {rootfs} && find . | cpio -o -H newc --quiet | gzip -1 > {out}/initrd.gz"], timeout=300)
    shutil.rmtree(tree)
    shutil.rmtree(dl)
    shutil.rmtree(rootfs)


def with_libraries(binary):
    """{path: path} of a host binary and the shared libraries ldd names for
    it (the dynamic loader included), to put into a guest at the same paths."""
    files = {binary: binary}
    for line in run(["ldd", binary]).stdout.splitlines():
        for word in line.split():
            if word.startswith("/"):
                files[word] = word
    return {guest: os.path.realpath(host) for guest, host in files.items()}


def archive_files(extra_files):
    """newc()'s {path: (mode, bytes)} for {guest path: host path}, with the
    parent directories first: the kernel makes none when it unpacks."""
    files = {}
    for guest_path, host_path in extra_files.items():
        parts = guest_path.strip("/").split("/")
        for i in range(1, len(parts)):
            files.setdefault("/".join(parts[:i]), (0o040755, b""))
        with open(host_path, "rb") as f:
            files["/".join(parts)] = (0o100755, f.read())
    return files


def newc(files):
    """An uncompressed newc cpio archive of {path: (mode, bytes)}."""
    out = io.BytesIO()

    def entry(name, mode, data, ino):
        name_b = name.encode() + b"\0"
        head = "070701" + "".join(f"{v:08x}" for v in (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
        out.write(head.encode() + name_b)
        out.write(b"\0" * (-(110 + len(name_b)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))

    for ino, (name, (mode, data)) in enumerate(files.items(), start=1):
        entry(name, mode, data, ino)
    entry("TRAILER!!!", 0, b"", 0)
    return out.getvalue()


# -- a macvtap's character device -------------------------------------------------------
def macvtap_node(netns, name, directory):
    """A device node for macvtap `name` (in netns) made in directory:
    /dev/tapIFINDEX belongs to the root namespace's udev, so make our own."""
    ifindex = run(["ip", "-n", netns, "-o", "link", "show", name]).stdout.split(":")[0].strip()
    dev = run(["ip", "netns", "exec", netns, "cat", f"/sys/class/net/{name}/macvtap/tap{ifindex}/dev"]).stdout
    major, minor = map(int, dev.strip().split(":"))
    node = os.path.join(directory, f"tap{ifindex}")
    os.mknod(node, 0o600 | stat.S_IFCHR, os.makedev(major, minor))
    return node


# -- a guest --------------------------------------------------------------------------
class Guest:
    """One QEMU guest in network namespace `netns` with one virtio-net NIC
    (MAC mac) on the vnet tap `tap` (QEMU attaches by name) or the macvtap
    `macvtap` (QEMU gets its /dev/tapN as fd=N, as libvirt does). One vCPU
    per queue: virtio-net enables no more queue pairs than CPUs. ip: the
    address eth0 gets ("A.B.C.D/24"), script: shell run once before the
    command loop (its output is in .lines). A context manager: QEMU is
    killed on exit whatever happens. extra_files: {guest path: host path}
    copied into this guest's initramfs (with_libraries() for a program);
    raise memory for big ones, the initramfs lives in the guest's RAM."""

    def __init__(self, kit_, netns, mac, ip=None, tap=None, macvtap=None, queues=1, script=None, memory=128,
                 name="guest", extra_files=None):
        assert (tap is None) != (macvtap is None), "one of tap= and macvtap="
        self.kit, self.netns, self.mac, self.ip, self.name = kit_, netns, mac, ip, name
        self.tap, self.macvtap, self.queues, self.script, self.memory = tap, macvtap, queues, script, memory
        self.extra_files = extra_files or {}
        self.proc = None
        self.lines = []  # every console line so far
        self._queue = queue.Queue()
        self._tmp = None
        self._fds = []

    def __enter__(self):
        self._tmp = tempfile.mkdtemp(prefix="vnet-guest-")
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _initrd(self):
        path = os.path.join(self._tmp, "initrd")
        with open(self.kit.initrd, "rb") as base, open(path, "wb") as out:
            shutil.copyfileobj(base, out)
            files = archive_files(self.extra_files)
            if self.script:
                files["probe.sh"] = (0o100755, ("#!/bin/sh\n" + self.script).encode())
            if files:
                out.write(gzip.compress(newc(files), 1))
        return path

    def _start(self):
        mq = self.queues > 1
        if self.tap:
            netdev = f"tap,id=n0,ifname={self.tap},script=no,downscript=no"
        else:
            node = macvtap_node(self.netns, self.macvtap, self._tmp)
            # One open of the node per queue: each fd is one queue of the macvtap.
            self._fds = [os.open(node, os.O_RDWR) for _ in range(self.queues)]
            netdev = "tap,id=n0," + (f"fds={':'.join(map(str, self._fds))}" if mq else f"fd={self._fds[0]}")
        if mq:
            netdev += f",queues={self.queues}" if self.tap else ""
        device = f"virtio-net-pci,netdev=n0,mac={self.mac}" + (f",mq=on,vectors={2 * self.queues + 2}" if mq else "")
        append = "console=ttyS0 quiet panic=-1" + (f" vnet.ip={self.ip}" if self.ip else "")
        argv = ["nsenter", f"--net=/run/netns/{self.netns}", "qemu-system-x86_64", "-accel", "tcg", "-m",
                str(self.memory), "-smp", str(self.queues), "-nodefaults", "-no-user-config", "-display", "none", "-serial",
                "stdio", "-monitor", "none", "-no-reboot", "-kernel", self.kit.kernel, "-initrd", self._initrd(),
                "-append", append, "-netdev", netdev, "-device", device]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     pass_fds=self._fds, start_new_session=True)
        for fd in self._fds:  # QEMU holds its copies
            os.close(fd)
        self._fds = []
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").replace("\r", "").rstrip("\n")
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def _next(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{self.name}: console silent; last lines {self.lines[-8:]}")
        try:
            line = self._queue.get(timeout=left)
        except queue.Empty:
            raise TimeoutError(f"{self.name}: console silent; last lines {self.lines[-8:]}") from None
        if line is None:
            raise RuntimeError(f"{self.name}: QEMU ended (exit {self.proc.wait()}); last lines {self.lines[-12:]}")
        return line

    def wait_ready(self, timeout=BOOT_TIMEOUT):
        """Waits for the command loop; returns the lines the boot printed."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            line = self._next(deadline)
            if "GUEST-ERROR" in line:
                raise RuntimeError(f"{self.name}: {line}")
            if line.strip() == "GUEST-READY":
                return seen
            seen.append(line)

    def run(self, command, timeout=60):
        """(exit status, output lines) of one shell command run in the guest."""
        assert "\n" not in command
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        out = []
        while True:
            line = self._next(deadline)
            if line.startswith("END "):
                return int(line.split()[1]), out
            out.append(line)

    def results(self, lines=None):
        """{name: value} of the `RESULT name value` lines (all console lines by default)."""
        got = {}
        for line in self.lines if lines is None else lines:
            parts = line.split(None, 2)
            if len(parts) == 3 and parts[0] == "RESULT":
                got[parts[1]] = parts[2]
        return got

    def stop(self, timeout=10):
        """Ends QEMU (SIGTERM, then SIGKILL); returns its exit status."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
        return self.proc.returncode if self.proc else None

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            for fd in self._fds:
                os.close(fd)
            if self._tmp:
                shutil.rmtree(self._tmp, ignore_errors=True)
        return False


def boot_all(guests, timeout=BOOT_TIMEOUT):
    """Waits for every (already started) guest's command loop, concurrently
    booting ones included."""
    for g in guests:
        g.wait_ready(timeout)


# -- for vnet-bench --guests ----------------------------------------------------------
def bench_kit(out, binaries):
    """The kit with `binaries` (and their libraries) in its initramfs, for a
    program that boots guests itself: DIR/vmlinuz and DIR/initrd.gz (the
    cached kit's initramfs with a second archive appended). Returns the paths."""
    base = prepare("ldd", *binaries)
    os.makedirs(out, exist_ok=True)
    kernel, initrd = os.path.join(out, "vmlinuz"), os.path.join(out, "initrd.gz")
    extra = {}
    for b in binaries:
        extra.update(with_libraries(b))
    files = archive_files(extra)
    tmp = f".{os.getpid()}.tmp"  # renamed into place: a concurrent run reads whole files
    shutil.copy(base.kernel, kernel + tmp)
    with open(base.initrd, "rb") as src, open(initrd + tmp, "wb") as dst:
        shutil.copyfileobj(src, dst)
        if files:
            dst.write(gzip.compress(newc(files), 1))
    os.rename(kernel + tmp, kernel)
    os.rename(initrd + tmp, initrd)
    return {"kernel": kernel, "initrd": initrd}


def main(argv):
    import argparse
    import json
    ap = argparse.ArgumentParser(prog="python3 -m vnetkit.guest",
                                 description="Prepares the guest kit (cached) for a program that boots guests itself.")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="write DIR/vmlinuz and DIR/initrd.gz; print their paths as JSON")
    p.add_argument("--out", required=True, help="directory for vmlinuz and initrd.gz")
    p.add_argument("--with", dest="binaries", action="append", default=[],
                   help="a host program to copy into the initramfs with its libraries (repeatable)")
    args = ap.parse_args(argv)
    print(json.dumps(bench_kit(args.out, args.binaries)))
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))
