"""Three simulated hosts on a routed underlay, one overlay segment over VXLAN
(issue 13), containers made by a CNI plugin run as a runtime runs it.

                    router "rt" (forwards IPv4 and IPv6)
          ra 198.18.41.1 |              | br2 198.18.42.1 (rb, rc)
           2001:db8:41::1|              | 2001:db8:42::1
    +--------------------+--+   +-------+---------------+-----------------------+
    | host A "ha"           |   | host B "hb"           | host C "hc"           |
    | ul0 198.18.41.2       |   | ul0 198.18.42.2       | ul0 198.18.42.3       |
    | vx42 (VNI 42, 1450)   |   | vx42                  | vx42                  |
    |  fabric: a1 a2 a3     |   |  fabric: b1 b2 b3     |  fabric: c1 c2 c3     |
    +-----------------------+   +-----------------------+-----------------------+
    overlay 198.18.43.0/24, 2001:db8:43::/64 (host-local ranges per host)

Each host is a network namespace playing that machine's root: its underlay
link ul0, routes to the other subnet via the router, a VXLAN device over
ul0 whose all-zeros FDB entries name the other two hosts (head-end
replication; the kernel learns remote MACs), and the containers' host ends.
The VXLAN devices are made here (`ip link add ... type vxlan`) unless the
CNI config makes them (`vxlan_keys=True`, the plugin's vxlan keys).

    mh = MultiHost("mh")
    with mh:
        build_underlay(mh)
        for h in mh.hosts.values():
            make_vxlan(mh, h)
        add_containers(mh, "vnet-macvlan", {"a1": "bridge", ...})

MultiHost.__exit__ detaches every fabric in its own host's namespace, removes
pins left by a host whose namespace went first, and deletes every namespace
and dataDir: nothing is left behind.
"""
import concurrent.futures
import json
import os
import re
import subprocess
import time

from . import cni
from .fixture import PIN_ROOT, VNETCTL, Topology, run, unique, wait_until
from .topology import wait_ready

VNI = 42
DSTPORT = 4789
UNDERLAY_MTU = 1500
OVERLAY4 = "198.18.43"
OVERLAY6 = "2001:db8:43:"
HOSTS = {  # key: (underlay subnet, host number in it, the router's address there)
    "a": ("198.18.41", "2001:db8:41:", 2),
    "b": ("198.18.42", "2001:db8:42:", 2),
    "c": ("198.18.42", "2001:db8:42:", 3),
}
RANGES = {"a": (10, 39), "b": (40, 69), "c": (70, 99)}  # host-local ranges per host, last octet/hextet


class Host:
    """One simulated machine: its namespace role, underlay addresses, VXLAN device, fabric."""

    def __init__(self, key, family=4):
        net4, net6, n = HOSTS[key]
        self.key = key
        self.role = f"h{key}"
        self.ul4 = f"{net4}.{n}"
        self.ul6 = f"{net6}:{n}"
        self.gw4 = f"{net4}.1"
        self.gw6 = f"{net6}:1"
        self.family = family  # the VXLAN's underlay family
        self.vx = f"vx{VNI}"
        self.fabric = unique(f"m{key}")
        self.data = cni.TempDataDir(f"vnet-mh{key}-")
        self.ns = None

    @property
    def local(self):
        return self.ul4 if self.family == 4 else self.ul6

    @property
    def overlay_mtu(self):
        return UNDERLAY_MTU - (50 if self.family == 4 else 70)


class MultiHost(Topology):
    """A Topology with several host namespaces, each with its own vnet state."""

    def __init__(self, tag="mh", family=4):
        super().__init__(tag)
        self.hosts = {k: Host(k, family) for k in HOSTS}
        self.network = unique("mhnet")
        self.eps = {}       # container: (role, "eth0", IPv4)
        self.info = {}      # container: {"host", "ip4", "ip6", "mac", "mode", "plugin", "result", "id"}
        self.procs = []     # background processes (pings, dnsmasq) killed at exit

    # -- per host --------------------------------------------------------
    def vnet(self, host, *args, check=True, json_out=False):
        """vnetctl in host's namespace (nsenter keeps /sys/fs/bpf)."""
        argv = ["nsenter", f"--net=/run/netns/{host.ns}", VNETCTL] + (["-j"] if json_out else []) + list(args)
        p = run(argv, check=check)
        return json.loads(p.stdout) if json_out and p.returncode == 0 else p

    def host_of(self, container):
        return self.hosts[self.info[container]["host"]]

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        listed = set(run(["ip", "netns", "list"]).stdout.split())
        for h in self.hosts.values():
            if os.path.isdir(f"{PIN_ROOT}/{h.fabric}") and h.ns in listed:
                run(["nsenter", f"--net=/run/netns/{h.ns}", VNETCTL, "detach", h.fabric], check=False)
            if os.path.isdir(f"{PIN_ROOT}/{h.fabric}"):
                run(["rm", "-rf", f"{PIN_ROOT}/{h.fabric}"], check=False)
            h.data.cleanup()
        self.fabrics = [h.fabric for h in self.hosts.values()]  # for leftovers()
        self.host = None
        return super().__exit__(*exc)


def sysctl(mh, role, key, value):
    mh.exec(role, "sysctl", "-q", "-w", f"{key}={value}")


def build_underlay(mh):
    """The router between 198.18.41.0/24 (A) and 198.18.42.0/24 (B, C, on a
    bridge in the router's namespace), IPv4 and IPv6, routes via the router."""
    rt = mh.netns("rt")
    sysctl(mh, "rt", "net.ipv4.ip_forward", 1)
    sysctl(mh, "rt", "net.ipv6.conf.all.forwarding", 1)
    # A fixed MAC: a bridge otherwise takes its lowest port's, and would
    # change it (breaking B's neighbour entry for the router) when host C goes.
    mh.ip("rt", "link", "add", "br2", "address", "02:00:c6:12:2a:01", "type", "bridge")
    mh.ip("rt", "link", "set", "br2", "up")
    mh.ip("rt", "addr", "add", "198.18.42.1/24", "dev", "br2")
    mh.ip("rt", "addr", "add", "2001:db8:42::1/64", "dev", "br2", "nodad")
    for h in mh.hosts.values():
        h.ns = mh.netns(h.role)
        peer = f"r{h.key}"
        mh.ip(h.role, "link", "add", "ul0", "mtu", str(UNDERLAY_MTU), "type", "veth", "peer", "name", peer,
              "netns", rt)
        if h.key == "a":
            mh.ip("rt", "addr", "add", f"{h.gw4}/24", "dev", peer)
            mh.ip("rt", "addr", "add", f"{h.gw6}/64", "dev", peer, "nodad")
        else:
            mh.ip("rt", "link", "set", peer, "master", "br2")
        mh.ip("rt", "link", "set", peer, "up")
        mh.ip(h.role, "addr", "add", f"{h.ul4}/24", "dev", "ul0")
        mh.ip(h.role, "addr", "add", f"{h.ul6}/64", "dev", "ul0", "nodad")
        mh.ip(h.role, "link", "set", "ul0", "up")
        other4, other6 = ("198.18.42.0/24", "2001:db8:42::/64") if h.key == "a" else ("198.18.41.0/24",
                                                                                        "2001:db8:41::/64")
        mh.ip(h.role, "route", "add", other4, "via", h.gw4)
        mh.ip(h.role, "-6", "route", "add", other6, "via", h.gw6)
    # The underlay routes, both families, before anything rides on it.
    for h in mh.hosts.values():
        for o in mh.hosts.values():
            if o is not h:
                for dst in (o.ul4, o.ul6):
                    ok = wait_until(lambda: mh.exec(h.role, "ping", "-c", "1", "-W", "1", dst,
                                                    check=False).returncode == 0, timeout=5)
                    assert ok, f"underlay: {h.role} does not reach {dst}"


def remotes(mh, host):
    return [o.local for o in mh.hosts.values() if o is not host]


def make_vxlan(mh, host):
    """The user-made VXLAN device over ul0, MTU underlay - 50 (70 over IPv6),
    flooding to the other hosts."""
    mh.ip(host.role, "link", "add", host.vx, "mtu", str(host.overlay_mtu), "type", "vxlan", "id", str(VNI),
          "dev", "ul0", "local", host.local, "dstport", str(DSTPORT))
    for r in remotes(mh, host):
        remote_add(mh, host, r)
    mh.ip(host.role, "link", "set", host.vx, "up")


def remote_add(mh, host, addr):
    mh.exec(host.role, "bridge", "fdb", "append", "00:00:00:00:00:00", "dev", host.vx, "dst", addr)


def remote_del(mh, host, addr):
    mh.exec(host.role, "bridge", "fdb", "del", "00:00:00:00:00:00", "dev", host.vx, "dst", addr)


def flood_list(mh, host):
    """The remote addresses of the VXLAN device's all-zeros (flood) entries."""
    doc = json.loads(mh.exec(host.role, "bridge", "-j", "fdb", "show", "dev", host.vx).stdout or "[]")
    return sorted(e["dst"] for e in doc if e.get("mac") == "00:00:00:00:00:00" and "dst" in e)


def learned_dst(mh, host, mac):
    """The remote the VXLAN device learned mac behind, or None."""
    doc = json.loads(mh.exec(host.role, "bridge", "-j", "fdb", "show", "dev", host.vx).stdout or "[]")
    for e in doc:
        if e.get("mac", "").lower() == mac.lower() and "dst" in e:
            return e["dst"]
    return None


# -- containers through the CNI plugin ------------------------------------

def ipam(host):
    lo, hi = RANGES[host.key]
    return cni.host_local(host.data.path,
                          {"subnet": f"{OVERLAY4}.0/24", "rangeStart": f"{OVERLAY4}.{lo}",
                           "rangeEnd": f"{OVERLAY4}.{hi}"},
                          {"subnet": f"{OVERLAY6}:/64", "rangeStart": f"{OVERLAY6}:{lo}",
                           "rangeEnd": f"{OVERLAY6}:{hi}"})


def netconf(mh, host, plugin, mode="bridge", with_ipam=True, vxlan_keys=False, **keys):
    """The config a runtime on host gives the plugin: master = the VXLAN
    device (or, with vxlan_keys, the plugin's vxlan/underlay/remotes keys)."""
    extra = dict(keys)
    if vxlan_keys:
        extra.update(vxlan=VNI, underlay="ul0", remotes=remotes(mh, host), dstport=DSTPORT)
        if host.family == 6:
            extra["local"] = host.local
    else:
        extra["master"] = host.vx
    if plugin.startswith("vnet"):
        extra["fabric"] = host.fabric
    return cni.config(mh.network, plugin, ipam=ipam(host) if with_ipam else None, mode=mode, **extra)


def add_container(mh, name, plugin, mode="bridge", with_ipam=True, vxlan_keys=False, netns=True, **keys):
    """ADD one container on host name[0] (its namespace made unless netns=False).
    Returns the cni.Result; on success the container's facts are recorded."""
    host = mh.hosts[name[0]]
    if netns:
        mh.netns(name)
    cid = unique(f"mh{name}")
    conf = netconf(mh, host, plugin, mode, with_ipam, vxlan_keys, **keys)
    r = cni.exec_plugin(plugin, "ADD", conf, host_ns=host.ns, netns=cni.netns_path(mh.ns(name)), containerid=cid)
    if r.ok:
        ips = [ip["address"].split("/")[0] for ip in r.result.get("ips", [])]
        ip4 = next((a for a in ips if ":" not in a), None)
        ip6 = next((a for a in ips if ":" in a), None)
        mh.info[name] = {"host": host.key, "ip4": ip4, "ip6": ip6, "mac": r.result["interfaces"][0]["mac"].lower(),
                         "mode": mode, "plugin": plugin, "id": cid, "conf": conf, "result": r.result}
        mh.eps[name] = (name, "eth0", ip4)
    return r


def del_container(mh, name):
    """DEL as a runtime sends it (the ADD's config and result)."""
    i = mh.info[name]
    host = mh.hosts[i["host"]]
    conf = dict(i["conf"], prevResult=i["result"])
    r = cni.exec_plugin(i["plugin"], "DEL", conf, host_ns=host.ns, netns=cni.netns_path(mh.ns(name)),
                        containerid=i["id"])
    if r.ok:
        del mh.info[name], mh.eps[name]
    return r


def add_containers(mh, plugin, modes, vxlan_keys=False):
    """ADD every container of {name: mode} (one after the other: the first
    ADD on a host may create its fabric); asserts each succeeded and waits
    until no IPv6 address is tentative."""
    for name, mode in modes.items():
        r = add_container(mh, name, plugin, mode, vxlan_keys=vxlan_keys, netns=name not in mh.roles)
        assert r.ok, f"ADD {name} ({plugin}, {mode}): {r}"
    left = wait_ready(mh, list(modes), timeout=8)
    assert not left, f"IPv6 addresses still tentative: {left}"


# -- probes, in parallel ---------------------------------------------------

def ping_ok(mh, src, dst_ip, count=2, wait=1):
    """True if any of count echo requests (0.2 s apart) is answered."""
    argv = ["ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", str(wait)]
    if ":" in dst_ip:
        argv.insert(1, "-6")
    return mh.exec(src, *argv, dst_ip, check=False, timeout=30).returncode == 0


def parallel(jobs, workers=12):
    """{key: callable()} run in threads; {key: result}."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {k: pool.submit(fn) for k, fn in jobs.items()}
        return {k: f.result() for k, f in futures.items()}


def reach_matrix(mh, names, family):
    """{(src, dst): bool}: ping over IPv4 or IPv6 for every ordered pair."""
    key = "ip4" if family == 4 else "ip6"
    jobs = {(s, d): (lambda s=s, d=d: ping_ok(mh, s, mh.info[d][key]))
            for s in names for d in names if s != d}
    return parallel(jobs)


def format_matrix(names, m):
    lines = ["src\\dst " + "".join(n.rjust(4) for n in names)]
    for s in names:
        lines.append(f"{s:<8}" + "".join(("-" if s == d else ("Y" if m[(s, d)] else ".")).rjust(4) for d in names))
    return "\n".join(lines)


def spec_reach(info, src, dst):
    """Across hosts every frame crosses the wire, so every mode reaches every
    mode (wire <-> port, as on one host); on one host, with no switch to
    reflect frames (the VXLAN device never sends them back), only two
    bridge-mode ports reach each other, and two isolated ones do not."""
    a, b = info[src], info[dst]
    if a["host"] != b["host"]:
        return True
    if a.get("isolated") and b.get("isolated"):
        return False
    return a["mode"] == "bridge" and b["mode"] == "bridge"


def spec_broadcast_copies(info, sender, receiver):
    """Copies of one broadcast sender's receiver gets: one from every host
    across the wire; on the sender's host, only bridge siblings of a bridge sender."""
    return 1 if spec_reach(info, sender, receiver) else 0


def counters(mh, role, ifname):
    """The link's (rx_packets, tx_packets)."""
    doc = json.loads(mh.ip(role, "-j", "-s", "link", "show", ifname).stdout)[0]["stats64"]
    return doc["rx"]["packets"], doc["tx"]["packets"]


def background_ping(mh, src, dst_ip, count, interval="0.05"):
    """count echo requests interval apart, started now; finish_ping() waits
    for it and returns (sent, received)."""
    argv = ["ip", "netns", "exec", mh.ns(src), "ping", "-n", "-q", "-c", str(count), "-i", interval, "-W", "1"]
    if ":" in dst_ip:
        argv.insert(5, "-6")
    p = subprocess.Popen(argv + [dst_ip], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    mh.procs.append(p)
    return p


def finish_ping(p, timeout=60):
    out, _ = p.communicate(timeout=timeout)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)
