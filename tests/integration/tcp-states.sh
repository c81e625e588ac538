#!/bin/bash
#
# tcp-states: probes/tcpstates.bt and probes/tcpconnect.bt (as shipped)
# and a script of the tcp provider's other probes, attached to sonded
# before it starts, show each connection's states (RFC 9293 3.3.2) as they
# must be:
#
#   the listener (--service tcp:80=http)  CLOSED -> LISTEN
#   curl downloads /bytes/N (curl closes) LISTEN -> SYN_RECEIVED ->
#       ESTABLISHED -> CLOSE_WAIT -> LAST_ACK -> CLOSED
#   curl -0, HTTP/1.0 (sonded closes)     LISTEN -> SYN_RECEIVED ->
#       ESTABLISHED -> FIN_WAIT_1 [-> FIN_WAIT_2 | CLOSING] -> TIME_WAIT
#   --fetch from a Linux nc -N -l         CLOSED -> SYN_SENT -> ESTABLISHED
#       (the peer closes)                 -> CLOSE_WAIT -> LAST_ACK -> CLOSED
#   --fetch /PATH from a Linux nc -l that  CLOSED -> SYN_SENT -> ESTABLISHED
#       answers and keeps the connection  -> FIN_WAIT_1 [-> FIN_WAIT_2 |
#       (sonded closes at the body's end)  CLOSING] -> TIME_WAIT
#   --fetch to a closed Linux port        CLOSED -> SYN_SENT -> CLOSED, the
#       fetch fails with ECONNREFUSED, tcpconnect.bt prints request then
#       refused, and tcp:::connect-refused fires after the receive of the RST
#   a SYN from Linux to a closed port     tcp:::accept-refused, for the RST
#       of sonded (both families)          sent, after its tcp:::send
#
# and tcp:::connect-request after the send of the first SYN, as
# docs/probes.md has them.
#
#   tests/integration/tcp-states.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

{ command -v curl && command -v nc; } >/dev/null || skip "needs curl and nc"
ME=10.89.0.2
PEER=10.89.0.1
ME6=fd89::2
PEER6=fd89::1

netns_new6 NS
sonded_netns
tap_new TAP

in_ns "$NS" timeout --foreground 90 bash -c "echo 'from nc' | nc -N -4 -l 5000" >"$IT_DIR/nc.out" 2>&1 &
proc_register $! nc
# Without -N: nc keeps the connection until sonded closes it.
in_ns "$NS" timeout --foreground 90 bash -c "printf 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' | nc -4 -l 5002" \
	>"$IT_DIR/nc2.out" 2>&1 &
proc_register $! nc2
listening() { in_ns "$NS" ss -Htln | grep -q ":$1 "; }
wait_for 20 "nc -l on port 5000" listening 5000
wait_for 20 "nc -l on port 5002" listening 5002

# Every tcp probe but state-change: NAME C-ID LPORT RPORT FLAGS PKT_ADDR
# (C-ID 0: no connection).
{
	echo '#include <sonde/tcp_provider.h>'
	for p in send receive connect__request connect__established connect__refused \
		accept__established accept__refused; do
		cat <<BT
usdt:$SONDED:tcp:$p
{
	\$c = (uint64)0;
	if (arg1 != 0) { \$c = ((struct csinfo_t *)arg1)->cs_cid; }
	printf("%s %d %d %d %d %x\n", "${p/__/-}", \$c, ((struct tcpsinfo_t *)arg3)->tcps_lport,
	    ((struct tcpsinfo_t *)arg3)->tcps_rport, ((struct tcpinfo_t *)arg4)->tcp_flags,
	    ((struct pktinfo_t *)arg0)->pkt_addr);
}
BT
	done
} >"$IT_DIR/tcp-events.bt"

bpf_start BTS "$IT_DIR/tcpstates.out" "$SONDE_SRC/probes/tcpstates.bt" "$SONDED"
bpf_start BTC "$IT_DIR/tcpconnect.out" "$SONDE_SRC/probes/tcpconnect.bt" "$SONDED"
bpf_start BTE "$IT_DIR/events.out" "$IT_DIR/tcp-events.bt"

sonded_start "$TAP" --addr dpdk0=$ME/24 --addr dpdk0=$ME6/64 --service tcp:80=http \
	--fetch $PEER:5000="$IT_DIR/fetch.out" --fetch $PEER:5999="$IT_DIR/refused.out" \
	--fetch $PEER:5002/x="$IT_DIR/fetch2.out"
tap_to_ns6 "$TAP" "$NS" $PEER6/64 $PEER/24

lin()
{
	local secs=$1
	shift
	in_ns "$NS" timeout --foreground -k 2 "$secs" "$@"
}

fetched() { [ "$(grep -c '^fetch:' "$SONDED_OUT")" -ge 3 ]; }
wait_for 60 "sonded's three fetches to end" fetched
expect_eq "the fetch from nc" "$(cat "$IT_DIR/fetch.out")" "from nc"
expect_eq "the fetch of /x from nc" "$(cat "$IT_DIR/fetch2.out")" "hello"
line=$(grep -F "from $PEER:5999=" "$SONDED_OUT")
case $line in
"fetch: error ECONNREFUSED "*) ok "$line" ;;
*) fail "fetch from a closed port: '$line', want 'fetch: error ECONNREFUSED ...'" ;;
esac

# Two downloads: HTTP/1.1 (curl closes first), HTTP/1.0 (sonded does).
P11=$(lin 20 curl -sS --fail -o "$IT_DIR/dl" -w '%{local_port}' "http://$ME/bytes/100000") || fail "curl HTTP/1.1"
expect_eq "bytes of the HTTP/1.1 download" "$(stat -c %s "$IT_DIR/dl")" 100000
P10=$(lin 20 curl -0 -sS --fail -o "$IT_DIR/dl" -w '%{local_port}' "http://$ME/bytes/100000") || fail "curl HTTP/1.0"
expect_eq "bytes of the HTTP/1.0 download" "$(stat -c %s "$IT_DIR/dl")" 100000

# SYNs to a closed port of sonded.
REFUSED='import socket, sys
try:
    socket.create_connection((sys.argv[1], 81), timeout=10)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit("not refused")'
lin 20 "$IT_PY" -c "$REFUSED" $ME || fail "a connect to $ME port 81: not refused"
lin 20 "$IT_PY" -c "$REFUSED" $ME6 || fail "a connect to [$ME6] port 81: not refused"
ok "Linux's connects to port 81 refused, both families"

# The last states: the HTTP/1.0 connection's TIME_WAIT, the HTTP/1.1
# one's CLOSED; the two accept-refused.
wait_file_lines "$IT_DIR/tcpstates.out" 1 10 " $P10 +[A-Z_0-9]+ +-> TIME_WAIT "
wait_file_lines "$IT_DIR/tcpstates.out" 1 10 " $P11 +LAST_ACK +-> CLOSED "
wait_file_lines "$IT_DIR/tcpstates.out" 1 10 " 5002 +[A-Z_0-9]+ +-> TIME_WAIT "
wait_file_lines "$IT_DIR/events.out" 2 10 '^accept-refused '
wait_file_lines "$IT_DIR/tcpconnect.out" 6 10 ' (request|established|refused) '
bpf_stop "$BTS"
bpf_stop "$BTC"
bpf_stop "$BTE"
say "tcpstates.bt:"
sed 's/^/    /' "$IT_DIR/tcpstates.out"
say "tcpconnect.bt:"
sed 's/^/    /' "$IT_DIR/tcpconnect.out"

# states CID: a connection's changes, "OLD>NEW ..." (tcpstates.bt's lines:
# TIME C-ID LADDR LPORT RADDR RPORT OLD -> NEW MS).
states() { awk -v c="$1" '$2 == c && $8 == "->" { printf "%s%s>%s", sep, $7, $9; sep = " " }' "$IT_DIR/tcpstates.out"; }
# cid_of LPORT RPORT: the C-ID of the connection with those ports.
cid_of() { awk -v l="$1" -v r="$2" '$4 == l && $6 == r && $8 == "->" { print $2; exit }' "$IT_DIR/tcpstates.out"; }

L=$(awk '$4 == 80 && $7 == "CLOSED" && $9 == "LISTEN" { n++ } END { print n + 0 }' "$IT_DIR/tcpstates.out")
expect_ge "listeners on port 80 going CLOSED -> LISTEN" "$L" 1
C11=$(cid_of 80 "$P11")
expect_eq "curl HTTP/1.1 (port $P11), curl closes: its connection's states" "$(states "$C11")" \
	"LISTEN>SYN_RECEIVED SYN_RECEIVED>ESTABLISHED ESTABLISHED>CLOSE_WAIT CLOSE_WAIT>LAST_ACK LAST_ACK>CLOSED"
# closer_ok WHAT STATES-BEFORE STATES: the states of a connection sonded
# closed first: its FIN acknowledged before the peer's (FIN_WAIT_2),
# with it (straight to TIME_WAIT) or after it (CLOSING).
closer_ok()
{
	local pre="$2 ESTABLISHED>FIN_WAIT_1"
	case $3 in
	"$pre FIN_WAIT_1>FIN_WAIT_2 FIN_WAIT_2>TIME_WAIT" | "$pre FIN_WAIT_1>TIME_WAIT" | \
		"$pre FIN_WAIT_1>CLOSING CLOSING>TIME_WAIT")
		ok "$1: $3" ;;
	*) fail "$1: states '$3'" ;;
	esac
}
closer_ok "curl HTTP/1.0 (port $P10), sonded closes" "LISTEN>SYN_RECEIVED SYN_RECEIVED>ESTABLISHED" \
	"$(states "$(cid_of 80 "$P10")")"
closer_ok "--fetch /x from nc -l, sonded closes" "CLOSED>SYN_SENT SYN_SENT>ESTABLISHED" \
	"$(states "$(awk '$6 == 5002 && $8 == "->" { print $2; exit }' "$IT_DIR/tcpstates.out")")"
CF=$(awk -v r=5000 '$6 == r && $8 == "->" { print $2; exit }' "$IT_DIR/tcpstates.out")
expect_eq "--fetch from nc (the peer closes): the states" "$(states "$CF")" \
	"CLOSED>SYN_SENT SYN_SENT>ESTABLISHED ESTABLISHED>CLOSE_WAIT CLOSE_WAIT>LAST_ACK LAST_ACK>CLOSED"
CR=$(awk -v r=5999 '$6 == r && $8 == "->" { print $2; exit }' "$IT_DIR/tcpstates.out")
expect_eq "--fetch to a closed port: the states" "$(states "$CR")" "CLOSED>SYN_SENT SYN_SENT>CLOSED"

# tcpconnect.bt: each fetch's request and outcome, by C-ID.
expect_eq "tcpconnect.bt for the fetch from nc" \
	"$(awk -v c="$CF" '$2 == c { printf "%s %s:%s; ", $3, $6, $7 }' "$IT_DIR/tcpconnect.out")" \
	"request $PEER:5000; established $PEER:5000; "
expect_eq "tcpconnect.bt for the refused fetch" \
	"$(awk -v c="$CR" '$2 == c { printf "%s %s:%s; ", $3, $6, $7 }' "$IT_DIR/tcpconnect.out")" \
	"request $PEER:5999; refused $PEER:5999; "

# The order of the probes of a segment (docs/probes.md): connect-request
# after the send of the first SYN, connect-established and -refused after
# the receive of the SYN-ACK or RST, accept-established after the receive
# of the final ACK, accept-refused after the send of the RST; each the same
# segment (pkt_addr) as the send or receive before it.  TH_SYN 2, TH_RST 4,
# TH_ACK 16.
awk '
function has(f, b) { return int(f / b) % 2 }
function bad(m) { printf "line %d: %s: %s (before: %s)\n", NR, m, $0, prev; err = 1 }
$1 ~ /^(send|receive|connect-request|connect-established|connect-refused|accept-established|accept-refused)$/ {
	if ($1 == "connect-request" && !(p1 == "send" && has(pf, 2) && !has(pf, 16))) bad("not after the send of a SYN")
	if ($1 == "connect-established" && !(p1 == "receive" && has(pf, 2) && has(pf, 16))) bad("not after the receive of a SYN-ACK")
	if ($1 == "connect-refused" && !(p1 == "receive" && has(pf, 4))) bad("not after the receive of a RST")
	if ($1 == "accept-established" && !(p1 == "receive" && !has(pf, 2) && has(pf, 16))) bad("not after the receive of an ACK")
	if ($1 == "accept-refused" && !(p1 == "send" && has(pf, 4) && pc == 0)) bad("not after the send of a RST of no connection")
	if ($1 != "send" && $1 != "receive" && ($6 != pa || $2 != pc)) bad("not the segment of the probe before")
	if ($1 ~ /^(connect|accept)-/) n[$1]++
	prev = $0; p1 = $1; pc = $2; pf = $5; pa = $6
}
END {
	for (k in n) printf "%s %d\n", k, n[k] > "/dev/stderr"
	exit err
}' "$IT_DIR/events.out" >"$IT_DIR/order.out" 2>"$IT_DIR/order.n" || {
	cat "$IT_DIR/order.out" >&2
	fail "tcp:::connect-*/accept-* not where docs/probes.md puts them"
}
ok "tcp:::connect-* and accept-* each after its segment's send or receive: $(sort "$IT_DIR/order.n" | tr '\n' ' ')"
expect_eq "accept-refused (Linux's SYNs to port 81, both families)" "$(grep -c '^accept-refused 0 81 ' "$IT_DIR/events.out")" 2
expect_eq "connect-refused (the fetch to port 5999)" "$(grep -c "^connect-refused $CR " "$IT_DIR/events.out")" 1
expect_eq "accept-established (the two curls)" "$(grep -c '^accept-established ' "$IT_DIR/events.out")" 2

sonded_stop
# Each segment of no connection dropped: the two SYNs to port 81, and the
# RSTs Linux sent to the refused fetch's SYNs past the first (a SYN sent
# again while the first waited for ARP is answered too).
N0=$(grep -c '^receive 0 ' "$IT_DIR/events.out")
expect_ge "segments of no connection received" "$N0" 2
expect_counter drop.in.tcp-no-socket "$N0"
