#!/bin/bash
#
# vm-peer: the foundation of the tests against Linux's own tunnel devices:
# Debian's kernel under qemu (tests/vm/run) is sonded's peer, its virtio NIC
# on a tap bridged, in a namespace of the test's, with sonded's net_tap
# port.  The guest configures IPv4 and IPv6 addresses on eth0 and pings
# sonded 3 times in each family, all answered; sonded's ip:receive probe
# (the one-liner of one-liner.sh, by source address) saw the guest's echo
# requests; and the guest loads ipip, ip6_tunnel and esp4, as a smoke check
# that the coming tunnel tests can rely on its modules.
#
#   tests/integration/vm-peer.sh BUILD_DIR
#
# The first run builds the VM's cache (tests/vm/build-initramfs: downloads
# the kernel package, about 70 MB); later runs reuse it.
. "$(dirname "$0")/lib.sh"

N=3
ME=10.97.0.2
GUEST=10.97.0.1
ME6=fd00:97::2
GUEST6=fd00:97::1

vm_needs

sonded_netns
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/24 --addr dpdk0=$ME6/64

vm_link "$TAP"

PROG="#include <sonde/ip_provider.h>
usdt:$SONDED:ip:receive { @[((struct ipinfo_t *)arg2)->ip_saddr] = count(); }"
bpf_start BT "$IT_DIR/receive.out" -e "$PROG"

# The guest's script: addresses without DAD (no waiting), the pings, the
# modules.  Each step prints a line the test checks; the status is the
# last failure's.
cat >"$IT_DIR/guest.sh" <<GUEST
rc=0
sysctl -qw net.ipv6.conf.eth0.accept_dad=0 net.ipv6.conf.eth0.router_solicitations=0
ip addr add $GUEST/24 dev eth0 || rc=1
ip -6 addr add $GUEST6/64 dev eth0 nodad || rc=1
ip addr show dev eth0
if ping -c $N -w 30 $ME; then echo "PING4 OK"; else echo "PING4 FAILED"; rc=1; fi
if ping -6 -c $N -w 30 $ME6; then echo "PING6 OK"; else echo "PING6 FAILED"; rc=1; fi
if modprobe ipip && modprobe ip6_tunnel && modprobe esp4; then echo "MODULES OK"; else echo "MODULES FAILED"; rc=1; fi
lsmod | grep -E '^(ipip|ip6_tunnel|esp4) '
exit \$rc
GUEST

vm_boot "$IT_DIR/guest.sh" 120
expect_eq "guest script's exit status" $VM_RC 0
grep -q "^$N packets transmitted, $N packets received" "$IT_DIR/guest.out" ||
	fail "the guest's pings were not all answered"
expect_eq "guest ping summaries with all $N answered" \
	"$(grep -c "^$N packets transmitted, $N packets received, 0% packet loss" "$IT_DIR/guest.out")" 2
expect_eq "guest's IPv4 ping" "$(grep -c '^PING4 OK$' "$IT_DIR/guest.out")" 1
expect_eq "guest's IPv6 ping" "$(grep -c '^PING6 OK$' "$IT_DIR/guest.out")" 1
expect_eq "guest loaded ipip, ip6_tunnel, esp4" "$(grep -c '^MODULES OK$' "$IT_DIR/guest.out")" 1

# No wait: the map is updated in the kernel as the probe fires, and every
# ping was answered, so each request's receive had fired.
bpf_stop "$BT"
say "bpftrace printed:"
sed 's/^/    /' "$IT_DIR/receive.out"
n4=$(awk -v a="@[$GUEST]:" '$1 == a { print $2 }' "$IT_DIR/receive.out")
n6=$(awk -v a="@[$GUEST6]:" '$1 == a { print $2 }' "$IT_DIR/receive.out")
expect_ge "ip:receive from $GUEST" "${n4:-0}" $N
expect_ge "ip:receive from $GUEST6" "${n6:-0}" $N
expect_ge "ip:receive from the guest" $((${n4:-0} + ${n6:-0})) $((2 * N))

sonded_stop
expect_counter icmp.echo_replies $N
expect_counter icmp6.echo_replies $N
