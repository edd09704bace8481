"""Docker 20.10 for the driver test, with nothing of its state shared with
the machine (../shared/engines.md): dockerd on its own data root, exec root,
pidfile, API socket and config file, no iptables, no bridge, no IP
forwarding or masquerading, talking to a private containerd
(engines.Containerd), started inside a namespace of the test (nsenter
--net: the mounts, /sys/fs/bpf included, stay the machine's) and stopped by
PID. The driver under test, vnet-docker, runs in the same namespace on a
uniquely named socket in /run/docker/plugins, the one place dockerd looks.

    with engines.temp_dir("vnet-dk-") as work, engines.Containerd(work) as ctrd, \\
            docker.Driver(work, netns) as drv, docker.Dockerd(work, ctrd, netns) as dockerd:
        dockerd("network", "create", "-d", drv.name, ...)

The one machine-wide trace dockerd leaves, /etc/docker/key.json (written
whatever the roots), and the plugin socket files and directories are removed
at the end when this run made them. Enter the Driver before Dockerd: dockerd
removes its containers and networks at the end through the driver, which
must still answer (a dead socket costs 15 s of retries per call).
"""
import contextlib
import json
import os
import signal
import subprocess
import time

from .fixture import SRC, CommandError, run, unique

DOCKER = "/usr/bin/docker"  # the client matching Debian's dockerd (another may come first on PATH)
PLUGIN_DIR = "/run/docker/plugins"
DRIVER = os.environ.get("VNET_DOCKER") or os.path.join(SRC, "build", "userspace", "docker", "vnet-docker")


def _made_paths(paths):
    """The paths of `paths` that do not exist yet (ours to remove at the end)."""
    return [p for p in paths if not os.path.exists(p)]


def _remove_made(paths):
    for p in reversed(paths):
        with contextlib.suppress(OSError):
            if os.path.isdir(p):
                os.rmdir(p)  # only when empty
            else:
                os.unlink(p)


def _stop(proc, timeout=10):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Dockerd(contextlib.AbstractContextManager):
    """dockerd with private roots in the network namespace `netns`, on the
    containerd `ctrd`; live-restore on, so a restart keeps containers running.
    Calling it runs the matching docker client against it."""

    def __init__(self, work, ctrd, netns):
        self.dir = os.path.join(work, "docker")
        os.makedirs(self.dir)
        self.socket = os.path.join(self.dir, "docker.sock")
        self.config = os.path.join(self.dir, "daemon.json")
        with open(self.config, "w") as f:
            json.dump({}, f)  # never the machine's /etc/docker/daemon.json
        self.ctrd = ctrd
        self.netns = netns
        self.proc = None
        self.log = None
        self.made = _made_paths(["/etc/docker", "/etc/docker/key.json"])

    def argv(self):
        return ["nsenter", f"--net=/run/netns/{self.netns}", "dockerd",
                "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false",
                "--bridge=none", "--live-restore", "--storage-driver", "vfs",
                "--config-file", self.config,
                "--data-root", os.path.join(self.dir, "root"), "--exec-root", os.path.join(self.dir, "exec"),
                "--pidfile", os.path.join(self.dir, "docker.pid"), "--containerd", self.ctrd.socket,
                "-H", f"unix://{self.socket}"]

    def start(self):
        self.log = open(os.path.join(self.dir, "dockerd.log"), "a")
        self.proc = subprocess.Popen(self.argv(), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while self("version", check=False, timeout=10).returncode != 0:
            if self.proc.poll() is not None or time.time() > deadline:
                raise CommandError(f"dockerd did not start:\n{self.log_text()}")
            time.sleep(0.1)

    def stop(self):
        """SIGTERM and wait: with live-restore the containers keep running."""
        _stop(self.proc, timeout=20)
        if self.log:
            self.log.close()
            self.log = None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def log_text(self):
        with open(os.path.join(self.dir, "dockerd.log")) as f:
            return f.read()[-3000:]

    def __call__(self, *args, check=True, timeout=60):
        p = subprocess.run([DOCKER, "-H", f"unix://{self.socket}", *args], capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise CommandError(f"docker {' '.join(args)} -> {p.returncode}\n{p.stdout}{p.stderr}")
        return p

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            # Containers first (Leave and DeleteEndpoint reach the driver), then networks.
            ids = self("ps", "-aq", check=False, timeout=20).stdout.split()
            if ids:
                self("rm", "-f", *ids, check=False, timeout=60)
            nets = [n for n in self("network", "ls", "-q", "--filter", "type=custom", check=False).stdout.split()]
            if nets:
                self("network", "rm", *nets, check=False, timeout=60)
        self.stop()
        # Whatever still runs in containerd's moby namespace (a dockerd killed
        # midway) is killed by PID, so the shims and mounts can go.
        ctr = ["ctr", "--address", self.ctrd.socket, "--namespace", "moby"]
        for line in run(ctr + ["tasks", "list"], check=False).stdout.splitlines()[1:]:
            words = line.split()
            if len(words) >= 2 and words[1].isdigit() and int(words[1]) > 0:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(words[1]), signal.SIGKILL)
            if words:
                run(ctr + ["tasks", "delete", "--force", words[0]], check=False)
        for cid in run(ctr + ["containers", "list", "--quiet"], check=False).stdout.split():
            run(ctr + ["containers", "delete", cid], check=False)
        _remove_made(self.made)
        return False

    def import_image(self, rootfs, name="localhost/vnet-bb:latest"):
        tar = os.path.join(self.dir, "rootfs.tar")
        run(["tar", "-C", rootfs, "-cf", tar, "."])
        self("import", tar, name, timeout=120)
        return name


class Driver(contextlib.AbstractContextManager):
    """vnet-docker in the namespace `netns`, serving the driver names NAME and
    NAME-ipvlan on /run/docker/plugins/NAME(-ipvlan).sock, with its records
    in a private state directory. restart() keeps the state directory."""

    def __init__(self, work, netns):
        self.name = unique("vnt")
        self.netns = netns
        self.state = os.path.join(work, "vnet-docker")
        self.sockets = [os.path.join(PLUGIN_DIR, f"{self.name}.sock"),
                        os.path.join(PLUGIN_DIR, f"{self.name}-ipvlan.sock")]
        self.log_path = os.path.join(work, "vnet-docker.log")
        self.proc = None
        self.log = None
        self.made = _made_paths(["/run/docker", PLUGIN_DIR])

    def start(self):
        self.log = open(self.log_path, "a")
        argv = ["nsenter", f"--net=/run/netns/{self.netns}", DRIVER, "--state-dir", self.state]
        for s in self.sockets:
            argv += ["--socket", s]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not all(os.path.exists(s) for s in self.sockets):
            if self.proc.poll() is not None or time.time() > deadline:
                raise CommandError(f"vnet-docker did not start:\n{self.log_text()}")
            time.sleep(0.05)

    def stop(self):
        _stop(self.proc)
        if self.log:
            self.log.close()
            self.log = None

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()[-3000:]

    def records(self):
        return sorted(f for f in os.listdir(self.state) if f.endswith(".json")) if os.path.isdir(self.state) else []

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        for s in self.sockets:  # a killed driver leaves its files: dockerd would retry them for 15 s
            with contextlib.suppress(OSError):
                os.unlink(s)
        _remove_made(self.made)
        return False
