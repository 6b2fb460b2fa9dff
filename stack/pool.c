/* Typed object pools (see pool.h). Slabs grow geometrically up to 64 Ki
 * objects so small stacks stay small and large ones take few mallocs. */
#include "pool.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bigmem.h"
#include "util.h"

struct pool_slab {
	struct pool_slab *next;
	size_t bytes;                  /* the region's length */
	/* objects follow, 16-byte aligned */
};

#define MAP_AHEAD ((uintptr_t)256 << 10)
/* Objects start 128 bytes into the (page-aligned) slab: an object whose
 * size is a multiple of 128 sits on 128-byte pairs of cache lines, which
 * the hardware fetches together. */
#define SLAB_HDR ((size_t)128)
_Static_assert(sizeof(struct pool_slab) <= 128, "the slab header fits before the objects");

void pool_init(struct pool *p, const char *name, uint32_t obj_size, uint64_t limit)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	if (obj_size < sizeof(void *))
		obj_size = sizeof(void *);
	p->obj_size = (obj_size + 7) & ~UINT32_C(7);
	p->per_slab = 64;
	p->limit = limit;
}

void pool_fini(struct pool *p)
{
	struct pool_slab *s = p->slabs, *next;

	for (; s; s = next) {
		next = s->next;
		bigmem_free(s, s->bytes);
	}
	p->slabs = NULL;
	p->free_list = NULL;
	p->fresh = NULL;
	p->fresh_left = 0;
}

/* A new slab. Its objects are handed out in address order straight from
 * it, not threaded onto the free list first: that would touch every object
 * twice and read each one's link back from memory long since evicted. The
 * region comes zeroed (bigmem), so a never-used object needs no memset:
 * the application's first write is its first touch. Small pages: objects
 * are touched in address order, so their TLB cost is low, and on virtual
 * machines whose host backs memory lazily, huge pages made the first
 * touch of a 1,000,000-flow run's sockets take from 5 to 57 % of the run
 * (perf), and the rate vary twofold from run to run. */
static int pool_grow(struct pool *p)
{
	uint64_t room = p->limit - p->in_use;
	uint32_t n = p->per_slab;
	struct pool_slab *s;
	size_t bytes;

	if (n > room)
		n = (uint32_t)room;
	bytes = SLAB_HDR + (size_t)n * p->obj_size;
	s = bigmem_zalloc(bytes, 0);
	if (!s)
		return -1;
	s->bytes = bytes;
	s->next = p->slabs;
	p->slabs = s;
	p->fresh = (char *)s + SLAB_HDR;
	p->fresh_left = n;
	p->mapped_to = p->fresh;
	if (p->per_slab < 65536)
		p->per_slab *= 2;
	return 0;
}

/* Map the fresh objects' next pages in one call rather than one fault
 * per page: the objects are taken in address order, and a fault costs
 * several times the page's share of the call. Best effort (Linux 5.14's
 * MADV_POPULATE_WRITE); without it the pages fault in one by one. */
static void pool_map_ahead(struct pool *p)
{
	uintptr_t from = (uintptr_t)p->fresh & ~(uintptr_t)4095;
	char *end = p->fresh + (size_t)p->fresh_left * p->obj_size;
	char *to = (char *)(from + MAP_AHEAD) < end ? (char *)(from + MAP_AHEAD) : end;

#ifdef MADV_POPULATE_WRITE
	(void)madvise((void *)from, (size_t)(to - (char *)from), MADV_POPULATE_WRITE);
#endif
	p->mapped_to = to;
}

/* A fresh object's lines are in no cache yet: ask for all of them (at most
 * 512 bytes) at once, so that they arrive together rather than one miss
 * after another as the caller first touches each. */
static void pool_prefetch(const struct pool *p, const char *obj)
{
	uint32_t n = p->obj_size < 512 ? p->obj_size : 512;

	for (uint32_t off = 0; off < n; off += 64)
		__builtin_prefetch(obj + off, 1, 3);
}

/* An object; zeroed when zero asks and it was used before (a fresh one is
 * zero already). */
static void *pool_take(struct pool *p, bool zero)
{
	void *obj;

	if (p->in_use >= p->limit) {
		p->failures++;
		return NULL;
	}
	if (p->free_list) {
		obj = p->free_list;
		p->free_list = *(void **)obj;
	} else {
		if (!p->fresh_left && pool_grow(p) < 0) {
			p->failures++;
			return NULL;
		}
		obj = p->fresh;
		p->fresh += p->obj_size;
		p->fresh_left--;
		zero = false;
		if (p->fresh > p->mapped_to)
			pool_map_ahead(p);
		pool_prefetch(p, obj);
	}
	if (zero)
		memset(obj, 0, p->obj_size);
	p->in_use++;
	if (p->in_use > p->high_water)
		p->high_water = p->in_use;
	return obj;
}

void *pool_get(struct pool *p)
{
	return pool_take(p, true);
}

void *pool_get_raw(struct pool *p)
{
	return pool_take(p, false);
}

void pool_put(struct pool *p, void *obj)
{
	DTCP_ASSERT(p->in_use > 0);
	*(void **)obj = p->free_list;
	p->free_list = obj;
	p->in_use--;
}
