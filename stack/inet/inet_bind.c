/* bind() and listen() on an inet PCB (spec sections 3 and 6). */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "inet/inet_ops.h"
#include "stack.h"

static bool bound_dev_exists(const struct dtcp_stack *st, int ifindex)
{
	return ifindex >= 1 && (uint32_t)ifindex <= st->ifs.nif;
}

static bool may_bind_port(const struct dtcp_stack *st, uint16_t snum)
{
	return !snum || snum >= st->sysctl.unpriv_port_start || (st->caps & DTCP_CAP_NET_BIND_SERVICE);
}

/* The port step shared by both families (3.3): a given port is reserved even
 * with IP_BIND_ADDRESS_NO_PORT; port 0 with the option takes nothing. */
static int bind_port_step(struct dtcp_stack *st, struct inet_sock *sk, uint16_t snum)
{
	if (!snum && sk->bind_no_port)
		return 0;
	/* The kernel answers any get_port() failure with EADDRINUSE. */
	return inet_csk_get_port(st, sk, snum) ? -EADDRINUSE : 0;
}

static void bind_commit(struct inet_sock *sk, uint16_t snum)
{
	/* IPv6 locks any address but ::, ::ffff:0.0.0.0 included (its type is MAPPED). */
	if (sk->family == AF_INET6 ? !addr_is_any6(&sk->rcv_saddr) : addr_v4(&sk->rcv_saddr) != 0)
		sk->bindaddr_lock = 1;
	if (snum)
		sk->bindport_lock = 1;
	sk->sport = sk->num;
	addr_set_any(&sk->daddr, sk->family);
	sk->dport = 0;
}

/* Mirrors __inet_bind(). */
static int inet4_bind(struct dtcp_stack *st, struct inet_sock *sk, const struct sockaddr *uaddr, socklen_t addrlen)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)uaddr;
	uint16_t snum;
	enum v4_addr_class cls;
	int err;

	if (addrlen < sizeof(struct sockaddr_in))
		return -EINVAL;
	if (sin->sin_family != AF_INET) {
		/* AF_UNSPEC is tolerated for INADDR_ANY only (old applications). */
		if (sin->sin_family != AF_UNSPEC || sin->sin_addr.s_addr != htonl(INADDR_ANY))
			return -EAFNOSUPPORT;
	}
	cls = ifaddr_v4_class(&st->ifs, sin->sin_addr.s_addr);
	if (cls == V4_OTHER && !(sk->freebind || sk->transparent || st->sysctl.nonlocal_bind))
		return -EADDRNOTAVAIL;
	snum = ntohs(sin->sin_port);
	if (!may_bind_port(st, snum))
		return -EACCES;
	/* On IPv4 an invalid address wins over "already bound" (bind_nonlocal). */
	if (sk->state != INET_CLOSE || sk->num)
		return -EINVAL;
	addr_set_mapped(&sk->rcv_saddr, sin->sin_addr.s_addr);
	err = bind_port_step(st, sk, snum);
	if (err) {
		addr_set_any(&sk->rcv_saddr, AF_INET);
		return err;
	}
	bind_commit(sk, snum);
	return 0;
}

/* Mirrors __inet6_bind(). */
static int inet6_bind(struct dtcp_stack *st, struct inet_sock *sk, const struct sockaddr *uaddr, socklen_t addrlen)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)uaddr;
	const struct in6_addr *a;
	bool saved_v6only = sk->ipv6only;
	uint16_t snum;
	int err;

	/* RFC 2133 size (no sin6_scope_id) is enough. */
	if (addrlen < 24)
		return -EINVAL;
	if (sin6->sin6_family != AF_INET6)
		return -EAFNOSUPPORT;
	a = &sin6->sin6_addr;
	if (addr_is_multicast6(a))
		return -EINVAL;
	snum = ntohs(sin6->sin6_port);
	if (!may_bind_port(st, snum))
		return -EACCES;
	if (sk->state != INET_CLOSE || sk->num)
		return -EINVAL;
	if (addr_is_mapped(a)) {
		enum v4_addr_class cls;

		if (sk->ipv6only)
			return -EINVAL;
		if (sk->bound_dev_if && !bound_dev_exists(st, sk->bound_dev_if))
			return -ENODEV;
		cls = ifaddr_v4_class(&st->ifs, addr_v4(a));
		if (cls == V4_OTHER && !(sk->freebind || sk->transparent || st->sysctl.nonlocal_bind))
			return -EADDRNOTAVAIL;
	} else if (!addr_is_any6(a)) {
		if (addr_is_linklocal6(a)) {
			uint32_t scope = addrlen >= sizeof(struct sockaddr_in6) ? sin6->sin6_scope_id : 0;

			/* The scope becomes the bound device before it is looked
			 * up, and stays even if it does not exist (as Linux). */
			if (scope)
				sk->bound_dev_if = (int)scope;
			if (!sk->bound_dev_if)
				return -EINVAL;
		}
		if (sk->bound_dev_if && !bound_dev_exists(st, sk->bound_dev_if))
			return -ENODEV;
		if (!ifaddr_v6_is_local_on(&st->ifs, a, sk->bound_dev_if) &&
		    !(sk->freebind || sk->transparent || st->sysctl.ip6_nonlocal_bind))
			return -EADDRNOTAVAIL;
	}
	sk->rcv_saddr = *a;
	/* A native specific address can only ever receive IPv6. */
	if (!addr_is_any6(a) && !addr_is_mapped(a))
		sk->ipv6only = 1;
	err = bind_port_step(st, sk, snum);
	if (err) {
		sk->ipv6only = saved_v6only;
		addr_set_any(&sk->rcv_saddr, AF_INET6);
		return err;
	}
	bind_commit(sk, snum);
	return 0;
}

int inet_bind(struct dtcp_stack *st, struct inet_sock *sk, const struct sockaddr *uaddr, socklen_t addrlen)
{
	if (sk->family == AF_INET6)
		return inet6_bind(st, sk, uaddr, addrlen);
	return inet4_bind(st, sk, uaddr, addrlen);
}

int inet_listen(struct dtcp_stack *st, struct inet_sock *sk, int backlog)
{
	int err;

	if (sk->ss != INET_SS_UNCONNECTED)
		return -EINVAL;
	if (sk->state != INET_CLOSE && sk->state != INET_LISTEN)
		return -EINVAL;
	if ((unsigned int)backlog > (unsigned int)st->sysctl.somaxconn)
		backlog = st->sysctl.somaxconn;
	sk->backlog = backlog;
	if (sk->state == INET_LISTEN)
		return 0;
	/* LISTEN before the port step: the conflict rules see a listener. */
	inet_state_set(st, sk, INET_LISTEN);
	err = inet_csk_get_port(st, sk, sk->num);
	if (err) {
		inet_state_set(st, sk, INET_CLOSE);
		return err == -ENOBUFS ? -ENOBUFS : -EADDRINUSE;
	}
	sk->sport = sk->num;
	lhash_insert(&st->lh, sk);
	return 0;
}
