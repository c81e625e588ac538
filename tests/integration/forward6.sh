#!/bin/bash
#
# forward6: sonded (--forward) routes IPv6 between two Linux namespaces, A
# (fd01::1/64) on dpdk0 and B (fd02::1/64) on dpdk1, whose MTU is 1280
# (--mtu dpdk1=1280).  A pings B through it: all answered; tcpdump in both
# namespaces shows each packet's hop limit exactly 1 lower on the far side
# (RFC 8200 3), matched echo by echo (identifier, sequence).  A hop limit 1
# ping gets ICMPv6 time exceeded (code 0) from sonded's fd01::2.  A 1400-byte
# ping with DF-like -M do (1448 bytes, too big for dpdk1) gets ICMPv6 packet
# too big with MTU 1280 (RFC 8201; a router never fragments), which Linux
# takes (its route to B then says mtu 1280); after it, plain 1400-byte pings
# go through, fragmented by A and by B, forwarded fragment by fragment.
# bpftrace: forwarded packets are receive on one port and send on the other
# (matching both captures packet for packet), never read or write; the two
# errors are write and send; one drop-in hop-limit-exceeded, one drop-out
# frag-needed.
#
#   tests/integration/forward6.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

N=5
NF=2 # fragmented pings after the packet too big
A=fd01::1
GA=fd01::2
B=fd02::1
GB=fd02::2
MTU_B=1280

netns_new6 NSA
netns_new6 NSB
sonded_netns
tap_new TA
tap_new TB
sonded_start "$TA $TB" --forward --addr dpdk0=$GA/64 --addr dpdk1=$GB/64 --mtu dpdk1=$MTU_B
# net_tap gives the kernel side the port's MAC (dpdk0 is TA, dpdk1 TB) and
# its MTU.
expect_eq "dpdk0's tap" "$(ip netns exec "$SONDED_NETNS" cat /sys/class/net/"$TA"/address)" "${SONDED_MAC[0]}"
expect_eq "dpdk1's tap" "$(ip netns exec "$SONDED_NETNS" cat /sys/class/net/"$TB"/address)" "${SONDED_MAC[1]}"
tap_to_ns6 "$TA" "$NSA" $A/64
tap_to_ns6 "$TB" "$NSB" $B/64
expect_eq "MTU of B's link (--mtu dpdk1=$MTU_B)" "$(ip netns exec "$NSB" cat /sys/class/net/"$TB"/mtu)" $MTU_B
ip -n "$NSA" -6 route add default via $GA || fail "route in A"
ip -n "$NSB" -6 route add default via $GB || fail "route in B"
MA=$(ns_mac "$NSA" "$TA")
MB=$(ns_mac "$NSB" "$TB")

P='((struct pktinfo_t *)arg0)'
I='((struct ipinfo_t *)arg2)'
F='((struct ifinfo_t *)arg3)'
V='((struct ipv6info_t *)arg5)'
ev()
{
	printf 'usdt:%s:ipv6:%s { printf("%s%s %%s %%s %%s %%d %%d %%d\\n", %s%s->if_name, %s->ip_saddr, %s->ip_daddr, %s->ipv6_hlim, %s->ip_plength, %s->ipv6_nexthdr); }\n' \
		"$SONDED" "$1" "$2" "${3:+ %s}" "${3:+$P->pkt_reason, }" "$F" "$I" "$I" "$V" "$I" "$V"
}
{
	echo "#include <sonde/ip_provider.h>"
	ev receive receive
	ev send send
	ev read read
	ev write write
	ev drop__in drop-in reason
	ev drop__out drop-out reason
} >"$IT_DIR/fwd.bt"
bpf_start BT "$IT_DIR/fwd.out" "$IT_DIR/fwd.bt"
cap_start CAPA "$NSA" "$TA" "$IT_DIR/a.pcap"
cap_start CAPB "$NSB" "$TB" "$IT_DIR/b.pcap"

# Events: NAME IF SRC DST HLIM PLEN NEXTHDR, drops with the reason after
# NAME.  Neighbour Discovery (hop limit 255) and MLD (to ff02::16) left out.
not_nd() { awk '{ o = $1 ~ /^drop/; if ($(5 + o) != 255 && $(4 + o) != "ff02::16") print }'; }
fwd_events_ge()
{
	[ "$(grep -E '^(receive|send|read|write|drop-in|drop-out) ' "$IT_DIR/fwd.out" | not_nd | wc -l)" -ge "$1" ]
}

pingA()
{
	local out=$1
	shift
	say "A: ping -6 $*"
	in_ns "$NSA" timeout --foreground -k 2 30 ping -6 -n -W 2 "$@" >"$IT_DIR/$out" 2>&1
}
pingA ping.out -c $N -i 0.1 $B || {
	cat "$IT_DIR/ping.out" >&2
	fail "A's pings to B were not all answered"
}
grep -q "$N packets transmitted, $N received," "$IT_DIR/ping.out" || fail "ping: $(tail -2 "$IT_DIR/ping.out")"
ok "A -> B: all $N pings answered"

pingA ping-hl1.out -c 1 -t 1 $B
sed 's/^/    /' "$IT_DIR/ping-hl1.out"
grep -q "From $GA icmp_seq=1 Time exceeded: Hop limit" "$IT_DIR/ping-hl1.out" ||
	fail "no 'Time exceeded: Hop limit' from $GA"
ok "ping -t 1: time exceeded from $GA"

pingA ping-big.out -c 1 -s 1400 -M 'do' $B
sed 's/^/    /' "$IT_DIR/ping-big.out"
grep -q "From $GA icmp_seq=1 Packet too big: mtu=$MTU_B" "$IT_DIR/ping-big.out" ||
	fail "no 'Packet too big: mtu=$MTU_B' from $GA"
ok "ping -s 1400 -M do: packet too big, mtu $MTU_B, from $GA"
ROUTE=$(ip -n "$NSA" -6 route get $B)
say "A's route to B now: $ROUTE"
echo "$ROUTE" | grep -q " mtu $MTU_B " || fail "A did not take the path MTU $MTU_B"
ok "A took the path MTU $MTU_B from sonded's packet too big"

pingA ping-frag.out -c $NF -i 0.2 -s 1400 $B || {
	cat "$IT_DIR/ping-frag.out" >&2
	fail "A's fragmented pings to B were not all answered"
}
grep -q "$NF packets transmitted, $NF received," "$IT_DIR/ping-frag.out" ||
	fail "ping: $(tail -2 "$IT_DIR/ping-frag.out")"
ok "A -> B: $NF pings of 1400 bytes answered, fragmented to the path MTU"
# Every packet's events before bpftrace stops: receive and send each way
# for the echoes (N) and the fragments (2 each way for each of NF), and
# the two errors' receive, drop, write and send.
wait_for 10 "$((4 * N + 8 * NF + 8)) events (but ND and MLD) from bpftrace" fwd_events_ge $((4 * N + 8 * NF + 8))
bpf_stop "$BT"
# (Neighbour Discovery has hop limit 255, MLD goes to ff02::16.)
cap_wait "$IT_DIR/a.pcap" $((2 * N + 4 + 4 * NF)) 10 ip6 and 'ip6[7] != 255' and not dst host ff02::16
cap_wait "$IT_DIR/b.pcap" $((2 * N + 4 * NF)) 10 ip6 and 'ip6[7] != 255' and not dst host ff02::16
cap_stop "$CAPA"
cap_stop "$CAPB"

# Hop limits, echo by echo: (identifier, sequence, fragment offset) -> hop
# limit on each side; the fragments of the 1400-byte pings too.
hlims()
{
	tsh "$1" -Y "(icmpv6.type == $2 || ipv6.fraghdr) && ipv6.src == $3" -T fields -E separator=' ' \
		-E occurrence=f -e icmpv6.echo.identifier -e icmpv6.echo.sequence_number \
		-e ipv6.fraghdr.ident -e ipv6.fraghdr.offset -e ipv6.hlim |
		awk '{ if (NF == 5) print $1 "/" $2 "/" $3 "/" $4, $5; else if (NF == 3) print $1 "/" $2, $3; else print $1 "/" $2, $3 }'
}
for dir in "128 $A A B $N" "129 $B B A $N"; do
	read -r -a d <<<"$dir"
	set -- "${d[@]}"
	from=$(echo "$3" | tr AB ab)
	to=$(echo "$4" | tr AB ab)
	hlims "$IT_DIR/$from.pcap" "$1" "$2" | sort >"$IT_DIR/hl-$3.txt"
	hlims "$IT_DIR/$to.pcap" "$1" "$2" | sort >"$IT_DIR/hl-$3-at-$4.txt"
	# The echo packets, and 2 fragments for each of the NF 1400-byte pings.
	expect_eq "packets from $3 seen in $4 (echo $1 and fragments)" "$(wc -l <"$IT_DIR/hl-$3-at-$4.txt")" \
		$((N + 2 * NF))
	DEC=$(join "$IT_DIR/hl-$3.txt" "$IT_DIR/hl-$3-at-$4.txt" | awk '{ print $2 - $3 }' | sort | uniq -c |
		awk '{ print $1 "x" $2 }')
	expect_eq "hop limit decrease $3 -> $4, matched by id/seq (count x decrease)" "$DEC" "$((N + 2 * NF))x1"
done
say "hop limit sent by A, then seen in B: $(head -1 "$IT_DIR/hl-A.txt" | awk '{print $2}') -> $(head -1 "$IT_DIR/hl-A-at-B.txt" | awk '{print $2}')"
GOOD=$(tsh "$IT_DIR/b.pcap" -Y "(icmpv6.type == 128 || icmpv6.type == 129) && icmpv6.checksum.status == 1" | wc -l)
expect_eq "echo packets in B with a good ICMPv6 checksum (reassembled ones included)" "$GOOD" $((2 * (N + NF)))
expect_eq "packets from A in B with a hop limit other than 63" \
	"$(tsh "$IT_DIR/b.pcap" -Y "ipv6.src == $A && ipv6.hlim != 63" | wc -l)" 0
expect_eq "frames in B longer than MTU $MTU_B" "$(tsh "$IT_DIR/b.pcap" -Y "frame.len > $((MTU_B + 14))" | wc -l)" 0

# The two errors on A's side: type code (mtu) src dst, the IPv6 packet at
# most 1280 bytes (RFC 4443 2.4(c)).
TE=$(tsh "$IT_DIR/a.pcap" -Y "icmpv6.type == 3" -T fields -E separator=' ' -E occurrence=f \
	-e icmpv6.type -e icmpv6.code -e ipv6.src -e ipv6.dst -e icmpv6.checksum.status)
expect_eq "ICMPv6 time exceeded in A (type code src dst checksum-ok)" "$TE" "3 0 $GA $A 1"
PTB=$(tsh "$IT_DIR/a.pcap" -Y "icmpv6.type == 2" -T fields -E separator=' ' -E occurrence=f \
	-e icmpv6.type -e icmpv6.code -e icmpv6.mtu -e ipv6.src -e ipv6.dst -e ipv6.plen -e icmpv6.checksum.status)
expect_eq "ICMPv6 packet too big in A (type code mtu src dst plen checksum-ok)" "$PTB" "2 0 $MTU_B $GA $A 1240 1"
# sonded advertises itself as a router when forwarding (RFC 4861 4.4).
RFLAG=$(tsh "$IT_DIR/a.pcap" -Y "icmpv6.type == 136 && eth.src == ${SONDED_MAC[0]}" -T fields \
	-e icmpv6.nd.na.flag.r | sed 's/True/1/; s/False/0/' | sort -u)
expect_eq "router flag in sonded's NAs" "$RFLAG" 1

# The probes against both captures: every packet sonded received from or
# sent to A (on dpdk0) and B (on dpdk1), but Neighbour Discovery (hop limit
# 255) and MLD (to ff02::16).
wire()
{
	tsh "$1" -Y "ipv6 && ipv6.hlim != 255 && ipv6.dst != ff02::16" -T fields -E separator=' ' \
		-E occurrence=f -e eth.src -e ipv6.src -e ipv6.dst -e ipv6.hlim -e ipv6.plen -e ipv6.nxt |
		awk -v peer="$2" -v ifn="$3" '{ print ($1 == peer ? "receive" : "send"), ifn, $2, $3, $4, $5, $6 }'
}
{
	wire "$IT_DIR/a.pcap" "$MA" dpdk0
	wire "$IT_DIR/b.pcap" "$MB" dpdk1
} | sort >"$IT_DIR/wire.txt"
grep -E '^(receive|send) ' "$IT_DIR/fwd.out" | not_nd | sort >"$IT_DIR/probes.txt"
diff -u "$IT_DIR/wire.txt" "$IT_DIR/probes.txt" >"$IT_DIR/wire-vs-probes.diff" || {
	cat "$IT_DIR/wire-vs-probes.diff" >&2
	fail "receive/send events differ from the packets in A's and B's captures"
}
ok "bpftrace receive/send = the $(wc -l <"$IT_DIR/wire.txt") packets in A's and B's captures (port, addresses, hop limit, length, next header)"
# Everything else: no read or write of forwarded packets; the errors.
grep -Ev '^(receive|send) |^Attaching' "$IT_DIR/fwd.out" | grep . | not_nd |
	sort | uniq -c | awk '{ $1 = $1; print }' >"$IT_DIR/other.got"
sort >"$IT_DIR/other.want" <<WANT
1 drop-in hop-limit-exceeded dpdk0 $A $B 1 64 58
1 drop-out frag-needed dpdk1 $A $B 64 1408 58
1 write dpdk0 $GA $A 64 112 58
1 write dpdk0 $GA $A 64 1240 58
WANT
sed 's/^/    /' "$IT_DIR/other.got"
diff -u "$IT_DIR/other.want" "$IT_DIR/other.got" || fail "bpftrace's other events (count, event) differ from the expected"
ok "bpftrace: no read or write for forwarded packets; write for the 2 errors; drop-in hop-limit-exceeded; drop-out frag-needed on dpdk1"
# Forwarded: the echoes, and each of the NF big pings in 2 fragments each way.
FWD=$(awk '$1 == "send" && $3 != "'$GA'" && $3 != "'$GB'"' "$IT_DIR/probes.txt" | wc -l)
expect_eq "forwarded packets (send events not from sonded's addresses)" "$FWD" $((2 * N + 4 * NF))

sonded_stop
expect_counter ipv6.forwarded $((2 * N + 4 * NF))
expect_counter drop.in.hop-limit-exceeded 1
expect_counter drop.out.frag-needed 1
expect_counter icmp6.errors_out 2
expect_counter icmp6.echo_replies 0
expect_counter frag.reassembled 0
expect_counter frag.out 0
