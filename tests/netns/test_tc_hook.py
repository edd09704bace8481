#!/usr/bin/python3
"""The cls_bpf fallback (kernels without tcx) forwards like tcx and detaches
cleanly: forced with `attach --tc-hook cls_bpf` on a kernel that has both."""
import sys

from vnettest import Topology, build_l2, flush_neighbours, ping, require_root


def main():
    require_root()
    failures = []
    with Topology("tc") as t:
        orig_attach = t.attach
        t.attach = lambda uplink="up0", *extra: orig_attach(uplink, "--tc-hook", "cls_bpf", *extra)
        eps = build_l2(t, "vnet", "bridge", hairpin=False, containers=2)
        fabric = t.fabrics[0]
        show = t.vnetctl("show", fabric, json_out=True)["fabrics"][0]
        if show["tc_hook"] != "cls_bpf":
            failures.append(f"show reports tc_hook {show['tc_hook']!r}")
        for dev in ["up0"] + [p["name"] for p in show["ports"]]:
            filters = t.exec("host", "tc", "filter", "show", "dev", dev, "ingress").stdout
            if "handle 0x766e" not in filters:
                failures.append(f"no vnet cls_bpf filter on {dev}: {filters!r}")
        roles = [r for r, _, _ in eps.values()]
        for a, b, want in [("c1", "c2", True), ("c1", "ext", True), ("ext", "c2", True), ("c1", "host", False)]:
            flush_neighbours(t, roles)
            got = ping(t, eps[a][0], eps[b][2])
            if got != want:
                failures.append(f"ping {a} -> {b}: {'ok' if got else 'fails'}, want {'ok' if want else 'fails'}")
        t.vnetctl("detach", fabric)
        left = t.exec("host", "tc", "filter", "show", "dev", "up0", "ingress").stdout
        if left.strip():
            failures.append(f"filters left on up0 after detach: {left!r}")
    for f in failures:
        print("FAIL:", f)
    print(f"{4 + 3 + 1 - len(failures)} checks passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
