/*
 * test_frag.c: fragments in both families (stack/ip/reass.c, stack/ip/frag.c,
 * stack/ip/ipv4.c, stack/ip/ipv6.c, stack/ip/icmp.c, icmp6.c) with the fake
 * clock.  Reassembly (RFC 791 3.2, RFC 8200 4.5) of real 4000-byte pings
 * cut by scapy, and of datagrams cut here: the largest of each family
 * (65535 bytes: 45 IPv4 fragments at MTU 1500, 54 IPv6 ones at 1280) and
 * a UDP datagram of 20 fragments to the echo service, in order, reversed
 * and in a fixed set of shuffled orders, each delivered once and answered
 * in fragments at the link MTU (offsets, MF, identification, checksums);
 * the first IPv4 fragment alone carrying options, in every order, later
 * ones with headers of 20 bytes or longer than the first's; an IPv6
 * Fragment header after a Destination Options header; exact duplicates
 * dropped alone (frag-duplicate), overlaps dropping the whole datagram and
 * its later fragments (RFC 5722, frag-overlap), 256 fragments a datagram
 * at most (frag-too-many), one end a datagram (frag-bad-length); a
 * fragment sent to a group making the datagram one; the reassembly timeout
 * (conf.frag_timeout_ms) with ICMP and ICMPv6 time exceeded code 1 when
 * the first fragment had come, and the cap on fragments held
 * (conf.frag_max); lengths refused: IPv4 MF with a length not a multiple
 * of 8, empty fragments of both families, and datagrams past 65535 bytes
 * (the ping of death), IPv6 with RFC 8200 4.5's parameter problems; RFC
 * 7112 tiny first fragments (parameter problem code 3), RFC 1858 3 tiny
 * TCP fragments; RFC 8201 path MTU: a packet too big lowers the MTU for
 * that destination only, never below 1280 nor upwards, and our packets to
 * it leave in fragments of that size.  Every test also checks that the
 * indirect mbufs the fragmenter uses are all back (frag.indirect in use 0).
 */
#include <string.h>

#include "packets.h"
#include "unit.h"

#define BIG_ICMP (8 + 4000)
#define CUT_MAX 320
#define ORDERS 10 /* in order, reversed, and 8 shuffled */

static const uint8_t *const big4[] = { pkt_big_f1, pkt_big_f2, pkt_big_f3 };
static const size_t big4_len[] = { sizeof(pkt_big_f1), sizeof(pkt_big_f2), sizeof(pkt_big_f3) };
static const uint8_t *const big6[] = { pkt6_big_f1, pkt6_big_f2, pkt6_big_f3, pkt6_big_f4 };
static const size_t big6_len[] = { sizeof(pkt6_big_f1), sizeof(pkt6_big_f2), sizeof(pkt6_big_f3),
				   sizeof(pkt6_big_f4) };

/* 12 bytes of options: a NOP and a record route with room for 2 addresses
 * (RFC 791: not copied into fragments, so the first alone carries it). */
static const uint8_t opt_rr[12] = { 1, 7, 11, 4 };
/* 40 bytes of NOPs: the longest header a fragment can have. */
static const uint8_t opt_nops[40] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
				      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };

/* A datagram's fragments, as frames from A to us. */
struct cut {
	struct frame f[CUT_MAX];
	unsigned n;
};

static struct cut cut;
static unsigned order[CUT_MAX];
/* A datagram of either family, and what the stack should make of it. */
static uint8_t req[IPV6_HDR_LEN + 65535], echo_want[IPV6_HDR_LEN + 65535];

/* The IPv4 header checksum only, over its IHL (frame_fix would also "fix"
 * the ICMP checksum of a fragment, which covers the whole datagram). */
static void
ip4_hdr_fix(struct frame *f)
{
	uint8_t *ip = frame_ip(f);

	wire_put16(ip + 10, 0);
	wire_put16(ip + 10, ref_cksum(ip, (ip[0] & 0xfu) * 4));
}

/* Inserts olen bytes of options (a multiple of 4) after IPv4 frame f's
 * 20-byte header. */
static void
frame_add_opts(struct frame *f, const uint8_t *opt, size_t olen)
{
	uint8_t *ip = frame_ip(f);

	assert_int_equal(ip[0], 0x45);
	assert_true(olen % 4 == 0 && olen <= 40 && f->len + olen <= sizeof(f->b));
	memmove(ip + IPV4_MIN_HDR_LEN + olen, ip + IPV4_MIN_HDR_LEN,
		f->len - ETH_HDR_LEN - IPV4_MIN_HDR_LEN);
	memcpy(ip + IPV4_MIN_HDR_LEN, opt, olen);
	ip[0] = (uint8_t)(0x40 | (IPV4_MIN_HDR_LEN + olen) / 4);
	wire_put16(ip + 2, (uint16_t)(wire_get16(ip + 2) + olen));
	f->len += olen;
	ip4_hdr_fix(f);
}

/* The 4000-byte ICMP echo request the three IPv4 fragments carry. */
static void
big4_icmp(uint8_t *icmp)
{
	size_t off = 0;

	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *ip = big4[i] + ETH_HDR_LEN;
		size_t n = wire_get16(ip + 2) - IPV4_MIN_HDR_LEN;

		assert_int_equal((wire_get16(ip + 6) & IPV4_OFFSET_MASK) * 8u, off);
		memcpy(icmp + off, ip + IPV4_MIN_HDR_LEN, n);
		off += n;
	}
	assert_int_equal(off, BIG_ICMP);
	assert_int_equal(ref_cksum(icmp, BIG_ICMP), 0);
}

/* The same for the four IPv6 fragments. */
static void
big6_icmp(uint8_t *icmp)
{
	size_t off = 0;

	for (unsigned i = 0; i < 4; i++) {
		const uint8_t *ip = big6[i] + ETH_HDR_LEN;
		size_t n = wire_get16(ip + 4) - 8;

		assert_int_equal(ip[6], IPPROTO_FRAGMENT_);
		assert_int_equal(wire_get16(ip + 42) & 0xfff8, off);
		memcpy(icmp + off, ip + 48, n);
		off += n;
	}
	assert_int_equal(off, BIG_ICMP);
	assert_int_equal(ref_cksum6(big6[0] + ETH_HDR_LEN + 8, big6[0] + ETH_HDR_LEN + 24,
				    IPPROTO_ICMPV6_, icmp, BIG_ICMP),
			 0);
}

/* The three frames on test0 must be our echo reply to the 4000-byte ping,
 * cut at 1500: 1480, 1480, 1048 bytes. */
static void
expect_reply4(struct unit_fx *fx)
{
	static uint8_t want[IPV4_MIN_HDR_LEN + BIG_ICMP];
	struct unit_link *l = &fx->link[0];
	uint8_t *icmp = want + IPV4_MIN_HDR_LEN;

	assert_int_equal(l->n_tx, 3);
	memset(want, 0, IPV4_MIN_HDR_LEN);
	want[0] = 0x45;
	wire_put16(want + 2, sizeof(want));
	memcpy(want + 4, tx_ipv4(l, 0, MAC_A, NULL) + 4, 2); /* ours */
	want[8] = 64;
	want[9] = IPPROTO_ICMP_;
	frame_set_ip4(want + 12, "10.0.0.1");
	frame_set_ip4(want + 16, "10.0.0.2");
	big4_icmp(icmp);
	icmp[0] = ICMP_ECHOREPLY;
	wire_put16(icmp + 2, 0);
	wire_put16(icmp + 2, ref_cksum(icmp, BIG_ICMP));
	tx_ipv4_fragments(l, 0, 3, MAC_A, want, 1500);
	assert_int_equal(wire_get16(tx_ipv4(l, 2, MAC_A, NULL) + 6), 2 * 1480 / 8);
	assert_int_equal(l->n_gathered, 3);
	fx_tx_clear(l);
	l->n_gathered = 0;
}

/* The same for IPv6: 1448, 1448, 1112 bytes after the fragment header. */
static uint32_t
expect_reply6(struct unit_fx *fx)
{
	static uint8_t want[IPV6_HDR_LEN + BIG_ICMP];
	struct unit_link *l = &fx->link[0];
	uint8_t *icmp = want + IPV6_HDR_LEN;
	uint32_t ident;

	assert_int_equal(l->n_tx, 3);
	memset(want, 0, IPV6_HDR_LEN);
	want[0] = 0x60;
	wire_put16(want + 4, BIG_ICMP);
	want[6] = IPPROTO_ICMPV6_;
	want[7] = 64;
	memcpy(want + 8, ip6("fd00::1").a, 16);
	memcpy(want + 24, ip6("fd00::2").a, 16);
	big6_icmp(icmp);
	icmp[0] = ICMP6_ECHO_REPLY;
	wire_put16(icmp + 2, 0);
	wire_put16(icmp + 2, ref_cksum6(want + 8, want + 24, IPPROTO_ICMPV6_, icmp, BIG_ICMP));
	ident = tx_ipv6_fragments(l, 0, 3, MAC_A, want, 1500);
	assert_int_equal(wire_get16(tx_ipv6(l, 1, MAC_A, NULL) + 42), 1448 | 1);
	fx_tx_clear(l);
	return ident;
}

/* Nothing sent, nothing held, every indirect mbuf back. */
static void
expect_clean(struct unit_fx *fx)
{
	for (unsigned i = 0; i < fx->n_links; i++)
		fx_tx_clear(&fx->link[i]);
	assert_int_equal(fx_stat(fx, "frag.held"), 0);
	assert_int_equal(rte_mempool_in_use_count(fx->st->frag.indirect), 0);
}

/* Injects f: nothing but the expected ICMP (nerr frames) leaves, and one
 * drop as name. */
static void
expect_drop(struct unit_fx *fx, const struct frame *f, const char *name, unsigned nerr)
{
	fx_snap(fx);
	fx_inject(fx, &fx->link[0], f->b, f->len);
	fx_poll(fx);
	if (fx->link[0].n_tx != nerr || fx_delta(fx, name) != 1 || fx_drops_delta(fx) != 1) {
		fx_print_delta(fx);
		fail_msg("want one drop as %s and %u frames: %u frames", name, nerr,
			 fx->link[0].n_tx);
	}
}

/* Injects f, which must be held silently. */
static void
expect_held(struct unit_fx *fx, const struct frame *f)
{
	fx_snap(fx);
	fx_inject(fx, &fx->link[0], f->b, f->len);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 0);
	assert_int_equal(fx_drops_delta(fx), 0);
	assert_int_equal(fx_delta(fx, "frag.held"), 1);
}

/* Injects f, which takes its whole datagram with it: n drops as name
 * (f's among them), nothing held, nothing sent. */
static void
expect_kill(struct unit_fx *fx, const struct frame *f, const char *name, unsigned n)
{
	fx_snap(fx);
	fx_inject(fx, &fx->link[0], f->b, f->len);
	fx_poll(fx);
	if (fx->link[0].n_tx != 0 || fx_delta(fx, name) != n || fx_drops_delta(fx) != n ||
	    fx_stat(fx, "frag.held") != 0) {
		fx_print_delta(fx);
		fail_msg("want %u drops as %s, nothing held or sent", n, name);
	}
}

/* c: the n frames p[i] of len[i] bytes (scapy's). */
static void
cut_set(struct cut *c, const uint8_t *const *p, const size_t *len, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		frame_init(&c->f[i], p[i], len[i]);
	c->n = n;
}

/* Injects c's fragments in order[0..n) (NULL: as cut), polling after each:
 * each is held, silently, until the last. */
static void
inject_cut(struct unit_fx *fx, const struct cut *c, const unsigned *ord)
{
	struct unit_link *l = &fx->link[0];

	for (unsigned i = 0; i < c->n; i++) {
		const struct frame *f = &c->f[ord ? ord[i] : i];

		fx_inject(fx, l, f->b, f->len);
		fx_poll(fx);
		if (i + 1 < c->n) {
			assert_int_equal(l->n_tx, 0);
			assert_int_equal(fx_stat(fx, "frag.held"), i + 1);
		}
	}
}

/* The ping of 4000 bytes scapy cut (IPv4 or IPv6), in order: reassembled
 * and answered. */
static void
big_ping(struct unit_fx *fx, bool v6)
{
	cut_set(&cut, v6 ? big6 : big4, v6 ? big6_len : big4_len, v6 ? 4 : 3);
	inject_cut(fx, &cut, NULL);
	if (v6)
		expect_reply6(fx);
	else
		expect_reply4(fx);
}

/* Next permutation of a[0..n) in lexical order; false after the last. */
static bool
next_perm(unsigned *a, unsigned n)
{
	unsigned i = n - 1, j = n - 1, t;

	while (i > 0 && a[i - 1] >= a[i])
		i--;
	if (i == 0)
		return false;
	while (a[j] <= a[i - 1])
		j--;
	t = a[i - 1], a[i - 1] = a[j], a[j] = t;
	for (j = n - 1; i < j; i++, j--)
		t = a[i], a[i] = a[j], a[j] = t;
	return true;
}

/* Order k of n fragments: 0 as cut, 1 reversed, then shuffled (Fisher-Yates
 * on xorshift32 seeded with k): the same orders every run. */
static void
order_make(unsigned *a, unsigned n, unsigned k)
{
	uint32_t x = 0x9e3779b9u * (k + 1);

	for (unsigned i = 0; i < n; i++)
		a[i] = k == 1 ? n - 1 - i : i;
	for (unsigned i = n - 1; k >= 2 && i > 0; i--) {
		unsigned j, t;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		j = x % (i + 1);
		t = a[i], a[i] = a[j], a[j] = t;
	}
}

/* The n bytes at u: an echo request of ICMP type type, or (type 0) a UDP
 * datagram from port 40001 to the echo service; a pattern for data; the
 * checksum left to the family. */
static void
dg_upper(uint8_t *u, size_t n, uint8_t type)
{
	for (size_t i = 8; i < n; i++)
		u[i] = (uint8_t)(i * 7 + i / 251);
	memset(u, 0, 8);
	if (type != 0) {
		u[0] = type;
		wire_put32(u + 4, 0x12340001);
	} else {
		wire_put16(u, 40001);
		wire_put16(u + 2, 7);
		wire_put16(u + 4, (uint16_t)n);
	}
}

/* IPv4 datagram ip's ICMP or UDP checksum, set (RFC 1071 from scratch,
 * with RFC 768's pseudo-header for UDP). */
static void
dg4_cksum(uint8_t *ip)
{
	static uint8_t buf[12 + 65535];
	size_t n = wire_get16(ip + 2) - IPV4_MIN_HDR_LEN;
	uint8_t *u = ip + IPV4_MIN_HDR_LEN;
	uint16_t c;

	wire_put16(ip + 10, 0);
	wire_put16(ip + 10, ref_cksum(ip, IPV4_MIN_HDR_LEN));
	if (ip[9] == IPPROTO_ICMP_) {
		wire_put16(u + 2, 0);
		wire_put16(u + 2, ref_cksum(u, n));
		return;
	}
	wire_put16(u + 6, 0);
	memcpy(buf, ip + 12, 8);
	buf[8] = 0;
	buf[9] = IPPROTO_UDP_;
	wire_put16(buf + 10, (uint16_t)n);
	memcpy(buf + 12, u, n);
	c = ref_cksum(buf, 12 + n);
	wire_put16(u + 6, c ? c : 0xffff);
}

/* The same for IPv6 datagram ip (no extension header). */
static void
dg6_cksum(uint8_t *ip)
{
	size_t n = wire_get16(ip + 4), at = ip[6] == IPPROTO_UDP_ ? 6 : 2;
	uint8_t *u = ip + IPV6_HDR_LEN;
	uint16_t c;

	wire_put16(u + at, 0);
	c = ref_cksum6(ip + 8, ip + 24, ip[6], u, n);
	wire_put16(u + at, c == 0 && ip[6] == IPPROTO_UDP_ ? 0xffff : c);
}

/* An IPv4 datagram from A to us, tot bytes, identification ident: an echo
 * request (proto ICMP) or a UDP datagram to the echo service. */
static void
dg4(uint8_t *ip, uint8_t proto, uint16_t ident, size_t tot)
{
	memset(ip, 0, IPV4_MIN_HDR_LEN);
	ip[0] = 0x45;
	wire_put16(ip + 2, (uint16_t)tot);
	wire_put16(ip + 4, ident);
	ip[8] = 64;
	ip[9] = proto;
	frame_set_ip4(ip + 12, "10.0.0.2");
	frame_set_ip4(ip + 16, "10.0.0.1");
	dg_upper(ip + IPV4_MIN_HDR_LEN, tot - IPV4_MIN_HDR_LEN,
		 proto == IPPROTO_ICMP_ ? ICMP_ECHO : 0);
	dg4_cksum(ip);
}

/* The same in IPv6 (nxt ICMPv6 or UDP), plen bytes of payload. */
static void
dg6(uint8_t *ip, uint8_t nxt, size_t plen)
{
	memset(ip, 0, IPV6_HDR_LEN);
	ip[0] = 0x60;
	wire_put16(ip + 4, (uint16_t)plen);
	ip[6] = nxt;
	ip[7] = 64;
	memcpy(ip + 8, ip6("fd00::2").a, 16);
	memcpy(ip + 24, ip6("fd00::1").a, 16);
	dg_upper(ip + IPV6_HDR_LEN, plen, nxt == IPPROTO_ICMPV6_ ? ICMP6_ECHO_REQUEST : 0);
	dg6_cksum(ip);
}

/* A frame from A to us of type, empty; its IP header. */
static uint8_t *
frame_from_a(struct frame *f, uint16_t type)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->b, MAC_US0, 6);
	memcpy(f->b + 6, MAC_A, 6);
	wire_put16(f->b + 12, type);
	return frame_ip(f);
}

/* IPv4 datagram ip (a 20-byte header) cut into c as a sender would: data
 * of size bytes a fragment (a multiple of 8), the last what remains; the
 * first fragment with options opt0 (olen0 bytes), the later ones with optn
 * (olenn bytes). */
static void
cut4(struct cut *c, const uint8_t *ip, size_t size, const uint8_t *opt0, size_t olen0,
     const uint8_t *optn, size_t olenn)
{
	size_t n = wire_get16(ip + 2) - IPV4_MIN_HDR_LEN;

	c->n = 0;
	for (size_t off = 0; off < n; off += size) {
		struct frame *f = &c->f[c->n++];
		size_t chunk = RTE_MIN(size, n - off);
		uint8_t *p = frame_from_a(f, ETHERTYPE_IPV4);

		assert_true(c->n <= CUT_MAX && ETH_HDR_LEN + 60 + chunk <= sizeof(f->b));
		memcpy(p, ip, IPV4_MIN_HDR_LEN);
		memcpy(p + IPV4_MIN_HDR_LEN, ip + IPV4_MIN_HDR_LEN + off, chunk);
		wire_put16(p + 2, (uint16_t)(IPV4_MIN_HDR_LEN + chunk));
		wire_put16(p + 6, (uint16_t)((off + chunk < n ? IPV4_FLAG_MF : 0) | off / 8));
		f->len = ETH_HDR_LEN + IPV4_MIN_HDR_LEN + chunk;
		ip4_hdr_fix(f);
		if (off == 0 ? olen0 : olenn)
			frame_add_opts(f, off == 0 ? opt0 : optn, off == 0 ? olen0 : olenn);
	}
}

/* IPv6 datagram ip (no extension header) cut into c: size bytes of its
 * payload a fragment, identification ident; ext (elen bytes, one header of
 * type etype, or none) before each Fragment header. */
static void
cut6(struct cut *c, const uint8_t *ip, size_t size, uint32_t ident, uint8_t etype,
     const uint8_t *ext, size_t elen)
{
	size_t n = wire_get16(ip + 4), fh = IPV6_HDR_LEN + elen;

	c->n = 0;
	for (size_t off = 0; off < n; off += size) {
		struct frame *f = &c->f[c->n++];
		size_t chunk = RTE_MIN(size, n - off);
		uint8_t *p = frame_from_a(f, ETHERTYPE_IPV6);

		assert_true(c->n <= CUT_MAX && ETH_HDR_LEN + fh + 8 + chunk <= sizeof(f->b));
		memcpy(p, ip, IPV6_HDR_LEN);
		wire_put16(p + 4, (uint16_t)(elen + 8 + chunk));
		p[6] = elen ? etype : IPPROTO_FRAGMENT_;
		if (elen) {
			memcpy(p + IPV6_HDR_LEN, ext, elen);
			p[IPV6_HDR_LEN] = IPPROTO_FRAGMENT_;
		}
		p[fh] = ip[6];
		wire_put16(p + fh + 2, (uint16_t)(off | (off + chunk < n)));
		wire_put32(p + fh + 4, ident);
		memcpy(p + fh + 8, ip + IPV6_HDR_LEN + off, chunk);
		f->len = ETH_HDR_LEN + fh + 8 + chunk;
	}
}

/* Our echo of datagram rq (either family, an ICMP echo request or UDP to
 * the echo service) must have left, alone, cut at MTU 1500, as the stack
 * turns it around (ipv4_turn, ipv6_turn). */
static void
expect_echo(struct unit_fx *fx, const uint8_t *rq)
{
	struct unit_link *l = &fx->link[0];
	bool v6 = rq[0] >> 4 == 6;
	size_t hl = v6 ? IPV6_HDR_LEN : IPV4_MIN_HDR_LEN, alen = v6 ? 16 : 4;
	size_t len = v6 ? hl + wire_get16(rq + 4) : wire_get16(rq + 2);
	size_t chunk = v6 ? 1448 : 1480, n = (len - hl + chunk - 1) / chunk;
	uint8_t *a = echo_want + (v6 ? 8 : 12), *u = echo_want + hl, t[16];

	memcpy(echo_want, rq, len);
	memcpy(t, a, alen);
	memcpy(a, a + alen, alen);
	memcpy(a + alen, t, alen);
	if ((v6 ? echo_want[6] : echo_want[9]) == IPPROTO_UDP_) {
		memcpy(t, u, 2);
		memcpy(u, u + 2, 2);
		memcpy(u + 2, t, 2);
	} else {
		u[0] = v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY;
	}
	if (l->n_tx != n)
		fail_msg("want our echo in %zu fragments, got %u frames", n, l->n_tx);
	if (v6) {
		dg6_cksum(echo_want);
		tx_ipv6_fragments(l, 0, (unsigned)n, MAC_A, echo_want, 1500);
	} else {
		memcpy(echo_want + 4, tx_ipv4(l, 0, MAC_A, NULL) + 4, 2); /* our identification */
		dg4_cksum(echo_want);
		tx_ipv4_fragments(l, 0, (unsigned)n, MAC_A, echo_want, 1500);
	}
	fx_tx_clear(l);
	l->n_gathered = 0;
}

/* Injects cut in order ord: rq must come of it, read once, echoed. */
static void
reassemble_once(struct unit_fx *fx, const uint8_t *rq, const unsigned *ord)
{
	bool v6 = rq[0] >> 4 == 6;

	fx_snap(fx);
	inject_cut(fx, &cut, ord);
	expect_echo(fx, rq);
	assert_int_equal(fx_delta(fx, "frag.in"), cut.n);
	assert_int_equal(fx_delta(fx, "frag.reassembled"), 1);
	assert_int_equal(fx_delta(fx, v6 ? "ipv6.in_delivered" : "ipv4.in_delivered"), 1);
	assert_int_equal(fx_drops_delta(fx), 0);
	expect_clean(fx);
}

/* The same in orders 0..norders-1 of order_make(). */
static void
reassemble_orders(struct unit_fx *fx, const uint8_t *rq, unsigned norders)
{
	for (unsigned k = 0; k < norders; k++) {
		order_make(order, cut.n, k);
		reassemble_once(fx, rq, order);
	}
}

/* The same in every order (for a few fragments); how many. */
static unsigned
reassemble_perms(struct unit_fx *fx, const uint8_t *rq)
{
	unsigned n = 0;

	order_make(order, cut.n, 0);
	do {
		reassemble_once(fx, rq, order);
		n++;
	} while (next_perm(order, cut.n));
	return n;
}

/* RFC 791 3.2: in every order, one datagram, delivered (read) once; the
 * reply leaves in fragments. */
static void
test_frag4_reassembly(void **state)
{
	struct unit_fx *fx = *state;
	unsigned ord[3] = { 0, 1, 2 }, n = 0;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	cut_set(&cut, big4, big4_len, 3);
	do {
		fx_snap(fx);
		inject_cut(fx, &cut, ord);
		assert_int_equal(fx_delta(fx, "ipv4.in"), 3);
		assert_int_equal(fx_delta(fx, "frag.in"), 3);
		assert_int_equal(fx_delta(fx, "frag.reassembled"), 1);
		assert_int_equal(fx_delta(fx, "ipv4.in_delivered"), 1);
		assert_int_equal(fx_delta(fx, "icmp.in"), 1);
		assert_int_equal(fx_delta(fx, "icmp.echo_replies"), 1);
		assert_int_equal(fx_delta(fx, "ipv4.out"), 1);
		assert_int_equal(fx_delta(fx, "frag.fragmented"), 1);
		assert_int_equal(fx_delta(fx, "frag.out"), 3);
		assert_int_equal(fx_drops_delta(fx), 0);
		expect_reply4(fx);
		expect_clean(fx);
		n++;
	} while (next_perm(ord, 3));
	assert_int_equal(n, 6);
	fx_finish(fx);
}

/* RFC 8200 4.5: the same for IPv6, 24 orders of four fragments. */
static void
test_frag6_reassembly(void **state)
{
	struct unit_fx *fx = *state;
	unsigned ord[4] = { 0, 1, 2, 3 }, n = 0;
	uint32_t ident, last = 0;

	fx_host6(fx, NULL);
	fx_learn6_a(fx);
	cut_set(&cut, big6, big6_len, 4);
	do {
		fx_snap(fx);
		inject_cut(fx, &cut, ord);
		assert_int_equal(fx_delta(fx, "ipv6.in"), 4);
		assert_int_equal(fx_delta(fx, "frag.reassembled"), 1);
		assert_int_equal(fx_delta(fx, "ipv6.in_delivered"), 1);
		assert_int_equal(fx_delta(fx, "icmp6.in"), 1);
		assert_int_equal(fx_delta(fx, "icmp6.echo_replies"), 1);
		assert_int_equal(fx_delta(fx, "frag.out"), 3);
		assert_int_equal(fx_drops_delta(fx), 0);
		ident = expect_reply6(fx);
		/* RFC 7739: a new identification for each datagram. */
		assert_int_not_equal(ident, last);
		last = ident;
		expect_clean(fx);
		n++;
	} while (next_perm(ord, 4));
	assert_int_equal(n, 24);
	fx_finish(fx);
}

/* The largest datagrams, reassembled in each order and answered: IPv4's
 * 65535 bytes (Linux's ping -s 65507) in the 45 fragments Linux cuts it
 * into at MTU 1500 (rte_ip_frag kept 8 at most: never answered), answered
 * in 45; IPv6's payload of 65535 bytes in 54 fragments of 1232 (the
 * minimum MTU's), answered in 46 at 1500. */
static void
test_frag_largest(void **state)
{
	struct unit_fx *fx = *state;

	fx_host6(fx, NULL);
	fx_learn_a(fx);
	fx_learn6_a(fx);
	dg4(req, IPPROTO_ICMP_, 0x6500, 65535);
	cut4(&cut, req, 1480, NULL, 0, NULL, 0);
	assert_int_equal(cut.n, 45);
	reassemble_orders(fx, req, ORDERS);
	dg6(req, IPPROTO_ICMPV6_, 65535);
	cut6(&cut, req, 1232, 0x65535, 0, NULL, 0);
	assert_int_equal(cut.n, 54);
	reassemble_orders(fx, req, ORDERS);
	fx_finish(fx);
}

/* A UDP datagram of 19500 bytes in 20 fragments to the echo service (RFC
 * 862) comes back whole, in 14 fragments at 1500, both families, in a few
 * orders; in IPv4 also with the first fragment alone carrying options, and
 * then with the others' headers longer than its own. */
static void
test_frag_udp_echo(void **state)
{
	struct unit_fx *fx = *state;

	fx_host6(fx, NULL);
	fx_learn_a(fx);
	fx_learn6_a(fx);
	assert_int_equal(sonde_udp_service(fx->st, 7, SONDE_SERVICE_ECHO), 0);
	dg4(req, IPPROTO_UDP_, 0x2020, IPV4_MIN_HDR_LEN + 19500);
	cut4(&cut, req, 1000, NULL, 0, NULL, 0);
	assert_int_equal(cut.n, 20);
	reassemble_orders(fx, req, 4);
	assert_int_equal(fx_stat(fx, "udp.echoed"), 4);
	cut4(&cut, req, 1000, opt_rr, sizeof(opt_rr), NULL, 0);
	reassemble_orders(fx, req, 4);
	cut4(&cut, req, 1000, opt_rr, sizeof(opt_rr), opt_nops, sizeof(opt_nops));
	reassemble_orders(fx, req, 4);
	dg6(req, IPPROTO_UDP_, 19500);
	cut6(&cut, req, 1000, 0x2020, 0, NULL, 0);
	assert_int_equal(cut.n, 20);
	reassemble_orders(fx, req, 4);
	assert_int_equal(fx_stat(fx, "udp.echoed"), 16);
	fx_finish(fx);
}

/* RFC 791 3.2: the datagram's header is the first fragment's, its options
 * with it (a record route, which later fragments do not copy), whatever
 * the order and whatever the other fragments' headers: a ping of 3008
 * bytes in 4 fragments, in each of the 24 orders, later fragments with
 * 20-byte headers, then with 60-byte ones (longer than the first's 32).
 * Reassembly once read the header of the fragment that completed the
 * datagram: a wrong length, and past the end of a shorter one's. */
static void
test_frag4_options(void **state)
{
	struct unit_fx *fx = *state;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	dg4(req, IPPROTO_ICMP_, 0x0b70, IPV4_MIN_HDR_LEN + 3008);
	for (unsigned v = 0; v < 2; v++) {
		cut4(&cut, req, 800, opt_rr, sizeof(opt_rr), opt_nops, v ? sizeof(opt_nops) : 0);
		assert_int_equal(cut.n, 4);
		assert_int_equal(frame_ip(&cut.f[3])[0], v ? 0x4f : 0x45);
		assert_int_equal(reassemble_perms(fx, req), 24);
	}
	assert_int_equal(fx_stat(fx, "icmp.echo_replies"), 48);
	fx_finish(fx);
}

/* RFC 8200 4.1: a Fragment header after a Destination Options header.
 * The datagram is the offset-zero fragment's unfragmentable part with its
 * Fragment header taken out, naming what that fragment's named (RFC 8200
 * 4.5: later fragments say UDP here, and do not count), and is answered,
 * in each of the 6 orders.  Behind Hop-by-Hop, Destination Options and a
 * Routing header too, a first fragment is held. */
static void
test_frag6_after_dstopts(void **state)
{
	static const uint8_t dst[8] = { 0, 0, 1, 4 }; /* PadN of 4 */
	struct unit_fx *fx = *state;
	struct frame f;

	fx_host6(fx, NULL);
	fx_learn6_a(fx);
	dg6(req, IPPROTO_ICMPV6_, 3000);
	cut6(&cut, req, 1232, 0xd57, IPPROTO_DSTOPTS_, dst, sizeof(dst));
	assert_int_equal(cut.n, 3);
	for (unsigned i = 1; i < cut.n; i++)
		frame_ip(&cut.f[i])[48] = IPPROTO_UDP_;
	assert_int_equal(reassemble_perms(fx, req), 6);
	assert_int_equal(fx_stat(fx, "icmp6.echo_replies"), 6);
	FRAME(&f, pkt6_echo_chain);
	wire_put16(frame_ip(&f) + 64 + 2, 1); /* M: no longer atomic */
	expect_held(fx, &f);
	fx_finish(fx);
}

/* RFC 8200 4.5 (and Linux, for IPv4 too): a fragment repeated exactly
 * (offset and length) is dropped alone, frag-duplicate; the datagram
 * completes, once.  Each fragment of each family repeated in turn. */
static void
test_frag_duplicate(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;

	fx_host6(fx, NULL);
	fx_learn_a(fx);
	fx_learn6_a(fx);
	l = &fx->link[0];
	for (unsigned v6 = 0; v6 < 2; v6++) {
		unsigned n = v6 ? 4 : 3;

		cut_set(&cut, v6 ? big6 : big4, v6 ? big6_len : big4_len, n);
		for (unsigned d = 0; d < n; d++) {
			fx_snap(fx);
			fx_inject(fx, l, cut.f[d].b, cut.f[d].len);
			fx_inject(fx, l, cut.f[d].b, cut.f[d].len);
			for (unsigned i = 0; i < n; i++)
				if (i != d)
					fx_inject(fx, l, cut.f[i].b, cut.f[i].len);
			fx_poll(fx);
			assert_one_drop(fx, "drop.in.frag-duplicate");
			assert_int_equal(fx_delta(fx, "frag.in"), n + 1);
			assert_int_equal(fx_delta(fx, "frag.reassembled"), 1);
			if (v6)
				expect_reply6(fx);
			else
				expect_reply4(fx);
			expect_clean(fx);
		}
	}
	fx_finish(fx);
}

/* RFC 5722 (and for IPv4 as Linux does since FragmentSmack): a fragment
 * overlapping one held drops the datagram, every fragment held with the
 * newcomer (frag-overlap), and the rest of it as it comes until its
 * timeout; nothing is read or answered, no time exceeded sent.  After the
 * timeout the same datagram is a new one. */
static void
test_frag_overlap(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	fx_host6(fx, &(struct sonde_conf){ .frag_timeout_ms = 1000 });
	fx_learn_a(fx);
	fx_learn6_a(fx);
	l = &fx->link[0];

	/* IPv4: the second fragment 8 bytes early, over the first's end. */
	FRAME(&f, pkt_big_f1);
	expect_held(fx, &f);
	FRAME(&f, pkt_big_f2);
	wire_put16(frame_ip(&f) + 6, IPV4_FLAG_MF | (1480 / 8 - 1));
	ip4_hdr_fix(&f);
	expect_kill(fx, &f, "drop.in.frag-overlap", 2);
	FRAME(&f, pkt_big_f3);
	expect_kill(fx, &f, "drop.in.frag-overlap", 1);
	FRAME(&f, pkt_big_f2);
	expect_kill(fx, &f, "drop.in.frag-overlap", 1);

	/* IPv6: the third fragment 8 bytes early, over the second's end; an
	 * 8-byte piece inside one held. */
	fx_inject(fx, l, pkt6_big_f1, sizeof(pkt6_big_f1));
	fx_inject(fx, l, pkt6_big_f2, sizeof(pkt6_big_f2));
	fx_poll(fx);
	FRAME(&f, pkt6_big_f3);
	wire_put16(frame_ip(&f) + 42, (2 * 1232 - 8) | 1);
	expect_kill(fx, &f, "drop.in.frag-overlap", 3);
	FRAME(&f, pkt6_big_f4);
	expect_kill(fx, &f, "drop.in.frag-overlap", 1);
	FRAME(&f, pkt6_big_f3);
	wire_put32(frame_ip(&f) + 44, 0x5eed);
	expect_held(fx, &f);
	frame6_resize(&f, 8 + 8);
	wire_put16(frame_ip(&f) + 42, (2 * 1232 + 64) | 1);
	expect_kill(fx, &f, "drop.in.frag-overlap", 2);

	assert_int_equal(fx_stat(fx, "frag.reassembled"), 0);
	assert_int_equal(fx_stat(fx, "icmp.in") + fx_stat(fx, "icmp6.in"), 1); /* the NS */
	fx_advance(fx, 1 * SEC);
	fx_snap(fx);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_int_equal(fx_drops_delta(fx), 0);
	big_ping(fx, false);
	big_ping(fx, true);
	expect_clean(fx);
	fx_finish(fx);
}

/* RFC 791 3.2, RFC 8200 4.5: a datagram has one end.  A second last
 * fragment with another, a fragment starting past the end the last set, a
 * last fragment ending before one held: the datagram goes (frag-bad-length),
 * and the rest of it as it comes.  So does one whose first fragment's
 * header (60 bytes) and last fragment (fine with its own 20) add up past
 * 65535 bytes. */
static void
test_frag_bad_end(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f, g;

	fx_host6(fx, NULL);
	fx_learn_a(fx);
	fx_learn6_a(fx);
	for (uint16_t c = 0; c < 4; c++) {
		uint16_t ident = (uint16_t)(0xe0d0 + c);

		FRAME(&f, pkt_big_f3); /* the last: ends at 4008 */
		FRAME(&g, pkt_big_f2);
		switch (c) {
		case 0: wire_put16(frame_ip(&g) + 6, 1480 / 8); break; /* MF off: ends at 2960 */
		case 1: wire_put16(frame_ip(&g) + 6, IPV4_FLAG_MF | 4008 / 8); break;
		case 2: /* the one past 4008 first, then the last */
			f = g;
			FRAME(&g, pkt_big_f3);
			wire_put16(frame_ip(&f) + 6, IPV4_FLAG_MF | 4008 / 8);
			break;
		case 3: /* 8 bytes at 65504 end at 65512: 65532 with 20 bytes, past with 60 */
			frame_ip_resize(&f, IPV4_MIN_HDR_LEN + 8);
			wire_put16(frame_ip(&f) + 6, 65504 / 8);
			FRAME(&g, pkt_big_f1);
			frame_add_opts(&g, opt_nops, sizeof(opt_nops));
			break;
		}
		wire_put16(frame_ip(&f) + 4, ident);
		wire_put16(frame_ip(&g) + 4, ident);
		ip4_hdr_fix(&f);
		ip4_hdr_fix(&g);
		expect_held(fx, &f);
		expect_kill(fx, &g, "drop.in.frag-bad-length", 2);
		FRAME(&f, pkt_big_f1);
		wire_put16(frame_ip(&f) + 4, ident);
		ip4_hdr_fix(&f);
		expect_kill(fx, &f, "drop.in.frag-bad-length", 1);
	}
	/* IPv6: the third fragment claiming to be the last (M off). */
	FRAME(&f, pkt6_big_f4);
	expect_held(fx, &f);
	FRAME(&f, pkt6_big_f3);
	wire_put16(frame_ip(&f) + 42, 2 * 1232);
	expect_kill(fx, &f, "drop.in.frag-bad-length", 2);
	FRAME(&f, pkt6_big_f1);
	expect_kill(fx, &f, "drop.in.frag-bad-length", 1);
	assert_int_equal(fx_stat(fx, "frag.reassembled"), 0);
	expect_clean(fx);
	fx_finish(fx);
}

/* RFC 791: all but the last fragment carry a multiple of 8 bytes, none
 * any; no datagram ends past 65535 bytes. */
static void
test_frag4_bad_length(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	FRAME(&f, pkt_big_f1);
	frame_ip_resize(&f, 20 + 1479);
	ip4_hdr_fix(&f);
	expect_drop(fx, &f, "drop.in.frag-bad-length", 0);
	FRAME(&f, pkt_big_f2);
	frame_ip_resize(&f, 20 + 4);
	ip4_hdr_fix(&f);
	expect_drop(fx, &f, "drop.in.frag-bad-length", 0);
	FRAME(&f, pkt_big_f1);
	frame_ip_resize(&f, 20);
	ip4_hdr_fix(&f);
	expect_drop(fx, &f, "drop.in.frag-bad-length", 0);
	/* An empty last fragment. */
	FRAME(&f, pkt_big_f3);
	frame_ip_resize(&f, 20);
	ip4_hdr_fix(&f);
	expect_drop(fx, &f, "drop.in.frag-bad-length", 0);
	/* A last fragment of 8 bytes: at 65504 it ends at 65532 (with the
	 * header), fine; at 65512, past 65535. */
	FRAME(&f, pkt_big_f3);
	frame_ip_resize(&f, 20 + 8);
	wire_put16(frame_ip(&f) + 6, 65504 / 8);
	ip4_hdr_fix(&f);
	expect_held(fx, &f);
	wire_put16(frame_ip(&f) + 6, 65512 / 8);
	wire_put16(frame_ip(&f) + 4, 0x9999);
	ip4_hdr_fix(&f);
	expect_drop(fx, &f, "drop.in.frag-bad-length", 0);
	/* The real one, 1048 bytes at the largest offset. */
	FRAME(&f, pkt_big_f3);
	wire_put16(frame_ip(&f) + 6, IPV4_OFFSET_MASK);
	ip4_hdr_fix(&f);
	expect_drop(fx, &f, "drop.in.frag-bad-length", 0);
	assert_int_equal(rte_mempool_in_use_count(fx->st->frag.indirect), 0);
	fx_finish(fx);
}

/* RFC 8200 4.5: the same for IPv6, each with a parameter problem code 0:
 * at the payload length for the length, at the offset for the size (a
 * Destination Options header before the Fragment header counts in it);
 * an empty fragment, middle or last, is dropped without one. */
static void
test_frag6_bad_length(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	fx_host6(fx, NULL);
	fx_learn6_a(fx);
	l = &fx->link[0];
	FRAME(&f, pkt6_big_f2);
	frame6_resize(&f, 8 + 1231);
	expect_drop(fx, &f, "drop.in.frag-bad-length", 1);
	tx_icmp6_error(l, 0, MAC_A, "fd00::1", "fd00::2", ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER,
		       4, frame_ip(&f), 1232);
	fx_tx_clear(l);
	/* 312 bytes at 65216 end at 65528: fine; at 65528, past 65535. */
	FRAME(&f, pkt6_big_f4);
	wire_put16(frame_ip(&f) + 42, 65216);
	expect_held(fx, &f);
	wire_put16(frame_ip(&f) + 42, 65528);
	wire_put32(frame_ip(&f) + 44, 0x99999999);
	expect_drop(fx, &f, "drop.in.frag-bad-length", 1);
	tx_icmp6_error(l, 0, MAC_A, "fd00::1", "fd00::2", ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER,
		       42, frame_ip(&f), f.len - ETH_HDR_LEN);
	fx_tx_clear(l);
	/* 8 bytes of Destination Options first: 312 at 65216 end at 65536. */
	dg6(req, IPPROTO_ICMPV6_, 312);
	cut6(&cut, req, 312, 0x7777, IPPROTO_DSTOPTS_, (const uint8_t[8]){ 0, 0, 1, 4 }, 8);
	f = cut.f[0];
	wire_put16(frame_ip(&f) + 50, 65216);
	expect_drop(fx, &f, "drop.in.frag-bad-length", 1);
	tx_icmp6_error(l, 0, MAC_A, "fd00::1", "fd00::2", ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER,
		       50, frame_ip(&f), f.len - ETH_HDR_LEN);
	fx_tx_clear(l);
	FRAME(&f, pkt6_big_f2);
	frame6_resize(&f, 8);
	expect_drop(fx, &f, "drop.in.frag-bad-length", 0);
	FRAME(&f, pkt6_big_f4);
	frame6_resize(&f, 8);
	expect_drop(fx, &f, "drop.in.frag-bad-length", 0);
	assert_int_equal(rte_mempool_in_use_count(fx->st->frag.indirect), 0);
	fx_finish(fx);
}

/* RFC 7112: the first fragment holds the whole header chain, else a
 * parameter problem code 3 (pointer 0). */
static void
test_frag6_first_fragment(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	fx_host6(fx, NULL);
	fx_learn6_a(fx);
	l = &fx->link[0];
	FRAME(&f, pkt6_tiny_frag);
	expect_drop(fx, &f, "drop.in.tiny-fragment", 1);
	tx_icmp6_error(l, 0, MAC_A, "fd00::1", "fd00::2", ICMP6_PARAM_PROB,
		       ICMP6_PARAMPROB_FIRSTFRAG, 0, frame_ip(&f), f.len - ETH_HDR_LEN);
	fx_tx_clear(l);
	/* A whole 8-byte Destination Options header, then 2 bytes of UDP:
	 * not even the ports. */
	FRAME(&f, pkt6_tiny_frag);
	memcpy(frame_ip(&f) + 48,
	       (const uint8_t[]){ IPPROTO_UDP_, 0, 1, 4, 0, 0, 0, 0, 0x9c, 0x40 }, 10);
	frame6_resize(&f, 8 + 8 + 2);
	expect_drop(fx, &f, "drop.in.tiny-fragment", 1);
	tx_icmp6_error(l, 0, MAC_A, "fd00::1", "fd00::2", ICMP6_PARAM_PROB,
		       ICMP6_PARAMPROB_FIRSTFRAG, 0, frame_ip(&f), f.len - ETH_HDR_LEN);
	fx_tx_clear(l);
	/* The echo's first fragment, claiming a 2048-byte Destination
	 * Options header in front of the ICMPv6 one: it cannot hold it. */
	FRAME(&f, pkt6_big_f1);
	frame_ip(&f)[40] = IPPROTO_DSTOPTS_;
	frame_ip(&f)[49] = 255;
	expect_drop(fx, &f, "drop.in.tiny-fragment", 1);
	fx_tx_clear(l);
	assert_int_equal(rte_mempool_in_use_count(fx->st->frag.indirect), 0);
	fx_finish(fx);
}

/* RFC 1858 3: a TCP first fragment too short for the TCP header, or a
 * fragment at offset 8 (over the flags), is an attack. */
static void
test_frag4_tiny_tcp(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f, whole;
	uint8_t *ip;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	l = &fx->link[0];
	/* A 32-byte "TCP" datagram. */
	FRAME(&whole, pkt_udp);
	ip = frame_ip(&whole);
	ip[9] = IPPROTO_TCP_;
	for (unsigned i = 0; i < 32; i++)
		ip[20 + i] = (uint8_t)(0xc0 + i);
	wire_put16(ip + 6, 0);
	frame_ip_resize(&whole, 20 + 32);

	f = whole;
	wire_put16(frame_ip(&f) + 6, IPV4_FLAG_MF);
	frame_ip_resize(&f, 20 + 16);
	expect_drop(fx, &f, "drop.in.tiny-fragment", 0);
	f = whole;
	memmove(frame_ip(&f) + 20, frame_ip(&whole) + 28, 24);
	wire_put16(frame_ip(&f) + 6, 1);
	frame_ip_resize(&f, 20 + 24);
	expect_drop(fx, &f, "drop.in.tiny-fragment", 0);
	/* UDP at offset 8 is no such thing (another datagram). */
	frame_ip(&f)[9] = IPPROTO_UDP_;
	wire_put16(frame_ip(&f) + 4, 0x7777);
	ip4_hdr_fix(&f);
	expect_held(fx, &f);

	/* 24 bytes then 8 at offset 24: reassembled, and the error about it
	 * quotes the whole datagram with a whole header (of a protocol we do
	 * not speak, now that TCP is one we do). */
	frame_ip(&whole)[9] = 253;
	ip4_hdr_fix(&whole);
	f = whole;
	wire_put16(frame_ip(&f) + 6, IPV4_FLAG_MF);
	frame_ip_resize(&f, 20 + 24);
	expect_held(fx, &f);
	f = whole;
	memmove(frame_ip(&f) + 20, frame_ip(&whole) + 20 + 24, 8);
	wire_put16(frame_ip(&f) + 6, 24 / 8);
	frame_ip_resize(&f, 20 + 8);
	expect_drop(fx, &f, "drop.in.unknown-protocol", 1);
	tx_icmp_error(l, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH, ICMP_UNREACH_PROTOCOL, 0,
		      frame_ip(&whole), 20 + 32);
	fx_tx_clear(l);
	assert_int_equal(rte_mempool_in_use_count(fx->st->frag.indirect), 0);
	fx_finish(fx);
}

/* Pings dst with a 1452-byte payload (1500 bytes of IPv6) and checks it
 * left in fragments for mtu (or whole when mtu is 1500): returns the
 * identification. */
static uint32_t
ping_big(struct unit_fx *fx, const char *dst, uint16_t seq, uint16_t mtu, unsigned nfrags)
{
	static uint8_t want[IPV6_HDR_LEN + 8 + 1452];
	struct unit_link *l = &fx->link[0];
	struct sonde_prefix p;
	uint8_t *icmp = want + IPV6_HDR_LEN;
	uint32_t ident = 0;

	assert_int_equal(sonde_prefix_parse(dst, &p), 0);
	assert_int_equal(sonde_ping(fx->st, &p, 0x5eed, seq, 1452), 0);
	fx_poll(fx);
	memset(want, 0, IPV6_HDR_LEN);
	want[0] = 0x60;
	wire_put16(want + 4, 8 + 1452);
	want[6] = IPPROTO_ICMPV6_;
	want[7] = 64;
	memcpy(want + 8, ip6("fd00::1").a, 16);
	memcpy(want + 24, ip6(dst).a, 16);
	memset(icmp, 0, 8);
	icmp[0] = ICMP6_ECHO_REQUEST;
	wire_put16(icmp + 4, 0x5eed);
	wire_put16(icmp + 6, seq);
	for (unsigned i = 0; i < 1452; i++)
		icmp[8 + i] = (uint8_t)(0x10 + i);
	wire_put16(icmp + 2, ref_cksum6(want + 8, want + 24, IPPROTO_ICMPV6_, icmp, 8 + 1452));
	assert_int_equal(l->n_tx, nfrags);
	if (nfrags == 1) {
		size_t len;
		const uint8_t *ip = tx_ipv6(l, 0, MAC_A, &len);

		assert_int_equal(len, sizeof(want));
		assert_memory_equal(ip, want, sizeof(want));
	} else {
		ident = tx_ipv6_fragments(l, 0, nfrags, MAC_A, want, mtu);
	}
	fx_tx_clear(l);
	return ident;
}

/* A packet too big from router A about our packet to fd01::5, with mtu. */
static void
inject_ptb(struct unit_fx *fx, uint32_t mtu)
{
	struct frame f;

	FRAME(&f, pkt6_ptb);
	wire_put32(frame_ip(&f) + 44, mtu);
	frame6_fix(&f);
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 0);
}

/* RFC 8201 4-5, RFC 8200 5: a packet too big lowers the path MTU to that
 * destination (and only that one), never below 1280, never upwards; our
 * packets to it then leave in fragments that fit. */
static void
test_frag6_pmtu(void **state)
{
	struct unit_fx *fx = *state;
	uint32_t id1, id2;

	fx_host6(fx, NULL);
	fx_learn6_a(fx);
	fx_route(fx, "fd01::/64", "fd00::2");
	fx_snap(fx);
	ping_big(fx, "fd01::5", 1, 1500, 1);
	inject_ptb(fx, 1400);
	assert_int_equal(fx_delta(fx, "icmp6.pmtu_updates"), 1);
	assert_int_equal(fx_drops_delta(fx), 0);
	/* 1352 + 108 bytes. */
	id1 = ping_big(fx, "fd01::5", 2, 1400, 2);
	id2 = ping_big(fx, "fd01::5", 3, 1400, 2);
	assert_int_not_equal(id1, id2);
	/* Another destination keeps the link's MTU. */
	ping_big(fx, "fd00::2", 4, 1500, 1);
	/* A bigger MTU does not raise it. */
	inject_ptb(fx, 1450);
	assert_int_equal(fx_delta(fx, "icmp6.pmtu_updates"), 1);
	ping_big(fx, "fd01::5", 5, 1400, 2);
	/* One under the minimum counts as 1280: 1232 + 228 bytes. */
	inject_ptb(fx, 600);
	assert_int_equal(fx_delta(fx, "icmp6.pmtu_updates"), 2);
	ping_big(fx, "fd01::5", 6, 1280, 2);
	assert_int_equal(fx_delta(fx, "frag.fragmented"), 4);
	assert_int_equal(fx_drops_delta(fx), 0);
	expect_clean(fx);
	fx_finish(fx);
}

/* Fragments of a reply still waiting for the neighbour when the stack goes
 * hold segments of the request's buffer, through mbufs of the stack's own
 * indirect pool: the stack frees them before that pool, and every mbuf and
 * every buffer comes back (fx_finish counts both). */
static void
test_frag_held_at_destroy(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;

	fx_host(fx, NULL); /* A is not known */
	FRAME(&f, pkt_echo_req);
	memset(f.b + f.len, 0, 1600 - f.len);
	f.len = 1600;
	wire_put16(frame_ip(&f) + 2, 1600 - ETH_HDR_LEN);
	frame_fix(&f);
	fx_snap(fx);
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
	/* The reply in two fragments, held; an ARP request for A. */
	assert_int_equal(fx_delta(fx, "frag.out"), 2);
	assert_int_equal(fx->link[0].n_tx, 1);
	tx_arp(&fx->link[0], 0, ARP_OP_REQUEST, MAC_BCAST);
	fx_tx_clear(&fx->link[0]);
	assert_int_equal(fx_drops_delta(fx), 0);
	fx_finish(fx);
}

/* Fragment p (FRAME-sized), as from another datagram (ident), on link l. */
static void
inject_ident(struct unit_fx *fx, struct unit_link *l, const uint8_t *p, size_t len, uint16_t ident)
{
	struct frame f;

	frame_init(&f, p, len);
	memcpy(f.b, l->ifp->mac, 6);
	wire_put16(frame_ip(&f) + 4, ident);
	ip4_hdr_fix(&f);
	fx_inject(fx, l, f.b, f.len);
}

/* An interface destroyed: the datagrams with a fragment from it go
 * (interface-down, in), the others stay and complete. */
static void
test_frag_if_destroyed(void **state)
{
	struct unit_fx *fx = *state;

	fx_router(fx, NULL, 1500);
	fx_learn_a(fx);
	fx_snap(fx);
	/* The first fragment of one ping on test1, of another on test0. */
	inject_ident(fx, &fx->link[1], pkt_big_f1, sizeof(pkt_big_f1), 0x1111);
	inject_ident(fx, &fx->link[0], pkt_big_f1, sizeof(pkt_big_f1), 0x7e57);
	fx_poll(fx);
	assert_int_equal(fx_stat(fx, "frag.held"), 2);
	assert_int_equal(sonde_if_destroy(fx->st, fx->link[1].ifp->index), 0);
	assert_int_equal(fx_stat(fx, "frag.held"), 1);
	assert_int_equal(fx_delta(fx, "drop.in.interface-down"), 1);
	/* The one from test0 completes and is answered. */
	inject_ident(fx, &fx->link[0], pkt_big_f2, sizeof(pkt_big_f2), 0x7e57);
	inject_ident(fx, &fx->link[0], pkt_big_f3, sizeof(pkt_big_f3), 0x7e57);
	fx_poll(fx);
	assert_int_equal(fx_stat(fx, "frag.held"), 0);
	assert_int_equal(fx_delta(fx, "frag.reassembled"), 1);
	assert_true(fx->link[0].n_tx > 0);
	assert_int_equal(fx_drops_delta(fx), 1);
	fx_finish(fx);
}

/* At most 256 fragments a datagram: a ping of 2048 bytes in 256 pieces of
 * 8 is answered; one of 2056 bytes in 257 goes with its 257th
 * (frag-too-many), all of it, and the rest of it as it comes. */
static void
test_frag_too_many(void **state)
{
	struct unit_fx *fx = *state;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	dg4(req, IPPROTO_ICMP_, 0x2560, IPV4_MIN_HDR_LEN + 2048);
	cut4(&cut, req, 8, NULL, 0, NULL, 0);
	assert_int_equal(cut.n, 256);
	fx_snap(fx);
	inject_cut(fx, &cut, NULL);
	expect_echo(fx, req);
	assert_int_equal(fx_drops_delta(fx), 0);
	expect_clean(fx);
	dg4(req, IPPROTO_ICMP_, 0x2570, IPV4_MIN_HDR_LEN + 2056);
	cut4(&cut, req, 8, NULL, 0, NULL, 0);
	assert_int_equal(cut.n, 257);
	fx_snap(fx);
	for (unsigned i = 0; i < 256; i++) {
		fx_inject(fx, &fx->link[0], cut.f[i].b, cut.f[i].len);
		fx_poll(fx);
	}
	assert_int_equal(fx_stat(fx, "frag.held"), 256);
	assert_int_equal(fx_drops_delta(fx), 0);
	expect_kill(fx, &cut.f[256], "drop.in.frag-too-many", 257);
	expect_kill(fx, &cut.f[0], "drop.in.frag-too-many", 1);
	expect_clean(fx);
	fx_finish(fx);
}

/* A fragment sent to a link-layer broadcast makes its datagram one sent to
 * a group: the echo request is not answered (RFC 1122 3.2.2.6), whichever
 * fragment it was, nor is a time exceeded sent when it times out. */
static void
test_frag_group(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;

	fx_host(fx, &(struct sonde_conf){ .frag_timeout_ms = 1000 });
	fx_learn_a(fx);
	l = &fx->link[0];
	for (unsigned g = 0; g < 3; g++) {
		cut_set(&cut, big4, big4_len, 3);
		memcpy(cut.f[g].b, MAC_BCAST, 6);
		fx_snap(fx);
		inject_cut(fx, &cut, NULL);
		assert_int_equal(l->n_tx, 0);
		assert_one_drop(fx, "drop.in.icmp-broadcast");
		assert_int_equal(fx_delta(fx, "frag.reassembled"), 1);
	}
	fx_snap(fx);
	fx_inject(fx, l, cut.f[2].b, cut.f[2].len);
	fx_inject(fx, l, cut.f[0].b, cut.f[0].len);
	fx_poll(fx);
	fx_advance(fx, 1 * SEC);
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "drop.in.reassembly-timeout"), 2);
	assert_int_equal(fx_delta(fx, "icmp.errors_out"), 0);
	assert_int_equal(l->n_tx, 0);
	expect_clean(fx);
	fx_finish(fx);
}

/* The reassembly timeout (conf.frag_timeout_ms), from a datagram's first
 * fragment to come: then its fragments go (reassembly-timeout), and if the
 * one at offset 0 was among them the source hears of it, ICMP or ICMPv6
 * time exceeded code 1 quoting that one (RFC 792, RFC 8200 4.5; here an
 * IPv4 first fragment with options); not otherwise. */
static void
test_frag_timeout(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame first, f;
	uint64_t t0;

	fx_host6(fx, &(struct sonde_conf){ .frag_timeout_ms = 2000 });
	fx_learn_a(fx);
	fx_learn6_a(fx);
	l = &fx->link[0];
	FRAME(&first, pkt_big_f1);
	frame_add_opts(&first, opt_rr, sizeof(opt_rr));
	fx_snap(fx);
	t0 = fx->now;
	fx_inject(fx, l, first.b, first.len);
	fx_inject(fx, l, pkt6_big_f1, sizeof(pkt6_big_f1));
	fx_poll(fx);
	/* A second on, more of both, and the later fragments of two others. */
	fx->now = t0 + 1 * SEC;
	fx_inject(fx, l, pkt_big_f2, sizeof(pkt_big_f2));
	fx_inject(fx, l, pkt6_big_f3, sizeof(pkt6_big_f3));
	fx_inject(fx, l, pkt6_big_f2, sizeof(pkt6_big_f2));
	FRAME(&f, pkt_big_f3);
	wire_put16(frame_ip(&f) + 4, 0x7e57);
	ip4_hdr_fix(&f);
	fx_inject(fx, l, f.b, f.len);
	FRAME(&f, pkt6_big_f4);
	wire_put32(frame_ip(&f) + 44, 0x7e57);
	fx_inject(fx, l, f.b, f.len);
	fx_poll(fx);
	assert_int_equal(fx_stat(fx, "frag.held"), 7);
	fx->now = t0 + 2 * SEC - 1;
	fx_poll(fx);
	assert_int_equal(fx_stat(fx, "frag.held"), 7);
	assert_int_equal(fx_drops_delta(fx), 0);
	assert_int_equal(l->n_tx, 0);
	fx->now = t0 + 2 * SEC;
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "drop.in.reassembly-timeout"), 5);
	assert_int_equal(fx_drops_delta(fx), 5);
	assert_int_equal(l->n_tx, 2);
	tx_icmp_error(l, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_TIMXCEED, 1, 0, frame_ip(&first),
		      576 - IPV4_MIN_HDR_LEN - ICMP_HDR_LEN);
	tx_icmp6_error(l, 1, MAC_A, "fd00::1", "fd00::2", ICMP6_TIME_EXCEEDED, 1, 0,
		       pkt6_big_f1 + ETH_HDR_LEN, 1280 - IPV6_HDR_LEN - ICMP_HDR_LEN);
	fx_tx_clear(l);
	/* The two without a first fragment, timed from their own first. */
	fx->now = t0 + 3 * SEC - 1;
	fx_poll(fx);
	assert_int_equal(fx_stat(fx, "frag.held"), 2);
	fx->now = t0 + 3 * SEC;
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "drop.in.reassembly-timeout"), 7);
	assert_int_equal(fx_drops_delta(fx), 7);
	assert_int_equal(l->n_tx, 0);
	assert_int_equal(fx_delta(fx, "icmp.errors_out"), 1);
	assert_int_equal(fx_delta(fx, "icmp6.errors_out"), 1);
	assert_int_equal(fx_delta(fx, "ipv4.in_delivered") + fx_delta(fx, "ipv6.in_delivered"), 0);
	/* The rest, late: a datagram of its own, waiting in turn. */
	fx_inject(fx, l, pkt_big_f3, sizeof(pkt_big_f3));
	fx_poll(fx);
	assert_int_equal(fx_stat(fx, "frag.held"), 1);
	fx->now = t0 + 5 * SEC;
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "drop.in.reassembly-timeout"), 8);
	/* (Neighbour Unreachability Detection probes A by now.) */
	assert_int_equal(fx_delta(fx, "icmp.errors_out") + fx_delta(fx, "icmp6.errors_out"), 2);
	expect_clean(fx);
	fx_finish(fx);
}

/* conf.frag_max: no more fragments held than that, whatever they are, and
 * nothing evicted; room again when the held ones time out (each a first
 * fragment: a time exceeded each). */
static void
test_frag_full(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	fx_host(fx, &(struct sonde_conf){ .frag_max = 4, .frag_timeout_ms = 1000 });
	fx_learn_a(fx);
	l = &fx->link[0];
	fx_snap(fx);
	for (unsigned i = 0; i < 5; i++) {
		FRAME(&f, pkt_big_f1);
		wire_put16(frame_ip(&f) + 4, (uint16_t)(0x100 + i));
		ip4_hdr_fix(&f);
		fx_inject(fx, l, f.b, f.len);
		fx_poll(fx);
		assert_int_equal(fx_stat(fx, "frag.held"), i < 4 ? i + 1 : 4);
	}
	assert_int_equal(fx_delta(fx, "drop.in.reassembly-full"), 1);
	/* Even one that would complete a datagram (as Linux over its
	 * high_thresh). */
	FRAME(&f, pkt_big_f2);
	wire_put16(frame_ip(&f) + 4, 0x100);
	ip4_hdr_fix(&f);
	fx_inject(fx, l, f.b, f.len);
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "drop.in.reassembly-full"), 2);
	assert_int_equal(fx_drops_delta(fx), 2);
	assert_int_equal(l->n_tx, 0);
	fx_advance(fx, 1001 * MS);
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "drop.in.reassembly-timeout"), 4);
	assert_int_equal(fx_stat(fx, "frag.held"), 0);
	assert_int_equal(l->n_tx, 4);
	for (unsigned i = 0; i < 4; i++) {
		const uint8_t *ip = tx_ipv4(l, i, MAC_A, NULL);

		assert_int_equal(ip[20], ICMP_TIMXCEED);
		assert_int_equal(ip[21], 1);
		assert_int_equal(wire_get16(ip + 28 + 4), 0x100 + i); /* the quote's ident */
	}
	fx_tx_clear(l);
	big_ping(fx, false);
	expect_clean(fx);
	fx_finish(fx);
}

int
main(void)
{
	static struct unit_fx fx;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx)
	const struct CMUnitTest tests[] = {
		T(test_frag4_reassembly),
		T(test_frag6_reassembly),
		T(test_frag_largest),
		T(test_frag_udp_echo),
		T(test_frag4_options),
		T(test_frag6_after_dstopts),
		T(test_frag_duplicate),
		T(test_frag_overlap),
		T(test_frag_bad_end),
		T(test_frag_too_many),
		T(test_frag_group),
		T(test_frag_timeout),
		T(test_frag_full),
		T(test_frag4_bad_length),
		T(test_frag6_bad_length),
		T(test_frag6_first_fragment),
		T(test_frag4_tiny_tcp),
		T(test_frag6_pmtu),
		T(test_frag_held_at_destroy),
		T(test_frag_if_destroyed),
	};
#undef T
	int r;

	unit_init("frag");
	r = cmocka_run_group_tests_name("frag", tests, NULL, NULL);
	unit_fini();
	return r;
}
