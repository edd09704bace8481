"""Real container engines for the CNI tests, with nothing of theirs shared
with the machine: a busybox image built here (no registry), podman with its
own containers.conf, storage, run and tmp directories, and a containerd
started with its own config, root, state and sockets and stopped by PID.

    from vnetkit import engines
    with engines.temp_dir("vnet-pm-") as work:
        with engines.Network(topo, work, "vnet-macvlan") as net, \
                engines.Podman(work, netdir, [engines.plugin_dir("vnet-macvlan")]) as podman:
            net.write(os.path.join(netdir, net.name + ".conflist"))
            image = podman.import_image(engines.busybox_rootfs(work))
            ...  podman("run", ...), then engines.check_up / check_released

Network is the test network (a root-namespace veth master, its peer in an
"ext" namespace, docs/cni.md's conflist: `documented`); check_up and
check_released are the checks every engine test makes while its containers
run and after they are removed. Every class is a context manager whose
__exit__ removes what it made, also when the test failed; tests turn SIGTERM
into SystemExit with vk.exit_on_signals() so that runs on a timeout too. The
one thing no flag keeps private is containerd's shim socket directory
/run/containerd/s: it is removed when empty and this process created it
(see Containerd.__exit__).
"""
import contextlib
import copy
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import time

from . import cni
from .fixture import PIN_ROOT, SRC, VNETCTL, CommandError, run, unique, which

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
