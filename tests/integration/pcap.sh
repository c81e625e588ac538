#!/bin/bash
#
# pcap: sonded --pcap dpdk0=FILE records what dpdk0 sends and receives.
# tshark reads it back: the same echo requests and replies, field for field
# and in the same order, as tcpdump captured on the Linux side of the tap,
# and nothing tshark finds malformed or wrong (checksums included).
#
#   tests/integration/pcap.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

N=5
ME=10.94.0.2
PEER=10.94.0.1

netns_new NS
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/24 --pcap dpdk0="$IT_DIR/sonde.pcap"
tap_to_ns "$TAP" "$NS" $PEER/24
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap"

say "Linux: ping -c $N $ME"
in_ns "$NS" timeout --foreground -k 2 30 ping -n -c $N -i 0.2 -W 2 $ME >"$IT_DIR/ping.out" 2>&1 || {
	cat "$IT_DIR/ping.out" >&2
	fail "pings not answered"
}
ok "$N pings answered"
cap_wait "$IT_DIR/linux.pcap" $((2 * N)) 10 icmp
cap_stop "$CAP"
sonded_stop # the pcap file is complete once sonded has closed it

[ -s "$IT_DIR/sonde.pcap" ] || fail "sonded wrote no $IT_DIR/sonde.pcap"
FIELDS="-e eth.src -e eth.dst -e ip.src -e ip.dst -e ip.id -e ip.ttl -e ip.len -e ip.checksum
	-e icmp.type -e icmp.code -e icmp.ident -e icmp.seq -e icmp.checksum -e data.data"
# shellcheck disable=SC2086
tsh "$IT_DIR/sonde.pcap" -Y icmp -T fields -E separator=' ' $FIELDS >"$IT_DIR/sonde.txt"
# shellcheck disable=SC2086
tsh "$IT_DIR/linux.pcap" -Y icmp -T fields -E separator=' ' $FIELDS >"$IT_DIR/linux.txt"
say "sonded's capture, as tshark reads it:"
tsh "$IT_DIR/sonde.pcap" | sed 's/^/    /'
expect_eq "echo requests in sonded's pcap" "$(awk '$9 == 8' "$IT_DIR/sonde.txt" | wc -l)" $N
expect_eq "echo replies in sonded's pcap" "$(awk '$9 == 0' "$IT_DIR/sonde.txt" | wc -l)" $N
diff -u "$IT_DIR/linux.txt" "$IT_DIR/sonde.txt" || fail "sonded's pcap differs from tcpdump's"
ok "sonded's pcap = tcpdump's ICMP, field for field (MACs, addresses, id, TTL, length, checksums, seq, data)"
BAD=$(tsh "$IT_DIR/sonde.pcap" -o ip.check_checksum:TRUE \
	-Y '_ws.malformed || _ws.expert.severity >= warning' | wc -l)
expect_eq "packets tshark flags (malformed, warnings) in sonded's pcap" "$BAD" 0
ARP=$(tsh "$IT_DIR/sonde.pcap" -Y "arp.opcode == 2 && arp.src.proto_ipv4 == $ME" | wc -l)
expect_ge "ARP replies in sonded's pcap" "$ARP" 1
