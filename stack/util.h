/* Small building blocks shared by every stack module: invariant asserts,
 * intrusive hash-chain lists, bitmaps over port numbers, and a seeded mixer
 * for hash tables. Header only; no state. */
#ifndef DTCP_UTIL_H
#define DTCP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Invariants only: bad input is answered with an errno, never with this. */
#define DTCP_ASSERT(cond)                                                          \
	do {                                                                       \
		if (__builtin_expect(!(cond), 0)) {                                \
			fprintf(stderr, "dtcp: invariant broken at %s:%d: %s\n",   \
			        __FILE__, __LINE__, #cond);                        \
			abort();                                                   \
		}                                                                  \
	} while (0)

#define DTCP_CONTAINER_OF(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* Each argument is evaluated once. */
#define DTCP_MIN(a, b) ({ __typeof__(a) a_ = (a); __typeof__(b) b_ = (b); a_ < b_ ? a_ : b_; })
#define DTCP_MAX(a, b) ({ __typeof__(a) a_ = (a); __typeof__(b) b_ = (b); a_ > b_ ? a_ : b_; })

/* Hash-chain list with O(1) removal (the kernel's hlist shape). */
struct hnode {
	struct hnode *next;
	struct hnode **pprev;
};

struct hhead {
	struct hnode *first;
};

static inline void hlist_add_head(struct hnode *n, struct hhead *h)
{
	n->next = h->first;
	if (n->next)
		n->next->pprev = &n->next;
	h->first = n;
	n->pprev = &h->first;
}

static inline void hlist_del(struct hnode *n)
{
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
}

static inline bool hlist_unhashed(const struct hnode *n)
{
	return n->pprev == NULL;
}

static inline bool hlist_empty(const struct hhead *h)
{
	return h->first == NULL;
}

#define hlist_for_each(pos, head) for ((pos) = (head)->first; (pos); (pos) = (pos)->next)
#define hlist_for_each_safe(pos, tmp, head) \
	for ((pos) = (head)->first; (pos) && ((tmp) = (pos)->next, 1); (pos) = (tmp))

/* Bitmaps of 64-bit words. */
static inline bool bitmap_test(const uint64_t *bm, uint32_t bit)
{
	return (bm[bit >> 6] >> (bit & 63)) & 1;
}

static inline void bitmap_set(uint64_t *bm, uint32_t bit)
{
	bm[bit >> 6] |= UINT64_C(1) << (bit & 63);
}

static inline void bitmap_clear(uint64_t *bm, uint32_t bit)
{
	bm[bit >> 6] &= ~(UINT64_C(1) << (bit & 63));
}

/* Seeded 64-bit mixer for table indexes (not a MAC: the seed is per stack). */
static inline uint64_t mix64(uint64_t x, uint64_t seed)
{
	x ^= seed;
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

static inline uint32_t roundup_pow2_u32(uint32_t v)
{
	if (v <= 1)
		return 1;
	if (v > (UINT32_C(1) << 31))
		return UINT32_C(1) << 31;
	return UINT32_C(1) << (32 - __builtin_clz(v - 1));
}

#endif
