#!/usr/bin/python3
"""Sends UDP datagrams to an echo service (RFC 862) one at a time, each with
its own IP options, and checks every echo: the same payload, from the
address and port it was sent to.

    udp-echo.py ADDR PORT SPEC...

SPEC is TOS:DF:TTL:SIZE: the IP TOS byte, DF (do: set it, dont: clear it
and let Linux fragment, want: Linux's default), the TTL and the payload's
size.  Each datagram waits for its echo up to 10 s (a bound, not a pace:
the next goes as soon as the echo is in).  Prints one line per datagram
and exits 1 at the first that does not come back right.
"""
import socket
import sys
import time

IP_MTU_DISCOVER = 10  # <linux/in.h>
PMTUDISC = {"dont": 0, "want": 1, "do": 2}
WAIT = 10.0

addr, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 0))
sport = s.getsockname()[1]
for i, spec in enumerate(sys.argv[3:]):
    tos, df, ttl, size = spec.split(":")
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, int(tos, 0))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, int(ttl))
    s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, PMTUDISC[df])
    head = ("sonde udp-echo %d %s " % (i, spec)).encode()
    payload = (head * (int(size) // len(head) + 1))[: int(size)]
    s.sendto(payload, (addr, port))
    end = time.monotonic() + WAIT
    while True:
        left = end - time.monotonic()
        if left <= 0:
            sys.exit("datagram %d (%s): no echo within %.0f s" % (i, spec, WAIT))
        s.settimeout(left)
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            continue
        if data != payload or src != (addr, port):
            sys.exit("datagram %d (%s): bad echo from %s, %d bytes" % (i, spec, src, len(data)))
        print("echoed %s from port %d to %d" % (spec, sport, port), flush=True)
        break
