#!/bin/bash
#
# tcp-client: sonded as a TCP client (--fetch, apps/services.c), Linux the
# server, both families, in one sonded run with --exit-after-fetch:
#
#   [ADDR]:PORT=FILE        from `nc -N -l` sending a known file (32 MiB of
#                           random bytes) and closing: FILE is that file
#   [ADDR]:PORT/PATH=FILE   GET /PATH from python3 -m http.server: FILE is
#                           the file it serves (the body, by Content-Length)
#   ADDR:PORT (closed)      nothing listens: 'fetch: error ECONNREFUSED'
#
# The fetches start when sonded is ready, before the test has put the tap
# in the namespace: their SYNs wait for the link (neighbour resolution, or
# TCP's retransmission).  sonded exits by itself with status 3 (a fetch,
# the refused one, failed) and every mbuf back.
#
#   tests/integration/tcp-client.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

command -v nc >/dev/null || skip "needs nc"
ME=10.93.0.2
PEER=10.93.0.1
ME6=fd93::2
PEER6=fd93::1
SIZE=33554432

netns_new6 NS
sonded_netns
tap_new TAP
mkdir -p "$IT_DIR/www"
head -c $SIZE /dev/urandom >"$IT_DIR/www/file.bin"
SUM=$(sha256sum <"$IT_DIR/www/file.bin" | cut -d' ' -f1)

# The servers listen in the namespace before the tap comes: sonded's
# first SYN may reach them as soon as the link is up.  Their output goes
# to files: a server still holding the test's stdout (nc, once done, can
# linger until its timeout) keeps meson waiting after the test is over.
in_ns "$NS" timeout --foreground 120 nc -N -4 -l 5000 <"$IT_DIR/www/file.bin" \
	>"$IT_DIR/nc4.log" 2>&1 &
proc_register $! nc4
in_ns "$NS" timeout --foreground 120 nc -N -6 -l 5001 <"$IT_DIR/www/file.bin" \
	>"$IT_DIR/nc6.log" 2>&1 &
proc_register $! nc6
in_ns "$NS" timeout --foreground 120 "$IT_PY" -m http.server --bind :: --directory "$IT_DIR/www" 8000 \
	>"$IT_DIR/http.log" 2>&1 &
HTTPD=$!
proc_register $HTTPD http.server
listening() { in_ns "$NS" ss -Htln | grep -q ":$1 "; }
for p in 5000 5001 8000; do
	wait_for 20 "a Linux server on port $p" listening $p
done

sonded_start "$TAP" --addr dpdk0=$ME/24 --addr dpdk0=$ME6/64 \
	--fetch $PEER:5000="$IT_DIR/nc4.out" --fetch "[$PEER6]:5001=$IT_DIR/nc6.out" \
	--fetch $PEER:8000/file.bin="$IT_DIR/http4.out" --fetch "[$PEER6]:8000/file.bin=$IT_DIR/http6.out" \
	--fetch $PEER:5999="$IT_DIR/refused.out" --exit-after-fetch
tap_to_ns6 "$TAP" "$NS" $PEER6/64 $PEER/24

proc_wait_exit "$SONDED_PID" 90 || fail "sonded still running 90 s after its fetches began"
kill -TERM $HTTPD # http.server takes no SIGINT while it serves
# ... and timeout --foreground passes the TERM on to nobody: the server
# itself goes, or it lingers (and meson waits) until its 120 s are up.
pkill -TERM -f -- "--directory $IT_DIR/www" || true
wait "$SONDED_PID"
RC=$?
proc_unregister "$SONDED_PID"
say "sonded's fetches:"
grep '^fetch:' "$SONDED_OUT" | sed 's/^/    /'
expect_eq "sonded's exit status (3: a fetch failed)" "$RC" 3
expect_eq "mbufs in use when sonded stopped" "$(awk '$1 == "mbufs_in_use" { print $2 }' "$SONDED_OUT")" 0

for f in "$PEER:5000=nc4" "[$PEER6]:5001=nc6" "$PEER:8000/file.bin=http4" "[$PEER6]:8000/file.bin=http6"; do
	file=${f#*=}
	line=$(grep -F "from ${f%=*}=" "$SONDED_OUT")
	case $line in
	"fetch: $SIZE bytes in "*) ok "$line" ;;
	*) fail "fetch ${f%=*}: '$line', want $SIZE bytes" ;;
	esac
	expect_eq "sha256 of what sonded fetched from ${f%=*}" \
		"$(sha256sum <"$IT_DIR/$file.out" | cut -d' ' -f1)" "$SUM"
done
line=$(grep -F "from $PEER:5999=" "$SONDED_OUT")
case $line in
"fetch: error ECONNREFUSED "*) ok "$line" ;;
*) fail "fetch from a closed port: '$line', want 'fetch: error ECONNREFUSED ...'" ;;
esac
