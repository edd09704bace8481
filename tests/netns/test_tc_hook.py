#!/usr/bin/python3
"""The cls_bpf fallback (kernels without tcx) forwards like tcx and detaches
cleanly: forced with `attach --tc-hook cls_bpf` on a kernel that has both."""
import sys

from vnetkit import Checks, Topology, build_l2, flush_neighbours, ping, require_root


def main():
    require_root()
    checks = Checks()
    with Topology("tc") as t:
        orig_attach = t.attach
        t.attach = lambda uplink="up0", *extra: orig_attach(uplink, "--tc-hook", "cls_bpf", *extra)
        eps = build_l2(t, "vnet", "bridge", hairpin=False, containers=2)
        fabric = t.fabrics[0]
        show = t.vnetctl("show", fabric, json_out=True)["fabrics"][0]
        checks.check("show reports tc_hook cls_bpf", show["tc_hook"] == "cls_bpf", f"tc_hook {show['tc_hook']!r}")
        for dev in ["up0"] + [p["name"] for p in show["ports"]]:
            filters = t.exec("host", "tc", "filter", "show", "dev", dev, "ingress").stdout
            checks.check(f"vnet cls_bpf filter on {dev}", "handle 0x766e" in filters, repr(filters))
        roles = [r for r, _, _ in eps.values()]
        for a, b, want in [("c1", "c2", True), ("c1", "ext", True), ("ext", "c2", True), ("c1", "host", False)]:
            flush_neighbours(t, roles)
            got = ping(t, eps[a][0], eps[b][2])
            checks.check(f"ping {a} -> {b} {'works' if want else 'fails'}", got == want, "it does not")
        t.vnetctl("detach", fabric)
        left = t.exec("host", "tc", "filter", "show", "dev", "up0", "ingress").stdout
        checks.check("no filters left on up0 after detach", not left.strip(), repr(left))
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
