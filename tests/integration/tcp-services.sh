#!/bin/bash
#
# tcp-services: sonded's TCP services on the socket API (--service
# tcp:PORT=KIND, apps/services.c), Linux the client, both families:
#
#   http (80)     curl downloads /bytes/100 MiB: the body is the pattern
#                 (README: byte i is "0-9a-zA-Z+/"[i % 64]), by sha256;
#                 200 requests, 50 at a time, all 200 with their bytes;
#                 404, 405, 400 (a malformed request line, a header section
#                 over 8 KiB); HEAD; keep-alive (curl fetches two URLs over
#                 one connection: num_connects 1 then 0); two pipelined
#                 requests answered in order; HTTP/1.0 closed after its
#                 response
#   discard (9)   nc sends 100 MiB and half-closes: sonded takes it all and
#                 closes (nc exits)
#   echo (7)      nc sends 100 MiB: the same 100 MiB come back
#   chargen (19)  the RFC 864 pattern, 3 periods of it
#
# sonded's counters agree (bytes discarded, echoed; no connection ended by
# an error) and it exits with every mbuf back.  Then a sonded with two
# lcores: 100 requests each family, served by both stacks.
#
#   tests/integration/tcp-services.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

for _t in curl nc; do
	command -v $_t >/dev/null || skip "needs $_t"
done
ME=10.95.0.2
PEER=10.95.0.1
ME6=fd95::2
PEER6=fd95::1
BIG=104857600
# The /bytes/N body, for the test to compare with.
PATTERN='import sys
a = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/"
n = int(sys.argv[1])
sys.stdout.buffer.write(a * (n // 64) + a[:n % 64])'

netns_new6 NS
sonded_netns
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/24 --addr dpdk0=$ME6/64 --service tcp:7=echo \
	--service tcp:9=discard --service tcp:19=chargen --service tcp:80=http
tap_to_ns6 "$TAP" "$NS" $PEER6/64 $PEER/24

# lin SECS CMD...: CMD in the namespace, at most SECS seconds.
lin() {
	local secs=$1
	shift
	in_ns "$NS" timeout --foreground -k 2 "$secs" "$@"
}

WANT=$("$IT_PY" -c "$PATTERN" $BIG | sha256sum | cut -d' ' -f1)
head -c $BIG /dev/urandom >"$IT_DIR/random"
RANDSUM=$(sha256sum <"$IT_DIR/random" | cut -d' ' -f1)

for a in $ME $ME6; do
	h=$a
	[ "$a" = $ME6 ] && h="[$a]"
	url=http://$h

	# A download, the body streamed as the send buffer drains.
	lin 60 curl -sS -g --fail -o "$IT_DIR/dl" -w '%{size_download} %{speed_download}\n' \
		"$url/bytes/$BIG" >"$IT_DIR/curl.out" 2>&1 || fail "curl $url/bytes/$BIG: $(cat "$IT_DIR/curl.out")"
	read -r size speed <"$IT_DIR/curl.out"
	expect_eq "curl $url/bytes/$BIG: sha256 of the body" "$(sha256sum <"$IT_DIR/dl" | cut -d' ' -f1)" "$WANT"
	say "curl: $size bytes at $(awk -v s="$speed" 'BEGIN { printf "%.1f MB/s", s / 1e6 }')"
	rm -f "$IT_DIR/dl"

	# 200 requests, 50 at a time, each of its own length.
	seq 1 200 | lin 90 xargs -P 50 -I{} curl -sS -g -o /dev/null \
		-w '%{http_code} %{size_download} {}\n' "$url/bytes/{}7" >"$IT_DIR/par.out" 2>&1
	expect_eq "200 parallel requests to $url: answered 200 with their N bytes" \
		"$(awk '$1 == 200 && $2 == $3 "7" { n++ } END { print n + 0 }' "$IT_DIR/par.out")" 200

	expect_eq "GET $url/nowhere" "$(lin 20 curl -sS -g -o /dev/null -w '%{http_code}' "$url/nowhere")" 404
	expect_eq "POST $url/" "$(lin 20 curl -sS -g -o /dev/null -w '%{http_code}' -d x=1 "$url/")" 405
	expect_eq "a header section over 8 KiB" "$(lin 20 curl -sS -g -o /dev/null -w '%{http_code}' \
		-H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$url/")" 400
	expect_eq "a malformed request line" \
		"$(printf 'GET/ HTTP/1.1\r\nHost: x\r\n\r\n' | lin 20 nc -N $a 80 | head -1 | tr -d '\r')" \
		"HTTP/1.1 400 Bad Request"
	expect_eq "HEAD $url/bytes/12345 (status, Content-Length, body)" \
		"$(lin 20 curl -sS -g -I -w '%{http_code} %{size_download}' "$url/bytes/12345" |
			tr -d '\r' | awk '/^Content-Length:/ { l = $2 } /^[0-9]+ [0-9]+$/ { s = $0 } END { print s, l }')" \
		"200 0 12345"
	expect_eq "keep-alive: connections made for / then /bytes/10" \
		"$(lin 20 curl -sS -g -o /dev/null -o /dev/null -w '%{num_connects} ' "$url/" "$url/bytes/10")" "1 0 "
	printf 'GET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
		lin 20 nc $a 80 >"$IT_DIR/pipe.out" || fail "pipelined requests to $a"
	# Bodies have no newline: the second status line follows the first body.
	expect_eq "two pipelined requests: status lines and bodies in order" \
		"$(tr -d '\r' <"$IT_DIR/pipe.out" | grep -oE '^(01234)?HTTP/1.1 [0-9]+|^012$' | tr '\n' ' ')" \
		"HTTP/1.1 200 01234HTTP/1.1 200 012 "
	printf 'GET / HTTP/1.0\r\n\r\n' | lin 20 nc $a 80 >"$IT_DIR/http10.out" ||
		fail "HTTP/1.0 to $a: no close after the response"
	expect_eq "HTTP/1.0: the page, then the close" "$(grep -c '</html>' "$IT_DIR/http10.out")" 1

	lin 20 "$IT_PY" -c 'import socket, sys
want = b"".join(bytes(32 + (l + c) % 95 for c in range(72)) + b"\r\n" for l in range(95)) * 3
s = socket.create_connection((sys.argv[1], 19))
got = b""
while len(got) < len(want):
    d = s.recv(65536)
    if not d:
        break
    got += d
# Our FIN, then what was on its way up to sonded'"'"'s: a close with data
# unread would be a reset.
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
s.close()
sys.exit(got[:len(want)] != want)' $a || fail "chargen on $a: not the RFC 864 pattern"
	ok "chargen on $a: 3 periods of the RFC 864 pattern, closed by sonded at our FIN"

	# discard: nc half-closes at the end of its input, sonded closes at
	# the FIN, and nc exits.
	lin 60 nc -N $a 9 <"$IT_DIR/random" >"$IT_DIR/discard.out" || fail "nc to discard on $a"
	ok "discard on $a: $BIG bytes sent, closed by sonded"

	lin 60 nc -N $a 7 <"$IT_DIR/random" >"$IT_DIR/echo.out" || fail "nc to echo on $a"
	expect_eq "echo on $a: sha256 of the $BIG bytes that came back" \
		"$(sha256sum <"$IT_DIR/echo.out" | cut -d' ' -f1)" "$RANDSUM"
	rm -f "$IT_DIR/echo.out"

done

sonded_stop
expect_counter service.tcp.discarded_bytes $((2 * BIG))
expect_counter service.tcp.echoed_bytes $((2 * BIG))
expect_counter service.tcp.errors 0
expect_counter_ge service.http.requests $((2 * 209))

# Two lcores, one stack each (linked): net_tap spreads the connections
# over both queues; each stack must accept and serve its own.
[ "$(nproc)" -ge 2 ] || skip "the rest needs two CPUs"
tap_new TAP2
SONDED_LCORES=0,1 SONDED_MEM=512 sonded_start "$TAP2" --addr dpdk0=$ME/24 --addr dpdk0=$ME6/64 \
	--service tcp:80=http
tap_to_ns6 "$TAP2" "$NS" $PEER6/64 $PEER/24
for h in $ME "[$ME6]"; do
	seq 1 100 | lin 90 xargs -P 20 -I{} curl -sS -g -o /dev/null \
		-w '%{http_code} %{size_download} {}\n' "http://$h/bytes/{}000" >"$IT_DIR/mc.out" 2>&1
	expect_eq "two stacks: 100 requests to http://$h, 20 at a time, answered 200 with their bytes" \
		"$(awk '$1 == 200 && $2 == $3 "000" { n++ } END { print n + 0 }' "$IT_DIR/mc.out")" 100
done
sonded_stop
expect_counter service.tcp.accepted 200
for s in 0 1; do
	expect_counter_ge "stack$s.ipv4.in" 50
	expect_counter_ge "stack$s.ipv6.in" 50
done
