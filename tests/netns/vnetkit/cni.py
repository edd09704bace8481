"""A CNI "runtime" for tests: exec a plugin the way containerd or podman does
(CNI_* environment, network config on stdin, inside a given namespace that
plays the machine's root), build configs and conflists, and read host-local's
leases from a private dataDir (a test never writes to /var/lib/cni).

    from vnetkit import cni
    data = cni.TempDataDir()                      # removed by data.cleanup()
    conf = cni.config("net1", "vnet-macvlan", ipam=cni.host_local(data.path, "198.18.10.0/24"),
                      master="up0")
    r = cni.exec_plugin("vnet-macvlan", "ADD", conf, host_ns=host, netns=cni.netns_path(cont),
                        containerid="c1", ifname="eth0")
    assert r.rc == 0, r
    r.result["ips"][0]["address"]

Plugins are looked up in CNI_DIR (the build tree's userspace/cni, where vnet,
vnet-macvlan and vnet-ipvlan live; override with $VNET_CNI_DIR) and then in
REF_DIR (Debian's reference plugins: host-local, static, macvlan, ...).
"""
import json
import os
import shutil
import subprocess
import tempfile

from .fixture import SRC

CNI_DIR = os.environ.get("VNET_CNI_DIR") or os.path.join(SRC, "build", "userspace", "cni")
REF_DIR = "/usr/lib/cni"
VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]


def cni_path(*extra):
    """The CNI_PATH a runtime would pass: our plugins first, then the reference ones."""
    return ":".join([*extra, CNI_DIR, REF_DIR])


def plugin_path(name):
    """The executable of plugin `name` (a path is returned as it is)."""
    if "/" in name:
        return name
    for d in (CNI_DIR, REF_DIR):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    raise FileNotFoundError(f"CNI plugin {name} in neither {CNI_DIR} nor {REF_DIR}")


def netns_path(name):
    """CNI_NETNS for a named namespace (what podman passes)."""
    return f"/run/netns/{name}"


class Result:
    """One plugin run: rc, the parsed stdout (None when empty or not JSON), raw
    stdout and stderr."""

    def __init__(self, rc, stdout, stderr):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        try:
            self.result = json.loads(stdout) if stdout.strip() else None
        except ValueError:
            self.result = None

    @property
    def ok(self):
        return self.rc == 0

    @property
    def code(self):
        """The error code of a failed run (None when it succeeded or printed no error)."""
        if self.rc == 0 or not isinstance(self.result, dict):
            return None
        return self.result.get("code")

    def __repr__(self):
        return f"<cni rc={self.rc} stdout={self.stdout.strip()!r} stderr={self.stderr.strip()[-600:]!r}>"


def exec_plugin(plugin, command, conf, host_ns=None, netns="", containerid="", ifname="eth0", args="",
                path=None, env=None, timeout=60):
    """Execs `plugin` (a name in CNI_DIR/REF_DIR or a path) with CNI_COMMAND=command.
    `conf`: a dict (dumped as JSON) or a str/bytes given to stdin as it is.
    `host_ns`: the namespace the plugin runs in (nsenter --net, so bpffs stays
    visible; `ip netns exec` would remount /sys). None: the caller's.
    Variables whose value is None are left out of the environment (a runtime
    that does not send them). Returns a Result."""
    if isinstance(conf, (dict, list)):
        stdin = json.dumps(conf)
    elif isinstance(conf, bytes):
        stdin = conf.decode()
    else:
        stdin = conf
    cni_env = {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": containerid,
        "CNI_NETNS": netns,
        "CNI_IFNAME": ifname,
        "CNI_ARGS": args,
        "CNI_PATH": path if path is not None else cni_path(),
    }
    full = {k: v for k, v in os.environ.items() if not k.startswith("CNI_")}
    full.update({k: v for k, v in cni_env.items() if v is not None})
    if env:
        full.update({k: v for k, v in env.items() if v is not None})
        for k, v in env.items():
            if v is None:
                full.pop(k, None)
    argv = [plugin_path(plugin)]
    if host_ns:
        argv = ["nsenter", f"--net=/run/netns/{host_ns}", *argv]
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=full, timeout=timeout)
    return Result(p.returncode, p.stdout, p.stderr)


# -- configs -------------------------------------------------------------

def host_local(data_dir, *subnets, routes=None, gateway=True, dns=None):
    """host-local IPAM with its leases under data_dir. Each subnet is a range
    set of its own ("198.18.10.0/24", "2001:db8:10::/64"); `routes` a list of
    destinations ("0.0.0.0/0") or dicts; `gateway`: let host-local pick .1."""
    ranges = []
    for s in subnets:
        r = {"subnet": s}
        if isinstance(s, dict):
            r = s
        ranges.append([r])
    ipam = {"type": "host-local", "dataDir": data_dir, "ranges": ranges}
    if routes:
        ipam["routes"] = [r if isinstance(r, dict) else {"dst": r} for r in routes]
    if dns:
        ipam["dns"] = dns
    return ipam


def static_ipam(*addresses, routes=None):
    """static IPAM: addresses "198.18.10.5/24" or dicts {"address":..., "gateway":...}."""
    ipam = {"type": "static",
            "addresses": [a if isinstance(a, dict) else {"address": a} for a in addresses]}
    if routes:
        ipam["routes"] = [r if isinstance(r, dict) else {"dst": r} for r in routes]
    return ipam


def config(name, plugin_type, version="1.0.0", ipam=None, **keys):
    """A single plugin's network configuration as a runtime hands it over.
    Keys with value None are left out; runtimeConfig=..., prevResult=... pass through."""
    c = {"cniVersion": version, "name": name, "type": plugin_type}
    if ipam is not None:
        c["ipam"] = ipam
    for k, v in keys.items():
        if v is not None:
            c[k] = v
    return c


def conflist(name, plugins, version="1.0.0", **keys):
    """A network configuration list (what goes into /etc/cni/net.d/NAME.conflist)."""
    c = {"cniVersion": version, "name": name, "plugins": plugins}
    c.update({k: v for k, v in keys.items() if v is not None})
    return c


def plugin_config(clist, index, prev_result=None, runtime=None):
    """The config a runtime gives plugin `index` of conflist `clist`: the list's
    name and cniVersion inserted, prevResult when given, and runtimeConfig
    built from `runtime` (e.g. {"mac": ...}) for the capabilities it declares."""
    p = dict(clist["plugins"][index])
    p["cniVersion"] = clist["cniVersion"]
    p["name"] = clist["name"]
    caps = p.pop("capabilities", {}) or {}
    rc = {k: v for k, v in (runtime or {}).items() if caps.get(k)}
    if rc:
        p["runtimeConfig"] = rc
    if prev_result is not None:
        p["prevResult"] = prev_result
    return p


def conflist_add(clist, host_ns, netns, containerid, ifname="eth0", args="", runtime=None):
    """ADD through every plugin of the list, in order, each given the previous
    result. Returns the last Result (or the first failing one)."""
    prev = None
    r = None
    for i, p in enumerate(clist["plugins"]):
        r = exec_plugin(p["type"], "ADD", plugin_config(clist, i, prev, runtime), host_ns=host_ns, netns=netns,
                        containerid=containerid, ifname=ifname, args=args)
        if not r.ok:
            return r
        prev = r.result
    return r


def conflist_del(clist, host_ns, netns, containerid, ifname="eth0", args="", prev_result=None, runtime=None):
    """DEL through the list in reverse order (the spec's order), each given the
    ADD's final result. Returns the Results, last plugin first."""
    out = []
    for i in reversed(range(len(clist["plugins"]))):
        p = clist["plugins"][i]
        out.append(exec_plugin(p["type"], "DEL", plugin_config(clist, i, prev_result, runtime), host_ns=host_ns,
                               netns=netns, containerid=containerid, ifname=ifname, args=args))
    return out


# -- host-local's leases ------------------------------------------------

class TempDataDir:
    """A private host-local dataDir under /tmp; cleanup() removes it."""

    def __init__(self, prefix="vnet-cni-"):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False


def leases(data_dir, network):
    """{ip: (containerid, ifname)} of the addresses host-local holds for
    `network` in data_dir (one file per address, named by it, holding
    "CONTAINERID\\r\\nIFNAME")."""
    d = os.path.join(data_dir, network)
    out = {}
    if not os.path.isdir(d):
        return out
    for f in os.listdir(d):
        if f == "lock" or f.startswith("last_reserved_ip"):
            continue
        with open(os.path.join(d, f)) as fh:
            parts = fh.read().split()
        out[f.replace("_", ":")] = (parts[0] if parts else "", parts[1] if len(parts) > 1 else "")
    return out
