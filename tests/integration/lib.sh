# shellcheck shell=bash
#
# lib.sh: helpers for sonde's integration tests.  Each test script sources
# this file; Linux, in network namespaces of the test's own, is the peer of a
# real sonded over net_tap ports; bpftrace attaches to sonded's USDT probes;
# tcpdump in the namespaces is the independent witness.
#
#   tests/integration/NAME.sh BUILD_DIR
#
# Environment (optional): SONDED (default BUILD_DIR/apps/sonded), SONDE_SRC
# (default: two levels above this file), KEEP_LOGS=1 (keep the work directory
# even when the test passes; it is always kept when it fails).
#
# Rules kept here for every test: unique names (the script's pid and a
# counter) for namespaces, taps and DPDK file prefixes, and a copy of sonded
# of its own (below), so that tests can run side by side; one EXIT trap that
# stops every process the test started and deletes everything it created,
# failure and Ctrl-C included; every wait bounded in time.
#
# Exit status: 0 passed, 1 failed, 77 skipped (not root, or a tool missing).

set -u -o pipefail

IT_NAME=$(basename "$0" .sh)
IT_START=$(date +%s.%N)
IT_PY=/usr/bin/python3 # Debian's, with scapy (a pyenv python may come first on PATH)

# --- reporting ---------------------------------------------------------------

# The script's own stdout and stderr: a trap runs inside the redirections of
# the command it interrupted (say `cmd >file 2>&1`), so the reports and the
# cleanup write here explicitly.
exec {IT_OUT}>&1 {IT_ERR}>&2

say() { printf '[%s] %s\n' "$IT_NAME" "$*" >&$IT_OUT; }
ok() { tsh_check; printf '[%s] ok: %s\n' "$IT_NAME" "$*" >&$IT_OUT; }
fail()
{
	printf '[%s] FAIL: %s\n' "$IT_NAME" "$*" >&$IT_ERR
	IT_FAILED=1
	exit 1
}
skip()
{
	printf '[%s] SKIP: %s\n' "$IT_NAME" "$*" >&$IT_OUT
	exit 77
}

# expect_eq WHAT GOT WANT
expect_eq()
{
	tsh_check
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	ok "$1 = $3"
}

# expect_ge WHAT GOT MIN
expect_ge()
{
	tsh_check
	[ "$2" -ge "$3" ] 2>/dev/null || fail "$1: got '$2', want >= $3"
	ok "$1 = $2 (>= $3)"
}

# --- arguments and environment -----------------------------------------------

[ $# -ge 1 ] || {
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
}
[ -d "$1" ] || {
	echo "$0: no build directory '$1'" >&2
	exit 2
}
BUILD=$(cd "$1" && pwd)
SONDED=${SONDED:-$BUILD/apps/sonded}
SONDE_SRC=${SONDE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SONDED=$(cd "$(dirname "$SONDED")" && pwd)/$(basename "$SONDED") # bpftrace wants it absolute

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, taps, bpftrace)"
[ -x "$SONDED" ] || fail "no sonded at $SONDED (build first: ninja -C $BUILD)"
[ -f "$BUILD/include/sonde/ip_provider.h" ] || fail "no $BUILD/include/sonde/ip_provider.h"
for _t in ip bpftrace tcpdump tshark "$IT_PY"; do
	command -v "$_t" >/dev/null || skip "needs $_t"
done
unset _t

# bpftrace detaches cleanly only with tracefs mounted.
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing ||
	fail "cannot mount tracefs at /sys/kernel/tracing"

IT_DIR=$(mktemp -d "/tmp/sonde-it-$IT_NAME.XXXXXX") || fail "mktemp"

# --- cleanup: always, whatever happened --------------------------------------

IT_FAILED=0
IT_PIDS=()     # processes to stop: "pid:name"
IT_NETNS=()    # namespaces to delete
IT_LINKS=()    # links to delete if still in the root namespace
IT_PREFIXES=() # DPDK file prefixes (/var/run/dpdk/PREFIX)
IT_PATHS=()    # files and directories to remove, whatever the outcome (sockets)
declare -A IT_CAPFILE # tcpdump pid -> its capture file
declare -A IT_BPFOUT  # bpftrace pid -> its output file
IT_SEQ=0
SONDED_NETNS= # see sonded_netns

it_cleanup()
{
	local rc=$? e pid name
	trap - EXIT INT TERM HUP
	exec 1>&$IT_OUT 2>&$IT_ERR
	if [ -e "$IT_DIR/tshark.failed" ]; then
		cat "$IT_DIR/tshark.failed" >&2
		rc=1
	fi
	[ "$IT_FAILED" = 1 ] && [ "$rc" = 0 ] && rc=1
	# Quick first (meson gives a timed-out test 0.5 s after its SIGTERM):
	# signal every process, delete the namespaces (a tap in one goes with
	# it), then wait for the processes (bpftrace takes a while to detach).
	for e in "${IT_PIDS[@]}"; do
		kill -INT "${e%%:*}" 2>/dev/null
	done
	for e in "${IT_NETNS[@]}"; do
		ip netns del "$e" 2>/dev/null
	done
	for e in "${IT_PIDS[@]}"; do
		pid=${e%%:*}
		name=${e#*:}
		if ! proc_wait_exit "$pid" 5; then
			echo "[$IT_NAME] cleanup: $name ($pid) ignored SIGINT, killing" >&2
			kill -KILL "$pid" 2>/dev/null
			proc_wait_exit "$pid" 5
		fi
		wait "$pid" 2>/dev/null
	done
	# A tap sonded made and the test had not yet moved: gone with sonded,
	# unless something kept it.
	for e in "${IT_LINKS[@]}"; do
		ip link show "$e" >/dev/null 2>&1 && ip link del "$e" 2>/dev/null
	done
	for e in "${IT_PREFIXES[@]}"; do
		rm -rf "/var/run/dpdk/$e"
	done
	for e in "${IT_PATHS[@]}"; do
		rm -rf "$e"
	done
	if [ "$rc" = 0 ] && [ "${KEEP_LOGS:-0}" != 1 ]; then
		rm -rf "$IT_DIR"
	else
		echo "[$IT_NAME] logs kept in $IT_DIR" >&2
	fi
	if [ "$rc" = 0 ]; then
		printf '[%s] PASS (%ss)\n' "$IT_NAME" "$(awk -v a="$IT_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
	elif [ "$rc" = 77 ]; then
		:
	else
		printf '[%s] FAILED (exit %s)\n' "$IT_NAME" "$rc" >&2
	fi
	exit "$rc"
}
# Ctrl-C and meson's timeout signal the whole process group: every command
# a test waits for runs in it (timeout --foreground), so the trap runs at once.
trap it_cleanup EXIT
trap 'IT_FAILED=1; echo "[$IT_NAME] interrupted (SIGINT)" >&$IT_ERR; exit 130' INT
trap 'IT_FAILED=1; echo "[$IT_NAME] interrupted (SIGTERM)" >&$IT_ERR; exit 143' TERM
trap 'IT_FAILED=1; echo "[$IT_NAME] interrupted (SIGHUP)" >&$IT_ERR; exit 129' HUP

# The test's own copy of sonded.  A uprobe is set on a file (its inode), so
# `usdt:$SONDED:...` without a pid fires in every process running that file:
# with one binary shared, tests run side by side (meson test runs two at a
# time) would count each other's packets.  A copy per test keeps each
# test's bpftrace to its own sonded.
cp "$SONDED" "$IT_DIR/sonded" || fail "cannot copy $SONDED to $IT_DIR"
SONDED=$IT_DIR/sonded

# --- names, waits, processes -------------------------------------------------

# uniq_name VAR PREFIX: a name unique to this run, at most 15 characters
# (IFNAMSIZ - 1).  Sets VAR; not usable in $(...), where the counter would
# not advance.
uniq_name()
{
	local n
	IT_SEQ=$((IT_SEQ + 1))
	n="$2$$x$IT_SEQ"
	[ ${#n} -le 15 ] || fail "name '$n' longer than 15 characters"
	printf -v "$1" '%s' "$n"
}

# The waits.  A test waits for a condition, polled every 0.1 s, bounded in
# wall-clock time (not in rounds: on a busy machine one round of a tshark
# takes seconds); never for a fixed time.  Bounds are generous, since a
# condition that holds ends the wait at once: CI machines have two busy
# cores.

# it_now_ms: wall-clock milliseconds (bash's EPOCHREALTIME, no fork).
it_now_ms()
{
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# wait_for SECS WHAT CMD...: runs CMD (a command or a shell function) every
# 0.1 s until it succeeds; fails the test if it has not within SECS
# seconds.
wait_for()
{
	local secs=$1 what=$2 end
	shift 2
	end=$(($(it_now_ms) + secs * 1000))
	while :; do
		"$@" >/dev/null && return 0
		[ "$(it_now_ms)" -lt "$end" ] || break
		sleep 0.1
	done
	fail "timed out after ${secs}s waiting for $what"
}

# file_lines FILE [ERE]: the number of lines of FILE (matching ERE).
file_lines()
{
	local c
	c=$(grep -Ec -- "${2:-}" "$1" 2>/dev/null)
	echo "${c:-0}"
}

# wait_file_lines FILE N SECS [ERE]: waits until FILE has at least N lines
# (matching ERE); fails the test after SECS seconds, saying how many came.
# The way to wait for a tracer's output: bpftrace writes each event as it
# reads it, so its lines for the packets a test sent come a little after
# the packets did.
wait_file_lines()
{
	local f=$1 n=$2 secs=$3 ere=${4:-} end got m=
	[ -z "$ere" ] || m=" matching '$ere'"
	end=$(($(it_now_ms) + secs * 1000))
	while :; do
		got=$(file_lines "$f" "$ere")
		[ "$got" -ge "$n" ] && return 0
		[ "$(it_now_ms)" -lt "$end" ] || break
		sleep 0.1
	done
	fail "timed out after ${secs}s waiting for $n lines$m in $f: $got came"
}

# proc_wait_exit PID SECS [SIG]: true once PID has exited (gone or a
# zombie); with SIG, sends it again every second meanwhile.
proc_wait_exit()
{
	local pid=$1 secs=$2 sig=${3:-} i st
	for ((i = 1; i <= secs * 10; i++)); do
		st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
		[ -z "$st" ] || [ "$st" = Z ] && return 0
		[ -n "$sig" ] && [ $((i % 10)) = 0 ] && kill -"$sig" "$pid" 2>/dev/null
		sleep 0.1
	done
	return 1
}

proc_alive()
{
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ]
}

proc_register() { IT_PIDS+=("$1:$2"); }

proc_unregister()
{
	local e keep=()
	for e in "${IT_PIDS[@]}"; do
		[ "${e%%:*}" = "$1" ] || keep+=("$e")
	done
	IT_PIDS=("${keep[@]}")
}

# proc_stop PID NAME SECS [SIG]: SIGINT, then waits up to SECS seconds,
# sending SIG every second if given; sets PROC_RC to the exit status.  Fails
# the test if PID does not exit in time.
proc_stop()
{
	local pid=$1 name=$2 secs=$3 again=${4:-}
	kill -INT "$pid" 2>/dev/null
	if ! proc_wait_exit "$pid" "$secs" "$again"; then
		{
			echo "[$IT_NAME] $name ($pid) still running: $(grep '^State' "/proc/$pid/status")"
			sed 's/^/    /' "/proc/$pid/stack" 2>/dev/null
		} >&$IT_ERR
		kill -KILL "$pid" 2>/dev/null
		proc_wait_exit "$pid" 5
		wait "$pid" 2>/dev/null
		proc_unregister "$pid"
		fail "$name ($pid) did not exit within ${secs}s of SIGINT"
	fi
	wait "$pid"
	PROC_RC=$?
	proc_unregister "$pid"
}

# --- namespaces and taps -----------------------------------------------------

# netns_new VAR: a new namespace with lo up and IPv6 off (no router
# solicitations or MLD reports in the captures and counters).
netns_new()
{
	local ns
	uniq_name ns sn
	ip netns add "$ns" || fail "ip netns add $ns"
	IT_NETNS+=("$ns")
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	printf -v "$1" '%s' "$ns"
}

# tap_new VAR: a unique tap name for sonded's --vdev=net_tapN,iface=NAME.
tap_new()
{
	local t
	uniq_name t st
	IT_LINKS+=("$t")
	printf -v "$1" '%s' "$t"
}

# link_new VAR PREFIX: a unique name for a link the test creates itself (a
# veth, a tunnel); deleted on exit if it is still in the root namespace
# (one in a test namespace goes with the namespace).
link_new()
{
	local l
	uniq_name l "$2"
	IT_LINKS+=("$l")
	printf -v "$1" '%s' "$l"
}

# tap_to_ns TAP NS ADDR/LEN: moves sonded's tap into NS, where Linux is the
# peer, and gives it ADDR and a MAC of its own, 02:00 and ADDR's bytes.
# (net_tap gives the kernel side the DPDK port's MAC; with one MAC at both
# ends a stack that never learnt its peer's would still seem to work.)
tap_to_ns()
{
	local tap=$1 ns=$2 addr=$3 mac a b c d
	IFS=. read -r a b c d <<<"${addr%/*}"
	mac=$(printf '02:00:%02x:%02x:%02x:%02x' "$a" "$b" "$c" "$d")
	wait_for 10 "tap $tap" ip ${SONDED_NETNS:+-n "$SONDED_NETNS"} link show "$tap"
	ip ${SONDED_NETNS:+-n "$SONDED_NETNS"} link set "$tap" netns "$ns" || fail "moving $tap to $ns"
	ip -n "$ns" link set "$tap" address "$mac" || fail "MAC $mac on $tap"
	ip -n "$ns" addr add "$addr" dev "$tap" || fail "address $addr on $tap"
	ip -n "$ns" link set "$tap" up || fail "$tap up"
}

# veth_to_ns VAR NS ADDR/LEN [INDEX]: a veth pair for a net_af_packet port
# of sonded (dpdkN in the order of the --vdev arguments): one end where
# sonded runs (SONDED_NETNS if set, so call sonded_netns first; it must
# exist before sonded starts), the other in NS with ADDR and the MAC 02:00
# and ADDR's bytes, transmit checksumming off (a veth leaves UDP checksums
# to be filled in, CHECKSUM_PARTIAL, which an AF_PACKET reader gets as
# they are).  Sets VAR to sonded's --vdev=net_af_packetINDEX,iface=... and
# VETH_PEER to the name of NS's end.  Unlike net_tap, net_af_packet fills
# no checksum for sonded: its probes see at send the checksum on the wire.
veth_to_ns()
{
	local var=$1 ns=$2 addr=$3 idx=${4:-0} here there mac a b c d
	local on=(${SONDED_NETNS:+-n "$SONDED_NETNS"})
	link_new here vs
	link_new there vl
	ip "${on[@]}" link add "$here" type veth peer name "$there" || fail "veth $here/$there"
	ip "${on[@]}" link set "$there" netns "$ns" || fail "moving $there to $ns"
	ip "${on[@]}" link set "$here" up || fail "$here up"
	IFS=. read -r a b c d <<<"${addr%/*}"
	mac=$(printf '02:00:%02x:%02x:%02x:%02x' "$a" "$b" "$c" "$d")
	ip -n "$ns" link set "$there" address "$mac" || fail "MAC $mac on $there"
	ip -n "$ns" addr add "$addr" dev "$there" || fail "address $addr on $there"
	in_ns "$ns" "$IT_PY" -c 'import array, fcntl, socket, struct, sys
# ETHTOOL_STXCSUM (0x17) with data 0, then ETHTOOL_GTXCSUM (0x16): what ethtool -K IF tx off does.
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def ethtool(cmd, data=0):
    buf = array.array("B", struct.pack("II", cmd, data))
    fcntl.ioctl(s, 0x8946, struct.pack("16sP16x", sys.argv[1].encode(), buf.buffer_info()[0]))
    return struct.unpack("II", buf.tobytes())[1]
ethtool(0x17, 0)
sys.exit(ethtool(0x16) != 0)' "$there" || fail "transmit checksumming off on $there"
	ip -n "$ns" link set "$there" up || fail "$there up"
	# shellcheck disable=SC2034 # used by the test scripts
	VETH_PEER=$there
	printf -v "$var" '%s' "--vdev=net_af_packet$idx,iface=$here"
}

# --- IPv6 peers --------------------------------------------------------------

# netns_new6 VAR: a new namespace with IPv6 on, for an IPv6 peer: no router
# solicitations, no RAs taken, no DAD (so no waiting; addresses are added
# nodad too).  Its links still send MLD reports: filter them out.
netns_new6()
{
	local ns6
	netns_new ns6
	ip netns exec "$ns6" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.default.accept_ra=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.all.disable_ipv6=0 \
		net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.lo.disable_ipv6=0 >/dev/null ||
		fail "IPv6 sysctls in $ns6"
	printf -v "$1" '%s' "$ns6"
}

# sonded_netns: sonded_start will run sonded in a namespace of its own with
# IPv6 off (sets SONDED_NETNS), where its taps are born.  In the root
# namespace a new tap comes up with IPv6 on and sonded's MAC, so Linux runs
# DAD for sonded's own link-local address: a race, lost by whichever side
# probes second (seen: Linux's address "dadfailed"; had sonded lost, its
# link-local address would be unusable), and sends MLD reports.  In there
# it does neither.  tap_to_ns and tap_to_ns6 move the taps from there.
sonded_netns() { netns_new SONDED_NETNS; }

# tap_to_ns6 TAP NS ADDR6/LEN [ADDR4/LEN]: as tap_to_ns, for an IPv6 peer
# (NS from netns_new6): moves TAP into NS, gives it the MAC 02:06 and bytes
# 1, 13, 14 and 15 of ADDR6 (so fd01::1 is 02:06:01:00:00:01), ADDR6
# (nodad) and ADDR4 if given, and brings it up.
tap_to_ns6()
{
	local tap=$1 ns=$2 addr=$3 addr4=${4:-} mac
	mac=$("$IT_PY" -c 'import ipaddress, sys
b = ipaddress.IPv6Address(sys.argv[1].split("/")[0]).packed
print("02:06:%02x:%02x:%02x:%02x" % (b[1], b[13], b[14], b[15]))' "$addr") || fail "bad address $addr"
	wait_for 10 "tap $tap" ip ${SONDED_NETNS:+-n "$SONDED_NETNS"} link show "$tap"
	ip ${SONDED_NETNS:+-n "$SONDED_NETNS"} link set "$tap" netns "$ns" || fail "moving $tap to $ns"
	ip -n "$ns" link set "$tap" address "$mac" || fail "MAC $mac on $tap"
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=0" >/dev/null ||
		fail "IPv6 on $tap"
	ip -n "$ns" -6 addr add "$addr" dev "$tap" nodad || fail "address $addr on $tap"
	if [ -n "$addr4" ]; then
		ip -n "$ns" addr add "$addr4" dev "$tap" || fail "address $addr4 on $tap"
	fi
	ip -n "$ns" link set "$tap" up || fail "$tap up"
	# The link-local address (no DAD in a netns_new6 namespace): usable once
	# it is there.
	wait_for 5 "a link-local address on $tap" \
		bash -c "ip -n '$ns' -6 addr show dev '$tap' scope link | grep -q 'inet6 fe80::'"
}

# ll_of_mac MAC: the link-local address a MAC gives (RFC 4291 modified
# EUI-64), in RFC 5952 text.
ll_of_mac()
{
	"$IT_PY" -c 'import ipaddress, sys
m = bytes.fromhex(sys.argv[1].replace(":", ""))
print(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + bytes([m[0] ^ 2]) + m[1:3] + b"\xff\xfe" + m[3:6]))' "$1"
}

# ns_mac NS IF: the MAC address of IF in NS, lower case.
ns_mac() { ip netns exec "$1" cat "/sys/class/net/$2/address"; }

in_ns()
{
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# --- sonded ------------------------------------------------------------------

# sonded_start "TAP0 TAP1 ..." [sonded options...]: starts sonded with one
# net_tap port per tap (dpdk0, dpdk1, ...) and waits for its `ready` line.
# Sets SONDED_PID, SONDED_OUT (stdout), SONDED_PREFIX (the DPDK file
# prefix), SONDED_MAC[i] (dpdkI's MAC, lower case) and SONDED_NLCORES (its
# stacks, from the ready line).  Runs sonded in namespace SONDED_NETNS if
# set (sonded_netns).
sonded_start()
{
	local taps=$1 vdevs=() i=0 t
	shift
	for t in $taps; do
		vdevs+=("--vdev=net_tap$i,iface=$t")
		i=$((i + 1))
	done
	sonded_start_eal "${vdevs[@]}" -- "$@"
}

# sonded_start_eal EAL-ARGS... -- [sonded options...]: the same with any
# ports EAL makes of EAL-ARGS (--vdev=net_memif0,..., dpdk0 the first).
# SONDED_LCORES (default 0) is its -l and SONDED_MEM (default 256) its -m:
# one stack per lcore, about 132 MB of DPDK memory each (rte_lpm, rte_lpm6).
sonded_start_eal()
{
	local vdevs=() i line w end
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vdevs+=("$1")
		shift
	done
	[ $# -gt 0 ] || fail "sonded_start_eal: no -- after the EAL arguments"
	shift
	uniq_name SONDED_PREFIX sonde
	IT_PREFIXES+=("$SONDED_PREFIX")
	SONDED_OUT=$IT_DIR/sonded.$SONDED_PREFIX.out
	: >"$SONDED_OUT"
	${SONDED_NETNS:+ip netns exec "$SONDED_NETNS"} \
		"$SONDED" --no-huge -m "${SONDED_MEM:-256}" --no-pci --file-prefix="$SONDED_PREFIX" \
		-l "${SONDED_LCORES:-0}" "${vdevs[@]}" \
		--log-level='*:warning' -- "$@" >"$SONDED_OUT" 2>"$SONDED_OUT.err" &
	SONDED_PID=$!
	proc_register "$SONDED_PID" sonded
	end=$(($(it_now_ms) + 30000))
	until grep -q '^ready' "$SONDED_OUT"; do
		proc_alive "$SONDED_PID" || {
			cat "$SONDED_OUT" "$SONDED_OUT.err" >&2
			fail "sonded exited before it was ready"
		}
		[ "$(it_now_ms)" -lt "$end" ] || break
		sleep 0.1
	done
	line=$(grep '^ready' "$SONDED_OUT") || {
		cat "$SONDED_OUT.err" >&2
		fail "sonded not ready after 30s"
	}
	SONDED_MAC=()
	SONDED_NLCORES=1
	for w in $line; do
		case $w in
		lcores=*) SONDED_NLCORES=${w#lcores=} ;;
		dpdk*=*)
			i=${w%%=*}
			# shellcheck disable=SC2034 # used by the test scripts
			SONDED_MAC[${i#dpdk}]=$(echo "${w#*=}" | tr 'A-F' 'a-f')
			;;
		esac
	done
	[ "$(echo "$line" | awk '{print $3}')" = "$SONDED_PID" ] ||
		fail "ready line '$line' does not give pid $SONDED_PID"
	say "sonded $SONDED_PID ready: ${line#ready }"
}

# sonded_stop: SIGINT; checks that sonded said `stopping`, exited 0 and left
# no mbuf in use; prints its counters.
sonded_stop()
{
	local n
	proc_stop "$SONDED_PID" sonded 15
	say "sonded counters:"
	sed -n '/^stopping$/,$p' "$SONDED_OUT" | sed '1d; s/^/    /'
	grep -q '^stopping$' "$SONDED_OUT" || fail "sonded did not print 'stopping'"
	n=$(awk '$1 == "mbufs_in_use" { print $2 }' "$SONDED_OUT")
	[ "$n" = 0 ] || fail "mbuf leak: mbufs_in_use '$n'"
	[ "$PROC_RC" = 0 ] || fail "sonded exited with status $PROC_RC"
	ok "sonded exited 0 with mbufs_in_use 0"
}

# counter NAME: a counter from sonded's final output (0 when not printed:
# sonded prints only the non-zero ones).
counter()
{
	# printed as read: mawk's v + 0 would print 2888267792 as 2.88827e+09
	awk -v n="$1" 'p && $1 == n { v = $2 } /^stopping$/ { p = 1 } END { print (v == "" ? 0 : v) }' "$SONDED_OUT"
}

# expect_counter NAME WANT / expect_counter_ge NAME MIN
expect_counter() { expect_eq "counter $1" "$(counter "$1")" "$2"; }
expect_counter_ge() { expect_ge "counter $1" "$(counter "$1")" "$2"; }

# --- the VM peer (tests/vm) ---------------------------------------------------

# vm_needs: skips the test without what tests/vm needs.
vm_needs()
{
	local t
	for t in qemu-system-x86_64 busybox cpio depmod; do
		command -v "$t" >/dev/null || skip "needs $t (scripts/deps installs it)"
	done
}

# vm_link TAP: sonded's tap (sonded started in SONDED_NETNS) and qemu's on
# one link: a bridge in a new namespace VM_NS, with qemu's tap VM_QTAP.  No
# multicast snooping (the bridge passes Neighbour Discovery's multicast
# whatever MLD said), no STP (the ports forward at once).
vm_link()
{
	local tap=$1 br l
	netns_new VM_NS
	link_new br sb
	link_new VM_QTAP sq
	wait_for 10 "tap $tap" ip -n "$SONDED_NETNS" link show "$tap"
	ip -n "$SONDED_NETNS" link set "$tap" netns "$VM_NS" || fail "moving $tap to $VM_NS"
	# net_tap gives the kernel side of its tap sonded's own MAC: a bridge
	# port's MAC is one of the bridge's local addresses, and it would take
	# sonded's frames for itself instead of forwarding them to the guest.
	ip -n "$VM_NS" link set "$tap" address 02:00:0a:61:00:fe || fail "a MAC of its own on $tap"
	ip -n "$VM_NS" link add "$br" type bridge stp_state 0 mcast_snooping 0 || fail "bridge $br"
	ip -n "$VM_NS" tuntap add dev "$VM_QTAP" mode tap || fail "tap $VM_QTAP"
	for l in "$tap" "$VM_QTAP"; do
		ip -n "$VM_NS" link set "$l" master "$br" || fail "$l into $br"
		ip -n "$VM_NS" link set "$l" up || fail "$l up"
	done
	ip -n "$VM_NS" link set "$br" up || fail "$br up"
}

# vm_boot SCRIPT SECS: boots the guest on VM_QTAP, runs SCRIPT in it (bounded
# by SECS), its output in IT_DIR/guest.out (printed), the console in
# IT_DIR/console.log; VM_RC its exit status.  The files of the array VM_FILES
# are in the guest beside the script (/NAME).  The first run builds the
# VM's cache (tests/vm/build-initramfs).
vm_boot()
{
	local t0
	say "booting the VM peer (kernel and initramfs from the cache; built on first use)"
	t0=$(it_now_ms)
	# run's own bound, within timeout's, which also covers a first build.
	in_ns "$VM_NS" timeout --foreground -k 5 $(($2 + 150)) "$SONDE_SRC/tests/vm/run" \
		--timeout "$2" --log "$IT_DIR/console.log" "${VM_FILES[@]/#/--file=}" "$1" "$VM_QTAP" \
		>"$IT_DIR/guest.out" 2>"$IT_DIR/run.err"
	VM_RC=$?
	say "the guest's output (run took $((($(it_now_ms) - t0) / 1000))s):"
	sed 's/^/    /' "$IT_DIR/guest.out"
	sed 's/^/    /' "$IT_DIR/run.err"
}

# --- tunnels ------------------------------------------------------------------

# scapy_peer_run NS SCRIPT MODE SECS WHAT: tests/integration/SCRIPT MODE TAP
# SONDED_MAC in namespace NS, bounded by SECS; its "ok"/"FAIL" lines
# printed and kept in IT_DIR/MODE.txt; fails with WHAT unless it exited 0.
scapy_peer_run()
{
	local ns=$1 script=$2 mode=$3 secs=$4 what=$5 rc
	in_ns "$ns" timeout --foreground -k 2 "$secs" "$IT_PY" "$SONDE_SRC/tests/integration/$script" \
		"$mode" "$TAP" "${SONDED_MAC[0]}" >"$IT_DIR/$mode.txt" 2>"$IT_DIR/$mode.err"
	rc=$?
	sed 's/^/    /' "$IT_DIR/$mode.txt"
	[ $rc = 0 ] || { cat "$IT_DIR/$mode.err" >&2; fail "$what"; }
}

# tun_capture_agrees PCAP IF ME N TRACE: the first N packets of sonded's
# capture PCAP of tunnel IF (raw IP: the inner packets), and the send and
# receive lines for IF in TRACE ("EVENT SRC DST BYTES IF" lines, ipio03.bt's
# fields), are the same packets in the same order (ME: sonded's inner
# address, a sender's).  The capture's rows in IT_DIR/inner.raw.
tun_capture_agrees()
{
	local pcap=$1 ifname=$2 me=$3 n=$4 trace=$5
	tsh "$pcap" -T fields -e ip.src -e ip.dst -e ip.len -e ip.proto -E separator=' ' \
		-E occurrence=f | head -n "$n" >"$IT_DIR/inner.raw"
	awk -v me="$me" -v i="$ifname" '{ print ($1 == me ? "send" : "receive"), $1, $2, $3 - 20, i }' \
		"$IT_DIR/inner.raw" >"$IT_DIR/inner.cap"
	awk -v i="$ifname" '$5 == i && ($1 == "send" || $1 == "receive")' "$trace" >"$IT_DIR/inner.probe"
	diff -u "$IT_DIR/inner.probe" "$IT_DIR/inner.cap" ||
		fail "sonded's $ifname capture and the $ifname probe lines differ"
}

# --- bpftrace ----------------------------------------------------------------

# bpf_start VAR OUT BPFTRACE-ARGS...: runs bpftrace (line-buffered, with
# -I BUILD/include) writing to OUT (stderr to OUT.err); returns once all its
# probes are attached and, if sonded runs, once sonded has seen them (below).
# Sets VAR to its pid.  BPFTRACE_PERF_RB_PAGES in the environment sizes its
# event buffers (64 pages a CPU by default).
bpf_start()
{
	local var=$1 out=$2 pid end
	shift 2
	: >"$out.err"
	__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 bpftrace -B line -I "$BUILD/include" "$@" \
		>"$out" 2>"$out.err" &
	pid=$!
	proc_register "$pid" bpftrace
	IT_BPFOUT[$pid]=$out
	end=$(($(it_now_ms) + 30000))
	# bpftrace prints this (to stderr) once every probe is attached.
	until grep -q '^__BPFTRACE_NOTIFY_PROBES_ATTACHED' "$out.err"; do
		proc_alive "$pid" || {
			cat "$out" "$out.err" >&2
			fail "bpftrace exited before attaching"
		}
		[ "$(it_now_ms)" -lt "$end" ] || fail "bpftrace not attached after 30s"
		sleep 0.1
	done
	if [ -n "${SONDED_PID:-}" ] && proc_alive "$SONDED_PID"; then
		sonded_polled_since "$(sonded_sleeps)" 10 "bpftrace's probes"
	fi
	printf -v "$var" '%s' "$pid"
}

# Attached is not yet seen: sonded reads its USDT semaphores once a poll,
# and a packet taken by a poll that began before the attach is not traced:
# its burst passed the probe sites' gate already.  An idle sonded sleeps between polls
# (50 us after 256 empty ones, in nanosleep: a voluntary context switch of
# the polling thread), and the poll after a sleep reads the semaphores
# anew.  So once every polling thread has slept twice after the attach,
# every packet sent from then on meets a poll that knows.  (sonded
# --busy-poll never sleeps: start bpftrace before such a sonded.)

# sonded_sleeps: the voluntary context switches of each of sonded's
# polling threads (the main one and DPDK 22.11's rte-worker-N), "TID N" a
# line.
sonded_sleeps()
{
	local t c
	for t in /proc/"$SONDED_PID"/task/*; do
		c=$(cat "$t/comm" 2>/dev/null) || continue
		[ "${t##*/}" = "$SONDED_PID" ] || [ "${c#rte-worker-}" != "$c" ] || continue
		echo "${t##*/} $(awk '$1 == "voluntary_ctxt_switches:" { print $2 }' "$t/status")"
	done
}

# sonded_polled_since BEFORE SECS WHAT: waits until every polling thread in
# BEFORE (sonded_sleeps' output) has slept at least twice since.
sonded_polled_since()
{
	local before=$1 secs=$2 what=$3
	[ "$(grep -c . <<<"$before")" = "${SONDED_NLCORES:-1}" ] ||
		fail "sonded ($SONDED_PID) has not ${SONDED_NLCORES:-1} polling threads: '$before'"
	wait_for "$secs" "sonded to poll after $what" sonded_slept_twice "$before"
}

# sonded_slept_twice BEFORE: true once each thread in BEFORE has.
sonded_slept_twice()
{
	local tid n now
	while read -r tid n; do
		now=$(awk '$1 == "voluntary_ctxt_switches:" { print $2 }' "/proc/$SONDED_PID/task/$tid/status" 2>/dev/null)
		[ -n "$now" ] && [ "$now" -ge $((n + 2)) ] || return 1
	done <<<"$1"
}

# bpf_stop PID: SIGINT (bpftrace prints its maps and detaches); checks it
# exited 0 and lost no event.  Before calling it, wait (wait_file_lines)
# for the lines of the last events the test needs: bpftrace reads them from
# its buffers a little after they fired.  (Maps need no wait: a probe
# updates them in the kernel as it fires.)
# bpftrace 0.17 notices the signal only when it interrupts its epoll_wait():
# one that lands between two calls is lost, and it runs on until the next
# event, which may never come.  So a SIGTERM follows every second, which
# the same handler takes; not a second SIGINT, which kills bpftrace once it
# has left its loop (it restores SIGINT's default to print the maps).
bpf_stop()
{
	local out=${IT_BPFOUT[$1]}
	proc_stop "$1" bpftrace 15 TERM
	[ "$PROC_RC" = 0 ] || fail "bpftrace exited with status $PROC_RC"
	if grep -Eq '^Lost [0-9]+ events' "$out" "$out.err" 2>/dev/null; then
		fail "bpftrace lost events: $(grep -Eh '^Lost [0-9]+ events' "$out" "$out.err" | tr '\n' ' ')"
	fi
}

# --- tcpdump and tshark ------------------------------------------------------

# cap_start VAR NS IF FILE [FILTER...]: tcpdump -w FILE on IF in NS; returns
# once it is capturing.  Sets VAR to its pid.  --immediate-mode: without it
# the kernel hands packets over in blocks, up to a second late, and the last
# ones before the SIGINT are lost.
cap_start()
{
	local var=$1 ns=$2 ifc=$3 file=$4 pid
	shift 4
	: >"$file.err"
	ip netns exec "$ns" tcpdump -Z root -n -U --immediate-mode -i "$ifc" -w "$file" "$@" \
		2>"$file.err" &
	pid=$!
	proc_register "$pid" tcpdump
	IT_CAPFILE[$pid]=$file
	wait_for 10 "tcpdump on $ifc" grep -q 'listening on' "$file.err"
	printf -v "$var" '%s' "$pid"
}

# cap_count FILE [FILTER...]: packets in a capture tcpdump is writing,
# those FILTER (pcap-filter) takes; tcpdump -r reads it in milliseconds (a
# record half written at the end is not counted).
cap_count()
{
	local f=$1
	shift
	tcpdump -n -r "$f" "$@" 2>/dev/null | wc -l
}

# cap_wait FILE N SECS [FILTER...]: waits until the capture in FILE holds at
# least N packets FILTER takes (tcpdump writes what the kernel handed it a
# little after the packet passed).
cap_wait()
{
	local f=$1 n=$2 secs=$3 end got
	shift 3
	end=$(($(it_now_ms) + secs * 1000))
	while :; do
		got=$(cap_count "$f" "$@")
		[ "$got" -ge "$n" ] && return 0
		[ "$(it_now_ms)" -lt "$end" ] || break
		sleep 0.1
	done
	fail "timed out after ${secs}s waiting for $n packets${*:+ ($*)} in $f: $got there"
}

# cap_stop PID: stops the capture; checks that tcpdump wrote every packet
# its filter took and the kernel dropped none.
cap_stop()
{
	local got took dropped f=${IT_CAPFILE[$1]}
	proc_stop "$1" tcpdump 10
	[ "$PROC_RC" = 0 ] || fail "tcpdump exited with status $PROC_RC"
	got=$(awk '/packets? captured/ { print $1 }' "$f.err")
	took=$(awk '/packets? received by filter/ { print $1 }' "$f.err")
	dropped=$(awk '/packets? dropped by kernel/ { print $1 }' "$f.err")
	if [ -z "$got" ] || [ "$got" != "$took" ] || [ "$dropped" != 0 ]; then
		fail "tcpdump lost packets in $f: $(tr '\n' ' ' <"$f.err")"
	fi
}

# tsh FILE TSHARK-ARGS...: tshark on a capture, no name resolution.  Used
# in pipelines and $(...), where fail cannot stop the test: a tshark error
# (a bad filter or preference) leaves a mark that the next expect_* and the
# cleanup turn into a failure, so that a count of 0 is never a tshark error.
tsh()
{
	local f=$1 rc err="$IT_DIR/tshark.err.$BASHPID"
	shift
	tshark -n -r "$f" "$@" 2>"$err"
	rc=$?
	if [ $rc != 0 ]; then
		{
			echo "tshark -n -r $f $* exited $rc:"
			grep -v '^Running as user' "$err"
		} >>"$IT_DIR/tshark.failed"
	fi
	rm -f "$err"
	return $rc
}

tsh_check()
{
	[ -e "$IT_DIR/tshark.failed" ] || return 0
	cat "$IT_DIR/tshark.failed" >&2
	rm -f "$IT_DIR/tshark.failed"
	fail "tshark failed"
}

# --- IPv4 headers: the probes against the wire -------------------------------

# Every ipv4info_t field (and ipinfo_t's length, ifinfo_t's name) at a probe,
# and the same fields of a packet tcpdump captured, as one line each, so
# that the two lists compare with diff, packet by packet and in order:
#
#   NAME IF ver ihl tos length ident flags offset ttl protocol protostr
#   checksum saddr daddr ntop(src) ntop(dst) ip_plength
#
# flags as ipv4info_t gives them (DF = 4, MF = 2), offset in bytes, the rest
# in decimal; saddr/daddr are the text members and src/dst the raw ones.

# ipv4_fields_bt PROBE...: a bpftrace script (on stdout) printing that line
# for each ipv4 PROBE (receive, send, ...) of sonded.
ipv4_fields_bt()
{
	local p v='((struct ipv4info_t *)arg4)' i='((struct ipinfo_t *)arg2)' f='((struct ifinfo_t *)arg3)'
	echo "#include <sonde/ip_provider.h>"
	for p in "$@"; do
		# Two printfs (one line): one would pass bpftrace's 512-byte stack.
		cat <<BT
usdt:$SONDED:ipv4:$p
{
	printf("$p %s %d %d %d %d %d %d %d %d %d %s %d ", $f->if_name, $v->ipv4_ver, $v->ipv4_ihl,
	    $v->ipv4_tos, $v->ipv4_length, $v->ipv4_ident, $v->ipv4_flags, $v->ipv4_offset, $v->ipv4_ttl,
	    $v->ipv4_protocol, $v->ipv4_protostr, $v->ipv4_checksum);
	printf("%s %s %s %s %d\\n", $v->ipv4_saddr, $v->ipv4_daddr, ntop($v->ipv4_src), ntop($v->ipv4_dst),
	    $i->ip_plength);
}
BT
	done
}

# ipv4_wire PCAP PEER_MAC IF [DISPLAY-FILTER]: the same line for each IPv4
# packet in PCAP (that DISPLAY-FILTER takes), in the capture's order: NAME
# receive for a frame from PEER_MAC (the Linux side, sending to sonded),
# send for the others (sonded's), on sonded's interface IF.  Fragments are
# left as they are (no reassembly); an ICMP error's quoted header is not
# the packet's.  Every checksum on the wire must be right (tshark checks
# it): a wrong one is written bad-VALUE, which no probe prints.
ipv4_wire()
{
	local pcap=$1 peer=$2 ifn=$3 filter=${4:-ip}
	tsh "$pcap" -o ip.defragment:FALSE -o ip.check_checksum:TRUE -Y "$filter" -T fields -E separator=' ' \
		-E occurrence=f -e eth.src -e ip.version -e ip.hdr_len -e ip.dsfield -e ip.len -e ip.id \
		-e ip.flags.rb -e ip.flags.df -e ip.flags.mf -e ip.frag_offset -e ip.ttl -e ip.proto \
		-e ip.checksum -e ip.checksum.status -e ip.src -e ip.dst >"$pcap.fields" || return 1
	# tshark writes hex as 0x..., flags as 1/0 or True/False (by version),
	# the offset in units of 8 bytes.  The reserved bit has no place in
	# ipv4_flags: set, it shows as 8.
	awk -v peer="$peer" -v ifn="$ifn" '
	function num(s,   i, v, c) {
		if (s !~ /^0x/) return s + 0
		for (i = 3; i <= length(s); i++) {
			c = index("0123456789abcdef", tolower(substr(s, i, 1)))
			if (c == 0) return "?" s
			v = v * 16 + c - 1
		}
		return v
	}
	function b(s) { return s == "1" || s == "True" ? 1 : s == "0" || s == "False" ? 0 : "?" s }
	function pstr(p) { return p == 1 ? "ICMP" : p == 6 ? "TCP" : p == 17 ? "UDP" : p }
	{
		name = $1 == peer ? "receive" : "send"
		print name, ifn, $2, $3, num($4), $5, num($6), 8 * b($7) + 4 * b($8) + 2 * b($9), $10 * 8, $11,
			$12, pstr($12), $14 == 1 ? num($13) : "bad-" $13, $15, $16, $15, $16, $5 - $3
	}' "$pcap.fields"
}

# ipv4_compare WHAT WANT GOT [FILLS]: compares such lists, WANT from the
# wire and GOT from the probes, which must be equal and not empty; prints
# the differences.  FILLS 1: the port fills the header checksum of what
# sonded leaves to it (net_tap offers RTE_ETH_TX_OFFLOAD_IPV4_CKSUM): such
# a packet has checksum 0 at send (README), so a send's 0 stands for the
# wire's checksum (right, as every checksum on the wire must be).  Sets
# IPV4_LEFT to the number of sends with checksum 0 taken so.
ipv4_compare()
{
	local what=$1 want=$2 got=$3 fills=${4:-0} n
	n=$(wc -l <"$want")
	[ "$n" -gt 0 ] || fail "$what: no packet on the wire to compare"
	awk -v fills="$fills" -v left="$got.left" 'NR == FNR { w[FNR] = $13; next }
		fills == 1 && $1 == "send" && $13 == "0" && w[FNR] ~ /^[0-9]+$/ { $13 = w[FNR]; k++ }
		{ print } END { print k + 0 >left }' "$want" "$got" >"$got.cmp"
	# shellcheck disable=SC2034 # used by the test scripts
	IPV4_LEFT=$(cat "$got.left")
	diff -u "$want" "$got.cmp" >"$got.diff" || {
		head -60 "$got.diff" >&2
		fail "$what: the probes' IPv4 headers differ from the wire's (- wire, + probes$([ "$fills" = 1 ] &&
			echo "; a send's checksum 0 taken as the wire's"))"
	}
	ok "$what: ipv4info_t = the wire's header for all $n packets, in order (ident flags offset tos checksum ttl length protocol addresses)"
}
