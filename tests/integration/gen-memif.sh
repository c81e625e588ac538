#!/bin/bash
#
# gen-memif: sonde-gen against sonded, two DPDK processes joined by
# net_memif (sonded the server on lcore 0, sonde-gen the client on lcore 1;
# sockets in a directory of the test's own).  One sonded per case:
#
#   icmp4, icmp6  ICMP and ICMPv6 echo to sonded's address on dpdk0
#   udp4, udp6    UDP to port 7, sonded --service udp:7=echo (RFC 862)
#   fwd4, fwd6    UDP through sonded --forward, in on dpdk0, out on dpdk1
#                 (the generator's port 1, --gw/--rx-port/--rx-addr)
#   ipip_decap    fwd4's UDP in IPIP (RFC 2003, sonde-gen --ipip) to
#                 sonded's tunnel ip.tun0 on dpdk0, forwarded out of it on
#                 dpdk1: a short --count, every one decapsulated (counter
#                 tunnel.decap) and forwarded back to the generator
#   esp_decap     the same in ESP over UDP 4500 (sonde-gen --esp): every
#                 one decrypted (esp.in) and forwarded
#
# sonde-gen sends paced (--rate, --duration) and reports --json.  Checked:
# it sent some and got every one back (received == sent); sonded counted
# exactly what it was sent under the case's counter and none under the
# others'; what sonded received was the generator's packets plus ARP/ND,
# and what it sent (or dropped at a port before the generator came: its
# announcements and DAD probes) the answers plus ARP/ND; no input drop;
# mbufs_in_use 0 at exit.  For forwarding, a one-packet run first has
# sonded resolve the generator's address on dpdk1: until it has, sonded
# holds 4 packets for it (conf.arp_queue) and drops the rest, as it
# should.  A functional test of the generator and the memif path, not a
# benchmark: nothing is timed.
#
#   tests/integration/gen-memif.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

SONDE_GEN=${SONDE_GEN:-$BUILD/apps/sonde-gen}
[ -x "$SONDE_GEN" ] || fail "no sonde-gen at $SONDE_GEN (build first: ninja -C $BUILD)"
RATE=20000
DURATION=1
ECHO_COUNTERS="icmp.echo_replies icmp6.echo_replies service.udp.echoed ipv4.forwarded ipv6.forwarded"
SONDED_EXTRA=()
# 1 while a case's packets come in a tunnel: each is then two to sonded's
# IPv4 input, the outer (delivered, to the tunnel) and the inner (forwarded).
DECAP=0
MAIN_EXTRA=()
# esp_decap's keys (AES-128 and the 4-byte salt): sonded sends with K1, takes K2.
ESP_K1=0x0102030405060708090a0b0c0d0e0f1011121314
ESP_K2=0xa1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4

SOCK_DIR=$(mktemp -d /tmp/sonde-memif.XXXXXX) || fail "mktemp"
IT_PATHS+=("$SOCK_DIR")

# memif_vdev PORT ROLE: port PORT's end of link PORT, with a MAC set for
# each end (02:00:00:77+PORT:00:01 sonded's, :02 the generator's), so that
# each learns the other's.  Rings of 4096 (rsize 12) ride out a
# process descheduled for a while on a busy machine.
memif_vdev()
{
	local mac
	mac=$(printf '02:00:00:%02x:00:%02d' $((0x77 + $1)) "$([ "$2" = server ] && echo 1 || echo 2)")
	printf -- '--vdev=net_memif%d,role=%s,socket=%s/memif%d.sock,mac=%s,rsize=12' \
		"$1" "$2" "$SOCK_DIR" "$1" "$mac"
}

json_get() { jq -er ".$2" <<<"$1"; }

# gen_run CASE PORTS MODE ARGS...: sonde-gen --mode MODE with PORTS memif
# ports, to the end; sets SENT and RECEIVED from its --json line.
gen_run()
{
	local name=$1 ports=$2 mode=$3 vdevs=() i prefix out line rc
	shift 3
	for ((i = 0; i < ports; i++)); do
		vdevs+=("$(memif_vdev $i client)")
	done
	uniq_name prefix sgen
	IT_PREFIXES+=("$prefix")
	out=$IT_DIR/gen.$name.out
	say "$name: sonde-gen --mode $mode $* --rate $RATE --duration $DURATION"
	timeout --foreground -k 2 30 "$SONDE_GEN" --no-huge -m 256 --no-pci --file-prefix="$prefix" \
		-l 1 "${vdevs[@]}" --log-level='*:warning' -- --mode "$mode" "$@" --rate $RATE \
		--duration $DURATION --json >"$out" 2>"$out.err"
	rc=$?
	[ $rc = 0 ] || {
		cat "$out" "$out.err" >&2
		fail "$name: sonde-gen exited with status $rc"
	}
	line=$(grep '^{' "$out" | tail -1)
	say "$name: $line"
	expect_eq "$name: sonde-gen's mode" "$(json_get "$line" mode)" "$mode"
	SENT=$(json_get "$line" sent) || fail "$name: no 'sent' in '$line'"
	RECEIVED=$(json_get "$line" received) || fail "$name: no 'received' in '$line'"
}

# Sum of counters (sonded's final output), by awk regex over the names.
counters_sum()
{
	awk -v re="$1" 'p && $1 ~ re { v += $2 } /^stopping$/ { p = 1 } END { printf "%.0f\n", v }' "$SONDED_OUT"
}

# run_case CASE MODE PORTS COUNTER GEN-ARGS...
run_case()
{
	local name=$1 mode=$2 ports=$3 want=$4 c vdevs=() args=() i rx tx nd_in total
	shift 4
	rm -f "$SOCK_DIR"/*.sock
	for ((i = 0; i < ports; i++)); do
		vdevs+=("$(memif_vdev $i server)")
	done
	args=(--addr dpdk0=10.77.0.1/24 --addr dpdk0=fd77::1/64)
	if [ "$ports" = 2 ]; then
		args+=(--forward --addr dpdk1=10.78.0.1/24 --addr dpdk1=fd78::1/64)
	else
		args+=(--service udp:7=echo)
	fi
	sonded_start_eal "${vdevs[@]}" -- "${args[@]}" "${SONDED_EXTRA[@]}"
	expect_eq "$name: sonded's dpdk0 MAC" "${SONDED_MAC[0]}" 02:00:00:77:00:01
	total=0
	if [ "$ports" = 2 ]; then
		gen_run "$name-resolve" "$ports" "$mode" "$@" --count 1
		expect_eq "$name-resolve: packets sent" "$SENT" 1
		expect_eq "$name-resolve: packets received back" "$RECEIVED" 1
		total=$SENT
	fi
	gen_run "$name" "$ports" "$mode" "$@" "${MAIN_EXTRA[@]}"
	sonded_stop

	expect_ge "$name: packets sent" "$SENT" 1
	expect_eq "$name: packets received back" "$RECEIVED" "$SENT"
	SENT=$((total + SENT))
	for c in $ECHO_COUNTERS; do
		if [ "$c" = "$want" ]; then
			expect_counter "$c" "$SENT"
		else
			expect_counter "$c" 0
		fi
	done
	nd_in=$(($(counter nd.ns_in) + $(counter nd.na_in)))
	case $mode in
	*4) expect_counter ipv4.in $(((1 + DECAP) * SENT)) ;;
	*6) expect_eq "$name: ipv6.in less ND" $(($(counter ipv6.in) - nd_in)) "$SENT" ;;
	esac
	expect_counter tunnel.decap $((DECAP * SENT))
	# Every frame in was the generator's, ARP or ND; every frame out (or
	# dropped at the port before the generator connected) an answer, a
	# forwarded packet, ARP or ND.
	rx=$(counters_sum '^if\.dpdk[0-9]+\.rx_packets$')
	tx=$(($(counters_sum '^if\.dpdk[0-9]+\.tx_packets$') + $(counter drop.out.tx-queue-full) +
		$(counter drop.out.link-tx-queue-full)))
	expect_eq "$name: frames in, less ARP/ND" $((rx - $(counter arp.in) - nd_in)) "$SENT"
	expect_eq "$name: frames out or dropped at the port, less ARP/ND" \
		$((tx - $(counter arp.out) - $(counter nd.ns_out) - $(counter nd.na_out))) "$SENT"
	expect_eq "$name: input drops" "$(counters_sum '^drop\.in\.')" 0
	if [ "$ports" = 2 ]; then
		expect_ge "$name: frames out of dpdk1" "$(counter if.dpdk1.tx_packets)" "$SENT"
		expect_eq "$name: delivered to sonded, less ND" \
			$(($(counter ipv4.in_delivered) + $(counter ipv6.in_delivered) - nd_in)) \
			$((DECAP * SENT))
	fi
}

V4="--src 10.77.0.2 --dst 10.77.0.1"
V6="--src fd77::2 --dst fd77::1"
FWD4="--src 10.77.0.2 --dst 10.78.0.2 --gw 10.77.0.1 --rx-port 1 --rx-addr 10.78.0.2"
FWD6="--src fd77::2 --dst fd78::2 --gw fd77::1 --rx-port 1 --rx-addr fd78::2"
# shellcheck disable=SC2086 # the address sets are word lists
{
	run_case icmp4 icmp4 1 icmp.echo_replies $V4
	run_case icmp6 icmp6 1 icmp6.echo_replies $V6
	run_case udp4 udp4 1 service.udp.echoed $V4 --dport 7
	run_case udp6 udp6 1 service.udp.echoed $V6 --dport 7
	run_case fwd4 udp4 2 ipv4.forwarded $FWD4
	run_case fwd6 udp6 2 ipv6.forwarded $FWD6
	# The generator is the tunnel's far end, 10.77.0.2 (its --src too).
	SONDED_EXTRA=(--tunnel "ip.tun0,mode=ipip,local=10.77.0.1,remote=10.77.0.2"
		--addr ip.tun0=192.168.79.1/30)
	DECAP=1
	run_case ipip_decap udp4 2 ipv4.forwarded $FWD4 --ipip 10.77.0.2,10.77.0.1 --count 500
	# The same in ESP over UDP (sonde-gen --esp, the SA file from its
	# end); the main run's sequence numbers go on from the resolving
	# one's (sonded's anti-replay window takes each once).
	printf '%s\n' "out spi 0x1001 aead rfc4106(gcm(aes)) $ESP_K1 128" \
		"in spi 0x2002 aead rfc4106(gcm(aes)) $ESP_K2 128" "keepalive off" >"$IT_DIR/sa-sonded.conf"
	printf '%s\n' "out spi 0x2002 aead rfc4106(gcm(aes)) $ESP_K2 128" \
		"in spi 0x1001 aead rfc4106(gcm(aes)) $ESP_K1 128" >"$IT_DIR/sa-gen.conf"
	printf '%s\n' "out spi 0x2002 aead rfc4106(gcm(aes)) $ESP_K2 128 seq 100" \
		"in spi 0x1001 aead rfc4106(gcm(aes)) $ESP_K1 128" >"$IT_DIR/sa-gen-main.conf"
	chmod 600 "$IT_DIR"/sa-*.conf
	SONDED_EXTRA=(--tunnel "ip.tun0,mode=ipip,local=10.77.0.1,remote=10.77.0.2,esp=$IT_DIR/sa-sonded.conf"
		--addr ip.tun0=192.168.79.1/30)
	MAIN_EXTRA=(--esp "$IT_DIR/sa-gen-main.conf")
	run_case esp_decap udp4 2 ipv4.forwarded $FWD4 --ipip 10.77.0.2,10.77.0.1 \
		--esp "$IT_DIR/sa-gen.conf" --count 500
	expect_counter esp.in "$SENT"
	MAIN_EXTRA=()
	SONDED_EXTRA=()
	DECAP=0
}
