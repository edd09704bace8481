#!/usr/bin/env python3
"""Differential (issue 12): one conflist, run once with the reference
`macvlan` plugin and once with `vnet-macvlan` (the type is the only
difference: that is the migration), same containers, same traffic, same run.

    test_cni_differential.py [REFERENCE CANDIDATE]   default: macvlan vnet-macvlan

The conflist is docs/cni.md's migration example. A "host" namespace plays
the machine's root (the plugins run there through vnetkit/cni.py, as a
runtime execs them); its master is a uniquely named veth
whose peer e0 is in an "ext" namespace holding the gateway. The fabric vnet
makes is named after that master (the conflist has no vnet key), so it is
unique too. For each plugin, in turn on the same master:
  - for every CNI version each plugin lists, one ADD and DEL; for those the
    reference supports (Debian's: 0.3.0 to 1.0.0) the result's key paths must
    be the same for both plugins, and so must the values a runtime reads
    (interface names and sandboxes, addresses, gateways, routes); a later
    version (1.1.0) must give the reference's 1.0.0 keys (plus the
    interface keys 1.1 adds);
  - three containers added with version 1.0.0: the reachability matrix
    (containers x containers + ext) must be the same, and full;
  - DEL of each (then again with an empty CNI_NETNS, as containerd does;
    c3's namespace is deleted before its only DEL, as after a containerd
    task exits):
    the same outcome, all successful, with no lease, no interface in the
    containers, no new link in the host namespace and, for vnet, no port.
"""
import copy
import json
import sys
import time

import vnetkit as vk
from vnetkit import cni, enginenet, engines

PLUGINS = sys.argv[1:3] if len(sys.argv) > 2 else ["macvlan", "vnet-macvlan"]
CONTAINERS = ("c1", "c2", "c3")
SPEC_1_1_KEYS = {".interfaces[].mtu", ".interfaces[].socketPath", ".interfaces[].pciID"}
GONE = "c3"  # deleted the way containerd does it: namespace first
MIGRATION = enginenet.documented("migration")
GATEWAY = MIGRATION["plugins"][0]["ipam"]["ranges"][0][0]["gateway"]
NAME = vk.unique("vnetdf")


def main():
    vk.require_root()
    vk.exit_on_signals()
    for p in PLUGINS:
        if not engines.plugin_dir(p):
            vk.skip(f"the CNI plugin {p} is not built")
    checks = vk.Checks()
    start = time.time()
    topo = vk.Topology("df")
    try:
        with topo, cni.TempDataDir("vnet-df-") as data:
            # One dataDir per plugin: each starts from the same empty pool.
            topo.host = topo.netns("host")
            ext = topo.netns("ext")
            master = vk.unique("dm")
            topo.ip("host", "link", "add", master, "type", "veth", "peer", "name", "e0", "netns", ext)
            topo.ip("host", "link", "set", master, "up")
            topo.ip("ext", "link", "set", "e0", "up")
            topo.ip("ext", "addr", "add", f"{GATEWAY}/24", "dev", "e0")
            for c in CONTAINERS:
                topo.netns(c)
            topo.fabrics.append(master)  # vnet's default fabric name: the master's
            seen = {p: observe(topo, f"{data.path}/{i}", p, master) for i, p in enumerate(PLUGINS)}
            compare(checks, seen)
    except Exception as e:  # pylint: disable=broad-except
        checks.fail("setup/teardown", repr(e))
    checks.finish(f"cni-differential ({' vs '.join(PLUGINS)})", start, [topo])


def network(plugin, master, data_dir, version="1.0.0"):
    """The migration conflist of docs/cni.md (the reference plugin's) with
    `type` set to plugin, this test's master and name, the CNI version
    asked and each plugin's leases in a dataDir of its own."""
    c = copy.deepcopy(MIGRATION)
    c.update(cniVersion=version, name=NAME)
    c["plugins"][0].update(type=plugin, master=master)
    c["plugins"][0]["ipam"]["dataDir"] = data_dir
    return c


def observe(topo, data_dir, plugin, master):
    """Everything compared about one plugin: results per version, the
    reachability matrix, the outcome of DEL. Leaves the host as it found it."""
    seen = {"results": {}, "errors": []}
    links_before = host_links(topo)
    # Every version the plugin lists must work with Debian's host-local
    # (which stops at 1.0.0): asking IPAM in a version it speaks is the plugin's job.
    seen["versions"] = supported(topo, plugin)
    for version in seen["versions"]:
        clist = network(plugin, master, data_dir, version)
        netns = cni.netns_path(topo.ns("c1"))
        r = cni.conflist_add(clist, topo.host, netns, "dfv", args="IgnoreUnknown=1")
        seen["results"][version] = r.result if r.ok else None
        if not r.ok:
            seen["errors"].append(f"ADD {version}: {r}")
        for d in cni.conflist_del(clist, topo.host, netns, "dfv", prev_result=r.result if r.ok else None):
            if not d.ok:
                seen["errors"].append(f"DEL {version}: {d}")

    clist = network(plugin, master, data_dir)
    address = {"ext": GATEWAY}
    results = {}
    for c in CONTAINERS:
        r = cni.conflist_add(clist, topo.host, cni.netns_path(topo.ns(c)), f"df{c}")
        if not r.ok:
            seen["errors"].append(f"ADD {c}: {r}")
            continue
        results[c] = r.result
        address[c] = r.result["ips"][0]["address"].split("/")[0]
    seen["ports while up"] = vnet_ports(topo, master) if plugin.startswith("vnet") else None
    nodes = [n for n in list(CONTAINERS) + ["ext"] if n in address]
    seen["matrix"] = enginenet.reachability(
        nodes, address, lambda n: lambda *argv: topo.exec(n, *argv, check=False, timeout=30))

    dels = []
    for c in CONTAINERS:
        if c == GONE:
            # containerd's order: the task exits, its namespace (and with
            # it the container's interface) goes, then DEL comes without one.
            vk.run(["ip", "netns", "del", topo.ns(c)])
            tries = [""]
        else:
            tries = [cni.netns_path(topo.ns(c)), ""]  # then again, as containerd sends it
        for netns in tries:
            dels += [d.ok for d in cni.conflist_del(clist, topo.host, netns, f"df{c}", prev_result=results.get(c))]
    vk.run(["ip", "netns", "add", topo.ns(GONE)])  # the same name again, for the next plugin
    topo.ip(GONE, "link", "set", "lo", "up")
    seen["del"] = {
        "all DELs succeeded": all(dels),
        "leases left": sorted(cni.leases(data_dir, clist["name"])),
        "container interfaces left": [c for c in CONTAINERS if has_eth0(topo, c)],
        "host links left": sorted(host_links(topo) - links_before),
        "ports left": vnet_ports(topo, master) if plugin.startswith("vnet") else [],
    }
    return seen


def supported(topo, plugin):
    """The versions of cni.VERSIONS that plugin's VERSION command lists."""
    v = cni.exec_plugin(plugin, "VERSION", {"cniVersion": "1.0.0"}, host_ns=topo.host)
    listed = v.result.get("supportedVersions", []) if v.ok and isinstance(v.result, dict) else []
    return [x for x in cni.VERSIONS if x in listed]


def host_links(topo):
    return {l["ifname"] for l in json.loads(topo.ip("host", "-j", "link", "show").stdout)}


def has_eth0(topo, role):
    return topo.ip(role, "link", "show", "eth0", check=False).returncode == 0


def vnet_ports(topo, fabric):
    """The port names vnetctl shows in fabric ([] when there is no such fabric)."""
    p = topo.vnetctl("-j", "show", fabric, check=False)
    if p.returncode != 0:
        return []
    return sorted(port["name"] for f in json.loads(p.stdout).get("fabrics", []) if f["name"] == fabric
                  for port in f.get("ports", []))


def key_paths(value, prefix=""):
    """The set of key paths of a JSON document; list items share one path ([])."""
    paths = set()
    if isinstance(value, dict):
        for k, v in value.items():
            paths.add(prefix + "." + k)
            paths |= key_paths(v, prefix + "." + k)
    elif isinstance(value, list):
        for v in value:
            paths |= key_paths(v, prefix + "[]")
    return paths


def runtime_view(result):
    """What a runtime reads from a result, without what differs by nature (MACs)."""
    if not isinstance(result, dict):
        return result
    ifaces = result.get("interfaces", [])
    return {"interfaces": [(i.get("name"), i.get("sandbox")) for i in ifaces],
            "ips": [(ip.get("address"), ip.get("gateway"), ip.get("version"),
                     ifaces[ip["interface"]].get("name") if "interface" in ip and ip["interface"] < len(ifaces)
                     else None) for ip in result.get("ips", [])],
            "routes": result.get("routes"), "dns": result.get("dns"), "cniVersion": result.get("cniVersion")}


def compare(checks, seen):
    ref, cand = PLUGINS
    for p in PLUGINS:
        checks.check(f"{p}: every ADD and DEL succeeded", not seen[p]["errors"], seen[p]["errors"])
    checks.check(f"{cand} supports every version {ref} does",
                 set(seen[ref]["versions"]) <= set(seen[cand]["versions"]), seen)
    print(f"     versions compared: {seen[ref]['versions']} (those {ref} supports)", flush=True)
    for version in seen[ref]["versions"]:
        a, b = seen[ref]["results"].get(version), seen[cand]["results"].get(version)
        ka, kb = key_paths(a), key_paths(b)
        checks.check(f"{version}: same result keys", ka == kb and ka,
                     f"only {ref}: {sorted(ka - kb)}; only {cand}: {sorted(kb - ka)}")
        va, vb = runtime_view(a), runtime_view(b)
        checks.check(f"{version}: same interfaces, addresses and routes", va == vb and va, f"{va} != {vb}")
    # Versions the reference does not know (Debian's stops at 1.0.0): 1.1.0's
    # result is 1.0.0's, whose interfaces may also carry mtu, socketPath, pciID.
    for version in sorted(set(seen[cand]["versions"]) - set(seen[ref]["versions"])):
        kb, ka = key_paths(seen[cand]["results"].get(version)), key_paths(seen[ref]["results"].get("1.0.0"))
        checks.check(f"{version}: {cand}'s result keys are {ref}'s 1.0.0 ones (and 1.1's interface keys)",
                     ka and ka <= kb and kb - ka <= SPEC_1_1_KEYS,
                     f"only {ref} 1.0.0: {sorted(ka - kb)}; only {cand}: {sorted(kb - ka)}")
    full = all(seen[ref]["matrix"].values()) and len(seen[ref]["matrix"]) == (len(CONTAINERS) + 1) * len(CONTAINERS)
    checks.check(f"{ref}: every container reaches every other and ext", full, seen[ref]["matrix"])
    checks.check("same reachability matrix", seen[ref]["matrix"] == seen[cand]["matrix"],
                 f"{seen[ref]['matrix']} != {seen[cand]['matrix']}")
    ports = seen[cand]["ports while up"]
    if ports is not None:
        checks.check(f"{cand}: a port per container while they run", len(ports) == len(CONTAINERS), ports)
    clean = {"all DELs succeeded": True, "leases left": [], "container interfaces left": [],
             "host links left": [], "ports left": []}
    checks.check(f"{ref}: DEL leaves nothing", seen[ref]["del"] == clean, seen[ref]["del"])
    checks.check("same DEL cleanliness", seen[ref]["del"] == seen[cand]["del"],
                 f"{seen[ref]['del']} != {seen[cand]['del']}")


if __name__ == "__main__":
    main()
