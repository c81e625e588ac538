/*
 * test_nd6.c: Neighbor Discovery and Duplicate Address Detection
 * (stack/link/nd6.c, stack/link/neigh.c) on a test link with the fake clock.
 * RFC 4291 appendix A (the modified EUI-64 link-local address); RFC 4862
 * 5.4 (DAD: a probe from :: to the solicited-node group, the tentative
 * address neither answered nor used for a second, then preferred; another
 * node's probe or advertisement for it makes it a duplicate, never used);
 * RFC 4861 7.2.3-7.2.4 (solicitations answered with a solicited NA from
 * the target with its link-layer address, S and O; a DAD probe for a
 * preferred address answered to all-nodes without S), 7.2.2 (resolution:
 * INCOMPLETE, three multicast solicitations a second apart, then the held
 * packets dropped; a bounded queue, oldest dropped, released in order),
 * 7.3.2-7.3.3 (REACHABLE for ReachableTime, STALE, DELAY on use, PROBE with
 * unicast solicitations, REACHABLE again on a solicited NA), 7.2.5 (what
 * an advertisement's S and O flags may change), and 7.1 (every validity
 * check, each dropped under its reason with nothing sent).
 */
#include <errno.h>
#include <string.h>

#include "packets.h"
#include "unit.h"

static const uint8_t MAC_X[6] = { 0x02, 0, 0, 0, 0x00, 0x99 };

static void
ping6(struct unit_fx *fx, const char *dst, uint16_t seq, int want)
{
	struct sonde_prefix p;

	assert_int_equal(sonde_prefix_parse(dst, &p), 0);
	assert_int_equal(sonde_ping(fx->st, &p, 0x5eed, seq, 8), want);
}

/* Frame i is our echo request seq from fd00::1 to fd00::2 at eth_dst. */
static void
assert_echo6(struct unit_link *l, unsigned i, const uint8_t *eth_dst, uint16_t seq)
{
	size_t len;
	const uint8_t *ip = tx_ipv6(l, i, eth_dst, &len);

	assert_int_equal(len, IPV6_HDR_LEN + 8 + 8);
	assert_int_equal(ip[6], IPPROTO_ICMPV6_);
	assert_ip6(ip + 8, "fd00::1");
	assert_ip6(ip + 24, "fd00::2");
	assert_int_equal(ip[40], ICMP6_ECHO_REQUEST);
	assert_int_equal(wire_get16(ip + 44), 0x5eed);
	assert_int_equal(wire_get16(ip + 46), seq);
	assert_int_equal(ref_cksum6(ip + 8, ip + 24, IPPROTO_ICMPV6_, ip + 40, len - 40), 0);
}

/* Frame i is our solicitation for fd00::2: multicast to its solicited-node
 * group, or unicast to eth_dst (a reachability probe). */
static void
assert_ns_a(struct unit_link *l, unsigned i, const uint8_t *eth_dst)
{
	bool mcast = memcmp(eth_dst, MAC_SN2, 6) == 0;

	tx_nd6(l, i, eth_dst, ND_NEIGHBOR_SOLICIT, 0, "fd00::1",
	       mcast ? "ff02::1:ff00:2" : "fd00::2", "fd00::2", ND_OPT_SOURCE_LINKADDR);
}

/* An advertisement from A to fd00::1 for target with flags and a TLLAO
 * of mac (NULL: none). */
static void
na_frame(struct frame *f, uint32_t flags, const char *target, const uint8_t *mac)
{
	uint8_t *ip;

	FRAME(f, pkt6_na);
	ip = frame_ip(f);
	wire_put32(ip + 44, flags);
	memcpy(ip + 48, ip6(target).a, 16);
	if (mac)
		memcpy(ip + 66, mac, 6);
	else
		frame6_resize(f, 24);
	frame6_fix(f);
}

static void
inject(struct unit_fx *fx, const struct frame *f)
{
	fx_inject(fx, &fx->link[0], f->b, f->len);
}

/* Injects f, polls: nothing sent, one drop as name, the neighbour table
 * and our addresses untouched. */
static void
expect_drop(struct unit_fx *fx, const struct frame *f, const char *name)
{
	uint64_t entries = fx_stat(fx, "neigh.entries");

	fx_snap(fx);
	inject(fx, f);
	fx_poll(fx);
	if (fx->link[0].n_tx != 0 || fx_delta(fx, name) != 1 || fx_drops_delta(fx) != 1) {
		fx_print_delta(fx);
		fail_msg("want one drop as %s and nothing sent: %u frames", name, fx->link[0].n_tx);
	}
	assert_int_equal(fx_stat(fx, "neigh.entries"), entries);
	assert_int_equal(fx_delta(fx, "nd.dad_failed"), 0);
}

/* Pings A (unknown), sees the multicast solicitation, answers it with a
 * solicited NA: the echo follows, A is REACHABLE. */
static void
resolve_a(struct unit_fx *fx, uint16_t seq)
{
	struct unit_link *l = &fx->link[0];

	ping6(fx, "fd00::2", seq, 0);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_ns_a(l, 0, MAC_SN2);
	fx_tx_clear(l);
	fx_inject(fx, l, pkt6_na, sizeof(pkt6_na));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_echo6(l, 0, MAC_A, seq);
	fx_tx_clear(l);
}

/* Pings A: the echo leaves at once, to mac, alone. */
static void
ping_direct(struct unit_fx *fx, uint16_t seq, const uint8_t *mac)
{
	struct unit_link *l = &fx->link[0];

	ping6(fx, "fd00::2", seq, 0);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_echo6(l, 0, mac, seq);
	fx_tx_clear(l);
}

/* Polls every 100 ms (each poll a timer run) for ns; every frame sent must
 * be a unicast solicitation for A to mac: records when (ns after base).
 * *gone_at (if not NULL) is when the neighbour table emptied, or 0. */
static unsigned
watch(struct unit_fx *fx, uint64_t ns, uint64_t base, const uint8_t *mac, uint64_t *at,
      unsigned max, uint64_t *gone_at)
{
	struct unit_link *l = &fx->link[0];
	uint64_t end = fx->now + ns;
	unsigned n = 0;

	while (fx->now < end) {
		fx->now = RTE_MIN(fx->now + 100 * MS, end);
		fx_poll(fx);
		for (unsigned i = 0; i < l->n_tx; i++) {
			assert_ns_a(l, i, mac);
			assert_true(n < max);
			at[n++] = fx->now - base;
		}
		fx_tx_clear(l);
		if (gone_at && *gone_at == 0 && fx_stat(fx, "neigh.entries") == 0)
			*gone_at = fx->now - base;
	}
	return n;
}

/* RFC 4862 5.4: the probe, the tentative second, then the address. */
static void
test_nd6_dad(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	uint8_t eui[16] = { 0xfe, 0x80 };
	struct frame f;

	/* RFC 4291 appendix A: MAC_US0 with the universal/local bit
	 * inverted, ff:fe in the middle. */
	eui[8] = MAC_US0[0] ^ 0x02;
	eui[9] = MAC_US0[1];
	eui[10] = MAC_US0[2];
	eui[11] = 0xff;
	eui[12] = 0xfe;
	memcpy(eui + 13, MAC_US0 + 3, 3);
	assert_memory_equal(eui, ip6("fe80::ff:fe00:1").a, 16);

	fx_host(fx, NULL);
	l = &fx->link[0];
	fx_snap(fx);
	fx_addr(fx, l, "fe80::ff:fe00:1/64");
	fx_addr(fx, l, "fd00::1/64");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 2);
	tx_nd6(l, 0, MAC_SN1, ND_NEIGHBOR_SOLICIT, 0, "::", "ff02::1:ff00:1", "fe80::ff:fe00:1", 0);
	tx_nd6(l, 1, MAC_SN1, ND_NEIGHBOR_SOLICIT, 0, "::", "ff02::1:ff00:1", "fd00::1", 0);
	fx_tx_clear(l);
	assert_int_equal(fx_delta(fx, "nd.ns_out"), 2);
	assert_false(sonde_ready(fx->st));

	/* Tentative: a solicitation for it is not answered (nor is its
	 * sender learnt), a packet to it is discarded, nothing leaves from it. */
	fx->now += 999 * MS;
	fx_poll(fx);
	assert_false(sonde_ready(fx->st));
	FRAME(&f, pkt6_ns);
	expect_drop(fx, &f, "drop.in.nd-tentative-target");
	FRAME(&f, pkt6_ns);
	frame6_set_src(&f, "fe80::ff:fe00:2");
	memcpy(frame_ip(&f) + 48, ip6("fe80::ff:fe00:1").a, 16);
	frame6_fix(&f);
	expect_drop(fx, &f, "drop.in.nd-tentative-target");
	FRAME(&f, pkt6_echo_req);
	expect_drop(fx, &f, "drop.in.not-local");
	FRAME(&f, pkt6_udp);
	expect_drop(fx, &f, "drop.in.not-local");
	ping6(fx, "fd00::2", 1, -EADDRNOTAVAIL);
	assert_int_equal(fx_stat(fx, "neigh.entries"), 0);

	/* One second after the probe, no answer: preferred, and answering.
	 * Nothing is announced. */
	fx->now += 1 * MS;
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_true(sonde_ready(fx->st));
	fx_inject(fx, l, pkt6_ns, sizeof(pkt6_ns));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_nd6(l, 0, MAC_A, ND_NEIGHBOR_ADVERT, ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE,
	       "fd00::1", "fd00::2", "fd00::1", ND_OPT_TARGET_LINKADDR);
	fx_tx_clear(l);
	ping_direct(fx, 2, MAC_A);
	assert_int_equal(fx_stat(fx, "nd.dad_failed"), 0);
	fx_finish(fx);
}

/* After DAD failed: the address answers nothing and is never a source. */
static void
expect_duplicate(struct unit_fx *fx)
{
	struct frame f;

	for (unsigned i = 0; i < 20; i++) {
		fx_advance(fx, 100 * MS);
		fx_poll(fx);
		assert_int_equal(fx->link[0].n_tx, 0);
	}
	/* Not tentative any more: "ready", but the address is not ours. */
	assert_true(sonde_ready(fx->st));
	FRAME(&f, pkt6_ns);
	expect_drop(fx, &f, "drop.in.nd-not-for-us");
	FRAME(&f, pkt6_echo_req);
	expect_drop(fx, &f, "drop.in.not-local");
	ping6(fx, "fd00::2", 1, -EADDRNOTAVAIL);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 0);
}

/* RFC 4862 5.4.3-5.4.5: another node's probe for our tentative address, or
 * its advertisement of it, and the address is a duplicate. */
static void
test_nd6_dad_conflict(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	for (unsigned how = 0; how < 2; how++) {
		fx_host(fx, NULL);
		l = &fx->link[0];
		fx_addr(fx, l, "fd00::1/64");
		fx_poll(fx);
		assert_int_equal(l->n_tx, 1);
		fx_tx_clear(l);
		fx_advance(fx, 500 * MS);
		fx_snap(fx);
		if (how == 0) {
			FRAME(&f, pkt6_ns_dad);
		} else {
			na_frame(&f, ND_NA_FLAG_OVERRIDE, "fd00::1", MAC_A);
			memcpy(f.b, MAC_ALLNODES, 6);
			frame6_set_dst(&f, "ff02::1");
		}
		inject(fx, &f);
		fx_poll(fx);
		assert_int_equal(l->n_tx, 0);
		assert_int_equal(fx_delta(fx, "nd.dad_failed"), 1);
		assert_one_drop(fx, "drop.in.nd-dad-conflict");
		expect_duplicate(fx);
		fx_finish(fx);
	}
}

/* RFC 4861 7.2.3-7.2.4: a solicitation for one of our addresses. */
static void
test_nd6_ns_answered(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	fx_host6(fx, NULL);
	l = &fx->link[0];
	fx_snap(fx);
	fx_inject(fx, l, pkt6_ns, sizeof(pkt6_ns));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	/* From the target, to the asker at the MAC it gave, S and O, our MAC. */
	tx_nd6(l, 0, MAC_A, ND_NEIGHBOR_ADVERT, ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE,
	       "fd00::1", "fd00::2", "fd00::1", ND_OPT_TARGET_LINKADDR);
	fx_tx_clear(l);
	assert_int_equal(fx_delta(fx, "nd.ns_in"), 1);
	assert_int_equal(fx_delta(fx, "nd.na_out"), 1);
	assert_int_equal(fx_delta(fx, "icmp6.in"), 1);
	assert_int_equal(fx_delta(fx, "icmp6.out"), 1);
	assert_int_equal(fx_drops_delta(fx), 0);
	/* A is known (STALE): the next packet goes straight to it. */
	assert_int_equal(fx_stat(fx, "neigh.entries"), 1);
	ping_direct(fx, 1, MAC_A);

	/* Link-local for link-local. */
	FRAME(&f, pkt6_ns);
	frame6_set_src(&f, "fe80::ff:fe00:2");
	memcpy(frame_ip(&f) + 48, ip6("fe80::ff:fe00:1").a, 16);
	frame6_fix(&f);
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_nd6(l, 0, MAC_A, ND_NEIGHBOR_ADVERT, ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE,
	       "fe80::ff:fe00:1", "fe80::ff:fe00:2", "fe80::ff:fe00:1", ND_OPT_TARGET_LINKADDR);
	fx_tx_clear(l);

	/* Unicast (A checking on us), without its address option: answered
	 * to the entry it has. */
	FRAME(&f, pkt6_ns);
	memcpy(f.b, MAC_US0, 6);
	frame6_resize(&f, 24);
	frame6_set_dst(&f, "fd00::1");
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_nd6(l, 0, MAC_A, ND_NEIGHBOR_ADVERT, ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE,
	       "fd00::1", "fd00::2", "fd00::1", ND_OPT_TARGET_LINKADDR);
	fx_tx_clear(l);

	/* For an address not ours, reaching us anyway. */
	FRAME(&f, pkt6_ns);
	memcpy(frame_ip(&f) + 48, ip6("fd00::2:0:0:1").a, 16); /* same group */
	frame6_fix(&f);
	expect_drop(fx, &f, "drop.in.nd-not-for-us");
	FRAME(&f, pkt6_ns);
	memcpy(f.b, MAC_US0, 6);
	frame6_set_dst(&f, "fd00::1");
	memcpy(frame_ip(&f) + 48, ip6("fd00::77").a, 16);
	frame6_fix(&f);
	expect_drop(fx, &f, "drop.in.nd-not-for-us");
	fx_finish(fx);

	/* A router says so (RFC 4861 7.2.4: R). */
	fx_host6(fx, &(struct sonde_conf){ .forwarding = true });
	l = &fx->link[0];
	fx_inject(fx, l, pkt6_ns, sizeof(pkt6_ns));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_nd6(l, 0, MAC_A, ND_NEIGHBOR_ADVERT,
	       ND_NA_FLAG_ROUTER | ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE, "fd00::1", "fd00::2",
	       "fd00::1", ND_OPT_TARGET_LINKADDR);
	fx_finish(fx);
}

/* RFC 4861 7.2.4, RFC 4862 5.4.3: another node's DAD probe for an address
 * we hold is answered to all-nodes, without S; it learns us nothing, and
 * our address stays. */
static void
test_nd6_dad_defended(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;

	fx_host6(fx, NULL);
	l = &fx->link[0];
	fx_snap(fx);
	fx_inject(fx, l, pkt6_ns_dad, sizeof(pkt6_ns_dad));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_nd6(l, 0, MAC_ALLNODES, ND_NEIGHBOR_ADVERT, ND_NA_FLAG_OVERRIDE, "fd00::1", "ff02::1",
	       "fd00::1", ND_OPT_TARGET_LINKADDR);
	fx_tx_clear(l);
	assert_int_equal(fx_drops_delta(fx), 0);
	assert_int_equal(fx_delta(fx, "nd.dad_failed"), 0);
	assert_int_equal(fx_stat(fx, "neigh.entries"), 0);
	fx_learn6_a(fx);
	ping_direct(fx, 1, MAC_A);
	fx_finish(fx);
}

/* RFC 4861 7.2.2, 7.3.3: MAX_MULTICAST_SOLICIT 3, RETRANS_TIMER 1 s, then
 * what waited is dropped. */
static void
test_nd6_resolution_timeout(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	uint64_t base, at[8], drop_at = 0;
	unsigned n = 0;

	fx_host6(fx, NULL);
	l = &fx->link[0];
	fx_snap(fx);
	base = fx->now;
	ping6(fx, "fd00::2", 1, 0);
	ping6(fx, "fd00::2", 2, 0);
	for (uint64_t t = 0; t <= 4 * SEC; t += 50 * MS) {
		fx->now = base + t;
		fx_poll(fx);
		for (unsigned i = 0; i < l->n_tx; i++) {
			assert_ns_a(l, i, MAC_SN2);
			assert_true(n < 8);
			at[n++] = t;
		}
		fx_tx_clear(l);
		if (drop_at == 0 && fx_delta(fx, "drop.out.nd-timeout") > 0)
			drop_at = t;
	}
	assert_int_equal(n, 3);
	assert_int_equal(at[0], 0);
	assert_int_equal(at[1], 1 * SEC);
	assert_int_equal(at[2], 2 * SEC);
	assert_int_equal(drop_at, 3 * SEC);
	assert_int_equal(fx_delta(fx, "drop.out.nd-timeout"), 2);
	assert_int_equal(fx_drops_delta(fx), 2);
	assert_int_equal(fx_delta(fx, "nd.ns_out"), 3);
	assert_int_equal(fx_stat(fx, "neigh.entries"), 0);
	/* Gone: a new packet starts over. */
	ping6(fx, "fd00::2", 3, 0);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_ns_a(l, 0, MAC_SN2);
	fx_finish(fx);
}

/* RFC 4861 7.2.2: a small queue per neighbour, oldest dropped first,
 * released in order by the advertisement. */
static void
test_nd6_queue(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;

	fx_host6(fx, NULL); /* conf.arp_queue: 4 */
	l = &fx->link[0];
	fx_snap(fx);
	for (uint16_t seq = 1; seq <= 6; seq++) {
		ping6(fx, "fd00::2", seq, 0);
		assert_int_equal(fx_delta(fx, "drop.out.nd-queue-full"), seq > 4 ? seq - 4 : 0);
	}
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_ns_a(l, 0, MAC_SN2);
	fx_tx_clear(l);
	fx_inject(fx, l, pkt6_na, sizeof(pkt6_na));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_echo6(l, i, MAC_A, (uint16_t)(i + 3));
	assert_int_equal(fx_drops_delta(fx), 2);
	assert_int_equal(fx_delta(fx, "nd.na_in"), 1);
	fx_finish(fx);
}

/* RFC 4861 7.3.2-7.3.3, to the 100 ms of the timer: REACHABLE 30 s, STALE,
 * DELAY 5 s from the first use, PROBE: unicast solicitations a second
 * apart; a solicited NA makes A REACHABLE again, silence deletes it; our
 * answer to A's solicitation is a use too; a STALE entry never used is
 * forgotten after 60 s. */
static void
test_nd6_nud(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	uint64_t base, at[8], gone = 0;

	fx_host6(fx, NULL);
	l = &fx->link[0];
	resolve_a(fx, 1);
	base = fx->now;
	assert_int_equal(watch(fx, 29900 * MS, base, MAC_A, at, 8, NULL), 0);
	ping_direct(fx, 2, MAC_A); /* REACHABLE: nothing changes */
	assert_int_equal(watch(fx, 100 * MS, base, MAC_A, at, 8, NULL), 0);
	ping_direct(fx, 3, MAC_A); /* STALE: sent, and DELAY starts */
	assert_int_equal(watch(fx, 5 * SEC, base, MAC_A, at, 8, NULL), 1);
	assert_int_equal(at[0], 35 * SEC);
	/* PROBE: the entry is still used while it is checked. */
	ping_direct(fx, 4, MAC_A);
	fx_inject(fx, l, pkt6_na, sizeof(pkt6_na));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	base = fx->now;
	assert_int_equal(watch(fx, 29900 * MS, base, MAC_A, at, 8, NULL), 0);
	ping_direct(fx, 5, MAC_A);
	assert_int_equal(watch(fx, 100 * MS, base, MAC_A, at, 8, NULL), 0);
	ping_direct(fx, 6, MAC_A);
	/* This time A keeps quiet: three probes, then the entry goes. */
	assert_int_equal(watch(fx, 10 * SEC, base, MAC_A, at, 8, &gone), 3);
	assert_int_equal(at[0], 35 * SEC);
	assert_int_equal(at[1], 36 * SEC);
	assert_int_equal(at[2], 37 * SEC);
	assert_int_equal(gone, 38 * SEC);
	assert_int_equal(fx_stat(fx, "drop.out.nd-timeout"), 0); /* nothing waited */
	ping6(fx, "fd00::2", 7, 0);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_ns_a(l, 0, MAC_SN2);
	fx_finish(fx);

	/* A solicited us (7.2.3: STALE) and our advertisement was the first
	 * packet to it (7.3.3: DELAY): probed 5 s later, unlike ARP, whose
	 * replies do not go through the table. */
	fx_host6(fx, NULL);
	l = &fx->link[0];
	fx_learn6_a(fx);
	base = fx->now;
	gone = 0;
	assert_int_equal(watch(fx, 10 * SEC, base, MAC_A, at, 8, &gone), 3);
	assert_int_equal(at[0], 5 * SEC);
	assert_int_equal(at[2], 7 * SEC);
	assert_int_equal(gone, 8 * SEC);
	fx_finish(fx);

	/* REACHABLE, never used again: STALE at 30 s, forgotten 60 s later. */
	fx_host6(fx, NULL);
	l = &fx->link[0];
	resolve_a(fx, 1);
	base = fx->now;
	gone = 0;
	assert_int_equal(watch(fx, 91 * SEC, base, MAC_A, at, 8, &gone), 0);
	assert_int_equal(gone, 90 * SEC);
	ping6(fx, "fd00::2", 2, 0);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_ns_a(l, 0, MAC_SN2);
	fx_finish(fx);
}

/* RFC 4861 7.2.5: without O, a different address may not replace the
 * cached one: a REACHABLE entry only becomes STALE, others are left
 * alone; with O it replaces it (STALE unless solicited). */
static void
test_nd6_na_override(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;
	uint64_t base, at[8];

	fx_host6(fx, NULL);
	l = &fx->link[0];
	resolve_a(fx, 1);
	/* Solicited-looking, O clear, another MAC: REACHABLE -> STALE, MAC kept. */
	na_frame(&f, ND_NA_FLAG_SOLICITED, "fd00::2", MAC_X);
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	base = fx->now;
	ping_direct(fx, 2, MAC_A); /* STALE -> DELAY, to the old MAC */
	/* In DELAY, the same again changes nothing: still probed at 5 s, at
	 * the old MAC. */
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(watch(fx, 5 * SEC, base, MAC_A, at, 8, NULL), 1);
	assert_int_equal(at[0], 5 * SEC);

	/* Unsolicited with O: the new MAC, STALE (used, then probed there). */
	na_frame(&f, ND_NA_FLAG_OVERRIDE, "fd00::2", MAC_X);
	frame6_set_dst(&f, "ff02::1");
	memcpy(f.b, MAC_ALLNODES, 6);
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	base = fx->now;
	ping_direct(fx, 3, MAC_X);
	assert_int_equal(watch(fx, 5 * SEC, base, MAC_X, at, 8, NULL), 1);
	assert_int_equal(at[0], 5 * SEC);

	/* Solicited with O: MAC_A again, and REACHABLE (no probe at 5 s). */
	na_frame(&f, ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE, "fd00::2", MAC_A);
	inject(fx, &f);
	fx_poll(fx);
	ping_direct(fx, 4, MAC_A);
	assert_int_equal(watch(fx, 10 * SEC, fx->now, MAC_A, at, 8, NULL), 0);
	/* Solicited, no TLLAO: confirms what is cached. */
	na_frame(&f, ND_NA_FLAG_SOLICITED, "fd00::2", NULL);
	inject(fx, &f);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	fx_finish(fx);
}

/* RFC 4861 7.1.1 (solicitations) and 7.1.2 (advertisements): each check. */
static void
test_nd6_invalid(void **state)
{
	static const uint8_t *const base[] = { pkt6_ns, pkt6_na };
	static const size_t base_len[] = { sizeof(pkt6_ns), sizeof(pkt6_na) };
	struct unit_fx *fx = *state;
	struct frame f;

	fx_host6(fx, NULL);
	for (unsigned k = 0; k < 2; k++) {
		/* Hop limit 254: it crossed a router. */
		frame_init(&f, base[k], base_len[k]);
		frame_ip(&f)[7] = 254;
		expect_drop(fx, &f, "drop.in.nd-bad-hop-limit");
		frame_ip(&f)[7] = 1;
		expect_drop(fx, &f, "drop.in.nd-bad-hop-limit");
		/* Code not 0. */
		frame_init(&f, base[k], base_len[k]);
		frame_ip(&f)[41] = 1;
		frame6_fix(&f);
		expect_drop(fx, &f, "drop.in.nd-bad-code");
		/* Shorter than 24 bytes. */
		for (uint16_t n = ICMP_HDR_LEN; n < 24; n++) {
			frame_init(&f, base[k], base_len[k]);
			frame6_resize(&f, n);
			expect_drop(fx, &f, "drop.in.nd-malformed");
		}
		/* A multicast target. */
		frame_init(&f, base[k], base_len[k]);
		memcpy(frame_ip(&f) + 48, ip6("ff02::1").a, 16);
		frame6_fix(&f);
		expect_drop(fx, &f, "drop.in.nd-bad-target");
		/* An option of length 0, or longer than what is left. */
		frame_init(&f, base[k], base_len[k]);
		frame_ip(&f)[65] = 0;
		frame6_fix(&f);
		expect_drop(fx, &f, "drop.in.nd-bad-option");
		frame_ip(&f)[65] = 2;
		frame6_fix(&f);
		expect_drop(fx, &f, "drop.in.nd-bad-option");
		/* Half an option. */
		frame_init(&f, base[k], base_len[k]);
		frame6_resize(&f, 24 + 1);
		expect_drop(fx, &f, "drop.in.nd-bad-option");
		/* A wrong checksum never gets this far. */
		frame_init(&f, base[k], base_len[k]);
		frame_ip(&f)[50] ^= 1;
		expect_drop(fx, &f, "drop.in.icmp-bad-checksum");
	}
	/* A DAD probe carries no source link-layer address ... */
	FRAME(&f, pkt6_ns);
	frame6_set_src(&f, "::");
	expect_drop(fx, &f, "drop.in.nd-malformed");
	/* ... and goes to the solicited-node group. */
	FRAME(&f, pkt6_ns_dad);
	memcpy(f.b, MAC_US0, 6);
	frame6_set_dst(&f, "fd00::1");
	expect_drop(fx, &f, "drop.in.nd-malformed");
	/* A solicited advertisement is never multicast. */
	FRAME(&f, pkt6_na);
	memcpy(f.b, MAC_ALLNODES, 6);
	frame6_set_dst(&f, "ff02::1");
	expect_drop(fx, &f, "drop.in.nd-malformed");
	/* An advertisement for a neighbour we never asked about. */
	FRAME(&f, pkt6_na);
	expect_drop(fx, &f, "drop.in.nd-unsolicited-advert");
	/* An advertisement without its address, for one we are resolving:
	 * of no use (RFC 4861 7.2.5). */
	ping6(fx, "fd00::2", 1, 0);
	fx_poll(fx);
	fx_tx_clear(&fx->link[0]);
	na_frame(&f, ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE, "fd00::2", NULL);
	expect_drop(fx, &f, "drop.in.nd-malformed");
	fx_finish(fx);
}

/* RFC 4861 6.2.6: a host is not in all-routers, so router solicitations do
 * not even reach ND; a router takes them in and ignores them (it sends no
 * advertisements yet).  Router advertisements are counted and ignored (no
 * SLAAC yet), and teach nothing. */
static void
test_nd6_router_messages(void **state)
{
	struct unit_fx *fx = *state;
	struct frame f;

	fx_host6(fx, NULL);
	FRAME(&f, pkt6_rs);
	expect_drop(fx, &f, "drop.in.not-local");
	fx_snap(fx);
	fx_inject(fx, &fx->link[0], pkt6_ra, sizeof(pkt6_ra));
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 0);
	assert_int_equal(fx_drops_delta(fx), 0);
	assert_int_equal(fx_delta(fx, "nd.ra_ignored"), 1);
	assert_int_equal(fx_stat(fx, "neigh.entries"), 0);
	fx_finish(fx);

	fx_host6(fx, &(struct sonde_conf){ .forwarding = true });
	fx_snap(fx);
	fx_inject(fx, &fx->link[0], pkt6_rs, sizeof(pkt6_rs));
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 0);
	assert_int_equal(fx_drops_delta(fx), 0);
	assert_int_equal(fx_delta(fx, "nd.rs_ignored"), 1);
	fx_finish(fx);
}

int
main(void)
{
	static struct unit_fx fx;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx)
	const struct CMUnitTest tests[] = {
		T(test_nd6_dad),
		T(test_nd6_dad_conflict),
		T(test_nd6_ns_answered),
		T(test_nd6_dad_defended),
		T(test_nd6_resolution_timeout),
		T(test_nd6_queue),
		T(test_nd6_nud),
		T(test_nd6_na_override),
		T(test_nd6_invalid),
		T(test_nd6_router_messages),
	};
#undef T
	int r;

	unit_init("nd6");
	r = cmocka_run_group_tests_name("nd6", tests, NULL, NULL);
	unit_fini();
	return r;
}
