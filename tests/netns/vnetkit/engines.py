"""Real container engines for the CNI tests, with nothing of theirs shared
with the machine: a busybox image built here (no registry), podman with its
own containers.conf, storage, run and tmp directories, and a containerd
started with its own config, root, state and sockets and stopped by PID.

    from vnetkit import engines
    with engines.temp_dir("vnet-pm-") as work:
        with enginenet.Network(topo, work, "vnet-macvlan") as net, \
                engines.Podman(work, netdir, [engines.plugin_dir("vnet-macvlan")]) as podman:
            net.write(os.path.join(netdir, net.name + ".conflist"))
            image = podman.import_image(engines.busybox_rootfs(work))
            ...  podman("run", ...), then enginenet.check_up / check_released

The network the containers join and the checks made on it are in
vnetkit/enginenet.py. Every class is a context manager whose
__exit__ removes what it made, also when the test failed; tests turn SIGTERM
into SystemExit with vk.exit_on_signals() so that runs on a timeout too. The
one thing no flag keeps private is containerd's shim socket directory
/run/containerd/s: it is removed when empty and this process created it
(see Containerd.__exit__).
"""
import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import time

from . import cni
from .fixture import CommandError, run, unique, which

# The applets the tests use; busybox-static runs as any of them by argv[0].
APPLETS = ("sh", "ip", "ping", "udhcpc", "sleep", "cat", "ifconfig")


def busybox_rootfs(parent):
    """A minimal root filesystem under parent: the static busybox and its
    applet links, plus the directories runc mounts over. Returns its path."""
    busybox = which("busybox")
    if not busybox:
        raise CommandError("busybox-static is not installed (scripts/install-deps.sh)")
    root = os.path.join(parent, "rootfs")
    for d in ("bin", "dev", "etc", "proc", "sys", "tmp", "run"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy2(busybox, os.path.join(root, "bin", "busybox"))
    for applet in APPLETS:
        os.symlink("busybox", os.path.join(root, "bin", applet))
    return root


def _blob(layout, data):
    """Stores data as a content-addressed blob of an OCI layout; (digest, size)."""
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return f"sha256:{digest}", len(data)


def oci_archive(rootfs, path, name):
    """Writes an OCI image archive of rootfs (one uncompressed layer) named
    `name` to path, for `ctr images import`: containerd needs no podman."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as t:
        t.add(rootfs, arcname=".")
    layout = path + ".d"
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    layer_digest, layer_size = _blob(layout, layer.getvalue())
    config = {"architecture": "amd64", "os": "linux", "config": {},
              "rootfs": {"type": "layers", "diff_ids": [layer_digest]}}  # uncompressed: diff id = digest
    config_digest, config_size = _blob(layout, json.dumps(config).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": config_digest, "size": config_size},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": layer_digest, "size": layer_size}]}
    manifest_digest, manifest_size = _blob(layout, json.dumps(manifest).encode())
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
        "size": manifest_size, "annotations": {"io.containerd.image.name": name,
                                                "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]}}]}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with tarfile.open(path, "w") as t:
        for entry in ("oci-layout", "index.json", "blobs"):
            t.add(os.path.join(layout, entry), arcname=entry)
    shutil.rmtree(layout)
    return path


REFERENCE_DIR = cni.REF_DIR  # Debian's containernetworking-plugins


def plugin_dir(plugin_type):
    """The directory holding the CNI plugin named plugin_type: Debian's for the
    reference plugins, else the build tree's (vnetkit.cni.CNI_DIR), or None
    when it is not built."""
    for d in (REFERENCE_DIR, cni.CNI_DIR):
        if os.access(os.path.join(d, plugin_type), os.X_OK):
            return os.path.realpath(d)
    return None


@contextlib.contextmanager
def temp_dir(prefix):
    """A private directory under /tmp, removed with everything in it at the end.
    Mounts an engine left inside it (a crashed container's rootfs) are
    detached first, so rm never crosses into them."""
    path = os.path.realpath(os.path.join("/tmp", unique(prefix)))
    os.makedirs(path)
    try:
        yield path
    finally:
        unmount_under(path)
        shutil.rmtree(path, ignore_errors=True)


def unmount_under(path):
    """Lazily unmounts every mount point at or below path, deepest first."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for point in sorted((p for p in points if p == path or p.startswith(path + "/")), key=len, reverse=True):
        run(["umount", "-l", point], check=False)


SYSTEM_CACHE_ROOT = "/var/lib/containers"


class Podman(contextlib.AbstractContextManager):
    """podman 4.3 with the CNI backend and state of its own under work:
    containers.conf (runc, the CNI backend, networks from netdir, plugins
    from plugin_dirs, rlimits this VM allows, file locks), storage (vfs:
    no overlay on overlay), run root and tmp dir. Never reads
    /etc/cni/net.d, never writes /run/libpod; /var/lib/containers (the
    blob-info cache) goes at the end when this run made it."""

    def __init__(self, work, netdir, plugin_dirs):
        self.dir = os.path.join(work, "podman")
        os.makedirs(os.path.join(self.dir, "tmp"))
        self.conf = os.path.join(self.dir, "containers.conf")
        quoted = ", ".join(json.dumps(d) for d in plugin_dirs)
        with open(self.conf, "w") as f:
            f.write(f"""[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
lock_type = "file"
tmp_dir = "{self.dir}/tmp"
image_copy_tmp_dir = "{self.dir}/tmp"
events_logger = "file"

[network]
network_backend = "cni"
network_config_dir = "{netdir}"
cni_plugin_dirs = [{quoted}]
""")
        self.argv = [which("podman") or "podman", "--root", os.path.join(self.dir, "root"),
                     "--runroot", os.path.join(self.dir, "run"), "--storage-driver", "vfs",
                     "--cni-config-dir", netdir]
        self.env = dict(os.environ, CONTAINERS_CONF=self.conf)
        # podman 4.3 keeps root's image blob-info cache in /var/lib/containers/cache
        # whatever --root says: remove it at the end if this run made it.
        self.made_cache = not os.path.exists(SYSTEM_CACHE_ROOT)

    def __call__(self, *args, check=True, timeout=60, input=None):
        """Runs one podman command with this private state."""
        p = subprocess.run(self.argv + list(args), capture_output=True, text=True, timeout=timeout,
                           input=input, env=self.env)
        if check and p.returncode != 0:
            raise CommandError(f"podman {' '.join(args)} -> {p.returncode}\n{p.stdout}{p.stderr}")
        return p

    def import_image(self, rootfs, name="localhost/vnet-bb:latest"):
        """Imports rootfs as image name (podman import of a tar stream)."""
        tar = subprocess.run(["tar", "-C", rootfs, "-c", "."], capture_output=True, check=True).stdout
        p = subprocess.run(self.argv + ["import", "-", name], input=tar, capture_output=True,
                           env=self.env, timeout=60)
        if p.returncode != 0:
            raise CommandError(f"podman import -> {p.returncode}\n{p.stderr.decode()}")
        return name

    def __exit__(self, *exc):
        # Containers first (their CNI DEL runs here), then the images; the
        # directory itself goes with the caller's temp_dir.
        self("rm", "--all", "--force", "--time", "0", check=False, timeout=120)
        self("rmi", "--all", "--force", check=False, timeout=60)
        if self.made_cache:
            shutil.rmtree(SYSTEM_CACHE_ROOT, ignore_errors=True)
        return False


class Containerd(contextlib.AbstractContextManager):
    """A containerd of its own: config, root, state, opt dir and gRPC/ttrpc
    sockets under work, the CRI plugin off; `ctr` talks to it through
    self.ctr(). The FIFOs and runc root of `ctr run` are private too
    (run_argv). Stopped by its PID; shims it started are stopped by PID."""

    def __init__(self, work):
        self.dir = os.path.join(work, "containerd")
        os.makedirs(self.dir)
        self.socket = os.path.join(self.dir, "containerd.sock")
        self.config = os.path.join(self.dir, "config.toml")
        with open(self.config, "w") as f:
            f.write(f"""version = 2
root = "{self.dir}/root"
state = "{self.dir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{self.socket}"
[ttrpc]
  address = "{self.dir}/ttrpc.sock"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{self.dir}/opt"
""")
        self.proc = None
        self.log = None
        self.made_run_dirs = []  # /run/containerd parts this process created

    def __enter__(self):
        # The shims put their sockets in /run/containerd/s whatever the
        # config says: remember which of those directories are ours to remove.
        for d in ("/run/containerd", "/run/containerd/s", "/run/containerd/fifo"):
            if not os.path.exists(d):
                self.made_run_dirs.append(d)
        self.log = open(os.path.join(self.dir, "containerd.log"), "w")
        self.proc = subprocess.Popen([which("containerd") or "containerd", "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while self.ctr("version", check=False).returncode != 0:
            if self.proc.poll() is not None or time.time() > deadline:
                self.__exit__(None, None, None)
                raise CommandError(f"containerd did not start:\n{self.log_text()}")
            time.sleep(0.1)
        return self

    def log_text(self):
        with open(os.path.join(self.dir, "containerd.log")) as f:
            return f.read()[-3000:]

    def ctr(self, *args, check=True, timeout=60):
        return run(["ctr", "--address", self.socket, *args], check=check, timeout=timeout)

    def exec(self, cid, *argv, check=False, timeout=60):
        """argv in the running task cid (`ctr tasks exec`, private FIFOs)."""
        return self.ctr("tasks", "exec", "--fifo-dir", os.path.join(self.dir, "fifo"), "--exec-id", unique("x"),
                        cid, *argv, check=check, timeout=timeout)

    def import_image(self, archive):
        self.ctr("images", "import", "--snapshotter", "native", archive, timeout=120)

    def run_argv(self, image, cid, *command, cni=True):
        """The argv of a foreground `ctr run --rm` (only a foreground run
        calls CNI DEL, after the task exits), with private FIFOs and runc root."""
        argv = ["ctr", "--address", self.socket, "run", "--rm", "--snapshotter", "native",
                "--fifo-dir", os.path.join(self.dir, "fifo"), "--runc-root", os.path.join(self.dir, "runc")]
        if cni:
            argv.append("--cni")
        return argv + [image, cid, *command]

    def shim_pids(self):
        """PIDs of the shims serving this containerd (their -address is our socket)."""
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and os.path.basename(argv[0]).startswith(b"containerd-shim") and self.socket.encode() in argv:
                pids.append(int(pid))
        return pids

    def tasks(self):
        """{task id: pid} of this containerd's tasks (pid 0 when it has none)."""
        out = {}
        with contextlib.suppress(subprocess.TimeoutExpired):
            for line in self.ctr("tasks", "list", check=False, timeout=10).stdout.splitlines()[1:]:
                words = line.split()
                if len(words) >= 2 and words[1].isdigit():
                    out[words[0]] = int(words[1])
        return out

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            # The containers' own processes first, by PID: a task whose ctr
            # client was killed midway may not answer `ctr tasks kill`.
            tasks = self.tasks()
            for pid in tasks.values():
                if pid > 0:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                for task in tasks:
                    self.ctr("tasks", "delete", "--force", task, check=False, timeout=10)
                for container in self.ctr("containers", "list", "--quiet", check=False, timeout=10).stdout.split():
                    self.ctr("containers", "delete", container, check=False, timeout=10)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in self.shim_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.log:
            self.log.close()
        unmount_under(self.dir)
        for d in reversed(self.made_run_dirs):
            with contextlib.suppress(OSError):
                os.rmdir(d)  # only when empty: someone else's shim may be using it
        return False
