#!/bin/bash
#
# tcp-lossy: TCP against Linux over a lossy link.  sonded's fault injector
# (--fault dpdk0=SPEC, no rx:/tx: prefix: both directions, each with its
# own PRNG from the one seed) loses 3% of the frames, delays them 10 ms,
# reorders 5% and duplicates 1%, on the way in and on the way out, so
# Linux's segments are impaired as much as sonded's.  Over it, in each
# family:
#
#   Linux -> sonded   nc sends 10 MiB of random bytes to the echo service
#                     (--service tcp:7=echo) and half-closes; the 10 MiB
#                     that come back (sonded -> Linux at the same time)
#                     must be the same bytes, by sha256
#   sonded -> Linux   curl GET /bytes/10485760 from the http service: the
#                     body must be the pattern (README), by sha256
#
# each within BOUND seconds.  probes/tcpretrans.bt runs throughout: its
# `retransmits: N` at the end must be sonded's counter tcp.retrans_segs
# (two ways of counting sonded's retransmitted segments), and there must
# have been some (the link does lose sonded's segments).  sonded exits 0
# with every mbuf back.  The timings and counts are printed (the same
# transfers without faults: LOSSY_FAULT=none).
#
# The bound: at 3% loss each way and a 20 ms round trip (10 ms each way),
# the Mathis et al. estimate for a Reno flow, MSS / RTT * 1.22 / sqrt(p),
# is about 1448 B / 20 ms * 7 = 0.5 MB/s, so 10 MiB in about 20 s; the
# echo carries 10 MiB each way at once, its upload paced by what comes
# back.  Seen (seeds 42 and 7, two busy cores): 29 to 42 s each, about 60
# retransmission timeouts in all (tail losses: Linux acknowledges a
# burst with one ACK, and a lost retransmission waits for the RTO), 0.2
# to 0.9 s without faults.  BOUND (default 90 s) leaves twice that, and
# still catches a connection that stalls on a retransmission timeout
# series (backed off to seconds each) or never finishes.
#
#   tests/integration/tcp-lossy.sh BUILD_DIR
#   LOSSY_SEED=N LOSSY_BOUND=SECS LOSSY_FAULT=SPEC|none LOSSY_SIZE=BYTES
. "$(dirname "$0")/lib.sh"

for _t in curl nc; do
	command -v $_t >/dev/null || skip "needs $_t"
done
ME=10.91.0.2
PEER=10.91.0.1
ME6=fd91::2
PEER6=fd91::1
SIZE=${LOSSY_SIZE:-10485760}
BOUND=${LOSSY_BOUND:-90}
SEED=${LOSSY_SEED:-42}
FAULT=${LOSSY_FAULT:-loss=3%,delay=10ms,reorder=5%,dup=1%,seed=$SEED}
PATTERN='import sys
a = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/"
n = int(sys.argv[1])
sys.stdout.buffer.write(a * (n // 64) + a[:n % 64])'

FARGS=()
[ "$FAULT" = none ] || FARGS=(--fault "dpdk0=$FAULT")

netns_new6 NS
sonded_netns
tap_new TAP
# tcpretrans.bt before sonded: it sees every segment from the first SYN-ACK.
sonded_start "$TAP" --addr dpdk0=$ME/24 --addr dpdk0=$ME6/64 --service tcp:7=echo \
	--service tcp:80=http "${FARGS[@]}"
bpf_start RT "$IT_DIR/tcpretrans.out" "$SONDE_SRC/probes/tcpretrans.bt" "$SONDED"
tap_to_ns6 "$TAP" "$NS" $PEER6/64 $PEER/24
# Headers of what crossed the tap, for a failure's post-mortem (the work
# directory is kept when the test fails; a transfer that stalls says why
# there: seen once under heavy load, a GET idle for 60 s).
cap_start CAP "$NS" "$TAP" "$IT_DIR/wire.pcap" -s 128
say "faults on dpdk0, both directions: ${FAULT}"

WANT=$("$IT_PY" -c "$PATTERN" "$SIZE" | sha256sum | cut -d' ' -f1)
head -c "$SIZE" /dev/urandom >"$IT_DIR/random"
RANDSUM=$(sha256sum <"$IT_DIR/random" | cut -d' ' -f1)

# lin SECS CMD...: CMD in the namespace, killed after SECS seconds.
lin()
{
	local secs=$1
	shift
	in_ns "$NS" timeout --foreground -k 2 "$secs" "$@"
}

# secs_since T0: seconds since it_now_ms gave T0, with a decimal.
secs_since() { awk -v a="$1" -v b="$(it_now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

RESULTS=()
for a in $ME $ME6; do
	h=$a
	[ "$a" = $ME6 ] && h="[$a]"
	fam=IPv4
	[ "$a" = $ME6 ] && fam=IPv6

	# Linux -> sonded (and back): nc half-closes at the end of its input
	# and exits once sonded, having echoed everything, closes too.
	t0=$(it_now_ms)
	lin "$BOUND" nc -N "$a" 7 <"$IT_DIR/random" >"$IT_DIR/echo.out" 2>"$IT_DIR/echo.err" ||
		fail "$fam: nc to echo on $a: not done within ${BOUND}s (exit $?, $(stat -c %s "$IT_DIR/echo.out") bytes back)"
	t=$(secs_since "$t0")
	expect_eq "$fam: $SIZE bytes to echo on $a and back, sha256 of what came back" \
		"$(sha256sum <"$IT_DIR/echo.out" | cut -d' ' -f1)" "$RANDSUM"
	RESULTS+=("$fam Linux->sonded (echoed back): $SIZE bytes each way in $t s")
	rm -f "$IT_DIR/echo.out"

	# sonded -> Linux.
	t0=$(it_now_ms)
	lin "$BOUND" curl -sS -g --fail -o "$IT_DIR/dl" "http://$h/bytes/$SIZE" 2>"$IT_DIR/curl.err" ||
		fail "$fam: curl http://$h/bytes/$SIZE: not done within ${BOUND}s: $(cat "$IT_DIR/curl.err")"
	t=$(secs_since "$t0")
	expect_eq "$fam: GET /bytes/$SIZE from $a, sha256 of the body" \
		"$(sha256sum <"$IT_DIR/dl" | cut -d' ' -f1)" "$WANT"
	RESULTS+=("$fam sonded->Linux (GET): $SIZE bytes in $t s")
	rm -f "$IT_DIR/dl"
done

# sonded's last segments (its FIN, perhaps sent again) may still be on
# their way: the counts are final once Linux has no connection to sonded
# left but in TIME-WAIT.
linux_open() { [ "$(in_ns "$NS" ss -Htn state all '( dport = :7 or dport = :80 )' | grep -vc TIME-WAIT)" = 0 ]; }
wait_for 30 "Linux's connections to sonded to close" linux_open

bpf_stop "$RT"
sonded_stop
for r in "${RESULTS[@]}"; do
	say "$r"
done
RETR=$(counter tcp.retrans_segs)
say "sonded: tcp.retrans_segs $RETR, tcp.rto $(counter tcp.rto), tcp.fast_retrans $(counter tcp.fast_retrans), tcp.sack_retrans $(counter tcp.sack_retrans)"
say "faults: $(grep -E '^if\.dpdk0\.fault\.' "$SONDED_OUT" | awk '{ printf "%s %s, ", $1, $2 }')"
expect_eq "tcpretrans.bt's total = counter tcp.retrans_segs" \
	"$(awk '$1 == "retransmits:" { print $2 }' "$IT_DIR/tcpretrans.out")" "$RETR"
if [ "$FAULT" != none ]; then
	expect_ge "segments sonded retransmitted" "$RETR" 1
fi
expect_counter service.tcp.echoed_bytes $((2 * SIZE))
expect_counter service.tcp.errors 0
