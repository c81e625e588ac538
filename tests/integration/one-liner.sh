#!/bin/bash
#
# one-liner: the "who is sending IP packets to us?" one-liner of
# docs/probes.md and README.md, run as documented, counts the Linux peer's
# 10 pings by source address.
#
#   tests/integration/one-liner.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

N=10
ME=10.98.0.2
PEER=10.98.0.1

netns_new NS
tap_new TAP
sonded_start "$TAP" --addr dpdk0=$ME/24
tap_to_ns "$TAP" "$NS" $PEER/24

# Verbatim but for the binary's path (bpf_start adds -I BUILD/include).
PROG="#include <sonde/ip_provider.h>
usdt:$SONDED:ip:receive { @[((struct ipinfo_t *)arg2)->ip_saddr] = count(); }"
say "bpftrace -I $BUILD/include -e '$PROG'"
bpf_start BT "$IT_DIR/oneliner.out" -e "$PROG"

in_ns "$NS" timeout --foreground -k 2 30 ping -n -c $N -i 0.2 -W 2 $ME >"$IT_DIR/ping.out" 2>&1 ||
	fail "ping failed: $(tail -2 "$IT_DIR/ping.out")"
ok "$N pings answered"
# No wait: the map is updated in the kernel as the probe fires, and every
# ping was answered, so each request's receive had fired.
bpf_stop "$BT"
say "bpftrace printed:"
sed 's/^/    /' "$IT_DIR/oneliner.out"
MAP=$(grep '^@' "$IT_DIR/oneliner.out")
expect_eq "the one-liner's map" "$MAP" "@[$PEER]: $N"

sonded_stop
expect_counter ipv4.in $N
