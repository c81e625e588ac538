#!/bin/bash
#
# malformed: Linux (scapy, raw frames on the tap to sonded's MAC) sends one
# IPv4 packet per header fault: bad checksum, header truncated to 10 bytes,
# version 5, IHL 4, total length beyond the frame.  bpftrace's ipv4:drop-in
# gives each its reason, in order, with the frame's length; none fires
# receive (only a valid header does); counters agree; sonded answers nothing
# to them, still answers pings afterwards and leaks no mbuf.
#
#   tests/integration/malformed.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

ME=10.96.0.2
PEER=10.96.0.1
REASONS="bad-checksum truncated bad-version bad-ihl bad-length"

"$IT_PY" -c 'import scapy.all' 2>/dev/null || skip "needs python3-scapy"
netns_new NS
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/24
tap_to_ns "$TAP" "$NS" $PEER/24

cat >"$IT_DIR/drop.bt" <<BT
#include <sonde/ip_provider.h>
usdt:$SONDED:ipv4:drop__in
{
	printf("drop-in %s %d %s\n", ((struct pktinfo_t *)arg0)->pkt_reason,
	    ((struct pktinfo_t *)arg0)->pkt_len, ((struct ifinfo_t *)arg3)->if_name);
}
usdt:$SONDED:ipv4:receive
{
	printf("receive %s %s\n", ((struct ipinfo_t *)arg2)->ip_saddr, ((struct ipinfo_t *)arg2)->ip_daddr);
}
BT
bpf_start BT "$IT_DIR/drop.out" "$IT_DIR/drop.bt"
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap"

say "scapy: $REASONS"
in_ns "$NS" timeout --foreground -k 2 60 "$IT_PY" "$(dirname "$0")/malformed.py" "$TAP" "${SONDED_MAC[0]}" $PEER $ME \
	>"$IT_DIR/sent.txt" 2>"$IT_DIR/scapy.err" || {
	cat "$IT_DIR/scapy.err" >&2
	fail "scapy failed"
}
wait_file_lines "$IT_DIR/drop.out" 5 10 '^drop-in'
expect_eq "receive events for malformed packets" "$(grep -c '^receive' "$IT_DIR/drop.out")" 0

say "Linux: ping -c 3 $ME"
in_ns "$NS" timeout --foreground -k 2 20 ping -n -c 3 -i 0.2 -W 2 $ME >"$IT_DIR/ping.out" 2>&1 || {
	cat "$IT_DIR/ping.out" >&2
	fail "pings after the malformed packets not answered"
}
ok "3 pings answered after the malformed packets"
wait_file_lines "$IT_DIR/drop.out" 3 10 "^receive $PEER $ME\$"
bpf_stop "$BT"
cap_wait "$IT_DIR/linux.pcap" 3 10 icmp and 'icmp[icmptype] == icmp-echoreply'
cap_stop "$CAP"

sed 's/^/    /' "$IT_DIR/drop.out"
expect_eq "scapy sent" "$(awk '{ printf "%s%s", sep, $1; sep = " " }' "$IT_DIR/sent.txt")" "$REASONS"
awk '{ print "drop-in", $1, $2, "dpdk0" }' "$IT_DIR/sent.txt" >"$IT_DIR/drop.want"
grep '^drop-in' "$IT_DIR/drop.out" >"$IT_DIR/drop.got"
diff -u "$IT_DIR/drop.want" "$IT_DIR/drop.got" || fail "drop-in events differ from what was sent (reason, length, interface)"
ok "ipv4:drop-in: one per frame, in order, right reason and length, dpdk0"
expect_eq "receive events (the pings only)" "$(grep -c "^receive $PEER $ME\$" "$IT_DIR/drop.out")" 3
OUT=$(tsh "$IT_DIR/linux.pcap" -Y "ip.src == $ME" -T fields -e icmp.type | sort | uniq -c | awk '{ print $1 "x" $2 }')
expect_eq "IPv4 sonded sent (count x ICMP type)" "$OUT" "3x0"

sonded_stop
for r in $REASONS; do
	expect_counter "drop.in.$r" 1
done
expect_counter icmp.echo_replies 3
expect_counter ipv4.in 3
