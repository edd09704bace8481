"""What vnet says and what the kernel holds: `vnetctl -j show/stats` of one
fabric or port, counters, the ports build_l2's containers got, pinned bpf
links, what is attached at tcx ingress (BPF_PROG_QUERY), vnetctl processes."""
import json
import os

from .fixture import PIN_ROOT, host_exec, run
from .topology import link_json


def _vnetctl_one(topo, command, name, listing, key):
    """The one entry of `vnetctl -j COMMAND NAME`'s list `listing` whose `key` is NAME."""
    doc = topo.vnetctl(command, name, json_out=True)
    found = [entry for entry in doc[listing] if entry[key] == name]
    assert len(found) == 1, f"vnetctl {command} {name}: {len(found)} entries by that name: {doc}"
    return found[0]


def fabric_doc(topo, fabric):
    return _vnetctl_one(topo, "show", fabric, "fabrics", "name")


def port_stats(topo, device):
    """The counters of one port (or uplink) from `vnetctl -j stats DEV`."""
    return _vnetctl_one(topo, "stats", device, "stats", "device")


def container_ports(topo, fabric):
    """{container role: port dict from `vnetctl show`}, matched by the
    container's eth0 MAC and by the veth peer ifindex."""
    ports = fabric_doc(topo, fabric)["ports"]
    found = {}
    for role in ("c1", "c2", "c3"):
        if role not in topo.roles:
            continue
        eth0 = link_json(topo, role, "eth0")
        match = [p for p in ports if p["mac"].lower() == eth0["address"].lower()]
        assert len(match) == 1, f"{role} eth0 {eth0['address']}: {len(match)} ports with that MAC in {ports}"
        assert match[0]["ifindex"] == eth0.get("link_index"), \
            f"{role}: port {match[0]['name']} ifindex {match[0]['ifindex']} is not eth0's peer {eth0.get('link_index')}"
        found[role] = match[0]
    return found


def pinned_links(fabric):
    """{pin name: bpf link id} for the fabric's pinned links (uplink XDP/tcx, ports)."""
    links = {}
    root = f"{PIN_ROOT}/{fabric}"
    for name in sorted(os.listdir(root)):
        p = run(["bpftool", "-j", "link", "show", "pinned", f"{root}/{name}"], check=False)
        if p.returncode == 0 and p.stdout.strip():
            links[name] = json.loads(p.stdout)["id"]
    return links


def vnet_link_ids():
    """Ids of every bpf link on the machine whose program is one of vnet's."""
    links = json.loads(run(["bpftool", "-j", "link", "show"]).stdout or "[]")
    names = prog_names()
    return {l["id"] for l in links if names.get(l.get("prog_id"), "").startswith("vnet_")}


def vnetctl_pids_in(netns):
    """Pids of running vnetctl processes inside the named network namespace."""
    want = os.stat(f"/run/netns/{netns}").st_ino
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            ino = os.stat(f"/proc/{pid}/ns/net").st_ino
        except OSError:
            continue
        if exe.startswith("vnetctl") and ino == want:
            pids.append(int(pid))
    return pids


# What BPF_PROG_QUERY reports for a device's tcx ingress hook, as JSON; run
# inside the device's namespace (ifindexes are per namespace). bpftool 7.1
# predates tcx (`bpftool net show` lists no tcx programs), so ask the kernel.
_TCX_QUERY = r"""
import ctypes, json, os, socket, sys
BPF_PROG_QUERY, BPF_TCX_INGRESS = 16, 46  # uapi linux/bpf.h
SYS_BPF = {"x86_64": 321, "aarch64": 280}[os.uname().machine]
ifindex = socket.if_nametoindex(sys.argv[1])
progs = (ctypes.c_uint32 * 64)()
links = (ctypes.c_uint32 * 64)()
attr = (ctypes.c_uint8 * 64)()
def put(off, ctype, value):
    ctype.from_buffer(attr, off).value = value
put(0, ctypes.c_uint32, ifindex)
put(4, ctypes.c_uint32, BPF_TCX_INGRESS)
put(16, ctypes.c_uint64, ctypes.addressof(progs))
put(24, ctypes.c_uint32, 64)
put(40, ctypes.c_uint64, ctypes.addressof(links))
libc = ctypes.CDLL(None, use_errno=True)
if libc.syscall(SYS_BPF, BPF_PROG_QUERY, ctypes.byref(attr), ctypes.sizeof(attr)) != 0:
    sys.exit(f"BPF_PROG_QUERY tcx ingress {sys.argv[1]}: errno {ctypes.get_errno()}")
n = ctypes.c_uint32.from_buffer(attr, 24).value
print(json.dumps({"prog_ids": list(progs[:n]), "link_ids": list(links[:n])}))
"""


def tcx_ingress(topo, dev):
    """{"prog_ids": [...], "link_ids": [...]} attached at tcx ingress of dev in the host namespace."""
    return json.loads(host_exec(topo, "/usr/bin/python3", "-c", _TCX_QUERY, dev).stdout)


def prog_names():
    """{prog id: name} of every loaded BPF program."""
    progs = json.loads(run(["bpftool", "-j", "prog", "show"]).stdout or "[]")
    return {p["id"]: p.get("name", "") for p in progs}


def stat(topo, dev, *path):
    """One counter of `vnetctl -j stats DEV`: stat(topo, dev, "drops", "isolated")."""
    value = port_stats(topo, dev)
    for key in path:
        value = value[key]
    return value


def fabric_drops(topo, reason, fabrics=None):
    """{device: drops[reason]} over every device (ports and uplink) of the
    named fabrics, by default all of the topology's."""
    fabrics = topo.fabrics if fabrics is None else fabrics
    return {s["device"]: s["drops"][reason] for s in topo.vnetctl("stats", json_out=True)["stats"]
            if s["fabric"] in fabrics}


def drops_grew(before, after):
    """{device: growth} of two fabric_drops results, for the devices that changed."""
    return {d: after[d] - before.get(d, 0) for d in after if after[d] != before.get(d, 0)}
