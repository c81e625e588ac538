#!/bin/bash
#
# ping: Linux pings sonded 20 times over a tap.  Checks that every ping is
# answered, that ARP resolved both ways, and that what ipio03.bt reports
# matches, packet for packet, what tcpdump saw on the Linux side (the seed's
# method of holding DTrace against snoop): same order, same addresses, same
# lengths, interface dpdk0, and receive/read/write/send for every ping.
#
#   tests/integration/ping.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

N=20
ME=10.99.0.2
PEER=10.99.0.1

netns_new NS
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/24
tap_to_ns "$TAP" "$NS" $PEER/24
LMAC=$(ns_mac "$NS" "$TAP")

bpf_start BT "$IT_DIR/ipio03.out" "$SONDE_SRC/probes/ipio03.bt" "$SONDED"
wait_for 5 "ipio03.bt header" grep -q 'NAME.*SOURCE.*DEST.*BYTES.*INT' "$IT_DIR/ipio03.out"
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap"

say "Linux: ping -c $N -i 0.2 $ME"
in_ns "$NS" timeout --foreground -k 2 30 ping -n -c $N -i 0.2 -W 2 $ME >"$IT_DIR/ping.out" 2>&1
PING_RC=$?
# Every ping's four events before bpftrace stops, and its two packets in
# tcpdump's file before tcpdump does (it does not write what it has not
# read by then).
wait_file_lines "$IT_DIR/ipio03.out" $((4 * N)) 10 ' -> '
bpf_stop "$BT"
cap_wait "$IT_DIR/linux.pcap" $((2 * N)) 10 icmp
cap_stop "$CAP"
grep -q "$N packets transmitted, $N received" "$IT_DIR/ping.out" || {
	cat "$IT_DIR/ping.out" >&2
	fail "not every ping was answered"
}
expect_eq "ping exit status" $PING_RC 0
ok "all $N pings answered"

# ARP, Linux's side: its neighbour table holds the MAC sonded printed.
NEIGH=$(ip -n "$NS" neigh show $ME dev "$TAP")
say "Linux neighbour: $NEIGH"
echo "$NEIGH" | grep -q "lladdr ${SONDED_MAC[0]} " || fail "Linux's neighbour entry for $ME is not ${SONDED_MAC[0]}"
echo "$NEIGH" | grep -Eq 'REACHABLE|STALE|DELAY|PROBE' || fail "Linux's neighbour entry is not valid"
ok "Linux resolved $ME to sonded's ${SONDED_MAC[0]}"
REPLY=$(tsh "$IT_DIR/linux.pcap" -Y "arp.opcode == 2 && arp.src.proto_ipv4 == $ME" \
	-T fields -E separator=' ' -e arp.src.hw_mac -e arp.dst.hw_mac -e arp.dst.proto_ipv4 | sort -u)
expect_eq "sonded's ARP reply on the wire (sha tha tpa)" "$REPLY" "${SONDED_MAC[0]} $LMAC $PEER"

# ARP, sonded's side: it learnt Linux's MAC from Linux's request (its echo
# replies go to that MAC, and it never had to ask by broadcast; a unicast
# request to that MAC is the neighbour table's reachability probe, RFC 4861
# 7.3.3 style, 5 s after the entry was last confirmed).
DSTS=$(tsh "$IT_DIR/linux.pcap" -Y "icmp.type == 0" -T fields -E separator=' ' -e eth.src -e eth.dst | sort -u)
expect_eq "echo replies' Ethernet src dst" "$DSTS" "${SONDED_MAC[0]} $LMAC"
ASKED=$(tsh "$IT_DIR/linux.pcap" -Y "arp.opcode == 1 && arp.src.proto_ipv4 == $ME && arp.dst.proto_ipv4 == $PEER && eth.dst != $LMAC" | wc -l)
expect_eq "broadcast ARP requests sonded needed for $PEER" "$ASKED" 0

# The probes against the wire.  Every IPv4 packet tcpdump saw is a receive
# (from Linux) or a send (from sonded), with BYTES the IP payload length.
tsh "$IT_DIR/linux.pcap" -Y ip -T fields -E separator=' ' -e ip.src -e ip.dst -e ip.len -e ip.hdr_len |
	awk -v me=$ME '{ print ($1 == me ? "send" : "receive"), $1, $2, $3 - $4, "dpdk0" }' >"$IT_DIR/wire.txt"
awk '$3 == "->" && ($1 == "receive" || $1 == "send") { print $1, $2, $4, $5, $6 }' \
	"$IT_DIR/ipio03.out" >"$IT_DIR/probes.txt"
expect_eq "IPv4 packets on the wire" "$(wc -l <"$IT_DIR/wire.txt")" $((2 * N))
diff -u "$IT_DIR/wire.txt" "$IT_DIR/probes.txt" >"$IT_DIR/wire-vs-probes.diff" || {
	cat "$IT_DIR/wire-vs-probes.diff" >&2
	fail "bpftrace's receive/send do not match tcpdump's packets one to one"
}
ok "bpftrace receive/send match tcpdump's $((2 * N)) packets one to one (order, addresses, length, dpdk0)"
say "first ping as ipio03.bt saw it:"
awk '$3 == "->"' "$IT_DIR/ipio03.out" | head -4 | sed 's/^/    /'

# Each ping's whole way through IP: receive, read, write, send.
awk -v n=$N '
$3 == "->" { k++; nm[k] = $1; s[k] = $2; d[k] = $4; l[k] = $5; ifn[k] = $6 }
function bad(msg) { printf "event %d: %s\n", i, msg; err = 1; exit 1 }
END {
	if (err) exit 1
	if (k != 4 * n) { printf "%d events, want %d\n", k, 4 * n; exit 1 }
	for (i = 1; i <= k; i += 4) {
		if (nm[i] != "receive" || nm[i+1] != "read" || nm[i+2] != "write" || nm[i+3] != "send")
			bad("sequence " nm[i] " " nm[i+1] " " nm[i+2] " " nm[i+3])
		if (s[i+1] != s[i] || d[i+1] != d[i] || l[i+1] != l[i])
			bad("read differs from receive")
		for (j = 2; j <= 3; j++)
			if (s[i+j] != d[i] || d[i+j] != s[i] || l[i+j] != l[i])
				bad(nm[i+j] " is not the request turned around")
		for (j = 0; j <= 3; j++)
			if (ifn[i+j] != "dpdk0")
				bad("interface " ifn[i+j])
	}
}' "$IT_DIR/ipio03.out" || fail "ipio03.bt events are not receive/read/write/send per ping"
ok "ipio03.bt shows receive, read, write, send for each of the $N pings"

sonded_stop
expect_counter icmp.echo_replies $N
expect_counter ipv4.in $N
expect_counter_ge arp.in 1
expect_counter_ge arp.replies_out 1
