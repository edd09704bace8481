#!/usr/bin/python3
"""VXLAN fabrics from the command line (issue 13): two simulated hosts (each a
namespace with its own vnet fabric) joined by a veth underlay, IPv4 and IPv6.
attach --vxlan creates vx<VNI> with the underlay's MTU minus 50 (70 over
IPv6); containers on either host ping across only once each host lists the
other as a remote; `vxlan remote` add/del/list change that list one entry at
a time (a deleted remote gets nothing, flooded or unicast; adding it back
restores traffic), with one-line refusals that change nothing; show -j has
the VXLAN fields; a larger port MTU is refused; detach removes the device
vnet made and never a user-made VXLAN uplink; failed attaches leave no device
and no pins; `apply` with the config keys converges and a second apply
changes nothing."""
import json
import os
import sys
import time

from vnetkit import Checks, PIN_ROOT, Topology, ping, require_root, temp_file, wait_until
from vnetkit.fixture import exit_on_signals, unique

checks = Checks()
VNI = 4100


def links(t):
    return {l["ifname"]: l for l in json.loads(t.ip("host", "-d", "-j", "link", "show").stdout)}


def pins():
    return set(os.listdir(PIN_ROOT)) if os.path.isdir(PIN_ROOT) else set()


def fdb_dsts(t, dev):
    """(mac, dst) of every FDB entry of dev that has a destination."""
    out = t.exec("host", "bridge", "-j", "fdb", "show", "dev", dev).stdout
    return [(e["mac"], e.get("dst")) for e in json.loads(out or "[]") if e.get("dst")]


class Host:
    """One simulated host: a host namespace (its own fabric) and a container."""

    def __init__(self, tag):
        self.t = Topology(tag)
        self.t.host = self.t.netns("host")
        self.t.netns("c")
        self.fabric = None

    def vnetctl(self, *args, **kw):
        return self.t.vnetctl(*args, **kw)

    def attach_vxlan(self, underlay, *extra, check=True):
        fabric = unique("fx")
        self.t.fabrics.append(fabric)
        r = self.vnetctl("attach", "--vxlan", str(VNI), "--underlay", underlay, "--fabric", fabric, *extra,
                         check=check)
        return fabric, r


def pair(tag, family, n):
    """Two hosts whose underlay is one veth pair, addressed in `family`."""
    a, b = Host(f"{tag}a"), Host(f"{tag}b")
    ua, ub = unique("vu"), unique("vu")
    a.t.ip("host", "link", "add", ua, "type", "veth", "peer", "name", ub, "netns", b.t.host)
    if family == 4:
        la, lb, plen = f"198.18.{n}.1", f"198.18.{n}.2", 24
    else:
        la, lb, plen = f"2001:db8:{n}::1", f"2001:db8:{n}::2", 64
    for h, dev, addr in ((a, ua, la), (b, ub, lb)):
        h.t.ip("host", "addr", "add", f"{addr}/{plen}", "dev", dev, *(["nodad"] if family == 6 else []))
        h.t.ip("host", "link", "set", dev, "up")
    return a, b, (ua, la), (ub, lb)


def add_container(h, v4, v6):
    dev = h.vnetctl("port", "add", "--fabric", h.fabric, "--netns", h.t.ns("c")).stdout.strip()
    h.t.ip("c", "addr", "add", f"{v4}/24", "dev", "eth0")
    h.t.ip("c", "addr", "add", f"{v6}/64", "dev", "eth0", "nodad")
    return dev


def refused(r, *words):
    lines = r.stderr.strip().splitlines()
    return r.returncode != 0 and len(lines) == 1 and all(w in lines[0] for w in words) and r.stdout == ""


def ipv4_case(topos):
    a, b, (ua, la), (ub, lb) = pair("xa", 4, 60)
    topos += [a.t, b.t]
    with a.t, b.t:
        a.fabric, r = a.attach_vxlan(ua)
        b.fabric, _ = b.attach_vxlan(ub)
        vx = f"vx{VNI}"
        dev = links(a.t).get(vx)
        checks.check("attach --vxlan created vx<VNI>", dev is not None and dev["linkinfo"]["info_kind"] == "vxlan",
                     str(dev))
        data = dev["linkinfo"]["info_data"] if dev else {}
        checks.check("device: VNI, underlay local address, port 4789, learning",
                     data.get("id") == VNI and data.get("local") == la and data.get("port") == 4789
                     and data.get("learning") is True, str(data))
        checks.check("MTU = underlay - 50 over IPv4", dev and dev["mtu"] == links(a.t)[ua]["mtu"] - 50,
                     str(dev and dev["mtu"]))
        a_port = add_container(a, "198.18.61.1", "2001:db8:61::1")
        add_container(b, "198.18.61.2", "2001:db8:61::2")
        eth0 = json.loads(a.t.ip("c", "-j", "link", "show", "eth0").stdout)[0]
        checks.check("a port gets the overlay MTU", eth0["mtu"] == 1450, str(eth0["mtu"]))
        r = a.vnetctl("port", "add", "--fabric", a.fabric, "--netns", a.t.ns("c"), "--ifname", "eth1", "--mtu", "1451",
                      check=False)
        checks.check("a port MTU above the overlay's refused", refused(r, "MTU 1451", "1450"), r.stderr)
        checks.check("the refused port left no device in the container",
                     a.t.ip("c", "link", "show", "eth1", check=False).returncode != 0)

        checks.check("no remotes: nothing crosses", not ping(a.t, "c", "198.18.61.2"))
        a.vnetctl("vxlan", "remote", "add", a.fabric, lb)
        b.vnetctl("vxlan", "remote", "add", b.fabric, la)
        checks.check("remotes added: IPv4 ping across", wait_until(lambda: ping(a.t, "c", "198.18.61.2"), 5))
        checks.check("remotes added: IPv6 ping across", wait_until(lambda: ping(a.t, "c", "2001:db8:61::2"), 5))
        listed = a.vnetctl("vxlan", "remote", "list", a.fabric, json_out=True)
        checks.check("remote list -j", listed == {"fabric": a.fabric, "remotes": [lb]}, str(listed))

        show = a.vnetctl("show", a.fabric, json_out=True)["fabrics"][0]
        v = show.get("vxlan") or {}
        checks.check("show -j: vni underlay local dstport remotes mtu created",
                     v == {"vni": VNI, "underlay": ua, "local": la, "dstport": 4789, "remotes": [lb], "mtu": 1450,
                           "created": True, "guarded": True}, str(v))
        text = a.vnetctl("show", a.fabric).stdout
        checks.check("show text: the VXLAN line", f"vxlan vni {VNI} underlay {ua} local {la}" in text
                     and "created by vnet" in text and f"remotes: {lb}" in text, text)

        # Refusals: one line naming the object; the list stays as it was.
        cases = [
            ("duplicate remote", ("vxlan", "remote", "add", a.fabric, lb), ("already a remote", lb)),
            ("unknown remote", ("vxlan", "remote", "del", a.fabric, "198.18.60.9"), ("not a remote", "198.18.60.9")),
            ("bad address", ("vxlan", "remote", "add", a.fabric, "198.18.600.1"), ("198.18.600.1",)),
            ("multicast remote", ("vxlan", "remote", "add", a.fabric, "239.1.1.1"), ("239.1.1.1", "unicast")),
            ("other family", ("vxlan", "remote", "add", a.fabric, "2001:db8:60::2"), ("2001:db8:60::2", "IPv4")),
            ("unknown fabric", ("vxlan", "remote", "add", "nosuchfabric", lb), ("nosuchfabric",)),
        ]
        for name, argv, words in cases:
            r = a.vnetctl(*argv, check=False)
            checks.check(f"refused: {name}", refused(r, *words), r.stderr)
        after = a.vnetctl("vxlan", "remote", "list", a.fabric, json_out=True)
        checks.check("refusals changed nothing", after == listed, str(after))

        # A plain fabric is not a VXLAN fabric.
        a.t.ip("host", "link", "add", "pl0", "type", "veth", "peer", "name", "pl1")
        plain = unique("fp")
        a.t.fabrics.append(plain)
        a.vnetctl("attach", "pl0", "--fabric", plain)
        r = a.vnetctl("vxlan", "remote", "add", plain, lb, check=False)
        checks.check("refused: not a VXLAN fabric", refused(r, plain, "not a VXLAN fabric"), r.stderr)
        checks.check("plain fabric: show has vxlan null",
                     a.vnetctl("show", plain, json_out=True)["fabrics"][0]["vxlan"] is None)
        a.vnetctl("detach", plain)

        # remote del: nothing more to it, flooded or unicast; learned MACs behind it forgotten.
        checks.check("learned a MAC behind the remote", any(d == lb for _, d in fdb_dsts(a.t, vx) if _ != "00:00:00:00:00:00"),
                     str(fdb_dsts(a.t, vx)))
        # Only a drops b; b still lists a and sends, but a's underlay guard
        # drops it, so a learns nothing behind b again and nothing crosses.
        a.vnetctl("vxlan", "remote", "del", a.fabric, lb)
        checks.check("remote del: no traffic to it", not ping(a.t, "c", "198.18.61.2", count=2))
        checks.check("remote del: nothing from it delivered", not ping(b.t, "c", "198.18.61.1", count=2))
        entries = fdb_dsts(a.t, vx)
        checks.check("remote del: no FDB entry points at it (none learned again)", all(d != lb for _, d in entries),
                     str(entries))
        checks.check("remote del: empty list",
                     a.vnetctl("vxlan", "remote", "list", a.fabric, json_out=True)["remotes"] == [])
        a.vnetctl("vxlan", "remote", "add", a.fabric, lb)
        checks.check("remote added back: traffic again", wait_until(lambda: ping(a.t, "c", "198.18.61.2"), 5))

        # Failed attaches leave no device and no pins.
        a.t.ip("host", "link", "add", "vxu", "type", "vxlan", "id", "77", "dev", ua, "local", la, "dstport", "4789")
        before_links, before_pins = set(links(a.t)), pins()
        failures = [
            ("bad underlay", ("--vxlan", "4200", "--underlay", "nosuch0"), ("nosuch0",)),
            ("VNI out of range", ("--vxlan", "16777216", "--underlay", ua), ("16777216",)),
            ("VNI 0", ("--vxlan", "0", "--underlay", ua), ("VNI",)),
            ("--local not on the underlay", ("--vxlan", "4200", "--underlay", ua, "--local", "198.18.60.77"),
             ("198.18.60.77", ua)),
            ("duplicate device name", ("--vxlan", "4200", "--underlay", ua, "--vxlan-name", "vxu"), ("vxu", "exists")),
            ("remote of the other family",
             ("--vxlan", "4200", "--underlay", ua, "--local", la, "--remote", "2001:db8:60::2"), ("2001:db8:60::2",)),
            ("no address of the remotes' family", ("--vxlan", "4200", "--underlay", ua, "--remote", "2001:db8:60::2"),
             (ua, "no IPv6 address")),
            ("fabric name taken", ("--vxlan", "4200", "--underlay", ua, "--fabric", a.fabric), (a.fabric, "exists")),
        ]
        for name, argv, words in failures:
            named = () if "--fabric" in argv else ("--fabric", unique("fz"))
            r = a.vnetctl("attach", *named, *argv, check=False)
            checks.check(f"failed attach: {name}", refused(r, *words), r.stderr)
        checks.check("failed attaches left no device", set(links(a.t)) == before_links,
                     str(set(links(a.t)) ^ before_links))
        checks.check("failed attaches left no pins", pins() == before_pins, str(pins() ^ before_pins))

        # A user-made VXLAN device as a plain uplink: works, shown as the user's, kept at detach.
        user = unique("fu")
        a.t.fabrics.append(user)
        r = a.vnetctl("attach", "vxu", "--fabric", user, check=False)
        checks.check("a user-made VXLAN device attaches as an uplink", r.returncode == 0, r.stderr)
        shown = a.vnetctl("show", user, json_out=True)["fabrics"][0]
        checks.check("user-made: shown with created false, no guard, XDP off",
                     (shown["vxlan"] or {}).get("created") is False and shown["vxlan"].get("guarded") is False and (shown["vxlan"] or {}).get("vni") == 77
                     and shown["xdp_mode"] == "none", str(shown))
        a.vnetctl("detach", user)
        checks.check("detach leaves a user-made VXLAN uplink in place", "vxu" in links(a.t))

        a.vnetctl("detach", a.fabric)
        checks.check("detach removed vx<VNI>", vx not in links(a.t))
        checks.check("detach removed the pins", a.fabric not in pins())
        checks.check("detach left the underlay", ua in links(a.t))

        # apply: the config keys create the same thing; a second apply changes nothing.
        name = unique("fa")
        a.t.fabrics.append(name)
        conf = lambda remotes: f"""
[fabric.{name}]
vxlan = {VNI}
underlay = "{ua}"
remotes = {json.dumps(remotes)}

[[fabric.{name}.port]]
netns = "{a.t.ns('c')}"
"""
        path = temp_file(conf([lb]))
        try:
            a.t.ip("c", "link", "del", "eth0", check=False)  # the detached port's pair is gone already
            r = a.vnetctl("apply", path, check=False)
            checks.check("apply creates the VXLAN fabric", r.returncode == 0 and f"create VXLAN {VNI} on {ua}" in r.stdout,
                         r.stdout + r.stderr)
            a.t.ip("c", "addr", "add", "198.18.61.1/24", "dev", "eth0")
            checks.check("apply: ping across", wait_until(lambda: ping(a.t, "c", "198.18.61.2"), 5))
            r = a.vnetctl("apply", path, check=False)
            checks.check("second apply changes nothing", r.stdout.strip() == "nothing to change", r.stdout + r.stderr)
            with open(path, "w") as f:
                f.write(conf([lb, "198.18.60.9"]))
            r = a.vnetctl("apply", path, check=False)
            checks.check("apply adds only the new remote",
                         r.stdout.strip() == f"add remote 198.18.60.9 to fabric {name}", r.stdout + r.stderr)
            checks.check("traffic survived the remote change", ping(a.t, "c", "198.18.61.2"))
            with open(path, "w") as f:
                f.write(conf(["198.18.60.9"]))
            r = a.vnetctl("apply", path, check=False)
            checks.check("apply deletes only the dropped remote",
                         r.stdout.strip() == f"delete remote {lb} of fabric {name}", r.stdout + r.stderr)
            r = a.vnetctl("apply", path, check=False)
            checks.check("and converges", r.stdout.strip() == "nothing to change", r.stdout + r.stderr)
            shown = a.vnetctl("show", name, json_out=True)["fabrics"][0]["vxlan"]
            checks.check("apply: show reflects the file", shown["remotes"] == ["198.18.60.9"] and shown["created"],
                         str(shown))
        finally:
            os.unlink(path)


def ipv6_case(topos):
    a, b, (ua, la), (ub, lb) = pair("xb", 6, 62)
    topos += [a.t, b.t]
    with a.t, b.t:
        a.fabric, _ = a.attach_vxlan(ua, "--remote", lb)
        b.fabric, _ = b.attach_vxlan(ub, "--remote", la)
        vx = f"vx{VNI}"
        dev = links(a.t)[vx]
        checks.check("IPv6 underlay: local6 is the underlay's global address",
                     dev["linkinfo"]["info_data"].get("local6") == la, str(dev["linkinfo"]["info_data"]))
        checks.check("IPv6 underlay: MTU = underlay - 70", dev["mtu"] == links(a.t)[ua]["mtu"] - 70, str(dev["mtu"]))
        add_container(a, "198.18.63.1", "2001:db8:63::1")
        add_container(b, "198.18.63.2", "2001:db8:63::2")
        checks.check("IPv6 underlay: IPv4 ping across", wait_until(lambda: ping(a.t, "c", "198.18.63.2"), 5))
        checks.check("IPv6 underlay: IPv6 ping across", wait_until(lambda: ping(a.t, "c", "2001:db8:63::2"), 5))
        r = a.vnetctl("vxlan", "remote", "add", a.fabric, "198.18.60.2", check=False)
        checks.check("IPv6 fabric refuses an IPv4 remote", refused(r, "198.18.60.2", "IPv6"), r.stderr)
        a.vnetctl("vxlan", "remote", "del", a.fabric, lb)
        checks.check("IPv6 remote del stops traffic", not ping(a.t, "c", "2001:db8:63::2", count=2))
        checks.check("IPv6 remote del: nothing from it delivered", not ping(b.t, "c", "2001:db8:63::1", count=2))
        a.vnetctl("vxlan", "remote", "add", a.fabric, lb)
        checks.check("IPv6 remote back", wait_until(lambda: ping(a.t, "c", "2001:db8:63::2"), 5))
        checks.check("IPv6 remote list", a.vnetctl("vxlan", "remote", "list", a.fabric).stdout.split() == [lb])

        # The underlay deleted: the kernel deletes the VXLAN device with it;
        # the fabric is defunct and detach still cleans up.
        a.t.ip("host", "link", "del", ua)
        checks.check("underlay gone: vx<VNI> gone with it", wait_until(lambda: vx not in links(a.t)))
        checks.check("underlay gone: fabric defunct",
                     wait_until(lambda: a.vnetctl("show", a.fabric, json_out=True)["fabrics"][0]["defunct"]))
        r = a.vnetctl("detach", a.fabric, check=False)
        checks.check("underlay gone: detach cleans up", r.returncode == 0 and a.fabric not in pins(), r.stderr)


def main():
    require_root()
    exit_on_signals()
    start = time.time()
    topos = []
    try:
        checks.run("ipv4 underlay", ipv4_case, topos)
        checks.run("ipv6 underlay", ipv6_case, topos)
    finally:
        checks.finish("vxlan-cli", start, topos)


if __name__ == "__main__":
    main()
