#!/usr/bin/python3
"""scapy's ESP (RFC 4303, AES-GCM RFC 4106, in UDP RFC 3948) as the far end
of sonded's ESP tunnel ip.esp (esp-scapy.sh's addresses and SAs): a second
implementation, independent of Linux's XFRM.

    esp-scapy.py seed IFACE SONDED_MAC
        one TCP SYN to sonded's port 8080 through the tunnel, its SYN-ACK
        decrypted and checked, then a RST: the seed's ipio03 case
    esp-scapy.py cases IFACE SONDED_MAC
        echoes through the tunnel, each answer decrypted by scapy with the
        same SA and its headers checked (UDP 4500 to 4500, checksum 0, the
        SPI, sequence numbers 1, 2, 3...); then the hostile ones (a replay,
        a wrong key, a changed byte, an unknown SPI, a truncated packet,
        the non-ESP marker, plain IPIP to the ESP tunnel), each followed by
        an echo that must still be answered; a NAT keepalive sent

Prints "ok ..." or "FAIL ..." per check; exits 1 if any failed.
"""
import socket
import sys
import threading

from scapy.all import (ICMP, IP, TCP, UDP, AsyncSniffer, Ether, Raw, conf, sendp)
from scapy.layers.ipsec import ESP, SecurityAssociation

from scapy_peer import Peer

conf.verb = 0
mode, iface, smac = sys.argv[1:4]
ME, PEER = "10.97.0.2", "10.97.0.1"
T_ME, T_PEER = "192.168.30.2", "192.168.30.1"
# esp-scapy.sh's SA file: sonded's "in" is ours out, and the other way.
KEY_IN = bytes.fromhex("000102030405060708090a0b0c0d0e0f10111213")   # to sonded
KEY_OUT = bytes.fromhex("f0e1d2c3b4a5968778695a4b3c2d1e0f0a0b0c0d")  # from sonded
SPI_IN, SPI_OUT = 0x2002, 0x1001


def sa(spi, key, seq=1):
    return SecurityAssociation(ESP, spi=spi, seq_num=seq, crypt_algo="AES-GCM", crypt_key=key,
                               tunnel_header=IP(src=PEER, dst=ME),
                               nat_t_header=UDP(sport=4500, dport=4500))


class SA:
    """scapy's SecurityAssociation; encrypt() with the UDP length right
    (scapy 2.5 leaves the NAT-T header's at 8: sonded would drop that as
    esp-truncated) and its checksum 0, as RFC 3948 2.1 has it."""

    def __init__(self, spi, key, seq=1):
        self.sa = sa(spi, key, seq)

    def encrypt(self, pkt):
        e = self.sa.encrypt(pkt)
        e[UDP].len = len(bytes(e[UDP]))
        e[UDP].chksum = 0
        return e

    def decrypt(self, pkt):
        return self.sa.decrypt(pkt)


# The seed's run sends sequence numbers 1 and 2; the cases' go on from
# 100 (sonded's window would take a second 1 for a replay).
to_sonded = SA(SPI_IN, KEY_IN, 1 if mode == "seed" else 100)
from_sonded = SA(SPI_OUT, KEY_OUT)
SCAPY = Peer(iface, smac)
# Linux in the peer namespace would answer sonded's UDP 4500 with port
# unreachable: a socket on the port takes them instead.
HOLD = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
HOLD.bind((PEER, 4500))


def say(ok, what):
    SCAPY.say(ok, what)


def exchange(frame, want, timeout=2.0):
    return SCAPY.exchange(frame, want, timeout)


def is_esp(p):
    return IP in p and p[IP].src == ME and UDP in p and p[UDP].sport == 4500 and \
        len(p[UDP].payload) > 1


def eth(pkt):
    return Ether(dst=smac) / pkt


def decrypt(got):
    """sonde's ESP packet decrypted by scapy: the inner packet, or None."""
    try:  # on a copy: scapy's decrypt takes the UDP header off in place
        return from_sonded.decrypt(IP(bytes(got[IP])))
    except Exception as e:  # an ICV that does not verify, a bad trailer
        print(f"    scapy could not decrypt: {e!r}", flush=True)
        return None


last_seq = None


def ping(seq, quiet=False, sa_=None):
    global last_seq
    req = IP(src=T_PEER, dst=T_ME) / ICMP(id=0x7e, seq=seq) / Raw(b"sonde-esp")

    def answer(p):  # the answer to this echo (not a late one to another)
        if not is_esp(p):
            return False
        i = decrypt(p)
        return i is not None and ICMP in i and i[ICMP].id == 0x7e and i[ICMP].seq == seq
    got = exchange(eth((sa_ or to_sonded).encrypt(req)), answer)
    if got is None:
        say(False, f"echo {seq} answered through the ESP tunnel")
        return False
    inner = decrypt(got)
    good = inner is not None and ICMP in inner and inner[ICMP].type == 0 and \
        inner[ICMP].seq == seq and inner[IP].src == T_ME and inner[IP].dst == T_PEER
    esp = bytes(got[UDP].payload)
    spi, esq = int.from_bytes(esp[:4], "big"), int.from_bytes(esp[4:8], "big")
    if not quiet:
        say(good, f"echo {seq}: scapy decrypts sonde's ESP, the inner echo reply valid")
        say(got[UDP].dport == 4500 and got[UDP].chksum == 0 and got[IP].proto == 17,
            "UDP 4500 to 4500, checksum 0 (RFC 3948 2.1)")
        say(spi == SPI_OUT and (last_seq is None or esq == last_seq + 1),
            f"SPI 0x{spi:x}, sequence number {esq} (the one before: {last_seq})")
        # RFC 4303 2.4: ciphertext padded to 4; 8 IV + 16 ICV (RFC 4106).
        say((len(esp) - 8 - 8 - 16) % 4 == 0 and len(esp) - 32 >= len(bytes(inner or b"")) + 2,
            f"ESP length {len(esp)}: header, IV, the inner packet padded to 4, ICV")
    last_seq = esq
    return good


def hostile(what, frame, then_seq):
    sendp(frame, iface=iface)
    print(f"sent {what}", flush=True)
    say(ping(then_seq, quiet=True), f"still answers after {what}")


if mode == "seed":
    syn = IP(src=T_PEER, dst=T_ME) / TCP(sport=40000, dport=8080, flags="S", seq=1000,
                                          options=[("MSS", 1400)])
    got = exchange(eth(to_sonded.encrypt(syn)), is_esp)
    inner = decrypt(got) if got is not None else None
    ok = inner is not None and TCP in inner and inner[TCP].flags == "SA"
    say(ok, "SYN to 192.168.30.2:8080 in ESP answered by a SYN-ACK in ESP, scapy decrypts it")
    if ok:
        rst = IP(src=T_PEER, dst=T_ME) / TCP(sport=40000, dport=8080, flags="R", seq=1001)
        sendp(eth(to_sonded.encrypt(rst)), iface=iface)
    sys.exit(1 if SCAPY.failed else 0)

seq = 1
for _ in range(3):
    ping(seq)
    seq += 1

req = IP(src=T_PEER, dst=T_ME) / ICMP(id=0x7f, seq=1)
once = eth(to_sonded.encrypt(req))
sendp(once, iface=iface)
hostile("esp-replay", once, seq)
seq += 1
hostile("esp-auth-failed (wrong key)",
        eth(SA(SPI_IN, bytes(20), 1000).encrypt(req)), seq)
seq += 1
changed = bytearray(bytes(eth(to_sonded.encrypt(req))))
changed[14 + 20 + 8 + 16 + 2] ^= 0x01
hostile("esp-auth-failed (a changed byte)", Ether(bytes(changed)), seq)
seq += 1
hostile("esp-no-sa", eth(SA(0x7777, KEY_IN, 1000).encrypt(req)), seq)
seq += 1
hostile("esp-truncated", eth(IP(src=PEER, dst=ME) / UDP(sport=4500, dport=4500) /
                            Raw(SPI_IN.to_bytes(4, "big") + bytes(12))), seq)
seq += 1
hostile("esp-not-esp", eth(IP(src=PEER, dst=ME) / UDP(sport=4500, dport=4500) /
                          Raw(bytes(4) + b"IKE")), seq)
seq += 1
hostile("esp-required", eth(IP(src=PEER, dst=ME) / req), seq)
seq += 1
# RFC 3948 2.2: a NAT keepalive, taken without a word.
sendp(eth(IP(src=PEER, dst=ME) / UDP(sport=4500, dport=4500) / Raw(b"\xff")), iface=iface)
print("sent a NAT keepalive", flush=True)
say(ping(seq, quiet=True), "still answers after a NAT keepalive")
seq += 1


def big_echo(seq, n):
    """A 1300-byte echo through the tunnel; sonded's ESP packets that
    answer it (up to n), or []."""
    req = IP(src=T_PEER, dst=T_ME) / ICMP(id=0x7d, seq=seq) / Raw(b"b" * 1272)
    started = threading.Event()
    sn = AsyncSniffer(iface=iface, store=True, count=n, timeout=2, started_callback=started.set,
                      lfilter=lambda p: Ether in p and p[Ether].src.lower() == smac.lower() and
                      is_esp(p))
    sn.start()
    started.wait(5)
    sendp(eth(to_sonded.encrypt(req)), iface=iface)
    sn.join()
    return sn.results


# RFC 4301 8.2.1: a router refuses one of sonded's ESP packets,
# fragmentation needed with MTU 1200.  ip.esp's MTU goes down to what
# fits in 1200 after the outer header and ESP in UDP; sonded's next
# 1300-byte answer through it leaves in inner fragments, each ESP packet
# within 1200.
one = big_echo(seq, 1)
say(len(one) == 1 and one[0][IP].len > 1300, "a 1300-byte echo answered in one ESP packet")
if one:
    fn = IP(src=PEER, dst=ME) / ICMP(type=3, code=4, nexthopmtu=1200) / Raw(bytes(one[0][IP])[:20 + 8 + 8 + 32])
    sendp(eth(fn), iface=iface)
    two = big_echo(seq + 1, 2)
    say(len(two) == 2 and all(p[IP].len <= 1200 for p in two),
        "after fragmentation needed (1200) about it: the next answer in two ESP packets of at most "
        f"1200 bytes ({[p[IP].len for p in two]})")
    frags = [decrypt(p) for p in two]
    say(all(f is not None for f in frags) and any(f[IP].flags.MF for f in frags if f is not None),
        "scapy decrypts both: the answer's inner fragments")
sys.exit(1 if SCAPY.failed else 0)
