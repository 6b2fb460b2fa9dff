/* The established table (see ehash.h). */
#include "inet/ehash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int ehash_init(struct ehash *eh, uint32_t buckets, uint64_t seed)
{
	memset(eh, 0, sizeof(*eh));
	buckets = roundup_pow2_u32(buckets);
	eh->buckets = calloc(buckets, sizeof(*eh->buckets));
	if (!eh->buckets)
		return -ENOMEM;
	eh->mask = buckets - 1;
	eh->seed = seed;
	return 0;
}

void ehash_fini(struct ehash *eh)
{
	free(eh->buckets);
	eh->buckets = NULL;
}

static uint32_t ehash_index(const struct ehash *eh, const struct in6_addr *l, uint16_t lport,
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
	return (uint32_t)h & eh->mask;
}

void ehash_insert(struct ehash *eh, struct inet_sock *sk)
{
	DTCP_ASSERT(hlist_unhashed(&sk->hash_node));
	hlist_add_head(&sk->hash_node, &eh->buckets[ehash_index(eh, &sk->rcv_saddr, sk->num, &sk->daddr, sk->dport)]);
	eh->count++;
}

void ehash_remove(struct ehash *eh, struct inet_sock *sk)
{
	if (hlist_unhashed(&sk->hash_node))
		return;
	hlist_del(&sk->hash_node);
	eh->count--;
}

struct inet_sock *ehash_lookup(const struct ehash *eh, const struct in6_addr *laddr, uint16_t lport,
                               const struct in6_addr *faddr, uint16_t fport)
{
	struct hnode *n;

	hlist_for_each(n, &eh->buckets[ehash_index(eh, laddr, lport, faddr, fport)]) {
		struct inet_sock *sk = DTCP_CONTAINER_OF(n, struct inet_sock, hash_node);

		if (sk->num == lport && sk->dport == fport && addr_eq(&sk->daddr, faddr) &&
		    addr_eq(&sk->rcv_saddr, laddr))
			return sk;
	}
	return NULL;
}
