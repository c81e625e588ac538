/*
 * test_arp.c: the ARP neighbour table (stack/link/arp.c, RFC 826, RFC 1122
 * 2.3.2.1, RFC 5227) through a test link and a fake clock: replies to
 * requests for our address, field by field; learning only when the target
 * is us or the sender is already in the table; announcements on
 * sonde_addr_add; packets held while resolving and released in order;
 * queue overflow (oldest dropped), three requests a second apart then
 * arp-timeout; the RFC 4861 7.3.2 states ARP now shares with ND (a reply
 * makes REACHABLE for conf.arp_timeout_ms, then STALE; a use starts DELAY,
 * 5 s later PROBE: three unicast requests a second apart, then the entry
 * goes; a request only makes STALE, forgotten after 60 s unused), to the
 * 100 ms of the timer; a full table; someone else using our address;
 * malformed and unlearnable packets; RFC 5227 probes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "packets.h"
#include "unit.h"

static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0x00, 0x03 };
static const uint8_t MAC_C2[6] = { 0x02, 0, 0, 0, 0x00, 0x33 };
static const uint8_t MAC_D[6] = { 0x02, 0, 0, 0, 0x00, 0x04 };

static void
arp_frame(struct frame *f, uint16_t op, const uint8_t *eth_dst, const uint8_t *sha, const char *spa,
	  const uint8_t *tha, const char *tpa)
{
	uint8_t *a;

	FRAME(f, pkt_arp_req);
	a = f->b + ETH_HDR_LEN;
	memcpy(f->b, eth_dst, 6);
	memcpy(f->b + 6, sha, 6);
	wire_put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	frame_set_ip4(a + 14, spa);
	memcpy(a + 18, tha, 6);
	frame_set_ip4(a + 24, tpa);
}

static void
inject_arp(struct unit_fx *fx, uint16_t op, const uint8_t *eth_dst, const uint8_t *sha,
	   const char *spa, const uint8_t *tha, const char *tpa)
{
	struct frame f;

	arp_frame(&f, op, eth_dst, sha, spa, tha, tpa);
	fx_inject(fx, &fx->link[0], f.b, f.len);
}

static void
ping(struct unit_fx *fx, const char *dst, uint16_t seq)
{
	struct sonde_prefix p;

	assert_int_equal(sonde_prefix_parse(dst, &p), 0);
	assert_int_equal(sonde_ping(fx->st, &p, 0x5eed, seq, 8), 0);
}

/* Frame i of test0 is our echo request seq to dst at eth_dst. */
static void
assert_echo(struct unit_link *l, unsigned i, const uint8_t *eth_dst, const char *dst, uint16_t seq)
{
	size_t len;
	const uint8_t *ip = tx_ipv4(l, i, eth_dst, &len);

	assert_int_equal(len, 20 + 8 + 8);
	assert_int_equal(ip[9], IPPROTO_ICMP_);
	assert_ip4(ip + 12, "10.0.0.1");
	assert_ip4(ip + 16, dst);
	assert_int_equal(ip[20], ICMP_ECHO);
	assert_int_equal(wire_get16(ip + 24), 0x5eed);
	assert_int_equal(wire_get16(ip + 26), seq);
	assert_int_equal(ref_cksum(ip + 20, len - 20), 0);
}

/* Frame i of test0 is our request for tpa, to eth_dst (broadcast or the
 * neighbour's MAC when refreshing). */
static void
assert_request(struct unit_link *l, unsigned i, const uint8_t *eth_dst, const char *tpa)
{
	const uint8_t *a = tx_arp(l, i, ARP_OP_REQUEST, eth_dst);

	assert_ip4(a + 14, "10.0.0.1");
	assert_memory_equal(a + 18, MAC_ZERO, 6);
	assert_ip4(a + 24, tpa);
}

static void
test_arp_request_reply(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	uint8_t padded[60] = { 0 };
	const uint8_t *a;

	fx_host(fx, NULL);
	l = &fx->link[0];
	fx_snap(fx);
	fx_inject(fx, l, pkt_arp_req, sizeof(pkt_arp_req));
	assert_int_equal(fx_poll(fx), 1);
	assert_int_equal(l->n_tx, 1);
	a = tx_arp(l, 0, ARP_OP_REPLY, MAC_A);
	assert_ip4(a + 14, "10.0.0.1");	       /* spa: us */
	assert_memory_equal(a + 18, MAC_A, 6); /* tha: the asker */
	assert_ip4(a + 24, "10.0.0.2");	       /* tpa: the asker */
	assert_int_equal(fx_delta(fx, "arp.in"), 1);
	assert_int_equal(fx_delta(fx, "arp.out"), 1);
	assert_int_equal(fx_delta(fx, "arp.replies_out"), 1);
	assert_int_equal(fx_delta(fx, "arp.requests_out"), 0);
	assert_int_equal(fx_delta(fx, "if.test0.rx_packets"), 1);
	assert_int_equal(fx_delta(fx, "if.test0.tx_packets"), 1);
	assert_int_equal(fx_delta(fx, "if.test0.tx_bytes"), 60);
	assert_int_equal(fx_drops_delta(fx), 0);
	fx_tx_clear(l);

	/* A learnt the way RFC 826 says: the asker is in the table, so a
	 * packet to it goes straight out, with no request first. */
	ping(fx, "10.0.0.2", 1);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_echo(l, 0, MAC_A, "10.0.0.2", 1);
	fx_tx_clear(l);

	/* The same request as a NIC delivers it, padded to 60 bytes. */
	memcpy(padded, pkt_arp_req, sizeof(pkt_arp_req));
	fx_inject(fx, l, padded, sizeof(padded));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_arp(l, 0, ARP_OP_REPLY, MAC_A);
	assert_int_equal(fx_drops_delta(fx), 0);
	fx_finish(fx);
}

/* RFC 5227 2.3: an ARP announcement, sender and target both the new address. */
static void
test_arp_announce(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct sonde_prefix p;
	const uint8_t *a;

	fx_start(fx, NULL);
	l = fx_link(fx, "test0", MAC_US0, 1500);
	fx_snap(fx);
	fx_addr(fx, l, "10.0.0.1/24");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	a = tx_arp(l, 0, ARP_OP_REQUEST, MAC_BCAST);
	assert_ip4(a + 14, "10.0.0.1");
	assert_memory_equal(a + 18, MAC_ZERO, 6);
	assert_ip4(a + 24, "10.0.0.1");
	fx_tx_clear(l);

	fx_addr(fx, l, "10.0.0.5/24");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	a = tx_arp(l, 0, ARP_OP_REQUEST, MAC_BCAST);
	assert_ip4(a + 14, "10.0.0.5");
	assert_ip4(a + 24, "10.0.0.5");
	fx_tx_clear(l);
	assert_int_equal(fx_delta(fx, "arp.requests_out"), 2);

	/* An address we have already: refused, and nothing announced. */
	assert_int_equal(sonde_prefix_parse("10.0.0.5/24", &p), 0);
	assert_int_equal(sonde_addr_add(fx->st, l->ifp->index, &p), -EEXIST);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);

	/* The second address answers for itself. */
	inject_arp(fx, ARP_OP_REQUEST, MAC_BCAST, MAC_A, "10.0.0.2", MAC_ZERO, "10.0.0.5");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	a = tx_arp(l, 0, ARP_OP_REPLY, MAC_A);
	assert_ip4(a + 14, "10.0.0.5");
	assert_int_equal(fx_drops_delta(fx), 0);
	fx_finish(fx);
}

/* RFC 826: merge the sender if it is in the table; add it only if the
 * request is for us. */
static void
test_arp_learning(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;

	fx_host(fx, NULL);
	l = &fx->link[0];
	fx_snap(fx);

	/* C asks for someone else: no answer, and C is not learnt. */
	inject_arp(fx, ARP_OP_REQUEST, MAC_BCAST, MAC_C, "10.0.0.3", MAC_ZERO, "10.0.0.9");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_one_drop(fx, "drop.in.arp-not-for-us");
	ping(fx, "10.0.0.3", 1);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_request(l, 0, MAC_BCAST, "10.0.0.3");
	fx_tx_clear(l);

	/* Now C is in the table (incomplete): the same request from C
	 * completes it and releases the waiting packet, still unanswered. */
	inject_arp(fx, ARP_OP_REQUEST, MAC_BCAST, MAC_C, "10.0.0.3", MAC_ZERO, "10.0.0.9");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_echo(l, 0, MAC_C, "10.0.0.3", 1);
	fx_tx_clear(l);
	assert_int_equal(fx_delta(fx, "drop.in.arp-not-for-us"), 2);

	/* C moves to a new MAC and says so (gratuitous ARP): merged. */
	inject_arp(fx, ARP_OP_REQUEST, MAC_BCAST, MAC_C2, "10.0.0.3", MAC_ZERO, "10.0.0.3");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	ping(fx, "10.0.0.3", 2);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_echo(l, 0, MAC_C2, "10.0.0.3", 2);
	fx_tx_clear(l);

	/* A gratuitous ARP from a stranger is not learnt. */
	inject_arp(fx, ARP_OP_REQUEST, MAC_BCAST, MAC_D, "10.0.0.4", MAC_ZERO, "10.0.0.4");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	ping(fx, "10.0.0.4", 3);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_request(l, 0, MAC_BCAST, "10.0.0.4");
	fx_tx_clear(l);

	/* A reply addressed to us is learnt (the target is us), and not answered. */
	fx_snap(fx);
	inject_arp(fx, ARP_OP_REPLY, MAC_US0, MAC_A, "10.0.0.2", MAC_US0, "10.0.0.1");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_int_equal(fx_drops_delta(fx), 0);
	ping(fx, "10.0.0.2", 4);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_echo(l, 0, MAC_A, "10.0.0.2", 4);
	fx_finish(fx);
}

static void
test_arp_queue_release(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;

	fx_host(fx, NULL);
	l = &fx->link[0];
	fx_snap(fx);
	for (uint16_t seq = 1; seq <= 3; seq++)
		ping(fx, "10.0.0.2", seq);
	fx_poll(fx);
	/* One request for the three packets, and nothing else yet. */
	assert_int_equal(l->n_tx, 1);
	assert_request(l, 0, MAC_BCAST, "10.0.0.2");
	fx_tx_clear(l);
	assert_int_equal(fx_delta(fx, "arp.requests_out"), 1);

	fx_inject(fx, l, pkt_arp_reply, sizeof(pkt_arp_reply));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_echo(l, i, MAC_A, "10.0.0.2", (uint16_t)(i + 1));
	assert_int_equal(fx_drops_delta(fx), 0);
	fx_finish(fx);
}

static void
test_arp_queue_overflow(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;

	fx_host(fx, NULL); /* default arp_queue: 4 */
	l = &fx->link[0];
	fx_snap(fx);
	for (uint16_t seq = 1; seq <= 6; seq++) {
		ping(fx, "10.0.0.2", seq);
		assert_int_equal(fx_delta(fx, "drop.out.arp-queue-full"), seq > 4 ? seq - 4 : 0);
	}
	assert_int_equal(fx_drops_delta(fx), 2);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	fx_tx_clear(l);
	fx_inject(fx, l, pkt_arp_reply, sizeof(pkt_arp_reply));
	fx_poll(fx);
	/* The oldest two went: 3, 4, 5, 6 remain, in order. */
	assert_int_equal(l->n_tx, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_echo(l, i, MAC_A, "10.0.0.2", (uint16_t)(i + 3));
	assert_int_equal(fx_drops_delta(fx), 2);
	fx_finish(fx);

	/* A one-packet queue keeps the newest. */
	fx_host(fx, &(struct sonde_conf){ .arp_queue = 1 });
	l = &fx->link[0];
	fx_snap(fx);
	for (uint16_t seq = 1; seq <= 3; seq++)
		ping(fx, "10.0.0.2", seq);
	assert_int_equal(fx_delta(fx, "drop.out.arp-queue-full"), 2);
	fx_poll(fx);
	fx_tx_clear(l);
	fx_inject(fx, l, pkt_arp_reply, sizeof(pkt_arp_reply));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_echo(l, 0, MAC_A, "10.0.0.2", 3);
	fx_finish(fx);
}

/* RFC 1122 2.3.2.1: at most one request a second; three, then give up. */
static void
test_arp_retry_timeout(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	uint64_t req_at[8], drop_at = 0;
	unsigned n_req = 0;

	fx_host(fx, NULL);
	l = &fx->link[0];
	fx_poll(fx);
	fx_snap(fx);
	ping(fx, "10.0.0.2", 1);
	ping(fx, "10.0.0.2", 2);
	for (uint64_t t = 0; t <= 4 * SEC; t += 50 * MS) {
		fx->now = UNIT_T0 + t;
		fx_poll(fx);
		for (unsigned i = 0; i < l->n_tx; i++) {
			assert_request(l, i, MAC_BCAST, "10.0.0.2");
			assert_true(n_req < 8);
			req_at[n_req++] = t;
		}
		fx_tx_clear(l);
		if (drop_at == 0 && fx_delta(fx, "drop.out.arp-timeout") > 0)
			drop_at = t;
	}
	assert_int_equal(n_req, 3);
	assert_int_equal(req_at[0], 0);
	assert_int_equal(req_at[1], 1 * SEC);
	assert_int_equal(req_at[2], 2 * SEC);
	assert_int_equal(drop_at, 3 * SEC);
	/* Both held packets, and nothing else. */
	assert_int_equal(fx_delta(fx, "drop.out.arp-timeout"), 2);
	assert_int_equal(fx_drops_delta(fx), 2);
	assert_int_equal(fx_delta(fx, "arp.requests_out"), 3);

	/* The entry is gone: a new packet starts over. */
	ping(fx, "10.0.0.2", 3);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_request(l, 0, MAC_BCAST, "10.0.0.2");
	fx_finish(fx);
}

/* Polls every 100 ms (each poll a timer run) for ns.  Every frame sent
 * must be our unicast request to A (a reachability probe): records when
 * each left, in ns after base.  *gone_at (if not NULL) is when A's entry
 * left the table, or 0. */
static unsigned
watch(struct unit_fx *fx, uint64_t ns, uint64_t base, uint64_t *at, unsigned max, uint64_t *gone_at)
{
	struct unit_link *l = &fx->link[0];
	uint64_t end = fx->now + ns;
	unsigned n = 0;

	while (fx->now < end) {
		fx->now = RTE_MIN(fx->now + 100 * MS, end);
		fx_poll(fx);
		for (unsigned i = 0; i < l->n_tx; i++) {
			assert_request(l, i, MAC_A, "10.0.0.2");
			assert_true(n < max);
			at[n++] = fx->now - base;
		}
		fx_tx_clear(l);
		if (gone_at && *gone_at == 0 && fx_stat(fx, "neigh.entries") == 0)
			*gone_at = fx->now - base;
	}
	return n;
}

/* Pings A and checks the echo left at once, to A's cached MAC, alone. */
static void
ping_direct(struct unit_fx *fx, uint16_t seq)
{
	struct unit_link *l = &fx->link[0];

	ping(fx, "10.0.0.2", seq);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_echo(l, 0, MAC_A, "10.0.0.2", seq);
	fx_tx_clear(l);
}

/* Asks for A (broadcast) and gets its reply at once: A is REACHABLE. */
static void
resolve_a(struct unit_fx *fx, uint16_t seq)
{
	struct unit_link *l = &fx->link[0];

	ping(fx, "10.0.0.2", seq);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_request(l, 0, MAC_BCAST, "10.0.0.2");
	fx_tx_clear(l);
	fx_inject(fx, l, pkt_arp_reply, sizeof(pkt_arp_reply));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_echo(l, 0, MAC_A, "10.0.0.2", seq);
	fx_tx_clear(l);
}

/* RFC 4861 7.3.2/7.3.3 for ARP (as Linux): a reply makes A REACHABLE for
 * ReachableTime (30 s); then STALE, still used without asking; the first
 * use starts DELAY, and 5 s later PROBE sends up to 3 unicast requests a
 * second apart; unanswered, the entry goes (holding nothing: no drop);
 * answered, it is REACHABLE again.  A STALE entry nobody uses is forgotten
 * after 60 s. */
static void
test_arp_expiry(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	uint64_t base, at[8], gone = 0;

	fx_host(fx, NULL);
	l = &fx->link[0];
	fx_snap(fx);
	resolve_a(fx, 1);
	base = fx->now;

	/* REACHABLE: used freely for 30 s, no request. */
	assert_int_equal(watch(fx, 29900 * MS, base, at, 8, NULL), 0);
	ping_direct(fx, 2);
	/* STALE at 30 s: nothing sent for it; then a use goes out at once,
	 * to the cached MAC, and starts the delay. */
	assert_int_equal(watch(fx, 100 * MS, base, at, 8, NULL), 0);
	ping_direct(fx, 3);
	assert_int_equal(watch(fx, 10 * SEC, base, at, 8, &gone), 3);
	assert_int_equal(at[0], 35 * SEC);
	assert_int_equal(at[1], 36 * SEC);
	assert_int_equal(at[2], 37 * SEC);
	assert_int_equal(gone, 38 * SEC);
	assert_int_equal(fx_delta(fx, "arp.requests_out"), 1 + 3);
	assert_int_equal(fx_drops_delta(fx), 0);
	/* Gone: a new packet asks the whole link again. */
	ping(fx, "10.0.0.2", 4);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_request(l, 0, MAC_BCAST, "10.0.0.2");
	fx_finish(fx);

	/* The same, but A answers the first probe: REACHABLE for 30 s more. */
	fx_host(fx, NULL);
	l = &fx->link[0];
	resolve_a(fx, 1);
	base = fx->now;
	assert_int_equal(watch(fx, 30 * SEC, base, at, 8, NULL), 0);
	ping_direct(fx, 2);
	assert_int_equal(watch(fx, 5 * SEC, base, at, 8, NULL), 1);
	assert_int_equal(at[0], 35 * SEC);
	fx_inject(fx, l, pkt_arp_reply, sizeof(pkt_arp_reply));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	base = fx->now;
	assert_int_equal(watch(fx, 29900 * MS, base, at, 8, NULL), 0);
	ping_direct(fx, 3); /* still REACHABLE: no delay, no probe */
	assert_int_equal(watch(fx, 100 * MS, base, at, 8, NULL), 0);
	ping_direct(fx, 4); /* STALE now: the delay starts */
	assert_int_equal(watch(fx, 5 * SEC, base, at, 8, NULL), 1);
	assert_int_equal(at[0], 35 * SEC);
	fx_finish(fx);

	/* A only asked for us: STALE from the start, kept 60 s unused. */
	fx_host(fx, NULL);
	l = &fx->link[0];
	fx_learn_a(fx);
	base = fx->now;
	gone = 0;
	assert_int_equal(fx_stat(fx, "neigh.entries"), 1);
	assert_int_equal(watch(fx, 61 * SEC, base, at, 8, &gone), 0);
	assert_int_equal(gone, 60 * SEC);
	ping(fx, "10.0.0.2", 1);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_request(l, 0, MAC_BCAST, "10.0.0.2");
	fx_finish(fx);
}

/* conf.arp_timeout_ms is ReachableTime: with 2 s, a confirmed entry goes
 * STALE after exactly 2 s; DELAY is still 5 s and the probes a second
 * apart; the answer to a probe confirms A for 2 s more. */
static void
test_arp_reachable_time(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	uint64_t base, at[8];

	fx_host(fx, &(struct sonde_conf){ .arp_timeout_ms = 2000 });
	l = &fx->link[0];
	resolve_a(fx, 1);
	base = fx->now;
	assert_int_equal(watch(fx, 1900 * MS, base, at, 8, NULL), 0);
	ping_direct(fx, 2);
	assert_int_equal(watch(fx, 100 * MS, base, at, 8, NULL), 0);
	ping_direct(fx, 3);
	assert_int_equal(watch(fx, 5500 * MS, base, at, 8, NULL), 1);
	assert_int_equal(at[0], 7 * SEC);
	fx_inject(fx, l, pkt_arp_reply, sizeof(pkt_arp_reply));
	fx_poll(fx);
	base = fx->now;
	ping_direct(fx, 4);
	assert_int_equal(watch(fx, 2 * SEC, base, at, 8, NULL), 0);
	ping_direct(fx, 5);
	assert_int_equal(watch(fx, 5 * SEC, base, at, 8, NULL), 1);
	assert_int_equal(at[0], 7 * SEC);
	fx_finish(fx);
}

static void
test_arp_table_full(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	char addr[32];

	/* 8 is the smallest table rte_hash makes (one bucket). */
	fx_host(fx, &(struct sonde_conf){ .arp_entries = 8 });
	l = &fx->link[0];
	fx_snap(fx);
	for (unsigned i = 0; i < 8; i++) {
		snprintf(addr, sizeof(addr), "10.0.0.%u", 10 + i);
		ping(fx, addr, (uint16_t)i);
	}
	fx_poll(fx);
	assert_int_equal(l->n_tx, 8);
	for (unsigned i = 0; i < 8; i++) {
		snprintf(addr, sizeof(addr), "10.0.0.%u", 10 + i);
		assert_request(l, i, MAC_BCAST, addr);
	}
	fx_tx_clear(l);
	assert_int_equal(fx_drops_delta(fx), 0);

	ping(fx, "10.0.0.18", 9);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_one_drop(fx, "drop.out.arp-table-full");

	/* A request for us is still answered, though A cannot be learnt. */
	fx_inject(fx, l, pkt_arp_req, sizeof(pkt_arp_req));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_arp(l, 0, ARP_OP_REPLY, MAC_A);
	fx_tx_clear(l);
	ping(fx, "10.0.0.2", 10);
	assert_int_equal(fx_delta(fx, "drop.out.arp-table-full"), 2);

	/* When the unanswered entries time out, the table has room again. */
	for (unsigned i = 0; i < 40; i++) {
		fx_advance(fx, 100 * MS);
		fx_poll(fx);
		fx_tx_clear(l);
	}
	assert_int_equal(fx_delta(fx, "drop.out.arp-timeout"), 8);
	ping(fx, "10.0.0.18", 11);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	assert_request(l, 0, MAC_BCAST, "10.0.0.18");
	fx_finish(fx);
}

/* RFC 5227 2.4: another host using our address is counted, not learnt, not
 * answered. */
static void
test_arp_addr_conflict(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;

	fx_host(fx, NULL);
	l = &fx->link[0];
	fx_snap(fx);
	/* C announces 10.0.0.1. */
	inject_arp(fx, ARP_OP_REQUEST, MAC_BCAST, MAC_C, "10.0.0.1", MAC_ZERO, "10.0.0.1");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_one_drop(fx, "drop.in.arp-addr-conflict");
	/* C asks for A, as 10.0.0.1. */
	inject_arp(fx, ARP_OP_REQUEST, MAC_BCAST, MAC_C, "10.0.0.1", MAC_ZERO, "10.0.0.2");
	/* C answers us, as 10.0.0.1. */
	inject_arp(fx, ARP_OP_REPLY, MAC_US0, MAC_C, "10.0.0.1", MAC_US0, "10.0.0.1");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_int_equal(fx_delta(fx, "drop.in.arp-addr-conflict"), 3);
	assert_int_equal(fx_drops_delta(fx), 3);
	/* Our own address still goes to lo0, not to C. */
	ping(fx, "10.0.0.1", 1);
	fx_poll(fx);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_int_equal(fx_delta(fx, "icmp.echo_replies"), 1);
	fx_finish(fx);
}

static void
test_arp_malformed(void **state)
{
	static const struct {
		size_t off;
		uint8_t val;
	} bad[] = {
		{ 1, 6 }, { 2, 0x86 }, { 3, 0xdd }, { 4, 8 }, { 5, 16 }, { 7, 0 }, { 7, 3 },
	};
	struct unit_fx *fx = *state;
	struct unit_link *l;
	struct frame f;

	fx_host(fx, NULL);
	l = &fx->link[0];
	fx_snap(fx);
	/* Every truncation of the 28-byte ARP packet. */
	for (size_t len = 0; len < ARP_PKT_LEN; len++)
		fx_inject(fx, l, pkt_arp_req, ETH_HDR_LEN + len);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_int_equal(fx_delta(fx, "drop.in.arp-malformed"), ARP_PKT_LEN);
	assert_int_equal(fx_drops_delta(fx), ARP_PKT_LEN);
	assert_int_equal(fx_delta(fx, "arp.in"), ARP_PKT_LEN);

	/* Not Ethernet/IPv4, or neither request nor reply. */
	fx_snap(fx);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FRAME(&f, pkt_arp_req);
		f.b[ETH_HDR_LEN + bad[i].off] = bad[i].val;
		fx_inject(fx, l, f.b, f.len);
	}
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_int_equal(fx_delta(fx, "drop.in.arp-malformed"), sizeof(bad) / sizeof(bad[0]));
	assert_int_equal(fx_drops_delta(fx), sizeof(bad) / sizeof(bad[0]));

	/* Senders that are not unicast cannot be learnt or answered. */
	fx_snap(fx);
	inject_arp(fx, ARP_OP_REQUEST, MAC_BCAST, (const uint8_t[]){ 0x01, 0, 0x5e, 0, 0, 1 },
		   "10.0.0.2", MAC_ZERO, "10.0.0.1");
	inject_arp(fx, ARP_OP_REQUEST, MAC_BCAST, MAC_A, "255.255.255.255", MAC_ZERO, "10.0.0.1");
	inject_arp(fx, ARP_OP_REQUEST, MAC_BCAST, MAC_A, "224.0.0.1", MAC_ZERO, "10.0.0.1");
	inject_arp(fx, ARP_OP_REQUEST, MAC_BCAST, MAC_A, "127.0.0.1", MAC_ZERO, "10.0.0.1");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_int_equal(fx_delta(fx, "drop.in.arp-bad-sender"), 4);
	assert_int_equal(fx_drops_delta(fx), 4);
	fx_finish(fx);
}

/* RFC 5227 2.1.1: a probe (sender 0.0.0.0) for our address is answered so
 * the prober sees the conflict; one for another address is not; neither is
 * learnt. */
static void
test_arp_probe(void **state)
{
	struct unit_fx *fx = *state;
	struct unit_link *l;
	const uint8_t *a;

	fx_host(fx, NULL);
	l = &fx->link[0];
	fx_snap(fx);
	inject_arp(fx, ARP_OP_REQUEST, MAC_BCAST, MAC_C, "0.0.0.0", MAC_ZERO, "10.0.0.1");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	a = tx_arp(l, 0, ARP_OP_REPLY, MAC_C);
	assert_ip4(a + 14, "10.0.0.1");
	assert_memory_equal(a + 18, MAC_C, 6);
	assert_memory_equal(a + 24, &(uint32_t){ 0 }, 4);
	fx_tx_clear(l);
	assert_int_equal(fx_drops_delta(fx), 0);

	inject_arp(fx, ARP_OP_REQUEST, MAC_BCAST, MAC_C, "0.0.0.0", MAC_ZERO, "10.0.0.7");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_one_drop(fx, "drop.in.arp-not-for-us");
	fx_finish(fx);
}

int
main(void)
{
	static struct unit_fx fx;
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx)
	const struct CMUnitTest tests[] = {
		T(test_arp_request_reply), T(test_arp_announce),       T(test_arp_learning),
		T(test_arp_queue_release), T(test_arp_queue_overflow), T(test_arp_retry_timeout),
		T(test_arp_expiry),	   T(test_arp_reachable_time), T(test_arp_table_full),
		T(test_arp_addr_conflict), T(test_arp_malformed),      T(test_arp_probe),
	};
#undef T
	int r;

	unit_init("arp");
	r = cmocka_run_group_tests_name("arp", tests, NULL, NULL);
	unit_fini();
	return r;
}
