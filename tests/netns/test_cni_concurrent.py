"""Issue 12: 50 containers at once on one master through the vnet CNI plugin.

A "host" namespace (the machine's root, for the plugin) holds the master up0,
a veth whose peer `wire` sits in an external namespace (198.18.0.1). 50
container namespaces; 50 ADDs started at once, each a plugin process of its
own as a runtime starts them (vnetkit.cni), host-local IPAM in a private
dataDir. Then:
  - every ADD succeeded, the addresses are distinct, each is on the
    container's interface and leased by host-local to that container;
  - the fabric holds exactly 50 ports, one per container (by MAC);
  - the external namespace reaches every container, and a sample of
    container pairs reach each other (real pings);
  - 50 DELs at once (each given its ADD's result, as runtimes do) all
    succeed and leave no port, no veth, no interface in a container, no
    lease, and no pin if the fabric went away.
The same run with the reference macvlan plugin (another master, up1, and
ifname net1 in the same containers) is the baseline: same checks except the
fabric's. Never asserts a speed; prints how long each wave took.

    test_cni_concurrent.py [--plugin PATH] [--no-baseline]
"""
import concurrent.futures
import json
import os
import sys
import time

import vnetkit as vk
from vnetkit import cni

N = 50
PAIRS = 10  # container pairs pinged, spread over the 50


def wave(calls):
    """Runs every call (a function returning a cni.Result) at once, each in
    its own thread and so its own plugin process; returns (results, seconds)."""
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(calls)) as pool:
        results = list(pool.map(lambda f: f(), calls))
    return results, time.time() - start


def veths_in(topo, role, keep):
    links = json.loads(topo.ip(role, "-j", "link", "show", "type", "veth").stdout or "[]")
    return sorted(l["ifname"] for l in links if l["ifname"] not in keep)


def run_plugin(checks, topo, env, label, plugin, master, subnet, ifname, fabric):
    """One plugin's run over the shared containers; every finding a check named `label ...`."""
    host = topo.host
    data = cni.TempDataDir()
    env["cleanup"].append(data.cleanup)
    net = vk.unique("cc")
    base = subnet.rsplit(".", 2)[0]
    ipam = cni.host_local(data.path, {"subnet": subnet, "rangeStart": f"{base}.1.1", "rangeEnd": f"{base}.1.254"})
    conf = cni.config(net, os.path.basename(plugin), ipam=ipam, master=master, mode="bridge", fabric=fabric)
    conts = env["containers"]
    ids = {c: f"{net}-{c}" for c in conts}

    def add(c):
        return lambda: cni.exec_plugin(plugin, "ADD", conf, host_ns=host, netns=cni.netns_path(topo.ns(c)),
                                       containerid=ids[c], ifname=ifname)

    added, secs = wave([add(c) for c in conts])
    print(f"     {label}: {N} ADDs at once took {secs:.1f}s ({N / secs:.1f} containers/s)", flush=True)
    failed = {c: r for c, r in zip(conts, added) if not r.ok}
    checks.check(f"{label}: {N} concurrent ADDs succeed", not failed, f"{len(failed)} failed, e.g. {next(iter(failed.items()), '')}")
    results = {c: r.result for c, r in zip(conts, added) if r.ok}
    addr = {}
    for c, res in results.items():
        ips = res.get("ips") or []
        if ips:
            addr[c] = ips[0]["address"].split("/")[0]
    checks.check(f"{label}: every result has an address", len(addr) == N, f"{N - len(addr)} without")
    checks.check(f"{label}: addresses distinct", len(set(addr.values())) == len(addr),
                 f"{len(addr)} results, {len(set(addr.values()))} distinct addresses")

    # What the kernel and host-local hold matches the results.
    wrong = []
    macs = {}
    for c, ip in addr.items():
        link = json.loads(topo.ip(c, "-j", "addr", "show", "dev", ifname, check=False).stdout or "[]")
        have = [a["local"] for l in link for a in l.get("addr_info", []) if a["family"] == "inet"]
        if ip not in have:
            wrong.append(f"{c}: {ip} not on {ifname} ({have})")
        if link:
            macs[c] = link[0]["address"].lower()
    checks.check(f"{label}: each address is on its container's {ifname}", not wrong, "; ".join(wrong[:5]))
    leased = cni.leases(data.path, net)
    want = {ip: ids[c] for c, ip in addr.items()}
    got = {ip: owner[0] for ip, owner in leased.items()}
    checks.check(f"{label}: host-local leases one address per container", got == want,
                 f"leases {len(got)}, results {len(want)}; differing: "
                 f"{sorted(set(got.items()) ^ set(want.items()))[:5]}")

    if fabric and "vnet" in os.path.basename(plugin):
        ports = vk.fabric_doc(topo, fabric)["ports"]
        port_macs = sorted(p["mac"].lower() for p in ports)
        checks.check(f"{label}: the fabric has one port per container", port_macs == sorted(macs.values()),
                     f"{len(ports)} ports, {len(macs)} containers")

    # Reachability: the external namespace reaches every container; a
    # sample of pairs reach each other. Pings run at once, a few tries each.
    def ping_from(src_role, dst):
        return lambda: vk.ping(topo, src_role, dst, count=3, interval=0.2, timeout=1)

    reached, secs = wave([ping_from(env["ext"][label], ip) for ip in addr.values()])
    missed = [ip for ip, ok in zip(addr.values(), reached) if not ok]
    checks.check(f"{label}: the external namespace reaches all {len(addr)} containers", not missed and len(addr) == N,
                 f"unreachable: {missed}")
    with_addr = [c for c in conts if c in addr]
    pairs = [(with_addr[i * len(with_addr) // PAIRS], with_addr[(i * len(with_addr) // PAIRS + 17) % len(with_addr)])
             for i in range(PAIRS)] if with_addr else []
    reached, _ = wave([ping_from(a, addr[b]) for a, b in pairs]) if pairs else ([], 0)
    missed = [f"{a}->{b}" for (a, b), ok in zip(pairs, reached) if not ok]
    checks.check(f"{label}: {len(pairs)} container pairs reach each other", bool(pairs) and not missed, f"unreachable: {missed}")

    # 50 DELs at once, each with its ADD's result as prevResult.
    def delete(c):
        d = dict(conf)
        if c in results:
            d["prevResult"] = results[c]
        return lambda: cni.exec_plugin(plugin, "DEL", d, host_ns=host, netns=cni.netns_path(topo.ns(c)),
                                       containerid=ids[c], ifname=ifname)

    deleted, secs = wave([delete(c) for c in conts])
    print(f"     {label}: {N} DELs at once took {secs:.1f}s ({N / secs:.1f} containers/s)", flush=True)
    failed = {c: r for c, r in zip(conts, deleted) if not r.ok}
    checks.check(f"{label}: {N} concurrent DELs succeed", not failed, f"{len(failed)} failed, e.g. {next(iter(failed.items()), '')}")
    left = [c for c in conts if topo.ip(c, "link", "show", "dev", ifname, check=False).returncode == 0]
    checks.check(f"{label}: no {ifname} left in any container", not left, f"still in {left}")
    leased = cni.leases(data.path, net)
    checks.check(f"{label}: no lease left", not leased, f"{leased}")
    extra = veths_in(topo, "host", keep=("up0", "up1"))
    checks.check(f"{label}: no veth left in the host namespace", not extra, f"{extra}")
    if fabric and "vnet" in os.path.basename(plugin):
        if os.path.isdir(f"{vk.PIN_ROOT}/{fabric}"):
            listed = vk.run(["nsenter", f"--net=/run/netns/{host}", vk.VNETCTL, "-j", "show"], check=False)
            fabrics = json.loads(listed.stdout or "{}").get("fabrics", []) if listed.returncode == 0 else []
            mine = [f for f in fabrics if f["name"] == fabric]
            checks.check(f"{label}: the fabric has no port left", len(mine) == 1 and not mine[0]["ports"],
                         f"pins present; vnetctl show: {mine or listed.stdout + listed.stderr}")
        else:
            checks.check(f"{label}: the fabric was removed with its pins", True)


def main():
    vk.require_root()
    vk.require_tools("ping")
    vk.exit_on_signals()
    args = sys.argv[1:]
    plugin = os.environ.get("VNET_CNI_PLUGIN") or os.path.join(cni.CNI_DIR, "vnet-macvlan")
    if "--plugin" in args:
        plugin = args[args.index("--plugin") + 1]
    baseline = "--no-baseline" not in args
    checks = vk.Checks()
    if not os.access(plugin, os.X_OK):
        checks.fail("plugin", f"no executable CNI plugin at {plugin} (build it: ninja -C build)")
        checks.exit()
    start = time.time()
    topo = vk.Topology("cc")
    env = {"cleanup": [], "containers": [f"c{i}" for i in range(N)], "ext": {}}
    try:
        with topo:
            topo.host = topo.netns("host")
            systems = [("vnet", plugin, "up0", "198.18.0.0/16", "eth0", vk.unique("fcc"))]
            if baseline:
                systems.append(("reference", os.path.join(cni.REF_DIR, "macvlan"), "up1", "198.19.0.0/16", "net1", None))
            for label, _, master, subnet, _, fabric in systems:
                ext = topo.netns(f"e{master}")
                env["ext"][label] = f"e{master}"
                topo.ip("host", "link", "add", master, "type", "veth", "peer", "name", "wire", "netns", ext)
                topo.ip("host", "link", "set", master, "up")
                topo.ip(f"e{master}", "addr", "add", subnet.replace(".0.0/", ".0.1/"), "dev", "wire")
                topo.ip(f"e{master}", "link", "set", "wire", "up")
                if fabric:
                    topo.fabrics.append(fabric)  # the plugin creates it; teardown removes it whatever happens
            for c in env["containers"]:
                topo.netns(c)
            print(f"     {N} containers' namespaces ready ({time.time() - start:.1f}s)", flush=True)
            for label, path, master, subnet, ifname, fabric in systems:
                print(f"--- {label}: {path} on {master}, {subnet}, ifname {ifname}", flush=True)
                run_plugin(checks, topo, env, label, path, master, subnet, ifname, fabric)
    finally:
        for f in env["cleanup"]:
            f()
    checks.finish("cni-concurrent", start, [topo])


if __name__ == "__main__":
    main()
