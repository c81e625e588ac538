#!/usr/bin/python3
"""Sends UDP datagrams to an echo service from many source ports and checks
every echo: same payload, from the address and port it was sent to.

    udp-flows.py ADDR PORT NSOCKS ROUNDS

Each of NSOCKS sockets (its own ephemeral source port, so its own flow)
sends ROUNDS datagrams, one at a time, each once, and waits for its echo up
to 10 s (a bound, not a pace: the next goes as soon as the echo is in; a
first datagram may wait for neighbour resolution, which sonded does while
holding it).  Prints "sent N echoed M bad B" and the source ports; exits 1
unless every datagram came back right.
"""
import socket
import sys
import time

WAIT = 10.0

addr, port, nsocks, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
socks = []
for _ in range(nsocks):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", 0))
    socks.append(s)
sent = echoed = bad = lost = 0
for r in range(rounds):
    for i, s in enumerate(socks):
        payload = ("sonde multicore %s flow %d round %d " % (addr, i, r)).encode() * 3
        s.sendto(payload, (addr, port))
        sent += 1
        end = time.monotonic() + WAIT
        while True:
            left = end - time.monotonic()
            if left <= 0:
                lost += 1
                print("flow %d round %d: no echo within %.0f s" % (i, r, WAIT), file=sys.stderr)
                break
            s.settimeout(left)
            try:
                data, src = s.recvfrom(4096)
            except socket.timeout:
                continue
            if data == payload and src[0] == addr and src[1] == port:
                echoed += 1
            else:
                bad += 1
            break
print("sent %d echoed %d bad %d" % (sent, echoed, bad))
print("ports", " ".join(str(s.getsockname()[1]) for s in socks))
sys.exit(0 if echoed == nsocks * rounds and bad == 0 and lost == 0 else 1)
