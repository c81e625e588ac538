#!/bin/bash
#
# atk6: thc-ipv6's atk6-implementation6 (about 60 odd packets: extension
# header chains, options, routing headers, overlapping and odd fragments, bad
# checksums, ...) and atk6-fragmentation6 (fragment attacks and floods) run
# against sonded from Linux's side of the tap, each bounded in time (the
# second rarely ends by itself: a timeout of the tool is fine, a crash or a
# hang of sonded is not).  Then sonded still answers ping -6, exits 0 and
# leaks no mbuf.  On the way:
#   - the probe contract under fire: bpftrace, attached before sonded starts,
#     counts every ipv4/ipv6 drop-in and drop-out by reason and every
#     receive; at the end they equal sonded's counters, reason for reason
#     (a drop counted without its probe, or a probe without its count, is a
#     bug);
#   - what sonded sent back (tcpdump): ICMPv6 checksums good, errors at most
#     1280 bytes (RFC 4443 2.4(c)) and never about an ICMPv6 error (2.4(e)),
#     nothing tshark finds malformed.
# The tools' own verdicts (PASSED/FAILED per test) are printed, not judged.
#
#   tests/integration/atk6.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

ME=fd00::2
PEER=fd00::1
T_IMPL=110 # atk6-implementation6 takes about 100 s here
T_FRAG=30

for t in atk6-implementation6 atk6-fragmentation6; do
	command -v $t >/dev/null || skip "needs $t (thc-ipv6)"
done

P='((struct pktinfo_t *)arg0)'
cat >"$IT_DIR/acct.bt" <<BT
#include <sonde/ip_provider.h>
usdt:$SONDED:ipv4:drop__in, usdt:$SONDED:ipv6:drop__in { @in[$P->pkt_reason] = count(); }
usdt:$SONDED:ipv4:drop__out, usdt:$SONDED:ipv6:drop__out { @out[$P->pkt_reason] = count(); }
usdt:$SONDED:ipv4:receive { @receive4 = count(); }
usdt:$SONDED:ipv6:receive { @receive6 = count(); }
BT
bpf_start BT "$IT_DIR/acct.out" "$IT_DIR/acct.bt"

netns_new6 NS
sonded_netns
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/64
tap_to_ns6 "$TAP" "$NS" $PEER/64
SMAC=${SONDED_MAC[0]}
# Only what sonded sends: the tools send far more, faster.
cap_start CAP "$NS" "$TAP" "$IT_DIR/sonded.pcap" -B 16384 ether src "$SMAC"

# ping_ok WHEN PATTERN: 3 pings, their data filled with the 2-byte PATTERN
# (ping -p) after ping's 16-byte timestamp, so that their replies can be
# told from the ones the tools' echo requests get.
ping_ok()
{
	in_ns "$NS" timeout --foreground -k 2 20 ping -6 -n -c 3 -i 0.2 -W 2 -p "$2" $ME >"$IT_DIR/ping.out" 2>&1 || {
		cat "$IT_DIR/ping.out" >&2
		fail "ping -6 $ME not answered $1"
	}
	ok "ping -6 $ME answered $1"
}

# run_tool SECS TOOL: runs TOOL TAP ME in Linux's namespace for at most
# SECS seconds.
run_tool()
{
	local secs=$1 tool=$2 rc t0
	say "Linux: $tool $TAP $ME (at most ${secs}s)"
	t0=$(date +%s)
	in_ns "$NS" timeout --foreground -k 2 "$secs" "$tool" "$TAP" $ME >"$IT_DIR/$tool.out" 2>&1
	rc=$?
	case $rc in
	0) say "$tool finished after $(($(date +%s) - t0))s" ;;
	124) say "$tool stopped by its timeout after ${secs}s" ;;
	*) say "$tool exited $rc after $(($(date +%s) - t0))s: $(tail -1 "$IT_DIR/$tool.out")" ;;
	esac
	proc_alive "$SONDED_PID" || {
		cat "$SONDED_OUT.err" >&2
		fail "sonded died during $tool"
	}
	ok "sonded alive after $tool"
}

ping_ok "before the attacks" 5ee1
run_tool $T_IMPL atk6-implementation6
say "atk6-implementation6's verdicts (PASSED: sonded answered as a plain ping would be):"
grep '^Test' "$IT_DIR/atk6-implementation6.out" | sed 's/^/    /'
ping_ok "after atk6-implementation6" 5ee2
run_tool $T_FRAG atk6-fragmentation6
say "atk6-fragmentation6 got as far as: $(grep -E '^ATTACK|^Test' "$IT_DIR/atk6-fragmentation6.out" | tail -1)"
ping_ok "after atk6-fragmentation6" 5ee3
# The last thing sonded sent: the echo replies to the last 3 pings.
cap_wait "$IT_DIR/sonded.pcap" 3 10 icmp6 and 'ip6[40] == 129' and 'ip6[64:2] == 0x5ee3'
cap_stop "$CAP"
sonded_stop
# bpftrace stays until sonded has exited: every event sonded counted fired
# before it printed its counters.
bpf_stop "$BT"

# The probe contract, reason by reason (link-layer reasons fire no IP probe;
# "shutdown" drops, at exit, come after the counters were printed).
LINK=$(sed -n 's/.*X(DROP_[A-Z0-9_]*, "\([a-z0-9-]*\)", DROP_DIR_[A-Z]*, DROP_LINK).*/\1/p' \
	"$SONDE_SRC/stack/core/drop.h" | tr '\n' ' ')
[ -n "$LINK" ] || fail "no link-layer reasons found in stack/core/drop.h"
awk -v link=" $LINK" 'BEGIN { n = split(link, l, " "); for (i = 1; i <= n; i++) skip[l[i]] = 1 }
	p && $1 ~ /^drop\.(in|out)\./ { split($1, a, "."); if (!(a[3] in skip) && a[3] != "shutdown") print $1, $2 }
	/^stopping$/ { p = 1 }' "$SONDED_OUT" | sort >"$IT_DIR/counted.txt"
sed -n 's/^@\(in\|out\)\[\(.*\)\]: \([0-9]*\)$/drop.\1.\2 \3/p' "$IT_DIR/acct.out" | grep -v '\.shutdown ' |
	sort >"$IT_DIR/probed.txt"
say "drops by reason, counted by sonded and seen by bpftrace:"
join -a 1 -a 2 -e - -o 0,1.2,2.2 "$IT_DIR/counted.txt" "$IT_DIR/probed.txt" | sed 's/^/    /'
diff -u "$IT_DIR/counted.txt" "$IT_DIR/probed.txt" || fail "sonded's drop counters and the drop probes disagree"
ok "every IP drop counter equals its drop-in/drop-out probe count ($(wc -l <"$IT_DIR/counted.txt") reasons, $(awk '{ s += $2 } END { print s }' "$IT_DIR/counted.txt") drops)"
expect_eq "ipv6:receive events = counter ipv6.in" \
	"$(awk '$1 == "@receive6:" { print $2 }' "$IT_DIR/acct.out")" "$(counter ipv6.in)"
expect_eq "ipv4:receive events = counter ipv4.in" \
	"$(awk '$1 == "@receive4:" { print $2 + 0 }' "$IT_DIR/acct.out" | grep . || echo 0)" "$(counter ipv4.in)"

# What sonded sent.
TOTAL=$(tsh "$IT_DIR/sonded.pcap" | wc -l)
say "sonded sent $TOTAL frames; ICMPv6 by type/code:"
tsh "$IT_DIR/sonded.pcap" -Y icmpv6 -T fields -E separator=: -E occurrence=f -e icmpv6.type -e icmpv6.code |
	sort -n | uniq -c | sed 's/^/    /'
# (tshark's expert info also judges the packet an ICMPv6 error quotes: the
# attack's, malformed on purpose.  Errors are checked by their checksum.)
expect_eq "frames from sonded, but ICMPv6 errors, tshark finds malformed or in error" \
	"$(tsh "$IT_DIR/sonded.pcap" -Y '(_ws.malformed || _ws.expert.severity >= error) && !(icmpv6.type < 128)' | wc -l)" 0
expect_eq "ICMPv6 messages from sonded with a bad checksum" \
	"$(tsh "$IT_DIR/sonded.pcap" -Y 'icmpv6 && icmpv6.checksum.status != 1' | wc -l)" 0
expect_eq "ICMPv6 errors from sonded longer than 1280 bytes" \
	"$(tsh "$IT_DIR/sonded.pcap" -Y 'icmpv6.type < 128 && frame.len > 1294' | wc -l)" 0
# An error quotes the offending packet: its own ICMPv6 type, when there is
# one, comes second.
ABOUT=$(tsh "$IT_DIR/sonded.pcap" -Y 'icmpv6.type < 128' -T fields -E occurrence=a -E aggregator=' ' \
	-e icmpv6.type | awk 'NF > 1 && $2 < 128' | wc -l)
expect_eq "ICMPv6 errors from sonded about an ICMPv6 error" "$ABOUT" 0
