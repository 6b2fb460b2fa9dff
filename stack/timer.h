/* Hierarchical timer wheel: intrusive timers on injected time (a 64-bit tick
 * count the caller passes in; the wheel never reads a clock). Start, stop and
 * move are O(1) and inline; advance costs the timers it fires and cascades,
 * never the ticks that elapsed. Called on the owning stack's thread only. */
#ifndef DTCP_TIMER_H
#define DTCP_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/*
 * Placement. A pending timer whose expiry e is after the wheel's time `now`
 * sits at the level of the highest 6-bit digit in which e and now differ, in
 * the slot named by e's digit at that level. So level L slot s holds the
 * timers of the 64^L-tick span that starts where now's digit L becomes s,
 * and every occupied slot lies ahead of now. A timer with e <= now is due: it
 * sits in level 0 at now's own digit and counts as expiring at now.
 *
 * Because the placement is a pure function of (max(e, now), now), stop
 * recomputes a timer's slot instead of storing it, which keeps the node at
 * 32 bytes. Advance keeps this true by cascading a slot the moment now
 * reaches its start, before any callback runs.
 *
 * Levels: 11 levels of 6 bits cover 66 >= 64 bits, so any expiry up to
 * UINT64_MAX has an exact place; nothing is clamped (level 10 uses 16 slots).
 */
#define TIMER_LEVEL_BITS 6
#define TIMER_LEVEL_SLOTS 64
#define TIMER_LEVELS 11
#define TIMER_BUDGET_DEFAULT 65536u

_Static_assert(TIMER_LEVEL_SLOTS == 64, "one occupancy word per level");
_Static_assert(TIMER_LEVELS * TIMER_LEVEL_BITS >= 64, "every 64-bit expiry has a level");

struct timer_node {
	struct hnode link;             /* pprev == NULL: not pending */
	uint64_t expires;
	void (*fn)(struct timer_node *t); /* owner recovered with DTCP_CONTAINER_OF */
};

/* The TCP engine embeds several of these in each of millions of connections. */
_Static_assert(sizeof(struct timer_node) <= 32, "timer_node stays within 32 bytes");

struct timer_wheel {
	uint64_t now;                  /* the wheel's time; read-only for callers */
	uint64_t count;                /* pending timers */
	uint64_t steps;                /* advance work: timers fired + slots cascaded */
	uint64_t cascaded;             /* timers moved down a level */
	unsigned budget;               /* most timers one advance call fires */
	uint32_t level_mask;           /* bit L: level L has an occupied slot */
	uint64_t occupied[TIMER_LEVELS]; /* bit s of word L: slot s of level L is non-empty */
	struct hhead slots[TIMER_LEVELS * TIMER_LEVEL_SLOTS];
};

/* Empty wheel whose time is now; the budget is TIMER_BUDGET_DEFAULT. */
void timer_wheel_init(struct timer_wheel *w, uint64_t now);

/* Most timers a single timer_wheel_advance() call may fire, so that a burst
 * of expiries (or a callback that keeps re-arming itself at or before now)
 * cannot hold the poll loop; 0 restores TIMER_BUDGET_DEFAULT. */
void timer_wheel_set_budget(struct timer_wheel *w, unsigned budget);

/*
 * Fire, in expiry order, every timer whose expiry is <= now, and return how
 * many fired. A timer started with an expiry at or before the wheel's time
 * counts as expiring at the wheel's time, so it fires first in the next call.
 * A timer fires exactly once, during the first call whose now reaches its
 * expiry, with w->now equal to its (effective) expiry; ties fire in any order.
 *
 * Before its callback runs the timer is no longer pending, and the callback
 * may start, stop or move any timer of this wheel, itself included. One
 * started from a callback with an expiry <= now fires in this same call.
 *
 * Termination: a call fires at most the wheel's budget of timers. When the
 * budget runs out while timers are still due, the call returns early with
 * w->now left at the expiry being served, and timer_wheel_next() is <= now so
 * the caller knows to call again; the rest fire, still in order, then.
 * A now earlier than the wheel's time is taken as the wheel's time.
 */
unsigned timer_wheel_advance(struct timer_wheel *w, uint64_t now);

/*
 * When timer_wheel_advance() next has work: UINT64_MAX if no timer is
 * pending, the wheel's time if one is due, and otherwise never later than the
 * earliest expiry. It is exact when that timer is within the wheel's current
 * 64-tick span (level 0); otherwise it is the start of the coarse slot that
 * holds it, a lower bound (finding the exact minimum would scan the slot). A
 * poll loop that sleeps until this value wakes at most once per level early
 * for a given timer, as each early wake cascades it one level finer.
 */
uint64_t timer_wheel_next(const struct timer_wheel *w);

/* Slot index (level * 64 + slot) of an expiry at the wheel's current time. */
static inline uint32_t timer_wheel_slot_of(const struct timer_wheel *w, uint64_t expires)
{
	uint64_t at = expires > w->now ? expires : w->now;
	uint64_t diff = at ^ w->now;
	uint32_t level = 0;

	if (diff)
		level = (uint32_t)(63 - __builtin_clzll(diff)) / TIMER_LEVEL_BITS;
	return level * TIMER_LEVEL_SLOTS +
	       (uint32_t)((at >> (level * TIMER_LEVEL_BITS)) & (TIMER_LEVEL_SLOTS - 1));
}

static inline void timer_wheel_link(struct timer_wheel *w, struct timer_node *t)
{
	uint32_t idx = timer_wheel_slot_of(w, t->expires);

	hlist_add_head(&t->link, &w->slots[idx]);
	bitmap_set(w->occupied, idx);
	w->level_mask |= UINT32_C(1) << (idx / TIMER_LEVEL_SLOTS);
}

/* Precondition: t is pending on w. */
static inline void timer_wheel_unlink(struct timer_wheel *w, struct timer_node *t)
{
	uint32_t idx = timer_wheel_slot_of(w, t->expires);
	uint32_t level = idx / TIMER_LEVEL_SLOTS;

	/* A recomputed slot that is empty means t is on another wheel or its
	 * expiry was written behind the wheel's back. */
	DTCP_ASSERT(bitmap_test(w->occupied, idx));
	hlist_del(&t->link);
	if (hlist_empty(&w->slots[idx])) {
		bitmap_clear(w->occupied, idx);
		if (!w->occupied[level])
			w->level_mask &= ~(UINT32_C(1) << level);
	}
}

/* Idle timer that will call fn when it fires. */
static inline void timer_init(struct timer_node *t, void (*fn)(struct timer_node *t))
{
	t->link.next = NULL;
	t->link.pprev = NULL;
	t->expires = 0;
	t->fn = fn;
}

static inline bool timer_pending(const struct timer_node *t)
{
	return !hlist_unhashed(&t->link);
}

/* Start t, or move it if pending, to fire at expires (an expiry <= the
 * wheel's time fires at the next advance). O(1). */
static inline void timer_start(struct timer_wheel *w, struct timer_node *t, uint64_t expires)
{
	if (timer_pending(t))
		timer_wheel_unlink(w, t);
	else
		w->count++;
	t->expires = expires;
	timer_wheel_link(w, t);
}

/* Cancel t; nothing happens if it is not pending. O(1). */
static inline void timer_stop(struct timer_wheel *w, struct timer_node *t)
{
	if (!timer_pending(t))
		return;
	timer_wheel_unlink(w, t);
	w->count--;
}

#endif
