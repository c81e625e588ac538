/*
 * timer.h: a hierarchical timing wheel, one per stack instance, driven by
 * the caller's clock (the `now` of sonde_poll), so fake clocks in tests and
 * several stacks on one lcore work, which rte_timer (TSC, per-lcore lists)
 * does not allow.  Arming, re-arming and canceling are O(1), and so is a
 * run where nothing is due, whatever the number of armed timers; a run
 * after a jump of the clock costs what it fires and moves, not the ticks
 * it skips.  timer.c says how.
 *
 * Timers are intrusive: a struct timer lives in the object it times, and
 * its callback finds that object with container_of.  The wheel allocates
 * nothing and is not thread-safe (one per stack, used by its lcore).
 */
#ifndef SONDE_TIMER_H
#define SONDE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TIMER_TICK_SHIFT 20 /* a tick is 2^20 ns, about 1.05 ms */
#define TIMER_LEVEL_BITS 6
#define TIMER_SLOTS (1u << TIMER_LEVEL_BITS)
/* 8 levels of 6 bits cover the 44 bits of a tick number (64 - 20): any
 * uint64_t expiry, UINT64_MAX included, has its exact place. */
#define TIMER_LEVELS 8

struct timer;
typedef void (*timer_fn)(struct timer *t, void *ctx);

struct timer {
	struct timer *next;
	struct timer **pprev; /* NULL while not armed */
	uint64_t expires;     /* ns, absolute, on the caller's clock */
	timer_fn fn;
};

struct timer_wheel {
	uint64_t now;  /* the latest clock reading, from init or a run */
	uint64_t tick; /* now >> TIMER_TICK_SHIFT, but while a run gathers what is due */
	/* The current tick's timers, which may not all be due yet, and those
	 * armed already due; cur_min is a lower bound of their expires
	 * (UINT64_MAX when empty), so a run walks them only when one is due. */
	struct timer *cur;
	struct timer **cur_tail;
	uint64_t cur_min;
	/* A run's due timers, in firing order, while it calls them back. */
	struct timer *firing;
	struct timer **firing_tail;
	uint64_t firing_min;
	uint64_t slots_walked;	    /* lists walked by runs: tests check idle runs walk none */
	unsigned count;		    /* armed timers */
	uint8_t levels;		    /* bit l: occ[l] != 0 */
	bool running;		    /* inside timer_run: a nested run does nothing */
	uint64_t occ[TIMER_LEVELS]; /* bit s: slot[l][s] holds a timer */
	struct timer *slot[TIMER_LEVELS][TIMER_SLOTS];
	struct timer **tail[TIMER_LEVELS][TIMER_SLOTS]; /* append keeps arming order */
};

void timer_wheel_init(struct timer_wheel *w, uint64_t now);
/* Makes t an unarmed timer calling fn; t must not be armed. */
void timer_init(struct timer *t, timer_fn fn);
/* Arms t to fire at the first timer_run whose now >= expires, or moves it
 * if it is armed.  An expiry not after the wheel's latest now fires at the
 * next run (from a callback: the next run, not the current one).  O(1). */
void timer_arm(struct timer_wheel *w, struct timer *t, uint64_t expires);
/* Disarms t; nothing when it is not armed.  O(1). */
void timer_cancel(struct timer_wheel *w, struct timer *t);

static inline bool
timer_armed(const struct timer *t)
{
	return t->pprev != NULL;
}

/*
 * Fires every timer whose expires <= now, each disarmed before its
 * callback gets ctx; returns how many fired.  Order: by tick, and within
 * a tick by arming (a timer armed when its tick had already come counts
 * as of the wheel's tick then).  A callback may arm or cancel any timer;
 * one it arms for now or earlier fires at the next run, and one it
 * cancels or moves before that timer's turn does not fire in this run.
 * Calling timer_run from a callback does nothing and returns 0.  now
 * should not go back; a reading older than the last fires what it
 * reaches and leaves the wheel where it was.
 */
unsigned timer_run(struct timer_wheel *w, uint64_t now, void *ctx);
/* A lower bound of the earliest armed expiry, UINT64_MAX when none.  It is
 * that expiry when the timer is in the current tick (or, after a cancel,
 * the expiry of the canceled one, until the next run that reaches it);
 * otherwise the start of its slot's range, where a run tightens the bound.
 * A caller sleeping until the bound, and running there, fires each timer
 * at its exact expires, waking in between at most once per level and once
 * at the start of its tick. */
uint64_t timer_next_expiry(const struct timer_wheel *w);
unsigned timer_count(const struct timer_wheel *w);

#endif
