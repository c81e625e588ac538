#!/bin/bash
#
# loopback: sonded pings its own address (--ping ME,3).  The packets loop
# inside the stack through lo0: bpftrace sees ipv4 (and ip) local-send and
# local-receive on lo0 with if_local 1, and no send or receive at all;
# nothing leaves by the tap (tcpdump on the Linux side, and the tap's own
# kernel counters over sonded's whole life).
#
# bpftrace attaches before sonded starts (sonded pings from its first
# second): a USDT probe on the binary's path, semaphore switched on by the
# kernel when the process maps it.
#
#   tests/integration/loopback.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

N=3
ME=10.95.0.2
PEER=10.95.0.1

I='((struct ipinfo_t *)arg2)'
F='((struct ifinfo_t *)arg3)'
ev()
{
	printf 'usdt:%s:ipv4:%s { printf("%s %%s %%s %%d %%s %%d\\n", %s->ip_saddr, %s->ip_daddr, %s->ip_plength, %s->if_name, %s->if_local); }\n' \
		"$SONDED" "$1" "$2" "$I" "$I" "$I" "$F" "$F"
}
{
	echo "#include <sonde/ip_provider.h>"
	ev local__send local-send
	ev local__receive local-receive
	ev send send
	ev receive receive
	ev read read
	ev write write
	echo "usdt:$SONDED:ip:local__send { @ip_local_send = count(); }"
	echo "usdt:$SONDED:ip:local__receive { @ip_local_receive = count(); }"
	# IPv4 only: sonded's DAD probe for its link-local address is an ip:send.
	echo "usdt:$SONDED:ip:send,usdt:$SONDED:ip:receive /((struct ipinfo_t *)arg2)->ip_ver == 4/ { @ip_send_receive = count(); }"
} >"$IT_DIR/lo.bt"
bpf_start BT "$IT_DIR/lo.out" "$IT_DIR/lo.bt"

netns_new NS
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/24 --ping $ME,$N
tap_to_ns "$TAP" "$NS" $PEER/24
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap"

# One echo and its reply per ping, each written, local-sent,
# local-received and read: the last read is the last event.  (sonded pings
# once a second: up to 3 s, and more on a busy machine.)
wait_file_lines "$IT_DIR/lo.out" $((2 * N)) 20 '^read '
RXP=$(in_ns "$NS" cat "/sys/class/net/$TAP/statistics/rx_packets")
RXB=$(in_ns "$NS" cat "/sys/class/net/$TAP/statistics/rx_bytes")
bpf_stop "$BT"
cap_stop "$CAP"
sed 's/^/    /' "$IT_DIR/lo.out"

L="$ME $ME 64 lo0 1"
expect_eq "ipv4:local-send events ($L)" "$(grep -c "^local-send $L\$" "$IT_DIR/lo.out")" $((2 * N))
expect_eq "ipv4:local-receive events ($L)" "$(grep -c "^local-receive $L\$" "$IT_DIR/lo.out")" $((2 * N))
expect_eq "ipv4:send/receive events" "$(grep -Ec '^(send|receive) ' "$IT_DIR/lo.out")" 0
expect_eq "ip:local-send" "$(awk '$1 == "@ip_local_send:" { print $2 }' "$IT_DIR/lo.out")" $((2 * N))
expect_eq "ip:local-receive" "$(awk '$1 == "@ip_local_receive:" { print $2 }' "$IT_DIR/lo.out")" $((2 * N))
V=$(awk '$1 == "@ip_send_receive:" { print $2 }' "$IT_DIR/lo.out")
expect_eq "ip:send/receive" "${V:-0}" 0
SEQ=$(awk '$2 == "'$ME'" { printf "%s%s", sep, $1; sep = " " }' "$IT_DIR/lo.out")
WANT=$(for ((i = 0; i < 2 * N; i++)); do printf '%s' "${i:+ }write local-send local-receive read"; done)
WANT=${WANT# }
expect_eq "event order" "$SEQ" "$WANT"

expect_eq "ICMP on the Linux side" "$(tsh "$IT_DIR/linux.pcap" -Y icmp | wc -l)" 0
expect_eq "IPv4 on the Linux side" "$(tsh "$IT_DIR/linux.pcap" -Y ip | wc -l)" 0

sonded_stop
expect_counter icmp.echo_replies $N
expect_counter lo0.packets $((2 * N))
expect_counter ipv4.in 0
# Everything sonded ever wrote to the tap, as the kernel counted it: the
# same frames as sonded's own count, all ARP-sized (an echo would be 98)
# but one, the DAD probe for its link-local address (NS, 78).
say "tap's kernel rx counters: $RXP packets, $RXB bytes"
expect_eq "frames the tap got from sonded" "$RXP" "$(counter if.dpdk0.tx_packets)"
expect_eq "bytes the tap got from sonded" "$RXB" $((60 * (RXP - 1) + 78))
