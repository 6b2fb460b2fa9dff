/* The descriptor table (see socket_table.h). */
#include "sock/socket_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "util.h"

int socket_table_init(struct socket_table *t, uint32_t max)
{
	uint32_t words = (max + 63) / 64;

	memset(t, 0, sizeof(*t));
	t->max = max;
	t->fds = bigmem_zalloc((size_t)max * sizeof(*t->fds), BIGMEM_HUGE);
	t->used = calloc(words, sizeof(uint64_t));
	t->full = calloc((words + 63) / 64, sizeof(uint64_t));
	if (!t->fds || !t->used || !t->full) {
		socket_table_fini(t);
		return -ENOMEM;
	}
	return 0;
}

void socket_table_fini(struct socket_table *t)
{
	bigmem_free(t->fds, (size_t)t->max * sizeof(*t->fds));
	free(t->used);
	free(t->full);
	memset(t, 0, sizeof(*t));
}

int socket_table_alloc(struct socket_table *t, struct inet_sock *sk)
{
	uint32_t words = (t->max + 63) / 64, fwords = (words + 63) / 64;

	/* Skip full words 64 at a time through the second level. */
	for (uint32_t fw = t->next / 4096; fw < fwords; fw++) {
		uint64_t free_words = ~t->full[fw];

		if (fw == t->next / 4096)
			free_words &= ~UINT64_C(0) << ((t->next / 64) % 64);
		while (free_words) {
			uint32_t w = fw * 64 + (uint32_t)__builtin_ctzll(free_words);
			uint64_t bits;
			uint32_t i;

			free_words &= free_words - 1;
			if (w >= words)
				return -EMFILE;
			bits = ~t->used[w];
			if (!bits)
				continue;
			i = w * 64 + (uint32_t)__builtin_ctzll(bits);
			if (i >= t->max)
				return -EMFILE;
			t->used[w] |= UINT64_C(1) << (i % 64);
			if (t->used[w] == ~UINT64_C(0))
				t->full[fw] |= UINT64_C(1) << (w % 64);
			t->fds[i] = sk;
			t->next = i + 1;
			t->count++;
			return (int)i + SOCK_FD_BASE;
		}
	}
	return -EMFILE;
}

void socket_table_release(struct socket_table *t, int fd)
{
	uint32_t i = (uint32_t)fd - SOCK_FD_BASE, w = i / 64;

	DTCP_ASSERT(i < t->max && t->fds[i]);
	t->fds[i] = NULL;
	t->used[w] &= ~(UINT64_C(1) << (i % 64));
	t->full[w / 64] &= ~(UINT64_C(1) << (w % 64));
	if (i < t->next)
		t->next = i;
	t->count--;
}
