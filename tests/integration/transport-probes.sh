#!/bin/bash
#
# transport-probes: the udp provider end to end, and the tcp scripts
# attached.  Linux sends UDP datagrams to sonded's echo service (--service
# udp:7=echo) over IPv4 and IPv6, one at a time, each waiting for its echo;
# probes/udpio.bt shows, for each, a receive from Linux's port to 7 and a
# send from 7 back to it, with its payload's size, in order.  The scripts
# of the tcp provider (tcpstates, tcpaccept, tcpconnect, tcpretrans,
# tcplife, tcpio) run alongside: each must compile and attach, and, as no
# TCP segment goes by, print nothing but its header; tcpretrans.bt's total
# at exit is sonded's counter tcp.retrans_segs.
#
#   tests/integration/transport-probes.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

ME=fd92::2
PEER=fd92::1
ME4=10.93.0.2
PEER4=10.93.0.1
SIZES=(1 100 1000 1400)

netns_new6 NS
sonded_netns
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/64 --addr dpdk0=$ME4/24 --service udp:7=echo
tap_to_ns6 "$TAP" "$NS" $PEER/64 $PEER4/24

bpf_start BT "$IT_DIR/udpio.out" "$SONDE_SRC/probes/udpio.bt" "$SONDED"
TCP_SCRIPTS=(tcpstates tcpaccept tcpconnect tcpretrans tcplife tcpio)
declare -A TBT
for s in "${TCP_SCRIPTS[@]}"; do
	bpf_start "TBT[$s]" "$IT_DIR/$s.out" "$SONDE_SRC/probes/$s.bt" "$SONDED"
	ok "$s.bt compiled and attached"
done

# send_to ADDR OUT: one datagram of each size to ADDR port 7, each waiting
# (10 s at most) for its echo, from one socket; prints "SPORT SIZE" for
# each echoed.
send_to()
{
	say "Linux: UDP to $1 port 7, sizes ${SIZES[*]}"
	in_ns "$NS" timeout --foreground -k 2 60 "$IT_PY" -c 'import socket, sys
addr, sizes = sys.argv[1], [int(x) for x in sys.argv[2:]]
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
for n in sizes:
    s.sendto(b"u" * n, (addr, 7))
    data, src = s.recvfrom(65535)
    if len(data) != n or src[1] != 7:
        sys.exit("bad echo of %d bytes: %d from %s" % (n, len(data), src))
    print(s.getsockname()[1], n, flush=True)' "$1" "${SIZES[@]}" >"$2" 2>&1 || {
		cat "$2" >&2
		fail "UDP echo from $1: not every datagram came back"
	}
	expect_eq "datagrams echoed by $1" "$(wc -l <"$2")" ${#SIZES[@]}
}
send_to $ME4 "$IT_DIR/send4.out"
send_to $ME "$IT_DIR/send6.out"

# What udpio.bt must show: for each datagram, receive then send.
want()
{
	local src=$1 dst=$2 port size
	while read -r port size; do
		echo "receive $src $port -> $dst 7 $size"
		echo "send $dst 7 -> $src $port $size"
	done
}
{
	want $PEER4 $ME4 <"$IT_DIR/send4.out"
	want $PEER $ME <"$IT_DIR/send6.out"
} >"$IT_DIR/udpio.want"
NW=$(wc -l <"$IT_DIR/udpio.want")
wait_file_lines "$IT_DIR/udpio.out" "$NW" 10 '^ (receive|send) '
bpf_stop "$BT"
for s in "${TCP_SCRIPTS[@]}"; do
	bpf_stop "${TBT[$s]}"
done
sonded_stop

expect_eq "udpio.bt's header" "$(grep -m1 NAME "$IT_DIR/udpio.out" | awk '{ $1 = $1; print }')" \
	"NAME SOURCE PORT DEST PORT BYTES"
awk '$1 == "receive" || $1 == "send" { $1 = $1; print }' "$IT_DIR/udpio.out" >"$IT_DIR/udpio.got"
if ! diff -u "$IT_DIR/udpio.want" "$IT_DIR/udpio.got" >&2; then
	fail "udpio.bt's lines are not the datagrams and their echoes, in order"
fi
ok "udpio.bt: $NW lines, each datagram received from Linux's port and sent back from 7"

# No TCP: each tcp script printed its header and nothing else (tcpretrans
# its total too).
for s in "${TCP_SCRIPTS[@]}"; do
	expect_eq "$s.bt's lines past its header" \
		"$(awk 'NF && !/^Attaching/ && !/^retransmits:/' "$IT_DIR/$s.out" | sed 1d | wc -l)" 0
done
expect_eq "tcpretrans.bt's total" "$(awk '$1 == "retransmits:" { print $2 }' "$IT_DIR/tcpretrans.out")" \
	"$(counter tcp.retrans_segs)"
expect_counter service.udp.echoed $((2 * ${#SIZES[@]}))
