/* Socket objects and options: creation and destruction of PCBs from the
 * stack's pool, and the setsockopt/getsockopt dispatch by level.
 * Stack thread only. */
#ifndef DTCP_SOCK_H
#define DTCP_SOCK_H

#include <sys/socket.h>

#include "inet/inet_sock.h"

struct dtcp_stack;

/* A fresh CLOSE socket with no descriptor, or NULL when the pool is exhausted. */
struct inet_sock *sock_create(struct dtcp_stack *st, int family);
/* Return a socket that holds nothing in the tables to the pool. */
void sock_destroy(struct dtcp_stack *st, struct inet_sock *sk);
/* End a TIME_WAIT early (a connect() takes its 4-tuple over) as its timer
 * would: out of every table, freed if no descriptor holds it, else left
 * closed to its descriptor. */
void sock_timewait_end(struct inet_sock *sk);

int sock_setsockopt(struct dtcp_stack *st, struct inet_sock *sk, int level, int optname,
                    const void *optval, socklen_t optlen);
int sock_getsockopt(struct dtcp_stack *st, struct inet_sock *sk, int level, int optname,
                    void *optval, socklen_t *optlen);

#endif
