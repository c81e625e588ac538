/*
 * test_ipv4.c: the receive path up to the transports and the send path
 * down to the link (stack/link/eth.c, stack/ip/ipv4.c, RFC 791, RFC 1122 3.2.1,
 * RFC 1812 5.3.7): every malformed Ethernet frame and IPv4 header dropped
 * under its own counter with nothing sent; checksum offload flags obeyed;
 * Ethernet padding trimmed; chained mbufs linearised; martian sources and
 * bad destinations; not-local packets on a host; fragments held and
 * reassembled; loopback (sonde_ping to our own address through lo0, and a
 * full lo0 queue); no route, our own packets over the MTU fragmented,
 * transmit bursts and a link that refuses frames.
 */
#include <errno.h>
#include <string.h>

#include "packets.h"
#include "unit.h"

/* Injects f on test0, polls, and checks it was dropped under name and
 * nothing at all was sent. */
static void
expect_drop(struct unit_fx *fx, const void *p, size_t len, const char *name)
{
	fx_snap(fx);
	fx_inject(fx, &fx->link[0], p, len);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 0);
	if (fx_delta(fx, name) != 1 || fx_drops_delta(fx) != 1) {
		fx_print_delta(fx);
		fail_msg("want one drop as %s: got %llu of %llu", name,
			 (unsigned long long)fx_delta(fx, name),
			 (unsigned long long)fx_drops_delta(fx));
	}
}

static void
expect_frame_drop(struct unit_fx *fx, const struct frame *f, const char *name)
{
	expect_drop(fx, f->b, f->len, name);
}

/* Injects f and checks the echo reply it brings: returns the reply's IP
 * header for more checks (the frame stays in link->tx[0]). */
static const uint8_t *
expect_echo_reply(struct unit_fx *fx, const struct frame *f)
{
	struct unit_link *l = &fx->link[0];
	const uint8_t *req = f->b + ETH_HDR_LEN, *ip;
	size_t len, ihl = (req[0] & 0xf) * 4u, tot = wire_get16(req + 2);

	fx_snap(fx);
	fx_inject(fx, l, f->b, f->len);
	fx_poll(fx);
	assert_int_equal(fx_drops_delta(fx), 0);
	assert_int_equal(l->n_tx, 1);
	ip = tx_ipv4(l, 0, MAC_A, &len);
	assert_int_equal(len, 20 + tot - ihl);
	assert_int_equal(ip[20], ICMP_ECHOREPLY);
	assert_int_equal(ref_cksum(ip + 20, len - 20), 0);
	assert_memory_equal(ip + 24, req + ihl + 4, tot - ihl - 4);
	return ip;
}

static void
test_eth_input(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	for (size_t len = 0; len < ETH_HDR_LEN; len++)
		expect_drop(fx, pkt_echo_req, len, "drop.in.eth-truncated");
	/* Unicast to another MAC: not ours (a NIC in promiscuous mode). */
	FRAME(&f, pkt_echo_req);
	f.b[5] = 0x77;
	expect_frame_drop(fx, &f, "drop.in.eth-not-for-us");
	/* Types we do not speak. */
	FRAME(&f, pkt_echo_req);
	wire_put16(f.b + 12, ETHERTYPE_VLAN);
	expect_frame_drop(fx, &f, "drop.in.eth-unknown-type");
	wire_put16(f.b + 12, 0x88cc); /* LLDP */
	expect_frame_drop(fx, &f, "drop.in.eth-unknown-type");
	/* Link-layer drops are not IP: ipv4.in never moved. */
	assert_int_equal(fx_stat(fx, "ipv4.in"), 0);
	/* Received frames and bytes are counted whatever became of them. */
	assert_int_equal(fx_stat(fx, "if.test0.rx_packets"), 1 + ETH_HDR_LEN + 3);
	fx_finish(fx);
}

/* Every header error of RFC 1122 3.2.1 / RFC 1812 5.2.2 has its counter,
 * none reaches ipv4.in, and none is answered. */
static void
test_ipv4_malformed(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);

	for (size_t len = 0; len < IPV4_MIN_HDR_LEN; len++)
		expect_drop(fx, pkt_echo_req, ETH_HDR_LEN + len, "drop.in.truncated");
	/* IHL 15 (60 bytes) in a 40-byte packet: the header is cut short. */
	FRAME(&f, pkt_udp);
	f.b[ETH_HDR_LEN] = 0x4f;
	expect_frame_drop(fx, &f, "drop.in.truncated");

	for (unsigned v = 0; v < 16; v++) {
		if (v == 4)
			continue;
		FRAME(&f, pkt_echo_req);
		f.b[ETH_HDR_LEN] = (uint8_t)(v << 4 | 5);
		frame_fix(&f);
		expect_frame_drop(fx, &f, "drop.in.bad-version");
	}
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		FRAME(&f, pkt_echo_req);
		f.b[ETH_HDR_LEN] = (uint8_t)(0x40 | ihl);
		expect_frame_drop(fx, &f, "drop.in.bad-ihl");
	}
	/* Total length shorter than the header, or longer than the frame. */
	FRAME(&f, pkt_echo_req);
	wire_put16(frame_ip(&f) + 2, 19);
	frame_fix(&f);
	expect_frame_drop(fx, &f, "drop.in.bad-length");
	FRAME(&f, pkt_echo_opt);
	wire_put16(frame_ip(&f) + 2, 22); /* IHL is 24 */
	frame_fix(&f);
	expect_frame_drop(fx, &f, "drop.in.bad-length");
	FRAME(&f, pkt_echo_req);
	wire_put16(frame_ip(&f) + 2, (uint16_t)(f.len - ETH_HDR_LEN + 1));
	frame_fix(&f);
	expect_frame_drop(fx, &f, "drop.in.bad-length");
	/* Cut anywhere between the header and the total length. */
	for (size_t len = IPV4_MIN_HDR_LEN; len < sizeof(pkt_echo_req) - ETH_HDR_LEN; len += 7)
		expect_drop(fx, pkt_echo_req, ETH_HDR_LEN + len, "drop.in.bad-length");

	/* A changed TTL without a new checksum. */
	FRAME(&f, pkt_echo_req);
	frame_ip(&f)[8] = 63;
	expect_frame_drop(fx, &f, "drop.in.bad-checksum");
	FRAME(&f, pkt_echo_opt);
	frame_ip(&f)[22] ^= 0x01; /* in the option */
	expect_frame_drop(fx, &f, "drop.in.bad-checksum");

	assert_int_equal(fx_stat(fx, "ipv4.in"), 0);
	assert_int_equal(fx_stat(fx, "icmp.in"), 0);
	/* And the good ones still work. */
	FRAME(&f, pkt_echo_req);
	expect_echo_reply(fx, &f);
	fx_finish(fx);
}

/* The NIC's verdict stands: BAD drops a correct header, GOOD takes a wrong one. */
static void
test_ipv4_cksum_offload(void **state)
{
	struct unit_fx *fx = *state;
	struct rte_mbuf *m;
	struct unit_link *l;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	l = &fx->link[0];
	fx_snap(fx);
	m = fx_inject(fx, l, pkt_echo_req, sizeof(pkt_echo_req));
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_one_drop(fx, "drop.in.bad-checksum");

	FRAME(&f, pkt_echo_req);
	frame_ip(&f)[10] ^= 0xff;
	fx_snap(fx);
	m = fx_inject(fx, l, f.b, f.len);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	fx_poll(fx);
	assert_int_equal(fx_drops_delta(fx), 0);
	assert_int_equal(l->n_tx, 1);
	tx_ipv4(l, 0, MAC_A, NULL);
	fx_finish(fx);
}

/* RFC 894: Ethernet pads frames to 60 bytes; IP's total length says where
 * the packet ends and the rest must not reach ICMP (whose checksum it
 * would break) nor come back in the reply. */
static void
test_ipv4_padding_trimmed(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;
	const uint8_t *ip;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	FRAME(&f, pkt_echo_req);
	frame_ip_resize(&f, 20 + 8 + 4); /* a 46-byte frame */
	memset(f.b + f.len, 0xa5, 60 - f.len);
	f.len = 60;
	ip = expect_echo_reply(fx, &f);
	assert_int_equal(wire_get16(ip + 2), 32);
	assert_memory_equal(ip + 28, pkt_echo_req + ETH_HDR_LEN + 28, 4);
	fx_finish(fx);
}

/* A packet in two segments (as a NIC with small buffers gives it) is
 * linearised and handled like any other. */
static void
test_ipv4_chained_mbuf(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct rte_mbuf *m, *m2;
	const uint8_t *ip;
	size_t split = ETH_HDR_LEN + 30;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	l = &fx->link[0];
	fx_snap(fx);
	m = fx_inject_pool(fx, l, pkt_echo_req, split);
	m2 = rte_pktmbuf_alloc(unit_pool);
	assert_non_null(m2);
	memcpy(rte_pktmbuf_append(m2, (uint16_t)(sizeof(pkt_echo_req) - split)),
	       pkt_echo_req + split, sizeof(pkt_echo_req) - split);
	assert_int_equal(rte_pktmbuf_chain(m, m2), 0);
	fx_poll(fx);
	assert_int_equal(fx_drops_delta(fx), 0);
	assert_int_equal(l->n_tx, 1);
	ip = tx_ipv4(l, 0, MAC_A, NULL);
	assert_int_equal(ip[20], ICMP_ECHOREPLY);
	assert_memory_equal(ip + 24, pkt_echo_req + ETH_HDR_LEN + 24, 60);
	fx_finish(fx);
}

/* RFC 1122 3.2.1.3 / RFC 1812 5.3.7: sources that cannot be a host's. */
static void
test_ipv4_martians(void **state)
{
	static const char *const bad_src[] = {
		"224.0.0.5", "239.1.2.3",   "255.255.255.255",
		"127.0.0.1", "127.255.0.9", "10.0.0.255", /* our subnet's broadcast */
		"10.0.0.1",				  /* ourselves */
	};
	static const char *const bad_dst[] = { "127.0.0.1", "0.0.0.0" };
	struct unit_fx *fx = *state;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	for (size_t i = 0; i < sizeof(bad_src) / sizeof(bad_src[0]); i++) {
		FRAME(&f, pkt_echo_req);
		frame_set_ip4(frame_ip(&f) + 12, bad_src[i]);
		frame_fix(&f);
		expect_frame_drop(fx, &f, "drop.in.bad-source");
		/* Valid IP: counted in, then refused. */
		assert_int_equal(fx_delta(fx, "ipv4.in"), 1);
	}
	for (size_t i = 0; i < sizeof(bad_dst) / sizeof(bad_dst[0]); i++) {
		FRAME(&f, pkt_echo_req);
		frame_set_ip4(frame_ip(&f) + 16, bad_dst[i]);
		frame_fix(&f);
		expect_frame_drop(fx, &f, "drop.in.bad-destination");
	}
	assert_int_equal(fx_stat(fx, "icmp.in"), 0);
	fx_finish(fx);
}

/* A host (forwarding off) takes only what is addressed to it. */
static void
test_ipv4_not_local(void **state)
{
	static const char *const others[] = { "10.0.0.99", "192.168.1.1", "10.1.0.1", "224.0.0.1",
					      "239.255.255.250" };
	struct unit_fx *fx = *state;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		FRAME(&f, pkt_udp);
		frame_set_ip4(frame_ip(&f) + 16, others[i]);
		frame_fix(&f);
		expect_frame_drop(fx, &f, "drop.in.not-local");
	}
	/* Not even TTL 1 brings a time exceeded from a host. */
	FRAME(&f, pkt_udp);
	frame_set_ip4(frame_ip(&f) + 16, "10.0.0.99");
	frame_ip(&f)[8] = 1;
	frame_fix(&f);
	expect_frame_drop(fx, &f, "drop.in.not-local");
	assert_int_equal(fx_stat(fx, "ipv4.forwarded"), 0);
	fx_finish(fx);
}

/* Fragments are reassembled (RFC 791 3.2; test_frag.c has the details):
 * each piece is held, silently (no ICMP, no drop), until the last one
 * completes the datagram, which is delivered once; one that would end
 * past 65535 bytes is refused. */
static void
test_ipv4_fragments(void **state)
{
	static const uint16_t frag[] = {
		IPV4_FLAG_MF,	    /* a first */
		IPV4_FLAG_MF | 185, /* a middle one */
		185,		    /* a last */
	};
	static const uint8_t *const big[] = { pkt_big_f3, pkt_big_f1, pkt_big_f2 };
	static const size_t big_len[] = { sizeof(pkt_big_f3), sizeof(pkt_big_f1),
					  sizeof(pkt_big_f2) };
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	l = &fx->link[0];
	for (size_t i = 0; i < sizeof(frag) / sizeof(frag[0]); i++) {
		FRAME(&f, pkt_echo_req);
		wire_put16(frame_ip(&f) + 4, (uint16_t)(0x100 + i)); /* each its own datagram */
		wire_put16(frame_ip(&f) + 6, frag[i]);
		frame_fix(&f);
		fx_snap(fx);
		fx_inject(fx, l, f.b, f.len);
		fx_poll(fx);
		assert_int_equal(l->n_tx, 0);
		assert_int_equal(fx_drops_delta(fx), 0);
		assert_int_equal(fx_delta(fx, "ipv4.in"), 1);
		assert_int_equal(fx_delta(fx, "ipv4.in_delivered"), 0);
		assert_int_equal(fx_delta(fx, "frag.held"), 1);
	}
	/* The largest offset: 65528 + 64 > 65535 - 20. */
	FRAME(&f, pkt_echo_req);
	wire_put16(frame_ip(&f) + 6, IPV4_OFFSET_MASK);
	frame_fix(&f);
	expect_frame_drop(fx, &f, "drop.in.frag-bad-length");

	/* A 4000-byte ping in three pieces, the last first: one reply. */
	fx_snap(fx);
	for (size_t i = 0; i < 3; i++) {
		fx_inject(fx, l, big[i], big_len[i]);
		fx_poll(fx);
		assert_int_equal(l->n_tx, i == 2 ? 3 : 0);
	}
	assert_int_equal(fx_delta(fx, "ipv4.in"), 3);
	assert_int_equal(fx_delta(fx, "ipv4.in_delivered"), 1);
	assert_int_equal(fx_delta(fx, "icmp.echo_replies"), 1);
	assert_int_equal(fx_delta(fx, "frag.reassembled"), 1);
	assert_int_equal(fx_drops_delta(fx), 0);
	fx_tx_clear(l);

	/* DF alone is no fragment. */
	FRAME(&f, pkt_echo_req);
	assert_int_equal(wire_get16(frame_ip(&f) + 6), IPV4_FLAG_DF);
	expect_echo_reply(fx, &f);
	fx_finish(fx);
}

static void
ping_ok(struct unit_fx *fx, const char *dst, uint16_t seq, uint16_t len)
{
	struct sonde_prefix p;

	assert_int_equal(sonde_prefix_parse(dst, &p), 0);
	assert_int_equal(sonde_ping(fx->st, &p, 0x1000, seq, len), 0);
}

/* Our own address goes through lo0: the request is answered, the reply
 * received, and nothing leaves by test0. */
static void
test_loopback_ping(void **state)
{
	struct unit_fx *fx = *state;

	fx_host(fx, NULL);
	fx_snap(fx);
	ping_ok(fx, "10.0.0.1", 1, 56);
	assert_int_equal(fx_delta(fx, "lo0.packets"), 1);
	fx_poll(fx); /* the request in, the reply looped */
	assert_int_equal(fx_delta(fx, "icmp.echo_replies"), 1);
	assert_int_equal(fx_delta(fx, "lo0.packets"), 2);
	assert_int_equal(fx_delta(fx, "icmp.in"), 1);
	fx_poll(fx); /* the reply in */
	assert_int_equal(fx_delta(fx, "icmp.in"), 2);
	assert_int_equal(fx_delta(fx, "ipv4.in_delivered"), 2);
	assert_int_equal(fx_delta(fx, "ipv4.out"), 2);
	assert_int_equal(fx_delta(fx, "icmp.out"), 2);
	assert_int_equal(fx_delta(fx, "if.test0.tx_packets"), 0);
	assert_int_equal(fx->link[0].n_tx, 0);
	assert_int_equal(fx_drops_delta(fx), 0);

	/* 127/8 is ours too, with no address on lo0; so is a big payload. */
	fx_snap(fx);
	ping_ok(fx, "127.0.0.1", 2, 56);
	ping_ok(fx, "10.0.0.1", 3, 1400);
	fx_poll(fx);
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "icmp.echo_replies"), 2);
	assert_int_equal(fx_delta(fx, "icmp.in"), 4);
	assert_int_equal(fx->link[0].n_tx, 0);
	assert_int_equal(fx_drops_delta(fx), 0);
	fx_finish(fx);
}

/* lo0 holds SONDE_LOOPQ packets between polls; one more is dropped. */
static void
test_loopback_full(void **state)
{
	struct unit_fx *fx = *state;

	fx_host(fx, NULL);
	fx_snap(fx);
	for (unsigned i = 0; i < SONDE_LOOPQ + 1; i++)
		ping_ok(fx, "10.0.0.1", (uint16_t)i, 8);
	assert_one_drop(fx, "drop.out.loopback-full");
	fx_poll(fx);
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "icmp.echo_replies"), SONDE_LOOPQ);
	assert_int_equal(fx_delta(fx, "icmp.in"), 2 * SONDE_LOOPQ);
	assert_int_equal(fx_drops_delta(fx), 1);
	/* Queued and never polled: freed by sonde_stack_destroy. */
	ping_ok(fx, "10.0.0.1", 9999, 8);
	fx_finish(fx);
}

static void
test_output_errors(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct sonde_prefix p;
	uint8_t want[20 + 8 + 1473];

	fx_host(fx, NULL);
	fx_learn_a(fx);
	l = &fx->link[0];
	fx_snap(fx);
	assert_int_equal(sonde_prefix_parse("192.168.9.9", &p), 0);
	assert_int_equal(sonde_ping(fx->st, &p, 1, 1, 8), -EHOSTUNREACH);
	assert_one_drop(fx, "drop.out.no-route");

	/* 20 + 8 + 1472 fits in 1500 whole. */
	assert_int_equal(sonde_prefix_parse("10.0.0.2", &p), 0);
	assert_int_equal(sonde_ping(fx->st, &p, 1, 3, 1472), 0);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 1);
	assert_int_equal(wire_get16(tx_ipv4(l, 0, MAC_A, NULL) + 6), 0);
	fx_tx_clear(l);

	/* One byte more and our own packet is fragmented (RFC 791 2.3, RFC
	 * 1122 3.3.3): 1480 bytes then 1, both under one identification, MF
	 * and offsets right, each header checksum valid, and the ICMP
	 * checksum valid over the whole datagram. */
	fx_snap(fx);
	assert_int_equal(sonde_ping(fx->st, &p, 1, 2, 1473), 0);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 2);
	memset(want, 0, sizeof(want));
	want[0] = 0x45;
	wire_put16(want + 2, 20 + 8 + 1473);
	memcpy(want + 4, tx_ipv4(l, 0, MAC_A, NULL) + 4, 2); /* ours to choose */
	want[8] = 64;
	want[9] = IPPROTO_ICMP_;
	frame_set_ip4(want + 12, "10.0.0.1");
	frame_set_ip4(want + 16, "10.0.0.2");
	want[20] = ICMP_ECHO;
	wire_put32(want + 24, 1u << 16 | 2);
	for (unsigned i = 0; i < 1473; i++)
		want[28 + i] = (uint8_t)(0x10 + i);
	wire_put16(want + 22, ref_cksum(want + 20, 8 + 1473));
	tx_ipv4_fragments(l, 0, 2, MAC_A, want, 1500);
	assert_int_equal(wire_get16(tx_ipv4(l, 1, MAC_A, NULL) + 6), 1480 / 8);
	assert_int_equal(fx_drops_delta(fx), 0);
	assert_int_equal(fx_delta(fx, "ipv4.out"), 1);
	assert_int_equal(fx_delta(fx, "frag.fragmented"), 1);
	assert_int_equal(fx_delta(fx, "frag.out"), 2);
	fx_tx_clear(l);
	assert_int_equal(rte_mempool_in_use_count(fx->st->frag.indirect), 0);
	/* IPv6 with no IPv6 address: no prefix, so no route; a counted
	 * drop, nothing leaks. */
	assert_int_equal(sonde_prefix_parse("fd00::1", &p), 0);
	assert_int_equal(sonde_ping(fx->st, &p, 1, 4, 8), -EHOSTUNREACH);
	assert_int_equal(fx_delta(fx, "drop.out.no-route"), 1);
	/* Neither family. */
	p.af = AF_UNIX;
	assert_int_equal(sonde_ping(fx->st, &p, 1, 5, 8), -EAFNOSUPPORT);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	fx_finish(fx);
}

/* A host's default route (0/0, which rte_lpm cannot hold) and a more
 * specific route beside it. */
static void
test_output_routes(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct sonde_prefix d, g;
	const uint8_t *ip;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	l = &fx->link[0];
	assert_int_equal(sonde_prefix_parse("default", &d), 0);
	assert_int_equal(sonde_prefix_parse("10.0.0.2", &g), 0);
	assert_int_equal(sonde_route_add(fx->st, &d, &g), 0);
	ping_ok(fx, "8.8.8.8", 1, 8);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	ip = tx_ipv4(l, 0, MAC_A, NULL);
	assert_ip4(ip + 12, "10.0.0.1");
	assert_ip4(ip + 16, "8.8.8.8");
	fx_tx_clear(l);
	/* On-link still wins over the default: 10.0.0.7 is asked for itself. */
	ping_ok(fx, "10.0.0.7", 2, 8);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_ip4(tx_arp(l, 0, ARP_OP_REQUEST, MAC_BCAST) + 24, "10.0.0.7");
	fx_tx_clear(l);
	/* 8.0.0.0/8 via 10.0.0.3 (unknown): its gateway is asked for. */
	assert_int_equal(sonde_prefix_parse("8.0.0.0/8", &d), 0);
	assert_int_equal(sonde_prefix_parse("10.0.0.3", &g), 0);
	assert_int_equal(sonde_route_add(fx->st, &d, &g), 0);
	ping_ok(fx, "8.8.8.8", 3, 8);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_ip4(tx_arp(l, 0, ARP_OP_REQUEST, MAC_BCAST) + 24, "10.0.0.3");
	fx_finish(fx);
}

/* More than a burst queued at once leaves in order, in bursts of 32. */
static void
test_output_burst(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	l = &fx->link[0];
	for (uint16_t seq = 0; seq < 75; seq++)
		ping_ok(fx, "10.0.0.2", seq, 8);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 75);
	for (unsigned i = 0; i < 75; i++) {
		const uint8_t *ip = tx_ipv4(l, i, MAC_A, NULL);

		assert_int_equal(wire_get16(ip + 26), i);
		/* Each its own identification. */
		if (i)
			assert_int_equal((uint16_t)(wire_get16(ip + 4) -
						    wire_get16(tx_ipv4(l, i - 1, MAC_A, NULL) + 4)),
					 1);
	}
	assert_int_equal(fx_stat(fx, "if.test0.tx_packets"), 75 + 2);
	fx_finish(fx);
}

/* A link that takes nothing: what it refused is dropped and counted,
 * not leaked; link-layer frames under their own reason. */
static void
test_output_link_full(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	l = &fx->link[0];
	l->tx_budget = 0;
	fx_snap(fx);
	fx_inject(fx, l, pkt_arp_req, sizeof(pkt_arp_req));
	fx_poll(fx);
	assert_one_drop(fx, "drop.out.link-tx-queue-full");
	ping_ok(fx, "10.0.0.2", 1, 8);
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "drop.out.tx-queue-full"), 1);
	assert_int_equal(fx_delta(fx, "if.test0.tx_packets"), 0);
	assert_int_equal(fx_delta(fx, "if.test0.tx_bytes"), 0);
	assert_int_equal(l->n_tx, 0);

	/* Room for one of two. */
	l->tx_budget = 1;
	fx_snap(fx);
	ping_ok(fx, "10.0.0.2", 2, 8);
	ping_ok(fx, "10.0.0.2", 3, 8);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_int_equal(wire_get16(tx_ipv4(l, 0, MAC_A, NULL) + 26), 2);
	assert_one_drop(fx, "drop.out.tx-queue-full");
	assert_int_equal(fx_delta(fx, "if.test0.tx_packets"), 1);
	assert_int_equal(fx_delta(fx, "if.test0.tx_bytes"), ETH_HDR_LEN + 20 + 8 + 8);
	fx_finish(fx);
}

/* poll.rx_packets counts what polls took in; poll.busy_polls the polls that
 * had work (so the mean burst is their ratio); poll.busy_ns the time of
 * those polls (bench/run's ns per packet), and only of those. */
static void
test_poll_counters(void **state)
{
	struct unit_fx *fx = *state;
	uint64_t busy, rx, polls;

	fx_host(fx, NULL);
	fx_learn_a(fx);
	fx_poll(fx);
	fx_poll(fx);
	busy = fx_stat(fx, "poll.busy_ns");
	fx_poll(fx); /* idle polls add nothing */
	fx_poll(fx);
	assert_int_equal(fx_stat(fx, "poll.busy_ns"), busy);
	rx = fx_stat(fx, "poll.rx_packets");
	polls = fx_stat(fx, "poll.busy_polls");
	for (int i = 0; i < 3; i++)
		fx_inject(fx, &fx->link[0], pkt_echo_req, sizeof(pkt_echo_req));
	fx_advance(fx, 7);
	fx_poll(fx);
	fx_advance(fx, 1000);
	fx_poll(fx); /* the busy poll is charged when the next one starts */
	assert_int_equal(fx_stat(fx, "poll.rx_packets"), rx + 3);
	assert_int_equal(fx_stat(fx, "poll.busy_polls"), polls + 1); /* one burst of 3 */
	/* By the caller's clock: from the busy poll's start to the next's. */
	assert_int_equal(fx_stat(fx, "poll.busy_ns"), busy + 1000);
	fx_advance(fx, 500);
	fx_poll(fx);
	assert_int_equal(fx_stat(fx, "poll.busy_ns"), busy + 1000);
	assert_int_equal(fx_stat(fx, "poll.busy_polls"), polls + 1);
	fx_finish(fx);
}

/* sonde_now(): the multiply-only clock keeps step with sonde_clock_ns()
 * (within 1 ms, whatever the TSC's uptime) and never goes back. */
static void
test_clock(void **state)
{
	struct unit_fx *fx = *state;
	uint64_t prev, a, b, c;

	fx_host(fx, NULL);
	a = sonde_clock_ns();
	b = sonde_now(fx->st);
	c = sonde_clock_ns();
	assert_true(b + 1000000 >= a && b <= c + 1000000);
	prev = b;
	for (int i = 0; i < 100000; i++) {
		uint64_t t = sonde_now(fx->st);

		assert_true(t >= prev);
		prev = t;
	}
	fx_finish(fx);
}

int
main(void)
{
	static struct unit_fx fx;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx)
	const struct CMUnitTest tests[] = {
		T(test_eth_input),
		T(test_ipv4_malformed),
		T(test_ipv4_cksum_offload),
		T(test_ipv4_padding_trimmed),
		T(test_ipv4_chained_mbuf),
		T(test_ipv4_martians),
		T(test_ipv4_not_local),
		T(test_ipv4_fragments),
		T(test_loopback_ping),
		T(test_loopback_full),
		T(test_output_errors),
		T(test_output_routes),
		T(test_output_burst),
		T(test_output_link_full),
		T(test_clock),
		T(test_poll_counters),
	};
#undef T
	int r;

	unit_init("ipv4");
	r = cmocka_run_group_tests_name("ipv4", tests, NULL, NULL);
	unit_fini();
	return r;
}
