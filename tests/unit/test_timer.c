/* Timer wheel: exact firing against a reference model under random
 * start/stop/move (also from inside callbacks), re-arming, budgets, sparse
 * jumps that must cost no per-tick work, and a million-timer stress. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "timer.h"

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: deterministic, seeded per test */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- reference model ---------------------------------------------------- */

struct model;

struct mtimer {
	struct timer_node node;
	struct model *m;
	uint32_t id;
	bool pending;       /* the model's view */
	uint64_t due;       /* effective expiry: max(expires, wheel time at start) */
	uint64_t fired;
};

struct model {
	struct timer_wheel w;
	struct mtimer *t;
	uint32_t n;
	uint64_t rng;
	uint64_t limit;     /* the now of the advance in progress */
	uint64_t last_fire; /* wheel time of the previous fire in this advance */
	unsigned fires;     /* callbacks seen in this advance */
	bool chaos;         /* callbacks start/stop random timers */
	uint64_t max_shift; /* deltas are drawn below 2^max_shift */
};

/* Mostly short deltas, some up to 2^max_shift, a few in the past. */
static uint64_t model_expiry(struct model *m, uint64_t base)
{
	uint64_t r = rng_next(&m->rng);
	uint64_t k = r % (m->max_shift + 1);
	uint64_t delta = (rng_next(&m->rng) & ((UINT64_C(1) << k) - 1));

	if ((r >> 32) % 16 == 0)
		return base >= delta ? base - delta : 0;
	return sat_add(base, delta);
}

static void model_start(struct model *m, uint32_t i, uint64_t expires)
{
	struct mtimer *t = &m->t[i];

	timer_start(&m->w, &t->node, expires);
	t->pending = true;
	t->due = expires > m->w.now ? expires : m->w.now;
}

static void model_stop(struct model *m, uint32_t i)
{
	timer_stop(&m->w, &m->t[i].node);
	m->t[i].pending = false;
}

static void model_fire(struct timer_node *node)
{
	struct mtimer *t = DTCP_CONTAINER_OF(node, struct mtimer, node);
	struct model *m = t->m;

	cr_assert(t->pending, "timer %u fired while the model has it idle", t->id);
	cr_assert_eq(t->due, m->w.now, "timer %u fired at %lu, due %lu", t->id,
	             (unsigned long)m->w.now, (unsigned long)t->due);
	cr_assert_leq(m->w.now, m->limit, "fired beyond the advance's now");
	cr_assert_geq(m->w.now, m->last_fire, "fired out of expiry order");
	cr_assert_not(timer_pending(node), "idle while its callback runs");
	t->pending = false;
	t->fired++;
	m->last_fire = m->w.now;
	m->fires++;

	if (!m->chaos)
		return;
	/* Touch one timer, possibly this one, while the wheel is mid-advance.
	 * At most half the fires start a timer, so the chain of fires that
	 * start fires inside one advance dies out. */
	uint64_t r = rng_next(&m->rng);
	uint32_t j = (uint32_t)(r % m->n);

	switch ((r >> 32) % 6) {
	case 0:
	case 1:
		model_stop(m, j);
		break;
	case 2:
		/* near the current time, some in the past, so many land inside
		 * this advance */
		model_start(m, j, m->w.now + ((r >> 40) % 200) - 50);
		break;
	case 3:
		model_start(m, j, model_expiry(m, m->w.now));
		break;
	case 4:
		model_start(m, t->id, m->w.now + ((r >> 40) % 100));
		break;
	default:
		break;
	}
}

static void model_check_idle(struct model *m, uint64_t now)
{
	uint64_t min_due = UINT64_MAX, count = 0;

	for (uint32_t i = 0; i < m->n; i++) {
		struct mtimer *t = &m->t[i];

		cr_assert_eq(timer_pending(&t->node), t->pending, "timer %u pending state", i);
		if (!t->pending)
			continue;
		count++;
		cr_assert_gt(t->due, now, "timer %u due %lu missed the advance to %lu", i,
		             (unsigned long)t->due, (unsigned long)now);
		if (t->due < min_due)
			min_due = t->due;
	}
	cr_assert_eq(m->w.count, count);
	uint64_t next = timer_wheel_next(&m->w);
	if (!count) {
		cr_assert_eq(next, UINT64_MAX);
		return;
	}
	cr_assert_leq(next, min_due, "next is never after the earliest expiry");
	cr_assert_gt(next, now);
	if ((min_due ^ m->w.now) < 64)
		cr_assert_eq(next, min_due, "next is exact within the current level-0 span");
}

static void model_run(uint64_t seed, uint32_t n, uint32_t ops, bool chaos, uint64_t base,
                      uint64_t max_shift)
{
	struct model *m = calloc(1, sizeof(*m));

	m->t = calloc(n, sizeof(*m->t));
	m->n = n;
	m->rng = seed;
	m->chaos = chaos;
	m->max_shift = max_shift;
	timer_wheel_init(&m->w, base);
	timer_wheel_set_budget(&m->w, UINT32_MAX);
	for (uint32_t i = 0; i < n; i++) {
		timer_init(&m->t[i].node, model_fire);
		m->t[i].m = m;
		m->t[i].id = i;
	}

	uint64_t total_fires = 0;
	for (uint32_t op = 0; op < ops; op++) {
		uint64_t r = rng_next(&m->rng);
		uint32_t i = (uint32_t)(r % n);

		switch ((r >> 32) % 8) {
		case 0:
		case 1:
		case 2:
			model_start(m, i, model_expiry(m, m->w.now));
			break;
		case 3:
			model_stop(m, i);
			break;
		default: {
			/* jumps from one tick to 2^max_shift, occasionally none */
			uint64_t k = rng_next(&m->rng) % (max_shift + 1);
			uint64_t now = sat_add(m->w.now, rng_next(&m->rng) & ((UINT64_C(1) << k) - 1));
			uint64_t before = 0;
			unsigned got;

			if (!chaos)
				for (uint32_t j = 0; j < n; j++)
					before += m->t[j].pending && m->t[j].due <= now;
			m->limit = now;
			m->last_fire = m->w.now;
			m->fires = 0;
			got = timer_wheel_advance(&m->w, now);
			cr_assert_eq(got, m->fires, "advance returns the number of callbacks");
			if (!chaos)
				cr_assert_eq(got, before, "fired exactly the due set");
			cr_assert_eq(m->w.now, now);
			model_check_idle(m, now);
			total_fires += got;
			break;
		}
		}
	}
	/* Drain: everything left fires once, at its time. */
	m->chaos = false;
	m->limit = UINT64_MAX;
	m->last_fire = m->w.now;
	m->fires = 0;
	timer_wheel_advance(&m->w, UINT64_MAX);
	model_check_idle(m, UINT64_MAX);
	cr_assert_eq(m->w.count, 0);
	cr_assert_gt(total_fires, ops / 20, "the run exercised firing");
	cr_assert_gt(m->w.cascaded, 0, "the run exercised cascading");
	free(m->t);
	free(m);
}

Test(timer, model_random_ops)
{
	model_run(0x1234567, 1000, 100000, false, 0, 40);
}

Test(timer, model_random_ops_short_deltas)
{
	/* deltas below 2^14 keep many timers alive and crossing level 0/1/2 */
	model_run(0xfeedface, 2000, 100000, false, 123456789, 14);
}

Test(timer, model_callbacks_start_and_stop)
{
	model_run(0xabcdef01, 500, 100000, true, 1000, 40);
}

Test(timer, model_top_level)
{
	/* crossing 2^63 puts timers in level 10, the 16-slot top */
	model_run(0x55aa55aa, 500, 40000, false, (UINT64_C(1) << 63) - (UINT64_C(1) << 42), 44);
}

Test(timer, model_end_of_time)
{
	/* runs into UINT64_MAX: saturated expiries, then a wheel that cannot move */
	model_run(0x77665544, 500, 20000, false, UINT64_MAX - (UINT64_C(1) << 28), 20);
}

/* ---- callbacks that re-arm, stop, and budgets --------------------------- */

struct rec {
	struct timer_node node;
	struct timer_wheel *w;
	int id;
	uint64_t period;       /* > 0: re-arm at now + period */
	int remaining;         /* re-arms left */
	struct rec *victim;    /* stopped by this callback */
	struct rec *kick;      /* started by this callback at kick_at */
	uint64_t kick_at;
	int *log;
	uint64_t *log_at;
	int *nlog;
};

static void rec_fire(struct timer_node *node)
{
	struct rec *r = DTCP_CONTAINER_OF(node, struct rec, node);

	r->log[*r->nlog] = r->id;
	r->log_at[*r->nlog] = r->w->now;
	(*r->nlog)++;
	if (r->victim)
		timer_stop(r->w, &r->victim->node);
	if (r->kick)
		timer_start(r->w, &r->kick->node, r->kick_at);
	if (r->period && r->remaining-- > 0)
		timer_start(r->w, &r->node, r->w->now + r->period);
}

struct recset {
	struct timer_wheel w;
	struct rec r[16];
	int log[4096];
	uint64_t log_at[4096];
	int nlog;
};

static struct recset *recset_new(uint64_t now)
{
	struct recset *s = calloc(1, sizeof(*s));

	timer_wheel_init(&s->w, now);
	for (int i = 0; i < 16; i++) {
		timer_init(&s->r[i].node, rec_fire);
		s->r[i].w = &s->w;
		s->r[i].id = i;
		s->r[i].log = s->log;
		s->r[i].log_at = s->log_at;
		s->r[i].nlog = &s->nlog;
	}
	return s;
}

Test(timer, periodic_rearm_in_one_advance)
{
	struct recset *s = recset_new(0);

	s->r[0].period = 10;
	s->r[0].remaining = 1000;
	timer_start(&s->w, &s->r[0].node, 10);
	cr_assert_eq(timer_wheel_advance(&s->w, 1000), 100, "fires at 10, 20, ... 1000");
	for (int i = 0; i < 100; i++)
		cr_assert_eq(s->log_at[i], (uint64_t)(i + 1) * 10);
	cr_assert(timer_pending(&s->r[0].node));
	cr_assert_eq(s->r[0].node.expires, 1010);
	cr_assert_eq(timer_wheel_next(&s->w), 1010);
	free(s);
}

Test(timer, callback_starts_others)
{
	struct recset *s = recset_new(0);

	/* A at 5 starts B in the past (due at 5), B starts C at 70 (level 1
	 * when started), C moves D from 3000 to 80. */
	s->r[0].kick = &s->r[1];
	s->r[0].kick_at = 2;
	s->r[1].kick = &s->r[2];
	s->r[1].kick_at = 70;
	s->r[2].kick = &s->r[3];
	s->r[2].kick_at = 80;
	timer_start(&s->w, &s->r[0].node, 5);
	timer_start(&s->w, &s->r[3].node, 3000);
	cr_assert_eq(timer_wheel_advance(&s->w, 100), 4);
	int want[] = { 0, 1, 2, 3 };
	uint64_t want_at[] = { 5, 5, 70, 80 };
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(s->log[i], want[i]);
		cr_assert_eq(s->log_at[i], want_at[i]);
	}
	cr_assert_eq(s->w.count, 0);
	cr_assert_eq(timer_wheel_next(&s->w), UINT64_MAX);
	free(s);
}

Test(timer, stop_from_callback)
{
	struct recset *s = recset_new(0);

	/* Same slot: whichever of 0 and 1 runs first stops the other. */
	s->r[0].victim = &s->r[1];
	s->r[1].victim = &s->r[0];
	timer_start(&s->w, &s->r[0].node, 10);
	timer_start(&s->w, &s->r[1].node, 10);
	/* Another slot, another level: 2 at 11 stops 3 at 500. */
	s->r[2].victim = &s->r[3];
	timer_start(&s->w, &s->r[2].node, 11);
	timer_start(&s->w, &s->r[3].node, 500);
	/* A callback that stops itself after re-arming: 4 re-arms, then 5 at
	 * the same time stops it. */
	s->r[4].period = 1;
	s->r[4].remaining = 1;
	s->r[5].victim = &s->r[4];
	timer_start(&s->w, &s->r[4].node, 20);
	timer_start(&s->w, &s->r[5].node, 21);
	/* and the re-armed 4 would fire at 21 too: 5 might run first and stop it
	 * or run second; either way 4 fires at most twice. */

	unsigned got = timer_wheel_advance(&s->w, 1000);
	cr_assert_eq(got, (unsigned)s->nlog);
	int count[16] = { 0 };
	for (int i = 0; i < s->nlog; i++)
		count[s->log[i]]++;
	cr_assert_eq(count[0] + count[1], 1, "one of a pair stopped the other");
	cr_assert_eq(count[2], 1);
	cr_assert_eq(count[3], 0, "stopped from a callback before its time");
	cr_assert_eq(count[5], 1);
	cr_assert(count[4] == 1 || count[4] == 2);
	cr_assert_eq(s->w.count, 0);
	cr_assert_not(timer_pending(&s->r[3].node));
	free(s);
}

Test(timer, stop_and_restart_semantics)
{
	struct recset *s = recset_new(100);

	timer_stop(&s->w, &s->r[0].node);          /* idle: no-op */
	cr_assert_eq(s->w.count, 0);
	timer_start(&s->w, &s->r[0].node, 150);
	timer_start(&s->w, &s->r[0].node, 150);    /* move to the same place */
	timer_start(&s->w, &s->r[0].node, 90);     /* move into the past: due now */
	cr_assert_eq(s->w.count, 1);
	cr_assert_eq(timer_wheel_next(&s->w), 100, "a due timer counts as expiring now");
	timer_stop(&s->w, &s->r[0].node);
	timer_stop(&s->w, &s->r[0].node);
	cr_assert_eq(s->w.count, 0);
	cr_assert_eq(timer_wheel_next(&s->w), UINT64_MAX);
	cr_assert_eq(timer_wheel_advance(&s->w, 10000), 0);

	timer_start(&s->w, &s->r[1].node, 5);      /* before the wheel's 10000 */
	cr_assert_eq(timer_wheel_advance(&s->w, 10000), 1, "an expiry <= now fires next advance");
	cr_assert_eq(s->log_at[0], 10000);
	cr_assert_eq(timer_wheel_advance(&s->w, 50), 0, "time does not go back");
	cr_assert_eq(s->w.now, 10000);
	timer_start(&s->w, &s->r[2].node, 9999);
	cr_assert_eq(timer_wheel_advance(&s->w, 50), 1, "a now behind the wheel still serves due timers");
	cr_assert_eq(s->log_at[1], 10000);
	free(s);
}

static void rearm_now(struct timer_node *node)
{
	struct rec *r = DTCP_CONTAINER_OF(node, struct rec, node);

	(*r->nlog)++;
	timer_start(r->w, node, r->w->now);
}

Test(timer, budget_bounds_a_runaway_callback)
{
	struct recset *s = recset_new(0);

	timer_wheel_set_budget(&s->w, 100);
	s->r[0].node.fn = rearm_now;
	timer_start(&s->w, &s->r[0].node, 7);
	timer_start(&s->w, &s->r[1].node, 8);
	cr_assert_eq(timer_wheel_advance(&s->w, 50), 100, "stopped by the budget");
	cr_assert_eq(s->nlog, 100);
	cr_assert_eq(s->w.now, 7, "time stays where the work is");
	cr_assert_leq(timer_wheel_next(&s->w), 50, "the caller can see more is due");
	cr_assert(timer_pending(&s->r[1].node), "8 never ran ahead of 7");
	timer_stop(&s->w, &s->r[0].node);
	cr_assert_eq(timer_wheel_advance(&s->w, 50), 1);
	cr_assert_eq(s->log_at[100], 8);
	cr_assert_eq(s->w.now, 50);
	free(s);
}

struct ordered {
	struct timer_node node;
	uint64_t *last;
	struct timer_wheel *w;
};

static void ordered_fire(struct timer_node *node)
{
	struct ordered *o = DTCP_CONTAINER_OF(node, struct ordered, node);

	cr_assert_eq(o->w->now, node->expires);
	cr_assert_geq(node->expires, *o->last);
	*o->last = node->expires;
}

Test(timer, budget_resumes_in_order)
{
	struct timer_wheel w;
	struct ordered *o = calloc(1000, sizeof(*o));
	uint64_t last = 0;
	unsigned total = 0, got;
	int calls = 0;

	timer_wheel_init(&w, 0);
	timer_wheel_set_budget(&w, 300);
	for (int i = 0; i < 1000; i++) {
		timer_init(&o[i].node, ordered_fire);
		o[i].last = &last;
		o[i].w = &w;
		timer_start(&w, &o[i].node, i < 500 ? 5 : 6 + (uint64_t)i * 1000);
	}
	do {
		got = timer_wheel_advance(&w, 2000000);
		total += got;
		calls++;
	} while (got == 300);
	cr_assert_eq(total, 1000);
	cr_assert_eq(calls, 4, "300 + 300 + 300 + 100");
	cr_assert_eq(w.count, 0);
	free(o);
}

/* ---- cost ----------------------------------------------------------------- */

Test(timer, sparse_big_jump_costs_no_ticks)
{
	struct recset *s = recset_new(0);
	uint64_t at[] = { 60000, 60001, 1000000, UINT64_C(1) << 40, UINT64_MAX };

	for (int i = 0; i < 5; i++)
		timer_start(&s->w, &s->r[i].node, at[i]);
	cr_assert_eq(timer_wheel_next(&s->w), 57344, "start of level 2 slot 14: a lower bound");
	cr_assert_eq(timer_wheel_advance(&s->w, 58000), 0);
	cr_assert_eq(timer_wheel_next(&s->w), 59968, "one level finer after the cascade");
	cr_assert_eq(timer_wheel_advance(&s->w, 59999), 0);
	cr_assert_eq(timer_wheel_next(&s->w), 60000, "exact once in level 0");
	cr_assert_eq(timer_wheel_advance(&s->w, 60000), 1);
	cr_assert_eq(timer_wheel_next(&s->w), 60001);
	cr_assert_eq(timer_wheel_advance(&s->w, UINT64_C(1) << 41), 3);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(s->log_at[i], at[i]);
	cr_assert_eq(timer_wheel_advance(&s->w, UINT64_MAX), 1);
	cr_assert_eq(s->log_at[4], UINT64_MAX);
	/* Work is bounded by fires plus one cascade per level per timer,
	 * against 2^64 elapsed ticks. */
	cr_assert_leq(s->w.steps, 5 + 5 * (TIMER_LEVELS - 1));
	cr_assert_leq(s->w.cascaded, 5 * (TIMER_LEVELS - 1));
	free(s);
}

Test(timer, empty_wheel_jump)
{
	struct timer_wheel w;

	timer_wheel_init(&w, 17);
	cr_assert_eq(timer_wheel_next(&w), UINT64_MAX);
	cr_assert_eq(timer_wheel_advance(&w, UINT64_C(1) << 50), 0);
	cr_assert_eq(w.now, UINT64_C(1) << 50);
	cr_assert_eq(w.steps, 0);
}

/* ---- one million timers -------------------------------------------------- */

struct big {
	struct timer_node node;
	struct bigset *set;
	uint32_t fired;
	uint32_t at_call;   /* index of the advance call that fired it */
};

struct bigset {
	struct timer_wheel w;
	uint32_t call;
	uint64_t bad_time;
};

static void big_fire(struct timer_node *node)
{
	struct big *b = DTCP_CONTAINER_OF(node, struct big, node);

	/* cr_assert per timer is slow at this scale: count, assert once. */
	b->set->bad_time += b->set->w.now != node->expires;
	b->fired++;
	b->at_call = b->set->call;
}

Test(timer, million_timers)
{
	enum { N = 1000000 };
	struct big *b = calloc(N, sizeof(*b));
	struct bigset *set = calloc(1, sizeof(*set));
	uint64_t rng = 0x9e3779b97f4a7c15;
	uint64_t base = 1000, horizon = 4000000;
	uint64_t jumps[64];
	int njumps = 0;

	timer_wheel_init(&set->w, base);
	timer_wheel_set_budget(&set->w, UINT32_MAX);
	for (uint32_t i = 0; i < N; i++) {
		timer_init(&b[i].node, big_fire);
		b[i].set = set;
		timer_start(&set->w, &b[i].node, base + 1 + rng_next(&rng) % horizon);
	}
	for (uint32_t i = 0; i < N; i += 2)
		timer_start(&set->w, &b[i].node, base + 1 + rng_next(&rng) % horizon);
	/* a quarter: half of them moved first, half not */
	for (uint32_t i = 0; i < N; i++)
		if (i % 8 < 2)
			timer_stop(&set->w, &b[i].node);
	cr_assert_eq(set->w.count, N - N / 4);

	/* Big uneven jumps, up to ~10% of the horizon each. */
	uint64_t now = base;
	while (now < base + horizon + 1) {
		now += 1 + rng_next(&rng) % (horizon / 10);
		jumps[njumps] = now;
		set->call = (uint32_t)njumps;
		timer_wheel_advance(&set->w, now);
		njumps++;
		cr_assert_lt(njumps, 64);
	}
	cr_assert_eq(set->bad_time, 0, "every timer fired at its own time");
	cr_assert_eq(set->w.count, 0);

	uint32_t stopped = 0, wrong = 0;
	for (uint32_t i = 0; i < N; i++) {
		if (i % 8 < 2) {
			stopped += b[i].fired == 0;
			continue;
		}
		/* the first advance whose now reaches the expiry */
		int want = 0;
		while (jumps[want] < b[i].node.expires)
			want++;
		wrong += b[i].fired != 1 || b[i].at_call != (uint32_t)want;
	}
	cr_assert_eq(stopped, N / 4, "stopped timers never fire");
	cr_assert_eq(wrong, 0, "each live timer fired once, in the right advance");
	/* Amortized cost: every fire plus at most one cascade per level. */
	cr_assert_leq(set->w.cascaded, (uint64_t)(N - N / 4) * (TIMER_LEVELS - 1));
	free(b);
	free(set);
}
