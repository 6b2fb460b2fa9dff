/* Typed pools: limits and counters. */
#include <criterion/criterion.h>
#include <string.h>

#include "pool.h"

Test(pool, counters_and_limit)
{
	struct pool p;
	void *objs[100];

	pool_init(&p, "t", 24, 100);
	for (int i = 0; i < 100; i++) {
		objs[i] = pool_get(&p);
		cr_assert_not_null(objs[i]);
		for (int j = 0; j < 24; j++)
			cr_assert_eq(((unsigned char *)objs[i])[j], 0, "objects come zeroed");
		memset(objs[i], 0xab, 24);
	}
	cr_assert_eq(p.in_use, 100);
	cr_assert_null(pool_get(&p));
	cr_assert_eq(p.failures, 1);
	for (int i = 0; i < 50; i++)
		pool_put(&p, objs[i]);
	cr_assert_eq(p.in_use, 50);
	cr_assert_eq(p.high_water, 100);
	cr_assert_not_null(pool_get(&p));
	cr_assert_eq(p.in_use, 51);
	pool_fini(&p);
}

Test(pool, distinct_objects)
{
	struct pool p;
	char *a, *b;

	pool_init(&p, "t", 3, 10);
	cr_assert_eq(p.obj_size, 8, "rounded up to hold the free-list link");
	a = pool_get(&p);
	b = pool_get(&p);
	cr_assert(a + 8 <= b || b + 8 <= a);
	pool_put(&p, a);
	cr_assert_eq(pool_get(&p), a, "last freed is reused first");
	pool_fini(&p);
}

/* Fresh objects come zeroed from the system without a memset; a reused one
 * is cleared again by pool_get() and left as it was by pool_get_raw(). */
Test(pool, reused_objects_zeroed_raw_ones_not)
{
	struct pool p;
	unsigned char *a, *b;

	pool_init(&p, "t", 64, 1000);
	a = pool_get(&p);
	memset(a, 0xcd, 64);
	pool_put(&p, a);
	b = pool_get(&p);
	cr_assert_eq(b, a);
	for (int j = 0; j < 64; j++)
		cr_assert_eq(b[j], 0, "a reused object is cleared (byte %d)", j);
	memset(b, 0xcd, 64);
	pool_put(&p, b);
	b = pool_get_raw(&p);
	cr_assert_eq(b, a);
	cr_assert_eq(b[40], 0xcd, "pool_get_raw leaves a reused object as it was");
	/* Past the first slab (64 objects), fresh ones from the next. */
	for (int i = 0; i < 300; i++) {
		unsigned char *o = pool_get_raw(&p);

		cr_assert_not_null(o);
		for (int j = 0; j < 64; j++)
			cr_assert_eq(o[j], 0, "a never-used object is zero (object %d byte %d)", i, j);
		memset(o, 0xee, 64);
	}
	cr_assert_eq(p.in_use, 301);
	pool_fini(&p);
}
