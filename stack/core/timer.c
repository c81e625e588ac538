/*
 * timer.c: the hierarchical timing wheel (timer.h).
 *
 * Time is cut into ticks of 2^20 ns; the wheel stands at a tick T.  Level l
 * has 64 slots, one per value of the tick's bits 6l..6l+5 (its digit l).  A
 * timer due at tick E > T sits at the level of the highest bit where E and
 * T differ, in the slot of E's digit there: E shares the digits above with
 * T and its digit at that level is greater than T's.  So every timer of a
 * lower level is due before every timer of a higher one, and the earliest
 * timer of the wheel is in the lowest occupied slot of the lowest occupied
 * level; one uint64_t occupancy bitmap per level (and one bit per level)
 * find it with two count-trailing-zeros.  That slot's range starts at the
 * wheel's next event; up to there T may move without a timer changing
 * place, so a run with nothing due only compares that tick with now.  When
 * T reaches an event, the slot's timers are placed again against the new T,
 * each one a level lower at least: a timer moves at most 8 times in its
 * life, and a jump of the clock costs the slots that hold something, never
 * the empty ticks between them.
 *
 * Eight levels rather than six: 6 x 8 = 48 bits cover the 44 bits of any
 * tick number, so a timer years away, or at UINT64_MAX, has its exact slot
 * like any other.  Six levels (2.2 years) would need a parking list outside
 * the wheel, re-examined whenever the top level wraps; two more levels cost
 * 2 KiB and take that case away.
 *
 * The tick is not the precision: a timer fires at the first run whose now
 * reaches its expires, to the ns.  Timers of the current tick (and those
 * armed already due) wait in one list, cur, with a lower bound of their
 * expires: a run walks cur only when that bound is due, keeps what is not,
 * and takes the bound again exactly.
 *
 * A run first gathers what is due into the firing list, in tick order, then
 * calls back from it one timer at a time.  The wheel then already stands at
 * now, so a timer armed from a callback for now or earlier lands in cur for
 * the next run, and one canceled or moved leaves the firing list before its
 * turn.  Lists are appended at their tail and cascaded in order, so within
 * a tick timers fire in the order they were armed.  A timer at the end of a
 * slot finds its tail pointer again by its level and slot, which depend
 * only on its expiry and T: that is the invariant above.  The tails double
 * the slots' 4 KiB (the wheel is 8336 bytes): that buys a firing order
 * one can state, and test exactly, rather than one that depends on how
 * often each timer cascaded.
 */
#include <stddef.h>

#include "timer.h"

#define TIMER_SLOT_MASK (TIMER_SLOTS - 1)

_Static_assert((TIMER_LEVELS * TIMER_LEVEL_BITS) >= 64 - TIMER_TICK_SHIFT,
	       "every tick number must have a slot");
_Static_assert(TIMER_LEVELS <= 8, "one bit per level in timer_wheel.levels");
_Static_assert(TIMER_SLOTS == 64, "one uint64_t occupancy bitmap per level");

static uint64_t
timer_tick_of(uint64_t ns)
{
	return ns >> TIMER_TICK_SHIFT;
}

/* Where a timer due at tick e > w->tick belongs. */
static void
timer_slot_of(const struct timer_wheel *w, uint64_t e, unsigned *lv, unsigned *s)
{
	unsigned high = 63 - (unsigned)__builtin_clzll(e ^ w->tick);

	*lv = high / TIMER_LEVEL_BITS;
	*s = (unsigned)(e >> (*lv * TIMER_LEVEL_BITS)) & TIMER_SLOT_MASK;
}

/* The wheel's next event: the tick at which its lowest occupied slot's range
 * starts (its timers are due then or later).  Only when w->levels != 0. */
static uint64_t
timer_next_event(const struct timer_wheel *w, unsigned *lv, unsigned *s)
{
	unsigned l = (unsigned)__builtin_ctz(w->levels);
	unsigned shift = l * TIMER_LEVEL_BITS;
	uint64_t above = w->tick >> (shift + TIMER_LEVEL_BITS) << (shift + TIMER_LEVEL_BITS);

	*lv = l;
	*s = (unsigned)__builtin_ctzll(w->occ[l]);
	return above | (uint64_t)*s << shift;
}

static void
timer_append(struct timer ***tail, struct timer *t)
{
	t->next = NULL;
	t->pprev = *tail;
	**tail = t;
	*tail = &t->next;
}

static void
timer_occ_clear(struct timer_wheel *w, unsigned lv, unsigned s)
{
	w->occ[lv] &= ~(1ull << s);
	if (w->occ[lv] == 0)
		w->levels &= (uint8_t) ~(1u << lv);
}

/* Takes t out of whichever list holds it.  When t was the last of its list,
 * that list's tail comes back, found by elimination: cur's and firing's
 * tails are known, and otherwise t is in the wheel, in the slot its expiry
 * gives. */
static void
timer_unlink(struct timer_wheel *w, struct timer *t)
{
	struct timer **pprev = t->pprev;
	unsigned lv, s;

	*pprev = t->next;
	if (t->next) {
		t->next->pprev = pprev;
	} else if (w->cur_tail == &t->next) {
		w->cur_tail = pprev;
		if (pprev == &w->cur)
			w->cur_min = UINT64_MAX;
	} else if (w->firing_tail == &t->next) {
		w->firing_tail = pprev;
	} else {
		timer_slot_of(w, timer_tick_of(t->expires), &lv, &s);
		w->tail[lv][s] = pprev;
		if (pprev == &w->slot[lv][s])
			timer_occ_clear(w, lv, s);
	}
	t->next = NULL;
	t->pprev = NULL;
}

/* Links t where the wheel at w->tick keeps it: cur when its tick has come,
 * else its slot. */
static void
timer_place(struct timer_wheel *w, struct timer *t)
{
	uint64_t e = timer_tick_of(t->expires);
	unsigned lv, s;

	if (e <= w->tick) {
		timer_append(&w->cur_tail, t);
		if (t->expires < w->cur_min)
			w->cur_min = t->expires;
		return;
	}
	timer_slot_of(w, e, &lv, &s);
	timer_append(&w->tail[lv][s], t);
	w->occ[lv] |= 1ull << s;
	w->levels |= (uint8_t)(1u << lv);
}

void
timer_wheel_init(struct timer_wheel *w, uint64_t now)
{
	unsigned lv, s;

	*w = (struct timer_wheel){
		.now = now,
		.tick = timer_tick_of(now),
		.cur_min = UINT64_MAX,
		.firing_min = UINT64_MAX,
	};
	w->cur_tail = &w->cur;
	w->firing_tail = &w->firing;
	for (lv = 0; lv < TIMER_LEVELS; lv++)
		for (s = 0; s < TIMER_SLOTS; s++)
			w->tail[lv][s] = &w->slot[lv][s];
}

void
timer_init(struct timer *t, timer_fn fn)
{
	*t = (struct timer){ .fn = fn };
}

void
timer_arm(struct timer_wheel *w, struct timer *t, uint64_t expires)
{
	if (timer_armed(t))
		timer_unlink(w, t);
	else
		w->count++;
	t->expires = expires;
	timer_place(w, t);
}

void
timer_cancel(struct timer_wheel *w, struct timer *t)
{
	if (!timer_armed(t))
		return;
	timer_unlink(w, t);
	w->count--;
}

/* Places again every timer of a list taken whole from the wheel: those of
 * the wheel's tick that are due join the firing list, the others go where
 * the wheel, at its tick, keeps them. */
static void
timer_sort_out(struct timer_wheel *w, struct timer *list, uint64_t now)
{
	struct timer *t;

	w->slots_walked++;
	while ((t = list) != NULL) {
		list = t->next;
		if (timer_tick_of(t->expires) <= w->tick && t->expires <= now) {
			timer_append(&w->firing_tail, t);
			if (t->expires < w->firing_min)
				w->firing_min = t->expires;
		} else {
			timer_place(w, t);
		}
	}
}

/* Moves to the firing list what is due at now, in firing order, and the
 * wheel to now's tick. */
static void
timer_gather(struct timer_wheel *w, uint64_t now)
{
	uint64_t to = timer_tick_of(w->now);
	struct timer *list;
	unsigned lv, s;

	/* cur first: its timers are of the wheel's tick, before any slot's.
	 * When the tick moves on, all of them are due. */
	if (w->cur && w->cur_min <= now) {
		list = w->cur;
		w->cur = NULL;
		w->cur_tail = &w->cur;
		w->cur_min = UINT64_MAX;
		timer_sort_out(w, list, now);
	}
	while (w->levels) {
		uint64_t at = timer_next_event(w, &lv, &s);

		if (at > to)
			break;
		w->tick = at;
		list = w->slot[lv][s];
		w->slot[lv][s] = NULL;
		w->tail[lv][s] = &w->slot[lv][s];
		timer_occ_clear(w, lv, s);
		timer_sort_out(w, list, now);
	}
	/* No event up to `to`: every timer keeps its level and slot. */
	w->tick = to;
}

unsigned
timer_run(struct timer_wheel *w, uint64_t now, void *ctx)
{
	unsigned fired = 0;
	struct timer *t;

	if (w->running)
		return 0;
	/* A clock reading older than the last fires what it reaches but does
	 * not take the wheel back. */
	if (now > w->now)
		w->now = now;
	timer_gather(w, now);
	w->running = true;
	while ((t = w->firing) != NULL) {
		timer_unlink(w, t);
		w->count--;
		fired++;
		t->fn(t, ctx);
	}
	w->running = false;
	w->firing_min = UINT64_MAX;
	return fired;
}

uint64_t
timer_next_expiry(const struct timer_wheel *w)
{
	uint64_t next = w->cur_min;
	unsigned lv, s;

	if (w->firing && w->firing_min < next)
		next = w->firing_min;
	if (w->levels) {
		uint64_t at = timer_next_event(w, &lv, &s) << TIMER_TICK_SHIFT;

		if (at < next)
			next = at;
	}
	return next;
}

unsigned
timer_count(const struct timer_wheel *w)
{
	return w->count;
}
