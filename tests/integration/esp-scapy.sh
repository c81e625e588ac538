#!/bin/bash
#
# esp-scapy: sonded's ESP tunnel (ESP in UDP 4500, AES-GCM) against scapy's
# ESP (esp-scapy.py), and the seed's ESP trace.
#
# 1. The seed: ipio03.bt attached, scapy sends a TCP SYN in ESP to sonded's
#    HTTP port through ip.esp; sonded's SYN-ACK comes back in ESP and scapy
#    decrypts it with the same SA.  The probes have the seed's shape: the
#    outer receive and read on dpdk0 with the ESP-in-UDP length, the inner
#    receive and read on ip.esp; outbound write and send on ip.esp for the
#    inner packet, then write on dpdk0 with the inner packet as payload
#    (the seed's 88) and send on dpdk0 with what ESP in UDP made of it (the
#    seed's 140: here UDP 8, ESP 8, IV 8, the inner packet padded to 4 with
#    its 2 trailer bytes, ICV 16).  tcpdump on the Linux side sees only the
#    outer UDP packets, sonded's own capture of ip.esp only inner ones, and
#    every packet of each capture has its probe lines, in order.
# 2. Echoes, each answer decrypted by scapy and its ESP headers checked;
#    a replayed packet, a wrong key, a changed byte, an unknown SPI, a
#    truncated one, the non-ESP marker and plain IPIP to the ESP tunnel:
#    each a counted drop with its reason, each followed by an echo still
#    answered; a NAT keepalive taken; a router's fragmentation needed
#    about an ESP packet lowers the tunnel's MTU (RFC 4301 8.2.1): the
#    next big answer leaves in inner fragments that fit.
#
#   tests/integration/esp-scapy.sh BUILD_DIR
. "$(dirname "$0")/lib.sh"

ME=10.97.0.2
PEER=10.97.0.1
T=192.168.30
"$IT_PY" -c 'import scapy.layers.ipsec, cryptography' 2>/dev/null ||
	skip "needs python3-scapy with python3-cryptography"

# The SAs (esp-scapy.py has the same keys): in a file, as a user keeps them.
SA="$IT_DIR/sa.conf"
cat >"$SA" <<'EOF'
# ip.esp's SAs: ours out, the peer's in (ip xfrm's words)
out spi 0x1001 aead rfc4106(gcm(aes)) 0xf0e1d2c3b4a5968778695a4b3c2d1e0f0a0b0c0d 128
in spi 0x2002 aead rfc4106(gcm(aes)) 0x000102030405060708090a0b0c0d0e0f10111213 128 replay-window 32
keepalive off
EOF
chmod 600 "$SA"

netns_new NS
tap_new TAP
sonded_start "$TAP" --service tcp:8080=http --addr dpdk0=$ME/24 \
	--tunnel ip.esp,mode=ipip,local=$ME,remote=$PEER,esp="$SA" --addr ip.esp=$T.2/30 \
	--pcap ip.esp="$IT_DIR/esp.pcap"
tap_to_ns "$TAP" "$NS" $PEER/24

# --- 1. the seed's ESP trace -------------------------------------------------
bpf_start BT "$IT_DIR/ipio03.out" "$SONDE_SRC/probes/ipio03.bt" "$SONDED"
cap_start CAP "$NS" "$TAP" "$IT_DIR/linux.pcap" udp port 4500
scapy_peer_run "$NS" esp-scapy.py seed 60 "scapy's SYN through ip.esp"
wait_file_lines "$IT_DIR/ipio03.out" 12 10 '^ *(receive|read|write|send) +[0-9.]+ '
cap_wait "$IT_DIR/linux.pcap" 3 10 udp port 4500
cap_stop "$CAP"
bpf_stop "$BT"
say "ipio03.bt printed:"
sed 's/^/    /' "$IT_DIR/ipio03.out"

awk '$1 ~ /^(receive|read|write|send)$/ && $2 !~ /:/ { print $1, $2, $4, $5, $6 }' "$IT_DIR/ipio03.out" >"$IT_DIR/ipio03.got"
# What the wire had: scapy's SYN and RST in ESP (their lengths are
# scapy's), sonded's SYN-ACK in ESP.
tsh "$IT_DIR/linux.pcap" -T fields -e ip.src -e ip.len -E separator=' ' -E occurrence=f >"$IT_DIR/wire.txt"
E_SYN=$(awk -v p=$PEER '$1 == p { print $2 - 20; exit }' "$IT_DIR/wire.txt")
E_RST=$(awk -v p=$PEER '$1 == p { n++; if (n == 2) { print $2 - 20; exit } }' "$IT_DIR/wire.txt")
E_SA=$(awk -v me=$ME '$1 == me { print $2 - 20; exit }' "$IT_DIR/wire.txt")
SA_IN=$(awk '$1 == "write" && $5 == "ip.esp" { print $4; exit }' "$IT_DIR/ipio03.got")
[ -n "$E_SYN" ] && [ -n "$E_RST" ] && [ -n "$E_SA" ] && [ -n "$SA_IN" ] ||
	fail "the trace or the capture lacks a packet (SYN $E_SYN, RST $E_RST, SYN-ACK $E_SA, inner $SA_IN)"
# The inner SYN-ACK as the outer write's payload, and ESP in UDP around it.
INNER=$((SA_IN + 20))
expect_eq "sonded's ESP-in-UDP payload for its $INNER-byte inner packet" "$E_SA" \
	$((8 + 8 + 8 + (INNER + 2 + 3) / 4 * 4 + 16))
cat >"$IT_DIR/ipio03.want" <<EOF
receive $PEER $ME $E_SYN dpdk0
read $PEER $ME $E_SYN dpdk0
receive $T.1 $T.2 24 ip.esp
read $T.1 $T.2 24 ip.esp
write $T.2 $T.1 $SA_IN ip.esp
send $T.2 $T.1 $SA_IN ip.esp
write $ME $PEER $INNER dpdk0
send $ME $PEER $E_SA dpdk0
receive $PEER $ME $E_RST dpdk0
read $PEER $ME $E_RST dpdk0
receive $T.1 $T.2 20 ip.esp
read $T.1 $T.2 20 ip.esp
EOF
diff -u "$IT_DIR/ipio03.want" "$IT_DIR/ipio03.got" || fail "ipio03.bt through ip.esp is not the seed's shape"
ok "ipio03.bt: the seed's ESP shape, write $INNER (the inner packet) and send $E_SA (in ESP and UDP) on dpdk0"

# The witnesses, as tunnel-scapy's: outer on the wire, inner in sonded's
# capture, each with its interface's probe lines in order.
awk -v me=$ME '{ print ($1 == me ? "send" : "receive"), $1, ($1 == me ? "'$PEER'" : me), $2 - 20, "dpdk0" }' \
	"$IT_DIR/wire.txt" >"$IT_DIR/outer.cap"
awk '$5 == "dpdk0" && ($1 == "send" || $1 == "receive")' "$IT_DIR/ipio03.got" >"$IT_DIR/outer.probe"
diff -u "$IT_DIR/outer.probe" "$IT_DIR/outer.cap" || fail "tcpdump's outer packets and the dpdk0 probe lines differ"

# --- 2. echoes and the hostile packets -----------------------------------------
scapy_peer_run "$NS" esp-scapy.py cases 120 "scapy's checks (FAIL lines above)"
expect_ge "checks scapy passed" "$(grep -c '^ok ' "$IT_DIR/cases.txt")" 19

sonded_stop
tun_capture_agrees "$IT_DIR/esp.pcap" ip.esp $T.2 3 "$IT_DIR/ipio03.got"
expect_eq "inner packets in sonded's ip.esp capture, all TCP" "$(awk '$4 == 6' "$IT_DIR/inner.raw" | wc -l)" 3
ok "captures and probes agree: ESP on the wire (tcpdump), the inner packets on ip.esp (sonded --pcap)"
expect_counter drop.in.esp-replay 1
expect_counter drop.in.esp-auth-failed 2
expect_counter drop.in.esp-no-sa 1
expect_counter drop.in.esp-truncated 1
expect_counter drop.in.esp-not-esp 1
expect_counter drop.in.esp-required 1
expect_counter esp.keepalive_in 1
expect_counter tunnel.pmtu_updates 1
expect_counter_ge esp.out 12
