#!/bin/bash
#
# forward: sonded routes between three Linux namespaces: A (10.1.0.1/24) on
# dpdk0 and B (10.2.0.1/24) on dpdk1, both over taps (net_tap, which fills
# the IPv4 header checksum of what sonded leaves to it), and C (10.3.0.1/24)
# on dpdk2 over a veth (net_af_packet, which fills nothing).  A pings B
# through it; tcpdump in both namespaces shows each packet's TTL one lower
# on the far side (RFC 1812 5.3.1) with a valid header checksum (the RFC
# 1624 update); a TTL-1 ping gets ICMP time exceeded from sonded's address
# on A's side; pings with 2000 bytes of data go as fragments, which sonded
# forwards as they are, both ways.  A pings C with TOS 0x28, TTL 40 and DF
# clear, and with 1400 bytes of data and DF set.  (Not fragments: the
# kernel reassembles them for net_af_packet's sockets, PACKET_FANOUT_FLAG_
# DEFRAG, which then cuts what passes its 2048-byte frames.)  bpftrace
# shows forwarded packets as receive and send only (no read, no write).  And every ipv4info_t field at receive and send
# (ident, flags, offset, TOS, checksum, TTL, length, protocol, addresses) is
# what the capture of that port's namespace saw, packet by packet and in
# order, on all three ports; each forwarded packet's send on the way out is
# its receive on the way in with the TTL one less and the checksum updated
# for it (RFC 1624 eqn. 3), nothing else changed.
#
#   tests/integration/forward.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

N=5
NF=2 # A -> B with -s 2000: 2 fragments each way
NQ=3 # A -> C with -Q 0x28 -t 40 -M dont
NB=2 # A -> C with -s 1400 -M do
A=10.1.0.1
GA=10.1.0.2
B=10.2.0.1
GB=10.2.0.2
C=10.3.0.1
GC=10.3.0.2

netns_new NSA
netns_new NSB
netns_new NSC
sonded_netns
tap_new TA
tap_new TB
veth_to_ns AFP "$NSC" $C/24 2
VC=$VETH_PEER
sonded_start_eal "--vdev=net_tap0,iface=$TA" "--vdev=net_tap1,iface=$TB" "$AFP" -- \
	--forward --addr dpdk0=$GA/24 --addr dpdk1=$GB/24 --addr dpdk2=$GC/24
# net_tap gives the kernel side the port's MAC: so dpdk0 is TA, dpdk1 is
# TB; net_af_packet takes the veth's.
smac() { ip netns exec "$SONDED_NETNS" cat "/sys/class/net/$1/address"; }
expect_eq "dpdk0's tap" "$(smac "$TA")" "${SONDED_MAC[0]}"
expect_eq "dpdk1's tap" "$(smac "$TB")" "${SONDED_MAC[1]}"
expect_eq "dpdk2's veth" "$(smac "${AFP##*iface=}")" "${SONDED_MAC[2]}"
tap_to_ns "$TA" "$NSA" $A/24
tap_to_ns "$TB" "$NSB" $B/24
ip -n "$NSA" route add default via $GA || fail "route in A"
ip -n "$NSB" route add default via $GB || fail "route in B"
ip -n "$NSC" route add default via $GC || fail "route in C"
MA=$(ns_mac "$NSA" "$TA")
MB=$(ns_mac "$NSB" "$TB")
MC=$(ns_mac "$NSC" "$VC")

I='((struct ipinfo_t *)arg2)'
F='((struct ifinfo_t *)arg3)'
V='((struct ipv4info_t *)arg4)'
cat >"$IT_DIR/fwd.bt" <<BT
#include <sonde/ip_provider.h>
usdt:$SONDED:ipv4:receive { printf("receive %s %s %s %d\n", $F->if_name, $I->ip_saddr, $I->ip_daddr, $V->ipv4_ttl); }
usdt:$SONDED:ipv4:send { printf("send %s %s %s %d\n", $F->if_name, $I->ip_saddr, $I->ip_daddr, $V->ipv4_ttl); }
usdt:$SONDED:ipv4:read { printf("read %s %s %s %d\n", $F->if_name, $I->ip_saddr, $I->ip_daddr, $V->ipv4_ttl); }
usdt:$SONDED:ipv4:write { printf("write %s %s %s %d\n", $F->if_name, $I->ip_saddr, $I->ip_daddr, $V->ipv4_ttl); }
usdt:$SONDED:ipv4:drop__in { printf("drop-in %s %s %s %s %d\n", ((struct pktinfo_t *)arg0)->pkt_reason, $F->if_name, $I->ip_saddr, $I->ip_daddr, $V->ipv4_ttl); }
BT
bpf_start BT "$IT_DIR/fwd.out" "$IT_DIR/fwd.bt"
ipv4_fields_bt receive send >"$IT_DIR/info.bt"
bpf_start BT2 "$IT_DIR/info.out" "$IT_DIR/info.bt"
cap_start CAPA "$NSA" "$TA" "$IT_DIR/a.pcap"
cap_start CAPB "$NSB" "$TB" "$IT_DIR/b.pcap"
cap_start CAPC "$NSC" "$VC" "$IT_DIR/c.pcap"

# pingA OUT COUNT DST ARGS...: A pings DST through sonded; all answered.
pingA()
{
	local out=$1 n=$2 dst=$3
	shift 3
	say "A: ping -c $n $* $dst (through sonded)"
	in_ns "$NSA" timeout --foreground -k 2 30 ping -n -c "$n" -i 0.2 -W 2 "$@" "$dst" >"$IT_DIR/$out" 2>&1 || {
		cat "$IT_DIR/$out" >&2
		fail "A's pings $* to $dst were not all answered"
	}
	grep -q "$n packets transmitted, $n received" "$IT_DIR/$out" || fail "ping: $(tail -2 "$IT_DIR/$out")"
	ok "A -> $dst: all $n pings ${*:+with $* }answered"
}
pingA ping.out $N $B

say "A: ping -c 1 -t 1 $B"
in_ns "$NSA" timeout --foreground -k 2 10 ping -n -c 1 -t 1 -W 2 $B >"$IT_DIR/ping-ttl1.out" 2>&1
sed 's/^/    /' "$IT_DIR/ping-ttl1.out"
grep -q "From $GA icmp_seq=1 Time to live exceeded" "$IT_DIR/ping-ttl1.out" ||
	fail "no 'Time to live exceeded' from $GA"
ok "ping -t 1: Time to live exceeded from $GA"

pingA ping-big.out $NF $B -s 2000
pingA ping-c-q.out $NQ $C -Q 0x28 -t 40 -M dont
pingA ping-c-big.out $NB $C -s 1400 -M 'do'
# The events of every packet before bpftrace stops (fwd.want below): 4 a
# ping (receive and send each way), 8 a fragmented one, and the TTL 1
# ping's receive, drop, write and send.
NEV=$((4 * N + 4 + 8 * NF + 4 * NQ + 4 * NB))
wait_file_lines "$IT_DIR/fwd.out" $NEV 10 '^(receive|send|read|write|drop-in) '
wait_file_lines "$IT_DIR/info.out" $((NEV - 2)) 10 '^(receive|send) '
bpf_stop "$BT"
bpf_stop "$BT2"
cap_wait "$IT_DIR/a.pcap" $((2 * N + 4 * NF + 2 + 2 * NQ + 2 * NB)) 10 ip
cap_wait "$IT_DIR/b.pcap" $((2 * N + 4 * NF)) 10 ip
cap_wait "$IT_DIR/c.pcap" $((2 * NQ + 2 * NB)) 10 ip
cap_stop "$CAPA"
cap_stop "$CAPB"
cap_stop "$CAPC"

# TTLs, echo by echo: (ident, seq) -> TTL on each side.
ttls()
{
	tsh "$1" -Y "icmp.type == $2 && ip.src == $3" -T fields -E separator=' ' \
		-e icmp.ident -e icmp.seq -e ip.ttl
}
for dir in "8 $A A B" "0 $B B A"; do
	read -r -a d <<<"$dir"
	set -- "${d[@]}"
	ttls "$IT_DIR/$(echo "$3" | tr AB ab).pcap" "$1" "$2" | sort >"$IT_DIR/ttl-$3.txt"
	ttls "$IT_DIR/$(echo "$4" | tr AB ab).pcap" "$1" "$2" | sort >"$IT_DIR/ttl-$3-at-$4.txt"
	CNT=$(wc -l <"$IT_DIR/ttl-$3-at-$4.txt")
	expect_eq "echo type $1 from $3 seen in $4 (fragments reassembled)" "$CNT" $((N + NF))
	DEC=$(join <(awk '{ print $1 "/" $2, $3 }' "$IT_DIR/ttl-$3.txt") \
		<(awk '{ print $1 "/" $2, $3 }' "$IT_DIR/ttl-$3-at-$4.txt") |
		awk '{ print $2 - $3 }' | sort | uniq -c | awk '{ print $1 "x" $2 }')
	expect_eq "TTL decrease $3 -> $4 (count x decrease)" "$DEC" "$((N + NF))x1"
done
say "TTL sent by A, then seen in B: $(head -1 "$IT_DIR/ttl-A.txt" | awk '{print $3}') -> $(head -1 "$IT_DIR/ttl-A-at-B.txt" | awk '{print $3}')"
GOOD=$(tsh "$IT_DIR/b.pcap" -o ip.check_checksum:TRUE -Y "ip.src == $A && ip.checksum.status == 1" | wc -l)
expect_eq "forwarded packets (fragments too) in B with a good IP checksum" "$GOOD" $((N + 2 * NF))
GOOD=$(tsh "$IT_DIR/a.pcap" -o ip.check_checksum:TRUE -Y "ip.dst == $A && ip.src != $GA && ip.checksum.status == 1" | wc -l)
expect_eq "forwarded replies (fragments too) in A with a good IP checksum" "$GOOD" $((N + 2 * NF + NQ + NB))
TE=$(tsh "$IT_DIR/a.pcap" -Y "icmp.type == 11" -T fields -E separator=' ' -E occurrence=f \
	-e ip.src -e ip.dst -e icmp.code)
expect_eq "ICMP time exceeded in A (src dst code)" "$TE" "$GA $A 0"
expect_eq "packets in B with TTL 1 or 0" "$(tsh "$IT_DIR/b.pcap" -Y "ip.ttl <= 1" | wc -l)" 0

# The probes: forwarded packets are receive on one port, send on the other.
grep -E '^(receive|send|read|write|drop-in) ' "$IT_DIR/fwd.out" | sort | uniq -c | awk '{ $1 = $1; print }' |
	sort >"$IT_DIR/fwd.got"
sort >"$IT_DIR/fwd.want" <<WANT
1 drop-in ttl-exceeded dpdk0 $A $B 1
1 receive dpdk0 $A $B 1
$((N + 2 * NF)) receive dpdk0 $A $B 64
$((N + 2 * NF)) receive dpdk1 $B $A 64
1 send dpdk0 $GA $A 64
$((N + 2 * NF)) send dpdk0 $B $A 63
$((N + 2 * NF)) send dpdk1 $A $B 63
1 write dpdk0 $GA $A 64
$NQ receive dpdk0 $A $C 40
$NQ send dpdk2 $A $C 39
$NB receive dpdk0 $A $C 64
$NB send dpdk2 $A $C 63
$((NQ + NB)) receive dpdk2 $C $A 64
$((NQ + NB)) send dpdk0 $C $A 63
WANT
sed 's/^/    /' "$IT_DIR/fwd.got"
diff -u "$IT_DIR/fwd.want" "$IT_DIR/fwd.got" || fail "bpftrace events (count, event) differ from the expected"
ok "bpftrace: forwarded = receive + send on the other port with the TTL one less, no read/write; one drop-in ttl-exceeded"

# ipv4info_t at receive and send against each port's capture, packet by
# packet and in order.  The taps fill the checksum of what sonded leaves
# them: that is the time exceeded it writes (0 at send); what it forwards
# keeps its checksum, updated.  The veth fills nothing.
for leg in "a.pcap $MA dpdk0 1 1" "b.pcap $MB dpdk1 1 0" "c.pcap $MC dpdk2 0 0"; do
	read -r pcap peer ifn fills left <<<"$leg"
	ipv4_wire "$IT_DIR/$pcap" "$peer" "$ifn" >"$IT_DIR/hdr-wire.$ifn.txt"
	awk -v ifn="$ifn" '($1 == "receive" || $1 == "send") && $2 == ifn' "$IT_DIR/info.out" >"$IT_DIR/hdr-probes.$ifn.txt"
	ipv4_compare "$ifn (the capture in its namespace)" "$IT_DIR/hdr-wire.$ifn.txt" "$IT_DIR/hdr-probes.$ifn.txt" "$fills"
	expect_eq "sends on $ifn with checksum 0 (left to the port)" "$IPV4_LEFT" "$left"
done
expect_eq "packets on the three wires" "$(cat "$IT_DIR"/hdr-wire.dpdk?.txt | wc -l)" $((NEV - 2))

# Forwarded packets, paired by (ident src dst protocol offset), the i-th
# receive of a key with its i-th send (Linux gives ident 0 to every ping
# with DF forced): the send on the way out is the receive on the way in
# with the TTL one less and the checksum updated for it, the rest as it
# was.  (The probes' lines, each send's checksum the wire's where the probe
# had 0: equal to the wire, as just checked; each port's in its order.)
cat "$IT_DIR"/hdr-probes.dpdk?.txt.cmp | awk -v own="$GA $GB $GC" '
BEGIN { split(own, o, " "); for (i in o) mine[o[i]] = 1 }
function ttlsum(hc, ttl, p,   s) {
	# RFC 1624 eqn. 3, HC'"'"' = ~(~HC + ~m + m'"'"'), m the TTL/protocol word.
	s = (65535 - hc) + (65535 - (ttl * 256 + p)) + (ttl - 1) * 256 + p
	while (s > 65535) s = s % 65536 + int(s / 65536)
	return 65535 - s
}
($14 in mine) || ($15 in mine) { next }
{ k = $7 " " $14 " " $15 " " $11 " " $9; keys[k] = 1 }
$1 == "receive" { rx[k, ++nrx[k]] = $0 }
$1 == "send" { tx[k, ++ntx[k]] = $0 }
END {
	for (k in keys) {
		for (j = 1; j <= ntx[k]; j++) {
			if (j > nrx[k]) { print "send without a receive: " tx[k, j]; bad++; continue }
			split(rx[k, j], r, " "); split(tx[k, j], t, " ")
			want = ""; got = ""
			for (i = 3; i <= 18; i++) {
				want = want " " (i == 10 ? r[i] - 1 : i == 13 ? ttlsum(r[13], r[10], r[11]) : r[i])
				got = got " " t[i]
			}
			if (want != got) { print "receive " rx[k, j] "\n   send " tx[k, j] "\n   want" want; bad++ }
			n++; ports[r[2] ">" t[2]]++
		}
		for (j = ntx[k] + 1; j <= nrx[k]; j++) unpaired = unpaired " [" rx[k, j] "]"
	}
	for (p in ports) pp = pp " " p ":" ports[p]
	print n + 0, bad + 0, pp, "|" unpaired
}' >"$IT_DIR/pairs.txt"
sed 's/^/    /' "$IT_DIR/pairs.txt"
read -r NPAIR NBAD _ <<<"$(tail -1 "$IT_DIR/pairs.txt")"
PORTS=$(tail -1 "$IT_DIR/pairs.txt" | cut -d'|' -f1 | cut -d' ' -f3- | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
UNPAIRED=$(tail -1 "$IT_DIR/pairs.txt" | cut -d'|' -f2)
expect_eq "forwarded packets whose send is not their receive, TTL - 1, checksum updated" "$NBAD" 0
expect_eq "forwarded packets (in port > out port: count)" "$PORTS" \
	"dpdk0>dpdk1:$((N + 2 * NF)) dpdk0>dpdk2:$((NQ + NB)) dpdk1>dpdk0:$((N + 2 * NF)) dpdk2>dpdk0:$((NQ + NB)) "
expect_eq "received, not forwarded (the TTL 1 ping: ident src dst ttl)" \
	"$(echo "$UNPAIRED" | tr -d '[]' | awk '{ print $7, $14, $15, $10 }')" \
	"$(awk '$1 == "receive" && $10 == 1 { print $7, $14, $15, $10 }' "$IT_DIR/hdr-wire.dpdk0.txt")"
ok "every one of the $NPAIR forwarded packets: send = receive but TTL - 1 and the checksum per RFC 1624, on the right port"
say "one forwarded to C, as the probes saw it in and out:"
grep -E '^(receive dpdk0|send dpdk2) .* 10\.1\.0\.1 10\.3\.0\.1 ' "$IT_DIR/info.out" | sed -n '1,2p' | sed 's/^/    /'

sonded_stop
expect_counter ipv4.forwarded $((2 * (N + 2 * NF) + 2 * (NQ + NB)))
expect_counter drop.in.ttl-exceeded 1
expect_counter icmp.errors_out 1
expect_counter icmp.echo_replies 0
