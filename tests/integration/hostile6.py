#!/usr/bin/python3
"""Sends sonded hostile IPv6 input, one case per call, as raw Ethernet frames
from the Linux side of the tap (scapy to build them, an AF_PACKET socket to
send them), and prints one line per frame sonded should drop: the reason it
should give and the frame's length (for the flood, one line: the count).

    hostile6.py CASE IFACE DST_MAC SRC_IP DST_IP

CASE: overlap, rh0, hbh, truncated, ns-hlim, ns-ok, timeout, flood:COUNT.
Echo requests carry identifier 0x5ee0 + the case's number, so that a reply
to any of them would stand out in a capture.
"""
import socket
import sys
import time

from scapy.all import (
    ICMPv6EchoRequest,
    ICMPv6ND_NS,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    Ether,
    Raw,
    get_if_hwaddr,
)

case, iface, dmac, src, dst = sys.argv[1:6]
smac = get_if_hwaddr(iface)
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((iface, 0))


def eth():
    return Ether(src=smac, dst=dmac, type=0x86DD)


def echo(n, data=b"sonde-hostile6"):
    return ICMPv6EchoRequest(id=0x5EE0 + n, seq=1, data=data)


def send(frames, reason=None):
    for i, f in enumerate(frames):
        b = bytes(f)
        sock.send(b)
        if reason:
            print(reason, len(b), flush=True)
        if i % 32 == 31:
            time.sleep(0.002)  # the tap's queue holds 1000 frames


def fragments(n, ident, pieces):
    """An echo request's bytes (ICMPv6 checksum over the whole) cut into
    (offset, length, more) pieces."""
    whole = bytes(IPv6(src=src, dst=dst) / echo(n, bytes(range(24))))[40:]
    out = []
    for off, length, more in pieces:
        out.append(
            eth()
            / IPv6(src=src, dst=dst)
            / IPv6ExtHdrFragment(nh=58, offset=off // 8, m=more, id=ident)
            / Raw(whole[off : off + length])
        )
    return out


if case == "overlap":
    # 32 bytes: [0,16) then [8,24) (overlapping the first by 8), then the
    # last [24,32).  RFC 5722: the whole datagram is dropped.
    send(fragments(1, 0x5EE00001, [(0, 16, 1), (8, 16, 1), (24, 8, 0)]), "frag-overlap")
elif case == "rh0":
    # RFC 5095: a type 0 routing header with segments left.
    send(
        [
            eth()
            / IPv6(src=src, dst=dst)
            / IPv6ExtHdrRouting(type=0, segleft=1, addresses=["fd00::3"])
            / echo(2)
        ],
        "routing-header-type-0",
    )
elif case == "hbh":
    # RFC 8200 4.1: Hop-by-Hop Options only right after the IPv6 header.
    send(
        [eth() / IPv6(src=src, dst=dst) / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() / echo(3)],
        "hop-by-hop-not-first",
    )
elif case == "truncated":
    # Two Destination Options headers; the second says 16 bytes, 8 follow.
    chain = bytes([60, 0, 1, 4, 0, 0, 0, 0]) + bytes([58, 1, 1, 4, 0, 0, 0, 0])
    send([eth() / IPv6(src=src, dst=dst, nh=60) / Raw(chain)], "ext-header-truncated")
elif case in ("ns-hlim", "ns-ok"):
    # An NS for dst from an address Linux does not have (so that an NA
    # sonded sent would be told apart), hop limit 254 or 255.
    hlim, nsrc = (254, "fd00::99") if case == "ns-hlim" else (255, "fd00::98")
    snm = "ff02::1:ff" + "%02x:%02x%02x" % tuple(socket.inet_pton(socket.AF_INET6, dst)[13:])
    f = (
        Ether(src=smac, dst="33:33:ff:" + ":".join("%02x" % b for b in socket.inet_pton(socket.AF_INET6, dst)[13:]))
        / IPv6(src=nsrc, dst=snm, hlim=hlim)
        / ICMPv6ND_NS(tgt=dst)
        / ICMPv6NDOptSrcLLAddr(lladdr=smac)
    )
    send([f], "nd-bad-hop-limit" if case == "ns-hlim" else None)
elif case == "timeout":
    # A first fragment whose rest never comes.
    send(fragments(4, 0x5EE00004, [(0, 16, 1)]), "reassembly-timeout")
elif case.startswith("flood:"):
    # COUNT datagrams, one first fragment each, none ever complete.
    count = int(case.split(":")[1])
    frames = []
    for i in range(count):
        frames += fragments(5, 0x5EE10000 + i, [(0, 16, 1)])
    send(frames)
    print("flood", count, len(bytes(frames[0])), flush=True)
else:
    sys.exit("unknown case " + case)
