#!/usr/bin/python3
"""The CNI plugin against the CNI specification (shared/spec/cni.md): the
plugin is exec'd as a runtime does (vnetkit/cni.py), inside a "host"
namespace whose masters are veths to an "ext" namespace; host-local keeps its
leases in a private dataDir.

  versions      VERSION lists all five; ADD/CHECK/DEL in each of 0.3.0 ..
                1.1.0: result shape (interfaces with sandbox, ips with
                interface index, `version` below 1.0.0 only, routes, dns,
                interface mtu in 1.1 only), the container configured as the
                result says, CHECK refused below 0.4.0, DEL releases all.
  errors        every code: 1, 2, 4, 6, 7 (key named), 11, each with nothing
                left (no port, no veth, no lease).
  del           DEL is idempotent and succeeds without netns, without the
                interface, without the fabric, without the master; the lease
                is released each time.
  ifname        ADD of an existing ifname fails and leaves nothing of its own.
  ipam failure  an exhausted range, and a failure after IPAM (MAC in use):
                error, nothing left, the lease released.
  check         CHECK passes, then fails after the address is removed and
                after the MAC is changed; without prevResult it is code 7.
  gc            GC removes the ports (and leases) not in
                cni.dev/valid-attachments, keeps the others; 1.0.0 refuses GC.
  status        STATUS ok; not available (50) without bpffs; 1.0.0 refuses.
  ipvlan        vnet-ipvlan l2 and l3: the port's addresses are IPAM's, ping
                ext and the sibling.
  spoofing      a forged IPv4 source from a container is dropped
                (drops.spoofed_ip grows, ext never sees it).
  traffic       two macvlan containers reach each other and ext (v4, v6).
  keys          mac/runtimeConfig.mac/CNI_ARGS MAC=, mtu, type vnet + kind.
  concurrent    20 ADDs at once on a master without a fabric: one fabric,
                distinct addresses, reachable; 20 DELs at once leave nothing.
  default       no master: the default route's interface of the plugin's namespace.
$CNI_CASES (comma-separated case names) runs a subset: meson runs the
protocol cases as cni-spec and the traffic cases as cni-spec-traffic.
Exit 0 pass, 1 fail, 77 skip.
"""
import fcntl
import json
import os
import subprocess
import time

import vnetkit as vk
from vnetkit import cni

NET = "198.18.60"
NET6 = "2001:db8:60:"
L2NET, L3NET = "198.18.61", "198.18.62"


class Env:
    def __init__(self, topo, data):
        self.topo = topo
        self.data = data.path
        self.masters = {}  # master -> fabric name


def ext_link(topo, master, peer, addrs):
    """A master `master` in host with its peer `peer` in ext carrying addrs."""
    topo.ip("host", "link", "add", master, "type", "veth", "peer", "name", peer, "netns", topo.ns("ext"))
    topo.ip("host", "link", "set", master, "up")
    for a in addrs:
        topo.ip("ext", "addr", "add", a, "dev", peer, "nodad")
    topo.ip("ext", "link", "set", peer, "up")


def setup(env):
    t = env.topo
    t.host = t.netns("host")
    t.netns("ext")
    ext_link(t, "up0", "e0", [f"{NET}.1/24", f"{NET6}:1/64"])
    ext_link(t, "up1", "e1", [f"{L2NET}.1/24"])
    ext_link(t, "up2", "e2", [f"{L3NET}.1/24"])
    # ipvlan l3 routes the ports' packets in the master's namespace (as the
    # kernel's does): the host needs its route to the subnet.
    t.ip("host", "addr", "add", f"{L3NET}.2/24", "dev", "up2")


def fabric_for(env, master):
    if master not in env.masters:
        env.masters[master] = vk.unique("cf")
        env.topo.fabrics.append(env.masters[master])
    return env.masters[master]


def net_conf(env, name="n0", version="1.0.0", ptype="vnet-macvlan", master="up0", subnet=f"{NET}.0/24",
             subnet6=None, ipam=None, **keys):
    if ipam is None:
        ranges = [{"subnet": subnet, "rangeStart": subnet.rsplit(".", 1)[0] + ".10", "gateway":
                   subnet.rsplit(".", 1)[0] + ".1"}]
        ipam = cni.host_local(env.data, *([ranges[0]] + ([{"subnet": subnet6}] if subnet6 else [])),
                              routes=["0.0.0.0/0"] + (["::/0"] if subnet6 else []))
        keys.setdefault("dns", {"nameservers": [f"{NET}.53"]})
    if master is not None and "fabric" not in keys:
        keys["fabric"] = fabric_for(env, master)
    return cni.config(name, ptype, version, ipam=ipam or None, master=master, **keys)


def container(env, role=None):
    role = role or vk.unique("c")
    env.topo.netns(role)
    return role


def run(ctx, cmd, conf, role=None, cid="", ifname="eth0", netns=None, ptype=None, **kw):
    """exec the plugin (conf's type) in the host namespace."""
    if netns is None:
        netns = cni.netns_path(ctx.topo.ns(role)) if role else ""
    plugin = ptype or (conf["type"] if isinstance(conf, dict) else "vnet")
    return cni.exec_plugin(plugin, cmd, conf, host_ns=ctx.topo.host, netns=netns, containerid=cid, ifname=ifname,
                           **kw)


def show(env):
    return env.topo.vnetctl("show", json_out=True)


def all_ports(env):
    """{alias or name: port} of every fabric of the host namespace. The alias,
    the attachment the plugin records, is the host end's ifalias, and `show`
    must report it as the port's alias."""
    aliases = {n: link.get("ifalias") or "" for n, link in host_links(env).items()}
    out = {}
    for f in show(env).get("fabrics", []):
        for p in f.get("ports", []):
            assert p.get("alias") == aliases.get(p["name"], ""), \
                f"show says {p['name']} has alias {p.get('alias')!r}, the link has {aliases.get(p['name'])!r}"
            out[p["alias"] or p["name"]] = p
    return out


def port_count(env, fabric):
    return sum(len(f.get("ports", [])) for f in show(env).get("fabrics", []) if f["name"] == fabric)


def host_links(env):
    return {link["ifname"]: link for link in json.loads(env.topo.ip("host", "-j", "link", "show").stdout)}


def vnp_links(env):
    return sorted(n for n in host_links(env) if n.startswith("vnp"))


def has_link(env, role, ifname):
    return env.topo.ip(role, "link", "show", ifname, check=False).returncode == 0


def leases(env, name="n0"):
    return cni.leases(env.data, name)


def assert_ok(r, what):
    assert r.rc == 0, f"{what}: {r}"


def assert_code(r, code, what, key=None):
    assert r.rc != 0, f"{what}: succeeded: {r}"
    assert isinstance(r.result, dict), f"{what}: stdout is no JSON error: {r}"
    for k in ("cniVersion", "code", "msg"):
        assert k in r.result, f"{what}: error lacks {k}: {r}"
    assert r.result["code"] == code, f"{what}: code {r.result['code']}, want {code}: {r}"
    if key:
        text = r.result["msg"] + " " + r.result.get("details", "")
        assert key in text, f"{what}: error does not name {key}: {r}"


def assert_nothing_left(env, before_vnp, before_leases, what, name="n0"):
    assert vnp_links(env) == before_vnp, f"{what}: host links {vnp_links(env)} (before {before_vnp})"
    assert leases(env, name) == before_leases, f"{what}: leases {leases(env, name)} (before {before_leases})"


def addrs_of(env, role, ifname="eth0"):
    doc = json.loads(env.topo.ip(role, "-j", "addr", "show", "dev", ifname).stdout)
    return {f"{a['local']}/{a['prefixlen']}" for a in doc[0]["addr_info"] if a.get("scope") != "link"}


def mac_of(env, role, ifname="eth0"):
    return json.loads(env.topo.ip(role, "-j", "link", "show", ifname).stdout)[0]["address"]


# -- cases ---------------------------------------------------------------------------------

def versions(env):
    for v in cni.VERSIONS + [None]:
        r = run(env, "VERSION", {"cniVersion": v} if v else "{}", ptype="vnet")
        assert_ok(r, f"VERSION {v}")
        assert sorted(r.result["supportedVersions"]) == sorted(cni.VERSIONS), r
    for v in cni.VERSIONS:
        role = container(env)
        conf = net_conf(env, version=v, subnet6=f"{NET6}:/64")
        cid = f"ver{v.replace('.', '')}"
        r = run(env, "ADD", conf, role, cid)
        assert_ok(r, f"ADD {v}")
        res = r.result
        assert res["cniVersion"] == v, res
        assert len(res["interfaces"]) == 1, res
        iface = res["interfaces"][0]
        assert iface["name"] == "eth0" and iface["sandbox"] == cni.netns_path(env.topo.ns(role)), res
        assert iface["mac"] == mac_of(env, role), (iface, mac_of(env, role))
        assert ("mtu" in iface) == (v == "1.1.0"), res
        assert len(res["ips"]) == 2, res
        for ip in res["ips"]:
            assert ip["interface"] == 0, res
            want_version = "6" if ":" in ip["address"] else "4"
            if v < "1.0.0":
                assert ip.get("version") == want_version, res
            else:
                assert "version" not in ip, res
        assert {ip["address"] for ip in res["ips"]} <= addrs_of(env, role), (res, addrs_of(env, role))
        assert {r_["dst"] for r_ in res["routes"]} == {"0.0.0.0/0", "::/0"}, res
        assert res["dns"].get("nameservers") == [f"{NET}.53"], res
        route = env.topo.ip(role, "-4", "route", "show", "default").stdout
        assert f"via {NET}.1" in route, route
        assert sum(1 for _ip, (c, _i) in leases(env).items() if c == cid) == 2, leases(env)
        with_prev = dict(conf, prevResult=res)
        r = run(env, "CHECK", with_prev, role, cid)
        if v < "0.4.0":
            assert_code(r, 1, f"CHECK {v}")
        else:
            assert_ok(r, f"CHECK {v}")
        r = run(env, "DEL", with_prev, role, cid)
        assert_ok(r, f"DEL {v}")
        assert not has_link(env, role, "eth0"), f"DEL {v}: eth0 left"
        assert not any(c == cid for c, _i in leases(env).values()), leases(env)
        assert not any(a.startswith(f"cni:n0:{cid}:") for a in all_ports(env)), all_ports(env)


def errors(env):
    role = container(env)
    before_vnp, before_leases = vnp_links(env), leases(env)
    ok_conf = net_conf(env)
    cases = [
        ("bad version", dict(ok_conf, cniVersion="9.9.9"), {}, 1, None),
        ("no version", {k: v for k, v in ok_conf.items() if k != "cniVersion"}, {}, 1, None),
        ("linkInContainer", dict(ok_conf, linkInContainer=True), {}, 2, "linkInContainer"),
        ("ipvlan mac", net_conf(env, ptype="vnet-ipvlan", master="up1", subnet=f"{L2NET}.0/24",
                                mac="02:00:00:00:00:01"), {}, 2, "mac"),
        ("no netns", ok_conf, {"netns": ""}, 4, "CNI_NETNS"),
        ("gone netns", ok_conf, {"netns": "/run/netns/vnet-cni-nonexistent"}, 4, "CNI_NETNS"),
        ("bad command", ok_conf, {"cmd": "FROB"}, 4, "FROB"),
        ("bad CNI_ARGS", ok_conf, {"args": "IgnoreUnknown=1;garbage"}, 4, "CNI_ARGS"),
        ("not JSON", "{not json", {}, 6, None),
        ("mtu type", dict(ok_conf, mtu="big"), {}, 6, "mtu"),
        ("bad mode", dict(ok_conf, mode="sideways"), {}, 7, "mode"),
        ("mtu above master", dict(ok_conf, mtu=9000), {}, 7, "mtu"),
        ("no master device", dict(ok_conf, master="nosuch0"), {}, 7, "master"),
        ("bad mac", dict(ok_conf, mac="01:00:5e:00:00:01"), {}, 7, "mac"),
        ("ipam plugin", dict(ok_conf, ipam={"type": "nosuch-ipam"}), {}, 7, "ipam.type"),
        ("bad kind", dict(ok_conf, type="vnet", kind="bridge"), {"ptype": "vnet"}, 7, "kind"),
        ("kind contradicts", dict(ok_conf, kind="ipvlan"), {}, 7, "kind"),
    ]
    for what, conf, opts, code, key in cases:
        r = run(env, opts.get("cmd", "ADD"), conf, role, "err1", netns=opts.get("netns"), args=opts.get("args", ""),
                ptype=opts.get("ptype"))
        assert_code(r, code, what, key)
        assert r.stdout.strip().startswith("{"), f"{what}: stdout is not only the error: {r}"
        assert not has_link(env, role, "eth0"), f"{what}: eth0 made"
        assert_nothing_left(env, before_vnp, before_leases, what)
    # A running fabric's policies are never changed: host on against the fabric made with it off.
    r = run(env, "ADD", ok_conf, role, "err2")
    assert_ok(r, "ADD for the policy case")
    before_vnp, before_leases = vnp_links(env), leases(env)
    role2 = container(env)
    r = run(env, "ADD", dict(ok_conf, host=True), role2, "err3")
    assert_code(r, 7, "host differs", "host")
    r = run(env, "ADD", dict(ok_conf, unknown="drop"), role2, "err3")
    assert_code(r, 7, "unknown differs", "unknown")
    assert_nothing_left(env, before_vnp, before_leases, "policy differs")
    assert_ok(run(env, "DEL", ok_conf, role, "err2"), "DEL after the policy case")
    # Code 11: the control lock held longer than the plugin waits.
    before_vnp, before_leases = vnp_links(env), leases(env)
    with open("/run/vnet.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            r = run(env, "ADD", ok_conf, role, "err4", env={"VNET_CNI_LOCK_TIMEOUT_MS": "300"})
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    assert_code(r, 11, "lock busy")
    assert_nothing_left(env, before_vnp, before_leases, "lock busy")


def del_tolerant(env):
    conf = net_conf(env)
    # No netns (containerd's DEL), twice.
    role = container(env)
    assert_ok(run(env, "ADD", conf, role, "d1"), "ADD d1")
    assert "d1" in [c for c, _ in leases(env).values()]
    for i in range(2):
        assert_ok(run(env, "DEL", conf, cid="d1", netns=""), f"DEL d1 without netns #{i}")
    assert not has_link(env, role, "eth0"), "d1: eth0 left"
    assert "d1" not in [c for c, _ in leases(env).values()], leases(env)
    assert not any(a.startswith("cni:n0:d1:") for a in all_ports(env))
    # Interface deleted in the container first.
    role = container(env)
    assert_ok(run(env, "ADD", conf, role, "d2"), "ADD d2")
    env.topo.ip(role, "link", "del", "eth0")
    assert_ok(run(env, "DEL", conf, role, "d2"), "DEL d2 without interface")
    assert "d2" not in [c for c, _ in leases(env).values()], leases(env)
    # netns gone entirely (its veth pair with it): the fabric forgets the port too.
    role = container(env)
    ports_before = port_count(env, conf["fabric"])
    assert_ok(run(env, "ADD", conf, role, "d3"), "ADD d3")
    path = cni.netns_path(env.topo.ns(role))
    env.topo.exec("host", "true")
    vk.run(["ip", "netns", "del", env.topo.ns(role)])
    assert_ok(run(env, "DEL", conf, cid="d3", netns=path), "DEL d3 with its netns gone")
    assert "d3" not in [c for c, _ in leases(env).values()], leases(env)
    assert port_count(env, conf["fabric"]) == ports_before, show(env)
    # Fabric and master gone: a master of its own, detached / deleted.
    t = env.topo
    ext_link(t, "up3", "e3", [f"{NET}.3/24"])
    ext_link(t, "up4", "e4", [f"{NET}.4/24"])
    for master, cid, remove in (("up3", "d4", "fabric"), ("up4", "d5", "master")):
        c = net_conf(env, master=master)
        role = container(env)
        assert_ok(run(env, "ADD", c, role, cid), f"ADD {cid}")
        if remove == "fabric":
            t.vnetctl("detach", c["fabric"])
        else:
            t.ip("host", "link", "del", master)
        r = run(env, "DEL", c, role, cid)
        assert_ok(r, f"DEL {cid} without {remove}")
        assert cid not in [c_ for c_, _ in leases(env).values()], (remove, leases(env))
        assert not has_link(env, role, "eth0"), f"DEL {cid} without {remove}: eth0 left"
    t.vnetctl("gc", check=False)


def ifname_exists(env):
    conf = net_conf(env)
    role = container(env)
    env.topo.ip(role, "link", "add", "eth0", "type", "veth", "peer", "name", "own0")
    before_vnp, before_leases = vnp_links(env), leases(env)
    r = run(env, "ADD", conf, role, "x1")
    assert r.rc != 0 and r.result and "code" in r.result, r
    assert_nothing_left(env, before_vnp, before_leases, "an eth0 of the container's own")
    assert has_link(env, role, "own0") and has_link(env, role, "eth0"), "the container's own eth0 was touched"
    # A second ADD of the same ifname: the first attachment stays whole.
    role = container(env)
    assert_ok(run(env, "ADD", conf, role, "x2"), "ADD x2")
    before_vnp, before_leases = vnp_links(env), leases(env)
    r = run(env, "ADD", conf, role, "x3")
    assert r.rc != 0, r
    assert_nothing_left(env, before_vnp, before_leases, "second ADD of eth0")
    assert any(a.startswith("cni:n0:x2:eth0") for a in all_ports(env)), "x2's port went"
    assert_ok(run(env, "DEL", conf, role, "x2"), "DEL x2")


def ipam_failure(env):
    # A range of one address, taken: host-local fails.
    ipam = cni.host_local(env.data, {"subnet": f"{NET}.0/24", "rangeStart": f"{NET}.200", "rangeEnd": f"{NET}.200"})
    conf = net_conf(env, name="tiny", ipam=ipam)
    r1 = container(env)
    assert_ok(run(env, "ADD", conf, r1, "i1"), "ADD i1")
    before_vnp, before_leases = vnp_links(env), leases(env, "tiny")
    r2 = container(env)
    r = run(env, "ADD", conf, r2, "i2")
    assert r.rc != 0 and r.result and r.result.get("code"), r
    assert_nothing_left(env, before_vnp, before_leases, "exhausted range", "tiny")
    assert not has_link(env, r2, "eth0"), "eth0 made in spite of IPAM failing"
    assert_ok(run(env, "DEL", conf, r1, "i1"), "DEL i1")
    # Failure after IPAM ADD: a MAC already in use on the fabric.
    conf = net_conf(env, mac="02:aa:bb:cc:dd:01")
    assert_ok(run(env, "ADD", conf, r1, "i3"), "ADD i3")
    before_vnp, before_leases = vnp_links(env), leases(env)
    r = run(env, "ADD", conf, r2, "i4")
    assert r.rc != 0, r
    assert_nothing_left(env, before_vnp, before_leases, "MAC in use after IPAM")
    assert not has_link(env, r2, "eth0")
    assert_ok(run(env, "DEL", conf, r1, "i3"), "DEL i3")


def check(env):
    conf = net_conf(env)
    role = container(env)
    r = run(env, "ADD", conf, role, "k1")
    assert_ok(r, "ADD k1")
    prev = dict(conf, prevResult=r.result)
    assert_ok(run(env, "CHECK", prev, role, "k1"), "CHECK intact")
    assert_code(run(env, "CHECK", conf, role, "k1"), 7, "CHECK without prevResult", "prevResult")
    address = r.result["ips"][0]["address"]
    env.topo.ip(role, "addr", "del", address, "dev", "eth0")
    assert run(env, "CHECK", prev, role, "k1").rc != 0, "CHECK passed with the address removed"
    env.topo.ip(role, "addr", "add", address, "dev", "eth0")
    env.topo.ip(role, "route", "replace", "default", "via", f"{NET}.1")
    assert_ok(run(env, "CHECK", prev, role, "k1"), "CHECK after the address is back")
    env.topo.ip(role, "link", "set", "eth0", "address", "02:12:34:56:78:9a")
    assert run(env, "CHECK", prev, role, "k1").rc != 0, "CHECK passed with the MAC changed"
    assert_ok(run(env, "DEL", prev, role, "k1"), "DEL k1")
    assert run(env, "CHECK", prev, role, "k1").rc != 0, "CHECK passed after DEL"


def gc(env):
    conf = net_conf(env, version="1.1.0")
    roles = {}
    for cid in ("g1", "g2", "g3"):
        roles[cid] = container(env)
        assert_ok(run(env, "ADD", conf, roles[cid], cid), f"ADD {cid}")
    keep = [{"containerID": "g1", "ifname": "eth0"}, {"containerID": "g3", "ifname": "eth0"}]
    assert_code(run(env, "GC", dict(conf, cniVersion="1.0.0", **{"cni.dev/valid-attachments": keep})), 1,
                "GC in 1.0.0")
    r = run(env, "GC", dict(conf, **{"cni.dev/valid-attachments": keep}))
    assert_ok(r, "GC")
    ports = all_ports(env)
    assert "cni:n0:g1:eth0" in ports and "cni:n0:g3:eth0" in ports, ports
    assert "cni:n0:g2:eth0" not in ports, ports
    assert not has_link(env, roles["g2"], "eth0"), "g2's interface survived GC"
    held = [c for c, _ in leases(env).values()]
    assert "g2" not in held and "g1" in held and "g3" in held, leases(env)
    # Another network's GC leaves n0's ports alone.
    assert_ok(run(env, "GC", dict(conf, name="other", **{"cni.dev/valid-attachments": []})), "GC other")
    assert "cni:n0:g1:eth0" in all_ports(env)
    for cid in ("g1", "g3"):
        assert_ok(run(env, "DEL", conf, roles[cid], cid), f"DEL {cid}")


def status(env):
    conf = net_conf(env, version="1.1.0")
    assert_ok(run(env, "STATUS", conf), "STATUS")
    assert_code(run(env, "STATUS", dict(conf, cniVersion="1.0.0")), 1, "STATUS in 1.0.0")
    # Without bpffs (a private mount namespace with it unmounted): not available.
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CNI_")}
    environ.update(CNI_COMMAND="STATUS", CNI_PATH=cni.cni_path())
    p = subprocess.run(["nsenter", f"--net=/run/netns/{env.topo.host}", "unshare", "-m", "sh", "-c",
                        'umount -l /sys/fs/bpf && exec "$0"', cni.plugin_path("vnet-macvlan")],
                       input=json.dumps(conf), capture_output=True, text=True, env=environ, timeout=30)
    r = cni.Result(p.returncode, p.stdout, p.stderr)
    assert_code(r, 50, "STATUS without bpffs")


def ipvlan(env):
    for mode, master, net in (("l2", "up1", L2NET), ("l3", "up2", L3NET)):
        conf = net_conf(env, name=f"iv{mode}", ptype="vnet-ipvlan", master=master, subnet=f"{net}.0/24", mode=mode)
        roles = []
        for i in (1, 2):
            role = container(env)
            r = run(env, "ADD", conf, role, f"iv{mode}{i}")
            assert_ok(r, f"ADD ipvlan {mode} {i}")
            addr = r.result["ips"][0]["address"]
            assert r.result["interfaces"][0]["mac"] == host_links(env)[master]["address"], r.result
            port = all_ports(env)[f"cni:iv{mode}:iv{mode}{i}:eth0"]
            owned = {a["address"] if isinstance(a, dict) else a for a in port.get("addresses", [])}
            assert any(o.split("/")[0] == addr.split("/")[0] for o in owned), (port, addr)
            assert addr in addrs_of(env, role), (addr, addrs_of(env, role))
            roles.append((role, addr.split("/")[0]))
        doc = vk.fabric_doc(env.topo, conf["fabric"])
        assert doc.get("ipvlan_mode") == mode, doc
        for role, _ in roles:
            assert vk.ping(env.topo, role, f"{net}.1", count=3, timeout=1, interval=0.2), f"{mode}: {role} -> ext"
        assert vk.ping(env.topo, roles[0][0], roles[1][1], count=3, timeout=1, interval=0.2), f"{mode}: sibling"
        r = run(env, "CHECK", dict(conf, prevResult=r.result), roles[1][0], f"iv{mode}2")
        assert_ok(r, f"CHECK ipvlan {mode}")
        # The fabric's mode is fixed: the other mode on it is code 7.
        other = "l3" if mode == "l2" else "l2"
        assert_code(run(env, "ADD", dict(conf, mode=other), container(env), "ivx"), 7, "ipvlan mode differs", "mode")
        for i, (role, _) in enumerate(roles, 1):
            assert_ok(run(env, "DEL", conf, role, f"iv{mode}{i}"), f"DEL ipvlan {mode} {i}")
        assert not cni.leases(env.data, f"iv{mode}"), cni.leases(env.data, f"iv{mode}")


def spoofing(env):
    conf = net_conf(env)
    role = container(env)
    r = run(env, "ADD", conf, role, "s1")
    assert_ok(r, "ADD s1")
    addr = r.result["ips"][0]["address"].split("/")[0]
    port = all_ports(env)["cni:n0:s1:eth0"]
    allowed = {a.split("/")[0] for a in port.get("allow_ips", [])}
    assert allowed == {addr}, (port, addr)
    before = vk.stat(env.topo, port["name"], "drops", "spoofed_ip")
    mac = mac_of(env, role)
    cap = vk.Tcpdump(env.topo, "ext", "e0", f"udp and src host {NET}.99")
    try:
        vk.scapy_send(env.topo, role, "eth0",
                      f"[Ether(src={mac!r}, dst='ff:ff:ff:ff:ff:ff') / IP(src='{NET}.99', dst='{NET}.1') / "
                      f"UDP(sport=1234, dport=9) / b'forged']*5")
        time.sleep(0.3)
    finally:
        seen = cap.stop()
    after = vk.stat(env.topo, port["name"], "drops", "spoofed_ip")
    assert after - before >= 5, f"spoofed_ip drops {before} -> {after}"
    assert not seen, f"forged frames reached ext: {seen}"
    assert vk.ping(env.topo, role, f"{NET}.1", count=3, timeout=1, interval=0.2), "honest traffic"
    assert_ok(run(env, "DEL", conf, role, "s1"), "DEL s1")


def traffic(env):
    conf = net_conf(env, subnet6=f"{NET6}:/64")
    roles = []
    for cid in ("t1", "t2"):
        role = container(env)
        r = run(env, "ADD", conf, role, cid)
        assert_ok(r, f"ADD {cid}")
        roles.append((role, [ip["address"].split("/")[0] for ip in r.result["ips"]]))
    (a, a_ips), (b, b_ips) = roles
    for role, ips in roles:
        assert vk.ping(env.topo, role, f"{NET}.1", count=3, timeout=1, interval=0.2), f"{role} -> ext v4"
        assert vk.ping(env.topo, role, f"{NET6}:1", count=3, timeout=2, interval=0.3), f"{role} -> ext v6"
    for ip in b_ips:
        assert vk.ping(env.topo, a, ip, count=3, timeout=2, interval=0.3), f"c1 -> c2 {ip}"
    for cid, (role, _) in zip(("t1", "t2"), roles):
        assert_ok(run(env, "DEL", conf, role, cid), f"DEL {cid}")


def keys(env):
    role = container(env)
    conf = net_conf(env, mac="02:00:00:00:aa:01", mtu=1400)
    r = run(env, "ADD", conf, role, "m1")
    assert_ok(r, "ADD with mac, mtu")
    assert mac_of(env, role) == "02:00:00:00:aa:01" == r.result["interfaces"][0]["mac"], r.result
    assert json.loads(env.topo.ip(role, "-j", "link", "show", "eth0").stdout)[0]["mtu"] == 1400
    assert_ok(run(env, "DEL", conf, role, "m1"), "DEL m1")
    # CNI_ARGS MAC= over mac; runtimeConfig.mac over both.
    r = run(env, "ADD", conf, role, "m2", args="IgnoreUnknown=1;MAC=02:00:00:00:aa:02;K8S_POD_NAME=x")
    assert_ok(r, "ADD with CNI_ARGS MAC")
    assert mac_of(env, role) == "02:00:00:00:aa:02", mac_of(env, role)
    assert_ok(run(env, "DEL", conf, role, "m2"), "DEL m2")
    c = dict(conf, runtimeConfig={"mac": "02:00:00:00:aa:03"})
    r = run(env, "ADD", c, role, "m3", args="IgnoreUnknown=1;MAC=02:00:00:00:aa:02")
    assert_ok(r, "ADD with runtimeConfig.mac")
    assert mac_of(env, role) == "02:00:00:00:aa:03", mac_of(env, role)
    assert_ok(run(env, "DEL", c, role, "m3", args="IgnoreUnknown=1;MAC=02:00:00:00:aa:02"), "DEL m3")
    # Type vnet with kind; the binary's name decides for vnet-macvlan.
    c = dict(net_conf(env), type="vnet", kind="macvlan")
    assert_ok(run(env, "ADD", c, role, "m4"), "ADD type vnet kind macvlan")
    assert all_ports(env)["cni:n0:m4:eth0"]["mode"] == "bridge", all_ports(env)["cni:n0:m4:eth0"]
    assert_ok(run(env, "DEL", c, role, "m4"), "DEL m4")


def concurrent(env):
    """20 ADDs at once on a master with no fabric yet (the lock serialises,
    the fabric is made once), all reachable; then 20 DELs at once leave no
    port, link or lease. (cni-scale runs 50 with the benchmark.)"""
    import concurrent.futures as cf
    t = env.topo
    ext_link(t, "up5", "e5", ["198.18.65.1/24"])
    conf = net_conf(env, name="many", master="up5", subnet="198.18.65.0/24")
    roles = {f"p{i}": container(env) for i in range(20)}
    with cf.ThreadPoolExecutor(max_workers=20) as pool:
        added = dict(zip(roles, pool.map(lambda cid: run(env, "ADD", conf, roles[cid], cid), roles)))
    for cid, r in added.items():
        assert_ok(r, f"concurrent ADD {cid}")
    ips = [r.result["ips"][0]["address"].split("/")[0] for r in added.values()]
    assert len(set(ips)) == 20, ips
    fabrics = [f for f in show(env)["fabrics"] if f["uplink"] == "up5"]
    assert len(fabrics) == 1 and len(fabrics[0]["ports"]) == 20, fabrics
    for cid in ("p0", "p19"):
        assert vk.ping(t, roles[cid], "198.18.65.1", count=2, timeout=1, interval=0.2), f"{cid} -> ext"
    assert vk.ping(t, roles["p0"], ips[-1], count=2, timeout=1, interval=0.2), "p0 -> p19"
    with cf.ThreadPoolExecutor(max_workers=20) as pool:
        deleted = dict(zip(roles, pool.map(lambda cid: run(env, "DEL", conf, roles[cid], cid), roles)))
    for cid, r in deleted.items():
        assert_ok(r, f"concurrent DEL {cid}")
    assert not [f for f in show(env)["fabrics"] if f["uplink"] == "up5"][0]["ports"]
    assert not cni.leases(env.data, "many"), cni.leases(env.data, "many")
    assert not [a for a in all_ports(env) if a.startswith("cni:many:")]


def default_master(env):
    """No master: the interface of the default route in the plugin's
    namespace, here a namespace of its own (never the machine's)."""
    t = env.topo
    h2 = t.netns("h2")
    t.ip("h2", "link", "add", "dm0", "type", "veth", "peer", "name", "e9", "netns", t.ns("ext"))
    t.ip("h2", "link", "set", "dm0", "up")
    t.ip("h2", "addr", "add", "198.18.69.2/24", "dev", "dm0")
    t.ip("h2", "route", "add", "default", "via", "198.18.69.1")
    t.ip("ext", "link", "set", "e9", "up")
    fabric = vk.unique("cf")
    conf = net_conf(env, name="dm", master=None, subnet="198.18.69.0/24", fabric=fabric)
    role = container(env)
    r = cni.exec_plugin("vnet-macvlan", "ADD", conf, host_ns=h2, netns=cni.netns_path(t.ns(role)),
                        containerid="dm1")
    try:
        assert_ok(r, "ADD without master")
        doc = json.loads(vk.run(["nsenter", f"--net=/run/netns/{h2}", vk.VNETCTL, "-j", "show", fabric]).stdout)
        fabrics = doc.get("fabrics", [doc])
        assert fabrics[0]["uplink"] == "dm0", doc
        assert_ok(cni.exec_plugin("vnet-macvlan", "DEL", conf, host_ns=h2, netns=cni.netns_path(t.ns(role)),
                                  containerid="dm1"), "DEL without master")
    finally:
        vk.run(["nsenter", f"--net=/run/netns/{h2}", vk.VNETCTL, "detach", fabric], check=False)


CASES = [versions, errors, del_tolerant, ifname_exists, ipam_failure, check, gc, status, ipvlan, spoofing, traffic,
         keys, concurrent, default_master]


def main():
    vk.require_root()
    vk.require_tools("ping", "scapy", "nsenter", "unshare", "tcpdump")
    if not os.access(cni.plugin_path("vnet"), os.X_OK):
        vk.skip(f"no plugin at {cni.CNI_DIR}")
    if not os.access(os.path.join(cni.REF_DIR, "host-local"), os.X_OK):
        vk.skip("host-local not installed (containernetworking-plugins)")
    vk.exit_on_signals()
    start = time.time()
    checks = vk.Checks()
    topo = vk.Topology("cni")
    data = cni.TempDataDir()
    try:
        env = Env(topo, data)
        only = os.environ.get("CNI_CASES")
        cases = [c for c in CASES if not only or c.__name__ in only.split(",")]
        if not cases:
            vk.skip(f"CNI_CASES={only} names no case")
        checks.run_cases(topo, setup, cases, env)
    finally:
        data.cleanup()
    checks.finish("cni-spec", start, [topo])


if __name__ == "__main__":
    main()
