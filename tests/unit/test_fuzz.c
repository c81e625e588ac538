/*
 * test_fuzz.c: what the fuzz target (tests/fuzz) found, one test per
 * finding, each the smallest sequence of frames that shows it, written
 * from the minimized crash (tests/fuzz/minimize, then the target's
 * SONDE_FUZZ_VERBOSE=1 replay).  Each names the date, what the fuzzer saw
 * and the fix.
 */
#include <string.h>

#include "packets.h"
#include "unit.h"

/* An IPv6 fragment from A to fd00::1 (pkt6_echo_req's Ethernet and IPv6
 * headers): a Fragment header (next header nxt, offset off, M more,
 * identification ident) and len bytes of data. */
static void
frag6_frame(struct frame *f, uint8_t nxt, uint16_t off, bool more, uint32_t ident,
	    const uint8_t *data, size_t len)
{
	uint8_t *ip;

	FRAME(f, pkt6_echo_req);
	ip = frame_ip(f);
	ip[6] = IPPROTO_FRAGMENT_;
	wire_put16(ip + 4, (uint16_t)(IPV6_FRAG_HDR_LEN + len));
	ip[40] = nxt;
	ip[41] = 0;
	wire_put16(ip + 42, (uint16_t)(off | (more ? 1 : 0)));
	wire_put32(ip + 44, ident);
	memcpy(ip + IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN, data, len);
	f->len = ETH_HDR_LEN + IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN + len;
}

/* The inner datagram's first fragment (its Fragment header and the first
 * 32 bytes of A's 64-byte echo request, ident 0x11111111) as the whole of
 * an outer datagram (ident 0x22222222), injected in n pieces (byte offset
 * and length each, in the order given) and polled: the inner fragment
 * comes out of reassembly as a chain of n mbufs, and goes back in. */
static void
frag6_outer(struct unit_fx *fx, struct unit_link *l, const uint16_t (*piece)[2], unsigned n)
{
	const uint8_t *echo = pkt6_echo_req + ETH_HDR_LEN + IPV6_HDR_LEN;
	uint8_t inner1[IPV6_FRAG_HDR_LEN + 32];
	struct frame f;

	frag6_frame(&f, IPPROTO_ICMPV6_, 0, true, 0x11111111, echo, 32);
	memcpy(inner1, frame_ip(&f) + IPV6_HDR_LEN, sizeof(inner1));
	for (unsigned i = 0; i < n; i++) {
		uint16_t off = piece[i][0], len = piece[i][1];

		frag6_frame(&f, IPPROTO_FRAGMENT_, off, off + len < sizeof(inner1), 0x22222222,
			    inner1 + off, len);
		fx_inject(fx, l, f.b, f.len);
	}
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "frag.reassembled"), 1); /* the outer */
}

/* The outer datagram in three pieces, its last (offset 32) coming second. */
static const uint16_t outer_thirds[][2] = { { 0, 16 }, { 32, 8 }, { 16, 16 } };

/* The inner datagram's second fragment: the echo request's last 32 bytes. */
static void
frag6_inner2(struct unit_fx *fx, struct unit_link *l)
{
	struct frame f;

	frag6_frame(&f, IPPROTO_ICMPV6_, 32, false, 0x11111111,
		    pkt6_echo_req + ETH_HDR_LEN + IPV6_HDR_LEN + 32, 32);
	fx_inject(fx, l, f.b, f.len);
	fx_poll(fx);
}

/* A host on test0 that knows A; the counters' deltas from here. */
static struct unit_link *
nested_start(struct unit_fx *fx)
{
	fx_host6(fx, NULL);
	fx_learn6_a(fx);
	fx_snap(fx);
	return &fx->link[0];
}

/* What the stack sent read, every mbuf back in the pool. */
static void
nested_end(struct unit_fx *fx, struct unit_link *l)
{
	fx_tx_clear(l);
	assert_int_equal(rte_mempool_in_use_count(unit_pool), fx->pool_in_use);
	fx_finish(fx);
}

/*
 * 2026-12-05, "after every timer ran the stack still holds 4 mbufs": a
 * datagram whose reassembled payload starts with another Fragment header
 * (RFC 8200 does not forbid it; the walk goes on into it) is itself a
 * fragment of an inner datagram, and goes back into reassembly as one
 * mbuf chain.  frag.c counted fragments held one per mbuf going in but
 * took a reassembled datagram out by its segments: the inner datagram
 * took out its outer fragments a second time.  The count reached zero
 * with a fragment of another datagram still held, the timer (which runs
 * only while the count is not zero) never dropped it, and it stayed until
 * the stack was destroyed; had the count gone below zero, every fragment
 * after would have been refused as reassembly-full.  Fixed in frag.c: the
 * count is of segments, going in and out.  reass.c, which replaced
 * frag.c's reassembly, counts segments too, and passes this test as it is.
 */
static void
test_frag6_nested(void **state)
{
	static const uint16_t halves[][2] = { { 0, 16 }, { 16, 24 } };
	struct unit_fx *fx = *state;
	struct unit_link *l;

	l = nested_start(fx);
	/* A fragment of a datagram that never completes. */
	fx_inject(fx, l, pkt6_big_f1, sizeof(pkt6_big_f1));
	fx_poll(fx);
	/* The inner datagram, A's 64-byte echo request, in two fragments;
	 * the first of them (its Fragment header and 32 bytes) is the whole
	 * of an outer datagram, itself cut in two. */
	frag6_outer(fx, l, halves, 2);
	frag6_inner2(fx, l);
	/* Both reassembled, the echo answered; the first fragment waits. */
	assert_int_equal(fx_delta(fx, "frag.reassembled"), 2);
	assert_int_equal(fx_delta(fx, "icmp6.echo_replies"), 1);
	assert_int_equal(l->n_tx, 1);
	fx_tx_clear(l);
	assert_int_equal(fx_stat(fx, "frag.held"), 1);
	/* ... until the reassembly timeout drops it. */
	fx_advance(fx, 31 * SEC);
	fx_poll(fx);
	assert_one_drop(fx, "drop.in.reassembly-timeout");
	assert_int_equal(fx_stat(fx, "frag.held"), 0);
	nested_end(fx, l); /* and what neighbour unreachability detection sent */
}

/*
 * 2026-12-05, after the merge of main's reassembly (reass.c), "after every
 * timer ran the stack still holds 1 mbufs, 1 of our buffers": an IPv6
 * datagram of three fragments whose payload is a fragment of another
 * datagram, which never completes.  reass.c walks a held fragment's
 * segments to its last by the first segment's nb_segs, but reread the
 * count from each segment it stepped to (1 but for the first), so it
 * stopped at the second: held, the nested fragment's chain was cut there,
 * and its third segment (the outer datagram's last fragment) was never
 * freed, though frag.held went back to zero.  Fixed in reass.c
 * (reass_lastseg reads the count once).
 */
static void
test_frag6_nested3_timeout(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	unsigned i, exceeded = 0;
	const uint8_t *p;

	l = nested_start(fx);
	frag6_outer(fx, l, outer_thirds, 3);
	assert_int_equal(fx_stat(fx, "frag.held"), 3);
	assert_int_equal(l->n_tx, 0);
	/* The inner datagram's second fragment never comes: the timeout
	 * drops the three segments, after a time exceeded (RFC 8200 4.5:
	 * code 1, its offset-zero fragment came). */
	fx_advance(fx, 31 * SEC);
	fx_poll(fx);
	assert_one_drop(fx, "drop.in.reassembly-timeout");
	assert_int_equal(fx_stat(fx, "frag.held"), 0);
	/* Among what neighbour unreachability detection sent meanwhile. */
	for (i = 0; i < l->n_tx; i++) {
		size_t len;

		p = tx_frame(l, i, &len);
		if (len >= ETH_HDR_LEN + IPV6_HDR_LEN + 8 && wire_get16(p + 12) == 0x86dd &&
		    p[ETH_HDR_LEN + 6] == IPPROTO_ICMPV6_ && p[ETH_HDR_LEN + IPV6_HDR_LEN] == 3 &&
		    p[ETH_HDR_LEN + IPV6_HDR_LEN + 1] == 1)
			exceeded++;
	}
	assert_int_equal(exceeded, 1);
	nested_end(fx, l);
}

/*
 * The same walk when the nested fragment is not the last held: the inner
 * datagram's second fragment came after it, and was linked after its
 * second segment, over the third (lost, and the echo reply built from a
 * chain that said four segments and had three).  Now answered whole.
 */
static void
test_frag6_nested3_echo(void **state)
{
	struct unit_fx *fx = *state;
	const uint8_t *echo = pkt6_echo_req + ETH_HDR_LEN + IPV6_HDR_LEN, *ip;
	struct unit_link *l;
	size_t len;

	l = nested_start(fx);
	frag6_outer(fx, l, outer_thirds, 3);
	assert_int_equal(fx_stat(fx, "frag.held"), 3);
	frag6_inner2(fx, l);
	assert_int_equal(fx_delta(fx, "frag.reassembled"), 2);
	assert_int_equal(fx_delta(fx, "icmp6.echo_replies"), 1);
	assert_int_equal(fx_stat(fx, "frag.held"), 0);
	assert_int_equal(l->n_tx, 1);
	ip = tx_ipv6(l, 0, MAC_A, &len);
	assert_int_equal(len, IPV6_HDR_LEN + 64);
	assert_int_equal(ip[6], IPPROTO_ICMPV6_);
	assert_int_equal(ip[IPV6_HDR_LEN], 129); /* echo reply */
	assert_memory_equal(ip + IPV6_HDR_LEN + 4, echo + 4, 60);
	assert_int_equal(ref_cksum6(ip + 8, ip + 24, IPPROTO_ICMPV6_, ip + IPV6_HDR_LEN, 64), 0);
	nested_end(fx, l);
}

int
main(void)
{
	static struct unit_fx fx;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx)
	const struct CMUnitTest tests[] = {
		T(test_frag6_nested),
		T(test_frag6_nested3_timeout),
		T(test_frag6_nested3_echo),
	};
#undef T
	int r;

	unit_init("fuzz");
	r = cmocka_run_group_tests_name("fuzz", tests, NULL, NULL);
	unit_fini();
	return r;
}
