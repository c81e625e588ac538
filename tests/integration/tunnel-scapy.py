#!/usr/bin/python3
"""scapy as the far end of sonded's tunnels: a second implementation of
IPIP (RFC 2003), 6in4 (RFC 4213), IPv6 tunnels (RFC 2473) and GRE (RFC
2784/2890), independent of Linux's.

    tunnel-scapy.py seed IFACE SONDED_MAC
        one TCP SYN to sonded's port 8080 through ip.tun0 (ipip), its
        SYN-ACK awaited, then a RST: the packets of the seed's tunnel trace
    tunnel-scapy.py cases IFACE SONDED_MAC
        for each mode an echo request in the mode's encapsulation: the
        answer's outer headers rebuilt by scapy around sonde's inner packet
        must be the same bytes (addresses, TTL 64, TOS or traffic class
        and DF copied from the inner packet, the RFC 2473 option, the GRE
        key), the inner answer a valid echo reply; then the hostile ones,
        each followed by an echo that must still be answered

Prints one line per check, "ok ..." or "FAIL ...", and exits 1 if any
failed.  The addresses are tunnel-scapy.sh's.
"""
import socket
import sys

from scapy.all import (GRE, ICMP, IP, TCP, UDP, Ether, ICMPv6EchoReply,
                       ICMPv6EchoRequest, ICMPv6PacketTooBig, ICMPv6ParamProblem, IPv6, IPv6ExtHdrDestOpt,
                       PadN, HBHOptUnknown, Raw, conf, sendp)

from scapy_peer import Peer

conf.verb = 0
mode, iface, smac = sys.argv[1:4]
ME, PEER, ME6, PEER6 = "10.96.0.2", "10.96.0.1", "fd00:96::2", "fd00:96::1"
ME6B, PEER6B = "fd00:96::12", "fd00:96::11"
SCAPY = Peer(iface, smac)
# The peer's kernel has no tunnel drivers: it would answer sonded's outer
# packets with protocol unreachable (or parameter problem), noise in the
# trace.  A raw socket of each protocol takes them instead (Linux sends
# that error only when no raw socket wanted the packet).
RAW = [socket.socket(af, socket.SOCK_RAW, proto)
       for af in (socket.AF_INET, socket.AF_INET6) for proto in (4, 41, 47)]


def say(ok, what):
    SCAPY.say(ok, what)


def exchange(frame, want, timeout=2.0):
    return SCAPY.exchange(frame, want, timeout)


def eth(pkt):
    return Ether(dst=smac) / pkt


def tel_opt(limit):
    # RFC 2473 4.1.1: a destination options header, the limit padded to 8.
    return IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=4, optdata=bytes([limit])),
                                      PadN(optdata=b"\x00")])


# The modes: (name, outer builder, inner family, inner sonded, inner peer)
def o_ip6(src, dst, tel=None, gre=None):
    def build(inner):
        p = IPv6(src=src, dst=dst)
        if tel is not None:
            p = p / tel_opt(tel)
        if gre is not None:
            p = p / gre
        return p / inner
    return build


MODES = [
    ("ipip", lambda i: IP(src=PEER, dst=ME) / i, 4, "192.168.20.2", "192.168.20.1"),
    ("sit", lambda i: IP(src=PEER, dst=ME) / i, 6, "fd20:1::2", "fd20:1::1"),
    ("ip6ip6", o_ip6(PEER6, ME6, tel=4), 6, "fd20:2::2", "fd20:2::1"),
    ("ip6ip6-no-limit", o_ip6(PEER6, ME6), 6, "fd20:2::2", "fd20:2::1"),
    ("ipip6", o_ip6(PEER6B, ME6B), 4, "192.168.22.2", "192.168.22.1"),
    ("gre", lambda i: IP(src=PEER, dst=ME) / GRE(proto=0x0800 if IP in i else 0x86dd) / i,
     4, "192.168.23.2", "192.168.23.1"),
    ("gre-v6", lambda i: IP(src=PEER, dst=ME) / GRE(proto=0x86dd) / i, 6, "fd20:3::2", "fd20:3::1"),
    ("gre-key", lambda i: IP(src=PEER, dst=ME) / GRE(key_present=1, key=7, proto=0x0800) / i,
     4, "192.168.24.2", "192.168.24.1"),
    ("ip6gre", o_ip6(PEER6, ME6, gre=GRE(proto=0x0800)), 4, "192.168.25.2", "192.168.25.1"),
]


def echo(iaf, src, dst, ident, seq, tos=0):
    if iaf == 4:
        return IP(src=src, dst=dst, tos=tos, flags="DF" if tos & 4 else 0) / ICMP(id=ident, seq=seq) / Raw(b"sonde-tunnel")
    return IPv6(src=src, dst=dst, tc=tos) / ICMPv6EchoRequest(id=ident, seq=seq, data=b"sonde-tunnel")


def outer_of(name, iaf, inner_bytes, got):
    """What sonde's answer must be, as scapy builds it around sonde's own
    inner packet (its id taken from the answer: sonde's counter)."""
    inner_tos = inner_bytes[1] if iaf == 4 else ((inner_bytes[0] & 0xf) << 4 | inner_bytes[1] >> 4)
    df = "DF" if iaf == 6 or (iaf == 4 and inner_bytes[6] & 0x40) else 0
    if name in ("ipip", "sit", "gre", "gre-v6", "gre-key"):
        o = IP(src=ME, dst=PEER, ttl=64, tos=inner_tos, id=got[IP].id, flags=df)
        if name.startswith("gre"):
            o = o / GRE(proto=0x0800 if iaf == 4 else 0x86dd,
                        **({"key_present": 1, "key": 7} if name == "gre-key" else {}))
        else:
            o.proto = 4 if iaf == 4 else 41
        return bytes(o / Raw(inner_bytes))
    # IPv6 outside: Linux's default limit, 4, in front.
    src, dst = (ME6B, PEER6B) if name == "ipip6" else (ME6, PEER6)
    o = IPv6(src=src, dst=dst, hlim=64, tc=inner_tos, fl=0) / tel_opt(4)
    if name == "ip6gre":
        o = o / GRE(proto=0x0800)
    else:
        o[IPv6ExtHdrDestOpt].nh = 4 if iaf == 4 else 41
    return bytes(o / Raw(inner_bytes))


def strip_outer(name, got):
    """sonde's inner packet: the bytes after its outer headers."""
    b = bytes(got[Ether].payload)
    if b[0] >> 4 == 4:
        off = (b[0] & 0xf) * 4
        proto = b[9]
    else:
        off, proto = 40, b[6]
        if proto == 60:
            proto, off = b[40], 40 + 8 * (b[41] + 1)
    if proto == 47:
        fl = b[off] << 8 | b[off + 1]
        off += 8 if fl & 0x2000 else 4
    return b[off:]


def ping(m, seq, tos=0, quiet=False):
    name, outer, iaf, me_in, peer_in = m
    req = echo(iaf, peer_in, me_in, 0x7e, seq, tos)

    def is_reply(p):
        b = bytes(p[Ether].payload)
        return (IP in p and p[IP].dst == PEER and p[IP].proto in (4, 41, 47)) or \
            (IPv6 in p and p[IPv6].dst in (PEER6, PEER6B) and p[IPv6].nh in (4, 41, 47, 60) and
             len(b) > 48 and not (p[IPv6].nh == 60 and b[40] == 58))
    got = exchange(eth(outer(req)), is_reply)
    if got is None:
        say(False, f"{name}: echo {seq} answered through the tunnel")
        return False
    inner = strip_outer(name, got)
    ip = IP(inner) if iaf == 4 else IPv6(inner)
    good = (ICMP in ip and ip[ICMP].type == 0 and ip[ICMP].id == 0x7e and ip[ICMP].seq == seq) if iaf == 4 \
        else (ICMPv6EchoReply in ip and ip[ICMPv6EchoReply].id == 0x7e and ip[ICMPv6EchoReply].seq == seq)
    # Checksums as scapy computes them.
    re = ip.copy()
    if iaf == 4:
        del re[IP].chksum
        del re[ICMP].chksum
    else:
        del re[ICMPv6EchoReply].cksum
    good = good and bytes(re.__class__(bytes(re))) == inner
    if not quiet:
        say(good, f"{name}: echo {seq} answered through the tunnel, inner reply valid "
                  f"({ip.src} -> {ip.dst})")
        want = outer_of(name, iaf, inner, got)
        say(bytes(got[Ether].payload) == want,
            f"{name}: outer headers byte for byte as scapy builds them (tos 0x{tos:02x})")
        if bytes(got[Ether].payload) != want:
            print("    sonde: " + bytes(got[Ether].payload)[:64].hex(), flush=True)
            print("    scapy: " + want[:64].hex(), flush=True)
    return good


def hostile(m, what, frame, then_seq):
    """Sends frame (to be dropped), then an echo through m that must be
    answered: the tunnel keeps working (and sonded, which takes frames in
    order, has seen the first by then: its drop is counted)."""
    sendp(frame, iface=iface)
    print(f"sent {what}", flush=True)
    say(ping(m, then_seq, quiet=True), f"{m[0]}: still answers after {what}")


if mode == "seed":
    m = MODES[0]
    syn = IP(src=m[4], dst=m[3]) / TCP(sport=40000, dport=8080, flags="S", seq=1000,
                                        options=[("MSS", 1400)])
    got = exchange(eth(m[1](syn)), lambda p: IP in p and p[IP].proto == 4)
    ok = got is not None and TCP in got and got[TCP].flags == "SA"
    say(ok, "ipip: SYN to 192.168.20.2:8080 answered by a SYN-ACK through the tunnel")
    if ok:
        rst = IP(src=m[4], dst=m[3]) / TCP(sport=40000, dport=8080, flags="R",
                                            seq=1001)
        sendp(eth(m[1](rst)), iface=iface)
    sys.exit(1 if SCAPY.failed else 0)

seq = 1
for m in MODES:
    ping(m, seq)
    seq += 1
# TOS / traffic class and ECN copied outward (RFC 2003 3.1, RFC 6040 4.1),
# DF copied from the inner header (0x04 here asks echo() for DF).
ping(MODES[0], seq, tos=0xb8 | 0x04 | 0x02)
seq += 1
ping(MODES[2], seq, tos=0xb8 | 0x01)
seq += 1

ipip, gre_key = MODES[0], MODES[7]
inner = echo(4, "192.168.20.1", "192.168.20.2", 0x7f, 1)
hostile(gre_key, "tunnel-wrong-key",
        eth(IP(src=PEER, dst=ME) / GRE(key_present=1, key=8, proto=0x0800) /
            echo(4, "192.168.24.1", "192.168.24.2", 0x7f, 1)), seq)
seq += 1
hostile(ipip, "tunnel-wrong-source", eth(IP(src="10.96.0.9", dst=ME) / inner), seq)
seq += 1
hostile(ipip, "tunnel-inner-truncated", eth(IP(src=PEER, dst=ME, proto=4) / Raw(bytes(inner)[:12])), seq)
seq += 1
hostile(ipip, "tunnel-inner-bad-version",
        eth(IP(src=PEER, dst=ME, proto=4) / Raw(b"\x65" + bytes(inner)[1:])), seq)
seq += 1
hostile(MODES[5], "gre-checksum-unsupported",
        eth(IP(src=PEER, dst=ME) / GRE(chksum_present=1, proto=0x0800) /
            echo(4, "192.168.23.1", "192.168.23.2", 0x7f, 1)), seq)
seq += 1
hostile(MODES[5], "gre-sequence-unsupported",
        eth(IP(src=PEER, dst=ME) / GRE(seqnum_present=1, seqence_number=5, proto=0x0800) /
            echo(4, "192.168.23.1", "192.168.23.2", 0x7f, 1)), seq)
seq += 1
# Five IPIP headers, one in the other: four are taken off, the fifth is
# too deep.
nest = inner
for _ in range(5):
    nest = IP(src=PEER, dst=ME) / nest
hostile(ipip, "tunnel-too-deep", eth(nest), seq)
seq += 1
# Forwarded into ip.loop, whose remote end is routed through itself.
hostile(ipip, "tunnel-loop", eth(IP(src=PEER, dst="10.201.0.1") / ICMP(id=0x80, seq=1)), seq)
seq += 1
# RFC 2473 4.1.1: a packet with a limit of 0 is not put in another IPv6
# tunnel; parameter problem to its source, pointing at the limit.
pp = exchange(eth(IPv6(src=PEER6, dst="fd30::5") / tel_opt(0) / ICMPv6EchoRequest(id=0x81)),
              lambda p: ICMPv6ParamProblem in p)
print("sent tunnel-encap-limit", flush=True)
say(pp is not None and pp[ICMPv6ParamProblem].code == 0 and pp[ICMPv6ParamProblem].ptr == 44,
    "an encapsulation limit of 0 refused: ICMPv6 parameter problem, pointer 44 (the limit)")
say(ping(MODES[2], seq, quiet=True), "ip6ip6: still answers after tunnel-encap-limit")
seq += 1

# RFC 2003 4.1: a router on the tunnel's path refuses an outer packet
# (fragmentation needed, MTU 1300) and quotes it (RFC 1812 4.3.2.3: more
# than 8 bytes).  Its inner packet was ours, forwarded by sonded into
# ip.tun0: sonded tells us, fragmentation needed with the tunnel's new MTU
# (1300 less the 20-byte outer header), from the tunnel's address.
inner = IP(src=PEER, dst="192.168.20.1", flags="DF") / UDP(sport=5000, dport=9) / Raw(b"m" * 100)
outer = exchange(eth(inner), lambda p: IP in p and p[IP].proto == 4 and p[IP].dst == PEER and
                 bytes(p[IP].payload)[9] == 17)
say(outer is not None, "a UDP packet forwarded into ip.tun0 (the outer packet caught)")
if outer is not None:
    icmp = IP(src=PEER, dst=ME) / ICMP(type=3, code=4, nexthopmtu=1300) / Raw(bytes(outer[IP])[:20 + 20 + 8 + 32])
    rel = exchange(eth(icmp), lambda p: IP in p and ICMP in p and p[IP].src == "192.168.20.2" and
                   p[ICMP].type == 3)
    say(rel is not None and rel[ICMP].code == 4 and rel[ICMP].nexthopmtu == 1280 and
        rel[IP].dst == PEER and bytes(rel[ICMP].payload)[16:20] == bytes([192, 168, 20, 1]),
        "relayed to the inner sender: fragmentation needed, MTU 1280, quoting its packet (RFC 2003 4.1)")
    big = IP(src=PEER, dst="192.168.20.1", flags="DF") / UDP(sport=5000, dport=9) / Raw(b"m" * 1272)
    fn = exchange(eth(big), lambda p: IP in p and ICMP in p and p[ICMP].type == 3)
    say(fn is not None and fn[ICMP].code == 4 and fn[ICMP].nexthopmtu == 1280,
        "ip.tun0's MTU is 1280 now: a 1300-byte packet with DF refused, fragmentation needed 1280")

# RFC 2473 8.2: the same over IPv6, packet too big (MTU 1400) about an
# ip6ip6 outer packet (48 bytes of headers with the encapsulation limit
# option): packet too big, 1352, to the inner sender.
inner6 = IPv6(src=PEER6, dst="fd20:2::1") / UDP(sport=5000, dport=9) / Raw(b"m" * 100)
outer6 = exchange(eth(inner6), lambda p: IPv6 in p and p[IPv6].dst == PEER6 and p[IPv6].nh == 60 and
                  UDP in p)
say(outer6 is not None, "a UDP packet forwarded into ip.6in6 (the outer packet caught)")
if outer6 is not None:
    ptb = IPv6(src=PEER6, dst=ME6) / ICMPv6PacketTooBig(mtu=1400) / Raw(bytes(outer6[IPv6]))
    rel6 = exchange(eth(ptb), lambda p: ICMPv6PacketTooBig in p and p[IPv6].src == "fd20:2::2")
    say(rel6 is not None and rel6[ICMPv6PacketTooBig].mtu == 1352 and rel6[IPv6].dst == PEER6,
        "relayed to the inner sender: packet too big, MTU 1352 (RFC 2473 8.2)")
sys.exit(1 if SCAPY.failed else 0)
