#!/bin/bash
#
# tcp-synflood: 10,000 SYNs to sonded's http listener (port 80, backlog
# 1024, apps/services.c) from random addresses of 10.200.0.0/16
# (synflood.py), and a real client (curl) connects and downloads during
# the flood.
#
# Where the SYN-ACKs go: 10.200.0.0/16 is routed by sonded via the Linux
# end of the link (--route), so sonded resolves one neighbour, not 10,000
# (ARP would be the bottleneck), and Linux, which does not forward, drops
# them.  Once 1024 connections are half-open (each in SYN_RECEIVED for a
# minute, its SYN-ACK sent again 5 times), every further SYN is answered
# with a SYN cookie (RFC 4987 3.6): curl, started once the first cookie
# went out, completes its handshake with one (tcp.syncookies_ok).
#
# What the tcp probes (one script) count, and must agree with: every SYN
# sent received by sonded, and answered by one first SYN-ACK, from a
# half-open connection (the backlog's worth) or statelessly with a cookie
# (no connection: arg1 NULL); sonded's counters the same.  Then, the queue
# still full, 10 bare ACKs with no cookie of sonded's get a RST each
# (tcp.syncookies_failed, drop-in tcp-bad-cookie).
#
#   tests/integration/tcp-synflood.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || skip "needs curl"
"$IT_PY" -c 'import scapy.all' 2>/dev/null || skip "needs python3-scapy"
N=10000
BACKLOG=1024
ME=10.86.0.2
PEER=10.86.0.1

netns_new NS
sonded_netns
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/24 --route 10.200.0.0/16 via $PEER --service tcp:80=http
tap_to_ns "$TAP" "$NS" $PEER/24
LMAC=$(ns_mac "$NS" "$TAP")

# The flood's segments only (source or destination in 10.200/16): SYNs
# received; first SYN-ACKs sent with a connection (half-open) and without
# (cookies); SYN-ACKs sent again.  "cookie" printed at the first cookie.
cat >"$IT_DIR/flood.bt" <<BT
#include <sonde/tcp_provider.h>
usdt:$SONDED:tcp:receive
/strncmp(((struct ipinfo_t *)arg2)->ip_saddr, "10.200.", 7) == 0/
{
	if (((struct tcpinfo_t *)arg4)->tcp_flags == 2) { @syn = count(); }
	else if (((struct tcpinfo_t *)arg4)->tcp_flags == 16) { @ack = count(); }
	else { @other_in = count(); }
}
usdt:$SONDED:tcp:send
/strncmp(((struct ipinfo_t *)arg2)->ip_daddr, "10.200.", 7) == 0/
{
	if (((struct tcpinfo_t *)arg4)->tcp_flags == 4) { printf("rst\n"); @rst = count(); }
	else if (((struct tcpinfo_t *)arg4)->tcp_flags != 18) { @other_out = count(); }
	else if (((struct tcpsinfo_t *)arg3)->tcps_retransmit) { @synack_again = count(); }
	else if (arg1 != 0) { @synack_halfopen = count(); }
	else {
		@synack_cookie = count();
		if (@cookie_seen == 0) { printf("cookie\n"); @cookie_seen = 1; }
	}
}
usdt:$SONDED:tcp:accept__established
{
	printf("accept-established %s %d\n", ((struct tcpsinfo_t *)arg3)->tcps_raddr,
	    ((struct tcpsinfo_t *)arg3)->tcps_rport);
}
BT
bpf_start BT "$IT_DIR/flood.out" "$IT_DIR/flood.bt"

DROP0=$(in_ns "$NS" cat "/sys/class/net/$TAP/statistics/tx_dropped")
say "Linux: $N SYNs from 10.200.0.0/16 to $ME:80"
T0=$(it_now_ms)
in_ns "$NS" timeout --foreground -k 2 60 "$IT_PY" "$(dirname "$0")/synflood.py" "$TAP" "$LMAC" "${SONDED_MAC[0]}" \
	$ME $N 10.200 80 >"$IT_DIR/synflood.out" 2>&1 &
FLOOD=$!
proc_register $FLOOD synflood.py

# curl, once the half-open queue is full (the first cookie), while the
# flood goes on if it still does.
cookie_or_gone() { grep -q '^cookie$' "$IT_DIR/flood.out" || ! proc_alive $FLOOD; }
wait_for 60 "the first SYN cookie" cookie_or_gone
grep -q '^cookie$' "$IT_DIR/flood.out" || fail "no SYN cookie before the flood ended: $(cat "$IT_DIR/synflood.out")"
say "first SYN cookie after $((($(it_now_ms) - T0) / 1000)) s; flood still running: $(proc_alive $FLOOD && echo yes || echo no)"
in_ns "$NS" timeout --foreground -k 2 30 curl -sS -o "$IT_DIR/dl" \
	-w '%{http_code} %{size_download} %{local_port} %{time_connect}\n' "http://$ME/bytes/1000000" \
	>"$IT_DIR/curl.out" 2>&1 || fail "curl during the flood: $(cat "$IT_DIR/curl.out")"
read -r code size CPORT tconn <"$IT_DIR/curl.out"
expect_eq "curl during the flood: status and bytes" "$code $size" "200 1000000"
say "curl: connected in ${tconn}s from port $CPORT"

proc_wait_exit $FLOOD 60 || fail "synflood.py still running after 60 s"
wait $FLOOD || fail "synflood.py: $(cat "$IT_DIR/synflood.out")"
proc_unregister $FLOOD
SENT=$(tail -1 "$IT_DIR/synflood.out")
expect_eq "SYNs synflood.py sent" "$SENT" $N
DROPPED=$(($(in_ns "$NS" cat "/sys/class/net/$TAP/statistics/tx_dropped") - DROP0))
say "sends the tap refused (its queue full; synflood.py sent them again): $DROPPED"

# While the half-open queue is full: 10 bare ACKs from the flood's prefix
# carrying no cookie of ours; each gets a RST (tcp-bad-cookie, RFC 4987:
# an ACK with a bad cookie is treated as if no connection existed).
in_ns "$NS" timeout --foreground -k 2 60 "$IT_PY" "$(dirname "$0")/synflood.py" "$TAP" "$LMAC" "${SONDED_MAC[0]}" \
	$ME 10 10.200 80 A >"$IT_DIR/acks.out" 2>&1 || fail "synflood.py A: $(cat "$IT_DIR/acks.out")"
rsts() { [ "$(awk '$1 == "rst" { n++ } END { print n + 0 }' "$IT_DIR/flood.out")" -ge 10 ]; }
wait_for 10 "sonded's RSTs to the 10 ACKs" rsts
bpf_stop "$BT"
m() { awk -v k="@$1:" '$1 == k { print $2 }' "$IT_DIR/flood.out"; }
SYN=$(m syn)
HALF=$(m synack_halfopen)
COOKIE=$(m synack_cookie)
say "probes: SYNs received ${SYN:-0}, first SYN-ACKs half-open ${HALF:-0} and with a cookie ${COOKIE:-0}," \
	"SYN-ACKs again $(m synack_again), ACKs $(m ack), RSTs $(m rst), other segments in $(m other_in) out $(m other_out)"
expect_eq "SYNs received by sonded (tcp:::receive)" "${SYN:-0}" $N
expect_eq "SYNs answered by a first SYN-ACK (half-open + cookie)" $((${HALF:-0} + ${COOKIE:-0})) "${SYN:-0}"
expect_eq "half-open connections made (the backlog: the queue full, none expired yet)" "${HALF:-0}" $BACKLOG
expect_ge "SYN cookies sent" "${COOKIE:-0}" 1
expect_eq "curl's connection accepted (accept-established 10.86.0.1 $CPORT)" \
	"$(grep -c "^accept-established $PEER $CPORT\$" "$IT_DIR/flood.out")" 1

sonded_stop
# The flood's cookies and curl's: its SYN came when the half-open queue
# was full, and its ACK carried the cookie back.
expect_counter tcp.syncookies_sent $((COOKIE + 1))
expect_counter tcp.syncookies_ok 1
expect_eq "bare ACKs received, RSTs sent for them" "$(m ack) $(m rst)" "10 10"
expect_counter tcp.syncookies_failed 10
expect_counter drop.in.tcp-bad-cookie 10
expect_counter tcp.passive_opens $((BACKLOG + 1))
