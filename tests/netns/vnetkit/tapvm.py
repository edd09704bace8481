#!/usr/bin/env python3
"""tapvm: a minimal VM-like endpoint on an existing tap device, for vnet's tests.

It attaches to the tap by name the way QEMU does (open /dev/net/tun,
TUNSETIFF with IFF_TAP|IFF_NO_PI), so it must run in the network namespace
where the tap lives. With one MAC and one IPv4 address it then:
  - answers ARP requests for its address and ICMP echo requests to it;
  - with --ping IP (repeatable): resolves IP by ARP, sends --count echo
    requests and waits for each reply;
  - with --send SRC DST COUNT (repeatable): writes COUNT frames of ethertype
    0x88b5 with that source and destination MAC ("self" is --mac), e.g. to
    forge a source MAC;
  - with --arp-claim SHA COUNT (repeatable): writes COUNT gratuitous ARP
    replies from its own MAC that claim its IP for SHA ("self" is --mac);
  - counts every frame it reads from the tap fd.
With --dev /dev/tapN it takes a kernel macvtap's queue instead (for
comparisons with vnet), and with --as UID GID it drops to that user and group
before attaching, as an unprivileged VM would. It prints "ready" once attached, then, when it ends, one JSON line (the report
below). It ends on its own after --timeout seconds, when the --ping/--send work
is done (unless --serve), or on SIGTERM/SIGINT. Exit 0, or 1 if it could not
attach (the reason on stderr: "tapvm: attach TAP: ..."), 2 on bad arguments.

Report: rx_frames, rx_bytes, rx_to_me (unicast to its MAC), arp_answered and
echo_answered ({sender IP: count}), pings ({IP: {mac, sent, replies}}),
sent_frames, ended ("done", "timeout" or "signal").
"""
import argparse
import fcntl
import ipaddress
import json
import errno
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
ETH_P_TEST = 0x88B5  # IEEE 802 local experimental
BROADCAST = b"\xff" * 6


class Stop(Exception):
    pass


def mac_bytes(text):
    return bytes.fromhex(text.replace(":", ""))


def mac_text(raw):
    return ":".join(f"{b:02x}" for b in raw)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def eth(dst, src, proto, payload):
    return dst + src + struct.pack("!H", proto) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, op, sha, spa, tha, tpa)


def ipv4(src, dst, proto, payload, ident=0):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0, src, dst)
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def icmp_echo(kind, ident, seq, data):
    head = struct.pack("!BBHHH", kind, 0, 0, ident, seq)
    return struct.pack("!BBHHH", kind, 0, checksum(head + data), ident, seq) + data


class Vm:
    def __init__(self, args):
        self.mac = mac_bytes(args.mac)
        self.ip = ipaddress.IPv4Address(args.ip).packed
        self.deadline = time.monotonic() + args.timeout
        self.fd = -1
        self.rx_frames = self.rx_bytes = self.rx_to_me = self.sent_frames = 0
        self.arp_answered, self.echo_answered, self.pings = {}, {}, {}
        self.neighbours = {}  # IP bytes -> MAC bytes, from ARP replies
        self.echo_replies = set()  # (ident, seq) seen

    def attach(self, name, dev, as_ids):
        """TUNSETIFF by name on /dev/net/tun (a tap), or on a macvtap's
        character device `dev`, where it only switches off the virtio-net
        header macvtap starts with. as_ids: (uid, gid) to become first, as an
        unprivileged VM would be; the tap's owner/group then decide."""
        fd = os.open(dev or "/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            if as_ids:
                os.setgroups([])
                os.setresgid(as_ids[1], as_ids[1], as_ids[1])
                os.setresuid(as_ids[0], as_ids[0], as_ids[0])
            fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
        except OSError:
            os.close(fd)
            raise
        self.fd = fd

    def send(self, frame):
        os.write(self.fd, frame)
        self.sent_frames += 1

    # -- receiving and answering ---------------------------------------------
    def pump(self, until=lambda: False, seconds=None):
        """Reads and answers frames until until() holds, `seconds` pass or the
        lifetime ends. Returns until()'s last value."""
        end = self.deadline if seconds is None else min(self.deadline, time.monotonic() + seconds)
        while not until():
            left = end - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            while True:
                try:
                    frame = os.read(self.fd, 65536)
                except BlockingIOError:
                    break
                except OSError as e:
                    if e.errno == errno.EBADFD:  # the tap was deleted under us: the VM's NIC is gone
                        self.device_gone = True
                        return until()
                    raise
                self.handle(frame)
        return until()

    device_gone = False

    def handle(self, frame):
        self.rx_frames += 1
        self.rx_bytes += len(frame)
        if len(frame) < 14:
            return
        dst, src, proto = frame[:6], frame[6:12], struct.unpack("!H", frame[12:14])[0]
        if dst == self.mac:
            self.rx_to_me += 1
        elif dst != BROADCAST:
            return
        if proto == ETH_P_ARP and len(frame) >= 42:
            self.handle_arp(frame[14:42])
        elif proto == ETH_P_IP and dst == self.mac and len(frame) >= 34:
            self.handle_ip(src, frame[14:])

    def handle_arp(self, packet):
        htype, ptype, hlen, plen, op, sha, spa, tha, tpa = struct.unpack("!HHBBH6s4s6s4s", packet)
        if (htype, ptype, hlen, plen) != (1, ETH_P_IP, 6, 4):
            return
        if op == 1 and tpa == self.ip:
            self.send(eth(sha, self.mac, ETH_P_ARP, arp(2, self.mac, self.ip, sha, spa)))
            who = str(ipaddress.IPv4Address(spa))
            self.arp_answered[who] = self.arp_answered.get(who, 0) + 1
        elif op == 2 and tpa == self.ip:
            self.neighbours[spa] = sha

    def handle_ip(self, src_mac, packet):
        ihl = (packet[0] & 0x0F) * 4
        total = struct.unpack("!H", packet[2:4])[0]
        if packet[0] >> 4 != 4 or ihl < 20 or total > len(packet) or packet[9] != 1 or packet[16:20] != self.ip:
            return
        sender, icmp = packet[12:16], packet[ihl:total]
        if len(icmp) < 8:
            return
        kind, _, _, ident, seq = struct.unpack("!BBHHH", icmp[:8])
        if kind == 8:
            self.send(eth(src_mac, self.mac, ETH_P_IP, ipv4(self.ip, sender, 1, icmp_echo(0, ident, seq, icmp[8:]))))
            who = str(ipaddress.IPv4Address(sender))
            self.echo_answered[who] = self.echo_answered.get(who, 0) + 1
        elif kind == 0:
            self.echo_replies.add((ident, seq))

    # -- active work -------------------------------------------------------------
    def resolve(self, target, wait, tries=3):
        for _ in range(tries):
            self.send(eth(BROADCAST, self.mac, ETH_P_ARP, arp(1, self.mac, self.ip, b"\0" * 6, target)))
            if self.pump(lambda: target in self.neighbours, wait):
                return self.neighbours[target]
        return None

    def ping(self, text, count, wait):
        target = ipaddress.IPv4Address(text).packed
        result = self.pings[text] = {"mac": None, "sent": 0, "replies": 0}
        mac = self.resolve(target, wait)
        if mac is None:
            return
        result["mac"] = mac_text(mac)
        ident = os.getpid() & 0xFFFF
        for seq in range(1, count + 1):
            payload = b"tapvm-%d" % seq + b"\0" * 48
            self.send(eth(mac, self.mac, ETH_P_IP, ipv4(self.ip, target, 1, icmp_echo(8, ident, seq, payload), seq)))
            result["sent"] += 1
            if self.pump(lambda: (ident, seq) in self.echo_replies, wait):
                result["replies"] += 1

    def send_test_frames(self, src, dst, count):
        src = self.mac if src == "self" else mac_bytes(src)
        for i in range(count):
            self.send(eth(mac_bytes(dst), src, ETH_P_TEST, b"tapvm-test-%d" % i + b"\0" * 40))

    def arp_claim(self, sha, count):
        sha = self.mac if sha == "self" else mac_bytes(sha)
        for _ in range(count):
            self.send(eth(BROADCAST, self.mac, ETH_P_ARP, arp(2, sha, self.ip, BROADCAST, self.ip)))

    def report(self, ended):
        return {"rx_frames": self.rx_frames, "rx_bytes": self.rx_bytes, "rx_to_me": self.rx_to_me,
                "arp_answered": self.arp_answered, "echo_answered": self.echo_answered, "pings": self.pings,
                "sent_frames": self.sent_frames, "ended": ended}


def parse_args(argv):
    p = argparse.ArgumentParser(description="a VM-like endpoint on a tap (see the module docstring)")
    p.add_argument("--tap", required=True, help="the tap's name (with --dev, only for messages)")
    p.add_argument("--dev", help="a macvtap's character device (/dev/tapN) instead of /dev/net/tun")
    p.add_argument("--as", dest="as_ids", nargs=2, type=int, metavar=("UID", "GID"),
                   help="drop to this user and group before attaching")
    p.add_argument("--mac", required=True)
    p.add_argument("--ip", required=True)
    p.add_argument("--timeout", type=float, default=30.0, help="lifetime limit in seconds")
    p.add_argument("--ping", action="append", default=[], metavar="IP")
    p.add_argument("--count", type=int, default=3, help="echo requests per --ping")
    p.add_argument("--wait", type=float, default=1.0, help="seconds to wait for each reply")
    p.add_argument("--send", nargs=3, action="append", default=[], metavar=("SRC", "DST", "COUNT"))
    p.add_argument("--arp-claim", nargs=2, action="append", default=[], metavar=("SHA", "COUNT"))
    p.add_argument("--linger", type=float, default=0.3, help="seconds to keep serving after the work")
    p.add_argument("--serve", action="store_true", help="keep serving after the work until timeout/signal")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    vm = Vm(args)
    try:
        vm.attach(args.tap, args.dev, args.as_ids)
    except OSError as e:
        print(f"tapvm: attach {args.tap}: {e.strerror}", file=sys.stderr)
        return 1

    def stop(signum, _frame):
        raise Stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)
    ended = "done"
    try:
        for src, dst, count in args.send:
            vm.send_test_frames(src, dst, int(count))
        for sha, count in args.arp_claim:
            vm.arp_claim(sha, int(count))
        for target in args.ping:
            vm.ping(target, args.count, args.wait)
        idle = args.serve or not (args.ping or args.send or args.arp_claim)
        vm.pump(seconds=None if idle else args.linger)
        if time.monotonic() >= vm.deadline:
            ended = "timeout"
    except Stop:
        ended = "signal"
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print(json.dumps(vm.report(ended)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
