/*
 * test_frag.c: fragments in both families (stack/ip/frag.c over rte_ip_frag,
 * stack/ip/ipv4.c, stack/ip/ipv6.c, stack/ip/icmp6.c) with the fake clock.
 * Reassembly (RFC 791 3.2, RFC 8200 4.5) of real 4000-byte pings cut by
 * scapy, in every order, delivered once, and the echo reply fragmented
 * back at the link MTU (offsets, MF, identification, checksums);
 * overlapping or duplicate fragments drop the whole datagram (RFC 5722);
 * the reassembly timeout (conf.frag_timeout_ms) and the cap on fragments
 * held (conf.frag_max); lengths refused: IPv4 MF with a length not a
 * multiple of 8 and datagrams past 65535 bytes (the ping of death), IPv6
 * the same with RFC 8200 4.5's parameter problems; RFC 7112 tiny first
 * fragments (parameter problem code 3), RFC 1858 3 tiny TCP fragments; the
 * fragment header only right after the IPv6 header (rte_ip_frag's limit);
 * RFC 8201 path MTU: a packet too big lowers the MTU for that destination
 * only, never below 1280 nor upwards, and our packets to it leave in
 * fragments of that size.  Every test also checks that the indirect mbufs
 * the fragmenter uses are all back (frag.indirect in use 0).
 */
#include <string.h>

#include "packets.h"
#include "unit.h"

#define BIG_ICMP (8 + 4000)

static const uint8_t *const big4[] = { pkt_big_f1, pkt_big_f2, pkt_big_f3 };
static const size_t big4_len[] = { sizeof(pkt_big_f1), sizeof(pkt_big_f2), sizeof(pkt_big_f3) };
static const uint8_t *const big6[] = { pkt6_big_f1, pkt6_big_f2, pkt6_big_f3, pkt6_big_f4 };
static const size_t big6_len[] = { sizeof(pkt6_big_f1), sizeof(pkt6_big_f2), sizeof(pkt6_big_f3),
				   sizeof(pkt6_big_f4) };

/* The IPv4 header checksum only (frame_fix would also "fix" the ICMP
 * checksum of a fragment, which covers the whole datagram). */
static void
ip4_hdr_fix(struct frame *f)
{
	uint8_t *ip = frame_ip(f);

	wire_put16(ip + 10, 0);
	wire_put16(ip + 10, ref_cksum(ip, IPV4_MIN_HDR_LEN));
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

/* Injects the fragments order[0..n) of set (frames p, lengths len), polls
 * after each: nothing may leave before the last. */
static void
inject_order(struct unit_fx *fx, const uint8_t *const *p, const size_t *len, const unsigned *order,
	     unsigned n)
{
	struct unit_link *l = &fx->link[0];

	for (unsigned i = 0; i < n; i++) {
		fx_inject(fx, l, p[order[i]], len[order[i]]);
		fx_poll(fx);
		if (i + 1 < n) {
			assert_int_equal(l->n_tx, 0);
			assert_int_equal(fx_stat(fx, "frag.held"), i + 1);
		}
	}
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

/* RFC 791 3.2: in every order, one datagram, delivered (read) once; the
 * reply leaves in fragments. */
static void
test_frag4_reassembly(void **state)
{
	struct unit_fx *fx = *state;
	unsigned order[3] = { 0, 1, 2 }, n = 0;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	do {
		fx_snap(fx);
		inject_order(fx, big4, big4_len, order, 3);
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
	} while (next_perm(order, 3));
	assert_int_equal(n, 6);
	fx_finish(fx);
}

/* RFC 8200 4.5: the same for IPv6, 24 orders of four fragments. */
static void
test_frag6_reassembly(void **state)
{
	struct unit_fx *fx = *state;
	unsigned order[4] = { 0, 1, 2, 3 }, n = 0;
	uint32_t ident, last = 0;

	fx_host6(fx, NULL);
	fx_learn6_a(fx);
	do {
		fx_snap(fx);
		inject_order(fx, big6, big6_len, order, 4);
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
	} while (next_perm(order, 4));
	assert_int_equal(n, 24);
	fx_finish(fx);
}

/* RFC 5722 (and RFC 791 for IPv4 as rte_ip_frag does it): a fragment that
 * overlaps another, or repeats one, discards every fragment held of its
 * datagram; nothing is delivered or answered. */
static void
test_frag_overlap(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	fx_host6(fx, NULL);
	fx_learn_a(fx);
	fx_learn6_a(fx);
	l = &fx->link[0];

	/* IPv4: the second fragment 8 bytes early, over the first's end. */
	fx_snap(fx);
	fx_inject(fx, l, pkt_big_f1, sizeof(pkt_big_f1));
	FRAME(&f, pkt_big_f2);
	wire_put16(frame_ip(&f) + 6, IPV4_FLAG_MF | (1480 / 8 - 1));
	ip4_hdr_fix(&f);
	fx_inject(fx, l, f.b, f.len);
	fx_inject(fx, l, pkt_big_f3, sizeof(pkt_big_f3));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_int_equal(fx_delta(fx, "drop.in.frag-overlap"), 3);
	assert_int_equal(fx_drops_delta(fx), 3);
	assert_int_equal(fx_delta(fx, "ipv4.in_delivered"), 0);
	expect_clean(fx);

	/* The first fragment twice. */
	fx_snap(fx);
	fx_inject(fx, l, pkt_big_f1, sizeof(pkt_big_f1));
	fx_inject(fx, l, pkt_big_f2, sizeof(pkt_big_f2));
	fx_inject(fx, l, pkt_big_f1, sizeof(pkt_big_f1));
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "drop.in.frag-overlap"), 3);
	/* The datagram is gone: its last fragment starts a new one, which
	 * waits (and is dropped at shutdown). */
	fx_inject(fx, l, pkt_big_f3, sizeof(pkt_big_f3));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_int_equal(fx_stat(fx, "frag.held"), 1);
	assert_int_equal(fx_drops_delta(fx), 3);

	/* IPv6: the third fragment 8 bytes early. */
	fx_snap(fx);
	FRAME(&f, pkt6_big_f3);
	wire_put16(frame_ip(&f) + 42, (2 * 1232 - 8) | 1);
	fx_inject(fx, l, pkt6_big_f1, sizeof(pkt6_big_f1));
	fx_inject(fx, l, pkt6_big_f2, sizeof(pkt6_big_f2));
	fx_inject(fx, l, f.b, f.len);
	fx_inject(fx, l, pkt6_big_f4, sizeof(pkt6_big_f4));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_int_equal(fx_delta(fx, "drop.in.frag-overlap"), 4);
	assert_int_equal(fx_drops_delta(fx), 4);
	assert_int_equal(fx_delta(fx, "ipv6.in_delivered"), 0);
	/* A last fragment twice. */
	fx_snap(fx);
	fx_inject(fx, l, pkt6_big_f4, sizeof(pkt6_big_f4));
	fx_inject(fx, l, pkt6_big_f4, sizeof(pkt6_big_f4));
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "drop.in.frag-overlap"), 2);
	assert_int_equal(fx_stat(fx, "frag.held"), 1); /* IPv4's last, above */
	assert_int_equal(rte_mempool_in_use_count(fx->st->frag.indirect), 0);
	fx_finish(fx);
}

/* Fragments that never complete are dropped when the timeout (counted
 * from the first) has passed, and no sooner. */
static void
test_frag_timeout(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	uint64_t t0;

	fx_host6(fx, &(struct sonde_conf){ .frag_timeout_ms = 2000 });
	l = &fx->link[0];
	fx_snap(fx);
	t0 = fx->now;
	fx_inject(fx, l, pkt_big_f1, sizeof(pkt_big_f1));
	fx_inject(fx, l, pkt6_big_f1, sizeof(pkt6_big_f1));
	fx_poll(fx);
	fx->now = t0 + 1 * SEC;
	fx_inject(fx, l, pkt_big_f2, sizeof(pkt_big_f2));
	fx_inject(fx, l, pkt6_big_f3, sizeof(pkt6_big_f3));
	fx_inject(fx, l, pkt6_big_f2, sizeof(pkt6_big_f2));
	fx_poll(fx);
	assert_int_equal(fx_stat(fx, "frag.held"), 5);
	for (uint64_t t = 1100 * MS; t <= 2000 * MS; t += 100 * MS) {
		fx->now = t0 + t;
		fx_poll(fx);
	}
	assert_int_equal(fx_stat(fx, "frag.held"), 5);
	assert_int_equal(fx_drops_delta(fx), 0);
	fx->now = t0 + 2001 * MS;
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "drop.in.reassembly-timeout"), 5);
	assert_int_equal(fx_drops_delta(fx), 5);
	/* No time exceeded (code 1) to the sender yet, though both first
	 * fragments came (a SHOULD of RFC 1122 3.3.2 and RFC 8200 4.5). */
	assert_int_equal(l->n_tx, 0);
	assert_int_equal(fx_delta(fx, "ipv4.in_delivered") + fx_delta(fx, "ipv6.in_delivered"), 0);
	/* The rest, late: a datagram of its own, waiting in turn. */
	fx_inject(fx, l, pkt_big_f3, sizeof(pkt_big_f3));
	fx_poll(fx);
	assert_int_equal(fx_stat(fx, "frag.held"), 1);
	fx->now = t0 + 4002 * MS;
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "drop.in.reassembly-timeout"), 6);
	expect_clean(fx);
	fx_finish(fx);
}

/* conf.frag_max: no more fragments held than that, whatever they are; room
 * again when the held ones time out. */
static void
test_frag_full(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;
	unsigned order[3] = { 0, 1, 2 };

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
	/* Even one that would complete a datagram. */
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
	inject_order(fx, big4, big4_len, order, 3);
	expect_reply4(fx);
	expect_clean(fx);
	fx_finish(fx);
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
 * at the payload length for the length, at the offset for the size. */
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
	assert_int_equal(rte_mempool_in_use_count(fx->st->frag.indirect), 0);
	fx_finish(fx);
}

/* RFC 7112: the first fragment holds the whole header chain, else a
 * parameter problem code 3 (pointer 0); RFC 8200 4.5 via rte_ip_frag: the
 * fragment header right after the IPv6 header. */
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
	/* Behind Hop-by-Hop, DST and a routing header: complete, but not
	 * where rte_ip_frag looks for the fragment header. */
	FRAME(&f, pkt6_echo_chain);
	wire_put16(frame_ip(&f) + 64 + 2, 1); /* M: no longer atomic */
	expect_drop(fx, &f, "drop.in.frag-header-not-first", 0);
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
	/* A 32-byte "TCP" datagram (we speak no TCP: protocol unreachable). */
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
	 * quotes the whole datagram with a whole header. */
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

int
main(void)
{
	static struct unit_fx fx;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx)
	const struct CMUnitTest tests[] = {
		T(test_frag4_reassembly),
		T(test_frag6_reassembly),
		T(test_frag_overlap),
		T(test_frag_timeout),
		T(test_frag_full),
		T(test_frag4_bad_length),
		T(test_frag6_bad_length),
		T(test_frag6_first_fragment),
		T(test_frag4_tiny_tcp),
		T(test_frag6_pmtu),
		T(test_frag_held_at_destroy),
	};
#undef T
	int r;

	unit_init("frag");
	r = cmocka_run_group_tests_name("frag", tests, NULL, NULL);
	unit_fini();
	return r;
}
