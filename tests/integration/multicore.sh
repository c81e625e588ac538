#!/bin/bash
#
# multicore: sonded with two lcores (-l 0,1), one stack each, over a net_tap
# port with two queue pairs.  Linux sends UDP to the echo service from many
# source ports (many flows) in both families, and pings both addresses.
# Checks: every echo comes back with its payload; both stacks received
# packets and sent replies in both families (so each resolved Linux's IPv4
# and IPv6 addresses, whichever queue the ARP and NDP answers arrived on);
# the stacks passed neighbour news to each other (a stack that saw no ARP
# or ND from Linux learnt it by message); ip:::receive fired for every
# packet Linux sent from its addresses (tcpdump's count), on two threads;
# the summed counters are the stacks' added up; mbufs_in_use 0 at exit.
#
# Why net_tap spreads flows: it opens one tun queue per rx queue (the
# kernel's IFF_MULTI_QUEUE), and the kernel picks the queue of each packet
# it sends to the tap by its flow hash (tun_automq_select_queue: addresses
# and ports), remembering for a flow the queue its replies came back on.
# Packets with no ports (ARP, ND, pings) hash by addresses alone: with one
# peer they all meet one stack, which is why neighbour news must cross.
#
#   tests/integration/multicore.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

NSOCK=16 # UDP flows per family
ROUNDS=3
NPING=5
ME=10.97.0.2
PEER=10.97.0.1
ME6=fd97::2
PEER6=fd97::1

[ "$(nproc)" -ge 2 ] || skip "needs two CPUs"
netns_new6 NS
sonded_netns
tap_new TAP
# Two stacks: about 2 x 132 MB of rte_lpm/rte_lpm6 tables.
SONDED_LCORES=0,1 SONDED_MEM=512 sonded_start "$TAP" \
	--addr dpdk0=$ME/24 --addr dpdk0=$ME6/64 --service udp:7=echo
tap_to_ns6 "$TAP" "$NS" $PEER6/64 $PEER/24
grep -q 'lcores=2' "$SONDED_OUT" || fail "sonded's ready line does not say lcores=2"
Q=$(ls "/sys/class/net/$TAP/queues" 2>/dev/null | grep -c '^rx-')
[ "$Q" -ge 2 ] || Q=$(ip netns exec "$NS" ls "/sys/class/net/$TAP/queues" | grep -c '^rx-')
expect_eq "rx queues of the tap (Linux's side)" "$Q" 2

# Packets from Linux's two addresses: nothing else sends from them, and
# Linux sends from them only once the test's traffic starts (its MLD
# reports, which may come any time, are from :: or fe80::).
{
	echo "#include <sonde/ip_provider.h>"
	echo "usdt:$SONDED:ip:receive /((struct ipinfo_t *)arg2)->ip_saddr == \"$PEER\" ||"
	echo "    ((struct ipinfo_t *)arg2)->ip_saddr == \"$PEER6\"/ { @n = count(); @tid[tid] = count(); }"
} >"$IT_DIR/receive.bt"
bpf_start BT "$IT_DIR/receive.out" "$IT_DIR/receive.bt"
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap" src host $PEER or src host $PEER6

say "Linux: $NSOCK UDP flows x $ROUNDS to $ME:7 and [$ME6]:7"
for a in $ME $ME6; do
	in_ns "$NS" timeout --foreground -k 2 60 "$IT_PY" "$(dirname "$0")/udp-flows.py" \
		$a 7 $NSOCK $ROUNDS >"$IT_DIR/udp.$a.out" 2>&1 || {
		cat "$IT_DIR/udp.$a.out" >&2
		fail "UDP echo to $a: not every datagram came back right"
	}
	ok "UDP echo $a: $(head -1 "$IT_DIR/udp.$a.out")"
done
say "Linux: ping -c $NPING $ME; ping -6 -c $NPING $ME6"
in_ns "$NS" timeout --foreground -k 2 30 ping -n -c $NPING -i 0.2 -W 2 $ME >"$IT_DIR/ping4.out" 2>&1 ||
	fail "ping $ME: $(tail -2 "$IT_DIR/ping4.out")"
in_ns "$NS" timeout --foreground -k 2 30 ping -6 -n -c $NPING -i 0.2 -W 2 $ME6 >"$IT_DIR/ping6.out" 2>&1 ||
	fail "ping $ME6: $(tail -2 "$IT_DIR/ping6.out")"
ok "all $NPING + $NPING pings answered"

# No wait: @n and @tid are updated in the kernel as the probe fires, and
# every packet from Linux that tcpdump saw had its answer.
bpf_stop "$BT"
cap_wait "$IT_DIR/linux.pcap" $((2 * NSOCK * ROUNDS + 2 * NPING)) 10 udp or icmp or icmp6
cap_stop "$CAP"
sonded_stop
say "bpftrace: $(tr '\n' ' ' <"$IT_DIR/receive.out")"

N4=$((NSOCK * ROUNDS))
expect_counter service.udp.echoed $((2 * N4))
expect_counter icmp.echo_replies $NPING
expect_counter icmp6.echo_replies $NPING
for s in 0 1; do
	expect_counter_ge stack$s.udp.in 1
	expect_counter_ge stack$s.ipv4.out 1
	expect_counter_ge stack$s.ipv6.out 1
	expect_counter_ge stack$s.neigh.entries 2
	if [ "$(counter stack$s.arp.in)" = 0 ]; then
		expect_ge "stack$s.peer.received (it saw no ARP)" "$(counter stack$s.peer.received)" 1
	fi
	if [ "$(counter stack$s.nd.ns_in)" = 0 ] && [ "$(counter stack$s.nd.na_in)" = 0 ]; then
		expect_ge "stack$s.peer.received (it saw no ND)" "$(counter stack$s.peer.received)" 1
	fi
done
expect_counter peer.ring_full 0
expect_eq "peer messages sent = received" "$(counter peer.sent)" "$(counter peer.received)"
# The sums are the stacks' counters added up.
for c in ipv4.in ipv6.in udp.in; do
	expect_eq "counter $c = stack0 + stack1" "$(counter $c)" $(($(counter stack0.$c) + $(counter stack1.$c)))
done
WIRE=$(tsh "$IT_DIR/linux.pcap" -Y "ip.src == $PEER || ipv6.src == $PEER6" | wc -l)
expect_ge "packets from $PEER and $PEER6 on the wire" "$WIRE" $((2 * N4 + 2 * NPING))
RX=$(awk '/^@n:/ { print $2 }' "$IT_DIR/receive.out")
expect_eq "ip:::receive from $PEER and $PEER6 (bpftrace) = tcpdump's count" "$RX" "$WIRE"
expect_eq "threads that fired ip:::receive" "$(grep -c '^@tid\[' "$IT_DIR/receive.out")" 2
