#!/usr/bin/python3
"""Adversarial corpus from inside the ports (issue 10): a root user in a
container sends forged frames as NON-LINEAR skbs (AF_PACKET PACKET_TX_RING,
txring.py: only the Ethernet header is linear), and none may reach a sibling
or the wire; each must be counted as a drop on the sending port
(`vnetctl stats -j`).

Topology (vnetkit.build_l2 without containers): ext --- sw --- up0 in host,
one mixed fabric on up0 (ipvlan l2, flag bridge):
  m1, m2     MAC ports, mode bridge (siblings flood to each other locally)
  m3         MAC port, mode bridge, --allow-ip .23 and 2001:db8:1:0:23::1
  i1, i2     ipvlan ports with .31/.32 and 2001:db8:1:0:31::1 / :32::1
Receivers: AF_PACKET (ETH_P_ALL) on every container's eth0 except the
sender's, and on the switch's side of the uplink (swup: what left on the
wire). A corpus frame "arrived" if a receiver got its bytes.

The corpus:
  m1 (hole 1): a broadcast ARP whose sender hardware address is m2's, sent
     through the ring and, as a control, with sendto() (a linear skb);
  m3 (allow-ip): spoofed IPv4/IPv6 sources, an ARP and an NA claiming m2's
     addresses, UDP 68->67 from 0.0.0.0 to a unicast address, :: behind a
     hop-by-hop header, an IEEE 802 (htype 6) ARP claiming m2's address, a
     truncated IPv4 header;
  i1 (hole 2): an IEEE 802 (htype 6) ARP claiming i2's address, NAs for
     i2's and the host's addresses, :: behind hop-by-hop, UDP 68->67 from
     0.0.0.0 to a unicast address, an ARP reply from 0.0.0.0, spoofed IPv4
     and IPv6 sources, an ARP with m1's sender hardware address, truncated
     IPv4/IPv6/ARP headers, an IHL past the end of the frame.
"""
import json
import os
import select
import socket
import subprocess
import sys
import time

import vnetkit as vk
from vnetkit import ipvlan as it

PY = vk.PY
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
NET = vk.NET
NET6 = it.NET6
SETTLE = 0.7


def listen(ifname):
    """Script mode: print every frame ifname receives (not ours) as hex, one JSON list, when stdin closes."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    print("ready", flush=True)
    got = []
    while True:
        ready, _, _ = select.select([s, sys.stdin], [], [])
        if s in ready:
            data, addr = s.recvfrom(65535)
            if addr[2] != PACKET_OUTGOING:
                got.append(data.hex())
        if sys.stdin in ready and not sys.stdin.readline():
            break
    print(json.dumps(got), flush=True)


class Receiver:
    def __init__(self, topo, role, ifname):
        self.name = f"{role}/{ifname}"
        self.proc = subprocess.Popen(["ip", "netns", "exec", topo.ns(role), PY, os.path.abspath(__file__), "listen",
                                      ifname], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.proc.kill()
            raise AssertionError(f"receiver {self.name} did not start: {line}{self.proc.stderr.read()}")

    def stop(self):
        out, err = self.proc.communicate("", timeout=20)
        return [bytes.fromhex(h) for h in json.loads(out.strip().splitlines()[-1])]


def send(topo, role, frames, how="ring"):
    p = vk.run(["ip", "netns", "exec", topo.ns(role), PY, vk.script("txring.py"), "eth0", how,
                *[f.hex() for f in frames]], check=False, timeout=60)
    assert p.returncode == 0, f"sending from {role} ({how}) failed: {p.stderr.strip()}"


def drops_of(topo, fabric, dev):
    for s in topo.vnetctl("stats", json_out=True)["stats"]:
        if s["fabric"] == fabric and s["device"] == dev:
            return dict(s["drops"])
    raise AssertionError(f"vnetctl stats: no device {dev} in {fabric}")


def corpus(macs, uplink_mac):
    """{sender role: [(description, frame bytes)]}, built with scapy."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import (ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6, IPv6ExtHdrHopByHop, RouterAlert)
    from scapy.layers.l2 import ARP, Ether
    from scapy.layers.dhcp import BOOTP, DHCP

    bc = "ff:ff:ff:ff:ff:ff"
    m1, m2, m3, up = macs["m1"], macs["m2"], macs["m3"], uplink_mac
    m2_4, m2_6 = f"{NET}.22", f"{NET6}:0:22::1"
    i1_4, i2_4, i2_6 = f"{NET}.31", f"{NET}.32", f"{NET6}:0:32::1"
    i1_6, host_6 = f"{NET6}:0:31::1", it.HOST6

    def udp4(src, dst, smac, dmac=bc, sport=40000, dport=9, tag=0):
        return bytes(Ether(src=smac, dst=dmac) / IP(src=src, dst=dst, id=0x4000 + tag) / UDP(sport=sport, dport=dport)
                     / (b"adv%02d" % tag))

    def udp6(src, dst, smac, tag, hbh=False):
        l3 = IPv6(src=src, dst=dst)
        if hbh:
            l3 = l3 / IPv6ExtHdrHopByHop(options=[RouterAlert()])
        return bytes(Ether(src=smac, dst="33:33:00:00:00:01") / l3 / UDP(sport=40000, dport=9) / (b"adv%02d" % tag))

    def dhcp_to_unicast(smac, tag):
        return bytes(Ether(src=smac, dst=up) / IP(src="0.0.0.0", dst=f"{NET}.1", id=0x4100 + tag) /
                     UDP(sport=68, dport=67) / BOOTP(op=1, xid=0x5eed0000 + tag, chaddr=bytes.fromhex(smac.replace(":", ""))) /
                     DHCP(options=[("message-type", "request"), "end"]))

    def na(smac, src, target, tag):
        return bytes(Ether(src=smac, dst="33:33:00:00:00:01") / IPv6(src=src, dst="ff02::1", fl=tag) /
                     ICMPv6ND_NA(tgt=target, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=smac))

    out = {
        "m1": [("ARP with a sibling's sender hardware address (hole 1)",
                bytes(Ether(src=m1, dst=bc) / ARP(op=1, hwsrc=m2, psrc=m2_4, pdst=f"{NET}.1")))],
        "m3": [
            ("IPv4 from a sibling's address", udp4(m2_4, f"{NET}.1", m3, tag=1)),
            ("IPv6 from a sibling's address", udp6(m2_6, "ff02::1", m3, tag=2)),
            ("ARP claiming a sibling's address", bytes(Ether(src=m3, dst=bc) / ARP(op=2, hwsrc=m3, psrc=m2_4,
                                                                                       pdst=f"{NET}.1"))),
            ("NA for a sibling's address", na(m3, f"{NET6}:0:23::1", m2_6, 3)),
            ("UDP 68->67 from 0.0.0.0 to a unicast address", dhcp_to_unicast(m3, 4)),
            (":: behind a hop-by-hop header", udp6("::", "ff02::1", m3, 5, hbh=True)),
            # Linux's arp_process takes htype 6 (IEEE 802) on Ethernet too.
            ("IEEE 802 ARP (htype 6) claiming a sibling's address",
             bytes(Ether(src=m3, dst=bc) / ARP(hwtype=6, op=2, hwsrc=m3, psrc=m2_4, pdst=f"{NET}.1"))),
            ("IPv4 header cut short", bytes(Ether(src=m3, dst=bc, type=0x0800)) + bytes.fromhex("4500003c4242")),
        ],
        "i1": [
            ("IEEE 802 ARP (htype 6) claiming a sibling's address",
             bytes(Ether(src=up, dst=bc) / ARP(hwtype=6, op=2, hwsrc=up, psrc=i2_4, pdst=f"{NET}.1"))),
            ("NA for a sibling's address", na(up, i1_6, i2_6, 11)),
            ("NA for the host's (gateway's) address", na(up, i1_6, host_6, 12)),
            (":: behind a hop-by-hop header", udp6("::", "ff02::1", up, 13, hbh=True)),
            ("UDP 68->67 from 0.0.0.0 to a unicast address", dhcp_to_unicast(up, 14)),
            ("ARP reply from 0.0.0.0", bytes(Ether(src=up, dst=bc) / ARP(op=2, hwsrc=up, psrc="0.0.0.0",
                                                                           pdst=f"{NET}.1"))),
            ("IPv4 from a sibling's address", udp4(i2_4, f"{NET}.1", up, tag=15)),
            ("IPv6 from a sibling's address", udp6(i2_6, "ff02::1", up, 16)),
            ("ARP with a MAC sibling's sender hardware address",
             bytes(Ether(src=up, dst=bc) / ARP(op=1, hwsrc=m1, psrc=i1_4, pdst=f"{NET}.1"))),
            ("IPv4 header cut short", bytes(Ether(src=up, dst=bc, type=0x0800)) + bytes.fromhex("4500003c4343")),
            ("IPv6 header cut short", bytes(Ether(src=up, dst="33:33:00:00:00:01", type=0x86dd)) +
             bytes.fromhex("6000000000081101") + bytes(8)),
            ("ARP cut short", bytes(Ether(src=up, dst=bc, type=0x0806)) + bytes.fromhex("000108000604000102")),
            ("IPv4 IHL past the end of the frame", bytes(Ether(src=up, dst=bc, type=0x0800)) +
             bytes.fromhex("4f00003c4444000040110000") + bytes([198, 18, 0, 31, 255, 255, 255, 255]) + b"\x01" * 4),
        ],
    }
    return out


def main():
    vk.require_root()
    vk.require_tools("scapy")
    failures = []
    with vk.Topology("adv") as topo:
        vk.build_l2(topo, "none", "bridge", False, containers=0)
        topo.ip("host", "addr", "add", f"{it.HOST6}/64", "dev", "up0", "nodad")
        fabric = topo.attach("up0", "--ipvlan-mode", "l2", "--ipvlan-flag", "bridge")
        ports = {}
        for role in ("m1", "m2"):
            ns = topo.netns(role)
            ports[role] = topo.vnetctl("port", "add", "--fabric", fabric, "--netns", ns, "--mode", "bridge",
                                       json_out=True)
        ns = topo.netns("m3")
        m3_args = ["port", "add", "--fabric", fabric, "--netns", ns, "--mode", "bridge"]
        p = topo.vnetctl(*m3_args, "--allow-ip", f"{NET}.23", "--allow-ip", f"{NET6}:0:23::1", json_out=True,
                         check=False)
        allow_ip = isinstance(p, dict)
        if allow_ip:
            ports["m3"] = p
        else:
            failures.append(f"port add --allow-ip refused: {p.stderr.strip()}")
            ports["m3"] = topo.vnetctl(*m3_args, json_out=True)
        for i, role in ((31, "i1"), (32, "i2")):
            ports[role] = it.add_port(topo, fabric, role, [f"{NET}.{i}/24", f"{NET6}:0:{i}::1/64"])
        devs = {role: ports[role]["name"] for role in ("m1", "m2", "m3", "i1", "i2")}
        for role, addr in (("m1", "21"), ("m2", "22"), ("m3", "23")):
            topo.ip(role, "addr", "add", f"{NET}.{addr}/24", "dev", "eth0")
        # Quiet containers: no IPv6 autoconfiguration chatter to miscount.
        for role in ("m1", "m2", "m3", "i1", "i2"):
            topo.exec(role, "sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1", check=False)
        vk.wait_dad(topo, list(devs))
        time.sleep(0.5)
        macs = {role: vk.mac_of(topo, role, "eth0") for role in devs}
        uplink_mac = vk.mac_of(topo, "host", "up0")
        frames = corpus(macs, uplink_mac)
        all_frames = [f for fs in frames.values() for _, f in fs]
        assert len(set(all_frames)) == len(all_frames), "corpus frames must be distinct to be told apart"

        def run_round(label, sender, items, how):
            """Sends items from sender; returns the failures of this round."""
            bad = []
            receivers = [Receiver(topo, r, "eth0") for r in devs if r != sender] + [Receiver(topo, "sw", "swup")]
            before = drops_of(topo, fabric, devs[sender])
            try:
                send(topo, sender, [f for _, f in items], how)
                time.sleep(SETTLE)
            finally:
                got = {r.name: r.stop() for r in receivers}
            after = drops_of(topo, fabric, devs[sender])
            grew = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
            for what, frame in items:
                seen_by = [name for name, frames_in in got.items()
                           if any(r[:len(frame)] == frame for r in frames_in)]
                mark = "" if not seen_by else "   <-- LEAKED"
                print(f"  {label} {sender}: {what} ({len(frame)} bytes): reached {seen_by or 'nobody'}{mark}",
                      flush=True)
                if seen_by:
                    bad.append(f"{label} {sender}: {what} reached {', '.join(seen_by)}")
            counted = sum(grew.values())
            print(f"  {label} {sender}: drops counted on {devs[sender]}: {grew or 'none'} for {len(items)} frames",
                  flush=True)
            if counted != len(items):
                bad.append(f"{label} {sender}: {len(items)} frames, {counted} drops counted ({grew})")
            odd = set(grew) - {"spoofed_src", "spoofed_ip", "truncated_l3"}
            if odd:
                bad.append(f"{label} {sender}: unexpected drop reasons {sorted(odd)}")
            return bad

        print("control: hole 1's ARP sent with sendto() (a linear skb)", flush=True)
        failures += run_round("sendto", "m1", frames["m1"], "sendto")
        print("the corpus through PACKET_TX_RING (non-linear skbs)", flush=True)
        for sender in ("m1", "m3", "i1"):
            if sender == "m3" and not allow_ip:
                print("  m3: --allow-ip is not available; its corpus is not sent", flush=True)
                continue
            failures += run_round("ring", sender, frames[sender], "ring")
    for f in failures:
        print("FAIL:", f, flush=True)
    assert not failures, f"{len(failures)} failures"
    print("ok: no adversarial frame reached a sibling or the wire, and each was counted")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "listen":
        listen(sys.argv[2])
    else:
        main()
