#!/bin/bash
#
# tcp-seed: the 2007 seed's TCP cases, both families, with probes/ipio01.bt
# and probes/ipio03.bt as shipped attached to sonded and tcpdump on the
# Linux side of the tap as the witness:
#
#   (a) inbound   Linux connects to sonded's echo (--service tcp:7=echo),
#                 sends a line, reads it back and closes
#   (b) outbound  sonded fetches (--fetch) from a Linux `nc -N -l` that
#                 sends a line and closes
#   (c) refused   Linux sends a SYN to a closed port of sonded: a receive
#                 of the SYN, then a send of the 20-byte RST (BYTES is the
#                 IP payload length, ip_plength: the bare TCP header)
#
# For the TCP packets of each direction, in order, the probes' receive (or
# send) lines and the capture's packets are the same list: addresses,
# interface and BYTES, one line a packet, so a bare ACK (BYTES 20 over
# IPv4 and IPv6 alike: no options; 32 with timestamps) shows exactly where
# the wire has one.  Each packet's probes come in the seed's order:
# receive then read for one coming in, write then send for one going out,
# grouped by pkt_addr (a third script, ipio03.bt with pkt_addr and the
# protocol, fires on the same probes; ipio03.bt's own lines are that
# script's, column for column, so they are checked too).
#
# The fetches start as soon as sonded is ready, before bpftrace and
# tcpdump could see them: their servers' addresses (.3, ::3) are added to
# the Linux side only once everything is watching.  Until then each SYN
# waits for a neighbour that does not answer (write, then drop-out
# arp-timeout or nd-timeout, never a send) and TCP sends it again.
#
#   tests/integration/tcp-seed.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

command -v nc >/dev/null || skip "needs nc"
ME=10.91.0.2
PEER=10.91.0.1
SRV=10.91.0.3
ME6=fd91::2
PEER6=fd91::1
SRV6=fd91::3
LINE4='hello sonde, from Linux over IPv4'
LINE6='hello sonde, from Linux over IPv6'
SRVLINE='a few bytes from a Linux nc -l'

netns_new6 NS
sonded_netns
tap_new TAP

# The servers of (b) listen before sonded starts.
in_ns "$NS" timeout --foreground 90 bash -c "echo '$SRVLINE 4' | nc -N -4 -l 5000" >"$IT_DIR/nc4.out" 2>&1 &
proc_register $! nc4
in_ns "$NS" timeout --foreground 90 bash -c "echo '$SRVLINE 6' | nc -N -6 -l 5001" >"$IT_DIR/nc6.out" 2>&1 &
proc_register $! nc6
listening() { in_ns "$NS" ss -Htln | grep -q ":$1 "; }
for p in 5000 5001; do
	wait_for 20 "nc -l on port $p" listening $p
done

# ipio03.bt's probes, each line with the protocol and the packet
# (pkt_addr), and the drops: NAME SOURCE DEST BYTES INT PROTO PKT_ADDR.
{
	echo '#include <sonde/ip_provider.h>'
	for fam in ipv4 ipv6; do
		for p in receive read write send drop__in drop__out; do
			if [ $fam = ipv4 ]; then proto='((struct ipv4info_t *)arg4)->ipv4_protostr'; else
				proto='((struct ipv6info_t *)arg5)->ipv6_nextstr'; fi
			cat <<BT
usdt:$SONDED:$fam:$p
{
	printf("%s %s %s %d %s %s %x ", "${p/__/-}", ((struct ipinfo_t *)arg2)->ip_saddr,
	    ((struct ipinfo_t *)arg2)->ip_daddr, ((struct ipinfo_t *)arg2)->ip_plength,
	    ((struct ifinfo_t *)arg3)->if_name, $proto, ((struct pktinfo_t *)arg0)->pkt_addr);
	printf("%s\n", ((struct pktinfo_t *)arg0)->pkt_reason);
}
BT
		done
	done
} >"$IT_DIR/ipio-addr.bt"

# bpftrace before sonded (it attaches to the binary): the fetches start at
# sonded's ready line.
bpf_start BT1 "$IT_DIR/ipio01.out" "$SONDE_SRC/probes/ipio01.bt" "$SONDED"
bpf_start BT3 "$IT_DIR/ipio03.out" "$SONDE_SRC/probes/ipio03.bt" "$SONDED"
bpf_start BTA "$IT_DIR/ipio-addr.out" "$IT_DIR/ipio-addr.bt"

sonded_start "$TAP" --addr dpdk0=$ME/24 --addr dpdk0=$ME6/64 --service tcp:7=echo \
	--fetch $SRV:5000="$IT_DIR/fetch4.out" --fetch "[$SRV6]:5001=$IT_DIR/fetch6.out"
tap_to_ns6 "$TAP" "$NS" $PEER6/64 $PEER/24
LMAC=$(ns_mac "$NS" "$TAP")
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap"

# (b): the servers' addresses, now that the capture runs.
ip -n "$NS" addr add $SRV/24 dev "$TAP" || fail "address $SRV"
ip -n "$NS" -6 addr add $SRV6/64 dev "$TAP" nodad || fail "address $SRV6"
fetched() { [ "$(grep -c '^fetch:' "$SONDED_OUT")" -ge 2 ]; }
wait_for 60 "sonded's two fetches to end" fetched
for f in "$SRV:5000=fetch4 4" "[$SRV6]:5001=fetch6 6"; do
	read -r spec v <<<"$f"
	line=$(grep -F "from ${spec%=*}=" "$SONDED_OUT")
	case $line in
	"fetch: $((${#SRVLINE} + 3)) bytes in "*) ok "$line" ;;
	*) fail "fetch ${spec%=*}: '$line', want $((${#SRVLINE} + 3)) bytes" ;;
	esac
	expect_eq "what sonded fetched from ${spec%=*}" "$(cat "$IT_DIR/${spec#*=}.out")" "$SRVLINE $v"
done

# (a) and (c), from Linux.
lin_py()
{
	in_ns "$NS" timeout --foreground -k 2 20 "$IT_PY" -c "$@"
}
ECHO='import socket, sys
a, line, src = sys.argv[1], sys.argv[2].encode() + b"\n", sys.argv[3]
s = socket.create_connection((a, 7), timeout=10, source_address=(src, 0))
s.sendall(line)
got = s.makefile("rb").readline()
s.close()
sys.exit(got != line)'
REFUSED='import errno, socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10, source_address=(sys.argv[3], 0))
except ConnectionRefusedError:
    sys.exit(0)
sys.exit("not refused")'
lin_py "$ECHO" $ME "$LINE4" $PEER || fail "echo of a line over IPv4"
ok "(a) IPv4: the line came back from sonded's echo"
lin_py "$ECHO" $ME6 "$LINE6" $PEER6 || fail "echo of a line over IPv6"
ok "(a) IPv6: the line came back from sonded's echo"
lin_py "$REFUSED" $ME 9 $PEER || fail "a connect to $ME port 9: not refused"
ok "(c) IPv4: a connect to closed port 9 refused"
lin_py "$REFUSED" $ME6 9 $PEER6 || fail "a connect to $ME6 port 9: not refused"
ok "(c) IPv6: a connect to closed port 9 refused"

# The capture: every TCP packet, "DIR SOURCE DEST BYTES" (DIR in: from
# Linux), in order.  Wait until every connection's last packet is there:
# (a)'s last ACK from Linux, (c)'s RSTs.
wait_caps() { [ "$(tcpdump -n -r "$IT_DIR/linux.pcap" tcp 2>/dev/null | grep -c 'Flags \[R')" -ge 2 ]; }
wait_for 10 "the two RSTs in the capture" wait_caps
cap_wire()
{
	tsh "$IT_DIR/linux.pcap" -Y tcp -T fields -E separator=/t -E occurrence=f \
		-e eth.src -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e ip.len -e ip.hdr_len -e ipv6.plen |
		awk -F '\t' -v peer="$LMAC" '{
			d = $1 == peer ? "in" : "out"
			if ($2 != "") print d, $2, $4, $6 - $7, "dpdk0"
			else if ($3 != "") print d, $3, $5, $8, "dpdk0"
			else print "unparsed", $0 }'
}
# The probes' TCP receives and sends, in the same form.
probe_wire()
{
	awk '$6 == "TCP" && ($1 == "receive" || $1 == "send") {
		print $1 == "receive" ? "in" : "out", $2, $3, $4, $5 }' "$IT_DIR/ipio-addr.out"
}
# Every TCP send and receive in bpftrace's output, as many as the
# capture: (a) and (b) take at least 7 packets each, (c) 2.
# Both lists as long as each other, twice in a row.
LASTN=
settled()
{
	local w p
	w=$(cap_wire | wc -l)
	p=$(probe_wire | wc -l)
	[ "$w" -ge 30 ] && [ "$w" = "$p" ] && [ "$LASTN" = "$w" ] && return 0
	LASTN=$w
	return 1
}
wait_for 20 "every TCP packet in the capture and in the probes" settled
cap_stop "$CAP"
cap_wire >"$IT_DIR/wire.txt"
say "TCP packets on the wire: $(wc -l <"$IT_DIR/wire.txt")"
wait_file_lines "$IT_DIR/ipio03.out" "$(file_lines "$IT_DIR/ipio-addr.out" '^(receive|read|write|send) ')" 10 ' -> '
wait_file_lines "$IT_DIR/ipio01.out" "$(file_lines "$IT_DIR/ipio-addr.out" '^(receive|send) ')" 10 ' -> '
bpf_stop "$BT1"
bpf_stop "$BT3"
bpf_stop "$BTA"
probe_wire >"$IT_DIR/probes.txt"
grep -q unparsed "$IT_DIR/wire.txt" && fail "tshark fields not understood: $(grep -m1 unparsed "$IT_DIR/wire.txt")"

# ipio03.bt and ipio01.bt as shipped: the same events as the variant,
# column for column (ipio01 the receives and sends, with PROTO).
awk '$3 == "->" { print $1, $2, $4, $5, $6 }' "$IT_DIR/ipio03.out" >"$IT_DIR/ipio03.cols"
awk '$1 ~ /^(receive|read|write|send)$/ { print $1, $2, $3, $4, $5 }' "$IT_DIR/ipio-addr.out" >"$IT_DIR/addr.cols3"
diff -u "$IT_DIR/addr.cols3" "$IT_DIR/ipio03.cols" >"$IT_DIR/ipio03.diff" ||
	{ head -40 "$IT_DIR/ipio03.diff" >&2; fail "ipio03.bt's lines are not the probes' events"; }
ok "ipio03.bt: $(wc -l <"$IT_DIR/ipio03.cols") lines, NAME SOURCE DEST BYTES INT of every receive, read, write, send"
awk '$3 == "->" { print $1, $2, $4, $5, $6, $7 }' "$IT_DIR/ipio01.out" >"$IT_DIR/ipio01.cols"
awk '$1 ~ /^(receive|send)$/ { print $1, $2, $3, $4, $5, $6 }' "$IT_DIR/ipio-addr.out" >"$IT_DIR/addr.cols1"
diff -u "$IT_DIR/addr.cols1" "$IT_DIR/ipio01.cols" >"$IT_DIR/ipio01.diff" ||
	{ head -40 "$IT_DIR/ipio01.diff" >&2; fail "ipio01.bt's lines are not the probes' events"; }
ok "ipio01.bt: $(wc -l <"$IT_DIR/ipio01.cols") lines, NAME SOURCE DEST BYTES INT PROTO of every receive and send"

# The probes against the wire, each direction in its order (between the
# directions the order may differ: a packet crosses the tap while the
# other side's is on its way).
for d in in out; do
	grep "^$d " "$IT_DIR/wire.txt" >"$IT_DIR/wire.$d"
	grep "^$d " "$IT_DIR/probes.txt" >"$IT_DIR/probes.$d"
	diff -u "$IT_DIR/wire.$d" "$IT_DIR/probes.$d" >"$IT_DIR/wire-vs-probes.$d.diff" || {
		head -60 "$IT_DIR/wire-vs-probes.$d.diff" >&2
		fail "TCP packets $d: the probes' $([ $d = in ] && echo receive || echo send) lines differ from the capture (- wire, + probes)"
	}
	ok "TCP $d: $(wc -l <"$IT_DIR/wire.$d") packets, the probes' lines are the capture's one for one (order, addresses, BYTES, dpdk0)"
	say "  sizes $d (count BYTES): $(awk '{ print $4 }' "$IT_DIR/wire.$d" | sort -n | uniq -c | tr -s ' ' | tr '\n' ',')"
done

# (c): the last TCP packets between Linux and sonded of each family are
# the SYN to port 9 received (BYTES 40: a header with Linux's 20 bytes of
# options) and the RST sent for it (BYTES 20: the bare header).
for pair in "$PEER $ME" "$PEER6 $ME6"; do
	read -r l s <<<"$pair"
	expect_eq "(c) $l -> $s port 9: the probes' last two TCP packets of the pair" \
		"$(awk -v l="$l" -v s="$s" '($2 == l && $3 == s) || ($2 == s && $3 == l) { print $1, $2 "->" $3, $4 }' \
			"$IT_DIR/probes.txt" | tail -2 | tr '\n' ';')" "in $l->$s 40;out $s->$l 20;"
done

# The seed's order for each packet: receive then read (in), write then
# send (out), by pkt_addr; a write not sent is dropped (drop-out: the
# fetches' first SYNs, waiting for a neighbour).
awk '
function bad(m) { printf "line %d: %s: %s\n", NR, m, $0; err = 1 }
$1 == "receive" { if ($7 in rin) bad("received twice before read"); rin[$7] = 1; nin++ }
$1 == "read" { if (!($7 in rin)) bad("read without receive"); delete rin[$7] }
$1 == "write" { if ($7 in wout) bad("written twice before send"); wout[$7] = 1; nout++ }
$1 == "send" { if (!($7 in wout)) bad("send without write"); delete wout[$7] }
$1 == "drop-out" { if ($7 in wout) { delete wout[$7]; dropped[$8]++ } }
$1 == "drop-in" { delete rin[$7] }
END {
	for (a in rin) { printf "%s: received, never read\n", a; err = 1 }
	for (a in wout) { printf "%s: written, never sent\n", a; err = 1 }
	for (r in dropped) printf "dropped at write: %d %s\n", dropped[r], r > "/dev/stderr"
	printf "%d in, %d out\n", nin, nout > "/dev/stderr"
	exit err
}' "$IT_DIR/ipio-addr.out" 2>"$IT_DIR/order.err" >"$IT_DIR/order.out" || {
	head -20 "$IT_DIR/order.out" >&2
	fail "a packet's probes out of the seed's order (receive, read / write, send)"
}
ok "every packet's probes in the seed's order, by pkt_addr: $(tr '\n' ' ' <"$IT_DIR/order.err")"

say "(a) over IPv4 as ipio03.bt saw it:"
grep -E "(receive|read|write|send) +($PEER +-> +$ME|$ME +-> +$PEER) " "$IT_DIR/ipio03.out" | head -40 | sed 's/^/    /'

sonded_stop
expect_counter service.tcp.echoed_bytes $((${#LINE4} + ${#LINE6} + 2))
expect_counter tcp.out_rsts 2
