/* setsockopt / getsockopt, dispatched by level as Linux does: SOL_SOCKET in
 * the socket core, SOL_IP in the IPv4 handler (reached from AF_INET6 sockets
 * too), SOL_IPV6 in the IPv6 handler. Length and value rules follow each
 * kernel handler named below. */
#include <errno.h>
#include <string.h>

#include <dtcp/socket.h>

#include "stack.h"

/* ---- SOL_SOCKET: mirrors sk_setsockopt() / sk_getsockopt() ---- */

static int sol_socket_set(struct inet_sock *sk, int optname, const void *optval, socklen_t optlen)
{
	int val;

	if (optlen < sizeof(int))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	memcpy(&val, optval, sizeof(val));
	switch (optname) {
	case SO_REUSEADDR:
		sk->reuse = val != 0;
		return 0;
	case SO_REUSEPORT:
		sk->reuseport = val != 0;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int sol_socket_get(struct inet_sock *sk, int optname, void *optval, socklen_t *optlen)
{
	int len = (int)*optlen, val;

	if (len < 0)
		return -EINVAL;
	switch (optname) {
	case SO_REUSEADDR:
		val = sk->reuse;
		break;
	case SO_REUSEPORT:
		val = sk->reuseport;
		break;
	case SO_TYPE:
		val = sk->type;
		break;
	case SO_PROTOCOL:
		val = IPPROTO_TCP;
		break;
	case SO_DOMAIN:
		val = sk->family;
		break;
	case SO_ACCEPTCONN:
		val = sk->state == INET_LISTEN;
		break;
	case SO_ERROR:
		val = sk->err;
		sk->err = 0;
		break;
	default:
		return -ENOPROTOOPT;
	}
	if (len > (int)sizeof(int))
		len = sizeof(int);
	if (len && !optval)
		return -EFAULT;
	memcpy(optval, &val, (size_t)len);
	*optlen = (socklen_t)len;
	return 0;
}

/* ---- SOL_IP: mirrors do_ip_setsockopt() / do_ip_getsockopt() ---- */

static int sol_ip_set(struct dtcp_stack *st, struct inet_sock *sk, int optname, const void *optval,
                      socklen_t optlen)
{
	int val = 0;

	switch (optname) {
	case IP_FREEBIND:
	case IP_TRANSPARENT:
	case IP_BIND_ADDRESS_NO_PORT:
	case IP_LOCAL_PORT_RANGE:
		/* An int, or from 1 to 3 bytes only the first (unsigned);
		 * optlen 0 reads as 0. */
		if (optlen >= sizeof(int)) {
			if (!optval)
				return -EFAULT;
			memcpy(&val, optval, sizeof(val));
		} else if (optlen >= 1) {
			if (!optval)
				return -EFAULT;
			val = *(const unsigned char *)optval;
		}
		break;
	default:
		return -ENOPROTOOPT;
	}
	switch (optname) {
	case IP_FREEBIND:
		if (optlen < 1)
			return -EINVAL;
		sk->freebind = val != 0;
		return 0;
	case IP_TRANSPARENT:
		if (val && !(st->caps & (DTCP_CAP_NET_RAW | DTCP_CAP_NET_ADMIN)))
			return -EPERM;
		if (optlen < 1)
			return -EINVAL;
		sk->transparent = val != 0;
		return 0;
	case IP_BIND_ADDRESS_NO_PORT:
		/* No length or state check: it may change at any time. */
		sk->bind_no_port = val != 0;
		return 0;
	case IP_LOCAL_PORT_RANGE: {
		uint16_t lo = (uint16_t)val, hi = (uint16_t)((uint32_t)val >> 16);

		if (optlen != sizeof(uint32_t))
			return -EINVAL;
		if (lo && hi && lo > hi)
			return -EINVAL;
		sk->local_port_range = (uint32_t)val;
		return 0;
	}
	}
	return -ENOPROTOOPT;
}

static int sol_ip_get(struct inet_sock *sk, int optname, void *optval, socklen_t *optlen)
{
	int len = (int)*optlen, val;

	if (len < 0)
		return -EINVAL;
	switch (optname) {
	case IP_FREEBIND:
		val = sk->freebind;
		break;
	case IP_TRANSPARENT:
		val = sk->transparent;
		break;
	case IP_BIND_ADDRESS_NO_PORT:
		val = sk->bind_no_port;
		break;
	case IP_LOCAL_PORT_RANGE:
		val = (int)sk->local_port_range;
		break;
	default:
		return -ENOPROTOOPT;
	}
	if (len && !optval)
		return -EFAULT;
	/* A short buffer gets one byte when the value fits in one. */
	if (len < (int)sizeof(int) && len > 0 && val >= 0 && val <= 255) {
		*(unsigned char *)optval = (unsigned char)val;
		*optlen = 1;
		return 0;
	}
	len = DTCP_MIN(len, (int)sizeof(int));
	memcpy(optval, &val, (size_t)len);
	*optlen = (socklen_t)len;
	return 0;
}

/* ---- SOL_IPV6: mirrors do_ipv6_setsockopt() / do_ipv6_getsockopt() ---- */

static int sol_ipv6_set(struct inet_sock *sk, int optname, const void *optval, socklen_t optlen)
{
	int val = 0;

	if (optval && optlen >= sizeof(int))
		memcpy(&val, optval, sizeof(val));
	switch (optname) {
	case IPV6_V6ONLY:
		if (optlen < sizeof(int) || sk->num)
			return -EINVAL;
		sk->ipv6only = val != 0;
		return 0;
	case IPV6_MTU:
		if (optlen < sizeof(int))
			return -EINVAL;
		if (val && val < 1280)
			return -EINVAL;
		sk->ipv6_mtu = val;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int sol_ipv6_get(struct inet_sock *sk, int optname, void *optval, socklen_t *optlen)
{
	/* The kernel clamps with an unsigned min: a negative length reads as 4. */
	unsigned int len = (unsigned int)*optlen;
	int val;

	switch (optname) {
	case IPV6_V6ONLY:
		val = sk->ipv6only;
		break;
	case IPV6_MTU:
		/* The path MTU of a connected socket; no route yet otherwise. */
		return -ENOTCONN;
	default:
		return -ENOPROTOOPT;
	}
	len = DTCP_MIN(len, (unsigned int)sizeof(int));
	if (len && !optval)
		return -EFAULT;
	memcpy(optval, &val, len);
	*optlen = len;
	return 0;
}

int sock_setsockopt(struct dtcp_stack *st, struct inet_sock *sk, int level, int optname,
                    const void *optval, socklen_t optlen)
{
	if (level == SOL_SOCKET)
		return sol_socket_set(sk, optname, optval, optlen);
	if (level == SOL_IP)
		return sol_ip_set(st, sk, optname, optval, optlen);
	if (level == SOL_IPV6 && sk->family == AF_INET6)
		return sol_ipv6_set(sk, optname, optval, optlen);
	return -ENOPROTOOPT;
}

int sock_getsockopt(struct dtcp_stack *st, struct inet_sock *sk, int level, int optname, void *optval,
                    socklen_t *optlen)
{
	(void)st;
	if (level == SOL_SOCKET)
		return sol_socket_get(sk, optname, optval, optlen);
	if (level == SOL_IP)
		return sol_ip_get(sk, optname, optval, optlen);
	if (level == SOL_IPV6 && sk->family == AF_INET6)
		return sol_ipv6_get(sk, optname, optval, optlen);
	/* do_ip_getsockopt() answers a foreign level with EOPNOTSUPP; the
	 * IPv6 handler and TCP's own level with ENOPROTOOPT. */
	if (sk->family == AF_INET && level != SOL_TCP)
		return -EOPNOTSUPP;
	return -ENOPROTOOPT;
}
