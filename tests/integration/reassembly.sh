#!/bin/bash
#
# reassembly: datagrams up to 65,535 bytes, in as many fragments as they
# come in, reassembled and answered, both families (sonde's own
# reassembly; rte_ip_frag held 8 fragments a datagram at most):
#
#   ping -s 65000 and ping -6 -s 65000 from Linux    answered, data intact
#     (45 fragments at MTU 1500 each way)
#   a UDP datagram of 20 fragments (scapy) to the    echoed back whole
#     echo service
#   a datagram whose first fragment alone carries   reassembled and echoed in
#     IP options (RFC 791 lets it: a record route),  each of the 6 orders of
#     the last one a longer header (a copied         its 3 fragments
#     option)
#
# and sonded's counters agree (frag.reassembled, no drop), no mbuf is left.
#
#   tests/integration/reassembly.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

ME4=10.94.0.2
PEER4=10.94.0.1
ME6=fd00:94::2
PEER6=fd00:94::1
N=3

"$IT_PY" -c 'import scapy.all' 2>/dev/null || skip "needs python3-scapy"
netns_new6 NS
sonded_netns
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME4/24 --addr dpdk0=$ME6/64 --service udp:7=echo
tap_to_ns6 "$TAP" "$NS" $PEER6/64 $PEER4/24
SMAC=${SONDED_MAC[0]}

for dst in $ME4 $ME6; do
	say "Linux: ping -c $N -s 65000 $dst"
	in_ns "$NS" timeout --foreground -k 2 60 ping -n -c $N -i 0.5 -W 5 -s 65000 "$dst" \
		>"$IT_DIR/ping-$dst.out" 2>&1
	grep -q "$N packets transmitted, $N received," "$IT_DIR/ping-$dst.out" || {
		cat "$IT_DIR/ping-$dst.out" >&2
		fail "ping -s 65000 $dst: not every ping was answered"
	}
	grep -Eq 'wrong data|DUP|truncated' "$IT_DIR/ping-$dst.out" && {
		cat "$IT_DIR/ping-$dst.out" >&2
		fail "ping -s 65000 $dst: replies with wrong data"
	}
	ok "all $N pings of 65000 bytes to $dst answered, data intact"
done

scapy_run()
{
	in_ns "$NS" timeout --foreground -k 2 120 "$IT_PY" "$(dirname "$0")/reassembly.py" "$TAP" \
		"$SMAC" $PEER4 $ME4 "$1" >"$IT_DIR/scapy-$1.out" 2>&1 || {
		cat "$IT_DIR/scapy-$1.out" >&2
		fail "scapy $1: not every datagram came back whole"
	}
	expect_eq "datagrams echoed ($1)" "$(grep -c '^echoed' "$IT_DIR/scapy-$1.out")" "$2"
}
scapy_run many 1
scapy_run options 6

sonded_stop
# Each ping's request reassembled (both families), the 20-fragment
# datagram, the 6 with options.
expect_counter frag.reassembled $((2 * N + 1 + 6))
expect_counter frag.held 0
expect_counter drop.in.frag-overlap 0
expect_counter drop.in.frag-too-many 0
expect_counter drop.in.reassembly-full 0
expect_counter drop.in.udp-bad-checksum 0
expect_counter drop.in.icmp-bad-checksum 0
expect_counter service.udp.echoed 7
expect_counter icmp.echo_replies $N
expect_counter icmp6.echo_replies $N
