#!/bin/bash
#
# udp-unreach: a UDP datagram from Linux to a port sonded does not serve is
# answered with ICMP port unreachable quoting it (RFC 1122 4.1.3.1), seen by
# tcpdump in Linux's namespace; bpftrace sees the drop with its reason.
#
#   tests/integration/udp-unreach.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

ME=10.97.0.2
PEER=10.97.0.1
PORT=9999

netns_new NS
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/24
tap_to_ns "$TAP" "$NS" $PEER/24

cat >"$IT_DIR/drop.bt" <<BT
#include <sonde/ip_provider.h>
usdt:$SONDED:ipv4:drop__in
{
	printf("drop-in %s %s %s %s %s\n", ((struct pktinfo_t *)arg0)->pkt_reason,
	    ((struct ipinfo_t *)arg2)->ip_saddr, ((struct ipinfo_t *)arg2)->ip_daddr,
	    ((struct ipv4info_t *)arg4)->ipv4_protostr, ((struct ifinfo_t *)arg3)->if_name);
}
BT
bpf_start BT "$IT_DIR/drop.out" "$IT_DIR/drop.bt"
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap"

say "Linux: one UDP datagram to $ME port $PORT (nc -u)"
echo "sonde udp probe" | in_ns "$NS" timeout --foreground -k 2 10 nc -u -w 1 $ME $PORT >/dev/null 2>&1
# nc exits 1 when the ICMP error comes back (ECONNREFUSED); both are fine here.
cap_wait "$IT_DIR/linux.pcap" 1 10 icmp and 'icmp[icmptype] == icmp-unreach'
wait_file_lines "$IT_DIR/drop.out" 1 10 '^drop-in '
bpf_stop "$BT"
cap_stop "$CAP"

SENT=$(tsh "$IT_DIR/linux.pcap" -Y "udp && !icmp" -T fields -E separator=' ' \
	-e ip.src -e ip.dst -e udp.srcport -e udp.dstport)
expect_eq "UDP datagrams Linux sent" "$(echo "$SENT" | grep -c .)" 1
SPORT=$(echo "$SENT" | awk '{ print $3 }')
GOT=$(tsh "$IT_DIR/linux.pcap" -Y icmp -T fields -E separator=' ' -E occurrence=f \
	-e ip.src -e ip.dst -e icmp.type -e icmp.code -e udp.srcport -e udp.dstport)
expect_eq "ICMP Linux received (src dst type code quoted-sport quoted-dport)" \
	"$GOT" "$ME $PEER 3 3 $SPORT $PORT"
GOOD=$(tsh "$IT_DIR/linux.pcap" -o ip.check_checksum:TRUE \
	-Y "icmp && !(ip.checksum.status == 0) && icmp.checksum.status == 1" | wc -l)
expect_eq "ICMP errors with good IP and ICMP checksums" "$GOOD" 1

sed 's/^/    /' "$IT_DIR/drop.out"
expect_eq "bpftrace ipv4:drop-in" "$(grep '^drop-in' "$IT_DIR/drop.out")" \
	"drop-in udp-no-port $PEER $ME UDP dpdk0"

sonded_stop
expect_counter drop.in.udp-no-port 1
expect_counter_ge icmp.errors_out 1
expect_counter udp.in 1
