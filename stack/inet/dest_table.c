/* Per-destination occupancy (see dest_table.h). */
#include "inet/dest_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define DEST_SPARSE_BACK 4   /* a dense entry this small goes back inline */

int dest_table_init(struct dest_table *dt, uint32_t buckets, uint64_t max_entries, uint64_t seed)
{
	memset(dt, 0, sizeof(*dt));
	buckets = roundup_pow2_u32(buckets);
	dt->buckets = calloc(buckets, sizeof(*dt->buckets));
	if (!dt->buckets)
		return -ENOMEM;
	dt->mask = buckets - 1;
	dt->seed = seed;
	pool_init(&dt->entry_pool, "dest_entry", sizeof(struct dest_entry), max_entries);
	pool_init(&dt->dense_pool, "dest_dense", sizeof(struct dest_dense), max_entries);
	pool_init(&dt->chunk_pool, "dest_chunk", DEST_CHUNK_WORDS * sizeof(uint64_t), max_entries);
	return 0;
}

void dest_table_fini(struct dest_table *dt)
{
	pool_fini(&dt->entry_pool);
	pool_fini(&dt->dense_pool);
	pool_fini(&dt->chunk_pool);
	free(dt->buckets);
	dt->buckets = NULL;
}

static uint32_t dest_index(const struct dest_table *dt, const struct in6_addr *l,
                           const struct in6_addr *f, uint16_t fport)
{
	uint64_t h = dt->seed ^ fport;

	h = mix64(h ^ ((uint64_t)l->s6_addr32[0] << 32 | l->s6_addr32[1]), dt->seed);
	h = mix64(h ^ ((uint64_t)l->s6_addr32[2] << 32 | l->s6_addr32[3]), dt->seed);
	h = mix64(h ^ ((uint64_t)f->s6_addr32[0] << 32 | f->s6_addr32[1]), dt->seed);
	h = mix64(h ^ ((uint64_t)f->s6_addr32[2] << 32 | f->s6_addr32[3]), dt->seed);
	return (uint32_t)h & dt->mask;
}

struct dest_entry *dest_lookup(const struct dest_table *dt, const struct in6_addr *laddr,
                               const struct in6_addr *faddr, uint16_t fport)
{
	struct hnode *n;

	hlist_for_each(n, &dt->buckets[dest_index(dt, laddr, faddr, fport)]) {
		struct dest_entry *e = DTCP_CONTAINER_OF(n, struct dest_entry, node);

		if (e->fport == fport && addr_eq(&e->faddr, faddr) && addr_eq(&e->laddr, laddr))
			return e;
	}
	return NULL;
}

/* Recompute the summary bits of the word holding port. */
static void dense_summarise(struct dest_dense *d, uint16_t port)
{
	uint32_t c = port / (DEST_CHUNK_WORDS * 64), o = (port / 64) % DEST_CHUNK_WORDS;
	uint64_t live = d->live[c] ? d->live[c][o] : 0, all = live | (d->tw[c] ? d->tw[c][o] : 0);
	uint64_t bit = UINT64_C(1) << o;

	d->full_live[c][0] = (live & PORTS_EVEN) == PORTS_EVEN ? d->full_live[c][0] | bit : d->full_live[c][0] & ~bit;
	d->full_live[c][1] = (live & PORTS_ODD) == PORTS_ODD ? d->full_live[c][1] | bit : d->full_live[c][1] & ~bit;
	d->full_all[c][0] = (all & PORTS_EVEN) == PORTS_EVEN ? d->full_all[c][0] | bit : d->full_all[c][0] & ~bit;
	d->full_all[c][1] = (all & PORTS_ODD) == PORTS_ODD ? d->full_all[c][1] | bit : d->full_all[c][1] & ~bit;
}

/* Set or clear one port in the live (tw false) or TIME_WAIT set of a dense
 * entry; a chunk is allocated on first use and freed when empty. */
static int dense_set(struct dest_table *dt, struct dest_dense *d, bool tw, uint16_t port)
{
	uint64_t **chunks = tw ? d->tw : d->live;
	uint16_t *cnt = tw ? d->tw_cnt : d->live_cnt;
	uint32_t c = port / (DEST_CHUNK_WORDS * 64);
	uint32_t bit = port % (DEST_CHUNK_WORDS * 64);

	if (!chunks[c]) {
		chunks[c] = pool_get(&dt->chunk_pool);
		if (!chunks[c])
			return -ENOBUFS;
	}
	DTCP_ASSERT(!bitmap_test(chunks[c], bit));
	bitmap_set(chunks[c], bit);
	cnt[c]++;
	if (tw)
		d->ntw++;
	else
		d->nlive++;
	dense_summarise(d, port);
	return 0;
}

static void dense_clear(struct dest_table *dt, struct dest_dense *d, bool tw, uint16_t port)
{
	uint64_t **chunks = tw ? d->tw : d->live;
	uint16_t *cnt = tw ? d->tw_cnt : d->live_cnt;
	uint32_t c = port / (DEST_CHUNK_WORDS * 64);
	uint32_t bit = port % (DEST_CHUNK_WORDS * 64);

	DTCP_ASSERT(chunks[c] && bitmap_test(chunks[c], bit));
	bitmap_clear(chunks[c], bit);
	if (--cnt[c] == 0) {
		pool_put(&dt->chunk_pool, chunks[c]);
		chunks[c] = NULL;
	}
	if (tw)
		d->ntw--;
	else
		d->nlive--;
	dense_summarise(d, port);
}

static void dense_free(struct dest_table *dt, struct dest_dense *d)
{
	for (int c = 0; c < DEST_CHUNKS; c++) {
		if (d->live[c])
			pool_put(&dt->chunk_pool, d->live[c]);
		if (d->tw[c])
			pool_put(&dt->chunk_pool, d->tw[c]);
	}
	pool_put(&dt->dense_pool, d);
}

/* Inline -> bitmaps, when a ninth port arrives. */
static int dest_make_dense(struct dest_table *dt, struct dest_entry *e)
{
	struct dest_dense *d = pool_get(&dt->dense_pool);

	if (!d)
		return -ENOBUFS;
	for (uint32_t i = 0; i < e->nsparse; i++) {
		int err = dense_set(dt, d, e->tw_mask & (1u << i), e->u.ports[i]);

		if (err) {
			dense_free(dt, d);
			return err;
		}
	}
	e->u.dense = d;
	e->nsparse = DEST_DENSE;
	return 0;
}

/* Bitmaps -> inline, when few ports remain (bounded: at most 4 chunks). */
static void dest_make_sparse(struct dest_table *dt, struct dest_entry *e)
{
	struct dest_dense *d = e->u.dense;
	uint16_t ports[DEST_SPARSE_MAX];
	uint8_t n = 0, tw_mask = 0;

	for (int kind = 0; kind < 2; kind++) {
		uint64_t **chunks = kind ? d->tw : d->live;

		for (uint32_t c = 0; c < DEST_CHUNKS; c++) {
			if (!chunks[c])
				continue;
			for (uint32_t w = 0; w < DEST_CHUNK_WORDS; w++) {
				uint64_t bits = chunks[c][w];

				while (bits) {
					uint32_t b = (uint32_t)__builtin_ctzll(bits);

					bits &= bits - 1;
					DTCP_ASSERT(n < DEST_SPARSE_MAX);
					if (kind)
						tw_mask |= (uint8_t)(1u << n);
					ports[n++] = (uint16_t)(c * DEST_CHUNK_WORDS * 64 + w * 64 + b);
				}
			}
		}
	}
	dense_free(dt, d);
	memcpy(e->u.ports, ports, sizeof(ports));
	e->nsparse = n;
	e->tw_mask = tw_mask;
}

int dest_add(struct dest_table *dt, struct inet_sock *sk)
{
	struct dest_entry *e = dest_lookup(dt, &sk->rcv_saddr, &sk->daddr, sk->dport);
	bool created = false;
	int err;

	if (!e) {
		e = pool_get(&dt->entry_pool);
		if (!e)
			return -ENOBUFS;
		e->laddr = sk->rcv_saddr;
		e->faddr = sk->daddr;
		e->fport = sk->dport;
		hlist_add_head(&e->node, &dt->buckets[dest_index(dt, &e->laddr, &e->faddr, e->fport)]);
		created = true;
	}
	if (e->nsparse < DEST_SPARSE_MAX) {
		e->u.ports[e->nsparse] = sk->num;
		e->tw_mask &= (uint8_t)~(1u << e->nsparse);
		e->nsparse++;
		sk->dest = e;
		sk->dest_tw = 0;
		return 0;
	}
	if (e->nsparse != DEST_DENSE) {
		err = dest_make_dense(dt, e);
		if (err)
			goto fail;
	}
	err = dense_set(dt, e->u.dense, false, sk->num);
	if (err)
		goto fail;
	sk->dest = e;
	sk->dest_tw = 0;
	return 0;
fail:
	if (created) {
		hlist_del(&e->node);
		pool_put(&dt->entry_pool, e);
	}
	return err;
}

static int sparse_find(const struct dest_entry *e, uint16_t port, bool tw)
{
	for (int i = 0; i < e->nsparse; i++)
		if (e->u.ports[i] == port && (bool)(e->tw_mask & (1u << i)) == tw)
			return i;
	return -1;
}

void dest_del(struct dest_table *dt, struct inet_sock *sk)
{
	struct dest_entry *e = sk->dest;
	bool tw = sk->dest_tw;

	if (!e)
		return;
	sk->dest = NULL;
	sk->dest_tw = 0;
	if (e->nsparse != DEST_DENSE) {
		int i = sparse_find(e, sk->num, tw);
		int last = e->nsparse - 1;

		DTCP_ASSERT(i >= 0 && (bool)(e->tw_mask & (1u << i)) == tw);
		/* Move the last slot into the hole, with its TIME_WAIT bit. */
		e->u.ports[i] = e->u.ports[last];
		if (e->tw_mask & (1u << last))
			e->tw_mask |= (uint8_t)(1u << i);
		else
			e->tw_mask &= (uint8_t)~(1u << i);
		e->tw_mask &= (uint8_t)~(1u << last);
		e->nsparse--;
	} else {
		struct dest_dense *d = e->u.dense;

		dense_clear(dt, d, tw, sk->num);
		if (d->nlive + d->ntw <= DEST_SPARSE_BACK)
			dest_make_sparse(dt, e);
	}
	if (e->nsparse == 0) {
		hlist_del(&e->node);
		pool_put(&dt->entry_pool, e);
	}
}

int dest_to_timewait(struct dest_table *dt, struct inet_sock *sk)
{
	struct dest_entry *e = sk->dest;

	if (!e)
		return 0;
	if (e->nsparse != DEST_DENSE) {
		int i = sparse_find(e, sk->num, false);

		DTCP_ASSERT(i >= 0);
		e->tw_mask |= (uint8_t)(1u << i);
		sk->dest_tw = 1;
		return 0;
	}
	struct dest_dense *d = e->u.dense;
	int err = dense_set(dt, d, true, sk->num);

	if (err)
		return err;
	dense_clear(dt, d, false, sk->num);
	sk->dest_tw = 1;
	return 0;
}
