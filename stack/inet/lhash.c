/* The listener table (see lhash.h). */
#include "inet/lhash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int lhash_init(struct lhash *lh, uint32_t buckets, uint64_t seed)
{
	memset(lh, 0, sizeof(*lh));
	buckets = roundup_pow2_u32(buckets);
	lh->buckets = calloc(buckets, sizeof(*lh->buckets));
	if (!lh->buckets)
		return -ENOMEM;
	lh->mask = buckets - 1;
	lh->seed = seed;
	return 0;
}

void lhash_fini(struct lhash *lh)
{
	free(lh->buckets);
	lh->buckets = NULL;
}

static uint32_t lhash_index(const struct lhash *lh, const struct in6_addr *a, uint16_t port)
{
	uint64_t h = mix64(((uint64_t)a->s6_addr32[0] << 32 | a->s6_addr32[1]) ^ port, lh->seed);

	h = mix64(h ^ ((uint64_t)a->s6_addr32[2] << 32 | a->s6_addr32[3]), lh->seed);
	return (uint32_t)h & lh->mask;
}

void lhash_insert(struct lhash *lh, struct inet_sock *sk)
{
	struct inet_sock **head = &lh->buckets[lhash_index(lh, &sk->rcv_saddr, sk->num)];

	DTCP_ASSERT(!sk->lhashed && !sk->dest);
	sk->lnext = *head;
	*head = sk;
	sk->lhashed = 1;
	lh->count++;
}

/* Listeners are few per bucket: removal walks the bucket's chain. */
void lhash_remove(struct lhash *lh, struct inet_sock *sk)
{
	struct inet_sock **pp;

	if (!sk->lhashed)
		return;
	for (pp = &lh->buckets[lhash_index(lh, &sk->rcv_saddr, sk->num)]; *pp != sk; pp = &(*pp)->lnext)
		DTCP_ASSERT(*pp);
	*pp = sk->lnext;
	sk->lnext = NULL;
	sk->lhashed = 0;
	lh->count--;
}

static struct inet_sock *lhash_find(const struct lhash *lh, const struct in6_addr *a, uint16_t port,
                                    bool v4_packet)
{
	for (struct inet_sock *sk = lh->buckets[lhash_index(lh, a, port)]; sk; sk = sk->lnext) {
		if (sk->num != port || !addr_eq(&sk->rcv_saddr, a))
			continue;
		if (v4_packet && inet_sk_ipv6only(sk))
			continue;
		return sk;
	}
	return NULL;
}

struct inet_sock *lhash_lookup(const struct lhash *lh, const struct in6_addr *daddr, uint16_t dport)
{
	bool v4 = addr_is_mapped(daddr);
	struct in6_addr any;
	struct inet_sock *sk = lhash_find(lh, daddr, dport, v4);

	if (sk)
		return sk;
	if (v4) {
		addr_set_mapped(&any, 0);
		sk = lhash_find(lh, &any, dport, true);
		if (sk)
			return sk;
	}
	memset(&any, 0, sizeof(any));
	return lhash_find(lh, &any, dport, v4);
}
