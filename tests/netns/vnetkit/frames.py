"""Crafted frames sent with scapy from inside a namespace, and how tests
recognise them again: test frames of the local experimental EtherType whose
payload names the test, sender and sequence; gratuitous ARPs; marker UDP
frames (framecount's); solicited-node groups; pcap reading."""
import json
import ipaddress
import struct

from .fixture import PY, run

BROADCAST = "ff:ff:ff:ff:ff:ff"
TEST_ETHERTYPE = 0x88B5  # IEEE 802 local experimental: nothing else sends it

_SCAPY = r"""
import sys
from scapy.layers.inet import IP, UDP, ICMP
from scapy.layers.inet6 import IPv6, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw
from scapy.sendrecv import sendp
frames = eval(sys.argv[2])
sendp(frames if isinstance(frames, list) else [frames], iface=sys.argv[1], verbose=False)
"""


def scapy_send(topo, role, ifname, expr):
    """Sends the frames a Python expression builds (scapy names in scope) from role's ifname."""
    p = run(["ip", "netns", "exec", topo.ns(role), PY, "-c", _SCAPY, ifname, expr], check=False, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"scapy in {role} failed: {p.stderr.strip()[-300:]}")


def marker_udp4(src_mac, dst_mac, src_ip, dst_ip, marker, count=1):
    """A scapy expression: count UDP/IPv4 frames carrying framecount's marker."""
    return (f"[Ether(src={src_mac!r}, dst={dst_mac!r}) / IP(src={src_ip!r}, dst={dst_ip!r}) / "
            f"UDP(sport=40000, dport=40001) / Raw(b'VNFC{marker};') for _ in range({count})]")


def solicited_node(addr):
    """(group address, group MAC) of addr's solicited-node multicast group."""
    low = int(ipaddress.IPv6Address(addr)) & 0xFFFFFF
    group = ipaddress.IPv6Address(int(ipaddress.IPv6Address("ff02::1:ff00:0")) | low)
    b = group.packed
    return str(group), "33:33:" + ":".join(f"{x:02x}" for x in b[12:])


# Runs in the sender's namespace: argv[1] the interface, argv[2] a JSON list of
# frames {src, dst, mark} (a test frame) or {src, dst, arp: {ARP fields}}.
SEND_FRAMES = r"""
import json, sys
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw
from scapy.sendrecv import sendp
frames = []
for f in json.loads(sys.argv[2]):
    if "arp" in f:
        frames.append(Ether(src=f["src"], dst=f["dst"]) / ARP(**f["arp"]))
    else:
        frames.append(Ether(src=f["src"], dst=f["dst"], type=0x88b5) / Raw(f["mark"].encode()))
sendp(frames, iface=sys.argv[1], verbose=False)
"""


def send_frames(topo, eps, sender, frames):
    """Sends test frames and ARPs (dicts, as test_frame and garp make them) from an endpoint."""
    role, ifname, _ = eps[sender]
    topo.exec(role, PY, "-c", SEND_FRAMES, ifname, json.dumps(frames))


def test_frame(sender, seq, src, dst, tag="t"):
    return {"src": src, "dst": dst, "mark": f"vnet-beyond:{tag}:{sender}:{seq}"}


def garp(src, hwsrc, ip, op):
    """A gratuitous ARP (request or reply, op 1 or 2) for ip claiming hwsrc."""
    return {"src": src, "dst": BROADCAST,
            "arp": {"op": op, "hwsrc": hwsrc, "psrc": ip, "hwdst": "00:00:00:00:00:00" if op == 1 else BROADCAST,
                    "pdst": ip}}


def frame_key(frame):
    """What identifies a frame we sent: the test frame's mark, or
    'arp:OP:SENDER-MAC:SENDER-IP' for an ARP; None for anything else."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype == TEST_ETHERTYPE:
        payload = frame[14:].rstrip(b"\0").decode("ascii", "replace")
        return payload if payload.startswith("vnet-beyond:") else None
    if ethertype == 0x0806 and len(frame) >= 42:
        op = struct.unpack("!H", frame[20:22])[0]
        sha = ":".join(f"{b:02x}" for b in frame[22:28])
        return f"arp:{op}:{sha}:{'.'.join(str(b) for b in frame[28:32])}"
    return None


def arp_key(frame):
    arp = frame["arp"]
    return f"arp:{arp['op']}:{arp['hwsrc']}:{arp['psrc']}"


def key_of(frame):
    return arp_key(frame) if "arp" in frame else frame["mark"]


def read_pcap(path):
    """The frames of a classic pcap file (either byte order, us or ns)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    frames, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(order + "IIII", data[off:off + 16])[2]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def expect_copies(seen, sent, title):
    """sent: [(frame, {receiver: copies wanted})]; a receiver captured but not
    named wants 0. Prints a table; asserts every count."""
    bad = []
    for frame, want in sent:
        key = key_of(frame)
        got = {name: counts[key] for name, counts in seen.items()}
        wrong = [name for name in got if got[name] != want.get(name, 0)]
        print(f"  {title} {key} ({frame['src']} -> {frame['dst']}): "
              + ", ".join(f"{n} {c}" + ("!" if n in wrong else "") for n, c in got.items()))
        bad += [f"{key}: {n} got {got[n]} copies, want {want.get(n, 0)}" for n in wrong]
    assert not bad, "; ".join(bad)


def broadcasts(sender, sender_mac, count, tag):
    return [test_frame(sender, i, sender_mac, BROADCAST, tag) for i in range(count)]
