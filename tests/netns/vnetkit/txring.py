"""Sends raw Ethernet frames as NON-LINEAR skbs, through an AF_PACKET
PACKET_TX_RING (TPACKET_V2): the kernel builds each skb with only the
link-layer header in the linear area and the rest in page frags pointing into
the ring (tpacket_fill_skb), which is what a container's root can do to a
datapath that reads past the linear area without pulling. For comparison,
`sendto` mode sends the same frames with send(), which gives linear skbs.

    python3 txring.py IFACE ring|sendto HEXFRAME...

Prints "sent N" and exits 0 once the kernel has taken every frame.
"""
import ctypes
import mmap
import socket
import sys
import time

SOL_PACKET = 263
PACKET_VERSION = 10
PACKET_TX_RING = 13
TPACKET_V2 = 1
TP_STATUS_AVAILABLE = 0
TP_STATUS_SEND_REQUEST = 1
TP_STATUS_WRONG_FORMAT = 4
FRAME_SIZE = 4096
FRAME_NR = 4
# struct tpacket2_hdr is 32 bytes; without PACKET_TX_HAS_OFF the frame's data
# starts at TPACKET2_HDRLEN - sizeof(struct sockaddr_ll) = 52 - 20 = 32.
DATA_OFFSET = 32


class Tpacket2Hdr(ctypes.Structure):
    _fields_ = [("tp_status", ctypes.c_uint32), ("tp_len", ctypes.c_uint32), ("tp_snaplen", ctypes.c_uint32),
                ("tp_mac", ctypes.c_uint16), ("tp_net", ctypes.c_uint16), ("tp_sec", ctypes.c_uint32),
                ("tp_nsec", ctypes.c_uint32), ("tp_vlan_tci", ctypes.c_uint16), ("tp_vlan_tpid", ctypes.c_uint16),
                ("tp_padding", ctypes.c_uint8 * 4)]


class TpacketReq(ctypes.Structure):
    _fields_ = [("tp_block_size", ctypes.c_uint), ("tp_block_nr", ctypes.c_uint), ("tp_frame_size", ctypes.c_uint),
                ("tp_frame_nr", ctypes.c_uint)]


def send_ring(ifname, frames):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # protocol 0: receives nothing
    s.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
    req = TpacketReq(FRAME_SIZE, FRAME_NR, FRAME_SIZE, FRAME_NR)
    s.setsockopt(SOL_PACKET, PACKET_TX_RING, bytes(req))
    s.bind((ifname, 0))
    ring = mmap.mmap(s.fileno(), FRAME_SIZE * FRAME_NR, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    try:
        for i, frame in enumerate(frames):
            slot = (i % FRAME_NR) * FRAME_SIZE
            hdr = Tpacket2Hdr.from_buffer(ring, slot)
            deadline = time.time() + 5
            while hdr.tp_status != TP_STATUS_AVAILABLE:
                if time.time() > deadline:
                    raise RuntimeError(f"ring slot {i % FRAME_NR} never came back (status {hdr.tp_status})")
                time.sleep(0.001)
            ring[slot + DATA_OFFSET:slot + DATA_OFFSET + len(frame)] = frame
            hdr.tp_len = len(frame)
            hdr.tp_status = TP_STATUS_SEND_REQUEST
            s.send(b"")  # tpacket_snd: every frame marked SEND_REQUEST goes out
            deadline = time.time() + 5
            while hdr.tp_status not in (TP_STATUS_AVAILABLE, TP_STATUS_WRONG_FORMAT):
                if time.time() > deadline:
                    raise RuntimeError(f"frame {i} was not sent (status {hdr.tp_status})")
                time.sleep(0.001)
            if hdr.tp_status == TP_STATUS_WRONG_FORMAT:
                raise RuntimeError(f"frame {i} refused by the kernel (TP_STATUS_WRONG_FORMAT)")
            del hdr
    finally:
        ring.close()
        s.close()


def send_plain(ifname, frames):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind((ifname, 0))
    for frame in frames:
        s.send(frame)
    s.close()


def main():
    ifname, how, frames = sys.argv[1], sys.argv[2], [bytes.fromhex(h) for h in sys.argv[3:]]
    (send_ring if how == "ring" else send_plain)(ifname, frames)
    print(f"sent {len(frames)}")


if __name__ == "__main__":
    main()
