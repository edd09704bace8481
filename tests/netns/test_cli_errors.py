#!/usr/bin/python3
"""vnetctl's refusals: every bad input exits non-zero with one line on stderr
("vnetctl: OBJECT...: CAUSE"), prints nothing on stdout, and leaves the system
exactly as it was (fabrics, pins, links, XDP and tc attachments). Also the
successful side of the same commands: --force, -j, help, port add/del --netns.

Topology: build_l2's host namespace with fabric A on up0 (ports for c1..c3),
fabric B on up1, a spare uplink up2 and a spare veth "pa" whose peer is eth1
in c1. Run as root: VNETCTL=build/userspace/vnetctl tests/netns/test_cli_errors.py
"""
import difflib
import json
import os
import shutil
import sys
import tempfile

from vnetkit import PIN_ROOT, Checks, Topology, build_l2, exit_on_signals, leftovers, require_root, run, unique

# A foreign XDP program: no headers needed, XDP_PASS is 2.
FOREIGN_XDP_C = """
struct xdp_md;
__attribute__((section("xdp"), used)) int foreign_pass(struct xdp_md *ctx) { return 2; }
char _license[] __attribute__((section("license"), used)) = "GPL";
"""

# Devices the cases name that may become a fabric's default name by mistake.
WATCHED_DEVICES = ("up0", "up1", "up2", "pa", "eth7")


class Env:
    """The shared topology and the facts the cases need about it."""

    def __init__(self, topo):
        self.topo = topo
        self.a = None
        self.b = None
        self.containers = []
        self.names = set(WATCHED_DEVICES)  # top-level pin names this test owns

    def fabric_name(self):
        """A fabric name for a command that must not create it; teardown removes it anyway."""
        name = unique("f")
        self.names.add(name)
        self.topo.fabrics.append(name)
        return name

    def vnetctl(self, *args, check=False):
        return self.topo.vnetctl(*args, check=check)

    def link(self, role, dev):
        return json.loads(self.topo.ip(role, "-d", "-j", "link", "show", "dev", dev).stdout)[0]

    def mac(self, role, dev):
        return self.link(role, dev)["address"]

    def ports(self, fabric):
        for f in self.topo.vnetctl("show", fabric, json_out=True)["fabrics"]:
            if f["name"] == fabric:
                return f["ports"]
        raise AssertionError(f"show: no fabric {fabric}")


# -- the system's state --------------------------------------------------------

def link_summary(links):
    out = []
    for link in links:
        xdp = link.get("xdp") or {}
        prog_ids = sorted(a["prog"]["id"] for a in xdp.get("attached", []) if "prog" in a)
        if not prog_ids and "prog" in xdp:
            prog_ids = [xdp["prog"]["id"]]
        out.append({
            "ifname": link["ifname"],
            "ifindex": link["ifindex"],
            "address": link.get("address"),
            "up": "UP" in link.get("flags", []),
            "mtu": link.get("mtu"),
            "kind": (link.get("linkinfo") or {}).get("info_kind"),
            "master": link.get("master"),
            "xdp": prog_ids,
        })
    return sorted(out, key=lambda l: l["ifname"])


def pin_entries(env):
    entries = []
    if not os.path.isdir(PIN_ROOT):
        return entries
    for top in sorted(os.listdir(PIN_ROOT)):
        if top not in env.names:
            continue  # another test's fabric
        path = os.path.join(PIN_ROOT, top)
        entries.append(top)
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(dirs + files):
                entries.append(os.path.relpath(os.path.join(root, name), PIN_ROOT))
    return entries


# Per device: GRO (vnet turns it on for a port's peer) and disable_ipv6 (vnet
# sets it on a port's host end); neither shows in `ip link`.
# ethtool is slow, so one per device in parallel; the lines are sorted after.
TUNING_SH = r"""for d in /sys/class/net/*; do n=${d##*/}; (
g=$(ethtool -k "$n" 2>/dev/null | sed -n 's/^generic-receive-offload: //p')
echo "$n gro=$g disable_ipv6=$(cat /proc/sys/net/ipv6/conf/$n/disable_ipv6 2>/dev/null)") & done; wait"""


def snapshot(env):
    topo = env.topo
    host = topo.ns("host")
    show = topo.vnetctl("-j", "show", check=True).stdout
    shown = json.loads(show)
    # Fabrics whose namespace died (other tests') are listed everywhere and
    # come and go with their owners: not this namespace's state.
    shown["fabrics"] = [f for f in shown["fabrics"] if not (f["defunct"] and f["uplink"] == "")]
    state = {
        "show": shown,
        "pins": pin_entries(env),
        "host bpf": json.loads(run(["nsenter", f"--net=/run/netns/{host}", "bpftool", "-j", "net", "show"]).stdout),
    }
    for role in ["host", *env.containers]:
        state[f"{role} links"] = link_summary(json.loads(topo.ip(role, "-d", "-j", "link", "show").stdout))
        state[f"{role} tuning"] = sorted(topo.exec(role, "sh", "-c", TUNING_SH).stdout.splitlines())
    return state


def diff(before, after):
    a = json.dumps(before, indent=1, sort_keys=True).splitlines()
    b = json.dumps(after, indent=1, sort_keys=True).splitlines()
    return "\n".join(difflib.unified_diff(a, b, "before", "after", lineterm="", n=2))


# -- assertions ------------------------------------------------------------------

def refused(env, args, *expect):
    """vnetctl ARGS (and -j ARGS) fails with one 'vnetctl: ' line on stderr
    containing each of `expect` (case-insensitive), nothing on stdout, and no
    change to the system."""
    before = snapshot(env)
    for argv in (list(args), ["-j", *args]):
        p = env.vnetctl(*argv)
        after = snapshot(env)
        cmd = "vnetctl " + " ".join(argv)
        assert p.returncode != 0, f"{cmd}: exit 0, want failure (stdout {p.stdout!r})"
        assert p.stdout == "", f"{cmd}: stdout not empty: {p.stdout!r}"
        lines = p.stderr.splitlines()
        assert len(lines) == 1 and p.stderr.endswith("\n"), f"{cmd}: want one stderr line, got {p.stderr!r}"
        line = lines[0]
        assert line.startswith("vnetctl: "), f"{cmd}: stderr {line!r} does not start with 'vnetctl: '"
        for word in expect:
            assert word.lower() in line.lower(), f"{cmd}: stderr {line!r} does not mention {word!r}"
        assert before == after, f"{cmd}: the system changed:\n{diff(before, after)}"


def xdp_on(env, dev):
    """Ids of the XDP programs on host device `dev`, from ip and from bpftool."""
    ip_ids = link_summary([env.link("host", dev)])[0]["xdp"]
    net = json.loads(run(["nsenter", f"--net=/run/netns/{env.topo.ns('host')}", "bpftool", "-j", "net", "show"]).stdout)
    bpftool_ids = sorted(e["id"] for doc in net for e in doc.get("xdp", []) if e.get("devname") == dev)
    return ip_ids, bpftool_ids


# -- the cases -------------------------------------------------------------------

def case_unknown_device(env):
    refused(env, ["attach", "eth7", "--fabric", env.fabric_name()], "eth7", "no such device")
    refused(env, ["port", "add", "eth7", "--fabric", env.a], "eth7", "no such device")
    refused(env, ["port", "del", "eth7"], "eth7", "no such device")


def case_foreign_xdp(env):
    try:
        foreign_xdp(env)
    finally:  # up2 is reused: leave it bare whatever failed
        for fabric in [f["name"] for f in env.topo.vnetctl("show", json_out=True)["fabrics"] if f["uplink"] == "up2"]:
            env.vnetctl("detach", fabric)
        env.topo.ip("host", "link", "set", "dev", "up2", "xdp", "off", check=False)


def foreign_xdp(env):
    cc = shutil.which("clang")
    assert cc, "clang not found: cannot build the foreign XDP program"
    with tempfile.TemporaryDirectory() as tmp:
        src, obj = os.path.join(tmp, "foreign.c"), os.path.join(tmp, "foreign.o")
        with open(src, "w") as f:
            f.write(FOREIGN_XDP_C)
        run([cc, "-O2", "-target", "bpf", "-c", src, "-o", obj])
        env.topo.ip("host", "link", "set", "dev", "up2", "xdp", "obj", obj, "sec", "xdp")
    foreign = xdp_on(env, "up2")
    assert foreign[0] and foreign[0] == foreign[1], f"foreign XDP not attached to up2: {foreign}"

    fabric = env.fabric_name()
    # Without XDP of its own (the default on a veth uplink) vnet shares the
    # uplink with the foreign program: it stays, and vnet works in tc.
    p = env.vnetctl("attach", "up2", "--fabric", fabric)
    assert p.returncode == 0, f"attach (tc only) beside a foreign XDP program: {p.returncode} {p.stderr!r}"
    assert xdp_on(env, "up2") == foreign, "the foreign program must stay when vnet needs no XDP"
    env.vnetctl("detach", fabric)
    assert xdp_on(env, "up2") == foreign, "detach must leave the foreign program alone"

    refused(env, ["attach", "up2", "--fabric", fabric, "--xdp-mode", "native"], "up2", "foreign_pass", "--force")
    assert xdp_on(env, "up2") == foreign, "the foreign program must stay after a refusal"

    p = env.vnetctl("attach", "up2", "--fabric", fabric, "--xdp-mode", "native", "--force")
    assert p.returncode == 0, f"attach --force: {p.returncode} {p.stderr!r}"
    shown = {f["name"]: f for f in env.topo.vnetctl("show", json_out=True)["fabrics"]}
    assert fabric in shown and shown[fabric]["uplink"] == "up2", f"show after --force: {sorted(shown)}"
    ours = xdp_on(env, "up2")
    assert ours[0] and ours[0] != foreign[0], f"XDP on up2 after --force: {ours}, foreign was {foreign}"
    text = env.vnetctl("show").stdout
    assert fabric in text and "up2" in text, f"text show does not list {fabric} on up2:\n{text}"

    p = env.vnetctl("detach", fabric)
    assert p.returncode == 0, f"detach {fabric}: {p.returncode} {p.stderr!r}"
    assert xdp_on(env, "up2") == ([], []), f"XDP left on up2 after detach: {xdp_on(env, 'up2')}"
    assert not os.path.exists(os.path.join(PIN_ROOT, fabric)), f"pins of {fabric} left after detach"
    assert fabric not in {f["name"] for f in env.topo.vnetctl("show", json_out=True)["fabrics"]}


def refused_mac(env, mac, *expect):
    """port add --mac MAC is refused in both forms: existing device pa, and --netns c2."""
    refused(env, ["port", "add", "pa", "--fabric", env.a, "--mac", mac], *expect)
    refused(env, ["port", "add", "--fabric", env.a, "--netns", env.topo.ns("c2"), "--ifname", "eth5",
                  "--mac", mac], *expect)


def case_mac_of_uplink(env):
    up0 = env.mac("host", "up0")
    refused_mac(env, up0, up0, "uplink")


def case_mac_of_sibling(env):
    sibling = env.mac("c1", "eth0")
    refused_mac(env, sibling, sibling, "in use")


def case_peer_mac_conflict(env):
    """No --mac: the peer's own MAC is the sibling's or the uplink's. Refused
    before the peer is touched (its GRO included)."""
    original = env.mac("c1", "eth1")
    try:
        for mac in (env.mac("c2", "eth0"), env.mac("host", "up0")):
            env.topo.ip("c1", "link", "set", "eth1", "address", mac)
            refused(env, ["port", "add", "pa", "--fabric", env.a], mac, "in use")
    finally:
        env.topo.ip("c1", "link", "set", "eth1", "address", original)


def case_port_on_two_fabrics(env):
    port = env.ports(env.a)[0]["name"]
    refused(env, ["port", "add", port, "--fabric", env.b], port, "already a port", env.a)
    refused(env, ["port", "add", "up0", "--fabric", env.b], "up0", "uplink", env.a)


def case_second_fabric_on_uplink(env):
    refused(env, ["attach", "up0", "--fabric", env.fabric_name()], "up0", "already the uplink", env.a)
    refused(env, ["attach", "up0", "--fabric", env.a], "up0", env.a)
    port = env.ports(env.a)[0]["name"]
    refused(env, ["attach", port, "--fabric", env.fabric_name()], port, "port of fabric", env.a)


def case_unknown_fabric(env):
    refused(env, ["port", "add", "pa", "--fabric", "nosuchfabric"], "nosuchfabric", "no fabric")
    refused(env, ["port", "add", "--fabric", "nosuchfabric", "--netns", env.topo.ns("c2"), "--ifname", "eth5"],
            "nosuchfabric", "no fabric")


def case_fabric_name_reused(env):
    refused(env, ["attach", "up2", "--fabric", env.a], env.a, "already exists")


def case_missing_netns(env):
    refused(env, ["port", "add", "--fabric", env.a, "--netns", "nosuchns"], "nosuchns", "no such network namespace")


def case_malformed_macs(env):
    for text in ("zz:00:00:00:00:01", "01:02:03", "01:02:03:04:05:06:07"):
        refused_mac(env, text, text, "malformed MAC")
    refused_mac(env, "01:00:5e:00:00:01", "01:00:5e:00:00:01", "unicast")


def case_detach_not_attached(env):
    refused(env, ["detach", "nosuchfabric"], "nosuchfabric", "no fabric")
    refused(env, ["detach", "up2"], "up2", "no fabric")
    refused(env, ["detach", "pa"], "pa", "no fabric")


def case_bad_syntax(env):
    refused(env, ["attach", "up2", "--fabric", env.fabric_name(), "--bogus"], "--bogus", "unknown option")
    refused(env, ["port", "add", "pa", "--fabric", env.a, "--mdoe", "bridge"], "--mdoe", "unknown option")
    refused(env, ["port", "add", "pa"], "--fabric", "required")
    refused(env, ["port", "add", "--netns", env.topo.ns("c2")], "--fabric", "required")
    refused(env, ["port", "add", "pa", "--fabric", env.a, "--mode", "weird"], "weird", "mode")
    refused(env, ["port", "add", "--fabric", env.a, "--netns", env.topo.ns("c2"), "--mode", "weird"], "weird", "mode")
    refused(env, ["frobnicate"], "frobnicate", "unknown command")
    refused(env, ["attach", "up2", "--fabric", "bad/name"], "bad/name", "fabric name")
    refused(env, ["attach", "up2", "--fabric", env.fabric_name(), "--xdp-mode", "turbo"], "turbo", "--xdp-mode")


def case_port_del_not_a_port(env):
    refused(env, ["port", "del", "pa"], "pa", "not a port")
    refused(env, ["port", "del", "up0"], "up0", "not a port")
    refused(env, ["port", "del", "lo"], "lo", "not a port")


def case_ifname_too_long(env):
    name = "a234567890123456"  # 16 characters; IFNAMSIZ allows 15
    refused(env, ["port", "add", "--fabric", env.a, "--netns", env.topo.ns("c2"), "--ifname", name],
            name, "not a valid device name")


def case_bad_names(env):
    """Issue 10, item 9: '%' (the kernel turns "eth%d" into a name of its own
    choosing), and fabric names starting with '.', are refused before
    anything is created."""
    c2 = env.topo.ns("c2")
    refused(env, ["port", "add", "--fabric", env.a, "--netns", c2, "--ifname", "eth%d"], "eth%d", "%")
    refused(env, ["port", "add", "--fabric", env.a, "--tap", "vm%d"], "vm%d", "%")
    refused(env, ["port", "add", "--fabric", env.a, "--netns", f"{c2}%"], "%", "namespace")
    env.names.add(".x")  # its pins, had it been made, would show in the snapshot
    refused(env, ["attach", "up2", "--fabric", ".x"], ".x", "may not start with '.'")


def case_ifname_exists(env):
    # c2 already has eth0 (its port) and c1 has eth1 (pa's peer).
    refused(env, ["port", "add", "--fabric", env.a, "--netns", env.topo.ns("c2")], "eth0", "exists")
    refused(env, ["port", "add", "--fabric", env.a, "--netns", env.topo.ns("c1"), "--ifname", "eth1"],
            "eth1", "exists")


def case_json_success(env):
    topo = env.topo
    doc = topo.vnetctl("show", json_out=True)
    assert isinstance(doc, dict) and env.a in {f["name"] for f in doc["fabrics"]}, f"-j show: {doc}"
    ns = topo.ns("c3")
    p = env.vnetctl("-j", "port", "add", "--fabric", env.a, "--netns", ns, "--ifname", "eth6", "--mode", "bridge")
    assert p.returncode == 0 and p.stderr == "", f"-j port add: {p.returncode} {p.stderr!r}"
    port = json.loads(p.stdout)
    assert port.get("name") and port.get("mode") == "bridge", f"-j port add: {port}"
    assert port["mac"] == env.mac("c3", "eth6"), f"-j port add: mac {port['mac']} is not eth6's"
    p = env.vnetctl("-j", "port", "del", port["name"])
    assert p.returncode == 0 and p.stderr == "", f"port del {port['name']}: {p.returncode} {p.stderr!r}"

    fabric = env.fabric_name()
    p = env.vnetctl("-j", "attach", "up2", "--fabric", fabric)
    assert p.returncode == 0 and p.stderr == "", f"-j attach: {p.returncode} {p.stderr!r}"
    info = json.loads(p.stdout)
    assert info.get("name") == fabric and info.get("uplink") == "up2", f"-j attach: {info}"
    p = env.vnetctl("detach", "up2")
    assert p.returncode == 0, f"detach up2: {p.returncode} {p.stderr!r}"
    assert not os.path.exists(os.path.join(PIN_ROOT, fabric)), f"pins of {fabric} left after detach"


def case_help(env):
    for args, word in ((["help"], "commands:"), (["help", "attach"], "--force"), (["port", "--help"], "port del"),
                       (["attach", "--help"], "--force")):
        p = env.vnetctl(*args)
        cmd = "vnetctl " + " ".join(args)
        assert p.returncode == 0, f"{cmd}: exit {p.returncode}"
        assert p.stdout.startswith("usage: vnetctl"), f"{cmd}: no usage text: {p.stdout[:80]!r}"
        assert word in p.stdout, f"{cmd}: help does not mention {word!r}"
        assert p.stderr == "", f"{cmd}: stderr {p.stderr!r}"


def case_netns_port_lifecycle(env):
    topo = env.topo
    ns = topo.ns("c3")
    p = env.vnetctl("port", "add", "--fabric", env.a, "--netns", ns, "--ifname", "eth7")
    assert p.returncode == 0 and p.stderr == "", f"port add --netns: {p.returncode} {p.stderr!r}"
    lines = p.stdout.splitlines()
    assert len(lines) == 1, f"port add --netns printed {p.stdout!r}, want the host end's name"
    host_end = lines[0]
    link = env.link("host", host_end)
    assert link["linkinfo"]["info_kind"] == "veth" and "link_netnsid" in link, \
        f"{host_end} is not a veth with its peer in another namespace: {link}"
    peer = env.link("c3", "eth7")
    assert "UP" in link["flags"] and "UP" in peer["flags"], "both ends must be up"
    assert host_end in {q["name"] for q in env.ports(env.a)}, f"{host_end} is not a port of {env.a}"

    p = env.vnetctl("port", "del", host_end)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", f"port del {host_end}: {p}"
    host_names = {l["ifname"] for l in json.loads(topo.ip("host", "-j", "link", "show").stdout)}
    c3_names = {l["ifname"] for l in json.loads(topo.ip("c3", "-j", "link", "show").stdout)}
    assert host_end not in host_names, f"{host_end} still in the host namespace"
    assert "eth7" not in c3_names, "eth7 still in c3"
    assert host_end not in {q["name"] for q in env.ports(env.a)}, f"{host_end} still listed as a port"


CASES = [
    case_unknown_device,
    case_foreign_xdp,
    case_mac_of_uplink,
    case_mac_of_sibling,
    case_peer_mac_conflict,
    case_port_on_two_fabrics,
    case_second_fabric_on_uplink,
    case_unknown_fabric,
    case_fabric_name_reused,
    case_missing_netns,
    case_malformed_macs,
    case_detach_not_attached,
    case_bad_syntax,
    case_port_del_not_a_port,
    case_ifname_too_long,
    case_ifname_exists,
    case_bad_names,
    case_json_success,
    case_help,
    case_netns_port_lifecycle,
]


def setup(env):
    topo = env.topo
    build_l2(topo, "vnet", "bridge", hairpin=False, containers=3)
    env.containers = ["c1", "c2", "c3"]
    env.a = topo.fabrics[0]
    env.names.add(env.a)
    sw = topo.ns("sw")
    for up in ("up1", "up2"):
        topo.ip("host", "link", "add", up, "type", "veth", "peer", "name", f"{up}p", "netns", sw)
        topo.ip("sw", "link", "set", f"{up}p", "up")
        topo.ip("host", "link", "set", up, "up")
    env.b = topo.attach("up1")
    env.names.add(env.b)
    # A veth that is no port: host end pa, peer eth1 in c1.
    topo.ip("host", "link", "add", "pa", "type", "veth", "peer", "name", "eth1", "netns", topo.ns("c1"))
    topo.ip("host", "link", "set", "pa", "up")
    topo.ip("c1", "link", "set", "eth1", "up")



def main():
    require_root()
    exit_on_signals()  # meson's SIGTERM still tears the topology down
    checks = Checks()
    topo = Topology("ce")
    env = Env(topo)
    # Pins named like our devices that exist now are not ours to report.
    preexisting = set(os.listdir(PIN_ROOT)) if os.path.isdir(PIN_ROOT) else set()
    checks.run_cases(topo, setup, CASES, env)
    left = leftovers(topo.namespaces, env.names - preexisting)
    if left:
        checks.fail("teardown", f"left behind: {left}")
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
