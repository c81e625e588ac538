/*
 * test_icmp.c: ICMP and UDP on a host (stack/ip/icmp.c, stack/transport/udp.c; RFC 792,
 * RFC 1122 3.2.2 and 4.1.3, RFC 1812 4.3.2): echo replies checked byte by
 * byte (addresses swapped, type 0, checksums, id/seq/payload, TOS); echo to
 * broadcast ignored; malformed ICMP; UDP to a closed port answered with
 * port unreachable quoting the datagram (capped at 576 bytes); malformed
 * UDP; protocol unreachable; no error about a broadcast, or to a source
 * that is not unicast; rate limiting of errors on a fake clock, with echo
 * replies never limited (and the neighbour check its 10 s bring).
 */
#include <string.h>

#include "packets.h"
#include "unit.h"

static void
inject(struct unit_fx *fx, const struct frame *f)
{
	fx_inject(fx, &fx->link[0], f->b, f->len);
}

/* Injects f, polls, and checks nothing went out and exactly one drop as name. */
static void
expect_silent_drop(struct unit_fx *fx, const struct frame *f, const char *name)
{
	fx_snap(fx);
	inject(fx, f);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 0);
	assert_int_equal(fx_delta(fx, "icmp.errors_out"), 0);
	if (fx_delta(fx, name) != 1 || fx_drops_delta(fx) != 1) {
		fx_print_delta(fx);
		fail_msg("want one drop as %s", name);
	}
}

static void
test_echo_reply(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	const uint8_t *req = pkt_echo_req + ETH_HDR_LEN, *ip;
	size_t len;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	l = &fx->link[0];
	fx_snap(fx);
	fx_inject(fx, l, pkt_echo_req, sizeof(pkt_echo_req));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	ip = tx_ipv4(l, 0, MAC_A, &len);
	assert_int_equal(len, 84);
	assert_int_equal(ip[1], 0);		 /* the request's TOS */
	assert_int_equal(wire_get16(ip + 6), 0); /* no DF, no fragment */
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], IPPROTO_ICMP_);
	assert_memory_equal(ip + 12, req + 16, 4); /* from the address asked */
	assert_memory_equal(ip + 16, req + 12, 4); /* to the asker */
	assert_int_equal(ip[20], ICMP_ECHOREPLY);
	assert_int_equal(ip[21], 0);
	/* RFC 1624: type 8 -> 0 raises the checksum by 0x0800, 5e2a -> 662a. */
	assert_int_equal(wire_get16(ip + 22), 0x662a);
	assert_int_equal(ref_cksum(ip + 20, 64), 0);
	assert_int_equal(wire_get16(ip + 24), 0x1234);
	assert_int_equal(wire_get16(ip + 26), 1);
	assert_memory_equal(ip + 28, req + 28, 56);
	assert_int_equal(fx_delta(fx, "ipv4.in"), 1);
	assert_int_equal(fx_delta(fx, "ipv4.in_delivered"), 1);
	assert_int_equal(fx_delta(fx, "ipv4.out"), 1);
	assert_int_equal(fx_delta(fx, "icmp.in"), 1);
	assert_int_equal(fx_delta(fx, "icmp.out"), 1);
	assert_int_equal(fx_delta(fx, "icmp.echo_replies"), 1);
	assert_int_equal(fx_delta(fx, "icmp.errors_out"), 0);
	assert_int_equal(fx_drops_delta(fx), 0);
	fx_tx_clear(l);

	/* With IP options: the reply has none, and the same ICMP body. */
	fx_inject(fx, l, pkt_echo_opt, sizeof(pkt_echo_opt));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	ip = tx_ipv4(l, 0, MAC_A, &len);
	assert_int_equal(len, 20 + 26);
	assert_int_equal(ip[20], ICMP_ECHOREPLY);
	assert_int_equal(ref_cksum(ip + 20, 26), 0);
	assert_memory_equal(ip + 24, pkt_echo_opt + ETH_HDR_LEN + 24 + 4, 22);
	fx_tx_clear(l);

	/* The TOS comes back as it came. */
	FRAME(&f, pkt_echo_req);
	frame_ip(&f)[1] = 0xb8; /* DSCP EF */
	frame_fix(&f);
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	ip = tx_ipv4(l, 0, MAC_A, &len);
	assert_int_equal(ip[1], 0xb8);
	assert_int_equal(ip[20], ICMP_ECHOREPLY);
	fx_tx_clear(l);

	/* An odd-sized payload (the checksum's odd trailing byte). */
	FRAME(&f, pkt_echo_req);
	frame_ip_resize(&f, 20 + 8 + 13);
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	ip = tx_ipv4(l, 0, MAC_A, &len);
	assert_int_equal(len, 41);
	assert_int_equal(ref_cksum(ip + 20, 21), 0);
	assert_memory_equal(ip + 28, req + 28, 13);
	fx_finish(fx);
}

/* RFC 1122 3.2.2.6: silence for echo to a broadcast, link or IP. */
static void
test_echo_broadcast_ignored(void **state)
{
	static const struct {
		bool eth_bcast;
		const char *dst;
	} cases[] = {
		{ true, "10.0.0.255" },	      { false, "10.0.0.255" }, { true, "255.255.255.255" },
		{ false, "255.255.255.255" }, { true, "10.0.0.1" },
	};
	struct unit_fx *fx = *state;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FRAME(&f, pkt_echo_req);
		if (cases[i].eth_bcast)
			memcpy(f.b, MAC_BCAST, 6);
		frame_set_ip4(frame_ip(&f) + 16, cases[i].dst);
		frame_fix(&f);
		expect_silent_drop(fx, &f, "drop.in.icmp-broadcast");
	}
	assert_int_equal(fx_stat(fx, "icmp.echo_replies"), 0);
	fx_finish(fx);
}

static void
test_icmp_malformed(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	for (uint16_t n = 0; n < ICMP_HDR_LEN; n++) {
		FRAME(&f, pkt_echo_req);
		frame_ip_resize(&f, (uint16_t)(20 + n));
		expect_silent_drop(fx, &f, "drop.in.icmp-truncated");
	}
	FRAME(&f, pkt_echo_req);
	frame_ip(&f)[20 + 30] ^= 0x40; /* a payload bit */
	expect_silent_drop(fx, &f, "drop.in.icmp-bad-checksum");
	FRAME(&f, pkt_echo_req);
	wire_put16(frame_ip(&f) + 22, 0);
	expect_silent_drop(fx, &f, "drop.in.icmp-bad-checksum");
	assert_int_equal(fx_stat(fx, "icmp.in"), ICMP_HDR_LEN + 2);
	fx_finish(fx);
}

/* Replies, errors and unknown types are taken in (and freed) silently. */
static void
test_icmp_other_types(void **state)
{
	static const uint8_t types[] = { ICMP_ECHOREPLY, ICMP_UNREACH, ICMP_TIMXCEED, 13, 200 };
	struct unit_fx *fx = *state;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	fx_snap(fx);
	for (size_t i = 0; i < sizeof(types); i++) {
		FRAME(&f, pkt_echo_req);
		frame_ip(&f)[20] = types[i];
		frame_fix(&f);
		inject(fx, &f);
	}
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 0);
	assert_int_equal(fx_delta(fx, "icmp.in"), sizeof(types));
	assert_int_equal(fx_delta(fx, "icmp.out"), 0);
	assert_int_equal(fx_drops_delta(fx), 0);
	fx_finish(fx);
}

/* RFC 1122 4.1.3.1: no one listens, port unreachable, quoting the datagram
 * (RFC 1812 4.3.2.3: as much as fits in 576 bytes). */
static void
test_udp_port_unreachable(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	l = &fx->link[0];
	fx_snap(fx);
	fx_inject(fx, l, pkt_udp, sizeof(pkt_udp));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_icmp_error(l, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH, ICMP_UNREACH_PORT, 0,
		      pkt_udp + ETH_HDR_LEN, 40);
	assert_int_equal(fx_delta(fx, "udp.in"), 1);
	assert_int_equal(fx_delta(fx, "icmp.errors_out"), 1);
	assert_int_equal(fx_delta(fx, "icmp.out"), 1);
	assert_one_drop(fx, "drop.in.udp-no-port");
	fx_tx_clear(l);

	/* Padding is not quoted. */
	FRAME(&f, pkt_udp);
	memset(f.b + f.len, 0x5a, 60 - f.len);
	f.len = 60;
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_icmp_error(l, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH, ICMP_UNREACH_PORT, 0,
		      pkt_udp + ETH_HDR_LEN, 40);
	fx_tx_clear(l);

	/* A 1028-byte datagram: 548 bytes of it fit in 576. */
	FRAME(&f, pkt_udp);
	for (size_t i = ETH_HDR_LEN + 28; i < ETH_HDR_LEN + 1028; i++)
		f.b[i] = (uint8_t)(i * 7);
	frame_ip_resize(&f, 1028);
	assert_int_equal(ref_udp_cksum(frame_ip(&f)), wire_get16(frame_ip(&f) + 26));
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_icmp_error(l, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH, ICMP_UNREACH_PORT, 0,
		      frame_ip(&f), 576 - 28);
	fx_finish(fx);
}

/* An error comes from the address the offending packet was sent to, not
 * just any address of the interface (RFC 1122 3.2.2, RFC 1812 4.3.2.4). */
static void
test_error_source_address(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	fx_host(fx, NULL);
	l = &fx->link[0];
	fx_addr(fx, l, "10.0.0.5/24");
	fx_poll(fx);
	fx_tx_clear(l); /* its announcement */
	fx_learn_a(fx);
	FRAME(&f, pkt_udp);
	frame_set_ip4(frame_ip(&f) + 16, "10.0.0.5");
	frame_fix(&f);
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_icmp_error(l, 0, MAC_A, "10.0.0.5", "10.0.0.2", ICMP_UNREACH, ICMP_UNREACH_PORT, 0,
		      frame_ip(&f), 40);
	fx_tx_clear(l);
	/* And echo replies likewise. */
	FRAME(&f, pkt_echo_req);
	frame_set_ip4(frame_ip(&f) + 16, "10.0.0.5");
	frame_fix(&f);
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_ip4(tx_ipv4(l, 0, MAC_A, NULL) + 12, "10.0.0.5");
	fx_finish(fx);
}

static void
test_udp_malformed(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct rte_mbuf *m;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	l = &fx->link[0];
	for (uint16_t n = 0; n < UDP_HDR_LEN; n++) {
		FRAME(&f, pkt_udp);
		frame_ip_resize(&f, (uint16_t)(20 + n));
		expect_silent_drop(fx, &f, "drop.in.udp-truncated");
	}
	/* UDP length past the IP payload, or under its own header. */
	FRAME(&f, pkt_udp);
	wire_put16(frame_ip(&f) + 24, 21);
	frame_fix(&f);
	expect_silent_drop(fx, &f, "drop.in.udp-bad-length");
	FRAME(&f, pkt_udp);
	wire_put16(frame_ip(&f) + 24, 7);
	frame_fix(&f);
	expect_silent_drop(fx, &f, "drop.in.udp-bad-length");
	/* A wrong checksum. */
	FRAME(&f, pkt_udp);
	frame_ip(&f)[20 + 8] ^= 0x20;
	expect_silent_drop(fx, &f, "drop.in.udp-bad-checksum");
	/* The NIC said bad: bad, though it is right. */
	fx_snap(fx);
	m = fx_inject(fx, l, pkt_udp, sizeof(pkt_udp));
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_BAD;
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_one_drop(fx, "drop.in.udp-bad-checksum");

	/* No checksum (RFC 768: zero), or one the NIC vouched for: taken,
	 * hence port unreachable. */
	FRAME(&f, pkt_udp);
	wire_put16(frame_ip(&f) + 26, 0);
	fx_snap(fx);
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_icmp_error(l, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH, ICMP_UNREACH_PORT, 0,
		      frame_ip(&f), 40);
	assert_one_drop(fx, "drop.in.udp-no-port");
	fx_tx_clear(l);
	FRAME(&f, pkt_udp);
	frame_ip(&f)[20 + 8] ^= 0x20;
	fx_snap(fx);
	m = fx_inject(fx, l, f.b, f.len);
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_one_drop(fx, "drop.in.udp-no-port");
	fx_finish(fx);
}

/* RFC 1122 3.2.2.1: a transport we lack gets protocol unreachable; so
 * does GRE from an address no tunnel of ours has at its other end. */
static void
test_protocol_unreachable(void **state)
{
	static const uint8_t protos[] = { 253, 132 /* SCTP */, 47 /* GRE */ };
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	l = &fx->link[0];
	for (size_t i = 0; i < sizeof(protos); i++) {
		FRAME(&f, pkt_udp);
		frame_ip(&f)[9] = protos[i];
		frame_fix(&f);
		fx_snap(fx);
		inject(fx, &f);
		fx_poll(fx);
		assert_int_equal(l->n_tx, 1);
		tx_icmp_error(l, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH,
			      ICMP_UNREACH_PROTOCOL, 0, frame_ip(&f), 40);
		assert_one_drop(fx, protos[i] == 47 ? "drop.in.tunnel-no-match"
						    : "drop.in.unknown-protocol");
		assert_int_equal(fx_delta(fx, "ipv4.in_delivered"), 1);
		fx_tx_clear(l);
	}
	fx_finish(fx);
}

/* RFC 1122 3.2.2: no error about a broadcast (link or IP) or to a source
 * that names no single host. */
static void
test_no_error_cases(void **state)
{
	static const struct {
		bool eth_bcast;
		const char *src, *dst;
		uint8_t proto;
		const char *drop;
	} cases[] = {
		{ true, "10.0.0.2", "10.0.0.255", IPPROTO_UDP_, "drop.in.udp-no-port" },
		{ false, "10.0.0.2", "10.0.0.255", IPPROTO_UDP_, "drop.in.udp-no-port" },
		{ true, "10.0.0.2", "255.255.255.255", IPPROTO_UDP_, "drop.in.udp-no-port" },
		{ true, "10.0.0.2", "10.0.0.1", IPPROTO_UDP_, "drop.in.udp-no-port" },
		{ false, "0.0.0.0", "10.0.0.1", IPPROTO_UDP_, "drop.in.udp-no-port" },
		{ false, "0.0.0.0", "255.255.255.255", IPPROTO_UDP_, "drop.in.udp-no-port" },
		{ true, "10.0.0.2", "10.0.0.255", 253, "drop.in.unknown-protocol" },
		{ true, "10.0.0.2", "10.0.0.1", 253, "drop.in.unknown-protocol" },
		{ false, "10.0.0.2", "255.255.255.255", 253, "drop.in.unknown-protocol" },
		{ false, "0.0.0.0", "10.0.0.1", 253, "drop.in.unknown-protocol" },
	};
	struct unit_fx *fx = *state;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FRAME(&f, pkt_udp);
		if (cases[i].eth_bcast)
			memcpy(f.b, MAC_BCAST, 6);
		frame_set_ip4(frame_ip(&f) + 12, cases[i].src);
		frame_set_ip4(frame_ip(&f) + 16, cases[i].dst);
		frame_ip(&f)[9] = cases[i].proto;
		frame_fix(&f);
		expect_silent_drop(fx, &f, cases[i].drop);
	}
	assert_int_equal(fx_stat(fx, "icmp.ratelimited"), 0);
	fx_finish(fx);
}

/* Sends n UDP datagrams to a closed port at once; returns how many errors came. */
static unsigned
provoke(struct unit_fx *fx, unsigned n)
{
	struct unit_link *l = &fx->link[0];
	unsigned got;

	for (unsigned i = 0; i < n; i++)
		fx_inject(fx, l, pkt_udp, sizeof(pkt_udp));
	fx_poll(fx);
	got = l->n_tx;
	for (unsigned i = 0; i < got; i++)
		tx_icmp_error(l, i, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH, ICMP_UNREACH_PORT,
			      0, pkt_udp + ETH_HDR_LEN, 40);
	fx_tx_clear(l);
	return got;
}

/* RFC 1812 4.3.2.8: a token bucket of icmp_burst errors refilled at
 * icmp_rate a second (here 3 and 10: one token per 100 ms). */
static void
test_icmp_ratelimit(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	const uint8_t *a;

	fx_host(fx, &(struct sonde_conf){ .icmp_rate = 10, .icmp_burst = 3 });
	fx_learn_a(fx);
	l = &fx->link[0];
	fx_snap(fx);
	assert_int_equal(provoke(fx, 10), 3);
	assert_int_equal(fx_delta(fx, "icmp.ratelimited"), 7);
	assert_int_equal(fx_delta(fx, "icmp.errors_out"), 3);
	/* Every datagram is still counted as what it was. */
	assert_int_equal(fx_delta(fx, "drop.in.udp-no-port"), 10);

	fx_advance(fx, 100 * MS);
	assert_int_equal(provoke(fx, 2), 1);
	fx_advance(fx, 50 * MS);
	assert_int_equal(provoke(fx, 1), 0);
	fx_advance(fx, 50 * MS);
	assert_int_equal(provoke(fx, 1), 1);
	assert_int_equal(fx_delta(fx, "icmp.ratelimited"), 9);

	/* Echo replies are not errors: never limited, nor do they use tokens. */
	for (unsigned i = 0; i < 10; i++)
		fx_inject(fx, l, pkt_echo_req, sizeof(pkt_echo_req));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 10);
	fx_tx_clear(l);
	assert_int_equal(provoke(fx, 1), 0);

	/* A long quiet fills the bucket, but only to its depth.  Meanwhile
	 * A's entry, learnt from its request (STALE) and used by the first
	 * error (DELAY), has waited its 5 s: the timer after this burst
	 * checks A with a unicast request (RFC 4861 7.3.3, which ARP follows
	 * too), after the errors that still went to the cached MAC. */
	fx_advance(fx, 10 * SEC);
	for (unsigned i = 0; i < 5; i++)
		fx_inject(fx, l, pkt_udp, sizeof(pkt_udp));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 3 + 1);
	for (unsigned i = 0; i < 3; i++)
		tx_icmp_error(l, i, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH, ICMP_UNREACH_PORT,
			      0, pkt_udp + ETH_HDR_LEN, 40);
	a = tx_arp(l, 3, ARP_OP_REQUEST, MAC_A);
	assert_ip4(a + 14, "10.0.0.1");
	assert_ip4(a + 24, "10.0.0.2");
	fx_tx_clear(l);
	assert_int_equal(fx_delta(fx, "icmp.ratelimited"), 12);
	assert_int_equal(fx_delta(fx, "icmp.errors_out"), 8);
	assert_int_equal(fx_delta(fx, "arp.requests_out"), 1);
	fx_finish(fx);
}

int
main(void)
{
	static struct unit_fx fx;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx)
	const struct CMUnitTest tests[] = {
		T(test_echo_reply),	      T(test_echo_broadcast_ignored),
		T(test_icmp_malformed),	      T(test_icmp_other_types),
		T(test_udp_port_unreachable), T(test_error_source_address),
		T(test_udp_malformed),	      T(test_protocol_unreachable),
		T(test_no_error_cases),	      T(test_icmp_ratelimit),
	};
#undef T
	int r;

	unit_init("icmp");
	r = cmocka_run_group_tests_name("icmp", tests, NULL, NULL);
	unit_fini();
	return r;
}
