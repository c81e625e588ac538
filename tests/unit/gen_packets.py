#!/usr/bin/python3
# gen_packets.py: writes the reference frames of packets.h (and a pcap of
# them, to check with tshark).  Run once by hand; the output is committed:
#   /usr/bin/python3 tests/unit/gen_packets.py tests/unit/packets.h /tmp/unit.pcap
#   tshark -r /tmp/unit.pcap -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
#          -o icmp.check_checksum:TRUE -V
# Addresses: the stack is 10.0.0.1 (02:00:00:00:00:01) on test0 and
# 10.1.0.1 (02:00:00:00:01:01) on test1; host A is 10.0.0.2 (02:00:00:00:00:02),
# host B 10.1.0.2 (02:00:00:00:01:02), router R 10.1.0.254 (02:00:00:00:01:fe).
import sys

from scapy.all import ARP, ICMP, IP, UDP, Ether, IPOption_Router_Alert, Raw, wrpcap

US0, US1 = "02:00:00:00:00:01", "02:00:00:00:01:01"
A, B, R = "02:00:00:00:00:02", "02:00:00:00:01:02", "02:00:00:00:01:fe"
BCAST = "ff:ff:ff:ff:ff:ff"

# A Linux ping's payload: a 16-byte struct timeval, then 0x10, 0x11, ... 0x37.
ping_payload = bytes.fromhex("5f1c7a6600000000e84a070000000000") + bytes(range(0x10, 0x38))

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
