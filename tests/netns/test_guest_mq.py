#!/usr/bin/env python3
"""Multi-queue: a QEMU guest with queues=2 on a `--multi-queue` vnet tap
passes traffic on both queues, as the same guest does on a kernel macvtap
opened twice (vnetkit.guest).

Two systems side by side, each the standard topology (vnetkit.build_l2,
bridge mode, no container) plus one guest with two virtio-net queue pairs:
  macvtap   the guest on a macvtap of up0 (QEMU fds=N:M, one open per queue)
  vnet      the guest on `port add --tap --multi-queue` (QEMU queues=2)
The external host pings the guest from FLOWS source addresses (one flow each;
the tap spreads flows over its queues by hash). Checks, each on its own:
  queues     the guest has rx-0, rx-1, tx-0 and tx-1 on eth0;
  traffic    every flow is answered;
  per-queue  the interrupt counts of both receive queues (virtioN-input.0
             and .1 in the guest's /proc/interrupts) grew during the pings:
             each queue carried frames.
Exit 0 if none failed, 1 if any did, 77 if not root or tools are missing.
"""
import concurrent.futures
import contextlib
import re
import time

import vnetkit as vk
from vnetkit import guest as gk

MAC, IP = "02:76:6d:00:03:01", f"{vk.NET}.41"
FLOWS = 12


def input_irqs(g):
    """{queue: interrupts} of the NIC's receive queues."""
    counts = {}
    for line in g.run("cat /proc/interrupts")[1]:
        m = re.search(r"virtio\d+-input\.(\d+)", line)
        if m:
            counts[int(m.group(1))] = sum(int(x) for x in line.split()[1:] if x.isdigit())
    return counts


class System:
    def __init__(self, kind, kit, stack):
        self.kind = kind
        self.topo = stack.enter_context(vk.Topology(tag="q" + kind[0]))
        vk.build_l2(self.topo, "vnet" if kind == "vnet" else "macvlan", "bridge", hairpin=False, containers=0)
        link = vk.unique("gq")
        if kind == "vnet":
            self.topo.vnetctl("port", "add", "--fabric", self.topo.fabrics[-1], "--tap", link, "--mac", MAC, "--mode",
                              "bridge", "--multi-queue")
            where = {"tap": link}
        else:
            self.topo.ip("host", "link", "add", "link", "up0", "name", link, "address", MAC, "type", "macvtap", "mode",
                         "bridge")
            self.topo.ip("host", "link", "set", link, "up")
            where = {"macvtap": link}
        for i in range(FLOWS):
            self.topo.ip("ext", "addr", "add", f"{vk.NET}.{150 + i}/24", "dev", "eth0")
        self.guest = stack.enter_context(gk.Guest(kit, self.topo.host, MAC, f"{IP}/24", queues=2,
                                                  name=f"{kind}/mq", **where))

    def measure(self):
        g = self.guest
        queues = sorted(g.run("ls -1 /sys/class/net/eth0/queues")[1])
        before = input_irqs(g)
        answered = 0
        for i in range(FLOWS):
            answered += vk.ping(self.topo, "ext", IP, count=3, timeout=2, iface=f"{vk.NET}.{150 + i}")
        after = input_irqs(g)
        grew = {q: after.get(q, 0) - before.get(q, 0) for q in sorted(set(before) | set(after))}
        return {"queues": queues, "answered": answered, "grew": grew}


def main():
    kit = gk.prepare()
    checks = vk.Checks()
    start = time.time()
    with contextlib.ExitStack() as stack:
        systems = [System(kind, kit, stack) for kind in ("macvtap", "vnet")]
        for s in systems:
            s.guest.wait_ready()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            got = dict(zip((s.kind for s in systems), pool.map(System.measure, systems)))
        for kind, m in got.items():
            print(f"  {kind}: queues {m['queues']}, {m['answered']}/{FLOWS} flows answered, "
                  f"receive-queue interrupts grew {m['grew']}")
        for kind, m in got.items():
            checks.check(f"{kind} queues", m["queues"] == ["rx-0", "rx-1", "tx-0", "tx-1"], str(m["queues"]))
            checks.check(f"{kind} traffic", m["answered"] == FLOWS, f"{m['answered']}/{FLOWS}")
            checks.check(f"{kind} per-queue", len(m["grew"]) == 2 and all(v > 0 for v in m["grew"].values()),
                         str(m["grew"]))
        topos = [s.topo for s in systems]
    checks.finish("guest-mq", start, topos)


if __name__ == "__main__":
    main()
