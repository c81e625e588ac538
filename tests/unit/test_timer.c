/*
 * test_timer.c: the timing wheel (stack/core/timer.c) alone, no EAL, no
 * DPDK.  A timer fires at the first run whose now reaches its expires, to
 * the ns, from every level and after every kind of clock jump (60 s,
 * 1000 s, a year, 2^62 ns, UINT64_MAX); cancel and re-arm, from outside
 * and from callbacks (itself, another timer, one of the same slot, one due
 * in the same run, one armed for now); firing order; timer_next_expiry as
 * a bound a caller can sleep until; idle runs walk no list; and a
 * randomized differential test against a plain array scanned on every run,
 * which checks the exact sequence each run fires.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "timer.h"

#define NS_PER_S 1000000000ull
#define TICK (1ull << TIMER_TICK_SHIFT)
#define HOUR (3600ull * NS_PER_S)
#define YEAR (365ull * 24 * HOUR)

#define container_of(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

/* --- a seeded generator: the same operations on every run --- */

struct rng {
	uint64_t s;
};

/* splitmix64 */
static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

/* Below 2^k for k uniform in [0, bits]: each scale as likely as the next,
 * so sub-tick values are as common as hours. */
static uint64_t
rng_scaled(struct rng *r, unsigned bits)
{
	unsigned k = (unsigned)rng_below(r, bits + 1);

	return k >= 64 ? rng_next(r) : rng_next(r) & ((1ull << k) - 1);
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* --- a fixture: timers that log their firing and may act on the wheel --- */

enum act {
	ACT_NONE,
	ACT_ARM_AT,    /* arm target at `at` */
	ACT_ARM_AFTER, /* arm target at the run's now + `at` */
	ACT_CANCEL,    /* cancel target */
	ACT_RUN,       /* call timer_run from the callback */
};

struct tt {
	struct timer t;
	unsigned id;
	unsigned fires;
	uint64_t fired_at; /* the run's now, at the last firing */
	enum act act;	   /* done by the callback each time it fires */
	struct tt *target;
	uint64_t at;
	unsigned nested; /* ACT_RUN: what the nested run returned */
};

#define FX_LOG 64

struct fx {
	struct timer_wheel w;
	uint64_t now;	   /* of the run in progress */
	uint64_t prev_now; /* of the run before */
	bool strict;	   /* no timer armed in the past: each must be due after prev_now */
	unsigned log[FX_LOG];
	unsigned n_log;	  /* this run's firings, ids in order (the first FX_LOG) */
	unsigned n_fired; /* this run's firings */
};

static void
tt_fire(struct timer *t, void *ctx)
{
	struct tt *x = container_of(t, struct tt, t);
	struct fx *f = ctx;

	assert_false(timer_armed(t));
	assert_true(t->expires <= f->now);
	if (f->strict)
		assert_true(t->expires > f->prev_now);
	x->fires++;
	x->fired_at = f->now;
	f->n_fired++;
	if (f->n_log < FX_LOG)
		f->log[f->n_log++] = x->id;
	switch (x->act) {
	case ACT_NONE: break;
	case ACT_ARM_AT: timer_arm(&f->w, &x->target->t, x->at); break;
	case ACT_ARM_AFTER: timer_arm(&f->w, &x->target->t, f->now + x->at); break;
	case ACT_CANCEL: timer_cancel(&f->w, &x->target->t); break;
	case ACT_RUN: x->nested = timer_run(&f->w, f->now, f); break;
	}
}

static void
fx_init(struct fx *f, uint64_t now)
{
	memset(f, 0, sizeof(*f));
	timer_wheel_init(&f->w, now);
	f->now = now;
	f->prev_now = now;
}

static void
tt_init(struct tt *x, unsigned id)
{
	memset(x, 0, sizeof(*x));
	timer_init(&x->t, tt_fire);
	x->id = id;
}

static void
tt_act(struct tt *x, enum act act, struct tt *target, uint64_t at)
{
	x->act = act;
	x->target = target;
	x->at = at;
}

/* A wheel at now and n idle timers, x[i] of id i. */
static void
fx_setup(struct fx *f, uint64_t now, struct tt *x, unsigned n)
{
	unsigned i;

	fx_init(f, now);
	for (i = 0; i < n; i++)
		tt_init(&x[i], i);
}

static unsigned
fx_run(struct fx *f, uint64_t now)
{
	unsigned n;

	f->prev_now = f->now;
	f->now = now;
	f->n_log = 0;
	f->n_fired = 0;
	n = timer_run(&f->w, now, f);
	assert_int_equal(n, f->n_fired);
	return n;
}

static void
expect_log(const struct fx *f, const unsigned *ids, unsigned n)
{
	unsigned i;

	assert_int_equal(f->n_log, n);
	for (i = 0; i < n; i++)
		assert_int_equal(f->log[i], ids[i]);
}

/* --- basics --- */

static void
test_empty(void **state)
{
	struct fx f;
	struct tt x[1];

	(void)state;
	fx_setup(&f, 5 * NS_PER_S, x, 1);
	assert_false(timer_armed(&x[0].t));
	assert_int_equal(timer_count(&f.w), 0);
	assert_int_equal(timer_next_expiry(&f.w), UINT64_MAX);
	timer_cancel(&f.w, &x[0].t); /* never armed: nothing */
	assert_int_equal(fx_run(&f, 5 * NS_PER_S), 0);
	assert_int_equal(fx_run(&f, UINT64_MAX), 0);
	assert_int_equal(f.w.slots_walked, 0);
}

static const uint64_t exact_offsets[] = {
	1,
	2,
	TICK - 1,
	TICK,
	TICK + 1,
	63 * TICK,
	64 * TICK - 1,
	64 * TICK,
	64 * TICK + 1,
	4096 * TICK + 7,
	NS_PER_S,
	60 * NS_PER_S,
	HOUR + 1,
	24 * HOUR,
	YEAR,
	3 * YEAR + 12345,
	1ull << 62,
	(1ull << 63) + 3,
};

static const uint64_t exact_starts[] = {
	0, 1, TICK - 1, 12345678901ull, 1ull << 40, (1ull << 56) + 5,
};

/* Arms one timer at start + off; runs at each of `at` (ascending, all
 * before the expiry), then 1 ns before, then at the expiry. */
static void
exact_one(uint64_t start, uint64_t off, const uint64_t *at, unsigned n_at)
{
	uint64_t expires = start + off;
	struct fx f;
	struct tt x[1];
	unsigned i;

	fx_setup(&f, start, x, 1);
	timer_arm(&f.w, &x[0].t, expires);
	assert_true(timer_armed(&x[0].t));
	assert_int_equal(timer_count(&f.w), 1);
	for (i = 0; i < n_at; i++) {
		assert_int_equal(fx_run(&f, at[i]), 0);
		assert_true(timer_next_expiry(&f.w) <= expires);
	}
	assert_int_equal(fx_run(&f, expires - 1), 0);
	assert_true(timer_armed(&x[0].t));
	assert_int_equal(fx_run(&f, expires), 1);
	assert_int_equal(x[0].fired_at, expires);
	assert_false(timer_armed(&x[0].t));
	assert_int_equal(timer_count(&f.w), 0);
	assert_int_equal(fx_run(&f, expires + TICK * 100), 0);
	assert_int_equal(x[0].fires, 1);
}

static void
test_exact_ns(void **state)
{
	uint64_t at[16];
	unsigned i, j, k, n;

	(void)state;
	for (i = 0; i < sizeof(exact_starts) / sizeof(exact_starts[0]); i++) {
		for (j = 0; j < sizeof(exact_offsets) / sizeof(exact_offsets[0]); j++) {
			uint64_t start = exact_starts[i], off = exact_offsets[j];

			/* straight to 1 ns before */
			exact_one(start, off, NULL, 0);
			/* closing in by halves: every level on the way down */
			for (n = 0, k = 1; k < 16 && (off >> k) > 1; k++)
				at[n++] = start + off - (off >> k);
			exact_one(start, off, at, n);
		}
	}
}

/* A jump well past the expiry fires it once, at that run. */
static void
test_late_run_fires_once(void **state)
{
	struct fx f;
	struct tt x[1];
	unsigned j;

	(void)state;
	for (j = 0; j < sizeof(exact_offsets) / sizeof(exact_offsets[0]); j++) {
		uint64_t expires = 777 + exact_offsets[j];

		fx_setup(&f, 777, x, 1);
		timer_arm(&f.w, &x[0].t, expires);
		assert_int_equal(fx_run(&f, sat_add(expires, expires / 3)), 1);
		assert_int_equal(fx_run(&f, UINT64_MAX), 0);
		assert_int_equal(x[0].fires, 1);
	}
}

/* expires in the past or equal to the wheel's now fires at the next run,
 * even one at the same now. */
static void
test_past_and_now(void **state)
{
	uint64_t now = 1000 * NS_PER_S + TICK / 2;
	struct tt x[4];
	struct fx f;

	(void)state;
	fx_setup(&f, now, x, 4);
	timer_arm(&f.w, &x[0].t, now);
	timer_arm(&f.w, &x[1].t, now - 1);
	timer_arm(&f.w, &x[2].t, 0);
	timer_arm(&f.w, &x[3].t, now - 5 * NS_PER_S);
	assert_true(timer_next_expiry(&f.w) <= now);
	assert_int_equal(fx_run(&f, now), 4);
	expect_log(&f, (const unsigned[]){ 0, 1, 2, 3 }, 4);
	/* and after a run moved the wheel on */
	assert_int_equal(fx_run(&f, now + HOUR), 0);
	timer_arm(&f.w, &x[0].t, now + 1);
	assert_int_equal(fx_run(&f, now + HOUR), 1);
}

/* --- cancel and re-arm --- */

static void
test_cancel(void **state)
{
	static const uint64_t offs[] = {
		0, 1, TICK, 70 * TICK, 5000 * TICK, 60 * NS_PER_S, HOUR, YEAR, 1ull << 62,
	};
	const uint64_t start = 42 * NS_PER_S + 3;
	const unsigned n = sizeof(offs) / sizeof(offs[0]);
	struct tt x[2 * (sizeof(offs) / sizeof(offs[0]))];
	struct fx f;
	unsigned i;

	(void)state;
	fx_init(&f, start);
	for (i = 0; i < 2 * n; i++) {
		tt_init(&x[i], i);
		timer_arm(&f.w, &x[i].t, start + offs[i % n] + i / n);
	}
	assert_int_equal(timer_count(&f.w), 2 * n);
	/* every other one, at every level */
	for (i = 0; i < 2 * n; i += 2) {
		timer_cancel(&f.w, &x[i].t);
		assert_false(timer_armed(&x[i].t));
		timer_cancel(&f.w, &x[i].t); /* twice: nothing */
	}
	assert_int_equal(timer_count(&f.w), n);
	assert_int_equal(fx_run(&f, UINT64_MAX), n);
	for (i = 0; i < 2 * n; i++)
		assert_int_equal(x[i].fires, i % 2);
	assert_int_equal(timer_count(&f.w), 0);
	assert_int_equal(timer_next_expiry(&f.w), UINT64_MAX);
}

/* Canceling the last timer of a slot clears its bit: the bound moves on,
 * and reaching the slot walks nothing. */
static void
test_cancel_clears_slot(void **state)
{
	const uint64_t start = 1ull << 40; /* tick-aligned */
	struct tt x[3];
	struct fx f;

	(void)state;
	fx_setup(&f, start, x, 3);
	timer_arm(&f.w, &x[0].t, start + 10 * TICK + 5);
	timer_arm(&f.w, &x[1].t, start + 10 * TICK + 9);
	timer_arm(&f.w, &x[2].t, start + 3 * NS_PER_S);
	assert_int_equal(timer_next_expiry(&f.w), start + 10 * TICK);
	timer_cancel(&f.w, &x[1].t);
	assert_int_equal(timer_next_expiry(&f.w), start + 10 * TICK);
	timer_cancel(&f.w, &x[0].t);
	assert_true(timer_next_expiry(&f.w) > start + 10 * TICK);
	assert_true(timer_next_expiry(&f.w) <= start + 3 * NS_PER_S);
	assert_int_equal(fx_run(&f, start + 20 * TICK), 0);
	assert_int_equal(f.w.slots_walked, 0);
	/* the same in the current tick's list */
	timer_arm(&f.w, &x[0].t, start + 20 * TICK + 100);
	assert_int_equal(timer_next_expiry(&f.w), start + 20 * TICK + 100);
	timer_cancel(&f.w, &x[0].t);
	assert_true(timer_next_expiry(&f.w) > start + 20 * TICK + 100);
	assert_int_equal(fx_run(&f, start + 20 * TICK + 200), 0);
	assert_int_equal(f.w.slots_walked, 0);
	assert_int_equal(fx_run(&f, start + 3 * NS_PER_S), 1);
}

static void
test_rearm(void **state)
{
	const uint64_t start = 7 * NS_PER_S;
	uint64_t base;
	struct fx f;
	struct tt x[1];

	(void)state;
	fx_setup(&f, start, x, 1);
	/* later */
	timer_arm(&f.w, &x[0].t, start + NS_PER_S);
	timer_arm(&f.w, &x[0].t, start + 2 * NS_PER_S);
	assert_int_equal(timer_count(&f.w), 1);
	assert_int_equal(fx_run(&f, start + NS_PER_S), 0);
	assert_int_equal(fx_run(&f, start + 2 * NS_PER_S - 1), 0);
	assert_int_equal(fx_run(&f, start + 2 * NS_PER_S), 1);
	/* earlier, across levels: fires at the new time only */
	timer_arm(&f.w, &x[0].t, start + YEAR);
	timer_arm(&f.w, &x[0].t, start + 3 * NS_PER_S);
	assert_int_equal(timer_count(&f.w), 1);
	assert_int_equal(fx_run(&f, start + 3 * NS_PER_S - 1), 0);
	assert_int_equal(fx_run(&f, start + 3 * NS_PER_S), 1);
	assert_int_equal(fx_run(&f, start + 2 * YEAR), 0);
	/* within the current tick, to a later ns and back to an earlier one */
	base = (start + 3 * YEAR) & ~(TICK - 1);
	assert_int_equal(fx_run(&f, base), 0);
	timer_arm(&f.w, &x[0].t, base + 100);
	timer_arm(&f.w, &x[0].t, base + 200);
	assert_int_equal(fx_run(&f, base + 100), 0);
	timer_arm(&f.w, &x[0].t, base + 150);
	assert_int_equal(fx_run(&f, base + 149), 0);
	assert_int_equal(fx_run(&f, base + 150), 1);
	assert_int_equal(x[0].fires, 3);
}

/* --- callbacks that act on the wheel --- */

/* A periodic timer re-arms itself: it fires at each period, to the ns. */
static void
test_callback_rearms_self(void **state)
{
	const uint64_t start = 100, period = 3 * TICK + 17;
	struct fx f;
	struct tt x[1];
	unsigned i;

	(void)state;
	fx_setup(&f, start, x, 1);
	tt_act(&x[0], ACT_ARM_AFTER, &x[0], period);
	timer_arm(&f.w, &x[0].t, start + period);
	for (i = 1; i <= 1000; i++) {
		assert_int_equal(fx_run(&f, start + i * period - 1), 0);
		assert_int_equal(fx_run(&f, start + i * period), 1);
		assert_true(timer_armed(&x[0].t));
	}
	assert_int_equal(x[0].fires, 1000);
}

/* Re-armed for now from its own callback: fires at the next run, once a
 * run, never looping within one. */
static void
test_callback_rearms_self_now(void **state)
{
	struct fx f;
	struct tt x[1];
	unsigned i;

	(void)state;
	fx_setup(&f, NS_PER_S, x, 1);
	tt_act(&x[0], ACT_ARM_AFTER, &x[0], 0);
	timer_arm(&f.w, &x[0].t, NS_PER_S);
	for (i = 1; i <= 10; i++) {
		assert_int_equal(fx_run(&f, NS_PER_S), 1);
		assert_int_equal(x[0].fires, i);
		assert_true(timer_armed(&x[0].t));
	}
	/* the same with a past expiry */
	tt_act(&x[0], ACT_ARM_AT, &x[0], 0);
	assert_int_equal(fx_run(&f, NS_PER_S + 1), 1);
	assert_int_equal(fx_run(&f, NS_PER_S + 1), 1);
	assert_int_equal(x[0].t.expires, 0);
}

/* Arms another timer from a callback: later, for now (next run) and in the
 * past (next run). */
static void
test_callback_arms_other(void **state)
{
	const uint64_t start = 5 * NS_PER_S;
	struct tt x[2];
	struct fx f;

	(void)state;
	fx_setup(&f, start, x, 2);
	tt_act(&x[0], ACT_ARM_AFTER, &x[1], 10 * NS_PER_S);
	timer_arm(&f.w, &x[0].t, start + TICK);
	assert_int_equal(fx_run(&f, start + TICK), 1);
	assert_int_equal(x[1].t.expires, start + TICK + 10 * NS_PER_S);
	assert_int_equal(fx_run(&f, start + TICK + 10 * NS_PER_S - 1), 0);
	assert_int_equal(fx_run(&f, start + TICK + 10 * NS_PER_S), 1);
	assert_int_equal(x[1].fires, 1);

	tt_act(&x[0], ACT_ARM_AFTER, &x[1], 0);
	timer_arm(&f.w, &x[0].t, start + HOUR);
	assert_int_equal(fx_run(&f, start + 2 * HOUR), 1);
	assert_int_equal(x[1].fires, 1);
	assert_int_equal(fx_run(&f, start + 2 * HOUR), 1);
	assert_int_equal(x[1].fires, 2);

	tt_act(&x[0], ACT_ARM_AT, &x[1], start);
	timer_arm(&f.w, &x[0].t, start + 3 * HOUR);
	assert_int_equal(fx_run(&f, start + 3 * HOUR), 1);
	assert_int_equal(x[1].fires, 2);
	assert_int_equal(fx_run(&f, start + 3 * HOUR), 1);
	assert_int_equal(x[1].fires, 3);
}

/* Timers of one tick: the first to fire acts on the others, which are not
 * yet due (same tick, later ns) or due in this very run. */
static void
test_callback_same_slot(void **state)
{
	const uint64_t t0 = 9ull << 30; /* tick-aligned */
	struct tt x[4];
	struct fx f;

	(void)state;
	fx_setup(&f, t0, x, 4);
	/* x0 cancels x1, which is due later in the tick */
	tt_act(&x[0], ACT_CANCEL, &x[1], 0);
	timer_arm(&f.w, &x[0].t, t0 + 5 * TICK + 10);
	timer_arm(&f.w, &x[1].t, t0 + 5 * TICK + 20);
	assert_int_equal(fx_run(&f, t0 + 5 * TICK + 10), 1);
	assert_false(timer_armed(&x[1].t));
	assert_int_equal(fx_run(&f, t0 + 6 * TICK), 0);

	/* x0 moves x1, due in the same run, to later in the tick */
	tt_act(&x[0], ACT_ARM_AFTER, &x[1], 5);
	timer_arm(&f.w, &x[0].t, t0 + 7 * TICK + 10);
	timer_arm(&f.w, &x[1].t, t0 + 7 * TICK + 11);
	assert_int_equal(fx_run(&f, t0 + 7 * TICK + 12), 1);
	assert_int_equal(x[1].t.expires, t0 + 7 * TICK + 17);
	assert_int_equal(fx_run(&f, t0 + 7 * TICK + 16), 0);
	assert_int_equal(fx_run(&f, t0 + 7 * TICK + 17), 1);

	/* x0 arms x2 into its own tick, already due: next run; and x1 arms
	 * x3 into the tick, not yet due: at its ns */
	tt_act(&x[0], ACT_ARM_AT, &x[2], t0 + 8 * TICK + 1);
	tt_act(&x[1], ACT_ARM_AT, &x[3], t0 + 8 * TICK + 99);
	timer_arm(&f.w, &x[0].t, t0 + 8 * TICK + 2);
	timer_arm(&f.w, &x[1].t, t0 + 8 * TICK + 3);
	assert_int_equal(fx_run(&f, t0 + 8 * TICK + 50), 2);
	expect_log(&f, (const unsigned[]){ 0, 1 }, 2);
	assert_int_equal(fx_run(&f, t0 + 8 * TICK + 50), 1);
	expect_log(&f, (const unsigned[]){ 2 }, 1);
	assert_int_equal(fx_run(&f, t0 + 8 * TICK + 98), 0);
	assert_int_equal(fx_run(&f, t0 + 8 * TICK + 99), 1);
	assert_int_equal(x[3].fires, 1);
}

/* A callback cancels a timer due in the same run, in a later tick of a
 * jump or the same one: it does not fire. */
static void
test_callback_cancels_due(void **state)
{
	const uint64_t start = 3 * NS_PER_S;
	struct tt x[3];
	struct fx f;

	(void)state;
	fx_setup(&f, start, x, 3);
	tt_act(&x[0], ACT_CANCEL, &x[1], 0);
	timer_arm(&f.w, &x[0].t, start + NS_PER_S);
	timer_arm(&f.w, &x[1].t, start + 2 * NS_PER_S);
	timer_arm(&f.w, &x[2].t, start + HOUR);
	assert_int_equal(fx_run(&f, start + 2 * HOUR), 2);
	expect_log(&f, (const unsigned[]){ 0, 2 }, 2);
	assert_int_equal(x[1].fires, 0);
	assert_int_equal(timer_count(&f.w), 0);

	/* same tick, x1 armed after x0 */
	timer_arm(&f.w, &x[0].t, start + 3 * HOUR);
	timer_arm(&f.w, &x[1].t, start + 3 * HOUR);
	assert_int_equal(fx_run(&f, start + 3 * HOUR), 1);
	assert_int_equal(x[1].fires, 0);

	/* x0 cancels itself, disarmed for its call already: nothing */
	tt_act(&x[0], ACT_CANCEL, &x[0], 0);
	timer_arm(&f.w, &x[0].t, start + 4 * HOUR);
	assert_int_equal(fx_run(&f, start + 4 * HOUR), 1);
	assert_int_equal(timer_count(&f.w), 0);
}

static void
test_nested_run(void **state)
{
	struct tt x[2];
	struct fx f;

	(void)state;
	fx_setup(&f, 0, x, 2);
	tt_act(&x[0], ACT_RUN, NULL, 0);
	timer_arm(&f.w, &x[0].t, 10);
	timer_arm(&f.w, &x[1].t, 10);
	assert_int_equal(fx_run(&f, 10), 2);
	assert_int_equal(x[0].nested, 0);
	assert_int_equal(x[1].fires, 1);
}

/* --- order --- */

static void
test_order(void **state)
{
	const uint64_t t0 = 1ull << 36; /* tick-aligned */
	struct tt x[7];
	struct fx f;

	(void)state;
	fx_setup(&f, t0, x, 7);
	timer_arm(&f.w, &x[0].t, t0 + 3 * TICK + 5);
	timer_arm(&f.w, &x[1].t, t0 + TICK + 100);
	timer_arm(&f.w, &x[2].t, t0 + TICK + 50);  /* x[1]'s tick, earlier ns, armed after */
	timer_arm(&f.w, &x[3].t, t0 + 3 * TICK);   /* x[0]'s tick */
	timer_arm(&f.w, &x[4].t, t0 + YEAR);	   /* far */
	timer_arm(&f.w, &x[5].t, t0 + 2 * TICK);   /* between */
	timer_arm(&f.w, &x[6].t, t0 + TICK + 100); /* x[1]'s tick, then re-armed there */
	timer_arm(&f.w, &x[1].t, t0 + TICK + 100);
	assert_int_equal(fx_run(&f, t0 + 2 * YEAR), 7);
	expect_log(&f, (const unsigned[]){ 2, 6, 1, 5, 0, 3, 4 }, 7);
}

/* Ticks come out in order from every level at once. */
static void
test_order_across_levels(void **state)
{
	enum { N = 60 };
	struct rng r = { 11 };
	struct tt x[N];
	struct fx f;
	unsigned i;

	(void)state;
	fx_init(&f, 123456789);
	for (i = 0; i < N; i++) {
		tt_init(&x[i], i);
		timer_arm(&f.w, &x[i].t, 123456789 + rng_scaled(&r, 62));
	}
	assert_int_equal(fx_run(&f, UINT64_MAX), N);
	for (i = 1; i < N; i++)
		assert_true(x[f.log[i - 1]].t.expires >> TIMER_TICK_SHIFT <=
			    x[f.log[i]].t.expires >> TIMER_TICK_SHIFT);
}

/* --- many timers, every level --- */

static void
test_many_levels(void **state)
{
	enum { N = 20000 };
	const uint64_t start = 1000 * NS_PER_S + 1;
	struct tt *x = calloc(N, sizeof(*x));
	struct rng r = { 7 };
	uint64_t now = start;
	unsigned i, fired = 0;
	unsigned per_level[TIMER_LEVELS] = { 0 };
	struct fx f;

	(void)state;
	assert_non_null(x);
	fx_init(&f, start);
	f.strict = true;
	for (i = 0; i < N; i++) {
		tt_init(&x[i], i);
		/* up to 2^46 ns (19 hours) and, one in 16, up to 2^63 */
		timer_arm(&f.w, &x[i].t, start + 1 + rng_scaled(&r, i % 16 ? 46 : 63));
	}
	assert_int_equal(timer_count(&f.w), N);
	for (i = 0; i < TIMER_LEVELS; i++)
		per_level[i] = (unsigned)__builtin_popcountll(f.w.occ[i]);
	for (i = 0; i < TIMER_LEVELS; i++)
		assert_true(per_level[i] > 0);
	while (fired < N) {
		uint64_t step = rng_scaled(&r, 40);

		now = sat_add(now, step);
		if (rng_below(&r, 64) == 0) /* and now and then a jump */
			now = sat_add(now, rng_scaled(&r, 63));
		fired += fx_run(&f, now);
		assert_int_equal(timer_count(&f.w), N - fired);
	}
	for (i = 0; i < N; i++)
		assert_int_equal(x[i].fires, 1);
	free(x);
}

/* --- clock jumps --- */

static void
test_clock_jumps(void **state)
{
	static const uint64_t jumps[] = { 60 * NS_PER_S, 1000 * NS_PER_S, YEAR, 1ull << 62 };
	enum { PER_LEVEL = 6, N = TIMER_LEVELS * PER_LEVEL + 4 };
	const uint64_t start = 1000 * NS_PER_S + 777;
	struct tt x[N];
	struct fx f;
	unsigned j, i, l;

	(void)state;
	for (j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
		uint64_t to = start + jumps[j], walked;
		unsigned due = 0, n = 0;

		fx_init(&f, start);
		f.strict = true;
		/* around each level's span: 2^(20 + 6l) ns */
		for (l = 0; l < TIMER_LEVELS; l++) {
			uint64_t span = 1ull << (TIMER_TICK_SHIFT + TIMER_LEVEL_BITS * l);

			for (i = 0; i < PER_LEVEL; i++) {
				tt_init(&x[n], n);
				timer_arm(&f.w, &x[n].t, start + span + (span / 8) * i - 1);
				n++;
			}
		}
		tt_init(&x[n], n);
		timer_arm(&f.w, &x[n++].t, to - 1);
		tt_init(&x[n], n);
		timer_arm(&f.w, &x[n++].t, to);
		tt_init(&x[n], n);
		timer_arm(&f.w, &x[n++].t, to + 1);
		tt_init(&x[n], n);
		timer_arm(&f.w, &x[n++].t, UINT64_MAX);
		for (i = 0; i < n; i++)
			due += x[i].t.expires <= to;
		assert_int_equal(fx_run(&f, to), due);
		/* what moved: each timer a level down at most once per level */
		walked = f.w.slots_walked;
		assert_true(walked <= (uint64_t)n * TIMER_LEVELS + 1);
		for (i = 0; i < n; i++) {
			assert_int_equal(x[i].fires, x[i].t.expires <= to);
			assert_int_equal(timer_armed(&x[i].t), x[i].t.expires > to);
		}
		assert_int_equal(fx_run(&f, to), 0);
		assert_int_equal(fx_run(&f, UINT64_MAX - 1), n - due - 1);
		assert_true(timer_armed(&x[n - 1].t));
		assert_int_equal(fx_run(&f, UINT64_MAX), 1);
		assert_int_equal(x[n - 1].fired_at, UINT64_MAX);
		assert_int_equal(timer_count(&f.w), 0);
	}
}

/* 2^62 ns at a time, to the end of the clock, with nothing armed but
 * UINT64_MAX: it never fires early, and no run walks a thing. */
static void
test_far_future_never_early(void **state)
{
	struct fx f;
	struct tt x[1];
	uint64_t now;

	(void)state;
	fx_setup(&f, 0, x, 1);
	timer_arm(&f.w, &x[0].t, UINT64_MAX);
	for (now = 1ull << 62; now < UINT64_MAX - (1ull << 62); now += 1ull << 62)
		assert_int_equal(fx_run(&f, now), 0);
	assert_int_equal(fx_run(&f, UINT64_MAX - 1), 0);
	assert_true(f.w.slots_walked <= TIMER_LEVELS);
	assert_int_equal(fx_run(&f, UINT64_MAX), 1);
}

/* --- timer_next_expiry --- */

/* A caller sleeping until timer_next_expiry: the bound never passes the
 * expiry, a timer fires in the run at exactly its expires, and the wakes
 * with nothing due are at most one per level. */
static void
test_next_expiry_sleep(void **state)
{
	enum { N = 2000 };
	struct tt *x = calloc(N, sizeof(*x));
	const uint64_t start = 99 * NS_PER_S + 5;
	struct rng r = { 3 };
	uint64_t now = start;
	unsigned i, fired = 0, wakes = 0;
	struct fx f;

	(void)state;
	assert_non_null(x);
	for (i = 0; i < 200; i++) {
		uint64_t expires = start + 1 + rng_scaled(&r, 63);

		fx_init(&f, start);
		tt_init(&x[0], 0);
		timer_arm(&f.w, &x[0].t, expires);
		for (now = start, wakes = 0; !x[0].fires; wakes++) {
			uint64_t next = timer_next_expiry(&f.w);

			assert_true(next <= expires);
			assert_true(next > now);
			now = next;
			fx_run(&f, now);
		}
		assert_int_equal(x[0].fired_at, expires);
		assert_true(wakes <= TIMER_LEVELS + 1);
	}
	/* many at once */
	fx_init(&f, start);
	for (i = 0; i < N; i++) {
		tt_init(&x[i], i);
		timer_arm(&f.w, &x[i].t, start + 1 + rng_scaled(&r, i % 2 ? 30 : 50));
	}
	for (now = start, wakes = 0; fired < N; wakes++) {
		uint64_t next = timer_next_expiry(&f.w);

		assert_true(next > now);
		now = next;
		fired += fx_run(&f, now);
	}
	for (i = 0; i < N; i++)
		assert_int_equal(x[i].fired_at, x[i].t.expires);
	assert_true(wakes <= N * (TIMER_LEVELS + 1));
	assert_int_equal(timer_next_expiry(&f.w), UINT64_MAX);
	free(x);
}

/* --- idle runs --- */

/* 10000 timers in the future and a few in the current tick not yet due:
 * 100000 runs in that tick, then 100000 more across the next ticks, fire
 * nothing and walk no list. */
static void
test_idle_runs_walk_nothing(void **state)
{
	enum { N = 10000, IN_TICK = 5, RUNS = 100000 };
	const uint64_t t0 = 1ull << 38 << TIMER_TICK_SHIFT; /* aligned to level 3 */
	struct tt *x = calloc(N + IN_TICK, sizeof(*x));
	struct rng r = { 5 };
	uint64_t now;
	unsigned i;
	struct fx f;

	(void)state;
	assert_non_null(x);
	fx_init(&f, t0);
	for (i = 0; i < N; i++) {
		tt_init(&x[i], i);
		timer_arm(&f.w, &x[i].t, t0 + HOUR + rng_below(&r, HOUR));
	}
	for (i = N; i < N + IN_TICK; i++) {
		tt_init(&x[i], i);
		timer_arm(&f.w, &x[i].t, t0 + TICK - 1 - (i - N));
	}
	assert_int_equal(timer_next_expiry(&f.w), t0 + TICK - IN_TICK);
	for (i = 0, now = t0; i < RUNS; i++, now += 10)
		assert_int_equal(fx_run(&f, now), 0);
	assert_true(now < t0 + TICK - IN_TICK);
	assert_int_equal(f.w.slots_walked, 0);

	assert_int_equal(fx_run(&f, t0 + TICK - 1), IN_TICK);
	assert_int_equal(f.w.slots_walked, 1);
	for (i = 0, now = t0 + TICK; i < RUNS; i++, now += 997)
		assert_int_equal(fx_run(&f, now), 0);
	assert_true(now > t0 + 90 * TICK);
	assert_int_equal(f.w.slots_walked, 1);
	assert_int_equal(timer_count(&f.w), N);
	free(x);
}

/* --- randomized differential test against a plain array --- */

#define DIFF_TIMERS 512

struct model {
	bool armed;
	bool fresh; /* armed during the run in progress: waits for the next */
	uint64_t expires;
	uint64_t key; /* the tick it fires in: its own, or the wheel's at arming when that was later
		       */
	uint64_t seq; /* order of the last arming */
};

struct dtimer {
	struct timer t;
	unsigned id;
};

struct diff {
	struct timer_wheel w;
	struct dtimer tm[DIFF_TIMERS];
	struct model m[DIFF_TIMERS];
	struct rng rng;
	uint64_t now;	  /* the latest reading, as the wheel keeps it */
	uint64_t run_now; /* of the run in progress */
	uint64_t seq;
	bool in_run;
	unsigned fired;	  /* in the run in progress */
	uint64_t digest;  /* of every firing: same seed, same digest */
	uint64_t n_fired; /* in all */
};

static void
diff_arm(struct diff *d, unsigned i, uint64_t expires)
{
	struct model *m = &d->m[i];
	uint64_t tick = d->now >> TIMER_TICK_SHIFT;

	timer_arm(&d->w, &d->tm[i].t, expires);
	m->armed = true;
	m->fresh = d->in_run;
	m->expires = expires;
	m->key = expires >> TIMER_TICK_SHIFT > tick ? expires >> TIMER_TICK_SHIFT : tick;
	m->seq = ++d->seq;
}

static void
diff_cancel(struct diff *d, unsigned i)
{
	timer_cancel(&d->w, &d->tm[i].t);
	d->m[i].armed = false;
}

/* Expiries at every scale: past, now, sub-tick, hours, years, UINT64_MAX,
 * and next to another timer's (same tick, same slot). */
static uint64_t
diff_expiry(struct diff *d, uint64_t base)
{
	unsigned p = (unsigned)rng_below(&d->rng, 100);
	const struct model *o = &d->m[rng_below(&d->rng, DIFF_TIMERS)];

	if (p < 8)
		return base - (base < (1ull << 30) ? base : rng_scaled(&d->rng, 30));
	if (p < 12)
		return base;
	if (p < 14)
		return UINT64_MAX - rng_below(&d->rng, 2);
	if (p < 22 && o->armed)
		return o->expires ^ rng_scaled(&d->rng, 22);
	if (p < 25)
		return sat_add(base, rng_scaled(&d->rng, 63));
	return sat_add(base, rng_scaled(&d->rng, 48));
}

/* The one that must fire next: due before the run, still armed, and first
 * by (tick, arming). */
static unsigned
diff_expected_next(const struct diff *d)
{
	unsigned i, best = DIFF_TIMERS;

	for (i = 0; i < DIFF_TIMERS; i++) {
		const struct model *m = &d->m[i];

		if (!m->armed || m->fresh || m->expires > d->run_now)
			continue;
		if (best == DIFF_TIMERS || m->key < d->m[best].key ||
		    (m->key == d->m[best].key && m->seq < d->m[best].seq))
			best = i;
	}
	return best;
}

/* A timer for a callback to act on: half the time one still due in this
 * run (the interesting case), else any. */
static unsigned
diff_pick(struct diff *d)
{
	unsigned i, n = 0, due[DIFF_TIMERS];

	if (rng_below(&d->rng, 2)) {
		for (i = 0; i < DIFF_TIMERS; i++)
			if (d->m[i].armed && !d->m[i].fresh && d->m[i].expires <= d->run_now)
				due[n++] = i;
		if (n)
			return due[rng_below(&d->rng, n)];
	}
	return (unsigned)rng_below(&d->rng, DIFF_TIMERS);
}

static void
diff_fire(struct timer *t, void *ctx)
{
	struct dtimer *dt = container_of(t, struct dtimer, t);
	struct diff *d = ctx;
	unsigned p;

	assert_true(d->in_run);
	assert_int_equal(dt->id, diff_expected_next(d));
	assert_false(timer_armed(t));
	d->m[dt->id].armed = false;
	d->fired++;
	d->n_fired++;
	d->digest = (d->digest ^ dt->id) * 0x100000001b3ull;
	/* A quarter of the callbacks arm or cancel: themselves, a timer
	 * due in this run, any other. */
	p = (unsigned)rng_below(&d->rng, 100);
	if (p < 10)
		diff_arm(d, dt->id, diff_expiry(d, d->run_now));
	else if (p < 18)
		diff_arm(d, diff_pick(d), diff_expiry(d, d->run_now));
	else if (p < 25)
		diff_cancel(d, diff_pick(d));
}

static void
diff_check(const struct diff *d)
{
	uint64_t min = UINT64_MAX, next = timer_next_expiry(&d->w);
	unsigned i, n = 0;

	for (i = 0; i < DIFF_TIMERS; i++) {
		assert_int_equal(timer_armed(&d->tm[i].t), d->m[i].armed);
		if (!d->m[i].armed)
			continue;
		n++;
		if (d->m[i].expires < min)
			min = d->m[i].expires;
	}
	assert_int_equal(timer_count(&d->w), n);
	if (n == 0)
		assert_int_equal(next, UINT64_MAX);
	else
		assert_true(next <= min);
}

static void
diff_run(struct diff *d, uint64_t now)
{
	unsigned i, n;

	if (now > d->now)
		d->now = now;
	d->run_now = now;
	d->in_run = true;
	d->fired = 0;
	n = timer_run(&d->w, now, d);
	d->in_run = false;
	assert_int_equal(n, d->fired);
	/* nothing due before the run is left */
	assert_int_equal(diff_expected_next(d), DIFF_TIMERS);
	for (i = 0; i < DIFF_TIMERS; i++)
		d->m[i].fresh = false;
}

/* ops random operations from seed, the clock starting at start; returns
 * the digest of what fired. */
static uint64_t
differential(uint64_t seed, uint64_t start, unsigned ops)
{
	struct diff *d = calloc(1, sizeof(*d));
	uint64_t digest;
	unsigned i, op;

	assert_non_null(d);
	d->rng.s = seed;
	d->now = start;
	d->digest = 0xcbf29ce484222325ull;
	timer_wheel_init(&d->w, start);
	for (i = 0; i < DIFF_TIMERS; i++) {
		timer_init(&d->tm[i].t, diff_fire);
		d->tm[i].id = i;
	}
	for (op = 0; op < ops; op++) {
		unsigned p = (unsigned)rng_below(&d->rng, 100);
		unsigned i = (unsigned)rng_below(&d->rng, DIFF_TIMERS);

		if (p < 45) {
			diff_arm(d, i, diff_expiry(d, d->now));
		} else if (p < 58) {
			diff_cancel(d, i);
		} else if (p < 59) {
			/* an older reading: fires what it reaches, no more */
			uint64_t back = rng_scaled(&d->rng, 24);

			diff_run(d, d->now - (back < d->now ? back : d->now));
		} else {
			/* from 0 ns (a poll in the same ns) to 2.4 hours */
			diff_run(d, sat_add(d->now, rng_scaled(&d->rng, 43)));
		}
		diff_check(d);
	}
	/* and everything left, up to the end of the clock, until callbacks
	 * stop arming (each run, a quarter of them arm or cancel) */
	for (op = 0; op < 100 && timer_count(&d->w); op++) {
		diff_run(d, UINT64_MAX);
		diff_check(d);
	}
	assert_int_equal(timer_count(&d->w), 0);
	assert_true(d->n_fired > ops / 4);
	digest = d->digest;
	free(d);
	return digest;
}

static void
test_differential(void **state)
{
	(void)state;
	differential(1, 0, 250000);
	differential(2, 1000 * NS_PER_S + 12345, 250000);
	differential(3, (1ull << 62) + 0xabcdef, 100000);
}

/* The same operations give the same firings, in the same order. */
static void
test_deterministic(void **state)
{
	(void)state;
	assert_int_equal(differential(9, 777, 20000), differential(9, 777, 20000));
	assert_int_not_equal(differential(9, 777, 20000), differential(10, 777, 20000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_exact_ns),
		cmocka_unit_test(test_late_run_fires_once),
		cmocka_unit_test(test_past_and_now),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_cancel_clears_slot),
		cmocka_unit_test(test_rearm),
		cmocka_unit_test(test_callback_rearms_self),
		cmocka_unit_test(test_callback_rearms_self_now),
		cmocka_unit_test(test_callback_arms_other),
		cmocka_unit_test(test_callback_same_slot),
		cmocka_unit_test(test_callback_cancels_due),
		cmocka_unit_test(test_nested_run),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_order_across_levels),
		cmocka_unit_test(test_many_levels),
		cmocka_unit_test(test_clock_jumps),
		cmocka_unit_test(test_far_future_never_early),
		cmocka_unit_test(test_next_expiry_sleep),
		cmocka_unit_test(test_idle_runs_walk_nothing),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_deterministic),
	};

	return cmocka_run_group_tests_name("timer", tests, NULL, NULL);
}
