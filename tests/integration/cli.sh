#!/bin/bash
#
# cli: sonded's command line.  --help and --version (-h too, and after
# "--") are answered before EAL starts: status 0 at once, not a line from
# EAL, no DPDK runtime directory for the --file-prefix given, as root and
# as nobody.  --help names every long option of sonded.c and the EAL
# arguments a first run needs, with an example.  When EAL fails, sonded
# ends with status 2 and a line "sonded: ..." saying what to try: a bogus
# EAL argument; no hugepages without --no-huge (on a machine that has
# none); a --file-prefix a running sonded holds.  A --fault SPEC with a
# bad delay is status 2 and a line naming it.  And `--route default via
# GW` takes GW's family: sonded with default routes via Linux's fd00::1 and
# 10.99.0.1 starts, and answers pings from fd09::9 and 10.9.9.9 (on
# Linux's lo, beyond the gateway), which it could not route otherwise.
# With --fault dpdk0=tx:delay=50ms every ping is answered, none in less
# than 50 ms: the fault injector on a DPDK port, its timer letting the
# replies out.
#
#   tests/integration/cli.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

N=5
ME4=10.99.0.2
ME6=fd00::2
GW4=10.99.0.1
GW6=fd00::1
FAR4=10.9.9.9
FAR6=fd09::9

# run_cli NAME [sonded args...]: runs sonded (at most 10 s), its stdout in
# NAME.out and stderr in NAME.err; sets RC and MS (elapsed milliseconds).
run_cli()
{
	local name=$1 t0
	shift
	t0=$(date +%s%N)
	timeout --foreground -k 2 10 "$@" >"$IT_DIR/$name.out" 2>"$IT_DIR/$name.err"
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
}

# no_eal NAME PREFIX: NAME's run left no sign of EAL: no line of its log
# ("EAL: ...", "TELEMETRY: ..."), nothing on stderr, no runtime directory
# for PREFIX (/var/run/dpdk for root, /tmp/dpdk for a user without
# XDG_RUNTIME_DIR).
no_eal()
{
	if grep -qE '^(EAL|TELEMETRY):' "$IT_DIR/$1.out" "$IT_DIR/$1.err"; then
		cat "$IT_DIR/$1.out" "$IT_DIR/$1.err" >&2
		fail "$1: EAL spoke"
	fi
	[ ! -s "$IT_DIR/$1.err" ] || {
		cat "$IT_DIR/$1.err" >&2
		fail "$1: something on stderr"
	}
	for d in "/var/run/dpdk/$2" "/tmp/dpdk/$2"; do
		[ ! -e "$d" ] || fail "$1: EAL made its runtime directory $d"
	done
}

# --- --help and --version, before EAL ----------------------------------------

uniq_name P sondeh
IT_PREFIXES+=("$P")
EAL=(--no-huge -m 256 --no-pci --file-prefix="$P" -l 0)
run_cli help "$SONDED" --help "${EAL[@]}" -- --addr dpdk0=$ME4/24
expect_eq "sonded --help: exit status" "$RC" 0
no_eal help "$P"
say "sonded --help answered in $MS ms"
[ "$MS" -lt 3000 ] || fail "sonded --help took $MS ms"
# Every long option sonded.c takes, and the EAL arguments a first run needs.
OPTS=$(sed -n '/static const struct option lo\[\]/,/^\t};/p' "$SONDE_SRC/apps/sonded.c" |
	sed -n 's/^[^"]*{ "\([a-z-]*\)".*/--\1/p')
[ "$(echo "$OPTS" | wc -w)" -ge 9 ] || fail "only '$OPTS' read from sonded.c's options"
for o in $OPTS --help --version -l --vdev=net_tap0,iface= --no-huge '-m MB' --no-pci \
	--file-prefix= --log-level 'sonded --no-huge'; do
	grep -qe "$o" "$IT_DIR/help.out" || fail "sonded --help does not mention $o"
done
ok "sonded --help: exit 0 in $MS ms, EAL silent, no runtime directory, every option of sonded.c (${OPTS//$'\n'/ }) and EAL's -l --vdev --no-huge -m --no-pci --file-prefix --log-level, an example"

for args in "-h" "${EAL[*]} -- --addr dpdk0=$ME4/24 --help" "${EAL[*]} -h"; do
	# shellcheck disable=SC2086 # the words of args are the arguments
	run_cli help2 "$SONDED" $args
	expect_eq "sonded $args: exit status" "$RC" 0
	no_eal help2 "$P"
	cmp -s "$IT_DIR/help.out" "$IT_DIR/help2.out" || fail "sonded $args: not the help of --help"
done

run_cli version "$SONDED" "${EAL[@]}" -- --version
expect_eq "sonded --version: exit status" "$RC" 0
no_eal version "$P"
WANT=$(sed -n "s/^[[:space:]]*version: '\([^']*\)'.*/\1/p" "$SONDE_SRC/meson.build" | head -1)
expect_eq "sonded --version, line 1" "$(sed -n 1p "$IT_DIR/version.out")" "sonded $WANT"
grep -q '^DPDK [0-9][0-9]*\.[0-9]' "$IT_DIR/version.out" || fail "sonded --version gives no DPDK version"
ok "sonded --version: $(tr '\n' ' ' <"$IT_DIR/version.out")"

# As nobody, who can have neither hugepages nor /var/run: a copy it can run.
if command -v setpriv >/dev/null; then
	NOBODY_DIR=$(mktemp -d /tmp/sonde-cli.XXXXXX) || fail "mktemp"
	IT_PATHS+=("$NOBODY_DIR")
	chmod 755 "$NOBODY_DIR"
	cp "$SONDED" "$NOBODY_DIR/sonded"
	for a in --help --version; do
		run_cli nobody setpriv --reuid=65534 --regid=65534 --clear-groups \
			env -i PATH=/usr/bin:/bin "$NOBODY_DIR/sonded" "${EAL[@]}" -- "$a"
		expect_eq "sonded $a as nobody: exit status" "$RC" 0
		no_eal nobody "$P"
	done
else
	say "no setpriv: not run as nobody"
fi

# --- EAL failures: status 2 and one "sonded:" line saying what to try ---------

# eal_fails NAME WANT: NAME's run ended with status 2 and a line starting
# "sonded: EAL" that mentions WANT.
eal_fails()
{
	local line
	line=$(grep '^sonded: EAL' "$IT_DIR/$1.err")
	if [ "$RC" != 2 ] || [ "$(echo "$line" | grep -c .)" != 1 ] ||
		! echo "$line" | grep -qe "$2"; then
		cat "$IT_DIR/$1.err" >&2
		fail "$1: status $RC, want 2 and one 'sonded: EAL' line mentioning $2"
	fi
	ok "$1: status 2, $line"
}

uniq_name P2 sondeb
IT_PREFIXES+=("$P2")
run_cli bogus "$SONDED" --no-huge -m 256 --no-pci --file-prefix="$P2" -l 0 --bogus-eal-arg \
	-- --addr dpdk0=$ME4/24
eal_fails bogus 'EAL argument'

if [ "$(awk '/^HugePages_Total:/ { print $2 }' /proc/meminfo)" = 0 ]; then
	uniq_name P3 sondeg
	IT_PREFIXES+=("$P3")
	run_cli nohuge "$SONDED" --no-pci --file-prefix="$P3" -l 0 -- --addr dpdk0=$ME4/24
	eal_fails nohuge '--no-huge -m'
else
	say "this machine has hugepages: sonded without --no-huge is not a failure here"
fi

# --- --fault: a bad SPEC is status 2 and a line naming what is wrong ---------

uniq_name P4 sondef
IT_PREFIXES+=("$P4")
run_cli fault "$SONDED" --no-huge -m 256 --no-pci --file-prefix="$P4" -l 0 \
	-- --addr dpdk0=$ME4/24 --fault dpdk0=tx:loss=3%,delay=10parsecs
line=$(grep "^sonded: bad --fault 'dpdk0=tx:loss=3%,delay=10parsecs': delay: " \
	"$IT_DIR/fault.err")
if [ "$RC" != 2 ] || [ -z "$line" ]; then
	cat "$IT_DIR/fault.err" >&2
	fail "--fault with a bad delay: status $RC, want 2 and a line naming the delay"
fi
ok "--fault with a bad delay: status 2, $line"

# --- --route default via an IPv6 and an IPv4 gateway ---------------------------

netns_new6 NS
sonded_netns
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME4/24 --addr dpdk0=$ME6/64 \
	--route default via $GW6 --route default via $GW4
tap_to_ns6 "$TAP" "$NS" $GW6/64 $GW4/24
ip -n "$NS" addr add $FAR4/32 dev lo || fail "$FAR4 on lo"
ip -n "$NS" -6 addr add $FAR6/128 dev lo nodad || fail "$FAR6 on lo"
ok "sonded took --route default via $GW6 and --route default via $GW4"

# A second sonded with the first one's --file-prefix.
run_cli clash "$SONDED" --no-huge -m 256 --no-pci --file-prefix="$SONDED_PREFIX" -l 0 \
	-- --addr dpdk0=$ME4/24
eal_fails clash "--file-prefix=NAME"
proc_alive "$SONDED_PID" || fail "the first sonded died of the second's attempt"

for f in "-4 $FAR4 $ME4" "-6 $FAR6 $ME6"; do
	read -r fam src dst <<<"$f"
	say "Linux: ping $fam -I $src $dst"
	in_ns "$NS" timeout --foreground -k 2 20 ping "$fam" -n -i 0.2 -W 2 -c $N -I "$src" "$dst" \
		>"$IT_DIR/ping$fam.out" 2>&1
	grep -q "$N packets transmitted, $N received," "$IT_DIR/ping$fam.out" || {
		cat "$IT_DIR/ping$fam.out" >&2
		fail "ping $fam from $src: not every ping was answered"
	}
	ok "all $N pings from $src (beyond the gateway) answered"
done

sonded_stop
expect_counter icmp.echo_replies $N
expect_counter icmp6.echo_replies $N
expect_counter drop.out.no-route 0

# --- --fault on a port: replies held 50 ms, let out by the injector's timer ---

netns_new NS2
tap_new TAP2
sonded_start "$TAP2" --addr dpdk0=$ME4/24 --fault dpdk0=tx:delay=50ms
tap_to_ns "$TAP2" "$NS2" $GW4/24
say "Linux: ping $ME4 through sonded's --fault dpdk0=tx:delay=50ms"
in_ns "$NS2" timeout --foreground -k 2 20 ping -4 -n -i 0.2 -W 2 -c $N "$ME4" \
	>"$IT_DIR/ping-fault.out" 2>&1
grep -q "$N packets transmitted, $N received," "$IT_DIR/ping-fault.out" || {
	cat "$IT_DIR/ping-fault.out" >&2
	fail "ping through a 50 ms delay: not every ping was answered"
}
min=$(sed -n 's|^rtt min/avg/max/mdev = \([0-9]*\)\..*|\1|p' "$IT_DIR/ping-fault.out")
expect_ge "ping through a 50 ms delay: the shortest round trip, ms" "$min" 50
sonded_stop
expect_counter icmp.echo_replies $N
expect_counter_ge if.dpdk0.fault.tx_delayed $N
