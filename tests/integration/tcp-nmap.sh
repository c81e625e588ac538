#!/bin/bash
#
# tcp-nmap: nmap scans ports 1-1024 of sonded, with TCP services on 7
# (echo), 9 (discard) and 80 (http), and must find (RFC 9293 3.10.7.1 for
# a closed port, where every segment but a RST gets a RST; 3.10.7.2 for a
# listener, which answers a SYN, a RST to an ACK, and nothing at all to
# FIN, NULL or Xmas):
#
#   -sS (SYN), IPv4 and -6   7, 9 and 80 open, the 1021 others closed
#   -sF, -sN, -sX (and -6    7, 9 and 80 open|filtered (no answer), the
#     -sF)                   others closed (a RST)
#   -sA (ACK), IPv4 and -6   all 1024 unfiltered (a RST from each)
#   -sM (Maimon: FIN+ACK)    all 1024 closed: a listener answers any ACK
#                            with a RST (3.10.7.2), unlike the BSDs that
#                            drop FIN+ACK to an open port
#
# tcp:::accept-refused fires once for each closed port's SYN (one-liner).
# Afterwards sonded still serves (curl), and on SIGINT exits 0 with every
# mbuf back (sonded_stop).
#
#   tests/integration/tcp-nmap.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

{ command -v nmap && command -v curl; } >/dev/null || skip "needs nmap and curl"
OPEN="7 9 80" # sonded's services
ME=10.87.0.2 ME6=fd87::2
PEER=10.87.0.1 PEER6=fd87::1

netns_new6 NS
sonded_netns
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/24 --addr dpdk0=$ME6/64 --service tcp:7=echo \
	--service tcp:9=discard --service tcp:80=http
tap_to_ns6 "$TAP" "$NS" $PEER6/64 $PEER/24

bpf_start BT "$IT_DIR/refused.out" -e "usdt:$SONDED:tcp:accept__refused { @refused = count(); }"

# scan NAME STATE-OPEN STATE-OTHERS NMAP-ARGS...: nmap -p 1-1024 (grepable
# output); the ports 7, 9 and 80 must be STATE-OPEN, the 1021 others
# STATE-OTHERS (with STATE-OTHERS all, all 1024 must be).
scan()
{
	local name=$1 sopen=$2 sother=$3 got want t0 t1
	shift 3
	t0=$(it_now_ms)
	in_ns "$NS" timeout --foreground -k 2 60 nmap -n -Pn -T4 -p 1-1024 -oG "$IT_DIR/$name.gnmap" "$@" \
		>"$IT_DIR/$name.out" 2>&1 || {
		cat "$IT_DIR/$name.out" >&2
		fail "nmap $*"
	}
	t1=$(it_now_ms)
	# "Ports: 7/open/tcp//echo///, ..." and "Ignored State: closed (1021)".
	got=$(tr '\t' '\n' <"$IT_DIR/$name.gnmap" | awk '
		/^Ports: / { sub(/^Ports: /, ""); n = split($0, p, ", ");
			for (i = 1; i <= n; i++) { split(p[i], f, "/"); s[f[2]] = s[f[2]] " " f[1] } }
		/^Ignored State: / { print "ignored", $3, $4 }
		END { for (k in s) print k s[k] }' | sort)
	if [ "$sopen" = all ]; then
		want="ignored $sother (1024)"
	else
		want=$(printf '%s\n' "ignored $sother (1021)" "$sopen $OPEN" | sort)
	fi
	[ "$got" = "$want" ] || {
		sed 's/^/    /' "$IT_DIR/$name.out" >&2
		fail "nmap $*: got '$(echo "$got" | tr '\n' ';')', want '$(echo "$want" | tr '\n' ';')'"
	}
	ok "nmap $* in $(awk -v t=$((t1 - t0)) 'BEGIN { printf "%.1f", t / 1000 }') s: $(echo "$got" | tr '\n' ';')"
}

scan syn open closed -sS $ME
scan fin open\|filtered closed -sF $ME
scan null open\|filtered closed -sN $ME
scan xmas open\|filtered closed -sX $ME
scan ack all unfiltered -sA $ME
scan maimon all closed -sM $ME
scan syn6 open closed -6 -sS $ME6
scan fin6 open\|filtered closed -6 -sF $ME6
scan ack6 all unfiltered -6 -sA $ME6

# Still serving.
expect_eq "curl http://$ME/bytes/1000 after the scans" \
	"$(in_ns "$NS" timeout --foreground -k 2 20 curl -sS -o /dev/null -w '%{http_code} %{size_download}' \
		"http://$ME/bytes/1000")" "200 1000"
expect_eq "curl http://[$ME6]/ after the scans" \
	"$(in_ns "$NS" timeout --foreground -k 2 20 curl -sS -g -o /dev/null -w '%{http_code}' "http://[$ME6]/")" 200

bpf_stop "$BT"
REFUSED=$(awk '/^@refused:/ { print $2 }' "$IT_DIR/refused.out")
# Two SYN scans of 1021 closed ports each; nmap may send a SYN again.
expect_ge "tcp:::accept-refused (SYNs to closed ports, two SYN scans)" "${REFUSED:-0}" 2042

sonded_stop
expect_ge "RSTs sent (tcp.out_rsts)" "$(counter tcp.out_rsts)" $((2042 + 4 * 1021 + 3 * 1024))
# The ACK and Maimon scans' segments to the three listeners: each a RST
# (RFC 9293 3.10.7.2, "second, check for an ACK").
expect_counter drop.in.tcp-bad-ack 9
