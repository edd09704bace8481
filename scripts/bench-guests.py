#!/usr/bin/python3
"""TCP throughput guest -> external host: a QEMU guest (TCG) on a vnet tap
port against the same guest on a kernel macvtap, in one run.

    sudo scripts/bench-guests.py [-t SECONDS] [-r ROUNDS] [-j] [--build DIR]

Two systems, each the standard topology of the tests (tests/netns/vnetkit,
build_l2: ext --- switch --- up0 in the host namespace, bridge mode, no
container) plus one guest: on `vnetctl port add --tap` in the first, on a
macvtap of up0 in the second. The guest runs iperf3 (the host's binary and
the libraries ldd names, copied into its initramfs) as the client against
`iperf3 -s` in ext. The systems are measured one after the other, ROUNDS
times alternating (so a change in the machine's load hits both), never at
the same time: TCG is CPU-bound and the two guests would share the cores.

Prints Mbit/s per round and the median per system, and vnet/macvtap of
the medians and round by round; -j
prints the same as JSON. TCG makes the absolute numbers small and dependent
on the machine's load: the ratio is what counts. Exit 0, 1 on a failed
measurement, 77 if not root or tools are missing.
"""
import argparse
import contextlib
import json
import os
import statistics
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-t", "--time", type=int, default=10, help="seconds of each iperf3 run (default 10)")
    ap.add_argument("-r", "--rounds", type=int, default=2, help="measurements per system, alternating (default 2)")
    ap.add_argument("-j", "--json", action="store_true", help="print JSON")
    ap.add_argument("--build", default=os.environ.get("VNET_BUILD_DIR") or os.path.join(TOP, "build"),
                    help="the meson build tree: its vnetctl, and the guest kit cached in it")
    return ap.parse_args()


args = parse_args()
# vnetkit reads these when it is imported.
os.environ.setdefault("VNETCTL", os.path.join(args.build, "userspace", "vnetctl"))
os.environ.setdefault("VNET_UNIT_DIR", args.build)
sys.path.insert(0, os.path.join(TOP, "tests", "netns"))
import vnetkit as vk  # noqa: E402
from vnetkit import guest as gk  # noqa: E402

MAC, IP = "02:76:6d:00:05:01", f"{vk.NET}.51"
EXT = f"{vk.NET}.100"
IPERF3 = "/usr/bin/iperf3"
MEMORY = 256  # the initramfs (libcrypto is most of iperf3's libraries) lives in the guest's RAM


def log(*words):
    print(*words, file=sys.stderr if args.json else sys.stdout, flush=True)


class System:
    """One topology and one guest on a vnet tap (kind "vnet") or a macvtap."""

    def __init__(self, kind, kit, stack):
        self.kind = kind
        self.topo = stack.enter_context(vk.Topology(tag="b" + kind[0]))
        vk.build_l2(self.topo, "vnet" if kind == "vnet" else "macvlan", "bridge", hairpin=False, containers=0)
        link = vk.unique("bg")
        if kind == "vnet":
            self.topo.vnetctl("port", "add", "--fabric", self.topo.fabrics[-1], "--tap", link, "--mac", MAC, "--mode",
                              "bridge")
            where = {"tap": link}
        else:
            self.topo.ip("host", "link", "add", "link", "up0", "name", link, "address", MAC, "type", "macvtap", "mode",
                         "bridge")
            self.topo.ip("host", "link", "set", link, "up")
            where = {"macvtap": link}
        self.guest = stack.enter_context(gk.Guest(kit, self.topo.host, MAC, f"{IP}/24", memory=MEMORY,
                                                  name=f"{kind}/bench", extra_files=gk.with_libraries(IPERF3),
                                                  **where))

    def ready(self):
        self.guest.wait_ready()
        status, out = self.guest.run(f"{IPERF3} --version")
        if status != 0:
            raise RuntimeError(f"{self.kind}: iperf3 does not run in the guest: {out[-3:]}")
        self.guest.run("ip neigh flush all")
        if self.guest.run(f"ping -c 2 -W 2 {EXT} >/dev/null")[0] != 0:
            raise RuntimeError(f"{self.kind}: the guest does not reach ext")

    def measure(self, seconds):
        """Mbit/s received by ext from one iperf3 run of the guest."""
        server = vk.spawn(self.topo, "ext", IPERF3, "-s", "-1", "-B", EXT)
        try:
            time.sleep(0.5)
            status, out = self.guest.run(f"{IPERF3} -c {EXT} -t {seconds} -J", timeout=seconds + 60)
            text = "\n".join(out)
            doc = json.loads(text[text.index("{"):]) if "{" in text else {}
            if status != 0 or "end" not in doc:
                raise RuntimeError(f"{self.kind}: iperf3 exit {status}: {doc.get('error') or out[-5:]}")
            return doc["end"]["sum_received"]["bits_per_second"] / 1e6
        finally:
            vk.reap([server])


def load():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def main():
    kit = gk.prepare("iperf3", "ldd")
    result = {"seconds": args.time, "rounds": args.rounds, "load_before": load(), "mbit_s": {}}
    with contextlib.ExitStack() as stack:
        systems = [System(kind, kit, stack) for kind in ("vnet", "macvtap")]
        for s in systems:
            s.ready()
        for r in range(args.rounds):
            order = systems if r % 2 == 0 else systems[::-1]
            for s in order:
                mbit = s.measure(args.time)
                result["mbit_s"].setdefault(s.kind, []).append(round(mbit, 1))
                log(f"  round {r + 1}: {s.kind:8} {mbit:8.1f} Mbit/s")
    result["load_after"] = load()
    medians = {k: statistics.median(v) for k, v in result["mbit_s"].items()}
    result["median_mbit_s"] = medians
    result["ratio_vnet_macvtap"] = round(medians["vnet"] / medians["macvtap"], 3) if medians["macvtap"] else None
    # Round by round: the two runs of a round saw about the same load.
    result["ratio_by_round"] = [round(v / m, 3) if m else None
                                for v, m in zip(result["mbit_s"]["vnet"], result["mbit_s"]["macvtap"])]
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"guest -> external host, TCP (iperf3 in a TCG guest), {args.time} s x {args.rounds} rounds; "
          f"load {result['load_before']} -> {result['load_after']}")
    print(f"{'system':10} {'Mbit/s (median)':>16}  rounds")
    for kind in ("vnet", "macvtap"):
        print(f"{kind:10} {medians[kind]:16.1f}  {result['mbit_s'][kind]}")
    print(f"vnet / macvtap: {result['ratio_vnet_macvtap']} (medians); by round {result['ratio_by_round']}")


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, TimeoutError, vk.CommandError) as e:
        print(f"bench-guests: {e}", file=sys.stderr)
        sys.exit(1)
