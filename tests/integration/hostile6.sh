#!/bin/bash
#
# hostile6: Linux (scapy-built raw frames on the tap, to sonded's MAC) sends
# sonded hostile IPv6, one case at a time, and after each checks that
# `ping -6` is still answered:
#
#   overlapping fragments (RFC 5722)             frag-overlap, all 3 dropped
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
#                                                  reassembly-timeout for those held,
#                                                  time exceeded for those the rate
#                                                  limit lets out; fragmented pings
#                                                  work again after
#
# bpftrace on ipv6:drop-in gives each dropped frame its reason, in order, with
# the frame's length; the counters agree; sonded answers none of the hostile
# echo requests and leaks no mbuf.
#
# Timeouts are judged from bpftrace's clock: a fragment's receive and its
# reassembly-timeout drop-in are the same mbuf.  sonded times them on its
# own clock (from the TSC), which on a VM runs a little off the kernel's
# (0.18% fast, seen here): a timeout must not come before 99% of the
# timeout after its fragment's receive, and every held fragment must time
# out within a bound of seconds; nothing else about the time is asked, so
# a busy machine that polls late passes.  The flood is judged by what
# reached sonded (the kernel may drop frames at the tap's queue while
# sonded is not running: counted, and fewer than FLOOD - HELD_MAX allowed):
# every flood fragment is held or refused, and the table held HELD_MAX at
# the most (frag.held_peak: bpftrace sees receive for a whole burst before
# reassembly decides any fragment of it, so the count is sonded's).
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
# Lines: drop-in REASON FRAME-LEN IF SRC DST NSECS MBUF;
# receive-fragment NSECS MBUF IDENT.
cat >"$IT_DIR/drop.bt" <<BT
#include <sonde/ip_provider.h>
usdt:$SONDED:ipv6:drop__in
{
	printf("drop-in %s %d %s %s %s %llu %llx\n", $P->pkt_reason, $P->pkt_len, $F->if_name,
	    $I->ip_saddr, $I->ip_daddr, nsecs, $P->pkt_addr);
}
usdt:$SONDED:ipv6:receive /$V->ipv6_nexthdr == 44/
{
	printf("receive-fragment %llu %llx %x\n", nsecs, $P->pkt_addr, bswap(*(uint32 *)($V->ipv6_hdr + 44)));
}
BT
# The flood alone is some 3000 events: buffers of 4 MB a CPU (bpf_stop
# fails on lost events).
BPFTRACE_PERF_RB_PAGES=1024 bpf_start BT "$IT_DIR/drop.out" "$IT_DIR/drop.bt"
# A buffer of 16 MB: the flood comes faster than a tcpdump on a busy
# machine reads it (seen with 2 MB: 52 of 1155 frames dropped by the kernel).
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap" -B 16384

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
		wait_for 10 "$3 drop-in $2" ndrops_ge "$2" "$3"
		expect_eq "drop-in $2 events" "$(ndrops "$2")" "$3"
	fi
}
ndrops_ge() { [ "$(ndrops "$1")" -ge "$2" ]; }

# frag_stats: the reassembly table's story, from bpftrace's lines in the
# order sonded fired them (one lcore): "R I F T E M A0 A1 H0".  For the
# flood (identifications 0x5ee1....): R fragments received, I held (not
# refused), F refused (reassembly-full), T timed out.  For every fragment:
# E timed out before 99% of its deadline (age in bpftrace's clock from its
# receive: see above), M received in all (frag.in), A0/A1 the least and
# greatest age of a timed-out one in microseconds, H0 held when the flood
# began (0: the cases before it all left the table, dropped).  A fragment
# received is held until dropped (refused, timed out, frag-overlap);
# reassembled ones (the last pings' only, after the flood) are not taken
# out.
frag_stats()
{
	awk -v tmo="$((TIMEOUT_MS * 990000))" '
	function flood(a) { return id[a] ~ /^5ee1/ }
	$1 == "receive-fragment" {
		id[$3] = $4; t0[$3] = $2; m++
		if (flood($3)) { if (!r++) h0 = held; i++ }
		held++
	}
	$1 == "drop-in" && ($2 == "reassembly-full" || $2 == "reassembly-timeout" || $2 == "frag-overlap") {
		a = $8
		held--
		if ($2 == "reassembly-full") {
			if (flood(a)) { f++; i-- }
			next
		}
		if ($2 == "reassembly-timeout") {
			if (flood(a)) t++
			age = $7 - t0[a]
			if (age < tmo) early++
			if (a0 == "" || age < a0) a0 = age
			if (age > a1) a1 = age
		}
	}
	END { printf "%d %d %d %d %d %d %d %d %d\n", r, i, f, t, early, m, a0 / 1000, a1 / 1000, h0 }
	' "$IT_DIR/drop.out"
}
# frag_settled R: the flood's R fragments are in, each held or refused.
frag_settled()
{
	local r i f
	read -r r i f _ <<<"$(frag_stats)"
	[ "$r" -ge "$1" ] && [ $((i + f)) -ge "$1" ]
}
# frag_expired: every held fragment of the flood has timed out.
frag_expired()
{
	local r i f t
	read -r r i f t _ <<<"$(frag_stats)"
	[ "$i" -gt 0 ] && [ "$t" -ge "$i" ]
}
tap_tx_dropped() { in_ns "$NS" cat "/sys/class/net/$TAP/statistics/tx_dropped"; }

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
# Timed out: waited for up to 10 s; when, checked below.
hostile timeout reassembly-timeout 1
ping_ok "after the reassembly timeout"

# The flood: the table fills (HELD_MAX held), the rest is refused; sonded
# still answers (an unfragmented ping) while it holds them; they all time
# out; then fragmented pings are reassembled again.  The kernel may drop
# frames at the tap's queue (1000) while sonded is not running.
TXD=$(tap_tx_dropped)
hostile flood:$FLOOD
KDROP=$(($(tap_tx_dropped) - TXD))
RECV=$((FLOOD - KDROP))
say "the kernel dropped $KDROP of the $FLOOD flood frames at the tap (tx_dropped): $RECV for sonded"
[ "$RECV" -gt "$HELD_MAX" ] ||
	fail "only $RECV of the $FLOOD flood frames reached sonded (the tap's queue dropped $KDROP): too few to fill the table"
wait_for 20 "sonded to take the flood's $RECV fragments" frag_settled "$RECV"
ping_ok "while the flood's fragments are held"
wait_for 20 "every held fragment of the flood to time out" frag_expired
ping_ok "after the flood timed out" 3 3000
# Before bpftrace stops: the last pings' 9 fragments, the last events.
wait_file_lines "$IT_DIR/drop.out" $((3 + 1 + RECV + 9)) 10 '^receive-fragment '
bpf_stop "$BT"
# sonded's last frames: the fragments of its replies to the last pings.
cap_wait "$IT_DIR/linux.pcap" 9 10 ether src "$SMAC" and ip6 and 'ip6[6] == 44'
cap_stop "$CAP"

read -r FR FI FF FT FE FM FA0 FA1 FH0 <<<"$(frag_stats)"
say "flood: $FR fragments received, $FI held, $FF refused, $FT timed out"
expect_eq "flood fragments sonded received (ipv6:receive)" "$FR" "$RECV"
expect_eq "fragments held when the flood began" "$FH0" 0
expect_eq "flood fragments held or refused, each once (held + refused)" $((FI + FF)) "$FR"
expect_eq "flood fragments held, then timed out (timed out = held)" "$FT" "$FI"
expect_ge "flood fragments refused (reassembly-full)" "$FF" 1
say "reassembly-timeout ages (drop-in less the fragment's receive, bpftrace's clock): $((FA0 / 1000)).$(printf %03d $((FA0 % 1000))) .. $((FA1 / 1000)).$(printf %03d $((FA1 % 1000))) ms"
expect_eq "reassembly-timeouts before 99% of their deadline (${TIMEOUT_MS} ms after the fragment's receive)" "$FE" 0

# Every drop, in order, with the frame's length (pkt_len includes the
# Ethernet header: the frame scapy sent).  Within a run of one reason the
# order need not be the frames' (what a datagram held goes with the
# fragment that ends it): sorted.  The flood's, refused or timed out as
# the table decided (above), come last.
runsort()
{
	awk '$2 != r { close("sort"); r = $2 } { print | "sort" } END { close("sort") }'
}
FLEN=$(awk '$1 == "flood" { print $3 }' "$IT_DIR/sent.txt")
NCASE=$(grep -vc '^flood' "$IT_DIR/sent.txt")
grep -v '^flood' "$IT_DIR/sent.txt" | awk '{ print "drop-in", $1, $2, "dpdk0" }' | runsort >"$IT_DIR/drop.want"
drops | awk '{ print $1, $2, $3, $4 }' >"$IT_DIR/drop.all"
head -n "$NCASE" "$IT_DIR/drop.all" | runsort >"$IT_DIR/drop.got"
drops | awk '{ print $1, $2, $3, $4, $5, $6 }' | uniq -c | sed 's/^/    /'
diff -u "$IT_DIR/drop.want" "$IT_DIR/drop.got" >"$IT_DIR/drop.diff" || {
	head -50 "$IT_DIR/drop.diff" >&2
	fail "ipv6:drop-in events differ from what was sent (reason, frame length, interface)"
}
ok "ipv6:drop-in: one per hostile frame, in order, right reason and frame length, dpdk0"
expect_eq "the flood's drop-in events (count x reason length interface)" \
	"$(tail -n +$((NCASE + 1)) "$IT_DIR/drop.all" | sort | uniq -c | awk '{ printf "%s%dx%s %s %s", sep, $1, $3, $4, $5; sep = ", " }')" \
	"$(printf '%dx%s %s %s, %dx%s %s %s' "$FF" reassembly-full "$FLEN" dpdk0 "$FT" reassembly-timeout "$FLEN" dpdk0)"
expect_eq "drop-in source and destination (all but the NS)" \
	"$(drops | awk '$2 != "nd-bad-hop-limit" { print $5, $6 }' | sort -u)" "$PEER $ME"

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
expect_counter drop.in.reassembly-timeout $((1 + FT))
expect_counter drop.in.reassembly-full "$FF"
# overlap 3, timeout 1, the flood, and the 3 pings of 3000 bytes in 3 each.
expect_eq "fragments received (ipv6:receive)" "$FM" $((3 + 1 + RECV + 3 * 3))
expect_counter frag.in "$FM"
expect_counter frag.reassembled 3
expect_counter frag.held 0
# The most held at once: the table's cap, never more (reassembly counts it;
# bpftrace sees receive for a whole burst before reassembly decides any).
expect_counter frag.held_peak "$HELD_MAX"
expect_counter icmp6.errors_out $((2 + NTE))
# 1 before, 1 after each of the 6 cases, 1 during the flood, 3 at the end.
expect_counter icmp6.echo_replies $((1 + 6 + 1 + 3))
