#!/bin/bash
#
# telemetry: while sonded runs, /sonde/stats over its DPDK telemetry socket
# answers JSON whose ipv4.in and icmp.echo_replies follow the pings Linux
# sends (0 before, N after), and agree with the counters sonded prints when
# it stops.
#
#   tests/integration/telemetry.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

N=7
ME=10.93.0.2
PEER=10.93.0.1

netns_new NS
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/24
tap_to_ns "$TAP" "$NS" $PEER/24
SOCK=/var/run/dpdk/$SONDED_PREFIX/dpdk_telemetry.v2
[ -S "$SOCK" ] || fail "no telemetry socket $SOCK"

# tel_query FILE: /sonde/stats as JSON in FILE; checks the greeting's pid.
tel_query()
{
	timeout --foreground -k 2 10 "$IT_PY" "$(dirname "$0")/telemetry.py" "$SOCK" /sonde/stats >"$1" 2>"$1.err" || {
		cat "$1.err" >&2
		fail "telemetry query failed"
	}
	grep -qx "pid $SONDED_PID" "$1.err" || fail "telemetry greeting is not from sonded ($SONDED_PID): $(cat "$1.err")"
}
# tel_get FILE NAME: counter NAME from a /sonde/stats answer.  DPDK 22.11
# takes only [A-Za-z0-9_/] in keys: sonded serves ipv4.in as ipv4_in.
tel_get()
{
	"$IT_PY" -c 'import json, re, sys
print(json.load(open(sys.argv[1])).get(re.sub("[^A-Za-z0-9_/]", "_", sys.argv[2]), "absent"))' "$1" "$2"
}

tel_query "$IT_DIR/before.json"
expect_eq "telemetry ipv4.in before the pings" "$(tel_get "$IT_DIR/before.json" ipv4.in)" 0
say "Linux: ping -c $N $ME"
in_ns "$NS" timeout --foreground -k 2 30 ping -n -c $N -i 0.2 -W 2 $ME >"$IT_DIR/ping.out" 2>&1 || {
	cat "$IT_DIR/ping.out" >&2
	fail "pings not answered"
}
ok "$N pings answered"
tel_query "$IT_DIR/after.json"
say "/sonde/stats: $(cut -c1-300 "$IT_DIR/after.json")..."
expect_eq "telemetry ipv4.in after $N pings" "$(tel_get "$IT_DIR/after.json" ipv4.in)" $N
expect_eq "telemetry icmp.echo_replies" "$(tel_get "$IT_DIR/after.json" icmp.echo_replies)" $N
expect_eq "telemetry drop.in.bad-checksum (a zero counter is there too)" \
	"$(tel_get "$IT_DIR/after.json" drop.in.bad-checksum)" 0

NKEYS=$("$IT_PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$IT_DIR/after.json")
expect_ge "counters served (zeros included)" "$NKEYS" 40

sonded_stop
# Nothing arrived after the query: every counter sonded prints at the end
# has the same value in telemetry's answer.
sed -n '/^stopping$/,$p' "$SONDED_OUT" | sed '1d' | grep -v '^mbufs_in_use' >"$IT_DIR/final.txt"
while read -r c v; do
	echo "$c $v $(tel_get "$IT_DIR/after.json" "$c")"
done <"$IT_DIR/final.txt" >"$IT_DIR/final-vs-telemetry.txt"
expect_ge "final counters" "$(wc -l <"$IT_DIR/final.txt")" 10
awk '$2 != $3 { print "    " $0; bad = 1 } END { exit bad }' "$IT_DIR/final-vs-telemetry.txt" ||
	fail "final counters (name, final, telemetry) differ from telemetry's"
ok "every final counter ($(wc -l <"$IT_DIR/final.txt")) has the same value in /sonde/stats"
