/*
 * fault.c: a fault injector that wraps any interface's driver, as
 * smoltcp's FaultInjector does: frames lost, corrupted, duplicated,
 * reordered and delayed, each direction with its own rates and its own
 * PRNG (see sonde_if_fault in sonde.h).  The kernels here have no netem,
 * so this is how a test makes a lossy link, the same way every run.
 *
 * Installed, it takes the interface's driver slot and keeps the driver it
 * wraps in ifp->under, so the data path of an interface without faults
 * pays nothing.  Each direction runs a frame through the stages in order
 * (loss, corruption, duplication, reordering) into a delay line: a ring
 * of frames with the time each is due, by the stack's clock.  Delays are
 * one per direction, so the ring is in due order and the head is all
 * there is to look at.  Received frames are let out at the rx calls of
 * the polls (every poll makes one); frames to send at the tx calls of
 * the flushes and, when the stack sends nothing more, by a timer on the
 * stack's wheel armed at the next due time: no poll scans for them.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "fault.h"
#include "stack.h"

#define FAULT_PPM 1000000u

struct fault_slot {
	struct rte_mbuf *m;
	uint64_t due;
	bool dup; /* a copy of ours: no counter of the interface's has it */
};

struct fault_counters {
	uint64_t lost, corrupted, duplicated, dup_failed, reordered, delayed;
};

struct fault_dir {
	struct sonde_fault_dir conf;
	uint64_t rng;
	/* Reordering: the frame held back, until the next one has gone or
	 * until held_until. */
	struct fault_slot held;
	uint64_t held_until;
	uint32_t head, tail; /* the delay line, q[head & mask] first */
	uint32_t limit;	     /* frames it holds, at most */
	struct fault_counters c;
	enum drop_reason lost, full, flushed;
	struct fault_slot q[SONDE_FAULT_QUEUE];
};

struct if_fault {
	struct sonde_stack *st;
	struct sonde_if *ifp;
	struct timer tx_timer; /* at the next frame to send's due time */
	struct fault_dir rx, tx;
};

_Static_assert((SONDE_FAULT_QUEUE & (SONDE_FAULT_QUEUE - 1)) == 0, "a power of two");

/* splitmix64: a state of one word, any seed good, and ours, so that the
 * faults are the same on every machine and DPDK version (not rte_rand). */
static uint64_t
fault_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* True with probability ppm / 10^6.  A disabled fault draws nothing: the
 * draws of a configuration depend on the faults it has, not on the code's
 * list of those it could have. */
static bool
fault_roll(struct fault_dir *d, uint32_t ppm)
{
	if (ppm == 0)
		return false;
	return ((fault_rand(&d->rng) >> 32) * FAULT_PPM >> 32) < ppm;
}

/* One bit of one byte anywhere in the frame, a chain's too.  A NIC that
 * fills the IPv4 header checksum would sum the flipped bit in and hide
 * it: the frame gets its checksum here instead, as the wire would have
 * carried it. */
static void
fault_corrupt(struct fault_dir *d, struct rte_mbuf *m)
{
	uint64_t r = fault_rand(&d->rng);
	uint32_t off = (uint32_t)((r >> 32) * rte_pktmbuf_pkt_len(m) >> 32);
	struct rte_mbuf *seg = m;

	if (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) {
		struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);

		ip->hdr_checksum = rte_ipv4_cksum(ip);
		m->ol_flags &= ~RTE_MBUF_F_TX_IP_CKSUM;
	}

	while (seg != NULL && off >= seg->data_len) {
		off -= seg->data_len;
		seg = seg->next;
	}
	if (seg != NULL)
		*rte_pktmbuf_mtod_offset(seg, uint8_t *, off) ^= (uint8_t)(1u << (r & 7));
}

static uint32_t
fault_queued(const struct fault_dir *d)
{
	return d->tail - d->head;
}

/* Into the delay line, due delay_us from now; dropped when it is full. */
static void
fault_emit(struct if_fault *f, struct fault_dir *d, struct fault_slot s)
{
	if (fault_queued(d) >= d->limit) {
		pkt_drop(f->st, s.m, d->full);
		return;
	}
	s.due = f->st->now + (uint64_t)d->conf.delay_us * 1000;
	d->c.delayed += d->conf.delay_us != 0;
	d->q[d->tail++ & (SONDE_FAULT_QUEUE - 1)] = s;
}

/* Reordering: a frame held back goes after the next one. */
static void
fault_reorder(struct if_fault *f, struct fault_dir *d, struct fault_slot s)
{
	if (d->held.m != NULL) {
		fault_emit(f, d, s);
		fault_emit(f, d, d->held);
		d->held.m = NULL;
		d->c.reordered++;
	} else if (fault_roll(d, d->conf.reorder_ppm)) {
		d->held = s;
		d->held_until = f->st->now + SONDE_FAULT_REORDER_MAX_US * 1000ull;
	} else {
		fault_emit(f, d, s);
	}
}

/* A frame held back too long goes alone. */
static void
fault_expire(struct if_fault *f, struct fault_dir *d)
{
	if (d->held.m != NULL && f->st->now >= d->held_until) {
		fault_emit(f, d, d->held);
		d->held.m = NULL;
	}
}

static void
fault_frame(struct if_fault *f, struct fault_dir *d, struct rte_mbuf *m)
{
	struct rte_mbuf *copy = NULL;

	if (fault_roll(d, d->conf.loss_ppm)) {
		d->c.lost++;
		pkt_drop(f->st, m, d->lost);
		return;
	}
	if (fault_roll(d, d->conf.corrupt_ppm)) {
		fault_corrupt(d, m);
		d->c.corrupted++;
	}
	if (fault_roll(d, d->conf.dup_ppm)) {
		/* A copy of its own: the two may be freed or changed apart. */
		copy = rte_pktmbuf_copy(m, f->st->pool, 0, UINT32_MAX);
		if (copy != NULL)
			d->c.duplicated++;
		else
			d->c.dup_failed++;
	}
	fault_reorder(f, d, (struct fault_slot){ .m = m });
	if (copy != NULL)
		fault_reorder(f, d, (struct fault_slot){ .m = copy, .dup = true });
}

/* What is due, at most n. */
static uint16_t
fault_due(struct if_fault *f, struct fault_dir *d, struct fault_slot *out, uint16_t n)
{
	uint16_t k = 0;

	while (k < n && d->head != d->tail &&
	       d->q[d->head & (SONDE_FAULT_QUEUE - 1)].due <= f->st->now)
		out[k++] = d->q[d->head++ & (SONDE_FAULT_QUEUE - 1)];
	return k;
}

static uint16_t
fault_rx(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	struct if_fault *f = ifp->fault;
	struct fault_slot out[SONDE_BURST];
	struct rte_mbuf *in[SONDE_BURST];
	uint16_t got, k;

	n = RTE_MIN(n, SONDE_BURST);
	fault_expire(f, &f->rx);
	got = ifp->under->rx(ifp, in, n);
	for (uint16_t i = 0; i < got; i++)
		fault_frame(f, &f->rx, in[i]);
	k = fault_due(f, &f->rx, out, n);
	for (uint16_t i = 0; i < k; i++)
		pkts[i] = out[i].m;
	return k;
}

/* Hands the wrapped driver what is due to leave, and arms the timer for
 * what is not yet. */
static void
fault_tx_due(struct if_fault *f)
{
	struct sonde_if *ifp = f->ifp;
	struct fault_dir *d = &f->tx;
	struct fault_slot s[SONDE_BURST];
	struct rte_mbuf *pkts[SONDE_BURST];
	uint64_t next = UINT64_MAX;
	uint16_t k, sent;

	fault_expire(f, d);
	while ((k = fault_due(f, d, s, SONDE_BURST)) > 0) {
		for (uint16_t i = 0; i < k; i++)
			pkts[i] = s[i].m;
		sent = ifp->under->tx(ifp, pkts, k);
		for (uint16_t i = sent; i < k; i++) {
			/* if_flush counted the frame as sent (we took it): the
			 * driver refusing it now unsays that.  Our copies were
			 * never counted. */
			if (s[i].dup) {
				pkt_drop(f->st, s[i].m, DROP_LINK_TX_FULL);
				continue;
			}
			ifp->tx_pkts--;
			if_tx_refused(f->st, ifp, s[i].m);
		}
	}
	if (d->head != d->tail)
		next = d->q[d->head & (SONDE_FAULT_QUEUE - 1)].due;
	if (d->held.m != NULL)
		next = RTE_MIN(next, d->held_until);
	if (next != UINT64_MAX)
		timer_arm(&f->st->wheel, &f->tx_timer, next);
	else
		timer_cancel(&f->st->wheel, &f->tx_timer);
}

/* Takes every frame: what it does not lose waits in the delay line (a
 * delay of 0 lets it out at once) and the wrapped driver gets what is due. */
static uint16_t
fault_tx(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	struct if_fault *f = ifp->fault;

	for (uint16_t i = 0; i < n; i++)
		fault_frame(f, &f->tx, pkts[i]);
	fault_tx_due(f);
	return n;
}

static void
fault_tx_timer(struct timer *t, void *ctx)
{
	(void)ctx;
	fault_tx_due(container_of(t, struct if_fault, tx_timer));
}

/* Frames held for sending leave now, due or not. */
static void
fault_tx_all(struct if_fault *f)
{
	struct fault_dir *d = &f->tx;

	if (d->held.m != NULL) {
		fault_emit(f, d, d->held);
		d->held.m = NULL;
	}
	for (uint32_t i = d->head; i != d->tail; i++)
		d->q[i & (SONDE_FAULT_QUEUE - 1)].due = 0;
	fault_tx_due(f);
}

static void
fault_close(struct sonde_if *ifp)
{
	fault_tx_all(ifp->fault);
	if (ifp->under->close)
		ifp->under->close(ifp);
}

static const struct if_driver fault_driver = {
	.rx = fault_rx,
	.tx = fault_tx,
	.close = fault_close,
};

static void
fault_flush(struct if_fault *f, struct fault_dir *d)
{
	if (d->held.m != NULL) {
		pkt_drop(f->st, d->held.m, d->flushed);
		d->held.m = NULL;
	}
	while (d->head != d->tail)
		pkt_drop(f->st, d->q[d->head++ & (SONDE_FAULT_QUEUE - 1)].m, d->flushed);
}

static void
fault_free(struct if_fault *f)
{
	struct sonde_if *ifp = f->ifp;

	timer_cancel(&f->st->wheel, &f->tx_timer);
	ifp->drv = ifp->under;
	ifp->under = NULL;
	ifp->fault = NULL;
	rte_free(f);
}

void
fault_release(struct sonde_stack *st, struct sonde_if *ifp)
{
	struct if_fault *f = ifp->fault;

	(void)st;
	if (f == NULL)
		return;
	fault_flush(f, &f->rx);
	fault_flush(f, &f->tx);
	fault_free(f);
}

static bool
fault_dir_ok(const struct sonde_fault_dir *c)
{
	return c->loss_ppm <= FAULT_PPM && c->corrupt_ppm <= FAULT_PPM && c->dup_ppm <= FAULT_PPM &&
	       c->reorder_ppm <= FAULT_PPM && c->delay_us <= SONDE_FAULT_DELAY_MAX_US;
}

/* Each direction's draws from the seed and the direction alone. */
static void
fault_configure(struct if_fault *f, const struct sonde_fault_conf *conf)
{
	f->rx.conf = conf->rx;
	f->tx.conf = conf->tx;
	f->rx.limit = conf->rx.limit && conf->rx.limit < SONDE_FAULT_QUEUE ? conf->rx.limit
									   : SONDE_FAULT_QUEUE;
	f->tx.limit = conf->tx.limit && conf->tx.limit < SONDE_FAULT_QUEUE ? conf->tx.limit
									   : SONDE_FAULT_QUEUE;
	f->rx.rng = conf->seed ^ 0x7278000000000000ull; /* "rx" */
	f->tx.rng = conf->seed ^ 0x7478000000000000ull; /* "tx" */
}

int
sonde_if_fault(struct sonde_stack *st, int ifindex, const struct sonde_fault_conf *conf)
{
	struct sonde_if *ifp = ifindex >= 0 ? stack_if(st, (uint16_t)ifindex) : NULL;
	struct if_fault *f;

	if (ifp == NULL || ifp == st->lo || ifp->drv == NULL)
		return -ENODEV;
	f = ifp->fault;
	if (conf == NULL) {
		if (f == NULL)
			return -ENOENT;
		/* Sent frames on their way (the wire had them), received
		 * ones dropped: there is no rx call to hand them to now. */
		fault_tx_all(f);
		fault_flush(f, &f->rx);
		fault_flush(f, &f->tx); /* what the driver would not take */
		fault_free(f);
		return 0;
	}
	if (!fault_dir_ok(&conf->rx) || !fault_dir_ok(&conf->tx))
		return -EINVAL;
	if (f == NULL) {
		f = rte_zmalloc("sonde_fault", sizeof(*f), RTE_CACHE_LINE_SIZE);
		if (f == NULL)
			return -ENOMEM;
		f->st = st;
		f->ifp = ifp;
		timer_init(&f->tx_timer, fault_tx_timer);
		f->rx.lost = DROP_FAULT_LOSS_IN;
		f->rx.full = DROP_FAULT_FULL_IN;
		f->rx.flushed = DROP_FAULT_FLUSH_IN;
		f->tx.lost = DROP_FAULT_LOSS_OUT;
		f->tx.full = DROP_FAULT_FULL_OUT;
		f->tx.flushed = DROP_FAULT_FLUSH_OUT;
		ifp->under = ifp->drv;
		ifp->drv = &fault_driver;
		ifp->fault = f;
	}
	fault_configure(f, conf);
	return 0;
}

void
fault_stats(const struct sonde_if *ifp, sonde_stat_fn fn, void *arg)
{
	const struct if_fault *f = ifp->fault;
	char name[96];

	if (f == NULL)
		return;
	for (int dir = 0; dir < 2; dir++) {
		const struct fault_counters *c = dir ? &f->tx.c : &f->rx.c;
		const char *d = dir ? "tx" : "rx";

#define C(field)                                                                      \
	do {                                                                          \
		snprintf(name, sizeof(name), "if.%s.fault.%s_" #field, ifp->name, d); \
		fn(name, c->field, arg);                                              \
	} while (0)
		C(lost);
		C(corrupted);
		C(duplicated);
		C(dup_failed);
		C(reordered);
		C(delayed);
#undef C
	}
}
