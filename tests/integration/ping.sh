#!/bin/bash
#
# ping: Linux pings sonded over two links: a tap (dpdk0, net_tap, whose
# kernel side fills the IPv4 header checksum of what sonded sends) and a
# veth (dpdk1, net_af_packet, which fills nothing), each from a namespace of
# its own.  On each: plain pings (20 over the tap, 3 over the veth), then 3
# with TOS 0x28, TTL 33 and DF clear (ping -Q 0x28 -t 33 -M dont) and 3 with
# TOS 0xb8, DF set and 1000 bytes of data (-Q 0xb8 -M do -s 1000).  Checks
# that every ping is answered, that ARP resolved both ways, and that what
# ipio03.bt reports matches, packet for packet, what tcpdump saw on the Linux
# side (the seed's method of holding DTrace against snoop): same order, same
# addresses, same lengths, same interface, and receive/read/write/send for
# every ping.  And field by field: every ipv4info_t member at receive and
# send (ident, flags, offset, TOS, checksum, TTL, length, protocol, the
# addresses as text and raw) is what tcpdump saw in that packet's header,
# for every packet both ways, in order (at send over the tap the checksum
# is 0, the port's to fill, and the wire's must be right).
#
#   tests/integration/ping.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

N=20 # plain pings over the tap
N1=3 # plain pings over the veth
NQ=3 # each of the two series with options, on each link
ME=10.99.0.2
PEER=10.99.0.1
ME1=10.99.1.2
PEER1=10.99.1.1

netns_new NS
netns_new NS1
sonded_netns
tap_new TAP
veth_to_ns AFP "$NS1" $PEER1/24 1
VETH1=$VETH_PEER
sonded_start_eal "--vdev=net_tap0,iface=$TAP" "$AFP" -- --addr dpdk0=$ME/24 --addr dpdk1=$ME1/24
tap_to_ns "$TAP" "$NS" $PEER/24
LMAC=$(ns_mac "$NS" "$TAP")
LMAC1=$(ns_mac "$NS1" "$VETH1")
expect_eq "dpdk1's MAC (the veth's end in sonded's namespace)" "${SONDED_MAC[1]}" \
	"$(ip netns exec "$SONDED_NETNS" cat "/sys/class/net/${AFP##*iface=}/address")"

bpf_start BT "$IT_DIR/ipio03.out" "$SONDE_SRC/probes/ipio03.bt" "$SONDED"
wait_for 5 "ipio03.bt header" grep -q 'NAME.*SOURCE.*DEST.*BYTES.*INT' "$IT_DIR/ipio03.out"
ipv4_fields_bt receive send >"$IT_DIR/info.bt"
bpf_start BT2 "$IT_DIR/info.out" "$IT_DIR/info.bt"
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap"
cap_start CAP1 "$NS1" "$VETH1" "$IT_DIR/linux1.pcap"

# ping4 NS DST OUT COUNT ARGS...: Linux pings DST from NS; every ping must
# be answered.
ping4()
{
	local ns=$1 dst=$2 out=$3 n=$4 rc
	shift 4
	say "Linux: ping -c $n -i 0.2 $* $dst"
	in_ns "$ns" timeout --foreground -k 2 30 ping -n -c "$n" -i 0.2 -W 2 "$@" "$dst" >"$IT_DIR/$out" 2>&1
	rc=$?
	grep -q "$n packets transmitted, $n received" "$IT_DIR/$out" || {
		cat "$IT_DIR/$out" >&2
		fail "ping $* $dst: not every ping was answered"
	}
	expect_eq "ping $* $dst: exit status" $rc 0
	ok "all $n pings ${*:+with $* }to $dst answered"
}
Q28=(-Q 0x28 -t 33 -M dont)
QB8=(-Q 0xb8 -M 'do' -s 1000)
ping4 "$NS" $ME ping.out $N
ping4 "$NS" $ME ping-q28.out $NQ "${Q28[@]}"
ping4 "$NS" $ME ping-qb8.out $NQ "${QB8[@]}"
ping4 "$NS1" $ME1 ping1.out $N1
ping4 "$NS1" $ME1 ping1-q28.out $NQ "${Q28[@]}"
ping4 "$NS1" $ME1 ping1-qb8.out $NQ "${QB8[@]}"
NALL0=$((N + 2 * NQ))
NALL1=$((N1 + 2 * NQ))
NALL=$((NALL0 + NALL1))
# Every packet's probe lines, before bpftrace stops: each ping's four
# events (ipio03.bt) and its receive and send (info.bt).
wait_file_lines "$IT_DIR/ipio03.out" $((4 * NALL)) 10 ' -> '
wait_file_lines "$IT_DIR/info.out" $((2 * NALL)) 10 '^(receive|send) '
bpf_stop "$BT"
bpf_stop "$BT2"
# And every packet in tcpdump's files before it stops (it does not write
# what it has not read by then).
cap_wait "$IT_DIR/linux.pcap" $((2 * NALL0)) 10 icmp
cap_wait "$IT_DIR/linux1.pcap" $((2 * NALL1)) 10 icmp
cap_stop "$CAP"
cap_stop "$CAP1"

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

# The headers on the wire, link by link: every IPv4 packet tcpdump saw, a
# receive (from Linux) or a send (from sonded), as ipv4info_t would give
# it (lib.sh's ipv4_wire).
ipv4_wire "$IT_DIR/linux.pcap" "$LMAC" dpdk0 >"$IT_DIR/hdr-wire.dpdk0.txt"
ipv4_wire "$IT_DIR/linux1.pcap" "$LMAC1" dpdk1 >"$IT_DIR/hdr-wire.dpdk1.txt"

# ipio03.bt against the wire: the same packets in the same order, with the
# same addresses, BYTES the IP payload length; each ping is receive, read,
# write, send.
for leg in "dpdk0 $NALL0" "dpdk1 $NALL1"; do
	read -r ifn n <<<"$leg"
	awk '{ print $1, $14, $15, $18, $2 }' "$IT_DIR/hdr-wire.$ifn.txt" >"$IT_DIR/wire.$ifn.txt"
	awk -v ifn="$ifn" '$3 == "->" && ($1 == "receive" || $1 == "send") && $6 == ifn { print $1, $2, $4, $5, $6 }' \
		"$IT_DIR/ipio03.out" >"$IT_DIR/probes.$ifn.txt"
	expect_eq "IPv4 packets on the wire of $ifn" "$(wc -l <"$IT_DIR/wire.$ifn.txt")" $((2 * n))
	diff -u "$IT_DIR/wire.$ifn.txt" "$IT_DIR/probes.$ifn.txt" >"$IT_DIR/wire-vs-probes.$ifn.diff" || {
		cat "$IT_DIR/wire-vs-probes.$ifn.diff" >&2
		fail "bpftrace's receive/send on $ifn do not match tcpdump's packets one to one"
	}
	ok "bpftrace receive/send on $ifn match tcpdump's $((2 * n)) packets one to one (order, addresses, length, $ifn)"

	awk -v n="$n" -v ifn="$ifn" '
	$3 == "->" && $6 == ifn { k++; nm[k] = $1; s[k] = $2; d[k] = $4; l[k] = $5 }
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
		}
	}' "$IT_DIR/ipio03.out" || fail "ipio03.bt events on $ifn are not receive/read/write/send per ping"
	ok "ipio03.bt shows receive, read, write, send on $ifn for each of the $n pings"
done
say "first ping as ipio03.bt saw it:"
awk '$3 == "->"' "$IT_DIR/ipio03.out" | head -4 | sed 's/^/    /'

# ipv4info_t, field by field, against each packet's header on the wire.
# Over the tap sonded leaves the checksum of its replies to the port (0 at
# send); over the veth it computes it.
for leg in "dpdk0 1 $NALL0" "dpdk1 0 0"; do
	read -r ifn fills left <<<"$leg"
	awk -v ifn="$ifn" '($1 == "receive" || $1 == "send") && $2 == ifn' "$IT_DIR/info.out" >"$IT_DIR/hdr-probes.$ifn.txt"
	ipv4_compare "pings on $ifn" "$IT_DIR/hdr-wire.$ifn.txt" "$IT_DIR/hdr-probes.$ifn.txt" "$fills"
	expect_eq "replies on $ifn with checksum 0 at send (left to the port)" "$IPV4_LEFT" "$left"
done
say "a ping of each series on dpdk1 as info.bt saw it (NAME IF ver ihl tos length ident flags offset ttl protocol protostr checksum saddr daddr src dst plength):"
sed -n "1,2p; $((2 * N1 + 1)),$((2 * N1 + 2))p; $((2 * N1 + 2 * NQ + 1)),$((2 * N1 + 2 * NQ + 2))p" \
	"$IT_DIR/hdr-probes.dpdk1.txt" | sed 's/^/    /'
# What each series' options put in the requests reached the probes: (tos
# flags ttl) of the receives, series by series; Linux chose the idents, all
# different.
series()
{
	awk '$1 == "receive" { print $5, $8, $10 }' "$1" | uniq -c |
		awk '{ printf "%s%dx(%s %s %s)", sep, $1, $2, $3, $4; sep = " " }'
}
expect_eq "receives on dpdk0 (tos flags ttl), by series" "$(series "$IT_DIR/hdr-probes.dpdk0.txt")" \
	"${N}x(0 4 64) ${NQ}x(40 0 33) ${NQ}x(184 4 64)"
expect_eq "receives on dpdk1 (tos flags ttl), by series" "$(series "$IT_DIR/hdr-probes.dpdk1.txt")" \
	"${N1}x(0 4 64) ${NQ}x(40 0 33) ${NQ}x(184 4 64)"
# (Linux gives ident 0 to a ping with DF forced, -M do: the others.)
expect_eq "distinct non-zero idents of the $((NALL - 2 * NQ)) requests without -M do" \
	"$(awk '$1 == "receive" && $7 != 0 { print $7 }' "$IT_DIR"/hdr-probes.dpdk?.txt | sort -u | wc -l)" \
	$((NALL - 2 * NQ))

sonded_stop
expect_counter icmp.echo_replies $NALL
expect_counter ipv4.in $NALL
expect_counter_ge arp.in 2
expect_counter_ge arp.replies_out 2
