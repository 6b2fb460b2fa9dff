/* Large zeroed regions (see bigmem.h). */
#include "bigmem.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE ((size_t)2 << 20)

static size_t round_page(size_t bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return bytes ? (bytes + page - 1) / page * page : page;
}

void *bigmem_zalloc(size_t bytes, unsigned flags)
{
	size_t len;
	uint8_t *p, *start;

	bytes = round_page(bytes);
	if (!(flags & BIGMEM_HUGE) || bytes < HUGE_PAGE) {
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	/* Over-map by one huge page and trim, so the region starts on a huge
	 * page boundary and every whole 2 MiB of it can be one page. */
	len = bytes + HUGE_PAGE;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	start = (uint8_t *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	if (start > p)
		munmap(p, (size_t)(start - p));
	if (start + bytes < p + len)
		munmap(start + bytes, (size_t)(p + len - (start + bytes)));
	(void)madvise(start, bytes, MADV_HUGEPAGE);
	return start;
}

int bigmem_populate(void *p, size_t bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (!p || !bytes)
		return 0;
#ifdef MADV_POPULATE_WRITE
	if (madvise(p, round_page(bytes), MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -ENOMEM;
#endif
	/* Before Linux 5.14: write each page (zero, as it already reads). */
	for (size_t off = 0; off < bytes; off += page)
		((volatile uint8_t *)p)[off] = 0;
	return 0;
}

void bigmem_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, round_page(bytes));
}
