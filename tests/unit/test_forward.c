/*
 * test_forward.c: the stack as a router (conf.forwarding, two test links;
 * stack/ip/ipv4.c's ipv4_forward, RFC 1812 4.3.2, 5.2-5.3, RFC 1191, RFC 1624):
 * TTL decremented with the checksum updated incrementally and still valid
 * for every TTL, options carried; next hop resolved by ARP while the packet
 * waits; TTL 1 and 0 answered with time exceeded; no route with net
 * unreachable; routes via a gateway use the gateway's MAC, longest prefix
 * first; DF and too big answered with frag needed and the next-hop MTU,
 * without DF fragmented (RFC 1812 5.2.6); no error about an ICMP error, a non-first
 * fragment or a source 0; link broadcasts not forwarded.
 */
#include <errno.h>
#include <string.h>

#include "packets.h"
#include "unit.h"

static void
route(struct unit_fx *fx, const char *dst, const char *gw, int want)
{
	struct sonde_prefix d, g;

	assert_int_equal(sonde_prefix_parse(dst, &d), 0);
	assert_int_equal(sonde_prefix_parse(gw, &g), 0);
	assert_int_equal(sonde_route_add(fx->st, &d, &g), want);
}

/* The router with A and B known. */
static void
router(struct unit_fx *fx, uint16_t mtu1)
{
	fx_router(fx, NULL, mtu1);
	fx_learn_a(fx);
	fx_learn_b(fx);
}

/* Frame f, received on test0, must leave test1 to eth_dst unchanged but
 * for TTL - 1 and the checksum, which must equal a recomputed one. */
static void
expect_forwarded(struct unit_fx *fx, const struct frame *f, const uint8_t *eth_dst)
{
	struct unit_link *l1 = &fx->link[1];
	const uint8_t *in = f->b + ETH_HDR_LEN, *p, *ip;
	size_t len, ihl = (in[0] & 0xf) * 4u, tot = wire_get16(in + 2);
	uint8_t want[IPV4_MAX_HDR_LEN];

	fx_snap(fx);
	fx_inject(fx, &fx->link[0], f->b, f->len);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 0);
	assert_int_equal(l1->n_tx, 1);
	assert_int_equal(fx_drops_delta(fx), 0);
	assert_int_equal(fx_delta(fx, "ipv4.forwarded"), 1);
	assert_int_equal(fx_delta(fx, "ipv4.in_delivered"), 0);
	p = tx_frame(l1, 0, &len);
	ip = p + ETH_HDR_LEN;
	assert_memory_equal(p, eth_dst, 6);
	assert_int_equal(wire_get16(p + 12), ETHERTYPE_IPV4);
	assert_int_equal(len, ETH_HDR_LEN + tot);
	memcpy(want, in, ihl);
	want[8] = (uint8_t)(in[8] - 1);
	want[10] = want[11] = 0;
	wire_put16(want + 10, ref_cksum(want, ihl));
	assert_memory_equal(ip, want, ihl);
	assert_memory_equal(ip + ihl, in + ihl, tot - ihl);
	fx_tx_clear(l1);
}

static void
test_forward_basic(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l0, *l1;
	struct frame f;
	const uint8_t *ip;

	router(fx, 1500);
	l1 = &fx->link[1];
	FRAME(&f, pkt_fwd_udp);
	expect_forwarded(fx, &f, MAC_B);

	/* Every TTL that may be forwarded, with various identifications:
	 * the incremental update (RFC 1624 eqn. 3) always matches. */
	for (unsigned ttl = 2; ttl <= 255; ttl++) {
		FRAME(&f, pkt_fwd_udp);
		frame_ip(&f)[8] = (uint8_t)ttl;
		wire_put16(frame_ip(&f) + 4, (uint16_t)(ttl * 0x101 + 0x55));
		frame_fix(&f);
		expect_forwarded(fx, &f, MAC_B);
	}

	/* Options travel untouched (IHL 6), the packet to B this time. */
	FRAME(&f, pkt_echo_opt);
	frame_set_ip4(frame_ip(&f) + 16, "10.1.0.2");
	frame_fix(&f);
	expect_forwarded(fx, &f, MAC_B);

	/* And back from B to A. */
	l0 = &fx->link[0];
	FRAME(&f, pkt_fwd_udp);
	memcpy(f.b, MAC_US1, 6);
	memcpy(f.b + 6, MAC_B, 6);
	frame_set_ip4(frame_ip(&f) + 12, "10.1.0.2");
	frame_set_ip4(frame_ip(&f) + 16, "10.0.0.2");
	frame_fix(&f);
	fx_inject(fx, l1, f.b, f.len);
	fx_poll(fx);
	assert_int_equal(l1->n_tx, 0);
	assert_int_equal(l0->n_tx, 1);
	ip = tx_ipv4(l0, 0, MAC_A, NULL);
	assert_int_equal(ip[8], 63);
	assert_memory_equal(ip + 20, frame_ip(&f) + 20, 25);
	fx_finish(fx);
}

/* A next hop not yet known: ask on the way out, forward on the answer. */
static void
test_forward_resolve(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l1;
	const uint8_t *a, *ip;

	fx_router(fx, NULL, 1500);
	fx_learn_a(fx);
	l1 = &fx->link[1];
	fx_inject(fx, &fx->link[0], pkt_fwd_udp, sizeof(pkt_fwd_udp));
	fx_poll(fx);
	assert_int_equal(l1->n_tx, 1);
	a = tx_arp(l1, 0, ARP_OP_REQUEST, MAC_BCAST);
	assert_ip4(a + 14, "10.1.0.1"); /* from our address on test1 */
	assert_ip4(a + 24, "10.1.0.2");
	fx_tx_clear(l1);
	/* B asks for us: learnt, answered, and the packet follows. */
	fx_inject(fx, l1, pkt_arp_req_b, sizeof(pkt_arp_req_b));
	fx_poll(fx);
	assert_int_equal(l1->n_tx, 2);
	ip = tx_ipv4(l1, 0, MAC_B, NULL);
	assert_int_equal(ip[8], 63);
	tx_arp(l1, 1, ARP_OP_REPLY, MAC_B);
	assert_int_equal(fx_stat(fx, "ipv4.forwarded"), 1);
	fx_finish(fx);
}

/* RFC 1812 5.3.1: TTL 1 or 0 cannot be forwarded; time exceeded goes back,
 * quoting the packet as it arrived. */
static void
test_forward_ttl_exceeded(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l0;
	struct frame f;

	router(fx, 1500);
	l0 = &fx->link[0];
	for (unsigned ttl = 0; ttl <= 1; ttl++) {
		FRAME(&f, pkt_fwd_udp);
		frame_ip(&f)[8] = (uint8_t)ttl;
		frame_fix(&f);
		fx_snap(fx);
		fx_inject(fx, l0, f.b, f.len);
		fx_poll(fx);
		assert_int_equal(fx->link[1].n_tx, 0);
		assert_int_equal(l0->n_tx, 1);
		/* From our address on the interface it came in by (RFC 1812 4.3.2.4). */
		tx_icmp_error(l0, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_TIMXCEED, 0, 0,
			      frame_ip(&f), 45);
		assert_one_drop(fx, "drop.in.ttl-exceeded");
		assert_int_equal(fx_delta(fx, "ipv4.forwarded"), 0);
		fx_tx_clear(l0);
	}
	fx_finish(fx);
}

static void
test_forward_no_route(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l0;
	struct frame f;

	router(fx, 1500);
	l0 = &fx->link[0];
	FRAME(&f, pkt_fwd_udp);
	frame_set_ip4(frame_ip(&f) + 16, "192.168.5.5");
	frame_fix(&f);
	fx_snap(fx);
	fx_inject(fx, l0, f.b, f.len);
	fx_poll(fx);
	assert_int_equal(fx->link[1].n_tx, 0);
	assert_int_equal(l0->n_tx, 1);
	tx_icmp_error(l0, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH, ICMP_UNREACH_NET, 0,
		      frame_ip(&f), 45);
	assert_one_drop(fx, "drop.in.no-route");
	fx_finish(fx);
}

static void
test_forward_gateway(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l1;
	struct frame f;
	const uint8_t *a;

	router(fx, 1500);
	l1 = &fx->link[1];
	route(fx, "192.168.0.0/16", "10.1.0.254", 0);
	route(fx, "192.168.1.0/24", "10.1.0.2", 0);
	/* A gateway must be on a connected network. */
	route(fx, "172.16.0.0/12", "10.9.9.9", -ENETUNREACH);
	route(fx, "172.16.0.0/12", "192.168.1.1", -ENETUNREACH);

	/* Via R, unknown yet: the request is for R, not the destination. */
	FRAME(&f, pkt_fwd_udp);
	frame_set_ip4(frame_ip(&f) + 16, "192.168.7.7");
	frame_fix(&f);
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
	assert_int_equal(l1->n_tx, 1);
	a = tx_arp(l1, 0, ARP_OP_REQUEST, MAC_BCAST);
	assert_ip4(a + 24, "10.1.0.254");
	fx_tx_clear(l1);
	fx_inject(fx, l1, pkt_arp_req_r, sizeof(pkt_arp_req_r));
	fx_poll(fx);
	assert_int_equal(l1->n_tx, 2);
	assert_ip4(tx_ipv4(l1, 0, MAC_R, NULL) + 16, "192.168.7.7");
	tx_arp(l1, 1, ARP_OP_REPLY, MAC_R);
	fx_tx_clear(l1);

	/* Known now: straight to R's MAC, IP destination unchanged. */
	expect_forwarded(fx, &f, MAC_R);
	/* The longer prefix wins: 192.168.1.0/24 is via B. */
	FRAME(&f, pkt_fwd_udp);
	frame_set_ip4(frame_ip(&f) + 16, "192.168.1.9");
	frame_fix(&f);
	expect_forwarded(fx, &f, MAC_B);
	/* A default route catches the rest. */
	route(fx, "default", "10.1.0.254", 0);
	FRAME(&f, pkt_fwd_udp);
	frame_set_ip4(frame_ip(&f) + 16, "8.8.8.8");
	frame_fix(&f);
	expect_forwarded(fx, &f, MAC_R);
	fx_finish(fx);
}

/* RFC 1191: DF and bigger than the next hop's MTU: frag needed, with the
 * MTU in the low 16 bits of the second word. */
static void
test_forward_frag_needed(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l0, *l1;
	struct frame f, want;

	router(fx, 1280);
	l0 = &fx->link[0];
	l1 = &fx->link[1];
	FRAME(&f, pkt_fwd_udp);
	for (size_t i = ETH_HDR_LEN + 28; i < sizeof(f.b); i++)
		f.b[i] = (uint8_t)i;
	wire_put16(frame_ip(&f) + 6, IPV4_FLAG_DF);
	frame_ip_resize(&f, 1281);
	fx_snap(fx);
	fx_inject(fx, l0, f.b, f.len);
	fx_poll(fx);
	assert_int_equal(l1->n_tx, 0);
	assert_int_equal(l0->n_tx, 1);
	tx_icmp_error(l0, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG,
		      1280, frame_ip(&f), 576 - 28);
	assert_one_drop(fx, "drop.out.frag-needed");
	fx_tx_clear(l0);

	/* Without DF the router fragments (RFC 791 2.3, RFC 1812 5.2.6):
	 * 1256 bytes then 5, each with the forwarded header (TTL 63, the
	 * same identification), MF but on the last, offsets in 8-byte units
	 * and a valid checksum; nothing back to A. */
	wire_put16(frame_ip(&f) + 6, 0);
	frame_fix(&f);
	fx_snap(fx);
	fx_inject(fx, l0, f.b, f.len);
	fx_poll(fx);
	assert_int_equal(l0->n_tx, 0);
	assert_int_equal(l1->n_tx, 2);
	want = f;
	frame_ip(&want)[8] = 63;
	tx_ipv4_fragments(l1, 0, 2, MAC_B, frame_ip(&want), 1280);
	assert_int_equal(wire_get16(tx_ipv4(l1, 0, MAC_B, NULL) + 2), 20 + 1256);
	assert_int_equal(wire_get16(tx_ipv4(l1, 1, MAC_B, NULL) + 6), 1256 / 8);
	assert_int_equal(fx_drops_delta(fx), 0);
	assert_int_equal(fx_delta(fx, "ipv4.forwarded"), 1);
	assert_int_equal(fx_delta(fx, "frag.fragmented"), 1);
	assert_int_equal(fx_delta(fx, "frag.out"), 2);
	assert_int_equal(l1->n_gathered, 2); /* sent as chains over the original */
	fx_tx_clear(l1);

	/* A middle fragment, too big: its pieces keep its offset (plus
	 * theirs) and all keep MF, the datagram goes on after them. */
	wire_put16(frame_ip(&f) + 6, IPV4_FLAG_MF | 100);
	frame_fix(&f);
	fx_inject(fx, l0, f.b, f.len);
	fx_poll(fx);
	assert_int_equal(l1->n_tx, 2);
	for (unsigned i = 0; i < 2; i++) {
		size_t len;
		const uint8_t *ip = tx_ipv4(l1, i, MAC_B, &len);

		assert_int_equal(len, i ? 20 + 5 : 20 + 1256);
		assert_int_equal(wire_get16(ip + 6), IPV4_FLAG_MF | (100 + i * 1256 / 8));
		assert_int_equal(ip[8], 63);
		assert_memory_equal(ip + 20, frame_ip(&f) + 20 + i * 1256, len - 20);
	}
	fx_tx_clear(l1);
	assert_int_equal(rte_mempool_in_use_count(fx->st->frag.indirect), 0);

	/* Exactly the MTU passes, DF or not. */
	wire_put16(frame_ip(&f) + 6, IPV4_FLAG_DF);
	frame_ip_resize(&f, 1280);
	expect_forwarded(fx, &f, MAC_B);
	fx_finish(fx);
}

/* RFC 1812 4.3.2.7: no error about an ICMP error, a non-initial fragment
 * or a source that is not one host; errors about echo requests and first
 * fragments are fine. */
static void
test_forward_no_error_about(void **state)
{
	static const struct {
		const char *what;
		uint8_t proto, icmp_type;
		uint16_t frag;
		const char *src;
		unsigned errors;
	} cases[] = {
		{ "dest unreachable", IPPROTO_ICMP_, ICMP_UNREACH, 0, "10.0.0.2", 0 },
		{ "time exceeded", IPPROTO_ICMP_, ICMP_TIMXCEED, 0, "10.0.0.2", 0 },
		{ "parameter problem", IPPROTO_ICMP_, ICMP_PARAMPROB, 0, "10.0.0.2", 0 },
		{ "redirect", IPPROTO_ICMP_, ICMP_REDIRECT, 0, "10.0.0.2", 0 },
		{ "source quench", IPPROTO_ICMP_, ICMP_SOURCEQUENCH, 0, "10.0.0.2", 0 },
		{ "echo request", IPPROTO_ICMP_, ICMP_ECHO, 0, "10.0.0.2", 1 },
		{ "echo reply", IPPROTO_ICMP_, ICMP_ECHOREPLY, 0, "10.0.0.2", 1 },
		{ "middle fragment", IPPROTO_UDP_, 0, IPV4_FLAG_MF | 100, "10.0.0.2", 0 },
		{ "last fragment", IPPROTO_UDP_, 0, 100, "10.0.0.2", 0 },
		{ "first fragment", IPPROTO_UDP_, 0, IPV4_FLAG_MF, "10.0.0.2", 1 },
		{ "from 0.0.0.0", IPPROTO_UDP_, 0, 0, "0.0.0.0", 0 },
	};
	struct unit_fx *fx = *state;
	struct unit_link *l0;
	struct frame f;

	router(fx, 1500);
	l0 = &fx->link[0];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *ip;

		FRAME(&f, pkt_fwd_udp);
		ip = frame_ip(&f);
		ip[8] = 1;
		ip[9] = cases[i].proto;
		wire_put16(ip + 6, cases[i].frag);
		frame_set_ip4(ip + 12, cases[i].src);
		if (cases[i].proto == IPPROTO_ICMP_) {
			ip[20] = cases[i].icmp_type;
			ip[21] = 0;
		}
		frame_fix(&f);
		fx_snap(fx);
		fx_inject(fx, l0, f.b, f.len);
		fx_poll(fx);
		assert_int_equal(fx->link[1].n_tx, 0);
		if (l0->n_tx != cases[i].errors)
			fail_msg("%s: %u errors, want %u", cases[i].what, l0->n_tx,
				 cases[i].errors);
		if (cases[i].errors)
			tx_icmp_error(l0, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_TIMXCEED, 0, 0, ip,
				      45);
		assert_one_drop(fx, "drop.in.ttl-exceeded");
		fx_tx_clear(l0);
	}
	/* An ICMP packet too short to have a type is no grounds for one. */
	FRAME(&f, pkt_fwd_udp);
	frame_ip(&f)[8] = 1;
	frame_ip(&f)[9] = IPPROTO_ICMP_;
	frame_ip_resize(&f, 20);
	fx_snap(fx);
	fx_inject(fx, l0, f.b, f.len);
	fx_poll(fx);
	assert_int_equal(l0->n_tx, 0);
	assert_one_drop(fx, "drop.in.ttl-exceeded");
	fx_finish(fx);
}

/* RFC 1812 5.3.4: what came as a link-layer broadcast is not forwarded. */
static void
test_forward_link_broadcast(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;

	router(fx, 1500);
	FRAME(&f, pkt_fwd_udp);
	memcpy(f.b, MAC_BCAST, 6);
	fx_snap(fx);
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx + fx->link[1].n_tx, 0);
	assert_one_drop(fx, "drop.in.not-local");
	assert_int_equal(fx_delta(fx, "ipv4.forwarded"), 0);

	/* RFC 1812 5.3.5: nor is multicast (no multicast routing here),
	 * even with a route that would cover it. */
	route(fx, "224.0.0.0/4", "10.1.0.2", 0);
	for (unsigned i = 0; i < 2; i++) {
		FRAME(&f, pkt_fwd_udp);
		memcpy(f.b, (const uint8_t[]){ 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 }, 6);
		frame_set_ip4(frame_ip(&f) + 16, i ? "239.1.2.3" : "224.0.0.251");
		frame_fix(&f);
		fx_snap(fx);
		fx_inject(fx, &fx->link[0], f.b, f.len);
		fx_poll(fx);
		assert_int_equal(fx->link[0].n_tx + fx->link[1].n_tx, 0);
		assert_one_drop(fx, "drop.in.not-local");
	}
	/* Multicast IP in a unicast frame, to us: the same. */
	FRAME(&f, pkt_fwd_udp);
	frame_set_ip4(frame_ip(&f) + 16, "239.1.2.3");
	frame_fix(&f);
	fx_snap(fx);
	fx_inject(fx, &fx->link[0], f.b, f.len);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx + fx->link[1].n_tx, 0);
	assert_one_drop(fx, "drop.in.not-local");
	fx_finish(fx);
}

int
main(void)
{
	static struct unit_fx fx;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx)
	const struct CMUnitTest tests[] = {
		T(test_forward_basic),		T(test_forward_resolve),
		T(test_forward_ttl_exceeded),	T(test_forward_no_route),
		T(test_forward_gateway),	T(test_forward_frag_needed),
		T(test_forward_no_error_about), T(test_forward_link_broadcast),
	};
#undef T
	int r;

	unit_init("forward");
	r = cmocka_run_group_tests_name("forward", tests, NULL, NULL);
	unit_fini();
	return r;
}
