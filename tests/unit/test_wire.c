/*
 * test_wire.c: stack/wire/wire.c on real packets (packets.h, made with scapy and
 * checked with tshark): Ethernet, ARP, IPv4, ICMP and UDP parsed field by
 * field and emitted back byte for byte; every truncation of every header
 * rejected with its drop reason; bad version, IHL, total length and
 * checksums; wire_cksum() against RFC 1071's example and an independent sum,
 * wire_cksum_adjust() against RFC 1624's example and full recomputation on
 * random headers; a real UDP datagram's checksum verifies.  No EAL: wire.c
 * is pure.
 */
#include <stdlib.h>
#include <string.h>

#include "packets.h"
#include "unit.h"

#define IP_OFF ETH_HDR_LEN

/* Parsers return 0 to accept and a drop reason to reject, so no reason
 * may be 0: a rejection would pass for an acceptance. */
static void
rejected(int got, enum drop_reason why)
{
	assert_int_not_equal(why, 0);
	assert_int_equal(got, why);
}

static void
parsed(int got)
{
	assert_int_equal(got, 0);
}

/* want: 0 to accept, else the reason. */
static void
expect(int got, int want)
{
	if (want)
		rejected(got, (enum drop_reason)want);
	else
		parsed(got);
}

/* --- Ethernet --- */

static void
test_eth_roundtrip(void **state)
{
	struct eth_hdr_view v;
	uint8_t out[ETH_HDR_LEN];

	(void)state;
	parsed(wire_eth_parse(pkt_echo_req, sizeof(pkt_echo_req), &v));
	assert_memory_equal(v.dst, MAC_US0, 6);
	assert_memory_equal(v.src, MAC_A, 6);
	assert_int_equal(v.type, ETHERTYPE_IPV4);
	memset(out, 0xee, sizeof(out));
	wire_eth_emit(out, &v);
	assert_memory_equal(out, pkt_echo_req, ETH_HDR_LEN);

	parsed(wire_eth_parse(pkt_arp_req, sizeof(pkt_arp_req), &v));
	assert_memory_equal(v.dst, MAC_BCAST, 6);
	assert_memory_equal(v.src, MAC_A, 6);
	assert_int_equal(v.type, ETHERTYPE_ARP);
	memset(out, 0xee, sizeof(out));
	wire_eth_emit(out, &v);
	assert_memory_equal(out, pkt_arp_req, ETH_HDR_LEN);
}

static void
test_eth_truncated(void **state)
{
	struct eth_hdr_view v;

	(void)state;
	for (size_t len = 0; len < ETH_HDR_LEN; len++)
		rejected(wire_eth_parse(pkt_echo_req, len, &v), DROP_ETH_TRUNCATED);
	parsed(wire_eth_parse(pkt_echo_req, ETH_HDR_LEN, &v));
}

/* --- ARP --- */

static void
test_arp_roundtrip(void **state)
{
	struct arp_view v;
	uint8_t out[ARP_PKT_LEN];
	uint32_t a2 = ip4("10.0.0.2"), a1 = ip4("10.0.0.1");

	(void)state;
	parsed(wire_arp_parse(pkt_arp_req + ETH_HDR_LEN, ARP_PKT_LEN, &v));
	assert_int_equal(v.op, ARP_OP_REQUEST);
	assert_memory_equal(v.sha, MAC_A, 6);
	assert_int_equal(v.spa, a2);
	assert_memory_equal(v.tha, MAC_ZERO, 6);
	assert_int_equal(v.tpa, a1);
	memset(out, 0xee, sizeof(out));
	wire_arp_emit(out, &v);
	assert_memory_equal(out, pkt_arp_req + ETH_HDR_LEN, ARP_PKT_LEN);

	parsed(wire_arp_parse(pkt_arp_reply + ETH_HDR_LEN, ARP_PKT_LEN, &v));
	assert_int_equal(v.op, ARP_OP_REPLY);
	assert_memory_equal(v.sha, MAC_A, 6);
	assert_int_equal(v.spa, a2);
	assert_memory_equal(v.tha, MAC_US0, 6);
	assert_int_equal(v.tpa, a1);
	memset(out, 0xee, sizeof(out));
	wire_arp_emit(out, &v);
	assert_memory_equal(out, pkt_arp_reply + ETH_HDR_LEN, ARP_PKT_LEN);
}

static void
test_arp_truncated(void **state)
{
	struct arp_view v;

	(void)state;
	for (size_t len = 0; len < ARP_PKT_LEN; len++)
		rejected(wire_arp_parse(pkt_arp_req + ETH_HDR_LEN, len, &v), DROP_ARP_MALFORMED);
	parsed(wire_arp_parse(pkt_arp_req + ETH_HDR_LEN, ARP_PKT_LEN, &v));
}

/* RFC 826 fields other than Ethernet/IPv4 and request/reply are refused. */
static void
test_arp_malformed(void **state)
{
	static const struct {
		size_t off;
		uint8_t val;
	} bad[] = {
		{ 1, 6 },    /* hardware type 6 (IEEE 802) */
		{ 0, 1 },    /* hardware type 0x0101 */
		{ 2, 0x86 }, /* protocol type 0x8600 */
		{ 3, 0xdd }, /* protocol type 0x08dd */
		{ 4, 8 },    /* hardware length 8 */
		{ 5, 16 },   /* protocol length 16 */
		{ 7, 0 },    /* op 0 */
		{ 7, 3 },    /* op 3 (RARP request) */
		{ 6, 1 },    /* op 0x0101 */
	};
	uint8_t p[ARP_PKT_LEN];
	struct arp_view v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(p, pkt_arp_req + ETH_HDR_LEN, ARP_PKT_LEN);
		p[bad[i].off] = bad[i].val;
		rejected(wire_arp_parse(p, ARP_PKT_LEN, &v), DROP_ARP_MALFORMED);
	}
}

/* --- IPv4 --- */

static void
test_ipv4_roundtrip(void **state)
{
	const uint8_t *ip = pkt_echo_req + IP_OFF;
	struct ipv4_view v;
	uint8_t out[IPV4_MIN_HDR_LEN];

	(void)state;
	parsed(wire_ipv4_parse(ip, sizeof(pkt_echo_req) - IP_OFF, 0, &v));
	assert_int_equal(v.ihl, 20);
	assert_int_equal(v.tos, 0);
	assert_int_equal(v.total_len, 84);
	assert_int_equal(v.ident, 0x04d2);
	assert_int_equal(v.frag, IPV4_FLAG_DF);
	assert_int_equal(v.ttl, 64);
	assert_int_equal(v.proto, IPPROTO_ICMP_);
	assert_int_equal(v.cksum, 0x21d5); /* tshark: ip.checksum 0x21d5 [good] */
	assert_int_equal(v.src, ip4("10.0.0.2"));
	assert_int_equal(v.dst, ip4("10.0.0.1"));
	memset(out, 0xee, sizeof(out));
	wire_ipv4_emit(out, &v, 0);
	assert_memory_equal(out, ip, IPV4_MIN_HDR_LEN);
	/* no_csum leaves the field zero for the NIC. */
	wire_ipv4_emit(out, &v, 1);
	assert_int_equal(wire_get16(out + 10), 0);
	assert_memory_equal(out + 12, ip + 12, 8);

	ip = pkt_udp + IP_OFF;
	parsed(wire_ipv4_parse(ip, sizeof(pkt_udp) - IP_OFF, 0, &v));
	assert_int_equal(v.total_len, 40);
	assert_int_equal(v.ident, 0x2222);
	assert_int_equal(v.frag, 0);
	assert_int_equal(v.proto, IPPROTO_UDP_);
	assert_int_equal(v.cksum, 0x44a1);
	wire_ipv4_emit(out, &v, 0);
	assert_memory_equal(out, ip, IPV4_MIN_HDR_LEN);
}

/* A header with a Router Alert option: IHL 24, parsed; emit writes none. */
static void
test_ipv4_options(void **state)
{
	const uint8_t *ip = pkt_echo_opt + IP_OFF;
	struct ipv4_view v;

	(void)state;
	parsed(wire_ipv4_parse(ip, sizeof(pkt_echo_opt) - IP_OFF, 0, &v));
	assert_int_equal(v.ihl, 24);
	assert_int_equal(v.total_len, 50);
	assert_int_equal(v.ident, 0x0101);
	assert_int_equal(v.proto, IPPROTO_ICMP_);
	assert_int_equal(v.cksum, 0xd0c3);
	assert_int_equal(v.src, ip4("10.0.0.2"));
	assert_int_equal(v.dst, ip4("10.0.0.1"));
}

/* Truncated: the header's bytes are not all there (fewer than 20, or fewer
 * than IHL says).  Bad length: the header is, but the total length runs
 * past the bytes present. */
static void
test_ipv4_truncated(void **state)
{
	struct ipv4_view v;
	const uint8_t *ip = pkt_echo_req + IP_OFF;
	size_t tot = sizeof(pkt_echo_req) - IP_OFF;

	(void)state;
	for (size_t len = 0; len < tot; len++)
		rejected(wire_ipv4_parse(ip, len, 0, &v),
			 len < IPV4_MIN_HDR_LEN ? DROP_TRUNCATED : DROP_BAD_LENGTH);
	parsed(wire_ipv4_parse(ip, tot, 0, &v));

	ip = pkt_echo_opt + IP_OFF;
	tot = sizeof(pkt_echo_opt) - IP_OFF;
	for (size_t len = 0; len < tot; len++)
		rejected(wire_ipv4_parse(ip, len, 0, &v),
			 len < 24 ? DROP_TRUNCATED : DROP_BAD_LENGTH);
	parsed(wire_ipv4_parse(ip, tot, 0, &v));
	/* Bytes past the total length (Ethernet padding) are fine. */
	parsed(wire_ipv4_parse(pkt_udp + IP_OFF, sizeof(pkt_udp) - IP_OFF + 6, 0, &v));
	assert_int_equal(v.total_len, 40);
}

static void
fix_ip_cksum(uint8_t *ip, unsigned ihl)
{
	uint16_t c;

	ip[10] = ip[11] = 0;
	c = ref_cksum(ip, ihl);
	wire_put16(ip + 10, c);
}

static void
test_ipv4_bad_version(void **state)
{
	uint8_t ip[sizeof(pkt_udp) - IP_OFF];
	struct ipv4_view v;

	(void)state;
	for (unsigned ver = 0; ver < 16; ver++) {
		memcpy(ip, pkt_udp + IP_OFF, sizeof(ip));
		ip[0] = (uint8_t)(ver << 4 | 5);
		fix_ip_cksum(ip, 20);
		expect(wire_ipv4_parse(ip, sizeof(ip), 0, &v), ver == 4 ? 0 : DROP_BAD_VERSION);
	}
}

/* IHL below 5 is bad; above the bytes present (up to 15 = 60 bytes) the
 * header is cut short; in between, the total length must still cover it. */
static void
test_ipv4_bad_ihl(void **state)
{
	uint8_t ip[sizeof(pkt_udp) - IP_OFF]; /* 40 bytes */
	struct ipv4_view v;

	(void)state;
	for (unsigned ihl = 0; ihl < 16; ihl++) {
		int want;

		memcpy(ip, pkt_udp + IP_OFF, sizeof(ip));
		ip[0] = (uint8_t)(0x40 | ihl);
		if (ihl < 5)
			want = DROP_BAD_IHL;
		else if (ihl * 4 > sizeof(ip))
			want = DROP_TRUNCATED;
		else
			want = DROP_BAD_CHECKSUM; /* checksum over a different span */
		/* Checksum still over the 20-byte original: ihl 5 passes. */
		if (ihl == 5)
			want = 0;
		expect(wire_ipv4_parse(ip, sizeof(ip), 0, &v), want);
		/* A valid checksum over the claimed header makes 5..10 parse. */
		if (ihl >= 5 && ihl * 4 <= sizeof(ip)) {
			fix_ip_cksum(ip, ihl * 4);
			parsed(wire_ipv4_parse(ip, sizeof(ip), 0, &v));
			assert_int_equal(v.ihl, ihl * 4);
		}
	}
}

static void
test_ipv4_bad_total_length(void **state)
{
	uint8_t ip[sizeof(pkt_echo_opt) - IP_OFF]; /* 50 bytes, IHL 24 */
	struct ipv4_view v;

	(void)state;
	for (unsigned tot = 0; tot <= 0xffff; tot++) {
		int want;

		memcpy(ip, pkt_echo_opt + IP_OFF, sizeof(ip));
		wire_put16(ip + 2, (uint16_t)tot);
		fix_ip_cksum(ip, 24);
		want = tot < 24 || tot > sizeof(ip) ? DROP_BAD_LENGTH : 0;
		expect(wire_ipv4_parse(ip, sizeof(ip), 0, &v), want);
		if (want == 0)
			assert_int_equal(v.total_len, tot);
	}
}

/* One's complement sums catch every single-bit error (RFC 1071). */
static void
test_ipv4_bad_checksum(void **state)
{
	uint8_t ip[sizeof(pkt_echo_opt) - IP_OFF];
	struct ipv4_view v;
	unsigned n = 0;

	(void)state;
	/* Every bit of the header but version, IHL and total length, whose
	 * own checks come first; options included. */
	for (unsigned byte = 1; byte < 24; byte++) {
		if (byte == 2 || byte == 3)
			continue;
		for (unsigned bit = 0; bit < 8; bit++) {
			memcpy(ip, pkt_echo_opt + IP_OFF, sizeof(ip));
			ip[byte] ^= (uint8_t)(1u << bit);
			rejected(wire_ipv4_parse(ip, sizeof(ip), 0, &v), DROP_BAD_CHECKSUM);
			/* When the NIC vouches for it, the header is taken as is. */
			parsed(wire_ipv4_parse(ip, sizeof(ip), 1, &v));
			n++;
		}
	}
	assert_int_equal(n, 21 * 8);
}

/* --- ICMP --- */

static void
test_icmp_roundtrip(void **state)
{
	const uint8_t *p = pkt_echo_req + IP_OFF + 20;
	size_t len = sizeof(pkt_echo_req) - IP_OFF - 20;
	struct icmp_view v;
	uint8_t out[sizeof(pkt_echo_req)];

	(void)state;
	assert_int_equal(len, 64);
	parsed(wire_icmp_parse(p, len, &v));
	assert_int_equal(v.type, ICMP_ECHO);
	assert_int_equal(v.code, 0);
	assert_int_equal(v.cksum, 0x5e2a); /* tshark: icmp.checksum 0x5e2a [correct] */
	assert_int_equal(v.rest, 0x12340001);
	/* Emit over a copy with the header scrambled: the same bytes return. */
	memcpy(out, p, len);
	memset(out, 0xee, ICMP_HDR_LEN);
	wire_icmp_emit(out, len, &v);
	assert_memory_equal(out, p, len);

	p = pkt_echo_opt + IP_OFF + 24;
	len = sizeof(pkt_echo_opt) - IP_OFF - 24;
	parsed(wire_icmp_parse(p, len, &v));
	assert_int_equal(v.type, ICMP_ECHO);
	assert_int_equal(v.rest, 0x43210007);
	assert_int_equal(v.cksum, 0x192d);
	memcpy(out, p, len);
	memset(out, 0, ICMP_HDR_LEN);
	wire_icmp_emit(out, len, &v);
	assert_memory_equal(out, p, len);
}

/* Under 8 bytes: truncated.  From 8 on, the checksum over what is left no
 * longer matches (the payload is not all zeros). */
static void
test_icmp_truncated(void **state)
{
	const uint8_t *p = pkt_echo_req + IP_OFF + 20;
	size_t full = sizeof(pkt_echo_req) - IP_OFF - 20;
	struct icmp_view v;

	(void)state;
	for (size_t len = 0; len < full; len++)
		rejected(wire_icmp_parse(p, len, &v),
			 len < ICMP_HDR_LEN ? DROP_ICMP_TRUNCATED : DROP_ICMP_BAD_CHECKSUM);
	parsed(wire_icmp_parse(p, full, &v));
}

static void
test_icmp_bad_checksum(void **state)
{
	uint8_t p[64];
	struct icmp_view v;

	(void)state;
	for (unsigned bit = 0; bit < sizeof(p) * 8; bit++) {
		memcpy(p, pkt_echo_req + IP_OFF + 20, sizeof(p));
		p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rejected(wire_icmp_parse(p, sizeof(p), &v), DROP_ICMP_BAD_CHECKSUM);
	}
}

/* --- UDP --- */

static void
test_udp_parse(void **state)
{
	const uint8_t *ip = pkt_udp + IP_OFF, *p = ip + 20;
	struct udp_view v;
	uint8_t copy[20];
	uint32_t src, dst;

	(void)state;
	parsed(wire_udp_parse(p, 20, &v));
	assert_int_equal(v.sport, 40000);
	assert_int_equal(v.dport, 9999);
	assert_int_equal(v.len, 20);
	assert_int_equal(v.cksum, 0x9da3); /* tshark: udp.checksum 0x9da3 [correct] */
	assert_memory_equal(p + UDP_HDR_LEN, "hello sonde\n", 12);
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	/* A datagram that carries its checksum verifies to 0 ... */
	assert_int_equal(wire_udp4_cksum(src, dst, p, 20), 0);
	/* ... and with the field zeroed the function computes that checksum. */
	memcpy(copy, p, sizeof(copy));
	copy[6] = copy[7] = 0;
	assert_int_equal(wire_udp4_cksum(src, dst, copy, 20), 0x9da3);
	/* Any other pseudo-header fails it. */
	assert_int_not_equal(wire_udp4_cksum(ip4("10.0.0.3"), dst, p, 20), 0);
	assert_int_not_equal(wire_udp4_cksum(src, dst, p, 19), 0);

	/* The second datagram (odd length 25) too. */
	ip = pkt_fwd_udp + IP_OFF;
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	parsed(wire_udp_parse(ip + 20, 25, &v));
	assert_int_equal(v.len, 25);
	assert_int_equal(v.cksum, 0x6197);
	assert_int_equal(wire_udp4_cksum(src, dst, ip + 20, 25), 0);
	assert_int_equal(ref_udp_cksum(ip), 0x6197);
}

static void
test_udp_truncated(void **state)
{
	const uint8_t *p = pkt_udp + IP_OFF + 20;
	uint8_t copy[20];
	struct udp_view v;

	(void)state;
	for (size_t len = 0; len < 20; len++)
		rejected(wire_udp_parse(p, len, &v),
			 len < UDP_HDR_LEN ? DROP_UDP_TRUNCATED : DROP_UDP_BAD_LENGTH);
	/* Length field under the header's own 8 bytes, or past the data. */
	for (unsigned l = 0; l <= 0xffff; l++) {
		memcpy(copy, p, sizeof(copy));
		wire_put16(copy + 4, (uint16_t)l);
		expect(wire_udp_parse(copy, sizeof(copy), &v),
		       l < UDP_HDR_LEN || l > sizeof(copy) ? DROP_UDP_BAD_LENGTH : 0);
	}
}

/* --- the Internet checksum --- */

static void
test_cksum_known(void **state)
{
	/* RFC 1071 section 3: the sum of these bytes is ddf2, so the
	 * checksum is its complement 220d. */
	static const uint8_t rfc1071[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t hdr[IPV4_MIN_HDR_LEN];

	(void)state;
	assert_int_equal(wire_cksum(rfc1071, sizeof(rfc1071)), 0x220d);
	assert_int_equal(ref_cksum(rfc1071, sizeof(rfc1071)), 0x220d);
	/* Odd length: the last byte counts as the high half of a word. */
	/* 0001 + f203 + f4f5 + f600 = 2dcf9, folded dcfb, complemented 2304 */
	assert_int_equal(wire_cksum(rfc1071, 7), 0x2304);
	assert_int_equal(wire_cksum(rfc1071, 0), 0xffff);
	/* A real header verifies, and with its field zeroed gives the field. */
	assert_int_equal(wire_cksum(pkt_echo_req + IP_OFF, 20), 0);
	memcpy(hdr, pkt_echo_req + IP_OFF, sizeof(hdr));
	hdr[10] = hdr[11] = 0;
	assert_int_equal(wire_cksum(hdr, sizeof(hdr)), 0x21d5);
	assert_int_equal(wire_cksum(pkt_echo_opt + IP_OFF, 24), 0);
	assert_int_equal(wire_cksum(pkt_echo_req + IP_OFF + 20, 64), 0);
}

/* wire_sum() reads by sixteen, eight, four, two and one bytes: every length
 * to 200 at every alignment, against the byte-by-byte reference, and
 * wire_sum_fold() at the carries' edges. */
static void
test_cksum_lengths(void **state)
{
	static uint8_t buf[256];
	uint32_t x = 0x12345678;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 200; len++)
			if (wire_cksum(buf + off, len) != ref_cksum(buf + off, len))
				fail_msg("offset %zu length %zu: %04x, reference %04x", off, len,
					 wire_cksum(buf + off, len), ref_cksum(buf + off, len));
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(wire_cksum(buf, 200), ref_cksum(buf, 200));
	assert_int_equal(wire_sum_fold(0), 0);
	assert_int_equal(wire_sum_fold(0xffff), 0xffff);
	assert_int_equal(wire_sum_fold(0x10000), 1);
	assert_int_equal(wire_sum_fold(0xffffffff), 0xffff);
	assert_int_equal(wire_sum_fold(0x100000000ull), 1);
	assert_int_equal(wire_sum_fold(0x1fffffffeull), 0xffff);
	assert_int_equal(wire_sum_fold(0xffffffffffffffffull), 0xffff);
	assert_int_equal(wire_sum_fold(0x0001000200030004ull), 10);
}

/* RFC 1624 section 4's example: m 0x5555 -> 0x3285 in a header whose other
 * words sum to 0xcd7a, HC 0xdd2f.  Eqn. 3 gives 0x0000, as recomputation
 * does (eqn. 2 would give 0xffff). */
static void
test_cksum_adjust_rfc1624(void **state)
{
	(void)state;
	assert_int_equal(wire_cksum_adjust(0xdd2f, 0x5555, 0x3285), 0x0000);
	assert_int_equal((uint16_t) ~(0xcd7a + 0x5555 - 0xffff), 0xdd2f); /* the example's HC */
	/* No change, no change. */
	assert_int_equal(wire_cksum_adjust(0x21d5, 0x4001, 0x4001), 0x21d5);
	/* The forwarding case: TTL 64 -> 63 on pkt_echo_req. */
	assert_int_equal(wire_cksum_adjust(0x21d5, 0x4001, 0x3f01), 0x22d5);
}

/* Every new value of one field, on a few headers: the sum inside eqn. 3
 * then also hits 0x1ffff, whose fold carries twice. */
static void
test_cksum_adjust_exhaustive(void **state)
{
	static const unsigned words[] = { 8, 4, 6, 12, 18 }; /* TTL/proto, id, frag, src, dst */
	uint8_t h[IPV4_MIN_HDR_LEN];

	(void)state;
	/* That case by hand: the other words sum to ffff, m goes 0 -> 1. */
	assert_int_equal(wire_cksum_adjust(0x0000, 0x0000, 0x0001), 0xfffe);
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		const uint8_t *base = w % 2 ? pkt_udp + IP_OFF : pkt_echo_req + IP_OFF;
		uint16_t hc = wire_get16(base + 10), old = wire_get16(base + words[w]);

		for (uint32_t v = 0; v <= 0xffff; v++) {
			uint16_t c;

			memcpy(h, base, sizeof(h));
			wire_put16(h + words[w], (uint16_t)v);
			h[10] = h[11] = 0;
			c = ref_cksum(h, sizeof(h));
			if (wire_cksum_adjust(hc, old, (uint16_t)v) != c)
				fail_msg("word %u: %04x -> %04x: %04x, want %04x", words[w], old, v,
					 wire_cksum_adjust(hc, old, (uint16_t)v), c);
		}
	}
}

static uint32_t rng_state = 0x50d3u;

static uint32_t
rng(void)
{
	/* xorshift32: deterministic, so a failure can be replayed. */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void
test_cksum_random(void **state)
{
	uint8_t buf[160];

	(void)state;
	/* wire_cksum (DPDK's raw sum, host order) against the byte-wise sum,
	 * any length, any alignment. */
	for (unsigned i = 0; i < 20000; i++) {
		size_t off = rng() % 8, len = rng() % (sizeof(buf) - 8);

		for (size_t j = 0; j < sizeof(buf); j++)
			buf[j] = (uint8_t)rng();
		assert_int_equal(wire_cksum(buf + off, len), ref_cksum(buf + off, len));
	}
	/* wire_cksum_adjust against recomputation on random headers. */
	for (unsigned i = 0; i < 20000; i++) {
		uint8_t h[IPV4_MAX_HDR_LEN];
		size_t ihl = 20 + 4 * (rng() % 11);
		size_t w;
		uint16_t old, new_, hc;

		for (size_t j = 0; j < ihl; j++)
			h[j] = (uint8_t)rng();
		fix_ip_cksum(h, (unsigned)ihl);
		hc = wire_get16(h + 10);
		do
			w = 2 * (rng() % (ihl / 2));
		while (w == 10);
		old = wire_get16(h + w);
		/* Now and then the extremes: 0x0000 and 0xffff. */
		new_ = i % 7 == 0 ? 0 : i % 7 == 1 ? 0xffff : (uint16_t)rng();
		wire_put16(h + w, new_);
		fix_ip_cksum(h, (unsigned)ihl);
		assert_int_equal(wire_cksum_adjust(hc, old, new_), wire_get16(h + 10));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eth_roundtrip),
		cmocka_unit_test(test_eth_truncated),
		cmocka_unit_test(test_arp_roundtrip),
		cmocka_unit_test(test_arp_truncated),
		cmocka_unit_test(test_arp_malformed),
		cmocka_unit_test(test_ipv4_roundtrip),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv4_truncated),
		cmocka_unit_test(test_ipv4_bad_version),
		cmocka_unit_test(test_ipv4_bad_ihl),
		cmocka_unit_test(test_ipv4_bad_total_length),
		cmocka_unit_test(test_ipv4_bad_checksum),
		cmocka_unit_test(test_icmp_roundtrip),
		cmocka_unit_test(test_icmp_truncated),
		cmocka_unit_test(test_icmp_bad_checksum),
		cmocka_unit_test(test_udp_parse),
		cmocka_unit_test(test_udp_truncated),
		cmocka_unit_test(test_cksum_known),
		cmocka_unit_test(test_cksum_lengths),
		cmocka_unit_test(test_cksum_adjust_rfc1624),
		cmocka_unit_test(test_cksum_adjust_exhaustive),
		cmocka_unit_test(test_cksum_random),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
