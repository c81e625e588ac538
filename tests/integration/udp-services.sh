#!/bin/bash
#
# udp-services: sonded's UDP services on the socket API (--service
# udp:PORT=KIND, apps/services.c), both families, Linux the client
# (udp-services.py): echo (RFC 862) of 10,000 datagrams of 16 to 1400
# bytes with at most 200 unanswered at a time, none lost, each intact;
# chargen (RFC 864) answers each datagram with 0 to 512 bytes of the
# pattern; discard (RFC 863) answers nothing.  sonded's service counters
# agree, and it exits with every mbuf back.
#
#   tests/integration/udp-services.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

COUNT=10000
WINDOW=200
ME=10.94.0.2
PEER=10.94.0.1
ME6=fd94::2
PEER6=fd94::1

netns_new6 NS
sonded_netns
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/24 --addr dpdk0=$ME6/64 \
	--service udp:7=echo --service udp:9=discard --service udp:19=chargen
tap_to_ns6 "$TAP" "$NS" $PEER6/64 $PEER/24

for a in $ME $ME6; do
	say "Linux: udp-services.py $a $COUNT $WINDOW"
	in_ns "$NS" timeout --foreground -k 2 90 "$IT_PY" "$(dirname "$0")/udp-services.py" \
		$a $COUNT $WINDOW >"$IT_DIR/udp.$a.out" 2>&1 || {
		cat "$IT_DIR/udp.$a.out" >&2
		fail "UDP services on $a"
	}
	while read -r line; do ok "$a: $line"; done <"$IT_DIR/udp.$a.out"
done

sonded_stop
# Each family: COUNT echoes and the one after the discards.
expect_counter service.udp.echoed $((2 * (COUNT + 1)))
expect_counter service.udp.discarded 40
expect_counter service.udp.chargen 40
expect_counter service.udp.send_failed 0
