#!/bin/bash
#
# gen-tcp: sonde-gen's TCP modes against sonded's TCP services, two DPDK
# processes joined by net_memif (sonded the server on lcore 0, sonde-gen
# a client on libsonde on lcore 1; sockets in a directory of the test's
# own).  One sonded per case, every service on:
#
#   send4   tcp-send, 2 connections to discard (tcp:9)
#   recv4   tcp-recv, 2 connections from chargen (tcp:19)
#   rr4     tcp-rr, 1 byte, 2 connections to echo (tcp:7)
#   rr6     tcp-rr, 1 KiB, 1 connection, IPv6
#   crr4    tcp-crr, 4 slots from 4 client addresses
#   crr6    the same over IPv6
#   http4   http, 4 keep-alive connections, GET /bytes/1024
#
# Checked: sonde-gen exits 0 with a nonzero rate and no error (refused,
# reset, timeout, corrupt, stalled: what it reads is checked against what
# was sent, chargen's pattern or /bytes/N's); sonded saw as many bytes or
# requests as sonde-gen counted (service.tcp.*, service.http.*), opened as
# many connections passively as sonde-gen established, closed them all
# (tcp.curr_estab 0, service.tcp.closed = accepted), dropped nothing but
# what it sent before the client was there, and exits with no mbuf in use.  Each case runs a second: a
# functional test, not a benchmark.
#
#   tests/integration/gen-tcp.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

SONDE_GEN=${SONDE_GEN:-$BUILD/apps/sonde-gen}
[ -x "$SONDE_GEN" ] || fail "no sonde-gen at $SONDE_GEN (build first: ninja -C $BUILD)"
command -v jq >/dev/null || skip "no jq"
DURATION=1

SOCK_DIR=$(mktemp -d /tmp/sonde-memif.XXXXXX) || fail "mktemp"
IT_PATHS+=("$SOCK_DIR")

# memif_vdev ROLE: the link's end, each with a MAC of its own.  Rings of
# 4096 (rsize 12) ride out a process descheduled for a while.
memif_vdev()
{
	printf -- '--vdev=net_memif0,role=%s,socket=%s/memif0.sock,mac=02:00:00:77:00:%02d,rsize=12' \
		"$1" "$SOCK_DIR" "$([ "$1" = server ] && echo 1 || echo 2)"
}

json_get() { jq -er ".$2" <<<"$1"; }

# run_case CASE MODE GEN-ARGS...: sonded, then sonde-gen --mode MODE to
# its end; sets LINE to sonde-gen's --json line, sonded stopped.
run_case()
{
	local name=$1 mode=$2 prefix out rc e
	shift 2
	rm -f "$SOCK_DIR"/*.sock
	sonded_start_eal "$(memif_vdev server)" -- --addr dpdk0=10.77.0.1/24 \
		--addr dpdk0=fd77::1/64 --service tcp:7=echo --service tcp:9=discard \
		--service tcp:19=chargen --service tcp:80=http
	uniq_name prefix sgen
	IT_PREFIXES+=("$prefix")
	out=$IT_DIR/gen.$name.out
	say "$name: sonde-gen --mode $mode $* --duration $DURATION"
	timeout --foreground -k 2 30 "$SONDE_GEN" --no-huge -m 256 --no-pci --file-prefix="$prefix" \
		-l 1 "$(memif_vdev client)" --log-level='*:warning' -- --mode "$mode" "$@" \
		--duration $DURATION --json >"$out" 2>"$out.err"
	rc=$?
	[ $rc = 0 ] || {
		cat "$out" "$out.err" >&2
		fail "$name: sonde-gen exited with status $rc"
	}
	LINE=$(grep '^{' "$out" | tail -1)
	say "$name: $LINE"
	sonded_stop
	expect_eq "$name: sonde-gen's mode" "$(json_get "$LINE" mode)" "$mode"
	for e in errors refused reset timeout corrupt stalled no_port other_errors; do
		expect_eq "$name: sonde-gen's $e" "$(json_get "$LINE" $e)" 0
	done
	ESTAB=$(json_get "$LINE" established) || fail "$name: no 'established'"
	expect_ge "$name: connections established" "$ESTAB" 1
	expect_eq "$name: connections made" "$(json_get "$LINE" connects)" "$ESTAB"
	BYTES=$(json_get "$LINE" bytes) || fail "$name: no 'bytes'"
	TXNS=$(json_get "$LINE" transactions) || fail "$name: no 'transactions'"
	expect_counter tcp.passive_opens "$ESTAB"
	expect_counter service.tcp.accepted "$ESTAB"
	expect_counter service.tcp.closed "$ESTAB"
	expect_counter tcp.curr_estab 0
	expect_counter service.tcp.errors 0
	# The only drops: frames sonded sent (announcements, DAD) before
	# sonde-gen had its end of the link (gen-memif.sh), and segments
	# wholly below the window (RFC 9293 3.10.7.4: dropped and ACKed), which
	# a client whose core is taken from it retransmits after its RTO on a
	# loaded machine (seen: 4 and 58 in a run, with load 8 on 2 cores).
	expect_eq "$name: drops but at the port before the client came, and old segments" \
		"$(awk '/^stopping$/ { p = 1 } p && $1 ~ /^drop\./ && $1 !~ /^drop\.(out\.(link-)?tx-queue-full|in\.tcp-out-of-window)$/ { v += $2 } END { print v + 0 }' "$SONDED_OUT")" 0
}

# rate_nonzero CASE FIELD: the --json rate FIELD is above 0.
rate_nonzero()
{
	local v
	v=$(json_get "$LINE" "$2") || fail "$1: no '$2' in '$LINE'"
	awk -v v="$v" 'BEGIN { exit !(v > 0) }' || fail "$1: $2 is $v"
	ok "$1: $2 = $v"
}

V4="--src 10.77.0.2 --dst 10.77.0.1"
V6="--src fd77::2 --dst fd77::1"
# shellcheck disable=SC2086 # the address sets are word lists
{
	run_case send4 tcp-send $V4 --conns 2
	rate_nonzero send4 bytes_per_s
	expect_counter service.tcp.discarded_bytes "$BYTES"

	run_case recv4 tcp-recv $V4 --conns 2
	rate_nonzero recv4 bytes_per_s
	expect_counter service.tcp.chargen_bytes "$BYTES"

	run_case rr4 tcp-rr $V4 --conns 2 --req 1
	rate_nonzero rr4 transactions_per_s
	expect_counter service.tcp.echoed_bytes "$TXNS"
	expect_ge "rr4: latency recorded (max, us)" "$(json_get "$LINE" lat_us_max | cut -d. -f1)" 1

	run_case rr6 tcp-rr $V6 --conns 1 --req 1024
	rate_nonzero rr6 transactions_per_s
	expect_counter service.tcp.echoed_bytes $((TXNS * 1024))

	run_case crr4 tcp-crr --src 10.77.0.2 --src-count 4 --dst 10.77.0.1 --conns 4
	rate_nonzero crr4 transactions_per_s
	expect_eq "crr4: a transaction per connection" "$TXNS" "$ESTAB"
	expect_counter service.tcp.echoed_bytes "$TXNS"

	run_case crr6 tcp-crr --src fd77::2 --src-count 4 --dst fd77::1 --conns 4
	rate_nonzero crr6 transactions_per_s
	expect_eq "crr6: a transaction per connection" "$TXNS" "$ESTAB"

	run_case http4 http $V4 --conns 4 --resp 1024
	rate_nonzero http4 requests_per_s
	expect_counter service.http.requests "$TXNS"
	expect_counter service.http.errors 0
	expect_counter service.http.body_bytes "$BYTES"
}
