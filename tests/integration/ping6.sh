#!/bin/bash
#
# ping6: Linux pings sonded over IPv6, N times to its global address and N
# times to its link-local one (the modified EUI-64 of the MAC sonded prints,
# %tap); all answered.  Neighbour Discovery both ways: ndisc6 (in Linux's
# namespace) resolves sonded's MAC, and Linux's neighbour table holds it;
# sonded learnt Linux's MAC (its replies go there) from Linux's own
# solicitations, never having to ask by multicast.  Then the seed's method:
# ipio01.bt's receive and send lines for the echo traffic match tcpdump's
# packets one to one (order, RFC 5952 addresses, BYTES = the IPv6 payload
# length, dpdk0, PROTO ICMPV6), and every ipv6info_t field (version, traffic
# class, flow label, payload length, next header, hop limit, addresses as
# text and as raw bytes) is what tcpdump saw in the header; a ping with
# -Q 0x28 -F 0x12345 shows ipv6_tclass 0x28 and ipv6_flow 0x12345 at receive.
#
#   tests/integration/ping6.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

N=20
NQ=3 # the -Q 0x28 -F 0x12345 pings
ME=fd00::2
PEER=fd00::1

command -v ndisc6 >/dev/null || skip "needs ndisc6"
netns_new6 NS
sonded_netns
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/64
tap_to_ns6 "$TAP" "$NS" $PEER/64
SMAC=${SONDED_MAC[0]}
LMAC=$(ns_mac "$NS" "$TAP")
LL=$(ll_of_mac "$SMAC")   # sonded's link-local address
PLL=$(ll_of_mac "$LMAC")  # Linux's
say "sonded's link-local address, from its MAC $SMAC: $LL"

I='((struct ipinfo_t *)arg2)'
F='((struct ifinfo_t *)arg3)'
V='((struct ipv6info_t *)arg5)'
info()
{
	# Two printfs (one line): one would pass bpftrace's 512-byte stack.
	printf 'usdt:%s:ipv6:%s {\n' "$SONDED" "$1"
	printf '\tprintf("%s %%d %%d %%d %%d %%d %%s %%d %%s %%s ", %s->ipv6_ver, %s->ipv6_tclass, %s->ipv6_flow,\n' \
		"$1" "$V" "$V" "$V"
	printf '\t    %s->ipv6_plen, %s->ipv6_nexthdr, %s->ipv6_nextstr, %s->ipv6_hlim, %s->ipv6_saddr, %s->ipv6_daddr);\n' \
		"$V" "$V" "$V" "$V" "$V" "$V"
	printf '\tprintf("%%s %%s %%d %%d %%s %%s %%s\\n", ntop(%s->ipv6_src), ntop(%s->ipv6_dst),\n' "$V" "$V"
	printf '\t    %s->ip_ver, %s->ip_plength, %s->ip_saddr, %s->ip_daddr, %s->if_name);\n}\n' "$I" "$I" "$I" "$I" "$F"
}
{
	echo "#include <sonde/ip_provider.h>"
	info receive
	info send
} >"$IT_DIR/info.bt"
bpf_start BT1 "$IT_DIR/ipio01.out" "$SONDE_SRC/probes/ipio01.bt" "$SONDED"
wait_for 5 "ipio01.bt header" grep -q 'NAME.*SOURCE.*DEST.*BYTES.*INT.*PROTO' "$IT_DIR/ipio01.out"
bpf_start BT2 "$IT_DIR/info.out" "$IT_DIR/info.bt"
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap"

ping6()
{
	local out=$1
	shift
	say "Linux: ping -6 $*"
	in_ns "$NS" timeout --foreground -k 2 30 ping -6 -n -i 0.1 -W 2 "$@" >"$IT_DIR/$out" 2>&1
}
ping6 ping-global.out -c $N $ME
RC_G=$?
ping6 ping-ll.out -c $N "$LL%$TAP"
RC_LL=$?
ping6 ping-q.out -c $NQ -Q 0x28 -F 0x12345 $ME
RC_Q=$?
for a in $ME $LL; do
	say "Linux: ndisc6 $a $TAP"
	in_ns "$NS" timeout --foreground -k 2 10 ndisc6 -n -r 3 -w 1000 "$a" "$TAP" \
		>"$IT_DIR/ndisc6-$a.out" 2>&1 || {
		cat "$IT_DIR/ndisc6-$a.out" >&2
		fail "ndisc6 $a $TAP failed"
	}
done
NEIGH_ME=$(ip -n "$NS" -6 neigh show $ME dev "$TAP")
NEIGH_LL=$(ip -n "$NS" -6 neigh show "$LL" dev "$TAP")
# The echo packets' lines (64 bytes of ICMPv6) before bpftrace stops.
wait_file_lines "$IT_DIR/ipio01.out" $((2 * (2 * N + NQ))) 10 ' 64 +dpdk0 +ICMPV6 *$'
wait_file_lines "$IT_DIR/info.out" $((2 * (2 * N + NQ))) 10 '^(receive|send) 6 [0-9]+ [0-9]+ 64 58 ICMPV6 '
bpf_stop "$BT1"
bpf_stop "$BT2"
cap_wait "$IT_DIR/linux.pcap" $((2 * (2 * N + NQ))) 10 icmp6 and '(ip6[40] == 128 or ip6[40] == 129)'
cap_stop "$CAP"

for f in ping-global.out:$RC_G:$N ping-ll.out:$RC_LL:$N ping-q.out:$RC_Q:$NQ; do
	IFS=: read -r out rc n <<<"$f"
	grep -q "$n packets transmitted, $n received," "$IT_DIR/$out" || {
		cat "$IT_DIR/$out" >&2
		fail "$out: not every ping was answered"
	}
	expect_eq "$out: ping's exit status" "$rc" 0
done
ok "all $N pings to $ME, $N to $LL%$TAP and $NQ with -Q 0x28 -F 0x12345 answered"
grep -q 'flow 0x12345' "$IT_DIR/ping-q.out" || fail "ping did not set flow label 0x12345"

# ND, Linux's side: ndisc6 and the neighbour table give sonded's MAC.
for a in $ME $LL; do
	GOT=$(awk '/Target link-layer address:/ { print tolower($4) }' "$IT_DIR/ndisc6-$a.out" | sort -u)
	expect_eq "ndisc6 $a: target link-layer address" "$GOT" "$SMAC"
done
say "Linux's neighbours: $NEIGH_ME / $NEIGH_LL"
for n in "$NEIGH_ME" "$NEIGH_LL"; do
	echo "$n" | grep -q "lladdr $SMAC " || fail "Linux's neighbour entry '$n' is not $SMAC"
	echo "$n" | grep -Eq 'REACHABLE|STALE|DELAY|PROBE' || fail "Linux's neighbour entry '$n' is not valid"
done
ok "Linux resolved $ME and $LL to sonded's $SMAC"
# sonded's advertisements: solicited, override, not router, target
# link-layer address its MAC, to Linux's MAC; for both its addresses.
tsh "$IT_DIR/linux.pcap" -Y "icmpv6.type == 136 && eth.src == $SMAC" -T fields -E separator=' ' \
	-e icmpv6.nd.na.target_address -e icmpv6.opt.linkaddr -e eth.dst -e icmpv6.nd.na.flag.r \
	-e icmpv6.nd.na.flag.s -e icmpv6.nd.na.flag.o | sort | uniq -c | awk '{ $1 = "x" $1; print }' \
	>"$IT_DIR/na.txt"
sed 's/^/    NA /' "$IT_DIR/na.txt"
expect_eq "sonded's NAs: targets, TLLA, eth dst, flags R S O" \
	"$(awk '{ $1 = ""; print }' "$IT_DIR/na.txt" | sed 's/^ //; s/True/1/g; s/False/0/g' | sort -u | tr '\n' ';')" \
	"$(printf '%s %s %s 0 1 1\n' "$LL" "$SMAC" "$LMAC" $ME "$SMAC" "$LMAC" | sort | tr '\n' ';')"

# ND, sonded's side: its echo replies go to Linux's MAC, which it learnt
# from Linux's solicitations (their source link-layer address option): it
# never solicited Linux's addresses by multicast.  Any NS it sent is a
# unicast reachability probe (RFC 4861 7.3.3, after DELAY_FIRST_PROBE_TIME).
DSTS=$(tsh "$IT_DIR/linux.pcap" -Y "icmpv6.type == 129" -T fields -E separator=' ' -e eth.src -e eth.dst | sort -u)
expect_eq "echo replies' Ethernet src dst" "$DSTS" "$SMAC $LMAC"
ASKED=$(tsh "$IT_DIR/linux.pcap" -Y "icmpv6.type == 135 && eth.src == $SMAC && eth.dst != $LMAC" | wc -l)
expect_eq "multicast NS sonded needed for Linux's addresses" "$ASKED" 0
NS_OUT=$(tsh "$IT_DIR/linux.pcap" -Y "icmpv6.type == 135 && eth.src == $SMAC" | wc -l)

# The probes against the wire, for the echo traffic.  (ipio01.bt prints no
# ICMPv6 type; an echo here carries 64 bytes, NS/NA 32, MLD 36.)
tsh "$IT_DIR/linux.pcap" -Y "icmpv6.type == 128 || icmpv6.type == 129" -T fields -E separator=' ' \
	-e eth.src -e ipv6.src -e ipv6.dst -e ipv6.plen |
	awk -v me="$SMAC" '{ print ($1 == me ? "send" : "receive"), $2, $3, $4, "dpdk0", "ICMPV6" }' >"$IT_DIR/wire.txt"
awk '$3 == "->" && $7 == "ICMPV6" && $5 == 64 { print $1, $2, $4, $5, $6, $7 }' \
	"$IT_DIR/ipio01.out" >"$IT_DIR/probes.txt"
expect_eq "echo packets on the wire" "$(wc -l <"$IT_DIR/wire.txt")" $((2 * (2 * N + NQ)))
expect_eq "echo packets on the wire with 64 bytes of payload" "$(awk '$4 == 64' "$IT_DIR/wire.txt" | wc -l)" \
	$((2 * (2 * N + NQ)))
diff -u "$IT_DIR/wire.txt" "$IT_DIR/probes.txt" >"$IT_DIR/wire-vs-probes.diff" || {
	cat "$IT_DIR/wire-vs-probes.diff" >&2
	fail "ipio01.bt's receive/send do not match tcpdump's echo packets one to one"
}
ok "ipio01.bt receive/send match tcpdump's $((2 * (2 * N + NQ))) echo packets one to one (order, addresses, BYTES, dpdk0, ICMPV6)"
for a in "$ME" "$LL" "$PEER" "$PLL"; do
	grep -q " $a -> \| -> $a " "$IT_DIR/ipio01.out" || fail "ipio01.bt never printed $a"
done
ok "addresses in RFC 5952 text: $ME $LL $PEER $PLL (as Python's ipaddress and tshark write them)"
say "first pings as ipio01.bt saw them:"
awk '$3 == "->" && $5 == 64' "$IT_DIR/ipio01.out" | sed -n "1,2p; $((2 * N + 1)),$((2 * N + 2))p" | sed 's/^/    /'

# ipv6info_t and ipinfo_t, field by field, against the headers on the wire.
# tshark: tclass and flow in hex, the rest in decimal or text.
tsh "$IT_DIR/linux.pcap" -Y "icmpv6.type == 128 || icmpv6.type == 129" -T fields -E separator=' ' \
	-e eth.src -e ipv6.version -e ipv6.tclass -e ipv6.flow -e ipv6.plen -e ipv6.nxt -e ipv6.hlim \
	-e ipv6.src -e ipv6.dst >"$IT_DIR/wire-hdr.raw"
while read -r esrc ver tc fl plen nxt hlim src dst; do
	[ "$esrc" = "$SMAC" ] && dir=send || dir=receive
	# name ver tclass flow plen nexthdr nextstr hlim saddr daddr ntop(src) ntop(dst) ip_ver ip_plength ip_saddr ip_daddr if
	echo "$dir $ver $((tc)) $((fl)) $plen $nxt ICMPV6 $hlim $src $dst $src $dst 6 $plen $src $dst dpdk0"
done <"$IT_DIR/wire-hdr.raw" >"$IT_DIR/wire-hdr.txt"
awk '$5 == 64 && $7 == "ICMPV6"' "$IT_DIR/info.out" >"$IT_DIR/info.txt"
diff -u "$IT_DIR/wire-hdr.txt" "$IT_DIR/info.txt" >"$IT_DIR/info.diff" || {
	cat "$IT_DIR/info.diff" >&2
	fail "ipv6info_t/ipinfo_t at receive/send differ from the headers tcpdump saw"
}
ok "ipv6info_t (ver tclass flow plen nexthdr nextstr hlim saddr daddr, ntop(src) ntop(dst)) and ipinfo_t match the wire for all $((2 * (2 * N + NQ))) echo packets"
Q=$(awk '$1 == "receive" && $2 == 6 && $3 == 40 && $4 == 74565 && $9 == "'$PEER'" { n++ } END { print n + 0 }' \
	"$IT_DIR/info.txt")
expect_eq "receive with ipv6_tclass 0x28 and ipv6_flow 0x12345" "$Q" $NQ
say "one of them: $(awk '$1 == "receive" && $3 == 40' "$IT_DIR/info.txt" | head -1 |
	awk '{ printf "ipv6_tclass 0x%x ipv6_flow 0x%x ipv6_hlim %d %s -> %s", $3, $4, $8, $9, $10 }')"
# sonded's replies: hop limit 64, traffic class echoed, flow label 0.
REPLIES=$(awk '$1 == "send" { print $3, $4, $8 }' "$IT_DIR/info.txt" | sort | uniq -c | awk '{ print $1 "x(" $2, $3, $4 ")" }' | tr '\n' ' ')
expect_eq "replies (count x (tclass flow hlim))" "$REPLIES" "$((2 * N))x(0 0 64) ${NQ}x(40 0 64) "

sonded_stop
expect_counter icmp6.echo_replies $((2 * N + NQ))
expect_counter_ge ipv6.in $((2 * N + NQ))
expect_counter_ge nd.ns_in 4 # ping's and ndisc6's, for both addresses
expect_counter_ge nd.na_out 4
expect_counter nd.dad_failed 0
# Its two DAD probes (before the tap was moved), the NS seen above, and
# maybe a reachability probe sent after the capture stopped.
expect_counter_ge nd.ns_out $((2 + NS_OUT))
expect_counter drop.in.nd-bad-hop-limit 0
expect_counter drop.in.nd-malformed 0
