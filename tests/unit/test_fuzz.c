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
 * count is of segments, going in and out.
 */
static void
test_frag6_nested(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	const uint8_t *echo = pkt6_echo_req + ETH_HDR_LEN + IPV6_HDR_LEN; /* 64 bytes */
	uint8_t inner1[IPV6_FRAG_HDR_LEN + 32];
	struct frame f;

	fx_host6(fx, NULL);
	fx_learn6_a(fx);
	l = &fx->link[0];
	fx_snap(fx);
	/* A fragment of a datagram that never completes. */
	fx_inject(fx, l, pkt6_big_f1, sizeof(pkt6_big_f1));
	fx_poll(fx);
	/* The inner datagram, A's 64-byte echo request, in two fragments;
	 * the first of them (its Fragment header and 32 bytes) is the whole
	 * of an outer datagram, itself cut in two. */
	frag6_frame(&f, IPPROTO_ICMPV6_, 0, true, 0x11111111, echo, 32);
	memcpy(inner1, frame_ip(&f) + IPV6_HDR_LEN, sizeof(inner1));
	frag6_frame(&f, IPPROTO_FRAGMENT_, 0, true, 0x22222222, inner1, 16);
	fx_inject(fx, l, f.b, f.len);
	frag6_frame(&f, IPPROTO_FRAGMENT_, 16, false, 0x22222222, inner1 + 16, 24);
	fx_inject(fx, l, f.b, f.len);
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "frag.reassembled"), 1); /* the outer */
	frag6_frame(&f, IPPROTO_ICMPV6_, 32, false, 0x11111111, echo + 32, 32);
	fx_inject(fx, l, f.b, f.len);
	fx_poll(fx);
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
	fx_tx_clear(l); /* what neighbour unreachability detection sent meanwhile */
	assert_int_equal(rte_mempool_in_use_count(unit_pool), fx->pool_in_use);
	fx_finish(fx);
}

int
main(void)
{
	static struct unit_fx fx;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx)
	const struct CMUnitTest tests[] = {
		T(test_frag6_nested),
	};
#undef T
	int r;

	unit_init("fuzz");
	r = cmocka_run_group_tests_name("fuzz", tests, NULL, NULL);
	unit_fini();
	return r;
}
