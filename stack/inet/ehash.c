/* The established table (see ehash.h). */
#include "inet/ehash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "bigmem.h"

int ehash_init(struct ehash *eh, uint32_t entries, uint64_t seed)
{
	/* Groups for entries at 4 per group (of 7): probes stay short. The
	 * pages stay unmapped until used, and are huge where the system
	 * allows: every lookup lands on a random line of the table, and with
	 * small pages most of them would also miss the TLB. */
	uint32_t groups = roundup_pow2_u32(entries / 4 > 0 ? (entries + 3) / 4 : 1);

	memset(eh, 0, sizeof(*eh));
	eh->bytes = (size_t)groups * sizeof(*eh->groups);
	eh->groups = bigmem_zalloc(eh->bytes, BIGMEM_HUGE);
	if (!eh->groups)
		return -ENOMEM;
	eh->mask = groups - 1;
	eh->seed = seed;
	return 0;
}

void ehash_fini(struct ehash *eh)
{
	bigmem_free(eh->groups, eh->bytes);
	eh->groups = NULL;
}

uint64_t ehash_hash(const struct ehash *eh, const struct in6_addr *l, uint16_t lport,
                    const struct in6_addr *f, uint16_t fport)
{
	uint64_t h = eh->seed ^ ((uint64_t)lport << 16 | fport);

	h = mix64(h ^ ((uint64_t)l->s6_addr32[2] << 32 | l->s6_addr32[3]), eh->seed);
	h = mix64(h ^ ((uint64_t)f->s6_addr32[2] << 32 | f->s6_addr32[3]), eh->seed);
	/* The upper halves are constant for IPv4 (mapped); mix them only for IPv6. */
	if (!addr_is_mapped(l) || !addr_is_mapped(f)) {
		h = mix64(h ^ ((uint64_t)l->s6_addr32[0] << 32 | l->s6_addr32[1]), eh->seed);
		h = mix64(h ^ ((uint64_t)f->s6_addr32[0] << 32 | f->s6_addr32[1]), eh->seed);
	}
	return h;
}

/* The tag: the top byte, never 0 (0 marks an empty slot). */
static inline uint8_t hash_tag(uint64_t h)
{
	uint8_t t = (uint8_t)(h >> 56);

	return t ? t : 1;
}

static inline bool sk_matches(const struct inet_sock *sk, const struct in6_addr *l, uint16_t lport,
                              const struct in6_addr *f, uint16_t fport)
{
	return sk->num == lport && sk->dport == fport && addr_eq(&sk->daddr, f) && addr_eq(&sk->rcv_saddr, l);
}

void ehash_insert(struct ehash *eh, struct inet_sock *sk)
{
	ehash_insert_h(eh, sk, ehash_hash(eh, &sk->rcv_saddr, sk->num, &sk->daddr, sk->dport));
}

/* Write sk into the first free slot from its home group on. */
static void place(struct ehash *eh, struct inet_sock *sk, uint64_t h)
{
	uint32_t g = (uint32_t)h & eh->mask;
	uint8_t tag = hash_tag(h);

	/* Sized never to fill (ehash_init), so this ends within the table. */
	for (uint32_t probes = 0; probes <= eh->mask; probes++, g = (g + 1) & eh->mask) {
		struct ehash_group *grp = &eh->groups[g];

		for (int s = 0; s < EHASH_GROUP_SLOTS; s++) {
			if (!grp->tag[s]) {
				grp->tag[s] = tag;
				grp->sk[s] = sk;
				return;
			}
		}
		if (grp->overflow < 255)
			grp->overflow++;
	}
	DTCP_ASSERT(!"established table full");
}

void ehash_flush(struct ehash *eh)
{
	struct inet_sock *sk = eh->pending;

	if (sk) {
		eh->pending = NULL;
		place(eh, sk, eh->pending_h);
	}
}

void ehash_insert_h(struct ehash *eh, struct inet_sock *sk, uint64_t h)
{
	DTCP_ASSERT(!sk->ehashed);
	ehash_flush(eh);
	place(eh, sk, h);
	sk->ehashed = 1;
	eh->count++;
}

void ehash_insert_later(struct ehash *eh, struct inet_sock *sk, uint64_t h)
{
	DTCP_ASSERT(!sk->ehashed);
	ehash_flush(eh);
	eh->pending = sk;
	eh->pending_h = h;
	sk->ehashed = 1;
	eh->count++;
}

void ehash_remove(struct ehash *eh, struct inet_sock *sk)
{
	uint64_t h;
	uint32_t g, home;

	if (!sk->ehashed)
		return;
	if (sk == eh->pending) {
		eh->pending = NULL;
		sk->ehashed = 0;
		eh->count--;
		return;
	}
	h = ehash_hash(eh, &sk->rcv_saddr, sk->num, &sk->daddr, sk->dport);
	home = g = (uint32_t)h & eh->mask;
	for (;;) {
		struct ehash_group *grp = &eh->groups[g];

		for (int s = 0; s < EHASH_GROUP_SLOTS; s++) {
			if (grp->sk[s] != sk)
				continue;
			grp->sk[s] = NULL;
			grp->tag[s] = 0;
			/* The groups it had passed no longer count it. */
			for (uint32_t p = home; p != g; p = (p + 1) & eh->mask)
				if (eh->groups[p].overflow < 255)
					eh->groups[p].overflow--;
			sk->ehashed = 0;
			eh->count--;
			return;
		}
		DTCP_ASSERT(grp->overflow);
		g = (g + 1) & eh->mask;
	}
}

struct inet_sock *ehash_lookup(const struct ehash *eh, const struct in6_addr *laddr, uint16_t lport,
                               const struct in6_addr *faddr, uint16_t fport)
{
	return ehash_lookup_h(eh, ehash_hash(eh, laddr, lport, faddr, fport), laddr, lport, faddr, fport);
}

struct inet_sock *ehash_lookup_h(const struct ehash *eh, uint64_t h, const struct in6_addr *laddr, uint16_t lport,
                                 const struct in6_addr *faddr, uint16_t fport)
{
	uint32_t g = (uint32_t)h & eh->mask;
	uint8_t tag = hash_tag(h);

	if (eh->pending && eh->pending_h == h && sk_matches(eh->pending, laddr, lport, faddr, fport))
		return eh->pending;
	for (uint32_t probes = 0; probes <= eh->mask; probes++, g = (g + 1) & eh->mask) {
		const struct ehash_group *grp = &eh->groups[g];

		for (int s = 0; s < EHASH_GROUP_SLOTS; s++)
			if (grp->tag[s] == tag && sk_matches(grp->sk[s], laddr, lport, faddr, fport))
				return grp->sk[s];
		if (!grp->overflow)
			break;
	}
	return NULL;
}
