/* The descriptor table: fd -> socket, lowest free descriptor first (as
 * POSIX), found through a two-level bitmap from a low-water hint, so
 * allocation and release are O(1) in practice at millions of descriptors.
 * Stack thread only. */
#ifndef DTCP_SOCKET_TABLE_H
#define DTCP_SOCKET_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct inet_sock;

#define SOCK_FD_BASE 3   /* descriptors never look like stdin/stdout/stderr */

struct socket_table {
	struct inet_sock **fds;
	uint64_t *used;      /* bit per descriptor */
	uint64_t *full;      /* bit per 64-descriptor word of used that is full */
	uint32_t max;        /* descriptors SOCK_FD_BASE .. SOCK_FD_BASE + max - 1 */
	uint32_t next;       /* no free slot below this index */
	uint32_t count;
};

int socket_table_init(struct socket_table *t, uint32_t max);
void socket_table_fini(struct socket_table *t);
/* A descriptor for sk, or -EMFILE. */
int socket_table_alloc(struct socket_table *t, struct inet_sock *sk);
void socket_table_release(struct socket_table *t, int fd);

static inline struct inet_sock *socket_table_get(const struct socket_table *t, int fd)
{
	uint32_t i = (uint32_t)fd - SOCK_FD_BASE;

	if (fd < SOCK_FD_BASE || i >= t->max)
		return NULL;
	return t->fds[i];
}

#endif
