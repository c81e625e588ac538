/*
 * test_udp.c: the built-in UDP services (stack/transport/udp.c, set with
 * sonde_udp_service()): echo (RFC 862) and discard (RFC 863), both
 * families.  The echo is the request turned around and nothing else:
 * ports and addresses swapped, payload identical, the UDP checksum the
 * request's (valid for the reply, checked here from scratch; a zero IPv4
 * checksum stays zero), TTL 64, the request's TOS or traffic class, IP
 * options not carried, Ethernet padding and bytes past the UDP length not
 * echoed.  Not answered: a source port of 0, 7 (echo) or 19 (chargen), the
 * classic loop; a broadcast or multicast destination, at the link or the
 * IP layer: one datagram must not fan out; a source of 0.0.0.0 or ::,
 * which is never a destination.  Those are counted as
 * udp.discarded, like what the discard service takes, silently.  A port
 * without a service still gets port unreachable; a bad checksum, length or
 * truncation is dropped with its reason before any service looks at it
 * (RFC 8200 8.1: a zero checksum is bad in IPv6).  A link-local request
 * is answered on the interface it came in on.  A 3008-byte datagram
 * reassembled from small fragments is echoed in fragments at the link
 * MTU; one whose UDP length ends short of what IP reassembled is echoed at
 * that length, whole or in fragments.  sonde_udp_service() refuses port 0
 * and unknown kinds, and changes nothing then.
 */
#include <errno.h>
#include <string.h>

#include "packets.h"
#include "unit.h"

#define PORT_ECHO 7
#define PORT_DISCARD 9
#define BIG_UDP (8 + 3000)

static const uint8_t *const big4[] = { pkt_udp_big_f1, pkt_udp_big_f2, pkt_udp_big_f3 };
static const size_t big4_len[] = { sizeof(pkt_udp_big_f1), sizeof(pkt_udp_big_f2),
				   sizeof(pkt_udp_big_f3) };
static const uint8_t *const big6[] = { pkt6_udp_big_f1, pkt6_udp_big_f2, pkt6_udp_big_f3 };
static const size_t big6_len[] = { sizeof(pkt6_udp_big_f1), sizeof(pkt6_udp_big_f2),
				   sizeof(pkt6_udp_big_f3) };

static void
inject(struct unit_fx *fx, const struct frame *f)
{
	fx_inject(fx, &fx->link[0], f->b, f->len);
}

static void
service(struct unit_fx *fx, uint16_t port, enum sonde_service kind)
{
	assert_int_equal(sonde_udp_service(fx->st, port, kind), 0);
}

/* A host (IPv4 and IPv6, A known in both) with echo on 7 and discard on 9. */
static void
host(struct unit_fx *fx)
{
	fx_host6(fx, NULL);
	fx_learn_a(fx);
	fx_learn6_a(fx);
	service(fx, PORT_ECHO, SONDE_SERVICE_ECHO);
	service(fx, PORT_DISCARD, SONDE_SERVICE_DISCARD);
}

/* The frame's UDP header, IPv4 (by its IHL) or IPv6 (no extension headers). */
static uint8_t *
frame_udp(struct frame *f)
{
	uint8_t *ip = frame_ip(f);

	return wire_get16(f->b + 12) == ETHERTYPE_IPV6 ? ip + IPV6_HDR_LEN : ip + (ip[0] & 0xf) * 4;
}

static void
frame_fix_any(struct frame *f)
{
	if (wire_get16(f->b + 12) == ETHERTYPE_IPV6)
		frame6_fix(f);
	else
		frame_fix(f);
}

static void
frame_set_ports(struct frame *f, uint16_t sport, uint16_t dport)
{
	uint8_t *u = frame_udp(f);

	wire_put16(u, sport);
	wire_put16(u + 2, dport);
	frame_fix_any(f);
}

/* RFC 768 from scratch (the harness's ref_cksum): the sum over the
 * pseudo-header and the IPv4 datagram ip's UDP length (any size), as it
 * carries its checksum field: 0 when that verifies. */
static uint16_t
udp4_sum(const uint8_t *ip)
{
	static uint8_t buf[12 + 65536];
	const uint8_t *u = ip + (ip[0] & 0xf) * 4;
	size_t ulen = wire_get16(u + 4);

	memcpy(buf, ip + 12, 8);
	buf[8] = 0;
	buf[9] = IPPROTO_UDP_;
	wire_put16(buf + 10, (uint16_t)ulen);
	memcpy(buf + 12, u, ulen);
	return ref_cksum(buf, 12 + ulen);
}

static bool
udp4_cksum_ok(const uint8_t *ip)
{
	return udp4_sum(ip) == 0;
}

/* Fills in the UDP checksum of IPv4 datagram ip. */
static void
udp4_cksum_set(uint8_t *ip)
{
	uint8_t *u = ip + (ip[0] & 0xf) * 4;
	uint16_t c;

	wire_put16(u + 6, 0);
	c = udp4_sum(ip);
	wire_put16(u + 6, c ? c : 0xffff);
}

/* Frame i of l must be the echo of IPv4 request req (its IP header): to
 * A, ports and addresses swapped, the same UDP length, checksum and
 * payload; no options, no fragment, TTL 64, the request's TOS. */
static void
expect_echo4(struct unit_link *l, unsigned i, const uint8_t *req)
{
	const uint8_t *rq = req + (req[0] & 0xf) * 4, *ip, *u;
	size_t len, ulen = wire_get16(rq + 4);

	ip = tx_ipv4(l, i, MAC_A, &len);
	u = ip + IPV4_MIN_HDR_LEN;
	assert_int_equal(len, IPV4_MIN_HDR_LEN + ulen);
	assert_int_equal(ip[1], req[1]);
	assert_int_equal(wire_get16(ip + 6), 0);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], IPPROTO_UDP_);
	assert_memory_equal(ip + 12, req + 16, 4);
	assert_memory_equal(ip + 16, req + 12, 4);
	assert_memory_equal(u, rq + 2, 2);
	assert_memory_equal(u + 2, rq, 2);
	assert_int_equal(wire_get16(u + 4), ulen);
	/* Unchanged: ports and pseudo-header addresses only trade places. */
	assert_int_equal(wire_get16(u + 6), wire_get16(rq + 6));
	if (wire_get16(rq + 6) != 0)
		assert_true(udp4_cksum_ok(ip));
	assert_memory_equal(u + UDP_HDR_LEN, rq + UDP_HDR_LEN, ulen - UDP_HDR_LEN);
}

/* The same for IPv6 request req: hop limit 64, the request's class. */
static void
expect_echo6(struct unit_link *l, unsigned i, const uint8_t *req)
{
	const uint8_t *rq = req + IPV6_HDR_LEN, *ip, *u;
	size_t len, ulen = wire_get16(rq + 4);

	ip = tx_ipv6(l, i, MAC_A, &len);
	u = ip + IPV6_HDR_LEN;
	assert_int_equal(len, IPV6_HDR_LEN + ulen);
	assert_int_equal(wire_get32(ip) >> 20, wire_get32(req) >> 20); /* version, class */
	assert_int_equal(ip[6], IPPROTO_UDP_);
	assert_int_equal(ip[7], 64);
	assert_memory_equal(ip + 8, req + 24, 16);
	assert_memory_equal(ip + 24, req + 8, 16);
	assert_memory_equal(u, rq + 2, 2);
	assert_memory_equal(u + 2, rq, 2);
	assert_int_equal(wire_get16(u + 4), ulen);
	assert_int_equal(wire_get16(u + 6), wire_get16(rq + 6));
	assert_int_equal(ref_cksum6(ip + 8, ip + 24, IPPROTO_UDP_, u, ulen), 0);
	assert_memory_equal(u + UDP_HDR_LEN, rq + UDP_HDR_LEN, ulen - UDP_HDR_LEN);
}

/* Injects f: exactly its echo comes back, counted once, nothing dropped. */
static void
expect_echo(struct unit_fx *fx, const struct frame *f)
{
	struct unit_link *l = &fx->link[0];
	bool v6 = wire_get16(f->b + 12) == ETHERTYPE_IPV6;

	fx_snap(fx);
	inject(fx, f);
	fx_poll(fx);
	if (l->n_tx != 1) {
		fx_print_delta(fx);
		fail_msg("want the echo, got %u frames", l->n_tx);
	}
	if (v6)
		expect_echo6(l, 0, f->b + ETH_HDR_LEN);
	else
		expect_echo4(l, 0, f->b + ETH_HDR_LEN);
	assert_int_equal(fx_delta(fx, "udp.in"), 1);
	assert_int_equal(fx_delta(fx, "udp.echoed"), 1);
	assert_int_equal(fx_delta(fx, "udp.discarded"), 0);
	assert_int_equal(fx_delta(fx, v6 ? "ipv6.out" : "ipv4.out"), 1);
	assert_int_equal(fx_delta(fx, "icmp.out") + fx_delta(fx, "icmp6.out"), 0);
	assert_int_equal(fx_drops_delta(fx), 0);
	fx_tx_clear(l);
}

/* Injects f: taken without a word (udp.discarded), nothing dropped. */
static void
expect_taken(struct unit_fx *fx, const struct frame *f)
{
	fx_snap(fx);
	inject(fx, f);
	fx_poll(fx);
	if (fx->link[0].n_tx != 0 || fx_delta(fx, "udp.discarded") != 1 ||
	    fx_delta(fx, "udp.in") != 1 || fx_drops_delta(fx) != 0) {
		fx_print_delta(fx);
		fail_msg("want the datagram taken silently, %u frames sent", fx->link[0].n_tx);
	}
	assert_int_equal(fx_delta(fx, "udp.echoed"), 0);
	assert_int_equal(fx_delta(fx, "icmp.out") + fx_delta(fx, "icmp6.out"), 0);
}

/* Injects f: nothing sent, one drop as name, no service counted. */
static void
expect_silent_drop(struct unit_fx *fx, const struct frame *f, const char *name)
{
	fx_snap(fx);
	inject(fx, f);
	fx_poll(fx);
	if (fx->link[0].n_tx != 0 || fx_delta(fx, name) != 1 || fx_drops_delta(fx) != 1) {
		fx_print_delta(fx);
		fail_msg("want one drop as %s and nothing sent: %u frames", name, fx->link[0].n_tx);
	}
	assert_int_equal(fx_delta(fx, "udp.echoed"), 0);
	assert_int_equal(fx_delta(fx, "udp.discarded"), 0);
}

static void
test_echo4(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;
	uint8_t *ip;

	host(fx);
	FRAME(&f, pkt_udp_echo);
	expect_echo(fx, &f);
	assert_int_equal(fx_delta(fx, "ipv4.in_delivered"), 1);

	/* RFC 768: no checksum; the echo carries none either. */
	FRAME(&f, pkt_udp_echo);
	wire_put16(frame_udp(&f) + 6, 0);
	expect_echo(fx, &f);

	/* The TOS comes back as it came. */
	FRAME(&f, pkt_udp_echo);
	frame_ip(&f)[1] = 0xb8;
	frame_fix(&f);
	expect_echo(fx, &f);

	/* An even payload, and an empty one. */
	FRAME(&f, pkt_udp_echo);
	frame_ip_resize(&f, 20 + 8 + 24);
	expect_echo(fx, &f);
	FRAME(&f, pkt_udp_echo);
	frame_ip_resize(&f, 20 + 8);
	expect_echo(fx, &f);

	/* Ethernet padding is not echoed. */
	FRAME(&f, pkt_udp_echo);
	frame_ip_resize(&f, 20 + 8 + 4);
	memset(f.b + f.len, 0x5a, 60 - f.len);
	f.len = 60;
	expect_echo(fx, &f);

	/* Nor what the IP packet carries past the UDP length (RFC 768: the
	 * length is the datagram's; Linux trims the rest likewise). */
	FRAME(&f, pkt_udp_echo);
	wire_put16(frame_udp(&f) + 4, 8 + 10);
	frame_fix(&f);
	assert_true(udp4_cksum_ok(frame_ip(&f)));
	expect_echo(fx, &f);

	/* A request with IP options (Router Alert): the echo has none. */
	FRAME(&f, pkt_echo_opt);
	ip = frame_ip(&f);
	assert_int_equal(ip[0], 0x46);
	ip[9] = IPPROTO_UDP_;
	wire_put16(ip + 24, 40000);
	wire_put16(ip + 26, PORT_ECHO);
	wire_put16(ip + 28, (uint16_t)(wire_get16(ip + 2) - 24));
	wire_put16(ip + 30, 0xffff); /* non-zero: frame_fix computes it */
	frame_fix(&f);
	assert_true(udp4_cksum_ok(ip));
	expect_echo(fx, &f);
	fx_finish(fx);
}

static void
test_echo6(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f, na;

	host(fx);
	l = &fx->link[0];
	FRAME(&f, pkt6_udp_echo);
	expect_echo(fx, &f);
	assert_int_equal(fx_delta(fx, "ipv6.in_delivered"), 1);

	/* The traffic class comes back as it came. */
	FRAME(&f, pkt6_udp_echo);
	wire_put32(frame_ip(&f), 6u << 28 | 0xb8u << 20);
	expect_echo(fx, &f);

	FRAME(&f, pkt6_udp_echo);
	frame6_resize(&f, 8 + 24);
	expect_echo(fx, &f);
	FRAME(&f, pkt6_udp_echo);
	frame6_resize(&f, 8);
	expect_echo(fx, &f);

	/* Past the UDP length: not echoed. */
	FRAME(&f, pkt6_udp_echo);
	wire_put16(frame_udp(&f) + 4, 8 + 10);
	wire_put16(frame_udp(&f) + 6, 0);
	wire_put16(frame_udp(&f) + 6, ref_cksum6(frame_ip(&f) + 8, frame_ip(&f) + 24, IPPROTO_UDP_,
						 frame_udp(&f), 8 + 10));
	expect_echo(fx, &f);

	/* Link-local to link-local: the echo leaves by the interface the
	 * request came in on, once A's link-local address is resolved. */
	FRAME(&f, pkt6_udp_echo);
	frame6_set_src(&f, "fe80::ff:fe00:2");
	frame6_set_dst(&f, "fe80::ff:fe00:1");
	fx_snap(fx);
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_nd6(l, 0, MAC_SN2, ND_NEIGHBOR_SOLICIT, 0, "fe80::ff:fe00:1", "ff02::1:ff00:2",
	       "fe80::ff:fe00:2", ND_OPT_SOURCE_LINKADDR);
	fx_tx_clear(l);
	FRAME(&na, pkt6_na);
	memcpy(frame_ip(&na) + 48, ip6("fe80::ff:fe00:2").a, 16);
	frame6_set_src(&na, "fe80::ff:fe00:2");
	frame6_set_dst(&na, "fe80::ff:fe00:1");
	inject(fx, &na);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	expect_echo6(l, 0, frame_ip(&f));
	assert_int_equal(fx_delta(fx, "udp.echoed"), 1);
	assert_int_equal(fx_drops_delta(fx), 0);
	fx_finish(fx);
}

/* RFC 862 has no rule against it, but every stack refuses to echo to the
 * echo or chargen port, or to port 0: two services (or two stacks) would
 * answer each other for ever. */
static void
test_echo_loop_ports(void **state)
{
	static const uint16_t refused[] = { 0, 7, 19 };
	static const uint16_t answered[] = { 1, 6, 8, 9, 18, 20, 65535 };
	struct unit_fx *fx = *state;
	struct frame f;

	host(fx);
	for (unsigned v6 = 0; v6 < 2; v6++) {
		for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
			if (v6)
				FRAME(&f, pkt6_udp_echo);
			else
				FRAME(&f, pkt_udp_echo);
			frame_set_ports(&f, refused[i], PORT_ECHO);
			expect_taken(fx, &f);
		}
		for (size_t i = 0; i < sizeof(answered) / sizeof(answered[0]); i++) {
			if (v6)
				FRAME(&f, pkt6_udp_echo);
			else
				FRAME(&f, pkt_udp_echo);
			frame_set_ports(&f, answered[i], PORT_ECHO);
			expect_echo(fx, &f);
		}
	}
	assert_int_equal(fx_stat(fx, "udp.discarded"), 2 * 3);
	assert_int_equal(fx_stat(fx, "udp.echoed"), 2 * 7);
	fx_finish(fx);
}

/* One datagram must not bring an answer from every host on the link:
 * nothing is echoed to a broadcast or multicast destination, at the IP
 * layer or the link layer. */
static void
test_echo_group(void **state)
{
	static const struct {
		const uint8_t *eth;
		const char *dst;
	} v4[] = {
		{ MAC_BCAST, "10.0.0.255" },	  { MAC_US0, "10.0.0.255" },
		{ MAC_BCAST, "255.255.255.255" }, { MAC_US0, "255.255.255.255" },
		{ MAC_BCAST, "10.0.0.1" },
	}, v6[] = {
		{ MAC_ALLNODES, "ff02::1" },
		{ MAC_US0, "ff02::1" },
		{ MAC_SN1, "ff02::1:ff00:1" },
		{ MAC_ALLNODES, "fd00::1" },
	};
	struct unit_fx *fx = *state;
	struct frame f;

	host(fx);
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		FRAME(&f, pkt_udp_echo);
		memcpy(f.b, v4[i].eth, 6);
		frame_set_ip4(frame_ip(&f) + 16, v4[i].dst);
		frame_fix(&f);
		expect_taken(fx, &f);
	}
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		FRAME(&f, pkt6_udp_echo);
		memcpy(f.b, v6[i].eth, 6);
		frame6_set_dst(&f, v6[i].dst);
		expect_taken(fx, &f);
	}
	/* The same to a port with no service: no port unreachable either
	 * (RFC 1122 3.2.2, RFC 4443 2.4(e)). */
	FRAME(&f, pkt_udp_echo);
	frame_set_ip4(frame_ip(&f) + 16, "10.0.0.255");
	frame_set_ports(&f, 40000, 9999);
	expect_silent_drop(fx, &f, "drop.in.udp-no-port");
	FRAME(&f, pkt6_udp_echo);
	memcpy(f.b, MAC_ALLNODES, 6);
	frame6_set_dst(&f, "ff02::1");
	frame_set_ports(&f, 40000, 9999);
	expect_silent_drop(fx, &f, "drop.in.udp-no-port");
	assert_int_equal(fx_stat(fx, "icmp.errors_out") + fx_stat(fx, "icmp6.errors_out"), 0);
	assert_int_equal(fx_stat(fx, "udp.echoed"), 0);
	fx_finish(fx);
}

static void
route(struct unit_fx *fx, const char *dst, const char *gw)
{
	struct sonde_prefix d, g;

	assert_int_equal(sonde_prefix_parse(dst, &d), 0);
	assert_int_equal(sonde_prefix_parse(gw, &g), 0);
	assert_int_equal(sonde_route_add(fx->st, &d, &g), 0);
}

/* A source that names no host (RFC 1122 3.2.1.3: 0.0.0.0 is never a
 * destination; RFC 4291 2.5.2: nor is ::) gets no echo, even with a
 * default route that would carry one. */
static void
test_echo_unspecified_source(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;

	host(fx);
	route(fx, "0.0.0.0/0", "10.0.0.2");
	route(fx, "::/0", "fd00::2");
	FRAME(&f, pkt_udp_echo);
	frame_set_ip4(frame_ip(&f) + 12, "0.0.0.0");
	frame_fix(&f);
	expect_taken(fx, &f);
	FRAME(&f, pkt6_udp_echo);
	frame6_set_src(&f, "::");
	expect_taken(fx, &f);
	fx_finish(fx);
}

/* RFC 863: whatever comes, to a unicast address or not, from any port, is
 * taken and nothing is said. */
static void
test_discard(void **state)
{
	static const uint16_t sports[] = { 40000, 0, 7, 9, 19 };
	struct unit_fx *fx = *state;
	struct frame f;

	host(fx);
	for (size_t i = 0; i < sizeof(sports) / sizeof(sports[0]); i++) {
		FRAME(&f, pkt_udp_echo);
		frame_set_ports(&f, sports[i], PORT_DISCARD);
		expect_taken(fx, &f);
		assert_int_equal(fx_delta(fx, "ipv4.in_delivered"), 1);
		FRAME(&f, pkt6_udp_echo);
		frame_set_ports(&f, sports[i], PORT_DISCARD);
		expect_taken(fx, &f);
		assert_int_equal(fx_delta(fx, "ipv6.in_delivered"), 1);
	}
	/* No checksum (IPv4), an empty datagram, a broadcast, a multicast. */
	FRAME(&f, pkt_udp_echo);
	frame_set_ports(&f, 40000, PORT_DISCARD);
	wire_put16(frame_udp(&f) + 6, 0);
	expect_taken(fx, &f);
	FRAME(&f, pkt_udp_echo);
	frame_set_ports(&f, 40000, PORT_DISCARD);
	frame_ip_resize(&f, 20 + 8);
	expect_taken(fx, &f);
	FRAME(&f, pkt_udp_echo);
	memcpy(f.b, MAC_BCAST, 6);
	frame_set_ip4(frame_ip(&f) + 16, "255.255.255.255");
	frame_set_ports(&f, 40000, PORT_DISCARD);
	expect_taken(fx, &f);
	FRAME(&f, pkt6_udp_echo);
	memcpy(f.b, MAC_ALLNODES, 6);
	frame6_set_dst(&f, "ff02::1");
	frame_set_ports(&f, 40000, PORT_DISCARD);
	expect_taken(fx, &f);
	assert_int_equal(fx_stat(fx, "udp.discarded"), 2 * 5 + 4);
	assert_int_equal(fx_stat(fx, "icmp.errors_out") + fx_stat(fx, "icmp6.errors_out"), 0);
	fx_finish(fx);
}

/* Services change nothing for other ports: port unreachable (RFC 1122
 * 4.1.3.1, RFC 4443 3.1), next to the serviced ones and after a service
 * is removed. */
static void
test_no_service_unreachable(void **state)
{
	static const uint16_t ports[] = { 9999, 6, 8, 10, 19 };
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	host(fx);
	l = &fx->link[0];
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		FRAME(&f, pkt_udp_echo);
		frame_set_ports(&f, 40000, ports[i]);
		fx_snap(fx);
		inject(fx, &f);
		fx_poll(fx);
		assert_int_equal(l->n_tx, 1);
		tx_icmp_error(l, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH, ICMP_UNREACH_PORT,
			      0, frame_ip(&f), f.len - ETH_HDR_LEN);
		assert_one_drop(fx, "drop.in.udp-no-port");
		assert_int_equal(fx_delta(fx, "udp.echoed") + fx_delta(fx, "udp.discarded"), 0);
		fx_tx_clear(l);

		FRAME(&f, pkt6_udp_echo);
		frame_set_ports(&f, 40000, ports[i]);
		fx_snap(fx);
		inject(fx, &f);
		fx_poll(fx);
		assert_int_equal(l->n_tx, 1);
		tx_icmp6_error(l, 0, MAC_A, "fd00::1", "fd00::2", ICMP6_DST_UNREACH,
			       ICMP6_DST_UNREACH_NOPORT, 0, frame_ip(&f), f.len - ETH_HDR_LEN);
		assert_one_drop(fx, "drop.in.udp-no-port");
		assert_int_equal(fx_delta(fx, "udp.echoed") + fx_delta(fx, "udp.discarded"), 0);
		fx_tx_clear(l);
	}

	/* Echo off again: port 7 is a closed port like any other. */
	service(fx, PORT_ECHO, SONDE_SERVICE_NONE);
	FRAME(&f, pkt_udp_echo);
	fx_snap(fx);
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_icmp_error(l, 0, MAC_A, "10.0.0.1", "10.0.0.2", ICMP_UNREACH, ICMP_UNREACH_PORT, 0,
		      frame_ip(&f), f.len - ETH_HDR_LEN);
	assert_one_drop(fx, "drop.in.udp-no-port");
	fx_tx_clear(l);
	FRAME(&f, pkt6_udp_echo);
	fx_snap(fx);
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_icmp6_error(l, 0, MAC_A, "fd00::1", "fd00::2", ICMP6_DST_UNREACH,
		       ICMP6_DST_UNREACH_NOPORT, 0, frame_ip(&f), f.len - ETH_HDR_LEN);
	assert_one_drop(fx, "drop.in.udp-no-port");
	assert_int_equal(fx_stat(fx, "udp.echoed") + fx_stat(fx, "udp.discarded"), 0);
	fx_finish(fx);
}

/* Datagrams the checks refuse never reach a service: dropped with their
 * reason, neither echoed nor counted as discarded. */
static void
test_bad_before_service(void **state)
{
	static const uint16_t ports[] = { PORT_ECHO, PORT_DISCARD };
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct rte_mbuf *m;
	struct frame f;

	host(fx);
	l = &fx->link[0];
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		/* IPv4: a payload bit, the checksum, the NIC's verdict. */
		FRAME(&f, pkt_udp_echo);
		frame_set_ports(&f, 40000, ports[i]);
		frame_udp(&f)[8 + 3] ^= 0x20;
		expect_silent_drop(fx, &f, "drop.in.udp-bad-checksum");
		FRAME(&f, pkt_udp_echo);
		frame_set_ports(&f, 40000, ports[i]);
		wire_put16(frame_udp(&f) + 6, (uint16_t)(wire_get16(frame_udp(&f) + 6) + 1));
		expect_silent_drop(fx, &f, "drop.in.udp-bad-checksum");
		FRAME(&f, pkt_udp_echo);
		frame_set_ports(&f, 40000, ports[i]);
		fx_snap(fx);
		m = fx_inject(fx, l, f.b, f.len);
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_BAD;
		fx_poll(fx);
		assert_int_equal(l->n_tx, 0);
		assert_one_drop(fx, "drop.in.udp-bad-checksum");
		assert_int_equal(fx_delta(fx, "udp.echoed") + fx_delta(fx, "udp.discarded"), 0);
		/* Lengths: past the IP payload, under the header, truncated. */
		FRAME(&f, pkt_udp_echo);
		frame_set_ports(&f, 40000, ports[i]);
		wire_put16(frame_udp(&f) + 4, 8 + 26);
		frame_fix(&f);
		expect_silent_drop(fx, &f, "drop.in.udp-bad-length");
		FRAME(&f, pkt_udp_echo);
		frame_set_ports(&f, 40000, ports[i]);
		wire_put16(frame_udp(&f) + 4, 7);
		frame_fix(&f);
		expect_silent_drop(fx, &f, "drop.in.udp-bad-length");
		FRAME(&f, pkt_udp_echo);
		frame_set_ports(&f, 40000, ports[i]);
		frame_ip_resize(&f, 20 + 7);
		expect_silent_drop(fx, &f, "drop.in.udp-truncated");

		/* IPv6: the same, and a zero checksum (RFC 8200 8.1). */
		FRAME(&f, pkt6_udp_echo);
		frame_set_ports(&f, 40000, ports[i]);
		frame_udp(&f)[8 + 3] ^= 0x20;
		expect_silent_drop(fx, &f, "drop.in.udp-bad-checksum");
		FRAME(&f, pkt6_udp_echo);
		frame_set_ports(&f, 40000, ports[i]);
		wire_put16(frame_udp(&f) + 6, 0);
		expect_silent_drop(fx, &f, "drop.in.udp-bad-checksum");
		FRAME(&f, pkt6_udp_echo);
		frame_set_ports(&f, 40000, ports[i]);
		wire_put16(frame_udp(&f) + 4, 8 + 26);
		expect_silent_drop(fx, &f, "drop.in.udp-bad-length");
		FRAME(&f, pkt6_udp_echo);
		frame_set_ports(&f, 40000, ports[i]);
		wire_put16(frame_udp(&f) + 4, 7);
		expect_silent_drop(fx, &f, "drop.in.udp-bad-length");
		FRAME(&f, pkt6_udp_echo);
		frame_set_ports(&f, 40000, ports[i]);
		frame6_resize(&f, 7);
		expect_silent_drop(fx, &f, "drop.in.udp-truncated");
	}
	assert_int_equal(fx_stat(fx, "udp.echoed") + fx_stat(fx, "udp.discarded"), 0);
	assert_int_equal(fx_stat(fx, "icmp.errors_out") + fx_stat(fx, "icmp6.errors_out"), 0);
	fx_finish(fx);
}

/* The whole 3008-byte datagram the fragments of set carry, from its UDP
 * header on (IPv4: after 20 bytes; IPv6: after the fixed and fragment
 * headers). */
static void
big_udp(const uint8_t *const *set, const size_t *len, bool v6, uint8_t *udp)
{
	size_t off = 0, hl = v6 ? IPV6_HDR_LEN + 8 : IPV4_MIN_HDR_LEN;

	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *ip = set[i] + ETH_HDR_LEN;
		size_t n = len[i] - ETH_HDR_LEN - hl;

		assert_int_equal(v6 ? wire_get16(ip + 42) & 0xfff8
				    : (wire_get16(ip + 6) & 0x1fff) * 8u,
				 off);
		memcpy(udp + off, ip + hl, n);
		off += n;
	}
	assert_int_equal(off, BIG_UDP);
	assert_int_equal(wire_get16(udp + 4), BIG_UDP);
}

/* Injects the three fragments of set in order, polling after each:
 * nothing leaves before the last. */
static void
inject_frags(struct unit_fx *fx, const uint8_t *const *set, const size_t *len,
	     const unsigned *order)
{
	struct unit_link *l = &fx->link[0];

	for (unsigned i = 0; i < 3; i++) {
		fx_inject(fx, l, set[order[i]], len[order[i]]);
		fx_poll(fx);
		if (i < 2)
			assert_int_equal(l->n_tx, 0);
	}
}

static void
expect_frag_counters(struct unit_fx *fx)
{
	assert_int_equal(fx_delta(fx, "frag.in"), 3);
	assert_int_equal(fx_delta(fx, "frag.reassembled"), 1);
	assert_int_equal(fx_delta(fx, "udp.in"), 1);
	assert_int_equal(fx_delta(fx, "udp.echoed"), 1);
	assert_int_equal(fx_delta(fx, "frag.fragmented"), 1);
	assert_int_equal(fx_delta(fx, "frag.out"), 3);
	assert_int_equal(fx_drops_delta(fx), 0);
	assert_int_equal(fx_stat(fx, "frag.held"), 0);
	fx_tx_clear(&fx->link[0]);
	/* The fragmenter's indirect mbufs are all back. */
	assert_int_equal(rte_mempool_in_use_count(fx->st->frag.indirect), 0);
}

/* Cut in 1200-byte pieces by A, the datagram comes back whole to the
 * service and leaves again cut at our MTU (1480, 1480, 48 bytes): the
 * request turned around, checksum still valid over the whole. */
static void
test_echo_frag4(void **state)
{
	static const unsigned orders[][3] = { { 0, 1, 2 }, { 2, 1, 0 }, { 1, 2, 0 } };
	static uint8_t want[IPV4_MIN_HDR_LEN + BIG_UDP];
	struct unit_fx *fx = *state;
	struct unit_link *l;
	uint8_t *u = want + IPV4_MIN_HDR_LEN;

	host(fx);
	l = &fx->link[0];
	big_udp(big4, big4_len, false, u);
	assert_int_equal(wire_get16(u + 2), PORT_ECHO);
	memset(want, 0, IPV4_MIN_HDR_LEN);
	want[0] = 0x45;
	wire_put16(want + 2, sizeof(want));
	want[8] = 64;
	want[9] = IPPROTO_UDP_;
	frame_set_ip4(want + 12, "10.0.0.2");
	frame_set_ip4(want + 16, "10.0.0.1");
	assert_true(udp4_cksum_ok(want)); /* the request's */
	frame_set_ip4(want + 12, "10.0.0.1");
	frame_set_ip4(want + 16, "10.0.0.2");
	wire_put16(u, PORT_ECHO);
	wire_put16(u + 2, 40001);
	assert_true(udp4_cksum_ok(want)); /* and, unchanged, the echo's */
	for (size_t k = 0; k < sizeof(orders) / sizeof(orders[0]); k++) {
		fx_snap(fx);
		inject_frags(fx, big4, big4_len, orders[k]);
		assert_int_equal(l->n_tx, 3);
		memcpy(want + 4, tx_ipv4(l, 0, MAC_A, NULL) + 4, 2); /* our identification */
		tx_ipv4_fragments(l, 0, 3, MAC_A, want, 1500);
		assert_int_equal(wire_get16(tx_ipv4(l, 2, MAC_A, NULL) + 2), 20 + 48);
		expect_frag_counters(fx);
	}
	fx_finish(fx);
}

/* The fragments of set (three) again, but the first with the UDP header
 * of req's: its length and checksum. */
static void
inject_frags_hdr(struct unit_fx *fx, const uint8_t *const *set, const size_t *len, bool v6,
		 const uint8_t *req)
{
	static const unsigned order[3] = { 0, 1, 2 };
	const uint8_t *s[3] = { NULL, set[1], set[2] };
	size_t n[3] = { 0, len[1], len[2] };
	size_t hl = v6 ? IPV6_HDR_LEN : IPV4_MIN_HDR_LEN;
	struct frame f;

	frame_init(&f, set[0], len[0]);
	memcpy(frame_ip(&f) + hl + (v6 ? 8 : 0) + 4, req + hl + 4, 4);
	s[0] = f.b;
	n[0] = f.len;
	inject_frags(fx, s, n, order);
}

/* A UDP length short of what IP reassembled: the datagram is that long
 * (RFC 768), whatever IP carried after it, and so is its echo.  The
 * lengths end inside the first fragment, at its end, inside the second
 * (the echo is one packet still) and inside the third (the echo is cut
 * in two). */
static void
test_echo_frag_short(void **state)
{
	static const uint16_t ulens[] = { 1000, 1200, 1400, 2500 };
	static uint8_t whole[BIG_UDP], req[IPV6_HDR_LEN + BIG_UDP], want[IPV6_HDR_LEN + BIG_UDP];
	struct unit_fx *fx = *state;
	struct unit_link *l;

	host(fx);
	l = &fx->link[0];
	for (size_t i = 0; i < sizeof(ulens) / sizeof(ulens[0]); i++) {
		uint16_t ulen = ulens[i];
		unsigned n = 20 + ulen <= 1500 ? 1 : 2;
		uint8_t *u = req + IPV4_MIN_HDR_LEN;

		/* IPv4: the request as if it had come whole. */
		big_udp(big4, big4_len, false, whole);
		memcpy(req, big4[0] + ETH_HDR_LEN, IPV4_MIN_HDR_LEN);
		wire_put16(req + 2, (uint16_t)(IPV4_MIN_HDR_LEN + ulen));
		wire_put16(req + 6, 0);
		memcpy(u, whole, ulen);
		wire_put16(u + 4, ulen);
		udp4_cksum_set(req);
		fx_snap(fx);
		inject_frags_hdr(fx, big4, big4_len, false, req);
		assert_int_equal(l->n_tx, n);
		if (n == 1) {
			expect_echo4(l, 0, req);
		} else {
			memcpy(want, req, IPV4_MIN_HDR_LEN + ulen);
			memcpy(want + 4, tx_ipv4(l, 0, MAC_A, NULL) + 4, 2);
			want[8] = 64;
			memcpy(want + 12, req + 16, 4);
			memcpy(want + 16, req + 12, 4);
			memcpy(want + 20, u + 2, 2);
			memcpy(want + 22, u, 2);
			assert_true(udp4_cksum_ok(want));
			tx_ipv4_fragments(l, 0, n, MAC_A, want, 1500);
		}
		assert_int_equal(fx_delta(fx, "udp.echoed"), 1);
		assert_int_equal(fx_delta(fx, "frag.fragmented"), n - 1);
		assert_int_equal(fx_drops_delta(fx), 0);
		fx_tx_clear(l);

		/* IPv6 (no fragment header in the request as if whole). */
		n = 40 + ulen <= 1500 ? 1 : 2;
		u = req + IPV6_HDR_LEN;
		big_udp(big6, big6_len, true, whole);
		memcpy(req, big6[0] + ETH_HDR_LEN, IPV6_HDR_LEN);
		req[6] = IPPROTO_UDP_;
		wire_put16(req + 4, ulen);
		memcpy(u, whole, ulen);
		wire_put16(u + 4, ulen);
		wire_put16(u + 6, 0);
		wire_put16(u + 6, ref_cksum6(req + 8, req + 24, IPPROTO_UDP_, u, ulen));
		fx_snap(fx);
		inject_frags_hdr(fx, big6, big6_len, true, req);
		assert_int_equal(l->n_tx, n);
		if (n == 1) {
			expect_echo6(l, 0, req);
		} else {
			memcpy(want, req, IPV6_HDR_LEN + ulen);
			want[7] = 64;
			memcpy(want + 8, req + 24, 16);
			memcpy(want + 24, req + 8, 16);
			memcpy(want + 40, u + 2, 2);
			memcpy(want + 42, u, 2);
			assert_int_equal(
				ref_cksum6(want + 8, want + 24, IPPROTO_UDP_, want + 40, ulen), 0);
			tx_ipv6_fragments(l, 0, n, MAC_A, want, 1500);
		}
		assert_int_equal(fx_delta(fx, "udp.echoed"), 1);
		assert_int_equal(fx_delta(fx, "frag.fragmented"), n - 1);
		assert_int_equal(fx_drops_delta(fx), 0);
		fx_tx_clear(l);
	}
	assert_int_equal(fx_stat(fx, "frag.held"), 0);
	assert_int_equal(rte_mempool_in_use_count(fx->st->frag.indirect), 0);
	fx_finish(fx);
}

/* The same in IPv6, cut at 1280 by A (1232, 1232, 544) and echoed at
 * 1500 (1448, 1448, 112), under our own identification. */
static void
test_echo_frag6(void **state)
{
	static const unsigned orders[][3] = { { 0, 1, 2 }, { 2, 1, 0 }, { 1, 2, 0 } };
	static uint8_t want[IPV6_HDR_LEN + BIG_UDP];
	struct unit_fx *fx = *state;
	struct unit_link *l;
	uint8_t *u = want + IPV6_HDR_LEN;

	host(fx);
	l = &fx->link[0];
	big_udp(big6, big6_len, true, u);
	memset(want, 0, IPV6_HDR_LEN);
	want[0] = 0x60;
	wire_put16(want + 4, BIG_UDP);
	want[6] = IPPROTO_UDP_;
	want[7] = 64;
	memcpy(want + 8, ip6("fd00::1").a, 16);
	memcpy(want + 24, ip6("fd00::2").a, 16);
	assert_int_equal(ref_cksum6(want + 24, want + 8, IPPROTO_UDP_, u, BIG_UDP), 0);
	wire_put16(u, PORT_ECHO);
	wire_put16(u + 2, 40001);
	assert_int_equal(ref_cksum6(want + 8, want + 24, IPPROTO_UDP_, u, BIG_UDP), 0);
	for (size_t k = 0; k < sizeof(orders) / sizeof(orders[0]); k++) {
		fx_snap(fx);
		inject_frags(fx, big6, big6_len, orders[k]);
		assert_int_equal(l->n_tx, 3);
		tx_ipv6_fragments(l, 0, 3, MAC_A, want, 1500);
		assert_int_equal(wire_get16(tx_ipv6(l, 2, MAC_A, NULL) + 4), 8 + 112);
		expect_frag_counters(fx);
	}
	fx_finish(fx);
}

/* Port 0 is no port (RFC 768: "no value" for the source), and a kind the
 * enum does not name is refused; a refused call changes nothing. */
static void
test_service_api(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_stack *st;
	struct frame f;

	host(fx);
	st = fx->st;
	assert_int_equal(sonde_udp_service(st, 0, SONDE_SERVICE_ECHO), -EINVAL);
	assert_int_equal(sonde_udp_service(st, 0, SONDE_SERVICE_DISCARD), -EINVAL);
	assert_int_equal(sonde_udp_service(st, 0, SONDE_SERVICE_NONE), -EINVAL);
	assert_int_equal(sonde_udp_service(st, PORT_ECHO, (enum sonde_service)3), -EINVAL);
	assert_int_equal(sonde_udp_service(st, PORT_ECHO, (enum sonde_service)255), -EINVAL);
	assert_int_equal(
		sonde_udp_service(st, 40000, (enum sonde_service)(SONDE_SERVICE_DISCARD + 1)),
		-EINVAL);
	/* Port 7 still echoes; 40000 still has no service. */
	FRAME(&f, pkt_udp_echo);
	expect_echo(fx, &f);
	FRAME(&f, pkt_udp_echo);
	frame_set_ports(&f, 1234, 40000);
	fx_snap(fx);
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 1);
	assert_one_drop(fx, "drop.in.udp-no-port");
	fx_tx_clear(&fx->link[0]);

	/* The highest port works; a service can be replaced. */
	assert_int_equal(sonde_udp_service(st, 65535, SONDE_SERVICE_ECHO), 0);
	FRAME(&f, pkt6_udp_echo);
	frame_set_ports(&f, 40000, 65535);
	expect_echo(fx, &f);
	assert_int_equal(sonde_udp_service(st, 65535, SONDE_SERVICE_DISCARD), 0);
	expect_taken(fx, &f);
	assert_int_equal(sonde_udp_service(st, 1, SONDE_SERVICE_DISCARD), 0);
	frame_set_ports(&f, 40000, 1);
	expect_taken(fx, &f);
	fx_finish(fx);
}

int
main(void)
{
	static struct unit_fx fx;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx)
	const struct CMUnitTest tests[] = {
		T(test_echo4),
		T(test_echo6),
		T(test_echo_loop_ports),
		T(test_echo_group),
		T(test_echo_unspecified_source),
		T(test_discard),
		T(test_no_service_unreachable),
		T(test_bad_before_service),
		T(test_echo_frag4),
		T(test_echo_frag_short),
		T(test_echo_frag6),
		T(test_service_api),
	};
#undef T
	int r;

	unit_init("udp");
	r = cmocka_run_group_tests_name("udp", tests, NULL, NULL);
	unit_fini();
	return r;
}
