"""Probes with real clients from inside a namespace: ping, arping, ndisc6,
iperf3; reachability between the endpoints of a topology (eps, see
topology.py); and the one way results are compared with what is wanted."""
import json
import re
import subprocess

from .capture import interrupt
from .fixture import wait_until
from .topology import static_neighbour


def ping(topo, role, dst, count=1, timeout=0.5, interval=None, iface=None):
    """True if any of count echo requests to dst (IPv4, IPv6, or v6%ifname)
    is answered, each waited for timeout seconds."""
    argv = ["ping", "-n", "-q", "-c", str(count)]
    if interval is not None:
        argv += ["-i", str(interval)]
    argv += ["-W", str(timeout)]
    if ":" in dst and "%" not in dst:
        argv.insert(1, "-6")
    if iface:
        argv += ["-I", iface]
    p = topo.exec(role, *argv, dst, check=False, timeout=30)
    return p.returncode == 0


def ping_count(topo, role, dst, count=5, wait=1):
    """How many of count echo requests, 0.05 s apart, were answered (each
    waited for `wait` seconds)."""
    p = topo.exec(role, "ping", "-n", "-q", "-c", str(count), "-i", "0.05", "-W", str(wait), dst, check=False)
    m = re.search(r"(\d+) received", p.stdout)
    return int(m.group(1)) if m else 0


def ping_all(topo, role, ip, count=3):
    """count pings at a short interval; True only when every one was answered."""
    return ping_count(topo, role, ip, count) == count


def arping(topo, role, ifname, ip, timeout=1):
    """True if one ARP request for ip from role's ifname was answered."""
    p = topo.exec(role, "arping", "-q", "-c", "1", "-w", str(timeout), "-I", ifname, ip, check=False, timeout=30)
    return p.returncode == 0


def arping_mac(topo, role, ifname, dst, timeout=1):
    """The MAC that answered an ARP request for dst, or None."""
    p = topo.exec(role, "arping", "-c", "1", "-w", str(timeout), "-I", ifname, dst, check=False, timeout=30)
    m = re.search(r"bytes from ([0-9a-fA-F:]{17})", p.stdout)  # Debian's arping (Habets)
    return m.group(1).lower() if p.returncode == 0 and m else None


def ndisc6(topo, role, ifname, target, tries=2):
    """The MAC in the Neighbour Advertisement for target, or None (ndisc6)."""
    p = topo.exec(role, "ndisc6", "-n", "-r", str(tries), "-w", "700", target, ifname, check=False, timeout=30)
    m = re.search(r"Target link-layer address:\s*([0-9A-Fa-f:]{17})", p.stdout)
    return m.group(1).lower() if m else None


def iperf(topo, client, server, server_ip, seconds, port=5201, connect_timeout_ms=1000):
    """One TCP iperf3 run from role client to server_ip in role server.
    Returns (the client's JSON report, None), or (None, why) when no
    connection carried data. The server is a one-off (-1), always killed."""
    srv = subprocess.Popen(["ip", "netns", "exec", topo.ns(server), "iperf3", "-s", "-1", "-B", server_ip,
                            "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: f":{port}" in topo.exec(server, "ss", "-Hltn", f"sport = :{port}").stdout,
                          timeout=5), f"iperf3 server in {server} is not listening (exit {srv.poll()})"
        p = topo.exec(client, "iperf3", "-c", server_ip, "-p", str(port), "-t", str(seconds), "-J",
                      "--connect-timeout", str(connect_timeout_ms), check=False, timeout=seconds + 30)
        try:
            doc = json.loads(p.stdout)
        except json.JSONDecodeError:
            return None, f"exit {p.returncode}, no JSON: {p.stderr.strip()[-200:]}"
        if p.returncode != 0 or "error" in doc:
            return None, doc.get("error", f"exit {p.returncode}")
        return doc, None
    finally:
        if srv.poll() is None:
            srv.kill()
        srv.wait(timeout=10)


# -- between endpoints --------------------------------------------------------------
def forget(topo, eps, a, b):
    """a forgets b's address and b a's (other neighbour entries stay)."""
    for x, y in ((a, b), (b, a)):
        topo.ip(eps[x][0], "neigh", "flush", "to", eps[y][2], check=False)


def reaches(topo, eps, src, dst, kind="ping"):
    """One probe, neither end knowing the other's MAC yet: ping or arping."""
    forget(topo, eps, src, dst)
    role, ifname, _ = eps[src]
    if kind == "arping":
        return arping(topo, role, ifname, eps[dst][2], timeout=1)
    return ping(topo, role, eps[dst][2], timeout="1")


def expect_reach(topo, eps, cases):
    """cases: [(src, dst, kind, want)]. Probes each; asserts they all match."""
    bad = []
    for src, dst, kind, want in cases:
        got = reaches(topo, eps, src, dst, kind)
        print(f"  {kind} {src} -> {dst}: {'ok' if got else 'fails'}{'' if got == want else '   <-- WRONG'}")
        if got != want:
            bad.append(f"{kind} {src} -> {dst} {'works' if got else 'fails'}, want {'ok' if want else 'failure'}")
    assert not bad, "; ".join(bad)


def expect(results):
    """results: [(description, got, want)]; prints each, asserts all match."""
    bad = []
    for what, got, want in results:
        mark = "" if got == want else "   <-- WRONG"
        print(f"  {what}: {got}{'' if got == want else f' (want {want})'}{mark}", flush=True)
        if got != want:
            bad.append(f"{what}: {got}, want {want}")
    assert not bad, "; ".join(bad)


def unicast_count(topo, eps, ports, src, dst, count=5):
    """count pings src -> dst with static neighbours on both sides (so the
    ICMP frames themselves meet the fabric, no ARP first); returns the number
    answered. ports: {role: port from `vnetctl -j port add`}."""
    static_neighbour(topo, eps, src, dst, ports[dst]["mac"])
    static_neighbour(topo, eps, dst, src, ports[src]["mac"])
    try:
        return ping_count(topo, src, eps[dst][2], count, wait=0.5)
    finally:
        for a, b in ((src, dst), (dst, src)):
            topo.ip(a, "neigh", "del", eps[b][2], "dev", "eth0", check=False)


class Pinger:
    """ping -i 0.01 from one endpoint to another until stop(); stop() returns
    (sent, the icmp_seqs never answered but the last, duplicates)."""

    def __init__(self, topo, eps, src, dst):
        self.title = f"{src} -> {dst}"
        self.proc = subprocess.Popen(["ip", "netns", "exec", topo.ns(eps[src][0]), "ping", "-n", "-i", "0.01",
                                      "-W", "1", "-c", "100000", eps[dst][2]],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def stop(self):
        out = interrupt(self.proc)
        m = re.search(r"(\d+) packets transmitted", out)
        sent = int(m.group(1)) if m else 0
        answered = {int(seq) for seq in re.findall(r"icmp_seq=(\d+) ttl=", out)}
        dups = len(re.findall(r"\(DUP!\)", out))
        # The echo in flight when ping was stopped may not be answered yet.
        lost = [seq for seq in range(1, sent) if seq not in answered]
        return sent, lost, dups
