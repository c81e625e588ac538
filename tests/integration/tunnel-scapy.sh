#!/bin/bash
#
# tunnel-scapy: sonded's tunnels against scapy's IPIP, 6in4, IPv6-in-IPv6
# and GRE (tunnel-scapy.py), and the seed's ip.tun0 trace.
#
# 1. The seed: ipio03.bt attached, scapy sends a TCP SYN inside IPIP to
#    sonded's HTTP port through ip.tun0; sonded's SYN-ACK comes back the
#    same way.  The probes show each packet twice, as the 2007 page's
#    ip.tun0 trace: outer receive and read on dpdk0, inner receive and read
#    on ip.tun0; inner write and send on ip.tun0, outer write and send on
#    dpdk0 (BYTES: the IP payload, so the outer is the inner's length plus
#    its 20-byte header).  tcpdump on the Linux side sees only outer
#    packets, sonded's own capture of ip.tun0 only inner ones, and every
#    packet of each capture has its probe lines, in that capture's order.
# 2. Each mode byte for byte against scapy's encapsulation of sonde's own
#    inner answer, TOS/traffic class, ECN and DF carried outward; then the
#    hostile packets (wrong key, wrong source, truncated inner, bad inner
#    version, GRE checksum and sequence bits, five IPIP headers deep, a
#    tunnel routed through itself, an encapsulation limit of 0), each a
#    counted drop with its reason, each followed by an echo through the
#    same tunnel that is still answered.
# 3. ICMP errors about outer packets (RFC 2003 4.1, RFC 2473 8.2): a
#    router's fragmentation needed and packet too big lower the tunnel's
#    MTU and are relayed to the inner packet's sender with that MTU.
#
#   tests/integration/tunnel-scapy.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

ME=10.96.0.2
PEER=10.96.0.1
"$IT_PY" -c 'import scapy.all' 2>/dev/null || skip "needs python3-scapy"

netns_new NS
# IPv6 on: the outer packets of the IPv6 tunnels are the peer's.
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
	net.ipv6.conf.default.accept_dad=0
tap_new TAP
sonded_start "$TAP" --forward --service tcp:8080=http \
	--addr dpdk0=$ME/24 --addr dpdk0=fd00:96::2/64 --addr dpdk0=fd00:96::12/64 \
	--tunnel ip.tun0,mode=ipip,local=$ME,remote=$PEER --addr ip.tun0=192.168.20.2/30 \
	--tunnel ip.sit,mode=sit,local=$ME,remote=$PEER --addr ip.sit=fd20:1::2/64 \
	--tunnel ip.6in6,mode=ip6ip6,local=fd00:96::2,remote=fd00:96::1 --addr ip.6in6=fd20:2::2/64 \
	--route fd30::/64 via fd20:2::1 \
	--tunnel ip.4in6,mode=ipip6,local=fd00:96::12,remote=fd00:96::11 --addr ip.4in6=192.168.22.2/30 \
	--tunnel ip.gre,mode=gre,local=$ME,remote=$PEER --addr ip.gre=192.168.23.2/30 \
	--addr ip.gre=fd20:3::2/64 \
	--tunnel ip.grek,mode=gre,local=$ME,remote=$PEER,key=7 --addr ip.grek=192.168.24.2/30 \
	--tunnel ip.6gre,mode=ip6gre,local=fd00:96::2,remote=fd00:96::1 --addr ip.6gre=192.168.25.2/30 \
	--tunnel ip.loop,mode=ipip,local=$ME,remote=10.200.0.1 --addr ip.loop=10.201.0.2/30 \
	--route 10.200.0.0/24 via 10.201.0.1 \
	--pcap ip.tun0="$IT_DIR/tun0.pcap"
tap_to_ns "$TAP" "$NS" $PEER/24
ip -n "$NS" addr add fd00:96::1/64 dev "$TAP" nodad || fail "fd00:96::1 on $TAP"
ip -n "$NS" addr add fd00:96::11/64 dev "$TAP" nodad || fail "fd00:96::11 on $TAP"
# sonded's IPv6 addresses out of DAD (about a second) before they are used.
wait_for 10 "sonded's fd00:96::2" in_ns "$NS" ping -6 -c 1 -W 1 fd00:96::2
wait_for 10 "sonded's fd00:96::12" in_ns "$NS" ping -6 -c 1 -W 1 fd00:96::12

# --- 1. the seed's ip.tun0 trace -------------------------------------------
bpf_start BT "$IT_DIR/ipio03.out" "$SONDE_SRC/probes/ipio03.bt" "$SONDED"
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap" ip proto 4
scapy_peer_run "$NS" tunnel-scapy.py seed 60 "scapy's SYN through ip.tun0"
# SYN in, SYN-ACK out, RST in: 3 outer packets, 4 lines each pair of ends.
wait_file_lines "$IT_DIR/ipio03.out" 12 10 '^ *(receive|read|write|send) +[0-9.]+ '
cap_wait "$IT_DIR/linux.pcap" 3 10 ip proto 4
cap_stop "$CAP"
bpf_stop "$BT"
say "ipio03.bt printed:"
sed 's/^/    /' "$IT_DIR/ipio03.out"

T=192.168.20
# scapy's SYN: 20 bytes of TCP header and 4 of MSS option; its RST: 20.
SEED="receive $PEER $ME 44 dpdk0
read $PEER $ME 44 dpdk0
receive $T.1 $T.2 24 ip.tun0
read $T.1 $T.2 24 ip.tun0
write $T.2 $T.1 __SA__ ip.tun0
send $T.2 $T.1 __SA__ ip.tun0
write $ME $PEER __SAO__ dpdk0
send $ME $PEER __SAO__ dpdk0
receive $PEER $ME 40 dpdk0
read $PEER $ME 40 dpdk0
receive $T.1 $T.2 20 ip.tun0
read $T.1 $T.2 20 ip.tun0"
# IPv4 only (the peer's kernel sends MLD reports, IPv6, meanwhile).
awk '$1 ~ /^(receive|read|write|send)$/ && $2 !~ /:/ { print $1, $2, $4, $5, $6 }' "$IT_DIR/ipio03.out" >"$IT_DIR/ipio03.got"
# The SYN-ACK's length is sonde's (its options): taken from the trace,
# then the outer must be it plus 20.
SA=$(awk '$1 == "write" && $5 == "ip.tun0" { print $4; exit }' "$IT_DIR/ipio03.got")
[ -n "$SA" ] || fail "no write on ip.tun0 in the trace"
echo "$SEED" | sed "s/__SAO__/$((SA + 20))/; s/__SA__/$SA/" >"$IT_DIR/ipio03.want"
diff -u "$IT_DIR/ipio03.want" "$IT_DIR/ipio03.got" || fail "ipio03.bt through ip.tun0 is not the seed's shape"
ok "ipio03.bt: each packet seen twice, outer on dpdk0 and inner on ip.tun0, in the seed's order"

# The witnesses: tcpdump saw the outer packets (IPIP), sonded's capture of
# ip.tun0 the inner ones; each in its order, with the probe lines of its
# interface (send or receive: the bottom of IP, where a capture sits).
tsh "$IT_DIR/linux.pcap" -T fields -e ip.src -e ip.dst -e ip.len -E separator=' ' -E occurrence=f |
	awk -v me=$ME '{ print ($1 == me ? "send" : "receive"), $1, $2, $3 - 20, "dpdk0" }' >"$IT_DIR/outer.cap"
awk '$5 == "dpdk0" && ($1 == "send" || $1 == "receive")' "$IT_DIR/ipio03.got" >"$IT_DIR/outer.probe"
diff -u "$IT_DIR/outer.probe" "$IT_DIR/outer.cap" || fail "tcpdump's outer packets and the dpdk0 probe lines differ"
expect_eq "outer packets tcpdump saw" "$(wc -l <"$IT_DIR/outer.cap")" 3

# --- 2. each mode against scapy, then the hostile packets -------------------
scapy_peer_run "$NS" tunnel-scapy.py cases 120 "scapy's checks (FAIL lines above)"
expect_ge "checks scapy passed" "$(grep -c '^ok ' "$IT_DIR/cases.txt")" 30

sonded_stop
# sonded's own capture is complete once it has closed it.
# Its first three packets are the seed's (the echoes of part 2 follow).
tun_capture_agrees "$IT_DIR/tun0.pcap" ip.tun0 $T.2 3 "$IT_DIR/ipio03.got"
expect_eq "inner packets in sonded's ip.tun0 capture, all TCP" "$(awk '$4 == 6' "$IT_DIR/inner.raw" | wc -l)" 3
ok "captures and probes agree: outer on the wire (tcpdump), inner on ip.tun0 (sonded --pcap)"
for r in tunnel-wrong-key tunnel-wrong-source tunnel-inner-truncated tunnel-inner-bad-version \
	gre-checksum-unsupported gre-sequence-unsupported tunnel-too-deep; do
	expect_counter "drop.in.$r" 1
done
expect_counter drop.out.tunnel-loop 1
expect_counter drop.out.tunnel-encap-limit 1
# The path MTU of ip.tun0 and ip.6in6 from ICMP about outer packets, each
# relayed to the inner sender.
expect_counter tunnel.pmtu_updates 2
expect_counter tunnel.icmp_relayed 2
