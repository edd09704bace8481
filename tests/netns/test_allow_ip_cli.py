#!/usr/bin/python3
"""The control plane of --allow-ip (issue 10): what `port add/set --allow-ip`,
`port del` and `apply` with allow_ips write to the datapath's tables, read back
with bpftool from the pins (vnet_allow, vnet_ports, vnet_macs, vnet_flood),
and what `show`/-j print. Refusals: one stderr line, non-zero exit, nothing
changed (tables, devices, show). Failures half-way (a map that fills up, a
tc attachment that cannot be pinned) leave the old state whole. Also the
userspace items of issue 10's "smaller ones" seen from the CLI: '%' in names
and 16-byte names refused, `apply --dry-run` included.

The traffic side (what the datapath drops) is tested elsewhere.
Run as root: VNETCTL=build/userspace/vnetctl tests/netns/test_allow_ip_cli.py
"""
import ipaddress
import json
import os
import struct
import sys
import tempfile

from vnetkit import PIN_ROOT, Checks, Topology, build_l2, exit_on_signals, leftovers, require_root, run, unique

ALLOW_IP = 1 << 6     # VNET_PORT_F_ALLOW_IP
OWNED = 1 << 7        # control plane only, never in flood/MAC entries
MAX_PER_PORT = 64     # kMaxAllowIps
MAX_ALLOW = 16384     # VNET_MAX_ALLOW: vnet_allow's capacity
KEY_BITS = 32         # VNET_ALLOW_KEY_BITS


# -- reading the pinned tables ------------------------------------------------

def dump(topo, fabric, name):
    """bpftool map dump of a pinned map, as (key bytes, value bytes) pairs."""
    argv = ["nsenter", f"--net=/run/netns/{topo.host}", "bpftool", "-j", "map", "dump", "pinned",
            f"{PIN_ROOT}/{fabric}/{name}"]
    out = []
    for e in json.loads(run(argv).stdout):
        key = bytes(int(b, 16) for b in e["key"])
        value = bytes(int(b, 16) for b in e["value"])
        out.append((key, value))
    return out


def allow_entries(topo, fabric):
    """vnet_allow as a set of (slot, "ADDR/PLEN")."""
    out = set()
    for key, value in dump(topo, fabric, "vnet_allow"):
        prefixlen, slot, family, pad = struct.unpack_from("<IHBB", key)
        assert pad == 0, f"vnet_allow key with pad {pad}"
        assert value == b"\x01", f"vnet_allow value {value!r}, want 1"
        plen = prefixlen - KEY_BITS
        addr = key[8:12] if family == 4 else key[8:24]
        net = ipaddress.ip_network((ipaddress.ip_address(addr), plen))
        out.add((slot, str(net)))
    return out


def port_entry(topo, fabric, ifindex):
    """(slot, mode, flags) of vnet_ports[ifindex], or None."""
    for key, value in dump(topo, fabric, "vnet_ports"):
        if struct.unpack_from("<I", key)[0] == ifindex:
            slot, mode, flags = struct.unpack_from("<HBB", value, 6)
            return slot, mode, flags
    return None


def mac_flags(topo, fabric, mac):
    want = bytes(int(x, 16) for x in mac.split(":"))
    for key, value in dump(topo, fabric, "vnet_macs"):
        if key[:6] == want:
            return struct.unpack_from("<IHBB", value)[3]
    return None


def flood_flags(topo, fabric, ifindex):
    """The port's flags in the flood list: vnet_flood's one value is
    {u32 nr, u32 pad, nr x {u32 ifindex, u16 slot, u8 mode, u8 flags}}."""
    for key, value in dump(topo, fabric, "vnet_flood"):
        (count,) = struct.unpack_from("<I", value)
        for i in range(count):
            entry = struct.unpack_from("<IHBB", value, 8 + 8 * i)
            if entry[0] == ifindex:
                return entry[3]
    return None


# -- the system's state and refusals --------------------------------------------

class Env:
    def __init__(self, topo):
        self.topo = topo
        self.fabric = None

    def vnetctl(self, *args, check=False):
        return self.topo.vnetctl(*args, check=check)

    def show_port(self, name):
        for f in self.topo.vnetctl("show", json_out=True)["fabrics"]:
            for p in f["ports"]:
                if p["name"] == name:
                    return p
        return None

    def port_of(self, role):
        """The host end of the port whose peer is eth0 in `role`."""
        peer = json.loads(self.topo.ip(role, "-j", "-d", "link", "show", "eth0").stdout)[0]
        for f in self.topo.vnetctl("show", json_out=True)["fabrics"]:
            for p in f["ports"]:
                if p["ifindex"] == peer["link_index"]:
                    return p
        raise AssertionError(f"no port for eth0 of {role}")

    def snapshot(self):
        topo = self.topo
        state = {"show": topo.vnetctl("show", json_out=True)}
        for name in ("vnet_allow", "vnet_ports", "vnet_macs", "vnet_flood", "vnet_config"):
            state[name] = sorted((k.hex(), v.hex()) for k, v in dump(topo, self.fabric, name))
        for role in topo.roles:
            links = json.loads(topo.ip(role, "-j", "link", "show").stdout)
            state[f"{role} links"] = sorted((l["ifname"], l.get("address"), tuple(l.get("flags", []))) for l in links)
        # This test's namespaces only: others run in parallel.
        mine = f"v{topo.tag}"
        state["netns"] = sorted(n for n in run(["ip", "netns", "list"]).stdout.split() if n.startswith(mine))
        state["pins"] = sorted(os.listdir(f"{PIN_ROOT}/{self.fabric}"))
        return state


def refused(env, args, *expect):
    """vnetctl ARGS fails: non-zero exit, one 'vnetctl: ' stderr line naming
    each of `expect`, nothing on stdout, nothing changed."""
    before = env.snapshot()
    p = env.vnetctl(*args)
    after = env.snapshot()
    cmd = "vnetctl " + " ".join(args)
    assert p.returncode != 0, f"{cmd}: exit 0, want a refusal (stdout {p.stdout!r})"
    assert p.stdout == "", f"{cmd}: stdout {p.stdout!r}"
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vnetctl: "), f"{cmd}: want one 'vnetctl: ' line, got {p.stderr!r}"
    for word in expect:
        assert word.lower() in lines[0].lower(), f"{cmd}: {lines[0]!r} does not mention {word!r}"
    for key in before:
        if before[key] == after[key]:
            continue
        if isinstance(before[key], list):
            gone = [x for x in before[key] if x not in after[key]]
            new = [x for x in after[key] if x not in before[key]]
            raise AssertionError(f"{cmd}: {key} changed: lost {gone[:10]}, gained {new[:10]}")
        raise AssertionError(f"{cmd}: {key} changed:\n{before[key]}\n->\n{after[key]}")
    return lines[0]


def expect_list(env, port_name, texts):
    """show -j and text, vnet_allow, and the ALLOW_IP flag in vnet_ports,
    vnet_macs and vnet_flood all say the port's list is `texts`."""
    topo, fabric = env.topo, env.fabric
    p = env.show_port(port_name)
    assert p is not None, f"show: no port {port_name}"
    want = sorted(texts, key=lambda t: (ipaddress.ip_network(t).version, ipaddress.ip_network(t)))
    assert p["allow_ips"] == want, f"show -j {port_name}: allow_ips {p['allow_ips']}, want {want}"
    slot, mode, flags = port_entry(topo, fabric, p["ifindex"])
    assert slot == p["slot"], f"vnet_ports slot {slot}, show says {p['slot']}"
    mine = {net for s, net in allow_entries(topo, fabric) if s == slot}
    assert mine == set(texts), f"vnet_allow for slot {slot}: {sorted(mine)}, want {sorted(texts)}"
    has = bool(texts)
    assert bool(flags & ALLOW_IP) == has, f"vnet_ports flags {flags:#x} of {port_name}: ALLOW_IP should be {has}"
    assert ("allow-ip" in p["flags"]) == has, f"show -j flags {p['flags']}"
    mf = mac_flags(topo, fabric, p["mac"])
    assert mf is not None and bool(mf & ALLOW_IP) == has and not mf & OWNED, f"vnet_macs flags {mf} of {port_name}"
    ff = flood_flags(topo, fabric, p["ifindex"])
    assert ff is not None and bool(ff & ALLOW_IP) == has and not ff & OWNED, f"vnet_flood flags {ff} of {port_name}"
    text = env.vnetctl("show", fabric, check=True).stdout
    line = f"    allow-ip: {' '.join(want)}"
    if has:
        assert line in text.splitlines(), f"text show lacks {line!r}:\n{text}"
    else:
        block = text.split(port_name, 1)[1].split("\n  ", 1)[0]
        assert "allow-ip" not in block, f"text show of {port_name} mentions allow-ip:\n{text}"


# -- the cases -------------------------------------------------------------------

def case_set_replace_clear(env):
    port = env.port_of("c1")["name"]
    expect_list(env, port, [])
    p = env.vnetctl("-j", "port", "set", port, "--allow-ip", "2001:db8::11", "--allow-ip", "198.18.0.11",
                    "--allow-ip", "198.18.4.0/22", "--allow-ip", "198.18.0.12/32")
    assert p.returncode == 0 and p.stderr == "", f"port set --allow-ip: {p.returncode} {p.stderr!r}"
    doc = json.loads(p.stdout)
    assert doc["allow_ips"] == ["198.18.0.11/32", "198.18.0.12/32", "198.18.4.0/22", "2001:db8::11/128"], doc
    expect_list(env, port, ["198.18.0.11/32", "198.18.0.12/32", "198.18.4.0/22", "2001:db8::11/128"])
    # Other changes keep the list.
    env.vnetctl("port", "set", port, "--isolated", "on", check=True)
    expect_list(env, port, ["198.18.0.11/32", "198.18.0.12/32", "198.18.4.0/22", "2001:db8::11/128"])
    env.vnetctl("port", "set", port, "--isolated", "off", check=True)
    # Replaced by an overlapping list: the kept entry stays, the rest follow.
    env.vnetctl("port", "set", port, "--allow-ip", "198.18.0.11", "--allow-ip", "2001:db8:1::/48", check=True)
    expect_list(env, port, ["198.18.0.11/32", "2001:db8:1::/48"])
    env.vnetctl("port", "set", port, "--allow-ip", "none", check=True)
    expect_list(env, port, [])
    p = env.vnetctl("port", "set", port, "--allow-ip", "none")
    assert p.returncode == 0, f"clearing an empty list: {p.stderr!r}"
    expect_list(env, port, [])
    # The other port was never touched.
    expect_list(env, env.port_of("c2")["name"], [])


def case_refusals(env):
    port = env.port_of("c1")["name"]
    env.vnetctl("port", "set", port, "--allow-ip", "198.18.0.11", check=True)
    refused(env, ["port", "set", port, "--allow-ip", "198.18.0.11/24"], "host bits", "198.18.0.0/24")
    refused(env, ["port", "set", port, "--allow-ip", "224.0.0.1"], "224.0.0.1", "no source")
    refused(env, ["port", "set", port, "--allow-ip", "::"], "no source")
    refused(env, ["port", "set", port, "--allow-ip", "198.18.0.1/33"], "0-32")
    refused(env, ["port", "set", port, "--allow-ip", "bogus"], "bogus", "not an IPv4 or IPv6")
    refused(env, ["port", "set", port, "--allow-ip", "none", "--allow-ip", "198.18.0.1"], "none", "alone")
    refused(env, ["port", "set", port, "--allow-ip", "198.18.0.1", "--allow-ip", "198.18.0.1/32"], "given twice")
    many = []
    for i in range(MAX_PER_PORT + 1):
        many += ["--allow-ip", f"198.18.1.{i}"]
    refused(env, ["port", "set", port, *many], f"at most {MAX_PER_PORT}")
    refused(env, ["port", "set", port, "--allow-ip"], "--allow-ip", "needs a value")
    # IP-demux ports use --ip; the conversion does not drop a list silently.
    refused(env, ["port", "set", env.ipvlan_port, "--allow-ip", "198.18.0.13"], "--allow-ip", "ipvlan", "--ip")
    refused(env, ["port", "set", env.ipvlan_port, "--allow-ip", "none"], "--allow-ip", "ipvlan")
    refused(env, ["port", "set", port, "--type", "ipvlan"], "--allow-ip none")
    refused(env, ["port", "set", port, "--type", "ipvlan", "--allow-ip", "198.18.0.11"], "ipvlan", "--ip")
    c5 = env.topo.ns("c5")
    refused(env, ["port", "add", "--fabric", env.fabric, "--netns", c5, "--type", "ipvlan", "--ip", "198.18.0.15",
                  "--allow-ip", "198.18.0.15"], "--allow-ip", "ipvlan")
    refused(env, ["port", "add", "--fabric", env.fabric, "--netns", c5, "--ip", "198.18.0.15",
                  "--allow-ip", "198.18.0.15"], "--allow-ip", "ipvlan")
    refused(env, ["port", "add", "--fabric", env.fabric, "--netns", c5, "--allow-ip", "198.18.0.15/8"], "host bits")
    expect_list(env, port, ["198.18.0.11/32"])
    env.vnetctl("port", "set", port, "--allow-ip", "none", check=True)


def case_names(env):
    """issue 10 item 9: '%' (a kernel name template) and 16-byte names are
    refused before anything is created; so is a fabric name with a leading '.'."""
    c5 = env.topo.ns("c5")
    refused(env, ["port", "add", "--fabric", env.fabric, "--netns", c5, "--ifname", "eth%d"], "eth%d", "%")
    refused(env, ["port", "add", "--fabric", env.fabric, "--tap", "vm%d"], "vm%d", "%")
    refused(env, ["port", "add", "--fabric", env.fabric, "--tap", "a234567890123456"], "a234567890123456", "15")
    refused(env, ["port", "add", "--fabric", env.fabric, "--netns", f"{c5}%d"], "%", "namespace")
    refused(env, ["port", "add", "v%d", "--fabric", env.fabric], "v%d", "%")
    refused(env, ["attach", "up1", "--fabric", ".hidden"], ".hidden", "may not start with '.'")
    assert not os.path.exists(f"{PIN_ROOT}/.hidden"), "a .hidden fabric directory was made"


def case_add_and_del(env):
    topo, fabric = env.topo, env.fabric
    c4 = topo.ns("c4")
    p = env.vnetctl("-j", "port", "add", "--fabric", fabric, "--netns", c4, "--allow-ip", "198.18.0.14",
                    "--allow-ip", "2001:db8::14")
    assert p.returncode == 0 and p.stderr == "", f"port add --allow-ip: {p.returncode} {p.stderr!r}"
    doc = json.loads(p.stdout)
    assert doc["allow_ips"] == ["198.18.0.14/32", "2001:db8::14/128"] and "allow-ip" in doc["flags"], doc
    expect_list(env, doc["name"], ["198.18.0.14/32", "2001:db8::14/128"])
    slot = doc["slot"]
    env.vnetctl("port", "del", doc["name"], check=True)
    left = {e for e in allow_entries(topo, fabric) if e[0] == slot}
    assert not left, f"port del left vnet_allow entries of slot {slot}: {left}"
    # The slot is free again: the next port (without a list) gets no entries and no flag.
    p = env.vnetctl("-j", "port", "add", "--fabric", fabric, "--netns", c4, "--allow-ip", "none")
    assert p.returncode == 0, f"port add --allow-ip none: {p.stderr!r}"
    doc = json.loads(p.stdout)
    assert doc["slot"] == slot, f"slot {slot} not reused (got {doc['slot']}): the check below would prove nothing"
    expect_list(env, doc["name"], [])
    env.vnetctl("port", "del", doc["name"], check=True)


def case_gone_device_is_forgotten(env):
    """A port whose device is deleted behind vnet's back (ip link del) loses
    its list when vnet forgets it (the next port add prunes it)."""
    topo, fabric = env.topo, env.fabric
    c4 = topo.ns("c4")
    doc = json.loads(env.vnetctl("-j", "port", "add", "--fabric", fabric, "--netns", c4,
                                 "--allow-ip", "198.18.0.44", check=True).stdout)
    slot = doc["slot"]
    topo.ip("host", "link", "del", doc["name"])
    assert {e for e in allow_entries(topo, fabric) if e[0] == slot}, "entries gone before vnet forgot the port"
    doc2 = json.loads(env.vnetctl("-j", "port", "add", "--fabric", fabric, "--netns", c4, check=True).stdout)
    left = {e for e in allow_entries(topo, fabric) if e[0] == slot}
    assert not left, f"the forgotten port's entries stayed: {left}"
    expect_list(env, doc2["name"], [])
    env.vnetctl("port", "del", doc2["name"], check=True)


def case_convert_kinds(env):
    """--type ipvlan with --allow-ip none drops the list in the same step;
    back to macvlan with a list sets it in the same step."""
    topo = env.topo
    c6 = topo.ns("c6")
    doc = json.loads(env.vnetctl("-j", "port", "add", "--fabric", env.fabric, "--netns", c6,
                                 "--allow-ip", "198.18.0.16", check=True).stdout)
    name, slot = doc["name"], doc["slot"]
    p = env.vnetctl("-j", "port", "set", name, "--type", "ipvlan", "--allow-ip", "none")
    assert p.returncode == 0, f"port set --type ipvlan --allow-ip none: {p.stderr!r}"
    shown = env.show_port(name)
    assert shown["type"] == "ipvlan" and shown["allow_ips"] == [], shown
    assert not {e for e in allow_entries(topo, env.fabric) if e[0] == slot}, "entries left on an ipvlan port"
    _, _, flags = port_entry(topo, env.fabric, shown["ifindex"])
    assert not flags & ALLOW_IP, f"ipvlan port with ALLOW_IP: {flags:#x}"
    p = env.vnetctl("port", "set", name, "--type", "macvlan", "--allow-ip", "198.18.0.16")
    assert p.returncode == 0, f"port set --type macvlan --allow-ip: {p.stderr!r}"
    expect_list(env, name, ["198.18.0.16/32"])
    env.vnetctl("port", "del", name, check=True)


def fill_allow(env, leave_free):
    """Fills vnet_allow with entries of an unused slot until `leave_free`
    places remain. Returns the batch file that removes them."""
    topo, fabric = env.topo, env.fabric
    path = f"{PIN_ROOT}/{fabric}/vnet_allow"
    n = MAX_ALLOW - leave_free - len(allow_entries(topo, fabric))
    adds, dels = [], []
    for i in range(n):
        key = struct.pack("<IHBB", KEY_BITS + 128, 999, 6, 0) + bytes.fromhex("20010db8ffff") + i.to_bytes(10, "big")
        hexkey = " ".join(f"{b:02x}" for b in key)
        adds.append(f"map update pinned {path} key hex {hexkey} value hex 01")
        dels.append(f"map delete pinned {path} key hex {hexkey}")
    files = []
    for lines in (adds, dels):
        f = tempfile.NamedTemporaryFile("w", suffix=".batch", delete=False)
        f.write("\n".join(lines) + "\n")
        f.close()
        files.append(f.name)
    run(["bpftool", "batch", "file", files[0]], timeout=300)
    os.unlink(files[0])
    return files[1]


def case_full_table_changes_nothing(env):
    """vnet_allow full after the first new entry: the command fails, the
    entries it wrote are gone, the old list and flag stay."""
    port = env.port_of("c2")["name"]
    env.vnetctl("port", "set", port, "--allow-ip", "198.18.0.12", "--allow-ip", "2001:db8::12", check=True)
    undo = fill_allow(env, leave_free=1)
    try:
        assert len(allow_entries(env.topo, env.fabric)) == MAX_ALLOW - 1
        refused(env, ["port", "set", port, "--allow-ip", "198.18.0.12", "--allow-ip", "198.18.0.22",
                      "--allow-ip", "198.18.0.23"], port)
        refused(env, ["port", "set", port, "--allow-ip", "198.18.0.32", "--allow-ip", "198.18.0.33"], port)
        refused(env, ["port", "add", "--fabric", env.fabric, "--netns", env.topo.ns("c5"),
                      "--allow-ip", "198.18.0.15", "--allow-ip", "198.18.0.25"], "allow")
        expect_list(env, port, ["198.18.0.12/32", "2001:db8::12/128"])
    finally:
        run(["bpftool", "batch", "file", undo], timeout=300)
        os.unlink(undo)
    assert {s for s, _ in allow_entries(env.topo, env.fabric)} <= {env.port_of("c2")["slot"]}
    env.vnetctl("port", "set", port, "--allow-ip", "none", check=True)
    expect_list(env, port, [])


def case_failed_add_leaves_no_entries(env):
    """port add fails after its entries are written (its tc link cannot be
    pinned: something already sits at the pin path): the entries go too."""
    topo, fabric = env.topo, env.fabric
    ifindex = json.loads(topo.ip("host", "-j", "link", "show", "pa").stdout)[0]["ifindex"]
    blocker = f"{PIN_ROOT}/{fabric}/link_port_{ifindex}"
    run(["bpftool", "map", "pin", "pinned", f"{PIN_ROOT}/{fabric}/vnet_config", blocker])
    try:
        line = refused(env, ["port", "add", "pa", "--fabric", fabric, "--allow-ip", "198.18.0.50",
                             "--allow-ip", "2001:db8::50"], f"link_port_{ifindex}", "exists")
        assert "allow" not in line.lower(), f"failed for another reason than the attachment: {line}"
    finally:
        os.unlink(blocker)
    assert not any(net in ("198.18.0.50/32", "2001:db8::50/128") for _, net in allow_entries(topo, fabric))


CONF = """
[fabric.{fabric}]
uplink = "up0"

[[fabric.{fabric}.port]]
netns = "{c1}"
{allow1}

[[fabric.{fabric}.port]]
netns = "{c2}"
mode = "bridge"
"""


def case_apply(env_unused):
    """apply with allow_ips: creates, is idempotent, replaces, clears; in its
    own host namespace, since apply owns every fabric there."""
    with Topology("aa") as topo:
        build_l2(topo, "none", "bridge", hairpin=False, containers=2)
        fabric = unique("fa")
        topo.fabrics.append(fabric)
        env = Env(topo)
        env.fabric = fabric
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, "vnet.conf")

            def apply(allow1, want_actions):
                with open(conf, "w") as f:
                    f.write(CONF.format(fabric=fabric, c1=topo.ns("c1"), c2=topo.ns("c2"), allow1=allow1))
                p = topo.vnetctl("-j", "apply", conf)
                assert p.returncode == 0, f"apply ({allow1}): {p.stderr!r}"
                actions = json.loads(p.stdout)["actions"]
                assert want_actions(actions), f"apply ({allow1}): actions {actions}"
                return actions

            apply('allow_ips = ["198.18.0.11", "2001:db8::/64"]', lambda a: len(a) >= 3)
            c1 = env.port_of("c1")["name"]
            expect_list(env, c1, ["198.18.0.11/32", "2001:db8::/64"])
            expect_list(env, env.port_of("c2")["name"], [])
            apply('allow_ips = ["2001:db8::/64", "198.18.0.11/32"]', lambda a: a == [])  # same list, other spelling
            apply('allow_ips = ["198.18.0.21"]', lambda a: len(a) == 1 and c1 in a[0])
            expect_list(env, c1, ["198.18.0.21/32"])
            apply('allow_ips = ["198.18.0.21"]', lambda a: a == [])
            # A flag that lost its list (written behind vnet's back) is repaired.
            slot = env.port_of("c1")["slot"]
            key = struct.pack("<IHBB", KEY_BITS + 32, slot, 4, 0) + bytes([198, 18, 0, 21]) + bytes(12)
            run(["bpftool", "map", "delete", "pinned", f"{PIN_ROOT}/{fabric}/vnet_allow", "key", "hex",
                 *[f"{b:02x}" for b in key]])
            apply('allow_ips = ["198.18.0.21"]', lambda a: len(a) == 1)
            expect_list(env, c1, ["198.18.0.21/32"])
            apply("", lambda a: len(a) == 1)
            expect_list(env, c1, [])
            apply("", lambda a: a == [])
            # Validation refuses before anything changes, --dry-run included.
            for bad, words in (('allow_ips = ["198.18.0.21/24"]', ["allow_ips", "host bits"]),
                               ('ifname = "a234567890123456"', ["ifname", "15"]),
                               ('ifname = "eth%d"', ["ifname", "%"])):
                with open(conf, "w") as f:
                    f.write(CONF.format(fabric=fabric, c1=topo.ns("c1"), c2=topo.ns("c2"), allow1=bad))
                for extra in ([], ["--dry-run"]):
                    before = env.snapshot()
                    p = topo.vnetctl("apply", conf, *extra, check=False)
                    assert p.returncode != 0 and p.stdout == "", f"apply {extra} with {bad}: {p.returncode} {p.stdout!r}"
                    lines = p.stderr.splitlines()
                    assert len(lines) == 1 and all(w in lines[0] for w in words), f"apply {extra} {bad}: {p.stderr!r}"
                    assert env.snapshot() == before, f"apply {extra} with {bad} changed the system"


CASES = [
    case_set_replace_clear,
    case_refusals,
    case_names,
    case_add_and_del,
    case_gone_device_is_forgotten,
    case_convert_kinds,
    case_full_table_changes_nothing,
    case_failed_add_leaves_no_entries,
    case_apply,
]


def setup(env):
    topo = env.topo
    build_l2(topo, "vnet", "bridge", hairpin=False, containers=2)
    env.fabric = topo.fabrics[0]
    for role in ("c3", "c4", "c5", "c6"):
        topo.netns(role)
    doc = json.loads(topo.vnetctl("-j", "port", "add", "--fabric", env.fabric, "--netns", topo.ns("c3"),
                                  "--type", "ipvlan", "--ip", "198.18.0.13", check=True).stdout)
    env.ipvlan_port = doc["name"]
    sw = topo.ns("sw")
    topo.ip("host", "link", "add", "up1", "type", "veth", "peer", "name", "up1p", "netns", sw)
    topo.ip("host", "link", "set", "up1", "up")
    # A veth that is no port: host end pa, peer eth1 in c5.
    topo.ip("host", "link", "add", "pa", "type", "veth", "peer", "name", "eth1", "netns", topo.ns("c5"))
    topo.ip("host", "link", "set", "pa", "up")


def main():
    require_root()
    exit_on_signals()  # meson's SIGTERM still tears the topology down
    checks = Checks()
    topo = Topology("al")
    env = Env(topo)
    checks.run_cases(topo, setup, CASES, env)
    left = leftovers(topo.namespaces, topo.fabrics)
    if os.path.exists(f"{PIN_ROOT}/.hidden"):
        left.append(".hidden")
    if left:
        checks.fail("teardown", f"left behind: {left}")
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
