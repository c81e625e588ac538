#!/bin/bash
#
# frag: Linux pings sonded with 4000 bytes of data, over IPv4 and over IPv6
# (ping -s 4000), so every request arrives in 3 fragments at MTU 1500 and
# every reply leaves in 3.  All answered, with the data intact (ping checks
# it; tshark reassembles sonded's replies and checks their checksums).
# tcpdump shows the fragments both ways: offsets, sizes, one identification
# per datagram.  ipio01.bt shows one receive per fragment, matching
# tcpdump's packets one to one (BYTES the fragment's IP payload); ipio02.bt
# one read per request, for the reassembled packet (BYTES 4008, the ICMP
# message), and one write per reply, before it is fragmented.  Every
# ipv4info_t field of each IPv4 fragment at receive and send (ident, flags
# with MF, offset, length, checksum, ...) is what tcpdump saw in its header,
# in order.
#
#   tests/integration/frag.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

N=5
SIZE=4000 # ping -s: ICMP payload 4008
ME4=10.93.0.2
PEER4=10.93.0.1
ME6=fd00:93::2
PEER6=fd00:93::1

netns_new6 NS
sonded_netns
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME4/24 --addr dpdk0=$ME6/64
tap_to_ns6 "$TAP" "$NS" $PEER6/64 $PEER4/24
SMAC=${SONDED_MAC[0]}

bpf_start BT1 "$IT_DIR/ipio01.out" "$SONDE_SRC/probes/ipio01.bt" "$SONDED"
bpf_start BT2 "$IT_DIR/ipio02.out" "$SONDE_SRC/probes/ipio02.bt" "$SONDED"
wait_for 5 "ipio01.bt and ipio02.bt headers" \
	bash -c "grep -q 'NAME.*PROTO' '$IT_DIR/ipio01.out' && grep -q 'NAME.*INT' '$IT_DIR/ipio02.out'"
ipv4_fields_bt receive send >"$IT_DIR/info.bt"
bpf_start BT3 "$IT_DIR/info.out" "$IT_DIR/info.bt"
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap"

for dst in $ME4 $ME6; do
	say "Linux: ping -c $N -s $SIZE $dst"
	in_ns "$NS" timeout --foreground -k 2 30 ping -n -c $N -i 0.2 -W 2 -s $SIZE "$dst" \
		>"$IT_DIR/ping-$dst.out" 2>&1
	rc=$?
	grep -q "$N packets transmitted, $N received," "$IT_DIR/ping-$dst.out" || {
		cat "$IT_DIR/ping-$dst.out" >&2
		fail "ping -s $SIZE $dst: not every ping was answered"
	}
	grep -Eq 'wrong data|DUP|truncated' "$IT_DIR/ping-$dst.out" && {
		cat "$IT_DIR/ping-$dst.out" >&2
		fail "ping -s $SIZE $dst: replies with wrong data"
	}
	expect_eq "ping -s $SIZE $dst: exit status" $rc 0
	ok "all $N pings of $SIZE bytes to $dst answered, $((SIZE + 8)) bytes each, data intact"
done
# The last events before bpftrace stops: one receive or send per fragment
# (ipio01.bt, and info.bt for IPv4), a read and a write per ping (ipio02.bt).
wait_file_lines "$IT_DIR/ipio01.out" $((4 * 3 * N)) 10 ' (ICMP|FRAG) *$'
wait_file_lines "$IT_DIR/ipio02.out" $((4 * N)) 10 " $((SIZE + 8)) "
wait_file_lines "$IT_DIR/info.out" $((2 * 3 * N)) 10 '^(receive|send) '
bpf_stop "$BT1"
bpf_stop "$BT2"
bpf_stop "$BT3"
cap_wait "$IT_DIR/linux.pcap" $((4 * 3 * N)) 10 '(ip and ip[9] == 1) or (ip6 and ip6[6] == 44)'
cap_stop "$CAP"

# The fragments on the wire, per datagram (one identification each):
# "offset:IP payload bytes:more" in order (tshark gives the offsets in
# units of 8 bytes).  At MTU 1500 IPv4 carries 1480
# bytes a fragment, IPv6 1448 (1500 - 40 - 8, a multiple of 8).
NOREASM=(-o ip.defragment:FALSE -o ipv6.defragment:FALSE)
frags4()
{
	tsh "$IT_DIR/linux.pcap" "${NOREASM[@]}" -Y "ip.src == $1 && ip.proto == 1" -T fields \
		-E separator=' ' -e ip.id -e ip.frag_offset -e ip.len -e ip.hdr_len -e ip.flags.mf -e ip.flags.df |
		awk '{ k = $1; if (!(k in s)) o[++n] = k; s[k] = s[k] " " $2 * 8 ":" $3 - $4 ":" $5 ":" $6 }
		END { for (i = 1; i <= n; i++) print substr(s[o[i]], 2) }' | sort | uniq -c | awk '{ $1 = $1 "x"; print }'
}
frags6()
{
	tsh "$IT_DIR/linux.pcap" "${NOREASM[@]}" -Y "ipv6.src == $1 && ipv6.nxt == 44" -T fields \
		-E separator=' ' -E occurrence=f -e ipv6.fraghdr.ident -e ipv6.fraghdr.offset -e ipv6.plen \
		-e ipv6.fraghdr.more |
		awk '{ k = $1; if (!(k in s)) o[++n] = k; s[k] = s[k] " " $2 * 8 ":" $3 - 8 ":" $4 }
		END { for (i = 1; i <= n; i++) print substr(s[o[i]], 2) }' | sort | uniq -c | awk '{ $1 = $1 "x"; print }'
}
# tshark writes the flags as True/False or 1/0 depending on its version.
norm() { sed 's/True/1/g; s/False/0/g'; }
W4="${N}x 0:1480:1:0 1480:1480:1:0 2960:1048:0:0"
W6="${N}x 0:1448:1 1448:1448:1 2896:1112:0"
expect_eq "IPv4 fragments from Linux (datagrams x offset:bytes:MF:DF ...)" "$(frags4 $PEER4 | norm)" "$W4"
expect_eq "IPv4 fragments from sonded (datagrams x offset:bytes:MF:DF ...)" "$(frags4 $ME4 | norm)" "$W4"
expect_eq "IPv6 fragments from Linux (datagrams x offset:bytes:M ...)" "$(frags6 $PEER6 | norm)" "$W6"
expect_eq "IPv6 fragments from sonded (datagrams x offset:bytes:M ...)" "$(frags6 $ME6 | norm)" "$W6"
say "sonded's fragments of one IPv6 reply, as tcpdump saw them:"
tsh "$IT_DIR/linux.pcap" "${NOREASM[@]}" -Y "ipv6.src == $ME6 && ipv6.nxt == 44" | head -3 | sed 's/^/    /'

# ipv4info_t at receive and send, fragment by fragment, against the wire.
# The tap would fill the checksum of what sonded leaves to it, but sonded
# computes its fragments' (rte_ipv4_fragment_packet): the wire's, at send.
ipv4_wire "$IT_DIR/linux.pcap" "$(ns_mac "$NS" "$TAP")" dpdk0 >"$IT_DIR/hdr-wire.txt"
grep -E '^(receive|send) ' "$IT_DIR/info.out" >"$IT_DIR/hdr-probes.txt"
expect_eq "IPv4 fragments on the wire" "$(wc -l <"$IT_DIR/hdr-wire.txt")" $((2 * 3 * N))
ipv4_compare "IPv4 fragments" "$IT_DIR/hdr-wire.txt" "$IT_DIR/hdr-probes.txt" 1
expect_eq "fragments with checksum 0 at send (left to the port)" "$IPV4_LEFT" 0
expect_eq "(flags offset length) of the fragments at receive and at send" \
	"$(awk '{ print $1, $8, $9, $6 }' "$IT_DIR/hdr-probes.txt" | sort | uniq -c | awk '{ $1 = $1 "x"; print }' | tr '\n' ';')" \
	"${N}x receive 0 2960 1068;${N}x receive 2 0 1500;${N}x receive 2 1480 1500;${N}x send 0 2960 1068;${N}x send 2 0 1500;${N}x send 2 1480 1500;"

# Reassembled by tshark: every reply whole, checksum good, its request's.
R4=$(tsh "$IT_DIR/linux.pcap" -Y "icmp.type == 0 && icmp.checksum.status == 1 && icmp.resp_to" \
	-T fields -e ip.reassembled.length | sort | uniq -c | awk '{ print $1 "x" $2 }')
expect_eq "IPv4 echo replies reassembled by tshark, checksum good (count x bytes)" "$R4" "${N}x$((SIZE + 8))"
R6=$(tsh "$IT_DIR/linux.pcap" -Y "icmpv6.type == 129 && icmpv6.checksum.status == 1 && icmpv6.resp_to" \
	-T fields -e ipv6.reassembled.length | sort | uniq -c | awk '{ print $1 "x" $2 }')
expect_eq "IPv6 echo replies reassembled by tshark, checksum good (count x bytes)" "$R6" "${N}x$((SIZE + 8))"

# ipio01.bt against the wire: one receive per fragment in, one send per
# fragment out, in order; BYTES the fragment's IP payload (for IPv6 the
# payload length: the fragment header counts), PROTO ICMP or FRAG.
{
	tsh "$IT_DIR/linux.pcap" "${NOREASM[@]}" -Y "(ip && ip.proto == 1) || (ipv6 && ipv6.nxt == 44)" -T fields \
		-E separator=' ' -E occurrence=f -e eth.src -e ip.src -e ip.dst -e ip.len -e ip.hdr_len \
		-e ipv6.src -e ipv6.dst -e ipv6.plen |
		awk -v me="$SMAC" '{ d = $1 == me ? "send" : "receive"
			if (NF == 5) print d, $2, $3, $4 - $5, "dpdk0", "ICMP"
			else print d, $2, $3, $4, "dpdk0", "FRAG" }'
} >"$IT_DIR/wire.txt"
awk '$3 == "->" && ($7 == "ICMP" || $7 == "FRAG") { print $1, $2, $4, $5, $6, $7 }' \
	"$IT_DIR/ipio01.out" >"$IT_DIR/probes.txt"
expect_eq "fragments on the wire" "$(wc -l <"$IT_DIR/wire.txt")" $((4 * 3 * N))
diff -u "$IT_DIR/wire.txt" "$IT_DIR/probes.txt" >"$IT_DIR/wire-vs-probes.diff" || {
	cat "$IT_DIR/wire-vs-probes.diff" >&2
	fail "ipio01.bt's receive/send do not match tcpdump's fragments one to one"
}
ok "ipio01.bt: one receive per fragment in and one send per fragment out, matching tcpdump's $((12 * N)) packets one to one"
say "one IPv6 request and its reply as ipio01.bt saw them:"
awk '$7 == "FRAG"' "$IT_DIR/ipio01.out" | head -6 | sed 's/^/    /'

# ipio02.bt: one read per request (reassembled), one write per reply.  Any
# other line is Neighbour Discovery (32 bytes).
awk '$3 == "->" && $5 != 32 { print $1, $2, $4, $5, $6 }' "$IT_DIR/ipio02.out" >"$IT_DIR/rw.txt"
{
	for ((i = 0; i < N; i++)); do
		echo "read $PEER4 $ME4 $((SIZE + 8)) dpdk0"
		echo "write $ME4 $PEER4 $((SIZE + 8)) dpdk0"
	done
	for ((i = 0; i < N; i++)); do
		echo "read $PEER6 $ME6 $((SIZE + 8)) dpdk0"
		echo "write $ME6 $PEER6 $((SIZE + 8)) dpdk0"
	done
} >"$IT_DIR/rw.want"
diff -u "$IT_DIR/rw.want" "$IT_DIR/rw.txt" || fail "ipio02.bt: not one read and one write of $((SIZE + 8)) bytes per ping"
ok "ipio02.bt: one read per request (BYTES $((SIZE + 8)), reassembled) and one write per reply, both families"
say "ipio02.bt, first IPv6 ping:"
awk '$5 == '$((SIZE + 8))' && $2 ~ /:/' "$IT_DIR/ipio02.out" | head -2 | sed 's/^/    /'

sonded_stop
expect_counter frag.in $((2 * 3 * N))
expect_counter frag.reassembled $((2 * N))
expect_counter frag.out $((2 * 3 * N))
expect_counter frag.fragmented $((2 * N))
expect_counter frag.held 0
expect_counter icmp.echo_replies $N
expect_counter icmp6.echo_replies $N
expect_counter ipv4.in $((3 * N))
expect_counter drop.in.frag-overlap 0
expect_counter drop.in.reassembly-timeout 0
