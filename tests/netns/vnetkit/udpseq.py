"""Sequenced UDP streams for the takeover tests (reload, upgrade): a sender of
COUNT datagrams carrying sequence numbers at RATE per second, and a receiver
that prints how many distinct ones arrived (and one past the highest)."""
from .fixture import PY, spawn

SENDER = """
import socket, struct, sys, time
dst, port, count, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
start = time.monotonic()
for seq in range(count):
    s.sendto(struct.pack('!I', seq) + b'v' * 60, (dst, port))
    delay = start + (seq + 1) / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
"""

RECEIVER = """
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((sys.argv[1], int(sys.argv[2])))
print('ready', flush=True)
s.settimeout(20)
seen = set()
try:
    seen.add(struct.unpack('!I', s.recv(2048)[:4])[0])
    s.settimeout(2)
    while True:
        seen.add(struct.unpack('!I', s.recv(2048)[:4])[0])
except socket.timeout:
    pass
print(len(seen), max(seen) + 1 if seen else 0, flush=True)
"""


def receiver(topo, role, ip, port):
    """A receiver bound to ip:port in role, returned once it listens; its
    output, once the stream has ended: "DISTINCT ONE_PAST_HIGHEST"."""
    p = spawn(topo, role, PY, "-c", RECEIVER, ip, str(port))
    assert p.stdout.readline().strip() == "ready", f"UDP receiver in {role} did not start"
    return p


def sender(topo, role, ip, port, count, rate):
    """count datagrams to ip:port from role, rate per second."""
    return spawn(topo, role, PY, "-c", SENDER, ip, str(port), str(count), str(rate))
