"""Sequenced UDP streams for the takeover tests (reload, upgrade): a sender of
COUNT datagrams carrying sequence numbers at RATE per second, and a receiver
that prints how many distinct ones arrived (and one past the highest)."""

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
