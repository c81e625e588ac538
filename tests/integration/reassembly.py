#!/usr/bin/python3
"""Sends sonded's UDP echo service datagrams in fragments that Linux would
not make, with scapy over the namespace's link, and checks each echo on a
plain UDP socket bound to the source port (the kernel reassembles sonded's
fragmented replies):

    reassembly.py IFACE DST_MAC SRC DST many     one datagram in 20 fragments
    reassembly.py IFACE DST_MAC SRC DST options  a first fragment alone with
                                                  IP options (a record route
                                                  and padding), every order of
                                                  three fragments, the last one
                                                  with a longer header than the
                                                  first (a copied option)

Prints one line per datagram echoed; exits 1 at the first that does not come
back whole within 10 s (a bound, not a pace).
"""
import itertools
import socket
import sys
import time

from scapy.all import IP, UDP, Ether, IPOption_NOP, IPOption_RR, IPOption_Security, Raw, conf, sendp

conf.verb = 0
WAIT = 10.0
iface, dmac, src, dst, what = sys.argv[1:6]


def frags(ip, sizes, first_opts=None, later_opts=None):
    """The IP packet ip cut at the given payload sizes (multiples of 8),
    the first fragment with first_opts, the others with later_opts."""
    raw = bytes(ip[UDP])
    out, off = [], 0
    for i, size in enumerate(sizes + [len(raw)]):
        part = raw[off:off + size] if i < len(sizes) else raw[off:]
        if not part:
            break
        more = off + len(part) < len(raw)
        f = IP(src=ip.src, dst=ip.dst, id=ip.id, proto=17, ttl=64,
               flags="MF" if more else 0, frag=off // 8,
               options=(first_opts if off == 0 else later_opts) or [])
        out.append(Ether(dst=dmac) / f / Raw(part))
        off += len(part)
    return out


def echo(sock, port, payload, frames, what):
    sendp(frames, iface=iface)
    end = time.monotonic() + WAIT
    while True:
        left = end - time.monotonic()
        if left <= 0:
            sys.exit("%s: no echo within %.0f s" % (what, WAIT))
        sock.settimeout(left)
        try:
            data, peer = sock.recvfrom(65535)
        except socket.timeout:
            continue
        if data != payload or peer != (dst, 7):
            sys.exit("%s: bad echo from %s, %d bytes of %d" % (what, peer, len(data), len(payload)))
        print("echoed %s: %d bytes in %d fragments" % (what, len(payload), len(frames)), flush=True)
        return


sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((src, 0))
port = sock.getsockname()[1]
if what == "many":
    payload = bytes((i * 7 + 3) & 0xff for i in range(20 * 1000 - 8 - 600))
    ip = IP(src=src, dst=dst, id=0x5e01) / UDP(sport=port, dport=7) / Raw(payload)
    ip = IP(bytes(ip))  # the UDP checksum and lengths computed
    fr = frags(ip, [1000] * 19)
    assert len(fr) == 20, len(fr)
    echo(sock, port, payload, fr, "20 fragments")
elif what == "options":
    rr = [IPOption_RR(routers=["0.0.0.0"] * 2, length=11), IPOption_NOP()]  # 12 bytes
    sec = [IPOption_Security(length=11, security=0, compartment=0, handling_restrictions=0,
                             transmission_control_code=b"\0\0\0"),
           IPOption_NOP()] * 2  # 24 bytes, copied into every fragment
    for n, order in enumerate(itertools.permutations(range(3))):
        payload = bytes((i + n) & 0xff for i in range(2000))
        ip = IP(src=src, dst=dst, id=0x5e10 + n) / UDP(sport=port, dport=7) / Raw(payload)
        ip = IP(bytes(ip))
        fr = frags(ip, [800, 800], first_opts=rr, later_opts=sec)
        echo(sock, port, payload, [fr[i] for i in order],
             "options in the first fragment, order %s" % "".join(map(str, order)))
else:
    sys.exit("reassembly.py: what is '%s'?" % what)
