#!/usr/bin/python3
"""DHCP through ipvlan l2 ports with a real server and real clients
(issue 6: "DHCP works for l2 ports, replies demultiplexed by transaction id").

vnetkit.ipvlan.build's topology with a fabric `--type ipvlan --ipvlan-mode l2
--ipvlan-flag bridge` and two ports c1, c2 created without --ip (so ipvlan
ports by the fabric's type, sharing the uplink's MAC). dnsmasq (Debian
dnsmasq-base, DNS off) serves 198.18.0.50-59 on ext's eth0; ISC dhclient runs
in both ports (c2's starts once c1 is bound; c1's keeps listening), each with
its own client identifier ("c1", "c2") because their hardware addresses are
the same. Checks:

  setup     `show -j`: both ports type ipvlan, no address but the link-local.
  leases    each dhclient is bound to a lease from the range; the two differ;
            dnsmasq's lease file has one per client id.
  xid       every DHCP reply (UDP from port 67) a port received carries a
            transaction id that port sent: no reply reached the wrong port;
            each port received at least an offer and an ack.
  learned   `show -j` lists each port's leased address as learned, on that
            port only, with the time its 10-minute lease has left.
  traffic   with the leased address configured in each port (dhclient runs
            with -sf /bin/true, so the test does it), ext pings each, and each
            pings ext from it. Control: an address configured in c1 but never
            leased or registered is not reachable from ext.
  port del  deleting c2's port drops its learned address from `show`.
Exit 0 pass, 1 fail, 77 skip (not root, dnsmasq/dhclient missing).
"""
import os
import re
import shutil
import subprocess
import sys
import time

from vnetkit import ipvlan as it
import vnetkit as vk

PORTS = ("c1", "c2")
RANGE = (f"{vk.NET}.50", f"{vk.NET}.59")
UNLEASED = f"{vk.NET}.49"


class Dhcp:
    """dnsmasq in ext and one dhclient per port; stop() ends every process it started."""

    def __init__(self, fab, directory):
        self.fab, self.dir = fab, directory
        self.procs = []
        self.sent_xids, self.got_xids = {}, {}

    def start_server(self):
        t = self.fab.topo
        self.log = open(os.path.join(self.dir, "dnsmasq.log"), "w")
        argv = ["ip", "netns", "exec", t.ns("ext"), vk.which("dnsmasq"), "--keep-in-foreground",
                "--conf-file=/dev/null", "--port=0", "--interface=eth0", "--bind-interfaces",
                f"--dhcp-range={RANGE[0]},{RANGE[1]},255.255.255.0,10m",
                f"--dhcp-leasefile={self.dir}/dnsmasq.leases", f"--pid-file={self.dir}/dnsmasq.pid",
                "--log-dhcp", "--log-facility=-", "--user=root", "--group=root"]
        proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        ok = vk.wait_until(lambda: ":67 " in t.exec("ext", "ss", "-Hlun", "sport = :67").stdout or proc.poll() is not None,
                           timeout=5)
        assert ok and proc.poll() is None, f"dnsmasq did not start (exit {proc.poll()}): {self.read_log()[-500:]}"

    def read_log(self):
        with open(os.path.join(self.dir, "dnsmasq.log")) as f:
            return f.read()

    def start_client(self, role):
        conf = os.path.join(self.dir, f"{role}.conf")
        with open(conf, "w") as f:
            f.write(f'send dhcp-client-identifier "{role}";\ntimeout 20;\nretry 1;\n')
        argv = ["ip", "netns", "exec", self.fab.topo.ns(role), vk.which("dhclient"), "-v", "-1", "-d", "-cf", conf,
                "-sf", "/bin/true", "-pf", os.path.join(self.dir, f"{role}.pid"),
                "-lf", os.path.join(self.dir, f"{role}.leases"), "eth0"]
        out = open(os.path.join(self.dir, f"{role}.out"), "w")
        self.procs.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT))

    def lease(self, role):
        """The address dhclient is bound to (its lease file), or None."""
        try:
            with open(os.path.join(self.dir, f"{role}.leases")) as f:
                found = re.findall(r"fixed-address ([0-9.]+);", f.read())
        except FileNotFoundError:
            return None
        return found[-1] if found else None

    def client_output(self, role):
        try:
            with open(os.path.join(self.dir, f"{role}.out")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def xids(lines):
    return [int(x, 16) for line in lines for x in re.findall(r"\bxid 0x([0-9a-f]+)", line)]


def addresses_of(fab, role):
    """{address without /plen: entry} of role's port in `show -j`."""
    return {a["address"].split("/")[0]: a for a in fab.port_doc(role).get("addresses", [])}


def run_dhcp(fab, dhcp, checks):
    t = fab.topo

    def setup():
        results = []
        for role in PORTS:
            p = fab.port_doc(role)
            results += [(f"{role}: show type", p.get("type"), "ipvlan"),
                        (f"{role}: addresses other than link-local",
                         [a["address"] for a in p.get("addresses", []) if not a.get("link_local")], []),
                        (f"{role}: eth0 MAC is the uplink's", vk.mac_of(t, role, "eth0"), fab.uplink_mac)]
        vk.expect(results)
    checks.run("dhcp: setup", setup)

    state = {}

    def leases():
        dhcp.start_server()
        where = {f"{r}-in": (r, "eth0") for r in PORTS}
        with vk.sniffing(t, where, "udp src port 67 and udp dst port 68", verbose=True) as replies, \
                vk.sniffing(t, {f"{r}-out": (r, "eth0") for r in PORTS}, "udp src port 68 and udp dst port 67",
                            direction="out", verbose=True) as requests:
            # One after the other: dnsmasq offers both the same address when
            # their DISCOVERs cross (one hardware address), and NAKs the second.
            # c1's dhclient keeps listening while c2 gets its lease.
            for role in PORTS:
                dhcp.start_client(role)
                vk.wait_until(lambda: dhcp.lease(role), timeout=25, interval=0.2)
        state["replies"], state["requests"] = replies, requests
        got = {r: dhcp.lease(r) for r in PORTS}
        state["leases"] = got
        for role in PORTS:
            print(f"  {role}: dhclient bound to {got[role]}")
            if not got[role]:
                print("  dhclient output:\n    " + "\n    ".join(dhcp.client_output(role).splitlines()[-8:]))
        in_range = [r for r, a in got.items() if a and int(a.split(".")[-1]) in range(50, 60)]
        with open(os.path.join(dhcp.dir, "dnsmasq.leases")) as f:
            server = f.read()
        print("  dnsmasq leases: " + "; ".join(server.splitlines()))
        vk.expect([("ports bound to a lease in the range", sorted(in_range), list(PORTS)),
                   ("leases distinct", len({a for a in got.values() if a}), 2),
                   ("dnsmasq has a lease for client id c1 (63:31)", "63:31" in server, True),
                   ("dnsmasq has a lease for client id c2 (63:32)", "63:32" in server, True)])
    checks.run("dhcp: leases", leases)
    if not all(state.get("leases", {}).values()):
        return

    def xid_demux():
        results = []
        for role in PORTS:
            sent = set(xids(state["requests"][f"{role}-out"]))
            got = xids(state["replies"][f"{role}-in"])
            foreign = [hex(x) for x in got if x not in sent]
            print(f"  {role}: sent xids {sorted(hex(x) for x in sent)}, received replies with {[hex(x) for x in got]}")
            results += [(f"{role}: sent requests", len(sent) > 0, True),
                        (f"{role}: replies received (offer + ack)", len(got) >= 2, True),
                        (f"{role}: replies carrying another port's xid", foreign, [])]
        vk.expect(results)
    checks.run("dhcp: xid", xid_demux)

    def learned():
        results = []
        for role in PORTS:
            mine = state["leases"][role]
            other = state["leases"]["c2" if role == "c1" else "c1"]
            listed = addresses_of(fab, role)
            print(f"  {role}: show lists {sorted(listed)}")
            results += [(f"{role}: show lists its lease {mine}", mine in listed, True),
                        (f"{role}: its lease is marked learned", listed.get(mine, {}).get("learned"), True),
                        (f"{role}: its lease has 1-600 s left (dnsmasq leases for 10m)",
                         0 < (listed.get(mine, {}).get("lease_seconds") or 0) <= 600, True),
                        (f"{role}: show lists the other port's lease", other in listed, False)]
        vk.expect(results)
    checks.run("dhcp: learned", learned)

    def traffic():
        results = []
        for role in PORTS:
            t.ip(role, "addr", "add", f"{state['leases'][role]}/24", "dev", "eth0")
        t.ip("c1", "addr", "add", f"{UNLEASED}/24", "dev", "eth0")
        vk.flush_neighbours(t, list(PORTS) + ["ext"])
        for role in PORTS:
            lease = state["leases"][role]
            results += [(f"ping ext -> {role}'s lease {lease}", it.ping(t, "ext", lease), True),
                        (f"ping {role} -> ext from its lease", it.ping(t, role, it.EXT4, iface=lease), True)]
        results.append((f"ping ext -> {UNLEASED} configured in c1 but never leased (control)",
                        it.ping(t, "ext", UNLEASED), False))
        vk.expect(results)
    checks.run("dhcp: traffic", traffic)

    def port_del():
        lease = state["leases"]["c2"]
        t.vnetctl("port", "del", fab.dev("c2"))
        doc = vk.fabric_doc(t, fab.fabric)
        left = [a["address"] for p in doc["ports"] for a in p.get("addresses", []) if a["address"].split("/")[0] == lease]
        vk.expect([("ports left in show", sorted(p["name"] for p in doc["ports"]), [fab.dev("c1")]),
                   (f"{lease} still listed after port del", left, [])])
    checks.run("dhcp: port del", port_del)


def main():
    vk.require_root()
    vk.require_tools("dnsmasq", "dhclient", "tcpdump", "ping", "ss")
    vk.exit_on_signals()
    start = time.time()
    checks = vk.Checks()
    directory = it.tmpdir("vnet-dhcp-")
    with vk.Topology(tag="idh") as topo:
        print("=== ipvlan l2 bridge, c1 and c2 without --ip; dnsmasq in ext, dhclient in c1 and c2", flush=True)
        try:
            fab = it.build(topo, "l2", "bridge", len(PORTS), addresses=False)
        except vk.CommandError as e:
            checks.fail("topology", str(e))
        else:
            dhcp = Dhcp(fab, directory)
            try:
                run_dhcp(fab, dhcp, checks)
            finally:
                dhcp.stop()
    if not os.environ.get("VNET_KEEP"):
        shutil.rmtree(directory, ignore_errors=True)
    else:
        print(f"kept {directory}")
    checks.finish("ipvlan dhcp", start, [topo])


if __name__ == "__main__":
    sys.exit(main())
