/* The public socket calls: look up the descriptor, run the inet operation,
 * and turn its -errno into -1 with errno set, in this one place. */
#include <dtcp/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "addr.h"
#include "inet/inet_ops.h"
#include "stack.h"

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
	addr_set_any(&sk->rcv_saddr, family);
	addr_set_any(&sk->daddr, family);
	return sk;
}

void sock_destroy(struct dtcp_stack *st, struct inet_sock *sk)
{
	DTCP_ASSERT(!sk->tb2 && !sk->dest && hlist_unhashed(&sk->hash_node));
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

	if (!sk)
		return api_ret(-EBADF);
	/* Without the TCP engine there is no orderly close to run: the socket
	 * leaves every table now (the engine adds FIN and TIME_WAIT). */
	inet_release(st, sk);
	sock_destroy(st, sk);
	return 0;
}
