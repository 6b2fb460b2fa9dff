/* poll() and epoll (see epoll.h). An instance keeps its interest set in a
 * hash table by descriptor and a ready list fed by sock_wakeup(); a wait
 * walks the ready list only, re-checking each socket's events there
 * (level-triggered items stay while they have events, edge-triggered and
 * one-shot ones leave once reported). */
#include <dtcp/dtcp.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "sock/epoll.h"
#include "stack.h"
#include "tcp/tcp_sock.h"

struct epoll_inst {
	struct hhead *table;
	uint32_t mask, count;
	struct epitem *rdl_head, *rdl_tail;
};

static int api_ret(int ret)
{
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

uint32_t sock_poll_events(const struct inet_sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	uint32_t ev = 0;

	if (sk->state == INET_LISTEN)
		return tp->acceptq_head ? POLLIN | POLLRDNORM : 0;
	if (sk->err)
		ev |= POLLERR;
	/* tcp_poll(): hang-up once both directions are shut, or closed. */
	if ((tp->rcv_shutdown && tp->snd_shutdown) || (sk->state == INET_CLOSE && sk->ss != INET_SS_UNCONNECTED))
		ev |= POLLHUP;
	if (tp->rcv_shutdown)
		ev |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (tp->rcvq_bytes || tp->user_rd_shutdown)
		ev |= POLLIN | POLLRDNORM;
	if (sk->state == INET_CLOSE && sk->ss == INET_SS_UNCONNECTED && sk->err)
		ev |= POLLIN | POLLOUT;
	if ((sk->state == INET_ESTABLISHED || sk->state == INET_CLOSE_WAIT) && !tp->snd_shutdown &&
	    tp->snd_len < tp->sndbuf)
		ev |= POLLOUT | POLLWRNORM;
	if (tp->snd_shutdown && sk->state != INET_SYN_SENT)
		ev |= POLLOUT | POLLWRNORM;   /* a write would not block (it fails with EPIPE) */
	return ev;
}

static struct epoll_inst *ep_get(struct dtcp_stack *st, int epfd)
{
	uint32_t i = (uint32_t)epfd - EPOLL_FD_BASE;

	return epfd >= EPOLL_FD_BASE && i < EPOLL_MAX_INSTANCES ? st->epolls[i] : NULL;
}

static void rdl_add(struct epitem *it)
{
	struct epoll_inst *ep = it->ep;

	if (it->ready)
		return;
	it->ready = true;
	it->rdl_next = NULL;
	it->rdl_prev = ep->rdl_tail;
	if (ep->rdl_tail)
		ep->rdl_tail->rdl_next = it;
	else
		ep->rdl_head = it;
	ep->rdl_tail = it;
}

static void rdl_del(struct epitem *it)
{
	struct epoll_inst *ep = it->ep;

	if (!it->ready)
		return;
	it->ready = false;
	if (it->rdl_prev)
		it->rdl_prev->rdl_next = it->rdl_next;
	else
		ep->rdl_head = it->rdl_next;
	if (it->rdl_next)
		it->rdl_next->rdl_prev = it->rdl_prev;
	else
		ep->rdl_tail = it->rdl_prev;
}

void sock_wakeup(struct dtcp_stack *st, struct inet_sock *sk)
{
	(void)st;
	for (struct epitem *it = sk->epi; it; it = it->sk_next)
		if (!it->disabled)
			rdl_add(it);
}

static uint32_t ep_index(const struct epoll_inst *ep, int fd)
{
	return (uint32_t)mix64((uint64_t)(uint32_t)fd, 0x9e3779b97f4a7c15ull) & ep->mask;
}

static struct epitem *ep_find(struct epoll_inst *ep, int fd)
{
	struct hnode *n;

	hlist_for_each(n, &ep->table[ep_index(ep, fd)]) {
		struct epitem *it = DTCP_CONTAINER_OF(n, struct epitem, fd_node);

		if (it->fd == fd)
			return it;
	}
	return NULL;
}

/* Double the interest table once it holds more items than buckets. */
static int ep_grow(struct epoll_inst *ep)
{
	uint32_t nb = (ep->mask + 1) * 2;
	struct hhead *t = calloc(nb, sizeof(*t)), *old = ep->table;
	uint32_t omask = ep->mask;

	if (!t)
		return -ENOMEM;
	ep->table = t;
	ep->mask = nb - 1;
	for (uint32_t b = 0; b <= omask; b++) {
		while (old[b].first) {
			struct epitem *it = DTCP_CONTAINER_OF(old[b].first, struct epitem, fd_node);

			hlist_del(&it->fd_node);
			hlist_add_head(&it->fd_node, &t[ep_index(ep, it->fd)]);
		}
	}
	free(old);
	return 0;
}

static void ep_remove(struct epoll_inst *ep, struct epitem *it)
{
	struct epitem **pp = &it->sk->epi;

	while (*pp && *pp != it)
		pp = &(*pp)->sk_next;
	if (*pp)
		*pp = it->sk_next;
	rdl_del(it);
	hlist_del(&it->fd_node);
	ep->count--;
	free(it);
}

void sock_epoll_forget(struct dtcp_stack *st, struct inet_sock *sk)
{
	(void)st;
	while (sk->epi)
		ep_remove(sk->epi->ep, sk->epi);
}

static void ep_free(struct epoll_inst *ep)
{
	for (uint32_t b = 0; b <= ep->mask; b++)
		while (ep->table[b].first)
			ep_remove(ep, DTCP_CONTAINER_OF(ep->table[b].first, struct epitem, fd_node));
	free(ep->table);
	free(ep);
}

int epoll_close(struct dtcp_stack *st, int epfd)
{
	struct epoll_inst *ep = ep_get(st, epfd);

	if (!ep)
		return -EBADF;
	ep_free(ep);
	st->epolls[epfd - EPOLL_FD_BASE] = NULL;
	return 0;
}

void epoll_fini(struct dtcp_stack *st)
{
	for (int i = 0; i < EPOLL_MAX_INSTANCES; i++)
		if (st->epolls[i]) {
			ep_free(st->epolls[i]);
			st->epolls[i] = NULL;
		}
}

int dtcp_epoll_create1(struct dtcp_stack *st, int flags)
{
	struct epoll_inst *ep;

	if (!st || (flags & ~EPOLL_CLOEXEC))
		return api_ret(-EINVAL);
	for (int i = 0; i < EPOLL_MAX_INSTANCES; i++) {
		if (st->epolls[i])
			continue;
		ep = calloc(1, sizeof(*ep));
		if (!ep || !(ep->table = calloc(64, sizeof(*ep->table)))) {
			free(ep);
			return api_ret(-ENOMEM);
		}
		ep->mask = 63;
		st->epolls[i] = ep;
		return EPOLL_FD_BASE + i;
	}
	return api_ret(-EMFILE);
}

int dtcp_epoll_ctl(struct dtcp_stack *st, int epfd, int op, int fd, struct epoll_event *event)
{
	struct epoll_inst *ep = st ? ep_get(st, epfd) : NULL;
	struct inet_sock *sk;
	struct epitem *it;
	uint32_t allowed = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLERR | EPOLLHUP | EPOLLET |
	                   EPOLLONESHOT | EPOLLRDNORM | EPOLLWRNORM;

	if (!ep)
		return api_ret(-EBADF);
	if (fd == epfd || ep_get(st, fd))
		return api_ret(-EINVAL);   /* nesting epoll instances is not supported */
	sk = socket_table_get(&st->socks, fd);
	if (!sk)
		return api_ret(-EBADF);
	if (op != EPOLL_CTL_DEL && !event)
		return api_ret(-EFAULT);
	if (op != EPOLL_CTL_DEL && (event->events & ~allowed))
		return api_ret(-EINVAL);
	it = ep_find(ep, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it)
			return api_ret(-EEXIST);
		if (ep->count >= ep->mask + 1 && ep_grow(ep))
			return api_ret(-ENOMEM);
		it = calloc(1, sizeof(*it));
		if (!it)
			return api_ret(-ENOMEM);
		it->ep = ep;
		it->sk = sk;
		it->fd = fd;
		it->events = event->events;
		it->data = event->data.u64;
		hlist_add_head(&it->fd_node, &ep->table[ep_index(ep, fd)]);
		it->sk_next = sk->epi;
		sk->epi = it;
		ep->count++;
		rdl_add(it);   /* checked at the next wait */
		return 0;
	case EPOLL_CTL_MOD:
		if (!it)
			return api_ret(-ENOENT);
		it->events = event->events;
		it->data = event->data.u64;
		it->disabled = false;
		rdl_add(it);
		return 0;
	case EPOLL_CTL_DEL:
		if (!it)
			return api_ret(-ENOENT);
		ep_remove(ep, it);
		return 0;
	default:
		return api_ret(-EINVAL);
	}
}

/* Harvest the ready list once. */
static int ep_harvest(struct epoll_inst *ep, struct epoll_event *events, int maxevents)
{
	struct epitem *it = ep->rdl_head, *last = ep->rdl_tail;
	int n = 0;

	while (it && n < maxevents) {
		struct epitem *next = it->rdl_next;
		bool was_last = it == last;
		uint32_t ev = sock_poll_events(it->sk) & (it->events | EPOLLERR | EPOLLHUP);

		rdl_del(it);
		if (ev) {
			events[n].events = ev;
			events[n].data.u64 = it->data;
			n++;
			if (it->events & EPOLLONESHOT)
				it->disabled = true;
			else if (!(it->events & EPOLLET))
				rdl_add(it);   /* level-triggered: checked again next time */
		}
		if (was_last)
			break;
		it = next;
	}
	return n;
}

int dtcp_epoll_wait(struct dtcp_stack *st, int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	struct epoll_inst *ep = st ? ep_get(st, epfd) : NULL;
	uint64_t deadline;
	int n;

	if (!ep)
		return api_ret(-EBADF);
	if (maxevents <= 0)
		return api_ret(-EINVAL);
	if (!events)
		return api_ret(-EFAULT);
	deadline = timeout > 0 ? stack_now_ns(st) + (uint64_t)timeout * 1000000u : 0;
	for (;;) {
		n = ep_harvest(ep, events, maxevents);
		if (n || timeout == 0 || (timeout > 0 && stack_now_ns(st) >= deadline))
			return n;
		dtcp_stack_poll(st);
	}
}

int dtcp_poll(struct dtcp_stack *st, struct pollfd *fds, nfds_t nfds, int timeout)
{
	uint64_t deadline;

	if (!st)
		return api_ret(-EINVAL);
	if (nfds && !fds)
		return api_ret(-EFAULT);
	deadline = timeout > 0 ? stack_now_ns(st) + (uint64_t)timeout * 1000000u : 0;
	for (;;) {
		int ready = 0;

		for (nfds_t i = 0; i < nfds; i++) {
			struct inet_sock *sk = fds[i].fd < 0 ? NULL : socket_table_get(&st->socks, fds[i].fd);

			fds[i].revents = 0;
			if (fds[i].fd < 0)
				continue;
			if (!sk)
				fds[i].revents = POLLNVAL;
			else
				fds[i].revents = (short)(sock_poll_events(sk) & ((uint32_t)(uint16_t)fds[i].events | POLLERR | POLLHUP));
			ready += fds[i].revents != 0;
		}
		if (ready || timeout == 0 || (timeout > 0 && stack_now_ns(st) >= deadline))
			return ready;
		dtcp_stack_poll(st);
	}
}
