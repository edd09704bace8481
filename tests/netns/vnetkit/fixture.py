"""The namespace fixture: commands, unique names, the Topology that owns every
namespace and fabric a test makes (and removes them whatever happens), the
vnetctl runner, and the housekeeping around them (root and tool checks, signals
that still tear down, leak checks, old vnetctls for the upgrade tests).

Nothing is ever created in the root namespace: the uplink, the ports' host
ends and the vnet programs live in a "host" namespace, which plays the
machine's root. topology.py builds the standard layouts on a Topology.
"""
import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

KIT = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(KIT, "..", "..", ".."))  # the repository (KIT is tests/netns/vnetkit)
VNETCTL = os.environ.get("VNETCTL") or os.path.join(SRC, "build", "userspace", "vnetctl")
PIN_ROOT = "/sys/fs/bpf/vnet"
PY = "/usr/bin/python3"  # Debian's python3-scapy lives there


class CommandError(Exception):
    pass


def run(argv, check=True, timeout=60, input=None):
    """Runs argv, returns CompletedProcess with text output."""
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise CommandError(f"{shlex.join(argv)} -> {p.returncode}\n{p.stdout}{p.stderr}")
    return p


_counter = 0


# The last commit of each earlier ABI, for the upgrade and crash tests (for
# ABI 5, a commit of main just before ABI 6: the same maps and programs).
OLD_ABIS = {
    2: "0645b1b80ddee35069ac310e52800e0e2becdcdf",
    3: "de23a56304628d3d1d6c4131da9c5be3e4f19ea1",
    4: "8e8427533e277320ffa7c99cf36305c2c75b9350",
    5: "eedc37e0cd7caa1b9d381e054172ef57e4e83771",
}


def old_vnetctl(abi):
    """Path of an ABI `abi` vnetctl built once from git history into the build
    tree (git archive: the repository is not touched), or None when this
    clone lacks the commit. Unoptimised: it only has to run a few commands,
    and an -O0 build of libvnet takes a fraction of the time."""
    commit = OLD_ABIS[abi]
    src = SRC
    root = os.path.join(os.environ.get("VNET_UNIT_DIR", "/tmp"), f"abi{abi}-vnetctl")
    binary = os.path.join(root, "build", "userspace", "vnetctl")
    if os.path.exists(binary):
        return binary
    if subprocess.run(["git", "-C", src, "cat-file", "-e", commit], capture_output=True).returncode != 0:
        return None
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    print(f"     building the ABI {abi} vnetctl ({commit[:7]}) into {root}", flush=True)
    archive = subprocess.Popen(["git", "-C", src, "archive", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", root], stdin=archive.stdout, check=True)
    archive.wait()
    env = dict(os.environ, CCACHE_BASEDIR=os.path.dirname(src), CCACHE_NOHASHDIR="1")
    subprocess.run(["meson", "setup", "build", "-Doptimization=0", "-Ddebug=false"], cwd=root, check=True,
                   capture_output=True, env=env)
    subprocess.run(["ninja", "-C", "build", "userspace/vnetctl"], cwd=root, check=True, capture_output=True, env=env)
    return binary


def fabric_map_names():
    """The names of every map this build pins per fabric (VNET_MAP_* in
    include/vnet/abi.h, the one list of them), plus the devmap vnet_tx."""
    import re
    with open(os.path.join(SRC, "include", "vnet", "abi.h")) as f:
        return set(re.findall(r'^#define VNET_MAP_\w+\s+"(\w+)"', f.read(), re.M))


def unique(prefix):
    """A short name unique to this process: namespaces, fabrics, links."""
    global _counter
    _counter += 1
    return f"{prefix}{os.getpid() % 100000}{_counter}"


class Topology(contextlib.AbstractContextManager):
    """Owns namespaces and fabrics; __exit__ removes all of them."""

    def __init__(self, tag="t"):
        self.tag = tag
        self.namespaces = []
        self.fabrics = []
        self.host = None
        self.roles = {}

    # -- building blocks -------------------------------------------------
    def netns(self, role):
        name = unique(f"v{self.tag}{role[:3]}")
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        self.roles[role] = name
        return name

    def ns(self, role):
        return self.roles[role]

    def ip(self, role, *args, check=True):
        return run(["ip", "-n", self.ns(role), *args], check=check)

    def exec(self, role, *argv, check=True, timeout=60):
        return run(["ip", "netns", "exec", self.ns(role), *argv], check=check, timeout=timeout)

    def vnetctl(self, *args, check=True, json_out=False):
        """Runs vnetctl inside the host namespace (nsenter keeps /sys/fs/bpf)."""
        argv = ["nsenter", f"--net=/run/netns/{self.host}", VNETCTL]
        if json_out:
            argv.append("-j")
        p = run(argv + list(args), check=check)
        if json_out and p.returncode == 0:
            return json.loads(p.stdout)
        return p

    def attach(self, uplink="up0", *extra):
        fabric = unique("f")
        self.vnetctl("attach", uplink, "--fabric", fabric, *extra)
        self.fabrics.append(fabric)
        return fabric

    # -- teardown --------------------------------------------------------
    def __exit__(self, *exc):
        for fabric in self.fabrics:
            if self.host and os.path.isdir(f"{PIN_ROOT}/{fabric}"):
                run(["nsenter", f"--net=/run/netns/{self.host}", VNETCTL, "detach", fabric], check=False)
            # Whatever detach could not remove (a crashed test) still goes.
            if os.path.isdir(f"{PIN_ROOT}/{fabric}"):
                run(["rm", "-rf", f"{PIN_ROOT}/{fabric}"], check=False)
        for name in reversed(self.namespaces):
            run(["ip", "netns", "del", name], check=False)
        return False


def require_root():
    if os.geteuid() != 0:
        print("SKIP: namespace tests need root", file=sys.stderr)
        sys.exit(77)


def spawn(topo, role, *argv, **kw):
    """argv started in role's namespace, text pipes on stdout and stderr."""
    return subprocess.Popen(["ip", "netns", "exec", topo.ns(role), *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def reap(procs):
    """Kills whatever of procs still runs and waits for all of them."""
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()


def script(name):
    """The path of one of the kit's scripts that run inside a namespace
    (txring.py, tapvm.py, framecount.py), for `ip netns exec ... python3 PATH`."""
    return os.path.join(KIT, name)


def temp_file(text, prefix="vnet-apply-", suffix=".conf"):
    """A new temporary file holding text (a config for `vnetctl apply`); the caller removes it."""
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=suffix)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def skip(why):
    print(f"SKIP: {why}", file=sys.stderr, flush=True)
    sys.exit(77)


def which(tool):
    """The path of a program, looking in the sbin directories too."""
    found = shutil.which(tool)
    if found:
        return found
    for d in ("/usr/sbin", "/sbin"):
        if os.access(os.path.join(d, tool), os.X_OK):
            return os.path.join(d, tool)
    return None


def require_tools(*tools):
    """Exits 77 naming the first missing program (or Python module 'scapy')."""
    for tool in tools:
        if tool == "scapy":
            p = subprocess.run([PY, "-c", "import scapy.layers.inet"], capture_output=True)
            if p.returncode != 0:
                skip("python3-scapy is not installed (scripts/install-deps.sh)")
        elif not which(tool):
            skip(f"{tool} is not installed (scripts/install-deps.sh)")


def exit_on_signals():
    """meson stops a test that overruns with SIGTERM: turn it (and SIGHUP) into
    SystemExit so every Topology's __exit__ still removes what the test made."""
    def handler(signum, _frame):
        raise SystemExit(f"killed by signal {signum}")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def leftovers(namespaces, fabrics):
    """What a finished Topology left behind: namespaces still listed, pins still present."""
    listed = set(run(["ip", "netns", "list"]).stdout.split())
    left = [f"netns {n}" for n in namespaces if n in listed]
    left += [f"pin {PIN_ROOT}/{f}" for f in fabrics if os.path.exists(f"{PIN_ROOT}/{f}")]
    return left


def host_exec(topo, *argv, check=True):
    """argv inside the host namespace with nsenter (keeps /sys/fs/bpf, like vnetctl)."""
    return run(["nsenter", f"--net=/run/netns/{topo.host}", *argv], check=check)


def wait_until(predicate, timeout=3.0, interval=0.05):
    """Polls predicate until it is true or timeout passes; returns its last value."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() >= deadline:
            return value
        time.sleep(interval)
