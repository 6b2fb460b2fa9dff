/* The public socket calls: look up the descriptor, run the inet operation,
 * and turn its -errno into -1 with errno set, in this one place. */
#include <dtcp/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

static ssize_t api_ret_ssize(ssize_t ret)
{
	if (ret < 0) {
		errno = (int)-ret;
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
	DTCP_ASSERT(!sk->tb2 && !sk->dest && !sk->ehashed && !sk->lhashed);
	tcp_timer_stop_all(tcp_sk(sk));
	tcp_sock_free_buffers(tcp_sk(sk));
	sock_epoll_forget(st, sk);
	if (sk->fd >= 0)
		socket_table_release(&st->socks, sk->fd);
	pool_put(&st->sock_pool, sk);
}

void sock_timewait_end(struct inet_sock *sk)
{
	DTCP_ASSERT(sk->state == INET_TIME_WAIT);
	tcp_done(tcp_sk(sk), 0);
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

static bool fin_acked_or_gone(const struct inet_sock *sk)
{
	return sk->state != INET_FIN_WAIT1 && sk->state != INET_CLOSING && sk->state != INET_LAST_ACK;
}

/* SO_LINGER with a timeout (__tcp_close()'s sk_stream_wait_close()): the
 * FIN goes now and close() waits, O_NONBLOCK or not, until the peer has
 * acknowledged everything or the time is up; then it returns 0 either way
 * and the close goes on as usual. Unread data is a reset instead (no wait). */
static void tcp_linger_wait(struct dtcp_stack *st, struct tcp_sock *tp)
{
	struct inet_sock *sk = &tp->inet;
	uint64_t deadline;

	if (!tp->linger_on || !tp->linger_s || tp->rcvq_bytes ||
	    (sk->state != INET_ESTABLISHED && sk->state != INET_CLOSE_WAIT))
		return;
	deadline = stack_now_ns(st) + (uint64_t)tp->linger_s * 1000000000u;
	tp->user_rd_shutdown = 1;
	tcp_shutdown(tp, SHUT_WR);
	while (!fin_acked_or_gone(sk) && stack_now_ns(st) < deadline)
		dtcp_stack_poll(st);
}

int dtcp_close(struct dtcp_stack *st, int fd)
{
	struct inet_sock *sk = fd_sock(st, fd);

	if (st && fd >= EPOLL_FD_BASE)
		return api_ret(epoll_close(st, fd));
	if (!sk)
		return api_ret(-EBADF);
	sock_epoll_forget(st, sk);
	tcp_linger_wait(st, tcp_sk(sk));
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

static int connect_held(struct dtcp_stack *st, int fd, const struct sockaddr *addr, socklen_t addrlen)
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
	err = inet_connect_defer(st, sk, addr, addrlen, true);
	if (err || addr->sa_family == AF_UNSPEC)
		return api_ret(err);
	err = tcp_connect(tcp_sk(sk));
	inet_connect_insert(st);
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

/* connect() holds the clock: port choice, the SYN and its timer read it
 * once; a blocking wait's polls move it on. */
int dtcp_connect(struct dtcp_stack *st, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	bool was = stack_clock_hold(st);
	int r = connect_held(st, fd, addr, addrlen);

	stack_clock_release(st, was);
	return r;
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

/* The byte count of an iovec array, checked as import_iovec() checks it:
 * more than IOV_MAX entries is EMSGSIZE, a length that does not fit a
 * ssize_t EINVAL, a NULL base with a length EFAULT; the total is cut to
 * MAX_RW_COUNT (INT_MAX rounded down to a page), as the kernel cuts it. */
#define DTCP_IOV_MAX 1024
#define DTCP_MAX_RW_COUNT ((size_t)INT_MAX & ~(size_t)4095)

static ssize_t iov_total(const struct iovec *iov, size_t n)
{
	size_t total = 0;

	if (n > DTCP_IOV_MAX)
		return -EMSGSIZE;
	if (n && !iov)
		return -EFAULT;
	for (size_t i = 0; i < n; i++) {
		if ((ssize_t)iov[i].iov_len < 0)
			return -EINVAL;
		if (iov[i].iov_len && !iov[i].iov_base)
			return -EFAULT;
		total += DTCP_MIN(iov[i].iov_len, DTCP_MAX_RW_COUNT - total);
	}
	return (ssize_t)total;
}

/* Walks an iovec array as one byte stream of `left` bytes. */
struct iov_cursor {
	const struct iovec *iov;
	size_t i, off, left;
};

/* The next contiguous piece (at most max bytes); its length, 0 at the end. */
static size_t iov_next(struct iov_cursor *c, size_t max, uint8_t **base)
{
	size_t n;

	while (c->left && c->off == c->iov[c->i].iov_len) {
		c->i++;
		c->off = 0;
	}
	if (!c->left)
		return 0;
	n = DTCP_MIN(c->iov[c->i].iov_len - c->off, DTCP_MIN(max, c->left));
	*base = (uint8_t *)c->iov[c->i].iov_base + c->off;
	return n;
}

static void iov_advance(struct iov_cursor *c, size_t n)
{
	c->off += n;
	c->left -= n;
}

static ssize_t tcp_sendiov(struct dtcp_stack *st, struct inet_sock *sk, const struct iovec *iov, size_t len,
                           int flags)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct iov_cursor cur = { iov, 0, 0, len };
	size_t done = 0;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;   /* no urgent data in dtcp */
	/* MSG_MORE: more follows, so full segments go but a short last one
	 * waits for the next send without it (or the FIN), as Linux corks. */
	tp->more = !!(flags & MSG_MORE);
	while (done < len || !len) {
		uint8_t *base = NULL;
		size_t piece;
		int n, err;

		if (sk->err) {
			err = sk->err;
			sk->err = 0;
			return done ? (ssize_t)done : -err;
		}
		if (tp->snd_shutdown || sk->state == INET_CLOSE || sk->state == INET_LISTEN ||
		    (sk->state != INET_ESTABLISHED && sk->state != INET_CLOSE_WAIT && sk->state != INET_SYN_SENT &&
		     sk->state != INET_SYN_RECV))
			return done ? (ssize_t)done : -EPIPE;
		if (sk->state == INET_SYN_SENT || sk->state == INET_SYN_RECV || tp->snd_len >= tp->sndbuf) {
			err = sock_wait_timeo(st, sk, sk->nonblock || (flags & MSG_DONTWAIT) || done, tp->sndtimeo_ms,
			                      send_ready);
			if (err)
				return done ? (ssize_t)done : err;
			continue;
		}
		if (!len)
			return 0;
		piece = iov_next(&cur, UINT32_MAX, &base);
		n = tcp_sndbuf_write(tp, base, (uint32_t)piece);
		if (n < 0)
			return done ? (ssize_t)done : n;
		iov_advance(&cur, (size_t)n);
		done += (size_t)n;
		tcp_push(tp);
	}
	return (ssize_t)done;
}

static ssize_t tcp_recviov(struct dtcp_stack *st, struct inet_sock *sk, const struct iovec *iov, size_t len,
                           int flags);

/* The data calls hold the stack's clock: one read per call, not per segment. */
static ssize_t held_io(struct dtcp_stack *st, struct inet_sock *sk, const struct iovec *iov, size_t len, int flags,
                       bool send)
{
	bool was = stack_clock_hold(st);
	ssize_t r = send ? tcp_sendiov(st, sk, iov, len, flags) : tcp_recviov(st, sk, iov, len, flags);

	stack_clock_release(st, was);
	return r;
}

ssize_t dtcp_send(struct dtcp_stack *st, int fd, const void *buf, size_t len, int flags)
{
	struct inet_sock *sk = fd_sock(st, fd);
	struct iovec iov = { (void *)(uintptr_t)buf, DTCP_MIN(len, DTCP_MAX_RW_COUNT) };

	if (!sk)
		return api_ret(-EBADF);
	if (!buf && len)
		return api_ret(-EFAULT);
	return api_ret_ssize(held_io(st, sk, &iov, iov.iov_len, flags, true));
}

/* sendmsg()/recvmsg()'s socket and byte count: the count, or -errno. */
static ssize_t msg_begin(struct dtcp_stack *st, int fd, const struct msghdr *msg, struct inet_sock **sk)
{
	*sk = fd_sock(st, fd);
	if (!*sk)
		return -EBADF;
	if (!msg)
		return -EFAULT;
	return iov_total(msg->msg_iov, msg->msg_iovlen);
}

ssize_t dtcp_sendmsg(struct dtcp_stack *st, int fd, const struct msghdr *msg, int flags)
{
	struct inet_sock *sk;
	ssize_t len = msg_begin(st, fd, msg, &sk);

	if (len < 0)
		return api_ret_ssize(len);
	/* tcp_sendmsg() reads neither msg_name nor ancillary data. */
	return api_ret_ssize(held_io(st, sk, msg->msg_iov, (size_t)len, flags, true));
}

/* Nothing more will come: the end of the stream, an error, no connection. */
static bool recv_ready_nodata(const struct inet_sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	return tp->rcv_shutdown || tp->user_rd_shutdown || sk->err || sk->state == INET_CLOSE ||
	       sk->state == INET_LISTEN;
}

static bool recv_ready(const struct inet_sock *sk)
{
	return ((const struct tcp_sock *)sk)->rcvq_bytes || recv_ready_nodata(sk);
}

/* Whether recv() may return: data, the end of the stream, an error; with
 * MSG_WAITALL|MSG_PEEK, the whole request present. */
static bool recv_peek_all_ready(const struct inet_sock *sk, size_t want)
{
	return ((const struct tcp_sock *)sk)->rcvq_bytes >= want || recv_ready_nodata(sk);
}

/* Copy (or with MSG_TRUNC, drop) up to len bytes of the receive queue into
 * the cursor; with MSG_PEEK nothing is consumed. */
static size_t rcvq_take(struct dtcp_stack *st, struct tcp_sock *tp, struct iov_cursor *cur, size_t len, int flags)
{
	size_t done = 0;

	for (struct dtcp_pkt *p = tp->rcvq_head; p && done < len;) {
		uint32_t n = (uint32_t)DTCP_MIN((size_t)p->data_len, len - done);

		if (!(flags & MSG_TRUNC)) {
			for (uint32_t copied = 0; copied < n;) {
				uint8_t *base = NULL;
				size_t piece = iov_next(cur, n - copied, &base);

				memcpy(base, (const uint8_t *)dtcp_pkt_data(p) + copied, piece);
				iov_advance(cur, piece);
				copied += (uint32_t)piece;
			}
		}
		done += n;
		if (flags & MSG_PEEK) {
			/* A second pass starts where this packet's bytes end. */
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
	return done;
}

static ssize_t tcp_recviov(struct dtcp_stack *st, struct inet_sock *sk, const struct iovec *iov, size_t len,
                           int flags)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct iov_cursor cur = { iov, 0, 0, len };
	bool nonblock = sk->nonblock || (flags & MSG_DONTWAIT);
	bool waitall = (flags & MSG_WAITALL) && !nonblock;
	uint64_t deadline = tp->rcvtimeo_ms ? stack_now_ns(st) + tp->rcvtimeo_ms * 1000000ull : 0;
	size_t done = 0;
	int err;

	if (flags & MSG_OOB)
		return -EINVAL;      /* tcp_recv_urg(): no urgent data is ever held */
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN;      /* the error queue is always empty */
	if (sk->state == INET_LISTEN)
		return -ENOTCONN;
	/* tcp_recvmsg(): a connection that ended (SOCK_DONE) reads as EOF, a
	 * socket never connected as ENOTCONN. */
	if (sk->state == INET_CLOSE && !tp->rcvq_bytes && !sk->err && !tp->rcv_shutdown && !tp->user_rd_shutdown)
		return -ENOTCONN;
	for (;;) {
		uint32_t before;
		uint64_t now;

		/* Wait (bounded by SO_RCVTIMEO) for something to read. */
		while ((waitall && (flags & MSG_PEEK)) ? !recv_peek_all_ready(sk, len) : !recv_ready(sk)) {
			now = stack_now_ns(st);
			if (nonblock || (done && !waitall) || (deadline && now >= deadline))
				return done ? (ssize_t)done : -EAGAIN;
			dtcp_stack_poll(st);
		}
		if (!tp->rcvq_bytes) {
			if (done)
				return (ssize_t)done;
			if (sk->err) {
				err = sk->err;
				sk->err = 0;
				return -err;
			}
			return 0;   /* end of stream */
		}
		before = tcp_rcv_window(tp);
		done += rcvq_take(st, tp, &cur, len - done, flags);
		/* Tell the peer when the window opened by a segment or more (RFC
		 * 9293 3.8.6.2.2's receiver side of silly window avoidance). */
		if (!(flags & MSG_PEEK) && tcp_rcv_window(tp) - before >= tp->mss &&
		    (sk->state == INET_ESTABLISHED || sk->state == INET_FIN_WAIT1 || sk->state == INET_FIN_WAIT2))
			tcp_send_ack(tp);
		if (done == len || !waitall || (flags & MSG_PEEK))
			return (ssize_t)done;
	}
}

ssize_t dtcp_recv(struct dtcp_stack *st, int fd, void *buf, size_t len, int flags)
{
	struct inet_sock *sk = fd_sock(st, fd);
	struct iovec iov = { buf, DTCP_MIN(len, DTCP_MAX_RW_COUNT) };

	if (!sk)
		return api_ret(-EBADF);
	if (!buf && len && !(flags & MSG_TRUNC))
		return api_ret(-EFAULT);
	return api_ret_ssize(held_io(st, sk, &iov, iov.iov_len, flags, false));
}

ssize_t dtcp_recvmsg(struct dtcp_stack *st, int fd, struct msghdr *msg, int flags)
{
	struct inet_sock *sk;
	ssize_t len = msg_begin(st, fd, msg, &sk), r;

	if (len < 0)
		return api_ret_ssize(len);
	r = held_io(st, sk, msg->msg_iov, (size_t)len, flags, false);
	if (r >= 0) {
		/* A stream socket names no sender and passes no ancillary data. */
		msg->msg_namelen = 0;
		msg->msg_controllen = 0;
		msg->msg_flags = 0;
	}
	return api_ret_ssize(r);
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
