"""A broadcast storm and its receivers, for the storm-control test. Run inside
a namespace (`ip netns exec NS python3 storm.py ...`):

    storm.py send IFACE SECONDS   broadcasts (EtherType 0x88b5, payload "VNST")
                                  from IFACE as fast as one raw socket can for
                                  SECONDS; prints "sent N SECONDS_TAKEN"
    storm.py count IFACE          prints "ready", then counts the storm's frames
                                  arriving on IFACE until stdin closes; prints N

The receiver binds ETH_P 0x88b5 only (not ETH_P_ALL): it sees what the stack
was given after tc, never its own outgoing frames, nothing else.
"""
import select
import socket
import sys
import time

ETH_P_TEST = 0x88B5
MAGIC = b"VNST"


def send(ifname, seconds):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # protocol 0: receives nothing
    s.bind((ifname, 0))
    src = open(f"/sys/class/net/{ifname}/address").read().strip()
    frame = b"\xff" * 6 + bytes.fromhex(src.replace(":", "")) + ETH_P_TEST.to_bytes(2, "big") + MAGIC + bytes(46)
    sent = 0
    start = time.monotonic()
    end = start + seconds
    while True:
        for _ in range(256):  # one clock read per batch
            try:
                s.send(frame)
                sent += 1
            except OSError:  # ENOBUFS: the device queue is full, go on
                pass
        if time.monotonic() >= end:
            break
    took = time.monotonic() - start
    s.close()
    print(f"sent {sent} {took:.3f}", flush=True)


def count(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_TEST))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((ifname, ETH_P_TEST))
    s.setblocking(False)
    print("ready", flush=True)
    n = 0
    while True:
        ready, _, _ = select.select([s, sys.stdin], [], [], 1.0)
        if s in ready:
            while True:
                try:
                    data = s.recv(2048)
                except BlockingIOError:
                    break
                if data[14:18] == MAGIC:
                    n += 1
        if sys.stdin in ready and not sys.stdin.readline():
            break
    print(n, flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], float(sys.argv[3]))
    else:
        count(sys.argv[2])
