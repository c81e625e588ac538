#!/usr/bin/python3
"""Sends sonded one malformed IPv4 packet per drop reason, as raw Ethernet
frames (scapy sendp) from the Linux side of the tap, and prints for each the
reason sonded should give and the frame's length:

    malformed.py IFACE DST_MAC SRC_IP DST_IP
"""
import sys
import time

from scapy.all import ICMP, IP, Ether, Raw, conf, sendp

iface, dmac, src, dst = sys.argv[1:5]
conf.verb = 0


def ip(**kw):
    return IP(src=src, dst=dst, **kw) / ICMP(id=0x5EED, seq=1) / Raw(b"sonde")


good = IP(bytes(ip()))
cases = [
    ("bad-checksum", bytes(ip(chksum=good.chksum ^ 0x5555))),
    ("truncated", bytes(ip())[:10]),  # a header cut after 10 bytes
    ("bad-version", bytes(ip(version=5))),
    ("bad-ihl", bytes(ip(ihl=4))),
    ("bad-length", bytes(ip(len=200))),  # says 200, carries 33
]
for reason, payload in cases:
    frame = Ether(dst=dmac, type=0x0800) / Raw(payload)
    sendp(frame, iface=iface)
    print(reason, len(frame), flush=True)
    time.sleep(0.1)
