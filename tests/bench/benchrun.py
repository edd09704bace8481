"""What the benchmark's tests share: running one vnet-bench mode with a JSON
file, the checks every run must pass whatever the mode (exit status,
progress on stderr, the JSON written, complete and without errors), and what
a run must not leave behind. Never a speed: the machine may be shared."""
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

BENCH = os.environ.get("VNET_BENCH") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "userspace", "bench", "vnet-bench")


def positive(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0


@dataclass
class Run:
    stdout: str
    stderr: str
    prefix: str          # the names of every namespace and fabric the run made start with it
    doc: dict            # the whole JSON ({} if none was written)
    section: dict        # the mode's part of it
    problems: list = field(default_factory=list)


def run(args, mode, section, timeout):
    """Runs `vnet-bench ARGS -j FILE`; SIGINT (which tears down) if it
    overruns `timeout`. `mode` is its progress tag ("[mode]" on stderr)."""
    with tempfile.TemporaryDirectory(prefix=f"vnet-bench-{mode}-") as tmp:
        out = os.path.join(tmp, "run.json")
        p = subprocess.Popen([BENCH, *args, "-j", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            stdout, stderr = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.send_signal(2)
            stdout, stderr = p.communicate(timeout=60)
        sys.stdout.write(stdout)
        sys.stderr.write(stderr[-4000:])
        doc = {}
        if os.path.exists(out):
            with open(out) as f:
                doc = json.load(f)
    r = Run(stdout, stderr, f"vb{p.pid % 100000}n", doc, doc.get(section, {}))
    if p.returncode != 0:
        r.problems.append(f"vnet-bench {' '.join(args[:1])} exited {p.returncode}")
    if f"[{mode}]" not in stderr:
        r.problems.append("no progress on stderr")
    if not doc:
        r.problems.append("no JSON written")
    elif doc.get("complete") is not True:
        r.problems.append("run not complete")
    if r.section.get("errors"):
        r.problems.append(f"errors: {r.section['errors']}")
    return r


def table_problems(stdout, texts):
    return [f"the table lacks '{t}'" for t in texts if t not in stdout]


def leftover_problems(prefix):
    """Namespaces and fabrics of this run still present."""
    problems = []
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    leaked = [n for n in left if n.startswith(prefix)]
    if leaked:
        problems.append(f"namespaces left behind: {leaked[:10]} ({len(leaked)})")
    pins = os.listdir("/sys/fs/bpf/vnet") if os.path.isdir("/sys/fs/bpf/vnet") else []
    leaked_pins = [n for n in pins if n.startswith(prefix)]
    if leaked_pins:
        problems.append(f"fabrics left behind: {leaked_pins}")
    return problems


def iperf3_servers(prefix):
    """iperf3 daemons whose pid file names this run's namespaces."""
    return processes(b"iperf3", prefix.encode())


def processes(program, word):
    """Pids of running `program`s (the executable's name ends with it) with
    `word` in one of their arguments."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(program) and any(word in a for a in argv):
            found.append(int(pid))
    return found


def verdict(name, problems, success):
    """The test's exit status: 1 with every problem listed, or 0."""
    if problems:
        print("FAIL:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"{name}: {success}")
    return 0


def skip_without_root():
    """77 (meson's skip) when not root, else None."""
    if os.geteuid() != 0:
        print("SKIP: vnet-bench needs root", file=sys.stderr)
        return 77
    return None
