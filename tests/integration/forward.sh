#!/bin/bash
#
# forward: sonded routes between two Linux namespaces, A (10.1.0.1/24) on
# dpdk0 and B (10.2.0.1/24) on dpdk1.  A pings B through it; tcpdump in both
# namespaces shows each packet's TTL one lower on the far side (RFC 1812
# 5.3.1) with a valid header checksum (the RFC 1624 update); a TTL-1 ping
# gets ICMP time exceeded from sonded's address on A's side.  bpftrace shows
# forwarded packets as receive and send only (no read, no write).
#
#   tests/integration/forward.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

N=5
A=10.1.0.1
GA=10.1.0.2
B=10.2.0.1
GB=10.2.0.2

netns_new NSA
netns_new NSB
tap_new TA
tap_new TB
sonded_start "$TA $TB" --forward --addr dpdk0=$GA/24 --addr dpdk1=$GB/24
# net_tap gives the kernel side the port's MAC: so dpdk0 is TA, dpdk1 is TB.
expect_eq "dpdk0's tap" "$(cat /sys/class/net/"$TA"/address)" "${SONDED_MAC[0]}"
expect_eq "dpdk1's tap" "$(cat /sys/class/net/"$TB"/address)" "${SONDED_MAC[1]}"
tap_to_ns "$TA" "$NSA" $A/24
tap_to_ns "$TB" "$NSB" $B/24
ip -n "$NSA" route add default via $GA || fail "route in A"
ip -n "$NSB" route add default via $GB || fail "route in B"

I='((struct ipinfo_t *)arg2)'
F='((struct ifinfo_t *)arg3)'
V='((struct ipv4info_t *)arg4)'
cat >"$IT_DIR/fwd.bt" <<BT
#include <sonde/ip_provider.h>
usdt:$SONDED:ipv4:receive { printf("receive %s %s %s %d\n", $F->if_name, $I->ip_saddr, $I->ip_daddr, $V->ipv4_ttl); }
usdt:$SONDED:ipv4:send { printf("send %s %s %s %d\n", $F->if_name, $I->ip_saddr, $I->ip_daddr, $V->ipv4_ttl); }
usdt:$SONDED:ipv4:read { printf("read %s %s %s %d\n", $F->if_name, $I->ip_saddr, $I->ip_daddr, $V->ipv4_ttl); }
usdt:$SONDED:ipv4:write { printf("write %s %s %s %d\n", $F->if_name, $I->ip_saddr, $I->ip_daddr, $V->ipv4_ttl); }
usdt:$SONDED:ipv4:drop__in { printf("drop-in %s %s %s %s %d\n", ((struct pktinfo_t *)arg0)->pkt_reason, $F->if_name, $I->ip_saddr, $I->ip_daddr, $V->ipv4_ttl); }
BT
bpf_start BT "$IT_DIR/fwd.out" "$IT_DIR/fwd.bt"
cap_start CAPA "$NSA" "$TA" "$IT_DIR/a.pcap"
cap_start CAPB "$NSB" "$TB" "$IT_DIR/b.pcap"

say "A: ping -c $N $B (through sonded)"
in_ns "$NSA" timeout --foreground -k 2 30 ping -n -c $N -i 0.2 -W 2 $B >"$IT_DIR/ping.out" 2>&1 || {
	cat "$IT_DIR/ping.out" >&2
	fail "A's pings to B were not all answered"
}
grep -q "$N packets transmitted, $N received" "$IT_DIR/ping.out" || fail "ping: $(tail -2 "$IT_DIR/ping.out")"
ok "A -> B: all $N pings answered"

say "A: ping -c 1 -t 1 $B"
in_ns "$NSA" timeout --foreground -k 2 10 ping -n -c 1 -t 1 -W 2 $B >"$IT_DIR/ping-ttl1.out" 2>&1
sed 's/^/    /' "$IT_DIR/ping-ttl1.out"
grep -q "From $GA icmp_seq=1 Time to live exceeded" "$IT_DIR/ping-ttl1.out" ||
	fail "no 'Time to live exceeded' from $GA"
ok "ping -t 1: Time to live exceeded from $GA"
# Every packet's events before bpftrace stops (fwd.want below), and its
# packets in tcpdump's files.
wait_file_lines "$IT_DIR/fwd.out" $((4 * N + 4)) 10 '^(receive|send|read|write|drop-in) '
bpf_stop "$BT"
cap_wait "$IT_DIR/a.pcap" $((2 * N + 2)) 10 ip
cap_wait "$IT_DIR/b.pcap" $((2 * N)) 10 ip
cap_stop "$CAPA"
cap_stop "$CAPB"

# TTLs, echo by echo: (ident, seq) -> TTL on each side.
ttls()
{
	tsh "$1" -Y "icmp.type == $2 && ip.src == $3" -T fields -E separator=' ' \
		-e icmp.ident -e icmp.seq -e ip.ttl
}
for dir in "8 $A A B" "0 $B B A"; do
	read -r -a d <<<"$dir"
	set -- "${d[@]}"
	ttls "$IT_DIR/$(echo "$3" | tr AB ab).pcap" "$1" "$2" | sort >"$IT_DIR/ttl-$3.txt"
	ttls "$IT_DIR/$(echo "$4" | tr AB ab).pcap" "$1" "$2" | sort >"$IT_DIR/ttl-$3-at-$4.txt"
	CNT=$(wc -l <"$IT_DIR/ttl-$3-at-$4.txt")
	expect_eq "echo type $1 from $3 seen in $4" "$CNT" $N
	DEC=$(join <(awk '{ print $1 "/" $2, $3 }' "$IT_DIR/ttl-$3.txt") \
		<(awk '{ print $1 "/" $2, $3 }' "$IT_DIR/ttl-$3-at-$4.txt") |
		awk '{ print $2 - $3 }' | sort | uniq -c | awk '{ print $1 "x" $2 }')
	expect_eq "TTL decrease $3 -> $4 (count x decrease)" "$DEC" "${N}x1"
done
say "TTL sent by A, then seen in B: $(head -1 "$IT_DIR/ttl-A.txt" | awk '{print $3}') -> $(head -1 "$IT_DIR/ttl-A-at-B.txt" | awk '{print $3}')"
GOOD=$(tsh "$IT_DIR/b.pcap" -o ip.check_checksum:TRUE -Y "icmp && ip.checksum.status == 1" | wc -l)
expect_eq "forwarded packets in B with a good IP checksum" "$GOOD" $((2 * N))
GOOD=$(tsh "$IT_DIR/a.pcap" -o ip.check_checksum:TRUE -Y "icmp.type == 0 && ip.checksum.status == 1" | wc -l)
expect_eq "forwarded replies in A with a good IP checksum" "$GOOD" $N
TE=$(tsh "$IT_DIR/a.pcap" -Y "icmp.type == 11" -T fields -E separator=' ' -E occurrence=f \
	-e ip.src -e ip.dst -e icmp.code)
expect_eq "ICMP time exceeded in A (src dst code)" "$TE" "$GA $A 0"
expect_eq "packets in B with TTL 1 or 0" "$(tsh "$IT_DIR/b.pcap" -Y "ip.ttl <= 1" | wc -l)" 0

# The probes: forwarded packets are receive on one port, send on the other.
sort "$IT_DIR/fwd.out" | grep -v '^Attaching' | grep . | uniq -c | awk '{ $1 = $1; print }' >"$IT_DIR/fwd.got"
cat >"$IT_DIR/fwd.want" <<WANT
1 drop-in ttl-exceeded dpdk0 $A $B 1
1 receive dpdk0 $A $B 1
$N receive dpdk0 $A $B 64
$N receive dpdk1 $B $A 64
1 send dpdk0 $GA $A 64
$N send dpdk0 $B $A 63
$N send dpdk1 $A $B 63
1 write dpdk0 $GA $A 64
WANT
sort -o "$IT_DIR/fwd.want" "$IT_DIR/fwd.want"
sort -o "$IT_DIR/fwd.got" "$IT_DIR/fwd.got"
sed 's/^/    /' "$IT_DIR/fwd.got"
diff -u "$IT_DIR/fwd.want" "$IT_DIR/fwd.got" || fail "bpftrace events (count, event) differ from the expected"
ok "bpftrace: forwarded = receive (TTL 64) + send (TTL 63) on the other port, no read/write; one drop-in ttl-exceeded"

sonded_stop
expect_counter ipv4.forwarded $((2 * N))
expect_counter drop.in.ttl-exceeded 1
expect_counter icmp.errors_out 1
expect_counter icmp.echo_replies 0
