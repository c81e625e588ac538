/*
 * test_fault.c: the fault injector (drivers/fault.c, sonde_if_fault()),
 * on test links and the fake clock.  Seeded: a loss rate of 10% over
 * 10000 frames lands within 1% of it, and the same seed loses exactly as
 * many again in a new stack (another seed does not); duplicates are deep
 * copies the stack takes in as frames of their own; a bit flipped in an
 * IP frame is a counted drop (a checksum); a delayed frame is not let out
 * a nanosecond before it is due, and is at it (received ones at a poll,
 * sent ones by the timer, with nothing else to send); reordering swaps a
 * frame with the next, or lets it go alone after the bound; the sending
 * side (echo replies) is lost, duplicated, reordered and corrupted the
 * same way, one bit in exactly one of the Ethernet header, the IPv4
 * header and the ICMP message, also where the NIC was to fill the IPv4
 * checksum (the injector fills it, or the NIC would hide the flip).  A
 * delay line holds its limit and drops one more; a copy the pool has no
 * mbuf for is counted, the frame going alone; frames the driver refuses
 * when they are due are the stack's usual drops, not counted as sent.
 * Removing the injector sends what waits to be sent and drops
 * (fault-flushed) what waits to be received; destroying the interface or
 * the stack drops all of it: the pool is back where it was (fx_finish).
 */
#include <errno.h>
#include <string.h>

#include "packets.h"
#include "unit.h"

#define N_LOSS 10000u
#define BATCH 256u

/* One fixture for every test (loss_run makes several stacks in it). */
static struct unit_fx fx_;

static void
fault(struct unit_fx *fx, const struct sonde_fault_conf *c)
{
	assert_int_equal(sonde_if_fault(fx->st, fx->link[0].ifp->index, c), 0);
}

/* A frame of an EtherType nobody has: taken in and dropped
 * (eth-unknown-type), nothing said back. */
static void
inject_junk(struct unit_fx *fx, unsigned n)
{
	struct frame f;

	FRAME(&f, pkt_echo_req);
	wire_put16(f.b + 12, 0x88b5); /* IEEE 802 local experimental */
	for (unsigned i = 0; i < n; i++)
		fx_inject(fx, &fx->link[0], f.b, f.len);
}

/* Polls until the link's rx queue is empty and the injector holds nothing due. */
static void
drain(struct unit_fx *fx)
{
	do
		fx_poll(fx);
	while (fx->link[0].rx_head != fx->link[0].rx_tail || fx_poll(fx) != 0);
}

static void
inject_echo(struct unit_fx *fx, uint16_t seq)
{
	struct frame f;

	FRAME(&f, pkt_echo_req);
	wire_put16(frame_ip(&f) + 20 + 6, seq);
	frame_fix(&f);
	fx_inject(fx, &fx->link[0], f.b, f.len);
}

/* The sequence number of transmitted frame i, an echo reply to A. */
static uint16_t
reply_seq(struct unit_fx *fx, unsigned i)
{
	size_t len;
	const uint8_t *ip = tx_ipv4(&fx->link[0], i, MAC_A, &len);

	assert_int_equal(ip[20], 0); /* echo reply */
	return wire_get16(ip + 20 + 6);
}

/* A host that knows A, with injector c on test0, counters snapped. */
static void
host_faulted(struct unit_fx *fx, const struct sonde_fault_conf *c)
{
	fx_host(fx, NULL);
	fx_learn_a(fx);
	fault(fx, c);
	fx_snap(fx);
}

/* Nothing sent up to a nanosecond before ns from now, and at ns the
 * reply to seq alone. */
static void
assert_out_at(struct unit_fx *fx, uint64_t ns, uint16_t seq)
{
	fx_advance(fx, ns - 1);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 0);
	fx_advance(fx, 1);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 1);
	assert_int_equal(reply_seq(fx, 0), seq);
}

/* Echo requests first..first+3 answered in pairs swapped. */
static void
assert_swapped(struct unit_fx *fx, uint16_t first)
{
	for (uint16_t s = first; s < first + 4; s++)
		inject_echo(fx, s);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 4);
	assert_int_equal(reply_seq(fx, 0), first + 1);
	assert_int_equal(reply_seq(fx, 1), first);
	assert_int_equal(reply_seq(fx, 2), first + 3);
	assert_int_equal(reply_seq(fx, 3), first + 2);
}

/* With delays of 100 ms both ways: the replies to n requests wait to be
 * sent and n requests (seq from 100) to be received. */
static void
hold_both_ways(struct unit_fx *fx, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		inject_echo(fx, (uint16_t)(1 + i));
	fx_poll(fx);
	fx_advance(fx, 100 * MS);
	fx_poll(fx);
	for (unsigned i = 0; i < n; i++)
		inject_echo(fx, (uint16_t)(100 + i));
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 0);
}

/* Frames lost of N_LOSS at 10% with seed. */
static uint64_t
loss_run(uint64_t seed)
{
	struct unit_fx *fx = &fx_;
	struct sonde_fault_conf c = { .seed = seed, .rx = { .loss_ppm = 100000 } };
	uint64_t lost;

	fx_host(fx, NULL);
	fault(fx, &c);
	fx_snap(fx);
	for (unsigned i = 0; i < N_LOSS; i += BATCH) {
		inject_junk(fx, RTE_MIN(BATCH, N_LOSS - i));
		drain(fx);
	}
	lost = fx_delta(fx, "drop.in.fault-loss");
	assert_int_equal(fx_delta(fx, "if.test0.fault.rx_lost"), lost);
	assert_int_equal(fx_delta(fx, "drop.in.eth-unknown-type") + lost, N_LOSS);
	assert_int_equal(fx_delta(fx, "if.test0.rx_packets"), N_LOSS - lost);
	assert_int_equal(fx->link[0].n_tx, 0);
	fx_finish(fx);
	return lost;
}

static void
test_loss_seeded(void **state)
{
	uint64_t a, b, c;

	(void)state;
	a = loss_run(42);
	/* Within 1% of 10%: 3.3 standard deviations of the binomial. */
	assert_in_range(a, 900, 1100);
	b = loss_run(42);
	assert_int_equal(a, b);
	c = loss_run(43);
	assert_in_range(c, 900, 1100);
	assert_int_not_equal(a, c);
}

static void
test_dup(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_fault_conf c = { .seed = 7, .rx = { .dup_ppm = 200000 } };
	uint64_t dups;

	fx_host(fx, NULL);
	fault(fx, &c);
	fx_snap(fx);
	for (unsigned i = 0; i < 1000; i += BATCH) {
		inject_junk(fx, RTE_MIN(BATCH, 1000u - i));
		drain(fx);
	}
	dups = fx_delta(fx, "if.test0.fault.rx_duplicated");
	assert_in_range(dups, 150, 250);
	assert_int_equal(fx_delta(fx, "if.test0.fault.rx_dup_failed"), 0);
	/* The copies are frames of their own to the stack. */
	assert_int_equal(fx_delta(fx, "drop.in.eth-unknown-type"), 1000 + dups);
	assert_int_equal(fx_delta(fx, "if.test0.rx_packets"), 1000 + dups);
	fx_finish(fx);
}

/* Every echo request with one bit flipped: a bit of the IP header fails
 * its checksum, one of the ICMP message the ICMP checksum; only the
 * Ethernet header's 14 bytes of 98 escape those (a frame for another MAC,
 * of another type, or from another source, which is answered). */
static void
test_corrupt_rx(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_fault_conf c = { .seed = 3, .rx = { .corrupt_ppm = 1000000 } };
	uint64_t csum, other;
	const unsigned n = 200;

	host_faulted(fx, &c);
	for (unsigned i = 0; i < n; i++)
		inject_echo(fx, (uint16_t)i);
	drain(fx);
	assert_int_equal(fx_delta(fx, "if.test0.fault.rx_corrupted"), n);
	csum = fx_delta(fx, "drop.in.bad-checksum") + fx_delta(fx, "drop.in.icmp-bad-checksum");
	other = fx_drops_delta(fx) - csum;
	assert_true(csum >= n * 3 / 4);
	assert_true(fx_delta(fx, "drop.in.bad-checksum") > 0);
	assert_true(fx_delta(fx, "drop.in.icmp-bad-checksum") > 0);
	/* The rest: dropped at the link, or answered. */
	assert_int_equal(csum + other + fx->link[0].n_tx, n);
	fx_finish(fx);
}

static void
test_delay_rx(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_fault_conf c = { .seed = 1, .rx = { .delay_us = 10000 } };

	host_faulted(fx, &c);
	inject_echo(fx, 1);
	assert_int_equal(fx_poll(fx), 0);
	assert_int_equal(fx_delta(fx, "icmp.in"), 0);
	assert_out_at(fx, 10 * MS, 1);
	assert_int_equal(fx_delta(fx, "icmp.in"), 1);
	assert_int_equal(fx_delta(fx, "if.test0.fault.rx_delayed"), 1);
	fx_finish(fx);
}

/* A reply held on its way out leaves at its time though the stack sends
 * nothing more: the injector's timer. */
static void
test_delay_tx(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_fault_conf c = { .seed = 1, .tx = { .delay_us = 5000 } };

	host_faulted(fx, &c);
	inject_echo(fx, 9);
	assert_int_equal(fx_poll(fx), 1);
	assert_int_equal(fx_delta(fx, "icmp.echo_replies"), 1);
	assert_int_equal(fx->link[0].n_tx, 0);
	assert_out_at(fx, 5 * MS, 9);
	assert_int_equal(fx_delta(fx, "if.test0.fault.tx_delayed"), 1);
	assert_int_equal(fx_delta(fx, "if.test0.tx_packets"), 1);
	fx_finish(fx);
}

static void
test_reorder_rx(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_fault_conf c = { .seed = 1, .rx = { .reorder_ppm = 1000000 } };

	host_faulted(fx, &c);
	assert_swapped(fx, 1);
	assert_int_equal(fx_delta(fx, "if.test0.fault.rx_reordered"), 2);
	fx_tx_clear(&fx->link[0]);
	/* Alone, held back no longer than the bound. */
	inject_echo(fx, 5);
	fx_poll(fx);
	assert_out_at(fx, SONDE_FAULT_REORDER_MAX_US * 1000ull, 5);
	assert_int_equal(fx_delta(fx, "if.test0.fault.rx_reordered"), 2);
	fx_finish(fx);
}

/* n echo replies, each with one bit flipped: exactly one of the Ethernet
 * header, the IPv4 header (its checksum) and the ICMP message (its
 * checksum) is not what it should be. */
static void
corrupted_replies(struct unit_fx *fx, uint16_t n)
{
	struct unit_link *l = &fx->link[0];

	fx_snap(fx);
	for (uint16_t s = 0; s < n; s++)
		inject_echo(fx, s);
	drain(fx);
	assert_int_equal(l->n_tx, n);
	assert_int_equal(fx_delta(fx, "if.test0.fault.tx_corrupted"), n);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(l->tx[i], const uint8_t *);
		size_t len = rte_pktmbuf_pkt_len(l->tx[i]);
		unsigned bad = 0;

		assert_int_equal(len, sizeof(pkt_echo_req));
		assert_false(l->tx[i]->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
		bad += memcmp(f, MAC_A, 6) != 0 || memcmp(f + 6, MAC_US0, 6) != 0 ||
		       wire_get16(f + 12) != ETHERTYPE_IPV4;
		bad += ref_cksum(f + 14, 20) != 0;
		bad += ref_cksum(f + 34, len - 34) != 0;
		assert_int_equal(bad, 1);
	}
}

/* The replies the stack sends: lost, then duplicated, then reordered
 * (each pair swapped), then corrupted, as the link's tx sees them. */
static void
test_tx_faults(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_fault_conf c = { .seed = 5, .tx = { .loss_ppm = 1000000 } };
	const uint8_t *a, *b;
	size_t alen, blen;

	host_faulted(fx, &c);
	for (uint16_t s = 1; s <= 3; s++)
		inject_echo(fx, s);
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "icmp.echo_replies"), 3);
	assert_int_equal(fx->link[0].n_tx, 0);
	assert_int_equal(fx_delta(fx, "drop.out.fault-loss"), 3);
	assert_int_equal(fx_delta(fx, "if.test0.fault.tx_lost"), 3);
	assert_int_equal(fx_delta(fx, "drop.in.fault-loss"), 0);

	c.tx = (struct sonde_fault_dir){ .dup_ppm = 1000000 };
	fault(fx, &c);
	fx_snap(fx);
	inject_echo(fx, 4);
	inject_echo(fx, 5);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 4);
	assert_int_equal(reply_seq(fx, 0), 4);
	assert_int_equal(reply_seq(fx, 1), 4);
	assert_int_equal(reply_seq(fx, 2), 5);
	assert_int_equal(reply_seq(fx, 3), 5);
	a = tx_frame(&fx->link[0], 0, &alen);
	b = tx_frame(&fx->link[0], 1, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_ptr_not_equal(fx->link[0].tx[0], fx->link[0].tx[1]);
	assert_int_equal(fx_delta(fx, "if.test0.fault.tx_duplicated"), 2);
	assert_int_equal(fx_delta(fx, "if.test0.tx_packets"), 2);
	fx_tx_clear(&fx->link[0]);

	c.tx = (struct sonde_fault_dir){ .reorder_ppm = 1000000 };
	fault(fx, &c);
	fx_snap(fx);
	assert_swapped(fx, 6);
	assert_int_equal(fx_delta(fx, "if.test0.fault.tx_reordered"), 2);
	fx_tx_clear(&fx->link[0]);

	c.tx = (struct sonde_fault_dir){ .corrupt_ppm = 1000000 };
	fault(fx, &c);
	corrupted_replies(fx, 10);
	fx_tx_clear(&fx->link[0]);
	/* A NIC filling the IPv4 header checksum would hide a flipped bit
	 * there: the injector fills it itself. */
	fx->link[0].ifp->csum_tx_ipv4 = true;
	corrupted_replies(fx, 40);
	fx_finish(fx);
}

/* Frames held both ways when the injector goes: the sent ones leave at
 * once, the received ones are dropped; a second removal finds none. */
static void
test_remove_held(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_fault_conf c = { .seed = 1,
				      .rx = { .delay_us = 100000 },
				      .tx = { .delay_us = 100000, .reorder_ppm = 500000 } };
	int ifi;

	host_faulted(fx, &c);
	ifi = fx->link[0].ifp->index;
	hold_both_ways(fx, 2);
	assert_int_equal(fx_delta(fx, "icmp.echo_replies"), 2);
	assert_int_equal(sonde_if_fault(fx->st, ifi, NULL), 0);
	assert_int_equal(fx->link[0].n_tx, 2);
	assert_int_equal(fx_delta(fx, "drop.in.fault-flushed"), 2);
	assert_int_equal(fx_stat(fx, "if.test0.fault.rx_delayed"), 0); /* gone with it */
	assert_int_equal(sonde_if_fault(fx->st, ifi, NULL), -ENOENT);
	/* The link is itself again. */
	fx_tx_clear(&fx->link[0]);
	inject_echo(fx, 5);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 1);
	assert_int_equal(reply_seq(fx, 0), 5);
	fx_finish(fx);
}

/* Held both ways, then the stack goes (its timer armed): nothing leaks. */
static void
test_destroy_held(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_fault_conf c = { .seed = 1,
				      .rx = { .delay_us = 100000, .dup_ppm = 1000000 },
				      .tx = { .delay_us = 100000, .dup_ppm = 1000000 } };

	host_faulted(fx, &c);
	hold_both_ways(fx, 1);
	assert_int_equal(fx_delta(fx, "icmp.echo_replies"), 2); /* the request and its copy */
	assert_int_equal(fx_delta(fx, "if.test0.fault.tx_duplicated"), 2);
	assert_int_equal(fx_delta(fx, "if.test0.fault.rx_duplicated"), 2);
	fx_finish(fx);
}

/* The same with the interface destroyed first. */
static void
test_if_destroy_held(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_fault_conf c = { .seed = 1,
				      .rx = { .delay_us = 100000 },
				      .tx = { .delay_us = 100000 } };

	host_faulted(fx, &c);
	hold_both_ways(fx, 1);
	assert_int_equal(sonde_if_destroy(fx->st, fx->link[0].ifp->index), 0);
	assert_int_equal(fx_delta(fx, "drop.in.fault-flushed"), 1);
	assert_int_equal(fx_delta(fx, "drop.out.fault-flushed"), 1);
	assert_int_equal(fx->link[0].n_tx, 0);
	fx_advance(fx, 200 * MS);
	fx_poll(fx); /* no timer of the injector left to fire */
	fx_finish(fx);
}

/* A delay line of 4: the fifth frame waiting is dropped, and the four
 * come out at their time. */
static void
test_queue_full(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_fault_conf c = { .seed = 1, .rx = { .delay_us = 1000, .limit = 4 } };

	host_faulted(fx, &c);
	for (uint16_t s = 1; s <= 6; s++)
		inject_echo(fx, s);
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "drop.in.fault-queue-full"), 2);
	assert_int_equal(fx_delta(fx, "if.test0.fault.rx_delayed"), 4);
	fx_advance(fx, 1 * MS);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(reply_seq(fx, i), i + 1);
	fx_finish(fx);
}

/* A driver that takes nothing when the timer lets the frames out: the
 * reply is the stack's tx-queue-full, uncounted as sent, and its copy,
 * never counted, a link-layer drop. */
static void
test_tx_refused(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_fault_conf c = { .seed = 1, .tx = { .delay_us = 1000, .dup_ppm = 1000000 } };

	host_faulted(fx, &c);
	fx->link[0].tx_budget = 0;
	inject_echo(fx, 1);
	fx_poll(fx);
	assert_int_equal(fx_delta(fx, "if.test0.tx_packets"), 1);
	fx_advance(fx, 1 * MS);
	fx_poll(fx);
	assert_int_equal(fx->link[0].n_tx, 0);
	assert_int_equal(fx_delta(fx, "drop.out.tx-queue-full"), 1);
	assert_int_equal(fx_delta(fx, "drop.out.link-tx-queue-full"), 1);
	assert_int_equal(fx_delta(fx, "if.test0.tx_packets"), 0);
	assert_int_equal(fx_delta(fx, "if.test0.tx_bytes"), 0);
	fx_finish(fx);
}

/* No mbuf for a copy: the frame goes alone, the failure counted. */
static void
test_dup_no_mbuf(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_fault_conf c = { .seed = 1, .rx = { .dup_ppm = 1000000 } };
	static struct rte_mbuf *hoard[1024];
	unsigned n = 0;

	host_faulted(fx, &c);
	inject_junk(fx, 3);
	while (n < RTE_DIM(hoard) && (hoard[n] = rte_pktmbuf_alloc(unit_pool)) != NULL)
		n++;
	assert_int_equal(rte_pktmbuf_alloc(unit_pool), NULL);
	fx_poll(fx);
	rte_pktmbuf_free_bulk(hoard, n);
	assert_int_equal(fx_delta(fx, "if.test0.fault.rx_dup_failed"), 3);
	assert_int_equal(fx_delta(fx, "if.test0.fault.rx_duplicated"), 0);
	assert_int_equal(fx_delta(fx, "drop.in.eth-unknown-type"), 3);
	fx_finish(fx);
}

static void
test_api_errors(void **state)
{
	struct unit_fx *fx = *state;
	struct sonde_fault_conf c = { .seed = 1 };
	int ifi;

	fx_host(fx, NULL);
	ifi = fx->link[0].ifp->index;
	assert_int_equal(sonde_if_fault(fx->st, sonde_if_find(fx->st, "lo0"), &c), -ENODEV);
	assert_int_equal(sonde_if_fault(fx->st, 60, &c), -ENODEV);
	assert_int_equal(sonde_if_fault(fx->st, -1, &c), -ENODEV);
	assert_int_equal(sonde_if_fault(fx->st, ifi, NULL), -ENOENT);
	c.rx.loss_ppm = 1000001;
	assert_int_equal(sonde_if_fault(fx->st, ifi, &c), -EINVAL);
	c.rx.loss_ppm = 0;
	c.tx.delay_us = SONDE_FAULT_DELAY_MAX_US + 1;
	assert_int_equal(sonde_if_fault(fx->st, ifi, &c), -EINVAL);
	/* Refused: no injector, counters as before. */
	assert_int_equal(fx_stat(fx, "if.test0.fault.rx_lost"), 0);
	assert_int_equal(sonde_if_fault(fx->st, ifi, NULL), -ENOENT);
	c.tx.delay_us = SONDE_FAULT_DELAY_MAX_US;
	assert_int_equal(sonde_if_fault(fx->st, ifi, &c), 0);
	fx_finish(fx);
}

int
main(void)
{
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, NULL, fx_teardown, &fx_)
	const struct CMUnitTest tests[] = {
		T(test_loss_seeded),	 T(test_dup),	      T(test_corrupt_rx),
		T(test_delay_rx),	 T(test_delay_tx),    T(test_reorder_rx),
		T(test_tx_faults),	 T(test_remove_held), T(test_destroy_held),
		T(test_if_destroy_held), T(test_queue_full),  T(test_dup_no_mbuf),
		T(test_tx_refused),	 T(test_api_errors),
	};
#undef T
	int r;

	unit_init("fault");
	r = cmocka_run_group_tests(tests, NULL, NULL);
	unit_fini();
	return r;
}
