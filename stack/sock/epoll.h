/* Readiness: poll(2)-style events of a socket, computed from its state, and
 * epoll instances whose ready lists are fed by wakeups from the engine, so
 * epoll_wait costs the ready sockets, never all of them. Stack thread only. */
#ifndef DTCP_EPOLL_H
#define DTCP_EPOLL_H

#include <stdint.h>

#include "inet/inet_sock.h"
#include "util.h"

struct dtcp_stack;
struct epoll_inst;

#define EPOLL_FD_BASE 0x40000000   /* epoll descriptors live apart from sockets */
#define EPOLL_MAX_INSTANCES 1024

/* One socket watched by one epoll instance. */
struct epitem {
	struct hnode fd_node;         /* in the instance's interest table */
	struct epitem *sk_next;       /* the socket's registrations */
	struct epitem *rdl_next, *rdl_prev;
	struct epoll_inst *ep;
	struct inet_sock *sk;
	uint64_t data;
	uint32_t events;
	int fd;
	bool ready;                   /* on the ready list */
	bool disabled;                /* EPOLLONESHOT fired */
};

/* POLLIN / POLLOUT / POLLERR / POLLHUP / POLLRDHUP of a socket now. */
uint32_t sock_poll_events(const struct inet_sock *sk);
/* Something about the socket changed: its watchers re-check it. */
void sock_wakeup(struct dtcp_stack *st, struct inet_sock *sk);
/* The socket goes away: drop its registrations. */
void sock_epoll_forget(struct dtcp_stack *st, struct inet_sock *sk);
/* Free every epoll instance of the stack. */
void epoll_fini(struct dtcp_stack *st);
/* close() of an epoll descriptor: 0 or -EBADF. */
int epoll_close(struct dtcp_stack *st, int epfd);

#endif
