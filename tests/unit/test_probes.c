/*
 * test_probes.c: the probe sites with every probe enabled.  A tracer
 * (bpftrace) turns probes on by raising their semaphores; this test raises
 * them itself and sends a router stack the traffic the other tests send:
 * every truncation, bad header, martian, fragment, TTL expiry, missing
 * route, oversized packet, echo, closed port, unknown protocol, ARP, a
 * reassembled ping answered in fragments, IPv6 (every cut of an extension
 * header chain, each error path, ND, fragments held and refused), and
 * pings through lo0.  probe_fire() then runs for each of them (drop probes
 * included, on packets whose headers are cut short), and everything the
 * stack counts and sends must be the same, byte for byte, as with probes
 * off.  Under ASan the injected frames sit in buffers of exactly their size
 * (see unit.c), so a probe reading past a packet is caught.  Not built
 * when the probes are compiled out (-Dprobes=false).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "packets.h"
#include "probe_sems.h"
#include "probes.h"
#include "unit.h"

#ifdef PROBE_SEMAPHORES
/* What a run leaves behind: every counter and a digest of every frame sent. */
struct outcome {
	struct unit_stat stats[UNIT_MAX_STATS];
	unsigned n_stats;
	uint64_t digest;
	unsigned frames;
};

static void
outcome_stat_cb(const char *name, uint64_t value, void *arg)
{
	struct outcome *o = arg;

	assert_true(o->n_stats < UNIT_MAX_STATS);
	snprintf(o->stats[o->n_stats].name, sizeof(o->stats[0].name), "%s", name);
	o->stats[o->n_stats++].value = value;
}

/* FNV-1a over the frames each link sent, in order; clears them. */
static void
outcome_collect(struct unit_fx *fx, struct outcome *o)
{
	for (unsigned i = 0; i < fx->n_links; i++) {
		struct unit_link *l = &fx->link[i];

		for (unsigned j = 0; j < l->n_tx; j++) {
			size_t len;
			const uint8_t *p = tx_frame(l, j, &len);

			o->digest = (o->digest ^ (i << 16 | len)) * 0x100000001b3ull;
			for (size_t k = 0; k < len; k++)
				o->digest = (o->digest ^ p[k]) * 0x100000001b3ull;
			o->frames++;
		}
		fx_tx_clear(l);
	}
}

static void
send_frame(struct unit_fx *fx, struct unit_link *l, const struct frame *f, struct outcome *o)
{
	fx_inject(fx, l, f->b, f->len);
	fx_poll(fx);
	outcome_collect(fx, o);
}

static void
send_bytes(struct unit_fx *fx, struct unit_link *l, const uint8_t *p, size_t len, struct outcome *o)
{
	fx_inject(fx, l, p, len);
	fx_poll(fx);
	outcome_collect(fx, o);
}

/* Everything the other tests throw at the stack, on a router. */
static void
run_traffic(struct unit_fx *fx, struct outcome *o)
{
	static const char *const srcs[] = { "224.0.0.5",  "255.255.255.255", "127.0.0.1",
					    "10.0.0.255", "10.0.0.1",	     "0.0.0.0" };
	static const char *const dsts[] = { "127.0.0.1",       "0.0.0.0",     "10.0.0.255",
					    "255.255.255.255", "192.168.5.5", "224.0.0.1",
					    "10.1.0.2",	       "10.0.0.1" };
	static const uint16_t frags[] = { IPV4_FLAG_MF, IPV4_FLAG_MF | 185, 185 };
	static const struct {
		const uint8_t *p;
		size_t len;
	} v6[] = {
		{ pkt6_echo_req, sizeof(pkt6_echo_req) },
		{ pkt6_udp, sizeof(pkt6_udp) },
		{ pkt6_echo_hbh, sizeof(pkt6_echo_hbh) },
		{ pkt6_echo_dst, sizeof(pkt6_echo_dst) },
		{ pkt6_echo_rh, sizeof(pkt6_echo_rh) },
		{ pkt6_echo_atomic, sizeof(pkt6_echo_atomic) },
		{ pkt6_nonxt, sizeof(pkt6_nonxt) },
		{ pkt6_hbh_second, sizeof(pkt6_hbh_second) },
		{ pkt6_rh0, sizeof(pkt6_rh0) },
		{ pkt6_opt, sizeof(pkt6_opt) },
		{ pkt6_proto253, sizeof(pkt6_proto253) },
		{ pkt6_dst_proto253, sizeof(pkt6_dst_proto253) },
		{ pkt6_tiny_frag, sizeof(pkt6_tiny_frag) },
		{ pkt6_err_chain, sizeof(pkt6_err_chain) },
		{ pkt6_ptb, sizeof(pkt6_ptb) },
		{ pkt6_rs, sizeof(pkt6_rs) },
		{ pkt6_ra, sizeof(pkt6_ra) },
		{ pkt6_na, sizeof(pkt6_na) },
		{ pkt6_ns_dad, sizeof(pkt6_ns_dad) },
		{ pkt6_big_f1, sizeof(pkt6_big_f1) },
		{ pkt6_big_f4, sizeof(pkt6_big_f4) },
	};
	struct unit_link *l0, *l1;
	struct sonde_prefix p;
	struct frame f;

	memset(o, 0, sizeof(*o));
	fx_router(fx, NULL, 1280);
	l0 = &fx->link[0];
	l1 = &fx->link[1];
	/* ARP, learning A and B. */
	send_bytes(fx, l0, pkt_arp_req, sizeof(pkt_arp_req), o);
	send_bytes(fx, l1, pkt_arp_req_b, sizeof(pkt_arp_req_b), o);
	for (size_t len = 0; len < sizeof(pkt_arp_req); len++)
		send_bytes(fx, l0, pkt_arp_req, len, o);
	/* Every truncation, of both echo requests. */
	for (size_t len = 0; len <= sizeof(pkt_echo_req); len++)
		send_bytes(fx, l0, pkt_echo_req, len, o);
	for (size_t len = 0; len <= sizeof(pkt_echo_opt); len++)
		send_bytes(fx, l0, pkt_echo_opt, len, o);
	/* Every version and IHL, checksums right or not. */
	for (unsigned b = 0; b < 256; b++) {
		FRAME(&f, pkt_udp);
		frame_ip(&f)[0] = (uint8_t)b;
		send_frame(fx, l0, &f, o);
		if ((b & 0xf) >= 5 && (b & 0xf) <= 10) {
			frame_fix(&f);
			send_frame(fx, l0, &f, o);
		}
	}
	/* Total lengths around the edges. */
	for (unsigned tot = 0; tot < 64; tot++) {
		FRAME(&f, pkt_udp);
		wire_put16(frame_ip(&f) + 2, (uint16_t)tot);
		frame_fix(&f);
		send_frame(fx, l0, &f, o);
	}
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		FRAME(&f, pkt_udp);
		frame_set_ip4(frame_ip(&f) + 12, srcs[i]);
		frame_fix(&f);
		send_frame(fx, l0, &f, o);
	}
	for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		for (unsigned proto = 0; proto < 3; proto++) {
			if (proto == 0)
				FRAME(&f, pkt_echo_req);
			else
				FRAME(&f, pkt_udp);
			frame_set_ip4(frame_ip(&f) + 16, dsts[i]);
			if (proto == 2)
				frame_ip(&f)[9] = 253;
			frame_fix(&f);
			send_frame(fx, l0, &f, o);
			frame_ip(&f)[8] = 1; /* and once more with TTL 1 */
			frame_fix(&f);
			send_frame(fx, l0, &f, o);
		}
	}
	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		FRAME(&f, pkt_fwd_udp);
		wire_put16(frame_ip(&f) + 6, frags[i]);
		frame_ip(&f)[8] = 1;
		frame_fix(&f);
		send_frame(fx, l0, &f, o);
		frame_set_ip4(frame_ip(&f) + 16, "10.0.0.1");
		frame_fix(&f);
		send_frame(fx, l0, &f, o);
	}
	/* Forwarded, too big with DF and without. */
	send_bytes(fx, l0, pkt_fwd_udp, sizeof(pkt_fwd_udp), o);
	FRAME(&f, pkt_fwd_udp);
	wire_put16(frame_ip(&f) + 6, IPV4_FLAG_DF);
	frame_ip_resize(&f, 1400);
	send_frame(fx, l0, &f, o);
	wire_put16(frame_ip(&f) + 6, 0);
	frame_fix(&f);
	send_frame(fx, l0, &f, o);
	/* ICMP and UDP cut short inside their own headers. */
	for (uint16_t n = 0; n < 8; n++) {
		FRAME(&f, pkt_echo_req);
		frame_ip_resize(&f, (uint16_t)(20 + n));
		send_frame(fx, l0, &f, o);
		FRAME(&f, pkt_udp);
		frame_ip_resize(&f, (uint16_t)(20 + n));
		send_frame(fx, l0, &f, o);
	}
	/* A 4000-byte ping in fragments: reassembled, answered in fragments. */
	send_bytes(fx, l0, pkt_big_f2, sizeof(pkt_big_f2), o);
	send_bytes(fx, l0, pkt_big_f1, sizeof(pkt_big_f1), o);
	send_bytes(fx, l0, pkt_big_f3, sizeof(pkt_big_f3), o);

	/* IPv6 on test0, after DAD; A solicits us. */
	fx_addr(fx, l0, "fe80::ff:fe00:1/64");
	fx_addr(fx, l0, "fd00::1/64");
	fx_poll(fx);
	outcome_collect(fx, o);
	fx_advance(fx, 1 * SEC);
	fx_poll(fx);
	send_bytes(fx, l0, pkt6_ns, sizeof(pkt6_ns), o);
	/* Every cut of a five-header chain: of the frame, of the payload. */
	for (size_t len = 0; len <= sizeof(pkt6_echo_chain); len++)
		send_bytes(fx, l0, pkt6_echo_chain, len, o);
	for (uint16_t n = 1; n < sizeof(pkt6_echo_chain) - ETH_HDR_LEN - IPV6_HDR_LEN; n++) {
		FRAME(&f, pkt6_echo_chain);
		frame6_resize(&f, n);
		send_frame(fx, l0, &f, o);
	}
	/* Each path: echo, errors, options, ND, fragments held and refused
	 * (not answered in fragments: their identification is random). */
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++)
		send_bytes(fx, l0, v6[i].p, v6[i].len, o);
	for (unsigned hlim = 0; hlim < 2; hlim++) {
		FRAME(&f, pkt6_udp);
		frame6_set_dst(&f, "fd01::7");
		frame_ip(&f)[7] = (uint8_t)hlim;
		send_frame(fx, l0, &f, o);
	}

	/* Ours, through lo0; and nowhere to go. */
	assert_int_equal(sonde_prefix_parse("fd00::1", &p), 0);
	assert_int_equal(sonde_ping(fx->st, &p, 7, 3, 32), 0);
	assert_int_equal(sonde_prefix_parse("10.0.0.1", &p), 0);
	assert_int_equal(sonde_ping(fx->st, &p, 7, 1, 32), 0);
	assert_int_equal(sonde_prefix_parse("10.2.0.1", &p), 0);
	assert_int_equal(sonde_ping(fx->st, &p, 7, 2, 32), -EHOSTUNREACH);
	fx_poll(fx);
	fx_poll(fx);
	outcome_collect(fx, o);
	sonde_stats_foreach(fx->st, outcome_stat_cb, o);
	fx_finish(fx);
}

static void
test_probes_enabled(void **state)
{
	struct unit_fx *fx = *state;
	static struct outcome off, on;
	uint64_t drops = 0;

	probes_enable(0);
	run_traffic(fx, &off);
	probes_enable(1);
	run_traffic(fx, &on);
	probes_enable(0);
	/* Not a quiet run: answers went out and most packets were dropped. */
	for (unsigned i = 0; i < off.n_stats; i++)
		if (strncmp(off.stats[i].name, "drop.", 5) == 0)
			drops += off.stats[i].value;
	print_message("%u frames sent, %llu drops\n", off.frames, (unsigned long long)drops);
	assert_true(off.frames >= 20);
	assert_true(drops >= 300);
	assert_int_equal(on.frames, off.frames);
	assert_int_equal(on.digest, off.digest);
	assert_int_equal(on.n_stats, off.n_stats);
	for (unsigned i = 0; i < off.n_stats; i++) {
		assert_string_equal(on.stats[i].name, off.stats[i].name);
		/* Time spent polling is the one counter that is not the traffic's. */
		if (strcmp(on.stats[i].name, "poll.busy_ns") == 0)
			continue;
		/* With a probe on, no frame may take the fast path, which fires
		 * none; with all off, the echoes and forwards here take it. */
		if (strcmp(on.stats[i].name, "poll.fast_packets") == 0) {
			assert_int_equal(on.stats[i].value, 0);
			assert_true(off.stats[i].value > 0);
			continue;
		}
		if (on.stats[i].value != off.stats[i].value)
			fail_msg("%s: %llu with probes, %llu without", on.stats[i].name,
				 (unsigned long long)on.stats[i].value,
				 (unsigned long long)off.stats[i].value);
	}
}

/* The gate reads the semaphores as one block (dtrace -G lays them out so),
 * whatever their count: each of them alone, the last one too, opens it;
 * none, it is shut. */
static void
test_gate_each(void **state)
{
	struct unit_fx *fx = *state;
	const size_t n = sizeof(probe_semaphores) / sizeof(probe_semaphores[0]);

	fx_host(fx, NULL);
	assert_int_equal(n, SONDE_PROBE_COUNT);
	assert_non_null(probe_sem_block);
	probes_enable(0);
	probe_gate_update(fx->st);
	assert_false(probe_gate(fx->st));
	for (size_t i = 0; i < n; i++) {
		/* In the block, and so read by the gate. */
		assert_true((const uint8_t *)probe_semaphores[i] >= probe_sem_block);
		assert_true((const uint8_t *)probe_semaphores[i] + 2 <=
			    probe_sem_block + PROBE_SEM_BYTES);
		*probe_semaphores[i] = 1;
		probe_gate_update(fx->st);
		assert_true(probe_gate(fx->st));
		*probe_semaphores[i] = 0;
		probe_gate_update(fx->st);
		assert_false(probe_gate(fx->st));
	}
	fx_finish(fx);
}

int
main(void)
{
	static struct unit_fx fx;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate_setup_teardown(test_probes_enabled, NULL, fx_teardown,
							 &fx),
		cmocka_unit_test_prestate_setup_teardown(test_gate_each, NULL, fx_teardown, &fx),
	};
	int r;

	unit_init("probes");
	r = cmocka_run_group_tests_name("probes", tests, NULL, NULL);
	unit_fini();
	return r;
}
#else
#error "test_probes.c needs the probes compiled in (tests/unit/meson.build)"
#endif
