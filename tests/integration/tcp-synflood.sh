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
# Then the same over IPv6, smaller: 1500 SYNs from fd00:200::/64 (routed
# the same way) to the IPv6 listener, and curl -6 during them.
#
#   tests/integration/tcp-synflood.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || skip "needs curl"
"$IT_PY" -c 'import scapy.all' 2>/dev/null || skip "needs python3-scapy"
N=10000
N6=1500
BACKLOG=1024
ME=10.86.0.2
PEER=10.86.0.1
ME6=fd86::2
PEER6=fd86::1

netns_new6 NS
sonded_netns
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/24 --addr dpdk0=$ME6/64 --route 10.200.0.0/16 via $PEER \
	--route fd00:200::/64 via $PEER6 --service tcp:80=http
tap_to_ns6 "$TAP" "$NS" $PEER6/64 $PEER/24
LMAC=$(ns_mac "$NS" "$TAP")

# The flood's segments only (an end in 10.200/16 or fd00:200::/64), by
# family: SYNs and bare ACKs received; first SYN-ACKs sent with a
# connection (half-open) and without (cookies); SYN-ACKs sent again; RSTs.
# "cookie 4" (or 6) printed at the family's first cookie.
cat >"$IT_DIR/flood.bt" <<BT
#include <sonde/tcp_provider.h>
usdt:$SONDED:tcp:receive
/strncmp(((struct ipinfo_t *)arg2)->ip_saddr, "10.200.", 7) == 0 ||
 strncmp(((struct ipinfo_t *)arg2)->ip_saddr, "fd00:200:", 9) == 0/
{
	\$v = ((struct ipinfo_t *)arg2)->ip_ver;
	if (((struct tcpinfo_t *)arg4)->tcp_flags == 2) { @syn[\$v] = count(); }
	else if (((struct tcpinfo_t *)arg4)->tcp_flags == 16) { @ack[\$v] = count(); }
	else { @other_in[\$v] = count(); }
}
usdt:$SONDED:tcp:send
/strncmp(((struct ipinfo_t *)arg2)->ip_daddr, "10.200.", 7) == 0 ||
 strncmp(((struct ipinfo_t *)arg2)->ip_daddr, "fd00:200:", 9) == 0/
{
	\$v = ((struct ipinfo_t *)arg2)->ip_ver;
	if (((struct tcpinfo_t *)arg4)->tcp_flags == 4) { printf("rst %d\n", \$v); @rst[\$v] = count(); }
	else if (((struct tcpinfo_t *)arg4)->tcp_flags != 18) { @other_out[\$v] = count(); }
	else if (((struct tcpsinfo_t *)arg3)->tcps_retransmit) { @synack_again[\$v] = count(); }
	else if (arg1 != 0) { @synack_halfopen[\$v] = count(); }
	else {
		@synack_cookie[\$v] = count();
		if (@cookie_seen[\$v] == 0) { printf("cookie %d\n", \$v); @cookie_seen[\$v] = 1; }
	}
}
usdt:$SONDED:tcp:accept__established
{
	printf("accept-established %s %d\n", ((struct tcpsinfo_t *)arg3)->tcps_raddr,
	    ((struct tcpsinfo_t *)arg3)->tcps_rport);
}
BT
bpf_start BT "$IT_DIR/flood.out" "$IT_DIR/flood.bt"

# flood V DST COUNT PREFIX URL: COUNT SYNs from PREFIX to DST:80, and curl
# URL (1 MB) once the half-open queue is full (the family's first cookie),
# while the flood goes on if it still does.  Sets CPORT (curl's port).
flood()
{
	local v=$1 dst=$2 n=$3 prefix=$4 url=$5 pid t0 drop0 code size tconn
	drop0=$(in_ns "$NS" cat "/sys/class/net/$TAP/statistics/tx_dropped")
	say "Linux: $n SYNs from $prefix to $dst port 80"
	t0=$(it_now_ms)
	in_ns "$NS" timeout --foreground -k 2 60 "$IT_PY" "$(dirname "$0")/synflood.py" "$TAP" "$LMAC" \
		"${SONDED_MAC[0]}" "$dst" "$n" "$prefix" 80 >"$IT_DIR/synflood$v.out" 2>&1 &
	pid=$!
	proc_register $pid synflood.py
	cookie_or_gone() { grep -q "^cookie $v\$" "$IT_DIR/flood.out" || ! proc_alive "$pid"; }
	wait_for 60 "the first SYN cookie (IPv$v)" cookie_or_gone
	grep -q "^cookie $v\$" "$IT_DIR/flood.out" ||
		fail "no SYN cookie before the IPv$v flood ended: $(cat "$IT_DIR/synflood$v.out")"
	say "first SYN cookie after $((($(it_now_ms) - t0) / 1000)) s; flood still running: $(proc_alive $pid && echo yes || echo no)"
	in_ns "$NS" timeout --foreground -k 2 30 curl -sS -g -o "$IT_DIR/dl" \
		-w '%{http_code} %{size_download} %{local_port} %{time_connect}\n' "$url/bytes/1000000" \
		>"$IT_DIR/curl.out" 2>&1 || fail "curl during the flood: $(cat "$IT_DIR/curl.out")"
	read -r code size CPORT tconn <"$IT_DIR/curl.out"
	expect_eq "curl $url during the flood: status and bytes" "$code $size" "200 1000000"
	say "curl: connected in ${tconn}s from port $CPORT"
	proc_wait_exit $pid 60 || fail "synflood.py still running after 60 s"
	wait $pid || fail "synflood.py: $(cat "$IT_DIR/synflood$v.out")"
	proc_unregister $pid
	expect_eq "SYNs synflood.py sent (IPv$v)" "$(tail -1 "$IT_DIR/synflood$v.out")" "$n"
	say "sends the tap refused (its queue full; synflood.py sent them again):" \
		"$(($(in_ns "$NS" cat "/sys/class/net/$TAP/statistics/tx_dropped") - drop0))"
}

flood 4 $ME $N 10.200 "http://$ME"
CPORT4=$CPORT

# While the half-open queue is full: 10 bare ACKs from the flood's prefix
# carrying no cookie of ours; each gets a RST (tcp-bad-cookie, RFC 4987:
# an ACK with a bad cookie is treated as if no connection existed).
in_ns "$NS" timeout --foreground -k 2 60 "$IT_PY" "$(dirname "$0")/synflood.py" "$TAP" "$LMAC" "${SONDED_MAC[0]}" \
	$ME 10 10.200 80 A >"$IT_DIR/acks.out" 2>&1 || fail "synflood.py A: $(cat "$IT_DIR/acks.out")"
rsts() { [ "$(grep -c '^rst 4$' "$IT_DIR/flood.out")" -ge 10 ]; }
wait_for 10 "sonded's RSTs to the 10 ACKs" rsts

flood 6 $ME6 $N6 fd00:200:: "http://[$ME6]"
CPORT6=$CPORT

bpf_stop "$BT"
m() { awk -v k="@$1[$2]:" '$1 == k { print $2 }' "$IT_DIR/flood.out"; }
for v in 4 6; do
	say "probes, IPv$v: SYNs received $(m syn $v), first SYN-ACKs half-open $(m synack_halfopen $v) and" \
		"with a cookie $(m synack_cookie $v), SYN-ACKs again $(m synack_again $v), ACKs $(m ack $v)," \
		"RSTs $(m rst $v), other segments in $(m other_in $v) out $(m other_out $v)"
done
SYN=$(m syn 4) HALF=$(m synack_halfopen 4) COOKIE=$(m synack_cookie 4)
SYN6=$(m syn 6) HALF6=$(m synack_halfopen 6) COOKIE6=$(m synack_cookie 6)
expect_eq "SYNs received by sonded (tcp:::receive), IPv4 IPv6" "${SYN:-0} ${SYN6:-0}" "$N $N6"
expect_eq "SYNs answered by a first SYN-ACK (half-open + cookie), IPv4 IPv6" \
	"$((${HALF:-0} + ${COOKIE:-0})) $((${HALF6:-0} + ${COOKIE6:-0}))" "$N $N6"
expect_eq "half-open connections made, IPv4 IPv6 (each listener's backlog: the queue full, none expired yet)" \
	"${HALF:-0} ${HALF6:-0}" "$BACKLOG $BACKLOG"
expect_ge "SYN cookies sent, IPv4" "${COOKIE:-0}" 1
expect_ge "SYN cookies sent, IPv6" "${COOKIE6:-0}" 1
expect_eq "curl's connections accepted (accept-established $PEER $CPORT4, $PEER6 $CPORT6)" \
	"$(grep -cE "^accept-established ($PEER $CPORT4|$PEER6 $CPORT6)\$" "$IT_DIR/flood.out")" 2
expect_eq "bare ACKs received, RSTs sent for them" "$(m ack 4) $(m rst 4)" "10 10"

sonded_stop
# The floods' cookies and the curls': each curl's SYN came when the
# half-open queue was full, and its ACK carried the cookie back.
expect_counter tcp.syncookies_sent $((COOKIE + COOKIE6 + 2))
expect_counter tcp.syncookies_ok 2
expect_counter tcp.syncookies_failed 10
expect_counter drop.in.tcp-bad-cookie 10
expect_counter tcp.passive_opens $((HALF + HALF6 + 2))
