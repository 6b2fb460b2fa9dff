/* Typed object pools: fixed object size, a limit from the stack's
 * configuration, and in-use / high-water / failure counters. Memory is taken
 * from the system in slabs as the pool grows and returned at pool_fini().
 * Called on the stack's thread only. */
#ifndef DTCP_POOL_H
#define DTCP_POOL_H

#include <stdbool.h>
#include <stdint.h>

struct pool_slab;

struct pool {
	const char *name;
	uint32_t obj_size;
	uint32_t per_slab;
	uint64_t limit;
	uint64_t in_use;
	uint64_t high_water;
	uint64_t failures;
	void *free_list;               /* objects given back */
	char *fresh;                   /* the newest slab's never-used objects ... */
	uint32_t fresh_left;           /* ... and how many */
	char *mapped_to;               /* fresh objects below this are mapped */
	struct pool_slab *slabs;
};

void pool_init(struct pool *p, const char *name, uint32_t obj_size, uint64_t limit);
/* Frees every slab; objects still in use are lost (callers assert in_use == 0 first). */
void pool_fini(struct pool *p);
/* A zeroed object, or NULL (failures counted) at the limit or when memory runs out. */
void *pool_get(struct pool *p);
/* An object with whatever its last user left in it: for callers that
 * initialise every byte they read (packet buffers). */
void *pool_get_raw(struct pool *p);
void pool_put(struct pool *p, void *obj);

/* Whether the next get succeeds without asking the system for memory. */
static inline bool pool_ready(const struct pool *p)
{
	return p->in_use < p->limit && (p->free_list || p->fresh_left);
}

#endif
