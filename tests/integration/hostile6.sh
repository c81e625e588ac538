#!/bin/bash
#
# hostile6: Linux (scapy-built raw frames on the tap, to sonded's MAC) sends
# sonded hostile IPv6, one case at a time, and after each checks that
# `ping -6` is still answered:
#
#   overlapping fragments (RFC 5722)             frag-overlap, all 3 dropped (the
#                                                  third after the datagram went)
#   a type 0 routing header, segments left 1     routing-header-type-0, and an
#     (RFC 5095)                                   ICMPv6 parameter problem code 0
#                                                  pointing at the routing type (42)
#   a Hop-by-Hop header after a Destination      hop-by-hop-not-first, and a
#     Options header (RFC 8200 4.1)                parameter problem code 1 (40)
#   an extension-header chain longer than the    ext-header-truncated
#     packet
#   an NS with hop limit 254 (RFC 4861 7.1.1)    nd-bad-hop-limit, and no NA (the
#                                                  same NS with 255 gets one)
#   a first fragment never completed             reassembly-timeout, after the
#                                                  timeout (--frag-timeout 1000), and
#                                                  ICMPv6 time exceeded code 1
#   a flood of FLOOD distinct incomplete          reassembly-full beyond the cap
#     datagrams (first fragments)                  (1024 fragments held), then
#                                                  reassembly-timeout for the 1024,
#                                                  time exceeded for those the rate
#                                                  limit lets out; fragmented pings
#                                                  work again after
#
# bpftrace on ipv6:drop-in gives each dropped frame its reason, in order, with
# the frame's length; the counters agree; sonded answers none of the hostile
# echo requests and leaks no mbuf.
#
#   tests/integration/hostile6.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

ME=fd00::2
PEER=fd00::1
TIMEOUT_MS=1000
FLOOD=1100
HELD_MAX=1024 # sonde_conf.frag_max's default: fragments held for reassembly

"$IT_PY" -c 'import scapy.all' 2>/dev/null || skip "needs python3-scapy"
netns_new6 NS
sonded_netns
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/64 --frag-timeout $TIMEOUT_MS
tap_to_ns6 "$TAP" "$NS" $PEER/64
SMAC=${SONDED_MAC[0]}

P='((struct pktinfo_t *)arg0)'
I='((struct ipinfo_t *)arg2)'
F='((struct ifinfo_t *)arg3)'
V='((struct ipv6info_t *)arg5)'
cat >"$IT_DIR/drop.bt" <<BT
#include <sonde/ip_provider.h>
usdt:$SONDED:ipv6:drop__in
{
	printf("drop-in %s %d %s %s %s %llu %llx\n", $P->pkt_reason, $P->pkt_len, $F->if_name,
	    $I->ip_saddr, $I->ip_daddr, nsecs, $P->pkt_addr);
}
usdt:$SONDED:ipv6:receive /$V->ipv6_nexthdr == 44/
{
	printf("receive-fragment %llu %llx\n", nsecs, $P->pkt_addr);
}
BT
bpf_start BT "$IT_DIR/drop.out" "$IT_DIR/drop.bt"
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap"

# Drop-in events but Linux's MLD reports (to ff02::16, not for sonded).
drops() { grep '^drop-in' "$IT_DIR/drop.out" | grep -v '^drop-in not-local [0-9]* dpdk0 [^ ]* ff02::16 '; }
ndrops() { drops | awk -v r="$1" '$2 == r' | wc -l; }
export -f drops ndrops
export IT_DIR

ping_ok()
{
	in_ns "$NS" timeout --foreground -k 2 10 ping -6 -n -c "${2:-1}" -i 0.1 -W 2 ${3:+-s $3} $ME \
		>"$IT_DIR/ping.out" 2>&1 || {
		cat "$IT_DIR/ping.out" >&2
		fail "ping -6 $ME ${3:+-s $3} not answered $1"
	}
	ok "ping -6 ${3:+-s $3 }$ME answered $1"
}

# hostile CASE [REASON COUNT]: sends CASE; waits for COUNT drop-in events
# (in all) with REASON.
hostile()
{
	say "scapy: $1"
	in_ns "$NS" timeout --foreground -k 2 60 "$IT_PY" "$(dirname "$0")/hostile6.py" "$1" "$TAP" "$SMAC" \
		$PEER $ME >>"$IT_DIR/sent.txt" 2>"$IT_DIR/scapy.err" || {
		cat "$IT_DIR/scapy.err" >&2
		fail "scapy failed on case $1"
	}
	if [ $# -ge 3 ]; then
		wait_for 10 "$3 drop-in $2" bash -c "[ \$(ndrops $2) -ge $3 ]"
		expect_eq "drop-in $2 events" "$(ndrops "$2")" "$3"
	fi
}

ping_ok "before"
hostile overlap frag-overlap 3
ping_ok "after the overlapping fragments"
hostile rh0 routing-header-type-0 1
ping_ok "after the type 0 routing header"
hostile hbh hop-by-hop-not-first 1
ping_ok "after the misplaced Hop-by-Hop header"
hostile truncated ext-header-truncated 1
ping_ok "after the truncated extension-header chain"
hostile ns-hlim nd-bad-hop-limit 1
hostile ns-ok
ping_ok "after the NS with hop limit 254"
hostile timeout reassembly-timeout 1
ping_ok "after the reassembly timeout"

# The flood: HELD_MAX held, the rest refused; sonded still answers (an
# unfragmented ping) while it holds them; they all time out; then
# fragmented pings are reassembled again.
hostile flood:$FLOOD reassembly-full $((FLOOD - HELD_MAX))
ping_ok "while $HELD_MAX fragments are held"
wait_for 10 "$((1 + HELD_MAX)) reassembly timeouts in all" \
	bash -c "[ \$(ndrops reassembly-timeout) -ge $((1 + HELD_MAX)) ]"
expect_eq "drop-in reassembly-timeout events" "$(ndrops reassembly-timeout)" $((1 + HELD_MAX))
ping_ok "after the flood timed out" 3 3000
sleep 0.5
bpf_stop "$BT"
cap_stop "$CAP"

# Every drop, in order, with the frame's length (pkt_len includes the
# Ethernet header: the frame scapy sent).  Within a run of one reason the
# order need not be the frames' (what a datagram held goes with the
# fragment that ends it): sorted.
runsort()
{
	awk '$2 != r { close("sort"); r = $2 } { print | "sort" } END { close("sort") }'
}
FLEN=$(awk '$1 == "flood" { print $3 }' "$IT_DIR/sent.txt")
{
	grep -v '^flood' "$IT_DIR/sent.txt" | awk '{ print "drop-in", $1, $2, "dpdk0" }'
	for ((i = 0; i < FLOOD - HELD_MAX; i++)); do echo "drop-in reassembly-full $FLEN dpdk0"; done
	for ((i = 0; i < HELD_MAX; i++)); do echo "drop-in reassembly-timeout $FLEN dpdk0"; done
} | runsort >"$IT_DIR/drop.want"
drops | awk '{ print $1, $2, $3, $4 }' | runsort >"$IT_DIR/drop.got"
drops | awk '{ print $1, $2, $3, $4, $5, $6 }' | uniq -c | sed 's/^/    /'
diff -u "$IT_DIR/drop.want" "$IT_DIR/drop.got" >"$IT_DIR/drop.diff" || {
	head -50 "$IT_DIR/drop.diff" >&2
	fail "ipv6:drop-in events differ from what was sent (reason, frame length, interface)"
}
ok "ipv6:drop-in: one per hostile frame, in order, right reason and frame length, dpdk0"
expect_eq "drop-in source and destination (all but the NS)" \
	"$(drops | awk '$2 != "nd-bad-hop-limit" { print $5, $6 }' | sort -u)" "$PEER $ME"

# Reassembly timeouts: each fragment dropped TIMEOUT_MS after it came
# (each datagram's timer, on the stack's wheel, run every poll), by the same mbuf's receive and drop-in.
AGES=$(awk '$1 == "receive-fragment" { t[$3] = $2 }
	$1 == "drop-in" && $2 == "reassembly-timeout" { a = ($7 - t[$8]) / 1e6; print int(a / 100) * 100 }' \
	"$IT_DIR/drop.out" | sort -n | uniq -c | awk '{ printf "%s%dx%dms", sep, $1, $2; sep = " " }')
say "reassembly-timeout drops by age after their receive (count x age, 100 ms bins): $AGES"
BAD=$(awk '$1 == "receive-fragment" { t[$3] = $2 }
	$1 == "drop-in" && $2 == "reassembly-timeout" { a = ($7 - t[$8]) / 1e6; if (a < '$TIMEOUT_MS' || a > '$TIMEOUT_MS' + 500) n++ }
	END { print n + 0 }' "$IT_DIR/drop.out")
expect_eq "reassembly-timeout drops outside ${TIMEOUT_MS}..$((TIMEOUT_MS + 500)) ms of their fragment's receive" "$BAD" 0

# What sonded sent back: the two parameter problems (type code pointer dst),
# the time exceeded of the timeouts,
# and no reply to any hostile echo request (identifiers 0x5ee0-0x5ee5).
ERRS=$(tsh "$IT_DIR/linux.pcap" -Y "icmpv6.type == 4 && eth.src == $SMAC" -T fields -E separator=' ' \
	-E occurrence=f -e icmpv6.type -e icmpv6.code -e icmpv6.pointer -e ipv6.src -e ipv6.dst | tr '\n' ';')
expect_eq "ICMPv6 errors from sonded (type code pointer src dst)" "$ERRS" "4 0 42 $ME $PEER;4 1 40 $ME $PEER;"
# Time exceeded, code 1 (RFC 8200 4.5), for a datagram that timed out with
# its first fragment: the timeout case's, and the flood's as far as the
# rate limit (RFC 4443 2.4(f)) lets them out.
TE=$(tsh "$IT_DIR/linux.pcap" -Y "icmpv6.type == 3 && eth.src == $SMAC" -T fields -E separator=' ' \
	-E occurrence=f -e icmpv6.code -e ipv6.src -e ipv6.dst)
expect_eq "ICMPv6 time exceeded from sonded (code src dst)" "$(echo "$TE" | sort -u)" "1 $ME $PEER"
NTE=$(echo "$TE" | grep -c .)
expect_ge "ICMPv6 time exceeded from sonded" "$NTE" 2
REPL=$(tsh "$IT_DIR/linux.pcap" -Y "icmpv6.type == 129 && icmpv6.echo.identifier >= 0x5ee0 && icmpv6.echo.identifier <= 0x5ee5" | wc -l)
expect_eq "echo replies to the hostile requests" "$REPL" 0
NA99=$(tsh "$IT_DIR/linux.pcap" -Y "icmpv6.type == 136 && ipv6.dst == fd00::99" | wc -l)
expect_eq "NAs sonded sent for the NS with hop limit 254 (to fd00::99)" "$NA99" 0
NA98=$(tsh "$IT_DIR/linux.pcap" -Y "icmpv6.type == 136 && ipv6.dst == fd00::98 && icmpv6.nd.na.target_address == $ME" | wc -l)
expect_eq "NAs sonded sent for the same NS with hop limit 255 (to fd00::98)" "$NA98" 1

sonded_stop
expect_counter drop.in.frag-overlap 3
expect_counter drop.in.routing-header-type-0 1
expect_counter drop.in.hop-by-hop-not-first 1
expect_counter drop.in.ext-header-truncated 1
expect_counter drop.in.nd-bad-hop-limit 1
expect_counter drop.in.reassembly-timeout $((1 + HELD_MAX))
expect_counter drop.in.reassembly-full $((FLOOD - HELD_MAX))
# overlap 3, timeout 1, the flood, and the 3 pings of 3000 bytes in 3 each.
expect_counter frag.in $((3 + 1 + FLOOD + 3 * 3))
expect_counter frag.reassembled 3
expect_counter frag.held 0
expect_counter icmp6.errors_out $((2 + NTE))
# 1 before, 1 after each of the 6 cases, 1 during the flood, 3 at the end.
expect_counter icmp6.echo_replies $((1 + 6 + 1 + 3))
