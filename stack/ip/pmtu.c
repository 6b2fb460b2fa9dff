/* The path-MTU table (see pmtu.h). */
#include "ip/pmtu.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "stack.h"

static struct pmtu_entry *slot_of(struct pmtu_cache *c, const struct in6_addr *dst)
{
	uint64_t h = c->seed;

	for (int i = 0; i < 4; i++) {
		uint32_t w;

		memcpy(&w, &dst->s6_addr[i * 4], 4);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	}
	return &c->slots[(h >> 40) & (PMTU_SLOTS - 1)];
}

static uint32_t now_s(struct dtcp_stack *st)
{
	return (uint32_t)(stack_now_ns(st) / 1000000000u) + 1;   /* never 0 */
}

uint32_t pmtu_get(struct dtcp_stack *st, const struct in6_addr *dst, uint32_t dev_mtu)
{
	const struct pmtu_entry *e;

	if (!st->pmtu.slots)
		return dev_mtu;
	e = slot_of(&st->pmtu, dst);
	if (!e->expires_s || !addr_eq(&e->dst, dst) || (int32_t)(now_s(st) - e->expires_s) >= 0)
		return dev_mtu;
	return e->mtu < dev_mtu ? e->mtu : dev_mtu;
}

uint32_t pmtu_report(struct dtcp_stack *st, const struct in6_addr *dst, uint32_t mtu, uint32_t dev_mtu)
{
	uint32_t min = addr_is_mapped(dst) ? PMTU_MIN_V4 : PMTU_MIN_V6;
	uint32_t cur = pmtu_get(st, dst, dev_mtu);
	struct pmtu_entry *e;

	if (mtu < min)
		mtu = min;
	if (mtu >= cur)
		return cur;
	if (!st->pmtu.slots) {
		st->pmtu.slots = calloc(PMTU_SLOTS, sizeof(*st->pmtu.slots));
		if (!st->pmtu.slots)
			return cur;
		st->pmtu.seed = stack_random_u32(st) | (uint64_t)stack_random_u32(st) << 32;
	}
	e = slot_of(&st->pmtu, dst);
	e->dst = *dst;
	e->mtu = (uint16_t)mtu;
	e->expires_s = now_s(st) + PMTU_EXPIRES_S;
	return mtu;
}

void pmtu_fini(struct pmtu_cache *c)
{
	free(c->slots);
	c->slots = NULL;
}
