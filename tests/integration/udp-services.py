#!/usr/bin/python3
"""sonded's UDP services from Linux: echo (RFC 862) with a window, chargen
(RFC 864), discard (RFC 863).

    udp-services.py ADDR COUNT WINDOW

echo: COUNT datagrams of 1 to 1400 bytes (each its sequence number and a
filler) to port 7, at most WINDOW of them unanswered at a time (the tap
queue holds 1000 frames: more in flight and Linux would drop some, not
sonded; the first goes alone, while the neighbours resolve), none sent twice; every echo must come back, payload intact, from
port 7.  The wait for an echo is bounded (10 s without any), not a pace.
chargen: 20 datagrams to port 19; each answer is 0 to 512 bytes, the start
of one of the RFC 864 lines.  discard: 20 datagrams to port 9 and then one
to port 7 from the same socket: the echo comes back and nothing from port
9 came before it (sonded answers in order, so an answer from discard would
have).  Prints one line per check; exits 1 at the first that fails.
"""
import select
import socket
import sys

WAIT = 10.0

addr, count, window = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def payload(i):
    """Datagram i: its number, a colon, and a filler up to 16..1400 bytes."""
    head = b"%d:" % i
    size = 16 + (i * 7919) % 1385
    return head + FILLER[i % 251:i % 251 + size - len(head)]


FILLER = bytes(range(251)) * 7


def echo():
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.connect((addr, 7))
    sent = got = 0
    outstanding = set()
    while got < count:
        # One alone first: Linux holds what waits for neighbour resolution
        # in 212992 bytes (unres_qlen_bytes), less than a window.
        while sent < count and len(outstanding) < (window if got else 1):
            s.send(payload(sent))
            outstanding.add(sent)
            sent += 1
        r, _, _ = select.select([s], [], [], WAIT)
        if not r:
            fail("echo: %d of %d came back, %d unanswered for %.0f s (first: %s)"
                 % (got, count, len(outstanding), WAIT, sorted(outstanding)[:5]))
        while True:
            try:
                data = s.recv(2048, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            i = int(data.split(b":", 1)[0])
            if i not in outstanding or data != payload(i):
                fail("echo: datagram %d came back wrong or twice" % i)
            outstanding.discard(i)
            got += 1
    print("echo: %d datagrams, window %d: all came back intact" % (count, window), flush=True)


def chargen():
    pat = b"".join(bytes(32 + (l + c) % 95 for c in range(72)) + b"\r\n" for l in range(95))
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.connect((addr, 19))
    lens = []
    for i in range(20):
        s.send(b"x" * i)
        r, _, _ = select.select([s], [], [], WAIT)
        if not r:
            fail("chargen: no answer to datagram %d" % i)
        data = s.recv(2048)
        starts = [k * 74 for k in range(95)]
        if len(data) > 512 or not any((pat * 2)[k:k + len(data)] == data for k in starts):
            fail("chargen: answer %d (%d bytes) is not the start of an RFC 864 line: %r"
                 % (i, len(data), data[:80]))
        lens.append(len(data))
    print("chargen: 20 answers of %d to %d bytes, each the start of an RFC 864 line"
          % (min(lens), max(lens)), flush=True)


def discard():
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", 0))
    for i in range(20):
        s.sendto(b"discard me %d" % i, (addr, 9))
    s.sendto(b"after discard", (addr, 7))
    while True:
        r, _, _ = select.select([s], [], [], WAIT)
        if not r:
            fail("discard: no echo of the datagram sent after them")
        data, src = s.recvfrom(2048)
        if src[1] == 9:
            fail("discard: an answer from port 9: %r" % data)
        if src[1] == 7 and data == b"after discard":
            break
    print("discard: 20 datagrams, no answer (the echo sent after them came back first)",
          flush=True)


echo()
chargen()
discard()
