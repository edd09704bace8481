"""vnet-bench --vxlan works: vnet and kernel macvlan, each on the same pair of
VXLAN devices, both carried TCP (iperf3) and 64-byte frames from container A
on host A to container B on host B (datagrams counted by B's stack), the
JSON holds both systems and the vnet/macvlan ratios and target verdicts, and
nothing is left behind (namespaces, fabric pins, links, iperf3 servers).

Quick mode (1 repetition, 0.5 s, 1 s of TCP). Never asserts a speed: the
machine may be shared and slow. Exit 77 (skip) without root.
"""
import json
import os
import subprocess
import sys
import tempfile

BENCH = os.environ.get("VNET_BENCH") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "userspace", "bench", "vnet-bench")
SYSTEMS = ("vnet", "macvlan")


def positive(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0


def root_links():
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}


def iperf3_servers(prefix):
    """iperf3 daemons whose pid file names this run's namespaces."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"iperf3") and any(prefix.encode() in a for a in argv):
            found.append(int(pid))
    return found


def main():
    if os.geteuid() != 0:
        print("SKIP: vnet-bench needs root", file=sys.stderr)
        return 77
    links_before = root_links()
    with tempfile.TemporaryDirectory(prefix="vnet-bench-vxlan-") as tmp:
        out = os.path.join(tmp, "vxlan.json")
        p = subprocess.Popen([BENCH, "--vxlan", "--quick", "-j", out], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            stdout, stderr = p.communicate(timeout=100)
        except subprocess.TimeoutExpired:
            p.send_signal(2)  # SIGINT to our own child: it tears down, then exits
            stdout, stderr = p.communicate(timeout=60)
        prefix = f"vb{p.pid % 100000}n"
        sys.stdout.write(stdout)
        sys.stderr.write(stderr[-4000:])
        problems = []
        if p.returncode != 0:
            problems.append(f"vnet-bench --vxlan exited {p.returncode}")
        if "[vxlan]" not in stderr:
            problems.append("no progress on stderr")
        doc = {}
        if os.path.exists(out):
            with open(out) as f:
                doc = json.load(f)
        else:
            problems.append("no JSON written")
        v = doc.get("vxlan", {})
        if v.get("errors"):
            problems.append(f"errors: {v['errors']}")
        if doc and doc.get("complete") is not True:
            problems.append("run not complete")
        systems = v.get("systems", {})
        for name in SYSTEMS:
            s = systems.get(name)
            if s is None:
                problems.append(f"{name} not in the JSON")
                continue
            if len(s.get("runs", [])) != 1:
                problems.append(f"{name}: {len(s.get('runs', []))} runs, want 1")
            if not positive(s.get("tcp_gbps", {}).get("median")):
                problems.append(f"{name}: no TCP throughput ({s.get('tcp_gbps')})")
            pps = s.get("pps", {}).get("64", {})
            if not positive(pps.get("delivered_pps", {}).get("median")):
                problems.append(f"{name}: no 64-byte frame delivered in container B ({pps.get('delivered_pps')})")
            # What was delivered crossed the underlay: B's VXLAN device
            # decapsulated at least that many.
            rx = pps.get("b_vx0_rx_pps", {}).get("median")
            got = pps.get("delivered_pps", {}).get("median")
            if positive(got) and not (positive(rx) and rx >= got * 0.99):
                problems.append(f"{name}: delivered {got} pps but B's vx0 received {rx}")
        if not isinstance(systems.get("vnet", {}).get("xdp_mode"), str):
            problems.append("vnet's XDP mode on the VXLAN device not recorded")
        ratios = v.get("ratios", {}).get("vnet/macvlan", {})
        for metric in ("tcp_gbps", "pps_64"):
            if not positive(ratios.get(metric, {}).get("median")):
                problems.append(f"no vnet/macvlan ratio for {metric}: {ratios.get(metric)}")
        verdicts = {t.get("metric"): t.get("met") for t in v.get("targets", [])}
        if set(verdicts) != {"tcp_gbps", "pps_64"} or not all(isinstance(m, bool) for m in verdicts.values()):
            problems.append(f"target verdicts: {verdicts}")
        for text in ("VXLAN (cross-host)", "tcp Gbit/s", "64B Mpps delivered", "target tcp_gbps"):
            if text not in stdout:
                problems.append(f"the table lacks '{text}'")
        # Everything it built is gone.
        left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
        leaked = [n for n in left if n.startswith(prefix)]
        if leaked:
            problems.append(f"namespaces left behind: {leaked}")
        pins = os.listdir("/sys/fs/bpf/vnet") if os.path.isdir("/sys/fs/bpf/vnet") else []
        leaked_pins = [n for n in pins if n.startswith(prefix)]
        if leaked_pins:
            problems.append(f"fabrics left behind: {leaked_pins}")
        new_links = root_links() - links_before
        mine = [l for l in new_links if l in ("ul0", "vx0", "mvx", "gi", "go") or prefix in l]
        if mine:
            problems.append(f"links left in the root namespace: {mine}")
        servers = iperf3_servers(prefix)
        if servers:
            problems.append(f"iperf3 servers left running: {servers}")
        if problems:
            print("FAIL:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
    print("bench-vxlan: vnet and macvlan carried TCP and 64-byte frames across the VXLAN underlay; nothing left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
