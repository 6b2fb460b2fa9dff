/* Hierarchical timer wheel (see timer.h): the advance loop and the cascade.
 * Each step fires one timer or cascades one slot, found through the
 * occupancy bitmaps, so idle ticks cost nothing. Stack thread only. */
#include "timer.h"

#include <string.h>

void timer_wheel_init(struct timer_wheel *w, uint64_t now)
{
	memset(w, 0, sizeof(*w));
	w->now = now;
	w->budget = TIMER_BUDGET_DEFAULT;
}

void timer_wheel_set_budget(struct timer_wheel *w, unsigned budget)
{
	w->budget = budget ? budget : TIMER_BUDGET_DEFAULT;
}

/* Time at which slot `slot` of `level` must be served, for a wheel at now:
 * now's digits above the level, the slot as digit `level`, zeros below. For
 * level 0 that is the exact expiry of every timer in the slot; above, it is
 * when the slot's span begins and its timers must move finer. */
static uint64_t timer_wheel_slot_time(uint64_t now, uint32_t level, uint32_t slot)
{
	uint32_t shift = level * TIMER_LEVEL_BITS;
	uint32_t span = shift + TIMER_LEVEL_BITS;
	uint64_t high = span >= 64 ? 0 : now & ~((UINT64_C(1) << span) - 1);

	return high | ((uint64_t)slot << shift);
}

/*
 * The earliest slot to serve is the lowest occupied slot of the lowest
 * occupied level: every level-L slot lies inside now's current 64^(L+1)-tick
 * span, while every level L+1 slot starts after that span ends, so a finer
 * level always comes first. Two ctz's find it, whatever the gap in time.
 */
static bool timer_wheel_first(const struct timer_wheel *w, uint32_t *level, uint32_t *slot)
{
	if (!w->level_mask)
		return false;
	*level = (uint32_t)__builtin_ctz(w->level_mask);
	*slot = (uint32_t)__builtin_ctzll(w->occupied[*level]);
	return true;
}

/* Precondition: w->now is the start of this slot's span. Every timer in it
 * now shares all digits from `level` up with w->now, so it lands strictly
 * finer (or due at level 0): each timer cascades at most once per level. */
static void timer_wheel_cascade(struct timer_wheel *w, uint32_t level, uint32_t slot)
{
	uint32_t idx = level * TIMER_LEVEL_SLOTS + slot;
	struct hnode *n = w->slots[idx].first, *next;

	w->slots[idx].first = NULL;
	bitmap_clear(w->occupied, idx);
	if (!w->occupied[level])
		w->level_mask &= ~(UINT32_C(1) << level);
	for (; n; n = next) {
		struct timer_node *t = DTCP_CONTAINER_OF(n, struct timer_node, link);

		next = n->next;
		timer_wheel_link(w, t);
		DTCP_ASSERT(timer_wheel_slot_of(w, t->expires) < idx - slot);
		w->cascaded++;
	}
}

unsigned timer_wheel_advance(struct timer_wheel *w, uint64_t now)
{
	unsigned fired = 0;
	uint32_t level, slot;

	if (now < w->now)
		now = w->now;
	while (timer_wheel_first(w, &level, &slot)) {
		uint64_t at = timer_wheel_slot_time(w->now, level, slot);
		struct timer_node *t;

		if (at > now)
			break;
		/* Out of budget with work still due: keep w->now at the expiry
		 * being served so the next call resumes in order. */
		if (fired == w->budget)
			return fired;
		/* Time moves to each slot as it is served, never past one
		 * unserved, which keeps the placement rule of timer.h true. */
		w->now = at;
		w->steps++;
		if (level) {
			timer_wheel_cascade(w, level, slot);
			continue;
		}
		/* Unlink before the call so the callback sees it idle and may
		 * re-arm it; one at a time so it may also stop its neighbours. */
		t = DTCP_CONTAINER_OF(w->slots[slot].first, struct timer_node, link);
		timer_wheel_unlink(w, t);
		w->count--;
		fired++;
		t->fn(t);
	}
	/* A callback that called advance itself may have moved time further. */
	if (now > w->now)
		w->now = now;
	return fired;
}

uint64_t timer_wheel_next(const struct timer_wheel *w)
{
	uint32_t level, slot;

	if (!timer_wheel_first(w, &level, &slot))
		return UINT64_MAX;
	return timer_wheel_slot_time(w->now, level, slot);
}
