/* Zeroed memory for the stack's large tables and pool slabs, straight from
 * the system: pages are mapped on first touch. With BIGMEM_HUGE, regions of
 * 2 MiB or more ask for transparent huge pages (honoured where THP is
 * "always" or "madvise"): a hash table of millions of entries, read at
 * random, then costs one TLB entry per 2 MiB instead of per 4 KiB. */
#ifndef DTCP_BIGMEM_H
#define DTCP_BIGMEM_H

#include <stddef.h>

#define BIGMEM_HUGE 1u

/* NULL when the system has no memory. */
void *bigmem_zalloc(size_t bytes, unsigned flags);
/* Map every page of [p, p + bytes) now: 0, or -ENOMEM when the system
 * cannot back it. */
int bigmem_populate(void *p, size_t bytes);
/* bytes: as given to bigmem_zalloc(). NULL is ignored. */
void bigmem_free(void *p, size_t bytes);

#endif
