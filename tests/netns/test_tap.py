#!/usr/bin/env python3
"""VM ports on taps: `vnetctl port add --fabric F --tap TAP`, the vnet
equivalent of a macvtap device, driven by a VM-like endpoint (tapvm.py) that
reads and writes frames on the tap fd as QEMU would.

Standard topology (vnetkit.build_l2, bridge mode, c1 and c2, switch without
hairpin), plus the tap port TAP (bridge mode, MAC VM_MAC) with the endpoint at
VM_IP. Checks, each reported on its own (all run):
  show            `vnetctl -j show` lists TAP: kind tun, mode bridge, VM_MAC, up,
                  spoofchk; `ip -d link` in the host namespace calls it a tap;
  container->vm   c1 and c2 ping VM_IP: the endpoint answered their ARP and
                  echo requests (so vnet delivered them to the tap fd), and
                  TAP's port counters carried them both ways;
  ext->vm         the same from the external host, across the uplink;
  vm->container   the endpoint resolves and pings c1 and c2 (what it writes
                  into the tap fd is switched), learning their real MACs;
  vm->ext         the same to the external host;
  spoof           frames the endpoint writes with a forged source MAC, and ARP
                  replies claiming its IP for a forged MAC, reach neither c1
                  nor the wire and raise TAP's drops.spoofed_src by exactly
                  their number, while genuine frames and claims sent alongside
                  arrive;
  vepa            a vepa-mode tap reaches the wire but not a bridge-mode
                  container, until a hairpinning switch, or `port set
                  --hairpin on` on the tap alone, reflects it; the rows with
                  no hairpin and with the switch's are measured on a kernel
                  macvtap (vepa) beside macvlan containers too, and must match;
  owner           `--user`/`--group` (ids or names) become the tap's owner and
                  group (/sys/class/net/TAP/owner|group read inside the host
                  namespace), and decide which unprivileged user may attach;
                  without them both read -1; `--user` without `--tap` is refused;
  deleted-outside  a tap deleted with `ip link del` leaves the fabric, so its
                  MAC can go to a new tap and no stale port is shown;
  port-del        `vnetctl port del` removes a tap vnet created (device gone,
                  no longer shown);
  port-del-attached  the same with a VM attached (as macvtap's `ip link del`
                  works then).
Exit 0 if none failed, 1 if any did, 77 if not root. Last line: "N passed, N failed".
"""
import grp
import json
import os
import pwd
import select
import signal
import stat
import subprocess
import tempfile
import time

import vnetkit as vk

TAPVM = vk.script("tapvm.py")
VM_IP = f"{vk.NET}.50"
VM_MAC = "02:76:6d:00:00:50"
VEPA_IP = f"{vk.NET}.51"
VEPA_MAC = "02:76:6d:00:00:51"
FORGED_MAC = "02:76:6d:00:00:99"
TEST_ETHERTYPE = "0x88b5"  # what tapvm --send writes
PINGS = 3
OWNER, GROUP, STRANGER = 4242, 4243, 4244  # ids no one on the system uses


# -- the endpoint ------------------------------------------------------------------
class Vm:
    """tapvm.py running in the host namespace on one tap. Every instance is
    killed by kill_all(), whatever happens."""
    running = []

    def __init__(self, topo, tap, mac, ip, *args, lifetime=30):
        argv = ["nsenter", f"--net=/run/netns/{topo.host}", vk.PY, TAPVM, "--tap", tap, "--mac", mac, "--ip", ip,
                "--timeout", str(lifetime), *args]
        self.tap = tap
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        Vm.running.append(self.proc)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline() if ready else ""
        if line.strip() != "ready":
            self.proc.kill()
            out, err = self.proc.communicate(timeout=10)
            raise AssertionError(f"tapvm on {tap} did not start (exit {self.proc.returncode}): {err.strip()}")

    def report(self, stop=True, timeout=30):
        """Its JSON report; SIGTERM first unless it ends by itself."""
        if stop and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=timeout)
        # Not communicate(): it would miss what readline() already buffered.
        out, err = self.proc.stdout.read(), self.proc.stderr.read()
        lines = out.strip().splitlines()
        assert self.proc.returncode == 0 and lines, f"tapvm on {self.tap}: exit {self.proc.returncode}: {err.strip()}"
        return json.loads(lines[-1])

    @classmethod
    def kill_all(cls):
        for proc in cls.running:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=10)
        cls.running.clear()


def vm_run(topo, tap, mac, ip, *args):
    """A one-shot endpoint (--ping/--send work): its report once it is done."""
    return Vm(topo, tap, mac, ip, *args).report(stop=False)


def vm_ping(topo, tap, mac, ip, target, *args):
    """{mac, sent, replies} of one --ping from the endpoint."""
    return vm_run(topo, tap, mac, ip, "--ping", target, "--count", str(PINGS), "--wait", "0.5", *args)["pings"][target]


# -- vnet and the host namespace ----------------------------------------------------
def tap_add(topo, fabric, mac, *extra):
    name = vk.unique("vmtap")
    assert len(name) <= 15, name
    out = topo.vnetctl("port", "add", "--fabric", fabric, "--tap", name, "--mac", mac, *extra).stdout.strip()
    assert out == name, f"port add --tap {name} printed {out!r}"
    return name


def shown_ports(topo, fabric):
    return {p["name"]: p for p in vk.fabric_doc(topo, fabric)["ports"]}


def link_exists(topo, role, name):
    return topo.ip(role, "link", "show", name, check=False).returncode == 0


def sysfs(topo, tap, attr):
    """/sys/class/net/TAP/ATTR as the host namespace sees it (ip netns exec
    mounts that namespace's /sys; nsenter --net would show the root's)."""
    return topo.exec("host", "cat", f"/sys/class/net/{tap}/{attr}").stdout.strip()


def ping_all(topo, role, ip):
    """PINGS pings from role, which first forgets its neighbours; all answered?"""
    vk.flush_neighbours(topo, [role])
    return vk.ping_all(topo, role, ip, PINGS)


# -- checks ------------------------------------------------------------------------
def check_show(t):
    holder = Vm(t.topo, t.tap, VM_MAC, VM_IP)  # a tap has carrier only while a VM holds it
    try:
        port = shown_ports(t.topo, t.fabric).get(t.tap)
    finally:
        holder.report()
    assert port, f"show {t.fabric} does not list {t.tap}: {sorted(shown_ports(t.topo, t.fabric))}"
    want = {"kind": "tun", "mode": "bridge", "mac": VM_MAC, "up": True, "spoofchk": True, "carrier": True}
    got = {k: (port[k].lower() if k == "mac" else port[k]) for k in want}
    print(f"  show: {t.tap} {got} flags {port['flags']}")
    assert got == want, f"show lists {t.tap} as {got}, want {want}"
    details = t.topo.ip("host", "-d", "link", "show", t.tap).stdout
    assert "tun type tap" in details, f"ip -d link show {t.tap}: not a tap: {details}"
    assert vk.run(["ip", "link", "show", t.tap], check=False).returncode != 0, f"{t.tap} exists in the root namespace"


def check_to_vm(t, roles):
    before = vk.port_stats(t.topo, t.tap)
    vm = Vm(t.topo, t.tap, VM_MAC, VM_IP)
    answered = {role: ping_all(t.topo, role, VM_IP) for role in roles}
    report = vm.report()
    after = vk.port_stats(t.topo, t.tap)
    grew = {k: after[k] - before[k] for k in ("tx_packets", "rx_packets")}
    print(f"  pings answered {answered}; endpoint read {report['rx_frames']} frames ({report['rx_to_me']} to its "
          f"MAC), answered ARP {report['arp_answered']}, echo {report['echo_answered']}; port {grew}")
    bad = [f"{role} -> vm: ping failed" for role, ok in answered.items() if not ok]
    for role in roles:
        ip = t.eps[role][2]
        if report["arp_answered"].get(ip, 0) < 1:
            bad.append(f"no ARP request from {role} ({ip}) reached the tap fd")
        if report["echo_answered"].get(ip, 0) < PINGS:
            bad.append(f"{report['echo_answered'].get(ip, 0)} of {PINGS} echo requests from {role} reached the tap fd")
    want = PINGS * len(roles)
    if grew["tx_packets"] < want or grew["rx_packets"] < want:
        bad.append(f"{t.tap}'s port counters grew by {grew}, want >= {want} each way")
    assert not bad, "; ".join(bad)


def check_from_vm(t, roles):
    bad = []
    for role in roles:
        ip = t.eps[role][2]
        result = vm_ping(t.topo, t.tap, VM_MAC, VM_IP, ip)
        print(f"  vm -> {role} ({ip}): {result}")
        if result["mac"] != vk.mac_of(t.topo, role):
            bad.append(f"vm -> {role}: ARP resolved {result['mac']}, {role}'s eth0 is {vk.mac_of(t.topo, role)}")
        elif result["replies"] != PINGS:
            bad.append(f"vm -> {role}: {result['replies']} of {PINGS} echo replies")
    assert not bad, "; ".join(bad)


def check_spoof(t):
    roles = ["c1", "ext"]
    before = vk.port_stats(t.topo, t.tap)["drops"]["spoofed_src"]
    sends = ["--send", FORGED_MAC, vk.BROADCAST, "5", "--send", "self", vk.BROADCAST, "5",
             "--send", FORGED_MAC, vk.mac_of(t.topo, "c1"), "5",
             "--arp-claim", FORGED_MAC, "3", "--arp-claim", "self", "2", "--linger", "0"]
    test_frames = {}
    arp = vk.capture_during(t.topo, roles, "0x0806", lambda: test_frames.update(vk.capture_during(
        t.topo, roles, TEST_ETHERTYPE, lambda: vm_run(t.topo, t.tap, VM_MAC, VM_IP, *sends))))
    after = vk.port_stats(t.topo, t.tap)["drops"]["spoofed_src"]
    bad = []
    for role in roles:
        genuine = sum(1 for src, dst, _ in test_frames[role] if (src, dst) == (VM_MAC, vk.BROADCAST))
        forged = sum(1 for src, _, _ in test_frames[role] if src == FORGED_MAC)
        # Every ARP frame from the endpoint here is a claim; only the 2 genuine ones may pass.
        claims = sum(1 for src, _, _ in arp[role] if src == VM_MAC)
        print(f"  {role} captured {genuine} genuine and {forged} forged test frames, {claims} ARP claims")
        if genuine != 5:
            bad.append(f"{role} captured {genuine} of 5 genuine broadcasts: delivery or capture broken")
        if forged:
            bad.append(f"{role} received {forged} frames from the forged source {FORGED_MAC}")
        if claims != 2:
            bad.append(f"{role} received {claims} ARP claims from the endpoint, want the 2 genuine of 5")
    print(f"  {t.tap} drops.spoofed_src {before} -> {after}")
    if after - before != 13:
        bad.append(f"{t.tap}'s drops.spoofed_src grew by {after - before}, want 13 (10 forged frames, 3 ARP claims)")
    assert not bad, "; ".join(bad)


VEPA_CASES = ("no hairpin", "switch hairpin on", "port hairpin on", "port hairpin on, c1's too")
VEPA_REACH = {"vm->c1": True, "c1->vm": True, "vm->ext": True}
VEPA_WANT = {case: VEPA_REACH for case in VEPA_CASES}
VEPA_WANT["no hairpin"] = {"vm->c1": False, "c1->vm": False, "vm->ext": True}


def vepa_rows(topo, endpoint, c1, ext, set_case):
    """{case: {vm->c1, c1->vm, vm->ext}} for one vepa endpoint (tapvm args
    `endpoint`) and the bridge container c1, for every case set_case accepts."""
    tap, mac, ip, *extra = endpoint

    def ping(target):
        return vm_ping(topo, tap, mac, ip, target, *extra)["replies"] == PINGS

    def c1_pings():
        vm = Vm(topo, *endpoint)
        try:
            return ping_all(topo, "c1", ip)
        finally:
            vm.report()

    rows = {}
    for case in VEPA_CASES:
        if set_case(case):
            vk.flush_neighbours(topo, ["c1", "ext", "host"])
            rows[case] = {"vm->c1": ping(c1), "c1->vm": c1_pings(), "vm->ext": ping(ext)}
    return rows


def vnet_vepa_rows(t):
    tap = tap_add(t.topo, t.fabric, VEPA_MAC, "--mode", "vepa")
    t.extra_taps.append(tap)
    c1_port = {p["mac"].lower(): name for name, p in shown_ports(t.topo, t.fabric).items()}[vk.mac_of(t.topo, "c1")]

    def set_case(case):
        t.topo.vnetctl("port", "set", tap, "--hairpin", "on" if case.startswith("port") else "off")
        t.topo.vnetctl("port", "set", c1_port, "--hairpin", "on" if case.endswith("too") else "off")
        vk.set_switch_hairpin(t.topo, case == "switch hairpin on")
        return True

    try:
        return vepa_rows(t.topo, (tap, VEPA_MAC, VEPA_IP), t.eps["c1"][2], t.eps["ext"][2], set_case)
    finally:
        set_case("no hairpin")


def macvtap_vepa_rows():
    """The same rows on the kernel: macvlan bridge containers and a macvtap
    (vepa) endpoint on its /dev/tapN, made in a private directory."""
    with vk.Topology(tag="tk") as topo, tempfile.TemporaryDirectory() as tmp:
        eps = vk.build_l2(topo, "macvlan", "bridge", hairpin=False, containers=1)
        mvt = vk.unique("mvt")
        topo.ip("host", "link", "add", "link", "up0", "name", mvt, "address", VEPA_MAC, "type", "macvtap", "mode", "vepa")
        topo.ip("host", "link", "set", mvt, "up")
        ifindex = json.loads(topo.ip("host", "-j", "link", "show", mvt).stdout)[0]["ifindex"]
        major, minor = map(int, sysfs(topo, mvt, f"macvtap/tap{ifindex}/dev").split(":"))
        node = os.path.join(tmp, f"tap{ifindex}")
        os.mknod(node, 0o600 | stat.S_IFCHR, os.makedev(major, minor))

        def set_case(case):
            vk.set_switch_hairpin(topo, case == "switch hairpin on")
            return not case.startswith("port")  # the kernel has no per-port hairpin

        endpoint = (mvt, VEPA_MAC, VEPA_IP, "--dev", node)
        return vepa_rows(topo, endpoint, eps["c1"][2], eps["ext"][2], set_case)


def check_vepa(t):
    vnet = vnet_vepa_rows(t)
    kernel = macvtap_vepa_rows()
    bad = []
    for case in VEPA_CASES:
        print(f"  vepa tap, {case:25}: vnet {vnet[case]}  kernel macvtap {kernel.get(case, '(no such setting)')}")
        if case in kernel and kernel[case] != VEPA_WANT[case]:
            bad.append(f"kernel macvtap, {case}: {kernel[case]} (the expectation or the harness is wrong)")
        # Hairpin on the vepa tap alone makes vnet its reflective relay both
        # ways: c1's replies to it are delivered locally, as a switch would.
        if vnet[case] != VEPA_WANT[case]:
            bad.append(f"vnet, {case}: {vnet[case]}, want {VEPA_WANT[case]}")
    assert not bad, "; ".join(bad)


def attach_as(t, tap, uid, gid):
    """Whether tapvm running as uid:gid may attach to tap."""
    try:
        Vm(t.topo, tap, VM_MAC, VM_IP, "--as", str(uid), str(gid), "--linger", "0", "--send", "self", vk.BROADCAST,
           "0").report(stop=False)
        return True
    except AssertionError as e:
        if "Operation not permitted" in str(e):
            return False
        raise


def check_owner(t):
    bad = []
    plain = (sysfs(t.topo, t.tap, "owner"), sysfs(t.topo, t.tap, "group"))
    if plain != ("-1", "-1"):
        bad.append(f"{t.tap} made without --user/--group has owner/group {plain}, want -1/-1")
    by_id = tap_add(t.topo, t.fabric, "02:76:6d:00:00:52", "--mode", "bridge", "--user", str(OWNER),
                    "--group", str(GROUP))
    t.extra_taps.append(by_id)
    got = (sysfs(t.topo, by_id, "owner"), sysfs(t.topo, by_id, "group"))
    print(f"  --user {OWNER} --group {GROUP}: owner/group {got}")
    if got != (str(OWNER), str(GROUP)):
        bad.append(f"--user {OWNER} --group {GROUP}: owner/group {got}")
    user, group = pwd.getpwuid(65534).pw_name, grp.getgrgid(65534).gr_name
    by_name = tap_add(t.topo, t.fabric, "02:76:6d:00:00:53", "--user", user, "--group", group)
    t.extra_taps.append(by_name)
    got = (sysfs(t.topo, by_name, "owner"), sysfs(t.topo, by_name, "group"))
    print(f"  --user {user} --group {group}: owner/group {got}")
    if got != ("65534", "65534"):
        bad.append(f"--user {user} --group {group}: owner/group {got}, want 65534/65534")
    # The kernel lets an unprivileged process attach only as the owner and in the group.
    access = {(uid, gid): attach_as(t, by_id, uid, gid) for uid, gid in
              ((OWNER, GROUP), (STRANGER, GROUP), (OWNER, STRANGER))}
    print(f"  unprivileged attach to {by_id} (uid, gid) -> allowed: {access}")
    if access != {(OWNER, GROUP): True, (STRANGER, GROUP): False, (OWNER, STRANGER): False}:
        bad.append(f"unprivileged attach: {access}")
    p = t.topo.vnetctl("port", "add", "--fabric", t.fabric, "--netns", t.topo.ns("c1"), "--ifname", "eth9",
                       "--user", str(OWNER), check=False)
    if p.returncode == 0 or "--tap" not in p.stderr or link_exists(t.topo, "c1", "eth9"):
        bad.append(f"--user without --tap: exit {p.returncode}, {p.stderr.strip()!r}")
    assert not bad, "; ".join(bad)


def check_port_del(t):
    bad = []
    for tap in list(t.extra_taps):
        t.topo.vnetctl("port", "del", tap)
        t.extra_taps.remove(tap)
        if link_exists(t.topo, "host", tap):
            bad.append(f"{tap} still exists after port del")
        if tap in shown_ports(t.topo, t.fabric):
            bad.append(f"show still lists {tap} after port del")
    assert not bad, "; ".join(bad)


def check_deleted_outside(t):
    """A tap deleted with `ip link del` (as a VM manager may do) leaves the
    fabric: its MAC can be given to a new tap, and no stale port remains."""
    mac = "02:76:6d:00:00:54"
    tap = tap_add(t.topo, t.fabric, mac)
    t.topo.ip("host", "link", "del", tap)
    again = vk.unique("vmtap")
    p = t.topo.vnetctl("port", "add", "--fabric", t.fabric, "--tap", again, "--mac", mac, check=False)
    if p.returncode == 0:
        t.extra_taps.append(again)
    shown = [(s["name"], s["mac"]) for s in shown_ports(t.topo, t.fabric).values() if s["mac"].lower() == mac]
    print(f"  after ip link del {tap}: port add --tap {again} --mac {mac}: exit {p.returncode} "
          f"{p.stderr.strip()!r}; show lists {shown}")
    assert p.returncode == 0, f"re-adding {mac}: {p.stderr}"
    assert shown == [(again, mac)], f"show lists {shown}, want only {again}"


def check_port_del_attached(t):
    """port del removes a tap a VM holds (as `ip link del` does a macvtap's)."""
    vm = Vm(t.topo, t.tap, VM_MAC, VM_IP)
    p = t.topo.vnetctl("port", "del", t.tap, check=False)
    exists, shown = link_exists(t.topo, "host", t.tap), t.tap in shown_ports(t.topo, t.fabric)
    vm.report()
    print(f"  port del {t.tap} with a VM attached: exit {p.returncode} {p.stderr.strip()!r}; "
          f"device exists {exists}, shown {shown}")
    assert p.returncode == 0 and not exists and not shown, \
        f"port del with a VM attached: exit {p.returncode} {p.stderr}, device exists {exists}, shown {shown}"


# -- running -------------------------------------------------------------------------
class Ctx:
    def __init__(self, topo, eps, fabric, tap):
        self.topo, self.eps, self.fabric, self.tap = topo, eps, fabric, tap
        self.extra_taps = []


def main():
    vk.require_root()
    vk.exit_on_signals()
    start = time.time()
    parts = [
        ("show", check_show),
        ("container->vm", lambda t: check_to_vm(t, ["c1", "c2"])),
        ("ext->vm", lambda t: check_to_vm(t, ["ext"])),
        ("vm->container", lambda t: check_from_vm(t, ["c1", "c2"])),
        ("vm->ext", lambda t: check_from_vm(t, ["ext"])),
        ("spoof", check_spoof),
        ("vepa", check_vepa),
        ("owner", check_owner),
        ("deleted-outside", check_deleted_outside),
        ("port-del", check_port_del),
        ("port-del-attached", check_port_del_attached),
    ]
    checks = vk.Checks()
    topo = vk.Topology(tag="tap")
    try:
        with topo:
            eps = vk.build_l2(topo, "vnet", "bridge", hairpin=False, containers=2)
            fabric = topo.fabrics[-1]
            tap = tap_add(topo, fabric, VM_MAC, "--mode", "bridge")
            t = Ctx(topo, eps, fabric, tap)
            for name, fn in parts:
                if not checks.run(name, fn, t):
                    Vm.kill_all()  # a failed check may leave its endpoint on a tap
    except (AssertionError, vk.CommandError) as e:
        checks.fail("setup", str(e))
    finally:
        Vm.kill_all()
    left = [f"tapvm pid {p.pid}" for p in Vm.running if p.poll() is None]
    if left:
        checks.fail("cleanup", f"left behind: {', '.join(left)}")
    checks.finish("tap", start, [topo])


if __name__ == "__main__":
    main()
