#!/usr/bin/env python3
"""Per-frame differential tests of macvlan's passthru, source and mixed modes.

Each case builds the same topology three times: with kernel macvlan, and with
vnet attached `--xdp-redirect off` (unicast from the wire takes the tc path,
the default on a veth uplink) and `--xdp-redirect on` (redirected in XDP).
The switch, ext and host namespaces are vnetkit.build_l2's; the ports, each
in its own mode, are added here. The test sends crafted frames with
scapy and counts, per frame and per receiver, how many copies arrive
(vnetkit/framecount.py): every container's eth0, the external host (ext) and the host
stack (on up0). Every system must deliver exactly what macvlan delivers, and
macvlan what spec/forwarding.md says (the model in spec_copies()).

  passthru  one passthru port, switch hairpin on. From ext, unicast to the
            uplink's MAC, to the port's MAC and to a MAC nobody has reaches
            the port and not the host, broadcast both; the port's own
            broadcast and unicast to nobody, and the host's broadcast (the
            port has the uplink's MAC), come back to the port alone. A second
            port, bridge or passthru, is refused by every system, and the
            refusal changes no link.
  source    a source-mode port cs listing ext's MAC beside a bridge port c1,
            without and with nodst: frames from ext (listed) and from an
            unlisted MAC to c1, to cs's own MAC (that goes to the host), to the
            uplink, to nobody and broadcast.
  mixed     c1, c2 bridge, c3, c4 vepa, c5, c6 private and cs, a source-mode
            port listing c3; switch hairpin on and off. A broadcast (raw and
            UDP) from every port, from ext and from the host, and unicast from
            every port to every other port, to the host and to nobody. A
            passthru port beside them is refused by every system.

The switch knows every port's MAC and the uplink's on its uplink side (static
entries), so what it does with a unicast never depends on what it happened to
learn. Exit 0 pass, 1 fail, 77 skip (not root, or no scapy).
"""
import collections
import json
import sys
import time

from vnetkit import framecount as fc
import vnetkit as vk

# vnet's two paths for unicast from the wire: tc (the default on a veth uplink) and XDP redirect.
SYSTEMS = {"macvlan": None, "vnet-tc": ["--xdp-redirect", "off"], "vnet-xdp": ["--xdp-redirect", "on"]}
MACS = {"bcast": "ff:ff:ff:ff:ff:ff",
        "nobody": "02:00:5e:fc:99:01",     # a unicast MAC no port, uplink or host has
        "unlisted": "02:00:5e:fc:99:02"}   # an external station in no source list


class Side:
    """One system's topology: build_l2's switch, ext and host (no containers:
    those are added by add_port(), each in its own mode)."""

    def __init__(self, topo, system, hairpin):
        self.topo, self.system = topo, system
        vk.build_l2(topo, "macvlan", "bridge", hairpin, containers=0)  # with no container, nothing of macvlan yet
        self.fabric = topo.attach("up0", *SYSTEMS[system]) if SYSTEMS[system] is not None else None
        self.devs = {}  # role -> vnet port device (host end)
        self.ports = []
        self.macs = dict(MACS)

    def add_port(self, role, mode, nodst=False):
        """Adds role's eth0 in mode. Returns None, or why it was refused."""
        ns = self.topo.netns(role)
        flag = ["nodst"] if nodst else []
        if self.fabric:
            p = self.topo.vnetctl("port", "add", "--fabric", self.fabric, "--netns", ns, "--mode", mode,
                                  *["--" + f for f in flag], check=False)
            if p.returncode != 0:
                return p.stderr.strip() or f"exit {p.returncode}"
            self.devs[role] = p.stdout.split()[-1]
        else:
            tmp = vk.unique("mv")
            p = self.topo.ip("host", "link", "add", "link", "up0", "name", tmp, "type", "macvlan", "mode", mode,
                             *flag, check=False)
            if p.returncode != 0:
                return p.stderr.strip() or f"exit {p.returncode}"
            self.topo.ip("host", "link", "set", tmp, "netns", ns)
            self.topo.ip(role, "link", "set", tmp, "name", "eth0")
            self.topo.ip(role, "link", "set", "eth0", "up")
        self.ports.append(role)
        return None

    def add_source(self, role, mac):
        if self.fabric:
            self.topo.vnetctl("source", "add", self.devs[role], mac)
        else:
            self.topo.ip(role, "link", "set", "eth0", "type", "macvlan", "macaddr", "add", mac)

    def refuse(self, role, mode):
        """Adding role in mode must fail and change no link anywhere."""
        before = {r: self.links(r) for r in ("host", *self.ports)}
        why = self.add_port(role, mode)
        assert why is not None, f"{self.system}: a {mode} port was accepted beside {self.ports}"
        after = {r: self.links(r) for r in before}
        assert after == before, f"{self.system}: the refused {mode} port changed links: {before} -> {after}"
        assert self.links(role) == ["lo"], f"{self.system}: the refused {mode} port left {self.links(role)} in {role}"
        return why

    def links(self, role):
        return sorted(l["ifname"] for l in json.loads(self.topo.ip(role, "-j", "link", "show").stdout))

    def mac(self, who):
        """MAC of a port role, 'ext', 'host' (up0) or one of MACS."""
        if who not in self.macs:
            role, ifname = ("host", "up0") if who == "host" else (who, "eth0")
            self.macs[who] = json.loads(self.topo.ip(role, "-j", "link", "show", ifname).stdout)[0]["address"]
        return self.macs[who]

    def switch_knows(self, roles):
        """Static entries on the switch: these MACs are behind its uplink side."""
        for who in roles:
            vk.run(["bridge", "-n", self.topo.ns("sw"), "fdb", "replace", self.mac(who), "dev", "swup",
                    "master", "static"])


# -- the spec, as a model -----------------------------------------------------------
def spec_copies(ports, lists, nodst, hairpin, sender, dst):
    """{receiver: copies} of one frame per spec/forwarding.md. ports: {role:
    mode}; lists: {source-mode role: [who its list names]}; nodst: the
    source-mode roles with nodst; sender: a port role, 'host', or an external
    station ('ext', 'unlisted'); dst: a port role, 'host' (the uplink's MAC),
    'nobody' or 'bcast'."""
    got = collections.Counter()
    mode = ports.get(sender)
    # The port side (spec: From a port): bridge ports reach bridge siblings locally.
    if mode == "bridge" and dst == "bcast":
        got.update(r for r, m in ports.items() if m == "bridge" and r != sender)
    elif mode == "bridge" and ports.get(dst) == "bridge":
        return {dst: 1}  # never touches the wire
    # The switch: it floods group frames and unknown unicast, and sends back
    # to the uplink (whose side has every other MAC) only with hairpin on.
    if sender not in ("ext", "unlisted"):
        if dst in ("bcast", "nobody"):
            got["ext"] += 1
        if not hairpin:
            return got
    # The uplink (spec: From the uplink). A passthru port has the uplink's MAC,
    # so the host's own frames look like the port's.
    passthru = [r for r, m in ports.items() if m == "passthru"]
    local = passthru[0] if sender == "host" and passthru else sender if sender in ports else None
    copied = [r for r, names in lists.items() if sender in names]
    got.update(copied)
    if set(copied) & set(nodst):
        return got
    if dst == "bcast":
        if local is None:
            got.update([*(r for r, m in ports.items() if m in ("private", "vepa", "bridge", "passthru")), "host"])
        elif ports[local] == "vepa":
            got.update([*(r for r, m in ports.items() if m in ("vepa", "bridge") and r != local), "host"])
        elif ports[local] == "bridge":
            got.update([*(r for r, m in ports.items() if m == "vepa"), "host"])
        else:  # private, passthru (and, as the kernel does, source): back to that port alone
            got[local] += 1
    elif passthru:
        got[passthru[0]] += 1
    elif dst in ports and ports[dst] != "source":
        # Also from a private port to a private sibling: the kernel's unicast
        # demux never looks at the sender, though the spec's private row says
        # "on return it reaches no private sibling" (reported; vnet follows the kernel).
        got[dst] += 1
    else:  # a source-mode port's own MAC, the uplink's, nobody's: the host stack
        got["host"] += 1
    return got


# -- one case on every system ----------------------------------------------------------
def describe(ports, sender, dst, kind):
    who = f"{sender} ({ports[sender]})" if sender in ports else sender
    return f"{who} -> {dst}" + (f" {kind}" if dst == "bcast" else "")


def run_case(title, tag, hairpin, ports, frames, lists=None, nodst=(), refusals=(), stack=None):
    """ports: [(role, mode)]; frames: [(sender, dst, 'raw'|'udp')] in the
    terms of spec_copies(); lists: {source-mode role: [who]}; refusals:
    [(role, mode)] port additions every system must refuse; stack: a
    function (side) -> {check: bool} of end-to-end checks through the
    receivers' IP stacks, whose results every system must share with kernel
    macvlan. Returns the failures, and prints the table."""
    lists = lists or {}
    modes = dict(ports)
    markers = [(f"{s}>{d}.{k}", describe(modes, s, d, k)) for s, d, k in frames]
    receivers = [*modes, "ext", "host"]
    results, refused, stacks = {}, {}, {}
    for system in SYSTEMS:
        with vk.Topology(tag=f"{tag}{system[0]}{system[-1]}") as topo:
            side = Side(topo, system, hairpin)
            for role, mode in ports:
                why = side.add_port(role, mode, nodst=role in nodst)
                assert why is None, f"{system}: {mode} port {role} refused: {why}"
            vk.wait_dad(topo, list(modes))
            for role, names in lists.items():
                for who in names:
                    side.add_source(role, side.mac(who))
            refused[system] = [side.refuse(role, mode) for role, mode in refusals]
            side.switch_knows([*modes, "host"])
            sends = collections.defaultdict(list)  # sending namespace -> frames, in order
            for (sender, dst, kind), (marker, _) in zip(frames, markers):
                sends["ext" if sender == "unlisted" else sender].append((side.mac(sender), side.mac(dst), marker, kind))
            with fc.counting(topo, {r: ("host", "up0") if r == "host" else (r, "eth0") for r in receivers}) as counts:
                for ns, batch in sends.items():
                    fc.send(topo, ns, batch, ifname="up0" if ns == "host" else "eth0")
            results[system] = counts
            if stack:
                stacks[system] = stack(side)
        left = vk.leftovers(topo.namespaces, topo.fabrics)
        assert not left, f"{system} topology left behind: {', '.join(left)}"
    for i, (role, mode) in enumerate(refusals):
        print(f"{mode} port {role} beside {', '.join(modes)}: refused by every system")
        for system, why in refused.items():
            print(f"  {system}: {why[i]}")
    expected = {m: spec_copies(modes, lists, nodst, hairpin, *f[:2]) for f, (m, _) in zip(frames, markers)}
    print(fc.table(title, markers, receivers, results, expected), flush=True)
    failures = fc.mismatches(title, markers, receivers, results, expected)
    for check in stacks.get("macvlan", {}):
        row = {system: got[check] for system, got in stacks.items()}
        print(f"{check}: {row}")
        if len(set(row.values())) != 1 or not row["macvlan"]:
            failures.append(f"{title}: {check}: {row} (kernel macvlan does it, and every system must)")
    return failures


def passthru_stack(side):
    """The wire pings the passthru port through a static neighbour entry that
    names a MAC other than the port's (a new user's typo, or an entry from
    before the port took the uplink's MAC): kernel macvlan hands the port
    every unicast as its own, so its stack answers."""
    topo = side.topo
    topo.ip("pt", "addr", "add", f"{vk.NET}.50/24", "dev", "eth0")
    topo.ip("ext", "neigh", "replace", f"{vk.NET}.50", "lladdr", MACS["nobody"], "dev", "eth0", "nud", "permanent")
    answered = vk.ping(topo, "ext", f"{vk.NET}.50", count=3, interval=0.2, timeout=1)
    return {"ext pings pt through a neighbour entry naming another MAC": answered}


def case_passthru():
    frames = [("ext", d, "raw") for d in ("host", "pt", "nobody", "bcast")]
    frames += [("pt", "bcast", "raw"), ("pt", "nobody", "raw"), ("host", "bcast", "raw")]
    return run_case("passthru, hairpin on", "mp", True, [("pt", "passthru")], frames,
                    refusals=[("p2", "bridge"), ("p3", "passthru")], stack=passthru_stack)


def case_source(nodst):
    frames = [(s, d, "raw") for s in ("ext", "unlisted") for d in ("c1", "bcast", "cs", "host", "nobody")]
    return run_case("source" + (" nodst" if nodst else ""), "ms" + "n" * nodst, False,
                    [("c1", "bridge"), ("cs", "source")], frames, lists={"cs": ["ext"]},
                    nodst=("cs",) if nodst else ())


MIXED = [("c1", "bridge"), ("c2", "bridge"), ("c3", "vepa"), ("c4", "vepa"), ("c5", "private"), ("c6", "private"),
         ("cs", "source")]


def case_mixed(hairpin):
    roles = [r for r, _ in MIXED]
    frames = []
    for sender in (*roles, "ext", "host"):
        frames += [(sender, "bcast", "raw"), (sender, "bcast", "udp")]
        if sender in roles:
            frames += [(sender, d, "raw") for d in (*roles, "host", "nobody") if d != sender]
    return run_case(f"mixed modes, hairpin {'on' if hairpin else 'off'}", f"mm{int(hairpin)}", hairpin, MIXED,
                    frames, lists={"cs": ["c3"]}, refusals=[("cp", "passthru")])


def expect_no_mismatch(case):
    """Runs a case (it returns its mismatches against the spec and macvlan)."""
    failures = case()
    assert not failures, "\n  " + "\n  ".join(failures)


CASES = [("passthru", case_passthru), ("source", lambda: case_source(False)),
         ("source-nodst", lambda: case_source(True)), ("mixed-hairpin-on", lambda: case_mixed(True)),
         ("mixed-hairpin-off", lambda: case_mixed(False))]


def main():
    vk.require_root()
    vk.require_tools("scapy")
    vk.exit_on_signals()
    start = time.time()
    checks = vk.Checks()
    wanted = sys.argv[1:]  # case names; all by default
    for name, case in CASES:
        if wanted and name not in wanted:
            continue
        checks.run(name, expect_no_mismatch, case)
    print(f"\n{time.time() - start:.1f}s")
    if not checks.failures:
        print(f"{', '.join(list(SYSTEMS)[1:])} deliver every frame exactly as often as kernel macvlan, "
              "as the spec says")
    return checks.status()


if __name__ == "__main__":
    sys.exit(main())
