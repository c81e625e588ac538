#!/bin/bash
#
# vm-tunnels: sonde's tunnels against Linux's own tunnel devices, in
# Debian's kernel under qemu (tests/vm), one of each mode between the
# guest and sonded: ipip, sit, ip6ip6 (with the encapsulation limit option
# Linux adds by default, and with `encaplimit none`), ipip6, gre without
# and with a key, ip6gre.  Through each the guest pings sonded's inner
# address(es), all answered, and fetches BYTES bytes from sonded's HTTP
# service over TCP, checked byte for byte (md5 against the service's
# known body); the same through an ESP tunnel (ESP in UDP 4500, AES-GCM)
# with the guest's XFRM as the peer; the tunnels' interface counters and
# tunnel.decap / tunnel.encap (esp.in / esp.out) show the packets went
# through them, and sonded exits with no mbuf held.
#
#   tests/integration/vm-tunnels.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

N=3
BYTES=${VM_TUNNEL_BYTES:-10485760}
ME=10.98.0.2
GUEST=10.98.0.1

vm_needs

# name mode sonded-local guest-local (outer) | inner v4 (.2 sonded, .1
# guest, /30) | inner v6 (::2 sonded, ::1 guest, /64) | guest's extra ip
# link args.  Outer IPv6 pairs differ per ip6tnl device: Linux keeps one
# ip6tnl per address pair whatever its mode.
TUNNELS=(
	"ip.tun0 ipip 10.98.0.2 10.98.0.1 192.168.10 - -"
	"ip.tun1 sit 10.98.0.2 10.98.0.1 - fd10:11 -"
	"ip.tun2 ip6ip6 fd00:98::2 fd00:98::1 - fd10:12 -"
	"ip.tun3 ip6ip6 fd00:98::12 fd00:98::11 - fd10:13 encaplimit=none"
	"ip.tun4 ipip6 fd00:98::22 fd00:98::21 192.168.14 - -"
	"ip.tun5 gre 10.98.0.2 10.98.0.1 192.168.15 fd10:15 -"
	"ip.tun6 gre 10.98.0.2 10.98.0.1 192.168.16 fd10:16 key=42"
	"ip.tun7 ip6gre fd00:98::2 fd00:98::1 192.168.17 fd10:17 -"
)

# VM_TUNNELS=REGEX keeps those whose line matches (by hand, to look at one).
if [ -n "${VM_TUNNELS:-}" ]; then
	keep=()
	for t in "${TUNNELS[@]}"; do [[ $t =~ $VM_TUNNELS ]] && keep+=("$t"); done
	TUNNELS=("${keep[@]}")
fi

ARGS=(--addr dpdk0=$ME/24 --addr dpdk0=fd00:98::2/64 --addr dpdk0=fd00:98::12/64
	--addr dpdk0=fd00:98::22/64 --service tcp:8080=http)
GUEST_TUN=
PINGS=0
FETCHES=0
i=0
for t in "${TUNNELS[@]}"; do
	read -r name mode loc rem in4 in6 extra <<<"$t"
	spec="$name,mode=$mode,local=$loc,remote=$rem"
	[ "$extra" = - ] || spec="$spec,$extra"
	ARGS+=(--tunnel "$spec")
	[ "$in4" = - ] || ARGS+=(--addr "$name=$in4.2/30")
	[ "$in6" = - ] || ARGS+=(--addr "$name=$in6::2/64")
	# The guest's device of the same mode, its address(es), the pings and
	# one fetch: IPv4 inside where the mode has it, else IPv6.
	case $mode in
	ipip | sit | gre) kind="type $mode" ;;
	ip6ip6 | ipip6) kind="type ip6tnl mode $mode" ;;
	ip6gre) kind="type ip6gre" ;;
	esac
	gx=
	case $extra in
	key=*) gx="key ${extra#key=}" ;;
	encaplimit=none) gx="encaplimit none" ;;
	esac
	g=g$i
	GUEST_TUN+="
ip link add $g $kind local $rem remote $loc $gx || rc=1
sysctl -qw net.ipv6.conf.$g.accept_dad=0 net.ipv6.conf.$g.router_solicitations=0 2>/dev/null
ip link set $g up || rc=1"
	if [ "$in4" != - ]; then
		GUEST_TUN+="
ip addr add $in4.1/30 dev $g || rc=1
if ping -c $N -w 30 $in4.2 >/dev/null; then echo \"PING $name $in4.2 OK\"; else echo \"PING $name $in4.2 FAILED\"; rc=1; fi"
		PINGS=$((PINGS + 1))
		host=$in4.2
	fi
	if [ "$in6" != - ]; then
		GUEST_TUN+="
ip -6 addr add $in6::1/64 dev $g nodad || rc=1
if ping -6 -c $N -w 30 $in6::2 >/dev/null; then echo \"PING $name $in6::2 OK\"; else echo \"PING $name $in6::2 FAILED\"; rc=1; fi"
		PINGS=$((PINGS + 1))
		[ "$in4" != - ] || host=$in6::2
	fi
	GUEST_TUN+="
fetch $name $host"
	FETCHES=$((FETCHES + 1))
	i=$((i + 1))
done

# ESP in UDP 4500 (RFC 4303, RFC 3948), AES-GCM (RFC 4106), on an ipip
# tunnel ip.esp between second outer addresses: the guest's XFRM in tunnel
# mode with espinudp encapsulation as the peer (Linux takes ESP in UDP only
# on a socket with UDP_ENCAP_ESPINUDP: tests/vm/espinudp.c holds one).
# The same pings and fetch as the tunnels above.
if [ -z "${VM_TUNNELS:-}" ] || [[ "ip.esp esp" =~ $VM_TUNNELS ]]; then
	cc -static -O2 -o "$IT_DIR/espinudp" "$SONDE_SRC/tests/vm/espinudp.c" ||
		fail "building tests/vm/espinudp.c (static, for the guest)"
	VM_FILES=("$IT_DIR/espinudp")
	K_OUT=0x6b8a1f3c2e4d5a6978695a4b3c2d1e0f01234567 # sonded to the guest
	K_IN=0x0f1e2d3c4b5a69788796a5b4c3d2e1f076543210  # the guest to sonded
	cat >"$IT_DIR/sa.conf" <<SA
out spi 0x1001 aead rfc4106(gcm(aes)) $K_OUT 128
in spi 0x2002 aead rfc4106(gcm(aes)) $K_IN 128 replay-window 64
SA
	chmod 600 "$IT_DIR/sa.conf"
	ARGS+=(--addr dpdk0=10.98.0.3/24 --tunnel
		"ip.esp,mode=ipip,local=10.98.0.3,remote=10.98.0.4,esp=$IT_DIR/sa.conf"
		--addr ip.esp=192.168.18.2/30)
	GUEST_TUN+="
modprobe xfrm_user; modprobe esp4
ip addr add 10.98.0.4/24 dev eth0 || rc=1
ip addr add 192.168.18.1/32 dev lo || rc=1
/espinudp 4500 &
ip xfrm state add src 10.98.0.4 dst 10.98.0.3 proto esp spi 0x2002 reqid 7 mode tunnel aead 'rfc4106(gcm(aes))' $K_IN 128 encap espinudp 4500 4500 0.0.0.0 || rc=1
ip xfrm state add src 10.98.0.3 dst 10.98.0.4 proto esp spi 0x1001 reqid 7 mode tunnel aead 'rfc4106(gcm(aes))' $K_OUT 128 encap espinudp 4500 4500 0.0.0.0 replay-window 32 || rc=1
ip xfrm policy add src 192.168.18.1/32 dst 192.168.18.2/32 dir out tmpl src 10.98.0.4 dst 10.98.0.3 proto esp reqid 7 mode tunnel || rc=1
ip xfrm policy add src 192.168.18.2/32 dst 192.168.18.1/32 dir in tmpl src 10.98.0.3 dst 10.98.0.4 proto esp reqid 7 mode tunnel || rc=1
ip route add 192.168.18.2/32 dev eth0 src 192.168.18.1 || rc=1
if ping -c $N -w 30 192.168.18.2 >/dev/null; then echo \"PING ip.esp 192.168.18.2 OK\"; else echo \"PING ip.esp 192.168.18.2 FAILED\"; rc=1; fi
fetch ip.esp 192.168.18.2
ip -s xfrm state | grep -A1 -E '^src|lifetime current' | head -20"
	PINGS=$((PINGS + 1))
	FETCHES=$((FETCHES + 1))
	TUNNELS+=("ip.esp esp")
	ESP=1
fi

# sonded's own captures: each tunnel's (the inner packets) and dpdk0's.
for t in "${TUNNELS[@]}"; do
	read -r name _ <<<"$t"
	ARGS+=(--pcap "$name=$IT_DIR/$name.pcap")
done
ARGS+=(--pcap "dpdk0=$IT_DIR/dpdk0.pcap")

sonded_netns
tap_new TAP
sonded_start "$TAP" "${ARGS[@]}"
vm_link "$TAP"

PROG="#include <sonde/ip_provider.h>
usdt:$SONDED:ip:receive { @rx[((struct ifinfo_t *)arg3)->if_name] = count(); }
usdt:$SONDED:ip:send { @tx[((struct ifinfo_t *)arg3)->if_name] = count(); }"
bpf_start BT "$IT_DIR/count.out" -e "$PROG"

cat >"$IT_DIR/guest.sh" <<GUEST
rc=0
# fetch NAME HOST: BYTES from sonded's HTTP service at HOST (busybox's nc:
# its static wget crashes in the guest; the body has no newline, so it is
# the last line); prints FETCH NAME MD5 - SECONDS (the guest's clock, from
# /proc/uptime: software emulation, for reference).
fetch()
{
	t0=\$(cut -d' ' -f1 /proc/uptime)
	sum=\$(printf 'GET /bytes/$BYTES HTTP/1.0\\r\\n\\r\\n' | nc -w 60 \$2 8080 | tail -n 1 | md5sum)
	t1=\$(cut -d' ' -f1 /proc/uptime)
	echo "FETCH \$1 \$sum \$(awk -v a=\$t0 -v b=\$t1 'BEGIN { printf "%.2f", b - a }')"
}
sysctl -qw net.ipv6.conf.eth0.accept_dad=0 net.ipv6.conf.eth0.router_solicitations=0
ip addr add $GUEST/24 dev eth0 || rc=1
for a in fd00:98::1 fd00:98::11 fd00:98::21; do ip -6 addr add \$a/64 dev eth0 nodad || rc=1; done
if ping -c $N -w 30 $ME >/dev/null; then echo "PING dpdk0 $ME OK"; else echo "PING dpdk0 $ME FAILED"; rc=1; fi
if ping -6 -c $N -w 30 fd00:98::2 >/dev/null; then echo "PING dpdk0 fd00:98::2 OK"; else echo "PING dpdk0 fd00:98::2 FAILED"; rc=1; fi
modprobe ipip; modprobe sit; modprobe ip6_tunnel; modprobe ip_gre; modprobe ip6_gre
$GUEST_TUN
ip -d link show | grep -A1 '^[0-9]*: g[0-9]' | grep -v '^--'
exit \$rc
GUEST

vm_boot "$IT_DIR/guest.sh" 240
expect_eq "guest script's exit status" "$VM_RC" 0
expect_eq "pings through the tunnels and to dpdk0, all answered" \
	"$(grep -c '^PING .* OK$' "$IT_DIR/guest.out")" $((PINGS + 2))

WANT=$(/usr/bin/python3 -c "
import hashlib, string
a = (string.digits + string.ascii_lowercase + string.ascii_uppercase + '+/').encode()
n = $BYTES
print(hashlib.md5((a * (n // 64 + 1))[:n]).hexdigest())")
for t in "${TUNNELS[@]}"; do
	read -r name _ <<<"$t"
	got=$(awk -v n="$name" '$1 == "FETCH" && $2 == n { print $3 }' "$IT_DIR/guest.out")
	expect_eq "$BYTES bytes through $name, md5" "$got" "$WANT"
done
# The guest's own time for each fetch (Linux's side of each mode, XFRM's
# ESP decryption for ip.esp; under software emulation on CI: a reference,
# not a benchmark).
say "the guest's fetch times, $BYTES bytes each (Linux under qemu, $(grep -o '([a-z]*)$' "$IT_DIR/run.err" || echo '?')):"
awk -v b="$BYTES" '$1 == "FETCH" && $5 > 0 { printf "    %-8s %6.2f s  %7.1f Mbit/s\n", $2, $5, b * 8 / $5 / 1e6 }' \
	"$IT_DIR/guest.out" | tee "$IT_DIR/fetch-times.txt" >&$IT_OUT

bpf_stop "$BT"
say "bpftrace printed:"
sed 's/^/    /' "$IT_DIR/count.out"
probe_count() { awk -v k="@$1[$2]:" '$1 == k { print $2 }' "$IT_DIR/count.out"; }
sum_rx=0
sum_tx=0
for t in "${TUNNELS[@]}"; do
	read -r name _ <<<"$t"
	rx=$(probe_count rx "$name")
	tx=$(probe_count tx "$name")
	expect_ge "ip:receive on $name" "${rx:-0}" $N
	expect_ge "ip:send on $name" "${tx:-0}" $N
	sum_rx=$((sum_rx + ${rx:-0}))
	sum_tx=$((sum_tx + ${tx:-0}))
done
# Each tunnelled packet again on dpdk0, outer (and the link's own: ARP is
# not IP, the pings to dpdk0 and ND are).
expect_ge "ip:receive on dpdk0 (the tunnels' outer packets and more)" "$(probe_count rx dpdk0)" $sum_rx
expect_ge "ip:send on dpdk0 (the tunnels' outer packets and more)" "$(probe_count tx dpdk0)" $sum_tx

sonded_stop
for t in "${TUNNELS[@]}"; do
	read -r name _ <<<"$t"
	expect_counter_ge "if.$name.rx_packets" $N
	expect_counter_ge "if.$name.tx_packets" $N
done
# The captures agree with the probes: each tunnel's capture holds as many
# packets as ip:send and ip:receive fired on it (the guest's tunnels
# started after bpftrace was attached), and dpdk0's capture as many outer
# packets (IP in IP, GRE, the IPv6 tunnels' with their option, ESP in
# UDP but keepalives) as all the tunnels' inner ones: each seen twice.
pcap_count() { tcpdump -nn -r "$1" "${@:2}" 2>/dev/null | wc -l; }
for t in "${TUNNELS[@]}"; do
	read -r name _ <<<"$t"
	expect_eq "packets in sonded's capture of $name = ip:send + ip:receive on it" \
		"$(pcap_count "$IT_DIR/$name.pcap")" $(($(probe_count rx "$name") + $(probe_count tx "$name")))
done
expect_eq "outer packets in sonded's capture of dpdk0 = the tunnels' inner packets" \
	"$(pcap_count "$IT_DIR/dpdk0.pcap" '(ip and (ip proto 4 or ip proto 41 or ip proto 47 or
		(udp port 4500 and udp[4:2] > 9))) or (ip6 and (ip6[6] == 4 or ip6[6] == 41 or
		ip6[6] == 47 or ip6[6] == 60))')" $((sum_rx + sum_tx))
expect_counter_ge tunnel.decap $((PINGS * N + FETCHES))
expect_counter_ge tunnel.encap $((PINGS * N + FETCHES))
if [ "${ESP:-0}" = 1 ]; then
	# ESP's own: every packet through ip.esp went out in ESP and came in
	# from it, none refused.
	expect_counter_ge esp.in $((N + 1))
	expect_counter "esp.out" "$(counter if.ip.esp.tx_packets)"
	expect_counter "esp.in" "$(counter if.ip.esp.rx_packets)"
	for r in esp-auth-failed esp-replay esp-no-sa esp-bad-padding; do
		expect_counter "drop.in.$r" 0
	done
fi
