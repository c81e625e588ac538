#!/bin/bash
#
# example: apps/sonde-echo.c, the embedding example, built the way a user
# of an installed libsonde builds it (meson install into a staging
# directory, then cc with `pkg-config --cflags --libs sonde`, nothing of
# the build tree), then run on a tap with Linux talking to it over both
# families: TCP (nc, 1 MiB each way) and UDP (a datagram each) come back
# byte for byte, and it stops on SIGINT with exit status 0.
#
#   tests/integration/example.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

for _t in cc pkg-config meson nc; do
	command -v $_t >/dev/null || skip "needs $_t"
done
ME=10.96.0.2
PEER=10.96.0.1
ME6=fd96::2
PEER6=fd96::1

STAGE=$IT_DIR/stage
meson install -C "$BUILD" --no-rebuild --quiet --destdir "$STAGE" >"$IT_DIR/install.out" 2>&1 ||
	fail "meson install --destdir: $(tail -5 "$IT_DIR/install.out")"
PC=$(find "$STAGE" -name sonde.pc | head -1)
[ -n "$PC" ] || fail "no sonde.pc under $STAGE"
# The .pc names the final prefix; staged, the files are under $STAGE.  A
# copy says so (pkg-config --define-variable=prefix would move libdpdk's
# too).
mkdir -p "$IT_DIR/pc"
sed "s|^prefix=|prefix=$STAGE|" "$PC" >"$IT_DIR/pc/sonde.pc"
PKG=(env PKG_CONFIG_PATH="$IT_DIR/pc" pkg-config)
FLAGS=$("${PKG[@]}" --cflags --libs sonde) || fail "pkg-config --cflags --libs sonde"
say "pkg-config --cflags --libs sonde: $FLAGS"
LIBDIR=$("${PKG[@]}" --variable=libdir sonde)
# A library built with sanitizers (test-all's build-asan) needs their
# runtime in the program too, first: as any user of such a build would.
SAN=$(meson introspect "$BUILD" --buildoptions |
	"$IT_PY" -c 'import json, sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "b_sanitize"][0])')
[ "$SAN" = none ] || FLAGS="-fsanitize=$SAN $FLAGS"
# shellcheck disable=SC2086 # FLAGS are words
cc -O2 -Wall -Werror "$SONDE_SRC/apps/sonde-echo.c" $FLAGS -Wl,-rpath,"$LIBDIR" \
	-o "$IT_DIR/sonde-echo" >"$IT_DIR/cc.out" 2>&1 || {
	cat "$IT_DIR/cc.out" >&2
	fail "cc sonde-echo.c against the installed libsonde"
}
ok "sonde-echo built against the installed libsonde ($("${PKG[@]}" --modversion sonde))"
if ldd "$IT_DIR/sonde-echo" | grep -q "$BUILD"; then
	fail "sonde-echo links a library of the build tree"
fi

netns_new6 NS
sonded_netns
tap_new TAP
SONDED=$IT_DIR/sonde-echo sonded_start "$TAP" 7 $ME/24 $ME6/64
tap_to_ns6 "$TAP" "$NS" $PEER6/64 $PEER/24

head -c 1048576 /dev/urandom >"$IT_DIR/random"
for a in $ME $ME6; do
	in_ns "$NS" timeout --foreground -k 2 30 nc -N $a 7 <"$IT_DIR/random" >"$IT_DIR/tcp.out" ||
		fail "nc to $a port 7"
	cmp -s "$IT_DIR/random" "$IT_DIR/tcp.out" || fail "TCP echo from $a: not what was sent"
	ok "TCP echo from $a: 1 MiB back, byte for byte"
	in_ns "$NS" timeout --foreground -k 2 30 "$IT_PY" -c 'import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(b"sonde-echo over UDP", (sys.argv[1], 7))
d, src = s.recvfrom(100)
sys.exit(d != b"sonde-echo over UDP" or src[1] != 7)' $a || fail "UDP echo from $a"
	ok "UDP echo from $a"
done
proc_stop "$SONDED_PID" sonde-echo 15
expect_eq "sonde-echo's exit status after SIGINT" "$PROC_RC" 0
