/* The public socket calls: look up the descriptor, run the inet operation,
 * and turn its -errno into -1 with errno set, in this one place. */
#include <dtcp/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "addr.h"
#include "inet/inet_ops.h"
#include "stack.h"
#include "netif.h"
#include "tcp/tcp_sock.h"

/* The single conversion from the internal convention to POSIX's. */
static int api_ret(int ret)
{
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

struct inet_sock *sock_create(struct dtcp_stack *st, int family)
{
	struct inet_sock *sk = pool_get(&st->sock_pool);

	if (!sk)
		return NULL;
	sk->family = (uint8_t)family;
	sk->type = SOCK_STREAM;
	sk->state = INET_CLOSE;
	sk->ss = INET_SS_UNCONNECTED;
	sk->fd = -1;
	sk->uid = st->uid;
	tcp_sock_init(tcp_sk(sk), st);
	addr_set_any(&sk->rcv_saddr, family);
	addr_set_any(&sk->daddr, family);
	return sk;
}

void sock_destroy(struct dtcp_stack *st, struct inet_sock *sk)
{
	DTCP_ASSERT(!sk->tb2 && !sk->dest && hlist_unhashed(&sk->hash_node));
	tcp_timer_stop_all(tcp_sk(sk));
	tcp_sock_free_buffers(tcp_sk(sk));
	sock_epoll_forget(st, sk);
	if (sk->fd >= 0)
		socket_table_release(&st->socks, sk->fd);
	pool_put(&st->sock_pool, sk);
}

static struct inet_sock *fd_sock(struct dtcp_stack *st, int fd)
{
	return st ? socket_table_get(&st->socks, fd) : NULL;
}

int dtcp_socket(struct dtcp_stack *st, int domain, int type, int protocol)
{
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct inet_sock *sk;
	int fd;

	if (!st)
		return api_ret(-EINVAL);
	/* The order of __sock_create() and inet_create(). */
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (type & ~0xf)
		return api_ret(-EINVAL);
	if (domain != AF_INET && domain != AF_INET6)
		return api_ret(-EAFNOSUPPORT);
	if (type < 0 || type > SOCK_PACKET)   /* SOCK_MAX */
		return api_ret(-EINVAL);
	if (protocol < 0 || protocol >= 263)  /* IPPROTO_MAX */
		return api_ret(-EINVAL);
	if (type != SOCK_STREAM)
		return api_ret(-ESOCKTNOSUPPORT);
	if (protocol != 0 && protocol != IPPROTO_TCP)
		return api_ret(-EPROTONOSUPPORT);
	sk = sock_create(st, domain);
	if (!sk)
		return api_ret(-ENOBUFS);
	fd = socket_table_alloc(&st->socks, sk);
	if (fd < 0) {
		sock_destroy(st, sk);
		return api_ret(fd);
	}
	sk->fd = fd;
	sk->nonblock = !!(flags & SOCK_NONBLOCK);
	return fd;
}

int dtcp_bind(struct dtcp_stack *st, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	struct inet_sock *sk = fd_sock(st, fd);

	if (!sk)
		return api_ret(-EBADF);
	/* move_addr_to_kernel(): at most a sockaddr_storage. */
	if ((int)addrlen < 0 || addrlen > sizeof(struct sockaddr_storage))
		return api_ret(-EINVAL);
	if (!addr)
		return api_ret(addrlen ? -EFAULT : -EINVAL);
	return api_ret(inet_bind(st, sk, addr, addrlen));
}

int dtcp_listen(struct dtcp_stack *st, int fd, int backlog)
{
	struct inet_sock *sk = fd_sock(st, fd);

	if (!sk)
		return api_ret(-EBADF);
	return api_ret(inet_listen(st, sk, backlog));
}

/* Fill a sockaddr for (addr, port) in the socket's family; returns its length. */
static socklen_t sock_fill_addr(const struct inet_sock *sk, const struct in6_addr *a, uint16_t port,
                                struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (sk->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = addr_v4(a);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = *a;
	if (addr_is_linklocal6(a))
		sin6->sin6_scope_id = (uint32_t)sk->bound_dev_if;
	return sizeof(*sin6);
}

/* Copy out as the kernel's move_addr_to_user(): at most *len bytes, and
 * *len set to the full length. */
static int copy_addr_out(const struct sockaddr_storage *ss, socklen_t full, struct sockaddr *addr,
                         socklen_t *addrlen)
{
	if (!addrlen)
		return -EFAULT;
	if ((int)*addrlen < 0)
		return -EINVAL;
	if (*addrlen && !addr)
		return -EFAULT;
	memcpy(addr, ss, DTCP_MIN(*addrlen, full));
	*addrlen = full;
	return 0;
}

int dtcp_getsockname(struct dtcp_stack *st, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	struct inet_sock *sk = fd_sock(st, fd);
	struct sockaddr_storage ss;
	socklen_t len;

	if (!sk)
		return api_ret(-EBADF);
	len = sock_fill_addr(sk, &sk->rcv_saddr, sk->sport, &ss);
	return api_ret(copy_addr_out(&ss, len, addr, addrlen));
}

int dtcp_setsockopt(struct dtcp_stack *st, int fd, int level, int optname, const void *optval,
                    socklen_t optlen)
{
	struct inet_sock *sk = fd_sock(st, fd);

	if (!sk)
		return api_ret(-EBADF);
	if ((int)optlen < 0)
		return api_ret(-EINVAL);
	return api_ret(sock_setsockopt(st, sk, level, optname, optval, optlen));
}

int dtcp_getsockopt(struct dtcp_stack *st, int fd, int level, int optname, void *optval, socklen_t *optlen)
{
	struct inet_sock *sk = fd_sock(st, fd);

	if (!sk)
		return api_ret(-EBADF);
	if (!optlen)
		return api_ret(-EFAULT);
	return api_ret(sock_getsockopt(st, sk, level, optname, optval, optlen));
}

int dtcp_close(struct dtcp_stack *st, int fd)
{
	struct inet_sock *sk = fd_sock(st, fd);

	if (st && fd >= EPOLL_FD_BASE)
		return api_ret(epoll_close(st, fd));
	if (!sk)
		return api_ret(-EBADF);
	sock_epoll_forget(st, sk);
	tcp_close(tcp_sk(sk));
	return 0;
}

/* Drive the stack until done(sk); a non-blocking socket does not wait, a
 * blocking one at most timeo_ms of the stack's clock (0: forever).
 * Returns 0 when done, or -EAGAIN. */
static int sock_wait_timeo(struct dtcp_stack *st, struct inet_sock *sk, bool nonblock, uint64_t timeo_ms,
                           bool (*done)(const struct inet_sock *sk))
{
	uint64_t deadline = timeo_ms ? stack_now_ns(st) + timeo_ms * 1000000u : 0;

	while (!done(sk)) {
		if (nonblock || (deadline && stack_now_ns(st) >= deadline))
			return -EAGAIN;
		dtcp_stack_poll(st);
	}
	return 0;
}

static int sock_wait(struct dtcp_stack *st, struct inet_sock *sk, bool nonblock,
                     bool (*done)(const struct inet_sock *sk))
{
	return sock_wait_timeo(st, sk, nonblock, 0, done);
}

static bool connect_done(const struct inet_sock *sk)
{
	return sk->state != INET_SYN_SENT && sk->state != INET_SYN_RECV;
}

int dtcp_connect(struct dtcp_stack *st, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	struct inet_sock *sk = fd_sock(st, fd);
	int err;

	if (!sk)
		return api_ret(-EBADF);
	if ((int)addrlen < 0 || addrlen > sizeof(struct sockaddr_storage))
		return api_ret(-EINVAL);
	if (!addr)
		return api_ret(-EFAULT);
	if (sk->ss == INET_SS_CONNECTING && addrlen >= sizeof(addr->sa_family) && addr->sa_family != AF_UNSPEC) {
		/* A connect() already under way: its progress, not a new one. */
		return api_ret(inet_connect(st, sk, addr, addrlen));
	}
	if (addrlen >= sizeof(addr->sa_family) && addr->sa_family == AF_UNSPEC && sk->state != INET_CLOSE &&
	    sk->state != INET_LISTEN) {
		/* tcp_disconnect(): the peer gets a reset. */
		tcp_send_active_reset(tcp_sk(sk));
	}
	err = inet_connect(st, sk, addr, addrlen);
	if (err || addr->sa_family == AF_UNSPEC)
		return api_ret(err);
	err = tcp_connect(tcp_sk(sk));
	if (err) {
		tcp_done(tcp_sk(sk), -err);
		return api_ret(err);
	}
	if (sk->nonblock)
		return api_ret(-EINPROGRESS);
	/* SO_SNDTIMEO bounds a blocking connect (then EINPROGRESS, as Linux). */
	if (sock_wait_timeo(st, sk, false, tcp_sk(sk)->sndtimeo_ms, connect_done))
		return api_ret(-EINPROGRESS);
	if (sk->state != INET_CLOSE) {
		sk->ss = INET_SS_CONNECTED;
		return 0;
	}
	/* sock_error: the error, and the disconnect (spec 5.9). */
	err = sk->err ? sk->err : ECONNABORTED;
	sk->err = 0;
	inet_disconnect(st, sk);
	return api_ret(-err);
}

static bool accept_ready(const struct inet_sock *sk)
{
	return tcp_sk((struct inet_sock *)sk)->acceptq_head != NULL || sk->state != INET_LISTEN;
}

int dtcp_accept4(struct dtcp_stack *st, int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	struct inet_sock *sk = fd_sock(st, fd), *csk;
	struct tcp_sock *l, *c;
	struct sockaddr_storage ss;
	socklen_t len;
	int cfd, err;

	if (!sk)
		return api_ret(-EBADF);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return api_ret(-EINVAL);
	if (sk->state != INET_LISTEN)
		return api_ret(-EINVAL);
	l = tcp_sk(sk);
	err = sock_wait(st, sk, sk->nonblock, accept_ready);
	if (err)
		return api_ret(err);
	if (sk->state != INET_LISTEN)
		return api_ret(-EINVAL);
	c = l->acceptq_head;
	csk = &c->inet;
	cfd = socket_table_alloc(&st->socks, csk);
	if (cfd < 0)
		return api_ret(cfd);
	l->acceptq_head = c->acc_next;
	if (!l->acceptq_head)
		l->acceptq_tail = NULL;
	l->acceptq_len--;
	c->acc_next = NULL;
	c->in_acceptq = 0;
	c->parent = NULL;
	csk->fd = cfd;
	csk->nonblock = !!(flags & SOCK_NONBLOCK);
	if (addr || addrlen) {
		len = sock_fill_addr(csk, &csk->daddr, csk->dport, &ss);
		err = copy_addr_out(&ss, len, addr, addrlen);
		if (err)
			return api_ret(err);
	}
	return cfd;
}

static bool send_ready(const struct inet_sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	return sk->err || tp->snd_shutdown || (sk->state != INET_ESTABLISHED && sk->state != INET_CLOSE_WAIT &&
	                                       sk->state != INET_SYN_SENT && sk->state != INET_SYN_RECV) ||
	       ((sk->state == INET_ESTABLISHED || sk->state == INET_CLOSE_WAIT) && tp->snd_len < tp->sndbuf);
}

ssize_t dtcp_send(struct dtcp_stack *st, int fd, const void *buf, size_t len, int flags)
{
	struct inet_sock *sk = fd_sock(st, fd);
	struct tcp_sock *tp;
	size_t done = 0;

	if (!sk)
		return api_ret(-EBADF);
	tp = tcp_sk(sk);
	if (!buf && len)
		return api_ret(-EFAULT);
	while (done < len || !len) {
		int n, err;

		if (sk->err) {
			err = sk->err;
			sk->err = 0;
			return done ? (ssize_t)done : api_ret(-err);
		}
		if (tp->snd_shutdown || sk->state == INET_CLOSE || sk->state == INET_LISTEN ||
		    (sk->state != INET_ESTABLISHED && sk->state != INET_CLOSE_WAIT && sk->state != INET_SYN_SENT &&
		     sk->state != INET_SYN_RECV))
			return done ? (ssize_t)done : api_ret(-EPIPE);
		if (sk->state == INET_SYN_SENT || sk->state == INET_SYN_RECV || tp->snd_len >= tp->sndbuf) {
			err = sock_wait_timeo(st, sk, sk->nonblock || (flags & MSG_DONTWAIT) || done, tp->sndtimeo_ms,
			                      send_ready);
			if (err)
				return done ? (ssize_t)done : api_ret(err);
			continue;
		}
		if (!len)
			return 0;
		n = tcp_sndbuf_write(tp, (const uint8_t *)buf + done, (uint32_t)DTCP_MIN(len - done, (size_t)UINT32_MAX));
		if (n < 0)
			return done ? (ssize_t)done : api_ret(n);
		done += (size_t)n;
		tcp_push(tp);
	}
	return (ssize_t)done;
}

static bool recv_ready(const struct inet_sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	return tp->rcvq_bytes || tp->rcv_shutdown || tp->user_rd_shutdown || sk->err || sk->state == INET_CLOSE ||
	       sk->state == INET_LISTEN;
}

ssize_t dtcp_recv(struct dtcp_stack *st, int fd, void *buf, size_t len, int flags)
{
	struct inet_sock *sk = fd_sock(st, fd);
	struct tcp_sock *tp;
	size_t done = 0;
	uint32_t before;
	int err;

	if (!sk)
		return api_ret(-EBADF);
	tp = tcp_sk(sk);
	if (sk->state == INET_LISTEN)
		return api_ret(-ENOTCONN);
	/* tcp_recvmsg(): a connection that ended (SOCK_DONE) reads as EOF, a
	 * socket never connected as ENOTCONN. */
	if (sk->state == INET_CLOSE && !tp->rcvq_bytes && !sk->err && !tp->rcv_shutdown && !tp->user_rd_shutdown)
		return api_ret(-ENOTCONN);
	err = sock_wait_timeo(st, sk, sk->nonblock || (flags & MSG_DONTWAIT), tp->rcvtimeo_ms, recv_ready);
	if (err)
		return api_ret(err);
	if (!tp->rcvq_bytes) {
		if (sk->err) {
			err = sk->err;
			sk->err = 0;
			return api_ret(-err);
		}
		return 0;   /* end of stream */
	}
	if (!buf && len)
		return api_ret(-EFAULT);
	before = tcp_rcv_window(tp);
	for (struct dtcp_pkt *p = tp->rcvq_head; p && done < len;) {
		uint32_t n = (uint32_t)DTCP_MIN((size_t)p->data_len, len - done);

		memcpy((uint8_t *)buf + done, dtcp_pkt_data(p), n);
		done += n;
		if (flags & MSG_PEEK) {
			p = p->next;
			continue;
		}
		tp->rcvq_bytes -= n;
		if (n < p->data_len) {
			pkt_adj(p, (uint16_t)n);
			break;
		}
		tp->rcvq_head = p->next;
		if (!tp->rcvq_head)
			tp->rcvq_tail = NULL;
		p->next = NULL;
		pkt_free_any(st, p);
		p = tp->rcvq_head;
	}
	/* Tell the peer when the window opened by a segment or more (RFC
	 * 9293 3.8.6.2.2's receiver side of silly window avoidance). */
	if (!(flags & MSG_PEEK) && tcp_rcv_window(tp) - before >= tp->mss &&
	    (sk->state == INET_ESTABLISHED || sk->state == INET_FIN_WAIT1 || sk->state == INET_FIN_WAIT2))
		tcp_send_ack(tp);
	return (ssize_t)done;
}

int dtcp_shutdown(struct dtcp_stack *st, int fd, int how)
{
	struct inet_sock *sk = fd_sock(st, fd);

	if (!sk)
		return api_ret(-EBADF);
	return api_ret(tcp_shutdown(tcp_sk(sk), how));
}

int dtcp_getpeername(struct dtcp_stack *st, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	struct inet_sock *sk = fd_sock(st, fd);
	struct sockaddr_storage ss;
	socklen_t len;

	if (!sk)
		return api_ret(-EBADF);
	/* inet_getname(): no peer before the handshake ends, nor after CLOSE. */
	if (!sk->dport || sk->state == INET_CLOSE || sk->state == INET_SYN_SENT || sk->state == INET_LISTEN)
		return api_ret(-ENOTCONN);
	len = sock_fill_addr(sk, &sk->daddr, sk->dport, &ss);
	return api_ret(copy_addr_out(&ss, len, addr, addrlen));
}

int dtcp_fcntl(struct dtcp_stack *st, int fd, int cmd, int arg)
{
	struct inet_sock *sk = fd_sock(st, fd);

	if (!sk)
		return api_ret(-EBADF);
	switch (cmd) {
	case F_GETFL:
		return O_RDWR | (sk->nonblock ? O_NONBLOCK : 0);
	case F_SETFL:
		sk->nonblock = !!(arg & O_NONBLOCK);
		return 0;
	default:
		return api_ret(-EINVAL);
	}
}
