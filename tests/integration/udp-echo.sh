#!/bin/bash
#
# udp-echo: Linux sends UDP datagrams to sonded's echo service (--service
# udp:7=echo, RFC 862) over two links, a tap (dpdk0, net_tap, which fills
# the IPv4 header checksum of what sonded leaves to it) and a veth (dpdk1,
# net_af_packet, which fills nothing), from a namespace each, one datagram
# at a time, each with its own IP options (udp-echo.py): Linux's defaults,
# TOS 0x28 with TTL 17 and DF clear, TOS 0xb8 with DF set and the largest
# payload that fits a frame (1472 bytes), and over the tap TOS 0x10 with 3000
# bytes and DF clear (3 fragments each way; not over the veth, where the
# kernel reassembles fragments for net_af_packet's sockets, PACKET_FANOUT_
# FLAG_DEFRAG, and its 2048-byte frames cut the result).  Every echo comes
# back with its payload, from port 7 to the sender's port.  Every ipv4info_t
# field at receive and send (ident, flags, offset, TOS, checksum, TTL,
# length, protocol, addresses) is what tcpdump saw on that link, packet by
# packet and in order, both ways.
#
#   tests/integration/udp-echo.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

ME=10.92.0.2
PEER=10.92.0.1
ME1=10.92.1.2
PEER1=10.92.1.1
# TOS:DF:TTL:SIZE, as udp-echo.py takes them.
SPECS=(0:want:64:100 0:want:64:100 0:want:64:100 0x28:dont:17:200 0x28:dont:17:200 0xb8:do:64:1472 0xb8:do:64:1472)
BIG=(0x10:dont:64:3000 0x10:dont:64:3000) # over the tap only: 3 fragments each way

netns_new NS
netns_new NS1
sonded_netns
tap_new TAP
veth_to_ns AFP "$NS1" $PEER1/24 1
VETH1=$VETH_PEER
sonded_start_eal "--vdev=net_tap0,iface=$TAP" "$AFP" -- --addr dpdk0=$ME/24 --addr dpdk1=$ME1/24 \
	--service udp:7=echo
tap_to_ns "$TAP" "$NS" $PEER/24
LMAC=$(ns_mac "$NS" "$TAP")
LMAC1=$(ns_mac "$NS1" "$VETH1")
expect_eq "dpdk1's MAC (the veth's end in sonded's namespace)" "${SONDED_MAC[1]}" \
	"$(ip netns exec "$SONDED_NETNS" cat "/sys/class/net/${AFP##*iface=}/address")"

ipv4_fields_bt receive send >"$IT_DIR/info.bt"
bpf_start BT "$IT_DIR/info.out" "$IT_DIR/info.bt"
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap"
cap_start CAP1 "$NS1" "$VETH1" "$IT_DIR/linux1.pcap"

# echo_to NS DST OUT SPEC...: udp-echo.py from NS to DST port 7.
echo_to()
{
	local ns=$1 dst=$2 out=$3
	shift 3
	say "Linux: UDP to $dst port 7: $*"
	in_ns "$ns" timeout --foreground -k 2 60 "$IT_PY" "$(dirname "$0")/udp-echo.py" "$dst" 7 "$@" \
		>"$IT_DIR/$out" 2>&1 || {
		cat "$IT_DIR/$out" >&2
		fail "UDP echo from $dst: not every datagram came back right"
	}
	expect_eq "datagrams echoed by $dst" "$(grep -c '^echoed' "$IT_DIR/$out")" $#
}
echo_to "$NS" $ME echo0.out "${SPECS[@]}" "${BIG[@]}"
echo_to "$NS1" $ME1 echo1.out "${SPECS[@]}"
NS0=${#SPECS[@]}
NP0=$((2 * (NS0 + 3 * ${#BIG[@]}))) # packets over the tap, both ways
NP1=$((2 * NS0))
wait_file_lines "$IT_DIR/info.out" $((NP0 + NP1)) 10 '^(receive|send) '
bpf_stop "$BT"
cap_wait "$IT_DIR/linux.pcap" "$NP0" 10 ip
cap_wait "$IT_DIR/linux1.pcap" "$NP1" 10 ip
cap_stop "$CAP"
cap_stop "$CAP1"

# On the wire: each datagram and its echo, ports turned around (tshark
# reassembles the fragments for this).
for leg in "linux.pcap $PEER $ME $((NS0 + ${#BIG[@]}))" "linux1.pcap $PEER1 $ME1 $NS0"; do
	read -r pcap peer me n <<<"$leg"
	SPORT=$(awk '{ print $5; exit }' "$IT_DIR/$([ "$pcap" = linux.pcap ] && echo echo0 || echo echo1).out")
	expect_eq "$pcap: UDP datagrams (count src:port dst:port)" \
		"$(tsh "$IT_DIR/$pcap" -Y udp -T fields -E separator=' ' -e ip.src -e udp.srcport -e ip.dst -e udp.dstport |
			awk '{ print $1 ":" $2, $3 ":" $4 }' | sort | uniq -c | awk '{ $1 = $1; print }' | tr '\n' ';')" \
		"$(printf '%s\n' "$n $me:7 $peer:$SPORT" "$n $peer:$SPORT $me:7" | sort | tr '\n' ';')"
done

# ipv4info_t against the wire, link by link.  Over the tap sonded leaves
# the checksum of its whole echoes to the port (0 at send) and computes
# its fragments'; over the veth it computes them all.
ipv4_wire "$IT_DIR/linux.pcap" "$LMAC" dpdk0 >"$IT_DIR/hdr-wire.dpdk0.txt"
ipv4_wire "$IT_DIR/linux1.pcap" "$LMAC1" dpdk1 >"$IT_DIR/hdr-wire.dpdk1.txt"
for leg in "dpdk0 1 $NS0 $NP0" "dpdk1 0 0 $NP1"; do
	read -r ifn fills left np <<<"$leg"
	awk -v ifn="$ifn" '($1 == "receive" || $1 == "send") && $2 == ifn' "$IT_DIR/info.out" >"$IT_DIR/hdr-probes.$ifn.txt"
	expect_eq "IPv4 packets on the wire of $ifn" "$(wc -l <"$IT_DIR/hdr-wire.$ifn.txt")" "$np"
	ipv4_compare "UDP echo on $ifn" "$IT_DIR/hdr-wire.$ifn.txt" "$IT_DIR/hdr-probes.$ifn.txt" "$fills"
	expect_eq "echoes on $ifn with checksum 0 at send (left to the port)" "$IPV4_LEFT" "$left"
done
say "each kind of datagram over the veth and its echo, as info.bt saw them (NAME IF ver ihl tos length ident flags offset ttl protocol protostr checksum saddr daddr src dst plength):"
awk '!seen[$5 " " $8 " " $6 " " $1]++' "$IT_DIR/hdr-probes.dpdk1.txt" | sed 's/^/    /'
# What the options put in the datagrams reached the probes: (tos flags
# offset ttl length) at receive, in order, datagram by datagram (a
# fragmented one: its fragments).
RECV0=$(awk '$1 == "receive" { printf "%s(%s %s %s %s %s)", sep, $5, $8, $9, $10, $6; sep = " " }' "$IT_DIR/hdr-probes.dpdk0.txt")
W="(0 4 0 64 128) (0 4 0 64 128) (0 4 0 64 128) (40 0 0 17 228) (40 0 0 17 228) (184 4 0 64 1500) (184 4 0 64 1500)"
WF="(16 2 0 64 1500) (16 2 1480 64 1500) (16 0 2960 64 68)"
expect_eq "receives on dpdk0 (tos flags offset ttl length)" "$RECV0" "$W $WF $WF"
expect_eq "receives on dpdk1 (tos flags offset ttl length)" \
	"$(awk '$1 == "receive" { printf "%s(%s %s %s %s %s)", sep, $5, $8, $9, $10, $6; sep = " " }' "$IT_DIR/hdr-probes.dpdk1.txt")" "$W"

sonded_stop
expect_counter service.udp.echoed $((2 * NS0 + ${#BIG[@]}))
expect_counter frag.reassembled ${#BIG[@]}
expect_counter frag.fragmented ${#BIG[@]}
