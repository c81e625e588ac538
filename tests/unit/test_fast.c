/*
 * test_fast.c: the fast path (stack/ip/fast.c) against the general path.
 *
 * Two router stacks, alike but for conf.no_fastpath, get the same frames
 * in the same order on the same fake clock: ICMP and UDP echo, forwarding,
 * both families, and then every one of those frames damaged byte by byte
 * (each byte of the headers set to four other values, sent as damaged and
 * again with its checksums made right), cut at every length, padded, and
 * marked with every checksum-offload verdict a NIC can give.  Between them
 * the clock moves on and the neighbours speak again (but one time in
 * eight), so entries go through REACHABLE, STALE, DELAY and PROBE under the
 * traffic.  After every frame the
 * two must have sent the same frames (bytes and the mbuf fields a driver
 * reads) on every link and have every counter equal but the fast path's
 * own.  The fast path must also have taken frames, or the comparison
 * would prove nothing.
 */
#include <stdio.h>
#include <string.h>

#include "packets.h"
#include "unit.h"

struct twin {
	struct unit_fx fx[2]; /* [0] with the fast path, [1] without */
	unsigned steps;
	bool quiet;	/* the clock and the neighbours left alone between frames */
	char what[128]; /* the frame being compared, for failure messages */
};

static struct twin twin;

static int
twin_teardown(void **state)
{
	struct twin *t = *state;

	for (int k = 1; k >= 0; k--)
		if (t->fx[k].st)
			fx_teardown((void *[]){ &t->fx[k] });
	return 0;
}

static void fix(struct frame *f);
static void twin_relearn(struct twin *t);

static void
clear_all(struct unit_fx *fx)
{
	for (unsigned i = 0; i < fx->n_links; i++)
		fx_tx_clear(&fx->link[i]);
}

/* A router: test0 (10.0.0.1/24, fe80::ff:fe00:1, fd00::1/64) with host A
 * known in both families, test1 (10.1.0.1/24, fd01::1/64) with host B
 * known; routes to fd02::/64 and ::/0 via A and to 10.2.0.0/16 via R
 * (unresolved);
 * UDP echo on 7 and 9999, discard on 9. */
static void
twin_router(struct unit_fx *fx, bool no_fastpath)
{
	struct sonde_conf c = { .no_fastpath = no_fastpath };

	fx_router(fx, &c, 1500);
	fx_addr(fx, &fx->link[0], "fe80::ff:fe00:1/64");
	fx_addr(fx, &fx->link[0], "fd00::1/64");
	fx_addr(fx, &fx->link[1], "fd01::1/64");
	fx_poll(fx);
	clear_all(fx);
	fx_advance(fx, 1 * SEC);
	fx_poll(fx);
	clear_all(fx);
	assert_true(sonde_ready(fx->st));
	fx_learn_a(fx);
	fx_learn_b(fx);
	/* A solicits us (fx_learn6_a's advertisement has no R flag: a host's). */
	fx_inject(fx, &fx->link[0], pkt6_ns, sizeof(pkt6_ns));
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 1);
	clear_all(fx);
	assert_int_equal(sonde_udp_service(fx->st, 7, SONDE_SERVICE_ECHO), 0);
	assert_int_equal(sonde_udp_service(fx->st, 9999, SONDE_SERVICE_ECHO), 0);
	assert_int_equal(sonde_udp_service(fx->st, 9, SONDE_SERVICE_DISCARD), 0);
	fx_route(fx, "fd02::/64", "fd00::2");
	fx_route(fx, "::/0", "fd00::2");
	/* A packet too big from A about a packet of ours to A: path MTU 1400
	 * towards fd00::2 (RFC 8201). */
	{
		struct frame ptb;

		FRAME(&ptb, pkt6_ptb);
		memcpy(frame_ip(&ptb) + IPV6_HDR_LEN + ICMP_HDR_LEN + 24, ip6("fd00::2").a, 16);
		fix(&ptb);
		fx_inject(fx, &fx->link[0], ptb.b, ptb.len);
		fx_poll(fx);
		assert_int_equal(fx_stat(fx, "icmp6.pmtu_updates"), 1);
		clear_all(fx);
	}
	fx_route(fx, "10.2.0.0/16", "10.1.0.254");
}

/* Both stacks sent the same and counted the same. */
static void
twin_compare(struct twin *t)
{
	for (unsigned i = 0; i < t->fx[0].n_links; i++) {
		struct unit_link *la = &t->fx[0].link[i], *lb = &t->fx[1].link[i];

		if (la->n_tx != lb->n_tx)
			fail_msg("%s: link %u sent %u frames with the fast path, %u without",
				 t->what, i, la->n_tx, lb->n_tx);
		for (unsigned j = 0; j < la->n_tx; j++) {
			const struct rte_mbuf *ma = la->tx[j], *mb = lb->tx[j];
			size_t na, nb;
			const uint8_t *pa = tx_frame(la, j, &na), *pb = tx_frame(lb, j, &nb);

			if (na != nb || memcmp(pa, pb, na) != 0)
				fail_msg("%s: link %u frame %u differs (%zu and %zu bytes)",
					 t->what, i, j, na, nb);
			if (ma->packet_type != mb->packet_type || ma->ol_flags != mb->ol_flags ||
			    ma->l2_len != mb->l2_len || ma->l3_len != mb->l3_len ||
			    ma->port != mb->port || ma->pkt_len != mb->pkt_len ||
			    ma->nb_segs != mb->nb_segs)
				fail_msg("%s: link %u frame %u: mbuf fields differ (ptype %x/%x, "
					 "ol_flags %llx/%llx, l2 %u/%u, l3 %u/%u, port %u/%u)",
					 t->what, i, j, ma->packet_type, mb->packet_type,
					 (unsigned long long)ma->ol_flags,
					 (unsigned long long)mb->ol_flags, (unsigned)ma->l2_len,
					 (unsigned)mb->l2_len, (unsigned)ma->l3_len,
					 (unsigned)mb->l3_len, ma->port, mb->port);
		}
	}
	fx_snap(&t->fx[0]);
	fx_snap(&t->fx[1]);
	assert_int_equal(t->fx[0].n_snap, t->fx[1].n_snap);
	for (unsigned i = 0; i < t->fx[0].n_snap; i++) {
		const struct unit_stat *a = &t->fx[0].snap[i], *b = &t->fx[1].snap[i];

		assert_string_equal(a->name, b->name);
		if (strcmp(a->name, "poll.busy_ns") == 0 ||
		    strcmp(a->name, "poll.fast_packets") == 0)
			continue;
		if (a->value != b->value)
			fail_msg("%s: %s is %llu with the fast path, %llu without", t->what,
				 a->name, (unsigned long long)a->value,
				 (unsigned long long)b->value);
	}
	for (int k = 0; k < 2; k++)
		clear_all(&t->fx[k]);
}

/* Frames f[0..n) on link, one burst, with ol_flags set on each mbuf. */
static void
twin_burst(struct twin *t, unsigned link, const struct frame *f, unsigned n, uint64_t ol_flags)
{
	for (int k = 0; k < 2; k++) {
		struct unit_fx *fx = &t->fx[k];

		for (unsigned i = 0; i < n; i++)
			fx_inject(fx, &fx->link[link], f[i].b, f[i].len)->ol_flags |= ol_flags;
		fx_poll(fx);
	}
	twin_compare(t);
	if (t->quiet)
		return;
	/* Now and then the clock moves on (neighbours go STALE, DELAY, PROBE
	 * and away) and the neighbours speak again. */
	if (++t->steps % 64 == 0)
		for (int k = 0; k < 2; k++)
			fx_advance(&t->fx[k], 2 * SEC);
	if (t->steps % 64 == 0 && t->steps % 512 != 0)
		twin_relearn(t); /* but one turn in eight */
}

/* A confirms itself (REACHABLE), and B. */
static void
twin_relearn(struct twin *t)
{
	static const struct {
		const uint8_t *p;
		size_t len;
		unsigned link;
	} learn[] = {
		{ pkt_arp_req, sizeof(pkt_arp_req), 0 },
		{ pkt_arp_reply, sizeof(pkt_arp_reply), 0 },
		{ pkt_arp_req_b, sizeof(pkt_arp_req_b), 1 },
		{ pkt6_ns, sizeof(pkt6_ns), 0 },
		{ pkt6_na, sizeof(pkt6_na), 0 },
	};
	struct frame lf;

	for (unsigned i = 0; i < RTE_DIM(learn); i++) {
		frame_init(&lf, learn[i].p, learn[i].len);
		snprintf(t->what, sizeof(t->what), "relearning %u", i);
		twin_burst(t, learn[i].link, &lf, 1, 0);
	}
}

static void
twin_step(struct twin *t, unsigned link, const struct frame *f, uint64_t ol_flags)
{
	twin_burst(t, link, f, 1, ol_flags);
}

/* The checksums made right again after a change, where the headers still
 * say where they are. */
static void
fix(struct frame *f)
{
	uint8_t *ip = frame_ip(f);

	if (f->len < ETH_HDR_LEN + 20)
		return;
	if (f->b[12] == 0x08 && f->b[13] == 0x00) {
		if ((ip[0] & 0xf) >= 5 && ETH_HDR_LEN + (ip[0] & 0xfu) * 4 <= f->len)
			frame_fix(f);
		return;
	}
	if (f->b[12] == 0x86 && f->b[13] == 0xdd && f->len >= ETH_HDR_LEN + IPV6_HDR_LEN) {
		uint16_t plen = wire_get16(ip + 4), c;
		uint8_t *u = ip + IPV6_HDR_LEN;

		if (ETH_HDR_LEN + IPV6_HDR_LEN + (size_t)plen > f->len || plen < 8)
			return;
		if (ip[6] == IPPROTO_UDP_) {
			u[6] = u[7] = 0;
			c = ref_cksum6(ip + 8, ip + 24, IPPROTO_UDP_, u, plen);
			wire_put16(u + 6, c ? c : 0xffff);
		} else if (ip[6] == IPPROTO_ICMPV6_) {
			u[2] = u[3] = 0;
			wire_put16(u + 2, ref_cksum6(ip + 8, ip + 24, IPPROTO_ICMPV6_, u, plen));
		}
	}
}

/* The frame grown to len bytes (zero payload), its lengths and checksums
 * made to fit. */
static void
grow(struct frame *f, size_t len)
{
	uint8_t *ip = frame_ip(f);

	assert_true(len <= sizeof(f->b) && len > f->len);
	memset(f->b + f->len, 0, len - f->len);
	f->len = len;
	if (f->b[12] == 0x08)
		wire_put16(ip + 2, (uint16_t)(len - ETH_HDR_LEN));
	else
		wire_put16(ip + 4, (uint16_t)(len - ETH_HDR_LEN - IPV6_HDR_LEN));
	fix(f);
}

struct base {
	const char *name;
	struct frame f;
	unsigned link;
};

static unsigned
bases(struct base *b)
{
	unsigned n = 0;

	b[n] = (struct base){ .name = "icmp echo", .link = 0 };
	FRAME(&b[n++].f, pkt_echo_req);
	b[n] = (struct base){ .name = "icmp echo with an option", .link = 0 };
	FRAME(&b[n++].f, pkt_echo_opt);
	b[n] = (struct base){ .name = "udp echo", .link = 0 };
	FRAME(&b[n++].f, pkt_udp);
	b[n] = (struct base){ .name = "forward A to B", .link = 0 };
	FRAME(&b[n++].f, pkt_fwd_udp);
	/* B answers A: in on test1, out on test0. */
	b[n] = (struct base){ .name = "forward B to A", .link = 1 };
	FRAME(&b[n].f, pkt_fwd_udp);
	memcpy(b[n].f.b, MAC_US1, 6);
	memcpy(b[n].f.b + 6, MAC_B, 6);
	frame_set_ip4(frame_ip(&b[n].f) + 12, "10.1.0.2");
	frame_set_ip4(frame_ip(&b[n].f) + 16, "10.0.0.2");
	fix(&b[n++].f);
	/* Through the route whose gateway is not resolved. */
	b[n] = (struct base){ .name = "forward to R's network", .link = 0 };
	FRAME(&b[n].f, pkt_fwd_udp);
	frame_set_ip4(frame_ip(&b[n].f) + 16, "10.2.3.4");
	fix(&b[n++].f);
	b[n] = (struct base){ .name = "icmp6 echo", .link = 0 };
	FRAME(&b[n++].f, pkt6_echo_req);
	b[n] = (struct base){ .name = "udp6 echo", .link = 0 };
	FRAME(&b[n++].f, pkt6_udp);
	/* fd02::/64 is via A: out the way it came. */
	b[n] = (struct base){ .name = "forward6 to fd02::5", .link = 0 };
	FRAME(&b[n].f, pkt6_udp);
	memcpy(frame_ip(&b[n].f) + 24, ip6("fd02::5").a, 16);
	fix(&b[n++].f);
	/* Replies past the link's MTU (1500): the layers fragment them. */
	b[n] = (struct base){ .name = "icmp echo, 1600 bytes", .link = 0 };
	FRAME(&b[n].f, pkt_echo_req);
	grow(&b[n++].f, 1600);
	b[n] = (struct base){ .name = "icmp6 echo, 1600 bytes", .link = 0 };
	FRAME(&b[n].f, pkt6_echo_req);
	grow(&b[n++].f, 1600);
	/* Under the path MTU that a packet too big taught (twin_router),
	 * and over the one a later one teaches. */
	b[n] = (struct base){ .name = "icmp6 echo, 1350 bytes", .link = 0 };
	FRAME(&b[n].f, pkt6_echo_req);
	grow(&b[n++].f, 1350);
	/* Past the path MTU that a packet too big taught (twin_router). */
	b[n] = (struct base){ .name = "icmp6 echo, 1450 bytes", .link = 0 };
	FRAME(&b[n].f, pkt6_echo_req);
	grow(&b[n++].f, 1450);
	return n;
}

/* Values for header fields (off from the IP header, or from the upper
 * layer's with l4) that the fast path's checks turn on. */
static const struct field {
	int fam;
	bool l4;
	uint8_t off, len;
	uint8_t v[16];
} fields[] = {
#define A4(a, b, c, d)     \
	{                  \
		a, b, c, d \
	}
#define A6(...)             \
	{                   \
		__VA_ARGS__ \
	}
	/* TTL, protocol, flags and offset, TOS */
	{ 4, false, 8, 1, { 0 } },
	{ 4, false, 8, 1, { 1 } },
	{ 4, false, 8, 1, { 2 } },
	{ 4, false, 9, 1, { 1 } },
	{ 4, false, 9, 1, { 17 } },
	{ 4, false, 9, 1, { 6 } },
	{ 4, false, 6, 2, { 0x40, 0 } },
	{ 4, false, 6, 2, { 0x20, 0 } },
	{ 4, false, 6, 2, { 0, 1 } },
	{ 4, false, 1, 1, { 0xff } },
	/* sources and destinations: none, loopback, multicast, broadcasts,
	 * ours, B's, behind R */
	{ 4, false, 12, 4, A4(0, 0, 0, 0) },
	{ 4, false, 12, 4, A4(127, 0, 0, 1) },
	{ 4, false, 12, 4, A4(224, 0, 0, 5) },
	{ 4, false, 12, 4, A4(255, 255, 255, 255) },
	{ 4, false, 12, 4, A4(10, 0, 0, 255) },
	{ 4, false, 12, 4, A4(10, 1, 0, 255) },
	{ 4, false, 12, 4, A4(10, 0, 0, 1) },
	{ 4, false, 12, 4, A4(10, 1, 0, 1) },
	{ 4, false, 12, 4, A4(10, 1, 0, 2) },
	{ 4, false, 12, 4, A4(10, 2, 0, 9) },
	{ 4, false, 16, 4, A4(0, 0, 0, 0) },
	{ 4, false, 16, 4, A4(127, 0, 0, 1) },
	{ 4, false, 16, 4, A4(224, 0, 0, 1) },
	{ 4, false, 16, 4, A4(255, 255, 255, 255) },
	{ 4, false, 16, 4, A4(10, 0, 0, 255) },
	{ 4, false, 16, 4, A4(10, 1, 0, 255) },
	{ 4, false, 16, 4, A4(10, 0, 0, 1) },
	{ 4, false, 16, 4, A4(10, 1, 0, 1) },
	{ 4, false, 16, 4, A4(10, 0, 0, 2) },
	{ 4, false, 16, 4, A4(10, 2, 0, 9) },
	/* ports: none, echo, chargen, discard, closed; ICMP types */
	{ 4, true, 0, 2, { 0, 0 } },
	{ 4, true, 0, 2, { 0, 7 } },
	{ 4, true, 0, 2, { 0, 19 } },
	{ 4, true, 2, 2, { 0, 7 } },
	{ 4, true, 2, 2, { 0, 9 } },
	{ 4, true, 2, 2, { 0, 1 } },
	{ 4, true, 0, 1, { 0 } },
	{ 4, true, 0, 1, { 13 } },
	/* hop limit, next header (hop-by-hop, dest options, fragment) */
	{ 6, false, 7, 1, { 0 } },
	{ 6, false, 7, 1, { 1 } },
	{ 6, false, 7, 1, { 2 } },
	{ 6, false, 6, 1, { 17 } },
	{ 6, false, 6, 1, { 58 } },
	{ 6, false, 6, 1, { 0 } },
	{ 6, false, 6, 1, { 60 } },
	{ 6, false, 6, 1, { 44 } },
	{ 6, false, 0, 4, { 0x6f, 0xff, 0xff, 0xff } },
	/* sources and destinations: ::, ::1, groups, link-local, ours, B's
	 * network, behind A */
	{ 6, false, 8, 16, A6(0) },
	{ 6, false, 8, 16, A6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) },
	{ 6, false, 8, 16, A6(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) },
	{ 6, false, 8, 16, A6(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 2) },
	{ 6, false, 8, 16, A6(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) },
	{ 6, false, 8, 16, A6(0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) },
	{ 6, false, 8, 16, A6(0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2) },
	{ 6, false, 8, 16, A6(0xfd, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7) },
	{ 6, false, 24, 16, A6(0) },
	{ 6, false, 24, 16, A6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) },
	{ 6, false, 24, 16, A6(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) },
	{ 6, false, 24, 16, A6(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1) },
	{ 6, false, 24, 16, A6(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 1) },
	{ 6, false, 24, 16, A6(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 2) },
	{ 6, false, 24, 16, A6(0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) },
	{ 6, false, 24, 16, A6(0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2) },
	{ 6, false, 24, 16, A6(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2) },
	{ 6, false, 24, 16, A6(0xfd, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2) },
	{ 6, true, 0, 2, { 0, 0 } },
	{ 6, true, 0, 2, { 0, 7 } },
	{ 6, true, 0, 2, { 0, 19 } },
	{ 6, true, 2, 2, { 0, 7 } },
	{ 6, true, 2, 2, { 0, 9 } },
	{ 6, true, 2, 2, { 0, 1 } },
	{ 6, true, 0, 1, { 129 } },
	{ 6, true, 0, 1, { 135 } },
#undef A4
#undef A6
};

static void
test_fast_matches_general(void **state)
{
	static const uint64_t offloads[] = {
		RTE_MBUF_F_RX_IP_CKSUM_GOOD,
		RTE_MBUF_F_RX_IP_CKSUM_BAD,
		RTE_MBUF_F_RX_L4_CKSUM_GOOD,
		RTE_MBUF_F_RX_L4_CKSUM_BAD,
		RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD,
		RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD,
	};
	struct twin *t = &twin;
	static struct base b[20];
	unsigned nb, taken;
	struct frame f;

	*state = t;
	memset(t, 0, sizeof(*t));
	twin_router(&t->fx[0], false);
	twin_router(&t->fx[1], true);
	/* IPv6 fragment idents start at random (RFC 7739): the same for both. */
	t->fx[1].st->frag6_ident = t->fx[0].st->frag6_ident;
	nb = bases(b);

	/* Each frame as it is, a few times over: the first use of a STALE
	 * neighbour goes the general way, the next ones may not. */
	for (unsigned i = 0; i < nb; i++)
		for (int r = 0; r < 4; r++) {
			snprintf(t->what, sizeof(t->what), "%s, as is", b[i].name);
			twin_step(t, b[i].link, &b[i].f, 0);
		}
	taken = (unsigned)fx_stat(&t->fx[0], "poll.fast_packets");
	print_message("untouched frames: %u of %u took the fast path\n", taken, 4 * nb);
	/* All but the option, the unresolved gateway, the three past an MTU
	 * and the first of each. */
	assert_true(taken >= 3 * (nb - 5));
	assert_int_equal(fx_stat(&t->fx[1], "poll.fast_packets"), 0);

	/* All of them in one burst, twice: the order of what leaves. */
	{
		static struct frame all[20];

		for (unsigned i = 0; i < nb; i++)
			all[i] = b[i].f;
		snprintf(t->what, sizeof(t->what), "one burst of every frame");
		twin_burst(t, 0, all, nb, 0);
		twin_burst(t, 0, all, nb, 0);
	}

	for (unsigned i = 0; i < nb; i++) {
		size_t hdrs = RTE_MIN(b[i].f.len, (size_t)(ETH_HDR_LEN + 40 + 8 + 4));

		/* Every header byte, four ways, as damaged and as mended. */
		for (size_t off = 0; off < hdrs; off++) {
			const uint8_t orig = b[i].f.b[off];
			const uint8_t vals[] = { (uint8_t)(orig ^ 1), (uint8_t)(orig ^ 0x80), 0,
						 0xff };

			for (unsigned v = 0; v < RTE_DIM(vals); v++) {
				if (vals[v] == orig)
					continue;
				f = b[i].f;
				f.b[off] = vals[v];
				snprintf(t->what, sizeof(t->what), "%s, byte %zu = 0x%02x",
					 b[i].name, off, vals[v]);
				twin_step(t, b[i].link, &f, 0);
				if (off < ETH_HDR_LEN)
					continue;
				fix(&f);
				snprintf(t->what, sizeof(t->what), "%s, byte %zu = 0x%02x, mended",
					 b[i].name, off, vals[v]);
				twin_step(t, b[i].link, &f, 0);
			}
		}
		/* Fields set to the values the checks are about. */
		for (unsigned v = 0; v < RTE_DIM(fields); v++) {
			const uint8_t *ip = frame_ip(&b[i].f);
			int fam = b[i].f.b[12] == 0x86 ? 6 : 4;
			size_t at = ETH_HDR_LEN + fields[v].off;

			if (fields[v].fam != fam)
				continue;
			if (fields[v].l4)
				at += fam == 6 ? IPV6_HDR_LEN : (ip[0] & 0xfu) * 4;
			if (at + fields[v].len > b[i].f.len)
				continue;
			for (int mend = 0; mend < 2; mend++) {
				f = b[i].f;
				memcpy(f.b + at, fields[v].v, fields[v].len);
				if (mend)
					fix(&f);
				snprintf(t->what, sizeof(t->what), "%s, field %u%s", b[i].name, v,
					 mend ? ", mended" : "");
				twin_step(t, b[i].link, &f, 0);
			}
		}
		/* Cut at every length (the first 200 and the last 8 of a big
		 * one), and padded as Ethernet pads. */
		for (size_t len = 0; len <= b[i].f.len + 8; len++) {
			if (len == 200 && b[i].f.len > 208)
				len = b[i].f.len - 8;
			f = b[i].f;
			if (len > f.len)
				memset(f.b + f.len, 0, len - f.len);
			f.len = len;
			snprintf(t->what, sizeof(t->what), "%s, %zu bytes", b[i].name, len);
			twin_step(t, b[i].link, &f, 0);
		}
		/* What a NIC says of the checksums, right and wrong. */
		for (unsigned o = 0; o < RTE_DIM(offloads); o++) {
			snprintf(t->what, sizeof(t->what), "%s, ol_flags %llx", b[i].name,
				 (unsigned long long)offloads[o]);
			twin_step(t, b[i].link, &b[i].f, offloads[o]);
			f = b[i].f;
			f.b[f.len - 1] ^= 0x5a; /* the payload: a bad L4 checksum */
			snprintf(t->what, sizeof(t->what), "%s, bad payload, ol_flags %llx",
				 b[i].name, (unsigned long long)offloads[o]);
			twin_step(t, b[i].link, &f, offloads[o]);
		}
	}
	/* A port that fills IPv4 header checksums itself: replies leave with
	 * a zero checksum and the offload flags. */
	for (int k = 0; k < 2; k++)
		t->fx[k].link[0].ifp->csum_tx_ipv4 = true;
	for (unsigned i = 0; i < nb; i++)
		for (int r = 0; r < 2 && b[i].f.b[12] == 0x08; r++) {
			snprintf(t->what, sizeof(t->what), "%s, checksum offloaded", b[i].name);
			twin_step(t, b[i].link, &b[i].f, 0);
		}
	/* The world changes under the traffic: what the fast path remembers of
	 * addresses, routes and neighbours (struct fast_dst) must change with
	 * it.  In turn: A's IPv6 entry is doubted (an NA with another MAC and
	 * no override: STALE); A moves to a new MAC; a packet too big lowers
	 * the path MTU towards A6 to 1280; A falls silent while we
	 * talk to it (REACHABLE, STALE, DELAY, PROBE, gone); replies to A are
	 * routed through B; A's addresses become ours (the IPv6 one once DAD
	 * is done, under the traffic); replies to A6 are routed through B,
	 * whom we have not met in IPv6 (the general path solicits). */
	for (unsigned c = 0; c < 7; c++) {
		unsigned before = (unsigned)fx_stat(&t->fx[0], "poll.fast_packets");

		for (int k = 0; k < 2; k++) {
			struct unit_fx *fx = &t->fx[k];

			if (c == 4)
				fx_route(fx, "10.0.0.2/32", "10.1.0.2");
			else if (c == 5) {
				fx_addr(fx, &fx->link[1], "10.0.0.2/32");
				fx_addr(fx, &fx->link[0], "fd00::2/64");
			} else if (c == 6)
				fx_route(fx, "fd00::2/128", "fd01::2");
		}
		if (c == 0) {
			FRAME(&f, pkt6_na);
			f.b[ETH_HDR_LEN + IPV6_HDR_LEN + 4] = 0; /* neither S nor O */
			f.b[f.len - 1] = 0x0b;			 /* 02:00:00:00:00:0b */
			fix(&f);
			snprintf(t->what, sizeof(t->what), "A's doubtful NA");
			twin_step(t, 0, &f, 0);
		} else if (c == 1) {
			FRAME(&f, pkt_arp_reply);
			f.b[11] = f.b[27] = 0x0a; /* 02:00:00:00:00:0a */
			snprintf(t->what, sizeof(t->what), "A's new MAC");
			twin_step(t, 0, &f, 0);
		} else if (c == 2) {
			FRAME(&f, pkt6_ptb);
			memcpy(frame_ip(&f) + IPV6_HDR_LEN + ICMP_HDR_LEN + 24, ip6("fd00::2").a,
			       16);
			wire_put32(frame_ip(&f) + IPV6_HDR_LEN + 4, 1280);
			fix(&f);
			snprintf(t->what, sizeof(t->what), "a packet too big: 1280 towards A6");
			twin_step(t, 0, &f, 0);
			assert_int_equal(fx_stat(&t->fx[0], "icmp6.pmtu_updates"), 2);
		}
		twin_compare(t);   /* what the changes sent (announcements, DAD) */
		t->quiet = c == 3; /* no relearning */
		for (unsigned turn = 0; turn < (c == 3 ? 30u : c == 5 ? 2u : 1u); turn++) {
			for (unsigned i = 0; i < nb; i++)
				for (int r = 0; r < 3; r++) {
					snprintf(t->what, sizeof(t->what), "%s, change %u, turn %u",
						 b[i].name, c, turn);
					twin_step(t, b[i].link, &b[i].f, 0);
				}
			/* Time passes: A's entries age while it is silent; DAD
			 * ends for A's address made ours. */
			for (int k = 0; k < 2 && (c == 3 || c == 5); k++) {
				fx_advance(&t->fx[k], 2 * SEC);
				fx_poll(&t->fx[k]);
			}
			snprintf(t->what, sizeof(t->what), "change %u, turn %u: time passes", c,
				 turn);
			twin_compare(t);
		}
		if (c == 3) {
			t->quiet = false;
			twin_relearn(t);
		}
		taken = (unsigned)fx_stat(&t->fx[0], "poll.fast_packets");
		print_message("after change %u: %u frames took the fast path\n", c, taken - before);
		/* A's new MAC is confirmed (REACHABLE): echo goes on the fast path. */
		if (c == 1)
			assert_true(taken - before >= 6);
	}
	taken = (unsigned)fx_stat(&t->fx[0], "poll.fast_packets");
	print_message("%u frames compared, %u took the fast path\n", t->steps, taken);
	assert_true(taken > 1000);
	assert_int_equal(fx_stat(&t->fx[1], "poll.fast_packets"), 0);
	fx_teardown((void *[]){ &t->fx[1] });
	fx_finish(&t->fx[0]); /* started first: its count covers both */
}

/* prefix added to lo0 in both twins. */
static void
twin_addr_lo(struct twin *t, const char *prefix)
{
	struct sonde_prefix p;

	assert_int_equal(sonde_prefix_parse(prefix, &p), 0);
	for (int k = 0; k < 2; k++)
		assert_int_equal(sonde_addr_add(t->fx[k].st, sonde_if_find(t->fx[k].st, "lo0"), &p),
				 0);
}

static uint64_t
twin_echo_replies(const struct twin *t)
{
	return fx_stat(&t->fx[0], "icmp.echo_replies") + fx_stat(&t->fx[0], "icmp6.echo_replies");
}

/* An address made ours alone, with no route to go with it (on lo0), must
 * empty the memo: echo from A is answered on the fast path, and once A's
 * address is ours neither path may answer it (a martian source).  One
 * family at a time, so that each change is seen alone.
 * test_fast_matches_general cannot show this: there a route change always
 * comes with the address. */
static void
test_fast_address_change(void **state)
{
	struct twin *t = &twin;
	struct frame e4, e6;
	uint64_t replies;
	unsigned taken;

	*state = t;
	memset(t, 0, sizeof(*t));
	twin_router(&t->fx[0], false);
	twin_router(&t->fx[1], true);
	FRAME(&e4, pkt_echo_req);
	FRAME(&e6, pkt6_echo_req);
	t->quiet = true;
	snprintf(t->what, sizeof(t->what), "echo from A");
	for (int r = 0; r < 3; r++) {
		twin_step(t, 0, &e4, 0);
		twin_step(t, 0, &e6, 0);
	}
	taken = (unsigned)fx_stat(&t->fx[0], "poll.fast_packets");
	assert_true(taken >= 2); /* the memo holds A, in both families */

	twin_addr_lo(t, "10.0.0.2/32");
	replies = twin_echo_replies(t);
	snprintf(t->what, sizeof(t->what), "echo from 10.0.0.2, now ours");
	twin_step(t, 0, &e4, 0); /* the twins agree: no answer */
	assert_int_equal(twin_echo_replies(t), replies);
	snprintf(t->what, sizeof(t->what), "echo from fd00::2, not ours yet");
	twin_step(t, 0, &e6, 0);
	assert_int_equal(twin_echo_replies(t), replies + 1);
	assert_int_equal(fx_stat(&t->fx[0], "poll.fast_packets"), taken + 1);

	twin_addr_lo(t, "fd00::2/128");
	snprintf(t->what, sizeof(t->what), "echo from fd00::2, now ours");
	twin_step(t, 0, &e6, 0);
	assert_int_equal(twin_echo_replies(t), replies + 1);
	fx_teardown((void *[]){ &t->fx[1] });
	fx_finish(&t->fx[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate_setup_teardown(test_fast_matches_general, NULL,
							 twin_teardown, &twin),
		cmocka_unit_test_prestate_setup_teardown(test_fast_address_change, NULL,
							 twin_teardown, &twin),
	};
	int r;

	unit_init_mem("fast", 512);
	r = cmocka_run_group_tests_name("fast", tests, NULL, NULL);
	unit_fini();
	return r;
}
