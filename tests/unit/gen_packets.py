#!/usr/bin/python3
# gen_packets.py: writes the reference frames of packets.h (and a pcap of
# them, to check with tshark).  Run once by hand; the output is committed:
#   /usr/bin/python3 tests/unit/gen_packets.py tests/unit/packets.h /tmp/unit.pcap
#   tshark -r /tmp/unit.pcap -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
#          -o icmp.check_checksum:TRUE -V
# Addresses: the stack is 10.0.0.1 (02:00:00:00:00:01) on test0 and
# 10.1.0.1 (02:00:00:00:01:01) on test1; host A is 10.0.0.2 (02:00:00:00:00:02),
# host B 10.1.0.2 (02:00:00:00:01:02), router R 10.1.0.254 (02:00:00:00:01:fe).
# IPv6: the stack is fe80::ff:fe00:1 and fd00::1 on test0, host A
# fe80::ff:fe00:2 and fd00::2; fd01::/64 lies beyond A, a router.
import sys

from scapy.all import (ARP, ICMP, IP, UDP, Ether, IPOption_Router_Alert, Raw, wrpcap, fragment,
                       fragment6, IPv6, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrRouting, IPv6ExtHdrFragment, PadN, HBHOptUnknown,
                       ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6NDOptSrcLLAddr,
                       ICMPv6NDOptDstLLAddr, ICMPv6PacketTooBig, ICMPv6DestUnreach,
                       ICMPv6ND_RS, ICMPv6ND_RA)

US0, US1 = "02:00:00:00:00:01", "02:00:00:00:01:01"
A, B, R = "02:00:00:00:00:02", "02:00:00:00:01:02", "02:00:00:00:01:fe"
BCAST = "ff:ff:ff:ff:ff:ff"

# A Linux ping's payload: a 16-byte struct timeval, then 0x10, 0x11, ... 0x37.
ping_payload = bytes.fromhex("5f1c7a6600000000e84a070000000000") + bytes(range(0x10, 0x38))

US_LL, US_G, A_LL, A_G = "fe80::ff:fe00:1", "fd00::1", "fe80::ff:fe00:2", "fd00::2"
SN1, MAC_SN1 = "ff02::1:ff00:1", "33:33:ff:00:00:01"  # our solicited-node group
# A 4000-byte ping payload, for reassembly: every fragment differs.
big_payload = bytes((i * 7 + i // 256) & 0xff for i in range(4000))
padn4 = [PadN(optdata=b"\0" * 4)]


def eth6(dst=US0):
    return Ether(dst=dst, src=A, type=0x86dd)


def echo6(seq, data=ping_payload):
    return ICMPv6EchoRequest(id=0x1234, seq=seq, data=data)


# The 4000-byte pings, whole, then cut as Linux would: IPv4 at MTU 1500,
# IPv6 at the minimum MTU 1280.
big4 = IP(src="10.0.0.2", dst="10.0.0.1", id=0x4242, ttl=64) / ICMP(type=8, id=0x1234, seq=9) / \
    Raw(big_payload)
big6 = IPv6(src=A_G, dst=US_G) / IPv6ExtHdrFragment(id=0x0badcafe) / echo6(9, big_payload)
frags4 = fragment(big4, fragsize=1480)
frags6 = fragment6(big6, 1280)

# UDP echo (RFC 862) on port 7: a datagram of 25 bytes (odd: the checksum's
# trailing byte), and a 3000-byte one cut small (IPv4 at 1200-byte pieces,
# IPv6 at the minimum MTU 1280) so that the echo, cut again at the link's
# 1500, differs from the request in every fragment.
echo_payload = b"sonde udp echo (RFC 862)\n"
big_udp = bytes((i * 13 + i // 256) & 0xff for i in range(3000))
udp_big4 = IP(src="10.0.0.2", dst="10.0.0.1", id=0x5151, ttl=64) / UDP(sport=40001, dport=7) / \
    Raw(big_udp)
udp_big6 = IPv6(src=A_G, dst=US_G) / IPv6ExtHdrFragment(id=0x0e0e0e0e) / \
    UDP(sport=40001, dport=7) / Raw(big_udp)
udp_frags4 = fragment(udp_big4, fragsize=1200)
udp_frags6 = fragment6(udp_big6, 1280)

frames = [
    ("pkt_arp_req",
     "ARP request from A: who-has 10.0.0.1 tell 10.0.0.2",
     Ether(dst=BCAST, src=A) / ARP(op=1, hwsrc=A, psrc="10.0.0.2",
                                   hwdst="00:00:00:00:00:00", pdst="10.0.0.1")),
    ("pkt_arp_reply",
     "ARP reply from A: 10.0.0.2 is-at 02:00:00:00:00:02",
     Ether(dst=US0, src=A) / ARP(op=2, hwsrc=A, psrc="10.0.0.2",
                                 hwdst=US0, pdst="10.0.0.1")),
    ("pkt_echo_req",
     "ICMP echo request A -> 10.0.0.1, id 0x1234 seq 1, 56-byte Linux ping payload, DF",
     Ether(dst=US0, src=A) / IP(src="10.0.0.2", dst="10.0.0.1", id=0x04d2, flags="DF",
                                ttl=64) / ICMP(type=8, id=0x1234, seq=1) / Raw(ping_payload)),
    ("pkt_echo_opt",
     "ICMP echo request A -> 10.0.0.1 with a Router Alert option (IHL 6), id 0x4321 seq 7",
     Ether(dst=US0, src=A) / IP(src="10.0.0.2", dst="10.0.0.1", id=0x0101, ttl=64,
                                options=[IPOption_Router_Alert()]) /
     ICMP(type=8, id=0x4321, seq=7) / Raw(b"sonde-unit-options")),
    ("pkt_udp",
     "UDP A:40000 -> 10.0.0.1:9999, 'hello sonde\\n', checksum set",
     Ether(dst=US0, src=A) / IP(src="10.0.0.2", dst="10.0.0.1", id=0x2222, ttl=64) /
     UDP(sport=40000, dport=9999) / Raw(b"hello sonde\n")),
    ("pkt_fwd_udp",
     "UDP A:5000 -> B 10.1.0.2:6000 through us, TTL 64, 'forward me please'",
     Ether(dst=US0, src=A) / IP(src="10.0.0.2", dst="10.1.0.2", id=0x3333, ttl=64) /
     UDP(sport=5000, dport=6000) / Raw(b"forward me please")),
    ("pkt_arp_req_b",
     "ARP request from B on test1: who-has 10.1.0.1 tell 10.1.0.2",
     Ether(dst=BCAST, src=B) / ARP(op=1, hwsrc=B, psrc="10.1.0.2",
                                   hwdst="00:00:00:00:00:00", pdst="10.1.0.1")),
    ("pkt_arp_req_r",
     "ARP request from router R on test1: who-has 10.1.0.1 tell 10.1.0.254",
     Ether(dst=BCAST, src=R) / ARP(op=1, hwsrc=R, psrc="10.1.0.254",
                                   hwdst="00:00:00:00:00:00", pdst="10.1.0.1")),
    ("pkt6_ns",
     "NS from A fd00::2 to ff02::1:ff00:1 for fd00::1, SLLAO 02:00:00:00:00:02",
     eth6(MAC_SN1) / IPv6(src=A_G, dst=SN1, hlim=255) / ICMPv6ND_NS(tgt=US_G) /
     ICMPv6NDOptSrcLLAddr(lladdr=A)),
    ("pkt6_ns_dad",
     "DAD probe from another node: NS from :: to ff02::1:ff00:1 for fd00::1, no option",
     eth6(MAC_SN1) / IPv6(src="::", dst=SN1, hlim=255) / ICMPv6ND_NS(tgt=US_G)),
    ("pkt6_na",
     "Solicited NA from A fd00::2 to fd00::1: fd00::2 is-at 02:00:00:00:00:02, S and O",
     eth6() / IPv6(src=A_G, dst=US_G, hlim=255) / ICMPv6ND_NA(tgt=A_G, R=0, S=1, O=1) /
     ICMPv6NDOptDstLLAddr(lladdr=A)),
    ("pkt6_echo_req",
     "ICMPv6 echo request A fd00::2 -> fd00::1, id 0x1234 seq 1, 56-byte Linux ping payload",
     eth6() / IPv6(src=A_G, dst=US_G) / echo6(1)),
    ("pkt6_udp",
     "UDP A [fd00::2]:40000 -> [fd00::1]:9999, 'hello sonde\\n'",
     eth6() / IPv6(src=A_G, dst=US_G) / UDP(sport=40000, dport=9999) / Raw(b"hello sonde\n")),
    ("pkt6_echo_hbh",
     "echo request A -> fd00::1 behind a Hop-by-Hop header (PadN), seq 2",
     eth6() / IPv6(src=A_G, dst=US_G) / IPv6ExtHdrHopByHop(options=padn4) / echo6(2)),
    ("pkt6_echo_dst",
     "echo request A -> fd00::1 behind a Destination Options header (PadN), seq 3",
     eth6() / IPv6(src=A_G, dst=US_G) / IPv6ExtHdrDestOpt(options=padn4) / echo6(3)),
    ("pkt6_echo_rh",
     "echo request A -> fd00::1 behind a type 0 Routing header, segments left 0, seq 4",
     eth6() / IPv6(src=A_G, dst=US_G) / IPv6ExtHdrRouting(type=0, segleft=0, addresses=[]) /
     echo6(4)),
    ("pkt6_echo_atomic",
     "echo request A -> fd00::1 in an atomic fragment (RFC 6946: offset 0, M 0), seq 5",
     eth6() / IPv6(src=A_G, dst=US_G) / IPv6ExtHdrFragment(offset=0, m=0, id=0x5a5a5a5a) /
     echo6(5)),
    ("pkt6_echo_chain",
     "echo request A -> fd00::1 behind HBH, DST, RH (type 0, 0 left), atomic fragment, DST (RFC 8200 4.1 order), seq 6",
     eth6() / IPv6(src=A_G, dst=US_G) / IPv6ExtHdrHopByHop(options=padn4) /
     IPv6ExtHdrDestOpt(options=padn4) / IPv6ExtHdrRouting(type=0, segleft=0, addresses=[]) /
     IPv6ExtHdrFragment(offset=0, m=0, id=0x6b6b6b6b) / IPv6ExtHdrDestOpt(options=padn4) /
     echo6(6)),
    ("pkt6_nonxt",
     "A -> fd00::1: a Destination Options header, then No Next Header and 8 bytes to ignore",
     eth6() / IPv6(src=A_G, dst=US_G) / IPv6ExtHdrDestOpt(nh=59, options=padn4) /
     Raw(b"ignoreme")),
    ("pkt6_hbh_second",
     "echo request A -> fd00::1: Destination Options, then Hop-by-Hop (not first), seq 7",
     eth6() / IPv6(src=A_G, dst=US_G) / IPv6ExtHdrDestOpt(options=padn4) /
     IPv6ExtHdrHopByHop(options=padn4) / echo6(7)),
    ("pkt6_rh0",
     "echo request A -> fd00::1 with a type 0 Routing header, 1 segment left (fd00::9), seq 8",
     eth6() / IPv6(src=A_G, dst=US_G) / IPv6ExtHdrRouting(type=0, segleft=1, addresses=["fd00::9"]) /
     echo6(8)),
    ("pkt6_opt",
     "echo request A -> fd00::1, Destination Options with unknown option 0x1e (action 00), seq 10",
     eth6() / IPv6(src=A_G, dst=US_G) /
     IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1e, optdata=b"\0" * 4)]) / echo6(10)),
    ("pkt6_proto253",
     "A -> fd00::1, next header 253 (experimental, unknown here), 16 bytes",
     eth6() / IPv6(src=A_G, dst=US_G, nh=253) / Raw(b"experiment-253!!")),
    ("pkt6_dst_proto253",
     "A -> fd00::1, Destination Options then next header 253, 16 bytes",
     eth6() / IPv6(src=A_G, dst=US_G) / IPv6ExtHdrDestOpt(nh=253, options=padn4) /
     Raw(b"experiment-253!!")),
    ("pkt6_tiny_frag",
     "A -> fd00::1, first fragment (M 1) holding only 8 bytes of a 16-byte Destination Options header (RFC 7112)",
     eth6() / IPv6(src=A_G, dst=US_G) / IPv6ExtHdrFragment(nh=60, offset=0, m=1, id=0x7c7c7c7c) /
     Raw(bytes([58, 1, 1, 12, 0, 0, 0, 0]))),
    ("pkt6_ptb",
     "Packet Too Big from router A fd00::2, MTU 1400, quoting our 1500-byte echo to fd01::5 (1232 bytes of it)",
     eth6() / IPv6(src=A_G, dst=US_G) / ICMPv6PacketTooBig(mtu=1400) /
     Raw(bytes(IPv6(src=US_G, dst="fd01::5") /
               ICMPv6EchoRequest(id=0x5eed, seq=1, data=(bytes(range(256)) * 6)[:1452]))[:1232])),
    ("pkt6_err_chain",
     "Destination Unreachable from A to fd00::1 behind a 16-byte HBH (option 0x1e, 10 bytes), an atomic fragment and a Destination Options header with option 0x9e (action 10)",
     eth6() / IPv6(src=A_G, dst=US_G) /
     IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x1e, optdata=b"A" * 10), PadN(optdata=b"")]) /
     IPv6ExtHdrFragment(offset=0, m=0, id=0x1d1d1d1d) /
     IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x9e, optdata=b"\0" * 4)]) /
     ICMPv6DestUnreach(code=4) / IPv6(src=US_G, dst=A_G) / UDP(sport=9999, dport=40000)),
    ("pkt6_rs",
     "Router Solicitation from A fe80::ff:fe00:2 to ff02::2",
     eth6("33:33:00:00:00:02") / IPv6(src=A_LL, dst="ff02::2", hlim=255) / ICMPv6ND_RS()),
    ("pkt6_ra",
     "Router Advertisement from A fe80::ff:fe00:2 to ff02::1, lifetime 1800 s",
     eth6("33:33:00:00:00:01") / IPv6(src=A_LL, dst="ff02::1", hlim=255) /
     ICMPv6ND_RA(routerlifetime=1800)),
] + [
    ("pkt_big_f%d" % (i + 1),
     "fragment %d of 3 of a 4000-byte ICMP echo A -> 10.0.0.1, id 0x4242, seq 9" % (i + 1),
     Ether(dst=US0, src=A) / f) for i, f in enumerate(frags4)
] + [
    ("pkt6_big_f%d" % (i + 1),
     "fragment %d of 4 of a 4000-byte ICMPv6 echo A -> fd00::1, ident 0x0badcafe, seq 9" % (i + 1),
     eth6() / f) for i, f in enumerate(frags6)
] + [
    ("pkt_udp_echo",
     "UDP A:40000 -> 10.0.0.1:7 (echo, RFC 862), 25-byte payload, checksum set",
     Ether(dst=US0, src=A) / IP(src="10.0.0.2", dst="10.0.0.1", id=0x4444, ttl=64) /
     UDP(sport=40000, dport=7) / Raw(echo_payload)),
    ("pkt6_udp_echo",
     "UDP A [fd00::2]:40000 -> [fd00::1]:7 (echo, RFC 862), 25-byte payload",
     eth6() / IPv6(src=A_G, dst=US_G) / UDP(sport=40000, dport=7) / Raw(echo_payload)),
] + [
    ("pkt_udp_big_f%d" % (i + 1),
     "fragment %d of 3 of a 3008-byte UDP datagram A:40001 -> 10.0.0.1:7, id 0x5151, cut at 1200" % (i + 1),
     Ether(dst=US0, src=A) / f) for i, f in enumerate(udp_frags4)
] + [
    ("pkt6_udp_big_f%d" % (i + 1),
     "fragment %d of 3 of a 3008-byte UDP datagram [fd00::2]:40001 -> [fd00::1]:7, ident 0x0e0e0e0e" % (i + 1),
     eth6() / f) for i, f in enumerate(udp_frags6)
]


def c_array(name, comment, data):
    out = ["/* %s (%d bytes) */" % (comment, len(data)),
           "static const uint8_t %s[] = {" % name]
    for i in range(0, len(data), 14):
        out.append("\t" + " ".join("0x%02x," % b for b in data[i:i + 14]))
    out.append("};")
    return "\n".join(out)


def main():
    hdr = [
        "/*",
        " * packets.h: reference frames for the unit tests, made by gen_packets.py",
        " * with scapy and checked with tshark (every checksum \"good\", no expert",
        " * warnings).  Do not edit by hand: change gen_packets.py and rerun it.",
        " * Fourteen bytes a line: the first line of each frame is its Ethernet",
        " * header.",
        " */",
        "#ifndef SONDE_UNIT_PACKETS_H",
        "#define SONDE_UNIT_PACKETS_H",
        "",
        "#include <stdint.h>",
        "",
        "/* clang-format off */",
        "",
    ]
    pkts = []
    for name, comment, f in frames:
        data = bytes(f)
        hdr.append(c_array(name, comment, data))
        hdr.append("")
        pkts.append(f)
    hdr.append("/* clang-format on */")
    hdr.append("")
    hdr.append("#endif")
    with open(sys.argv[1], "w") as fp:
        fp.write("\n".join(hdr) + "\n")
    if len(sys.argv) > 2:
        wrpcap(sys.argv[2], pkts)


main()
