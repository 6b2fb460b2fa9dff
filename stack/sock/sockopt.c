/* setsockopt / getsockopt, dispatched by level as Linux does: SOL_SOCKET in
 * the socket core, SOL_IP in the IPv4 handler (reached from AF_INET6 sockets
 * too), SOL_IPV6 in the IPv6 handler. Length and value rules follow each
 * kernel handler named below. */
#include <errno.h>
#include <string.h>

#include <dtcp/socket.h>

#include "stack.h"
#include "tcp/tcp_sock.h"

#include <netinet/tcp.h>
#include <sys/time.h>

/* ---- SOL_SOCKET: mirrors sk_setsockopt() / sk_getsockopt() ---- */

/* sock_set_timeout(): a struct timeval, 0 meaning forever. */
static int set_timeout(uint32_t *dst_ms, const void *optval, socklen_t optlen)
{
	struct timeval tv;

	if (optlen < sizeof(tv))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	memcpy(&tv, optval, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0) {
		*dst_ms = 0;   /* Linux treats a negative time as "no wait"... as 0 here */
		return 0;
	}
	{
		uint64_t ms = (uint64_t)tv.tv_sec * 1000u + (uint64_t)(tv.tv_usec + 999) / 1000u;

		*dst_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;   /* 49 days: forever enough */
	}
	return 0;
}

static int sol_socket_set(struct dtcp_stack *st, struct inet_sock *sk, int optname, const void *optval,
                          socklen_t optlen)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int val;

	if (optname == SO_RCVTIMEO || optname == SO_RCVTIMEO_OLD)
		return set_timeout(&tp->rcvtimeo_ms, optval, optlen);
	if (optname == SO_SNDTIMEO || optname == SO_SNDTIMEO_OLD)
		return set_timeout(&tp->sndtimeo_ms, optval, optlen);
	if (optname == SO_LINGER) {
		struct linger lg;

		if (optlen < sizeof(lg))
			return -EINVAL;
		if (!optval)
			return -EFAULT;
		memcpy(&lg, optval, sizeof(lg));
		tp->linger_on = lg.l_onoff != 0;
		tp->linger_s = (uint16_t)(lg.l_linger < 0 ? 0 : lg.l_linger > 65535 ? 65535 : lg.l_linger);
		return 0;
	}
	if (optlen < sizeof(int))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	memcpy(&val, optval, sizeof(val));
	switch (optname) {
	case SO_RCVBUF:
	case SO_SNDBUF: {
		/* sk_setsockopt(): capped by net.core.[rw]mem_max, then doubled for
		 * bookkeeping overhead, with a floor. */
		uint32_t max = optname == SO_RCVBUF ? (uint32_t)st->sysctl.rmem_max : (uint32_t)st->sysctl.wmem_max;
		uint32_t v = val < 0 ? 0 : (uint32_t)val;

		v = (v < max ? v : max) * 2;
		if (optname == SO_RCVBUF) {
			tp->rcvbuf = v < 2304 ? 2304 : v;
			tp->rcvbuf_lock = 1;
		} else {
			tp->sndbuf = v < 4608 ? 4608 : v;
			tp->sndbuf_lock = 1;
		}
		return 0;
	}
	case SO_REUSEADDR:
		sk->reuse = val != 0;
		return 0;
	case SO_REUSEPORT:
		sk->reuseport = val != 0;
		return 0;
	case SO_KEEPALIVE:
		tp->keepalive = val != 0;
		tp->keep_probes_out = 0;
		if (tp->snd_una == tp->snd_max && !tp->snd_len &&
		    (sk->state == INET_ESTABLISHED || sk->state == INET_CLOSE_WAIT))
			tcp_timer_idle(tp);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/* getsockopt()'s copy out: the value, cut to the caller's length. */
static int opt_out(void *optval, socklen_t *optlen, size_t len, const void *v, size_t size)
{
	if (len > size)
		len = size;
	if (len && !optval)
		return -EFAULT;
	memcpy(optval, v, len);
	*optlen = (socklen_t)len;
	return 0;
}

static int sol_socket_get(struct inet_sock *sk, int optname, void *optval, socklen_t *optlen)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int len = (int)*optlen, val;

	if (len < 0)
		return -EINVAL;
	if (optname == SO_LINGER || optname == SO_RCVTIMEO_OLD || optname == SO_SNDTIMEO_OLD) {
		union {
			struct linger lg;
			struct timeval tv;
		} v;
		size_t lv;

		memset(&v, 0, sizeof(v));
		if (optname == SO_LINGER) {
			v.lg.l_onoff = tp->linger_on;
			v.lg.l_linger = tp->linger_s;
			lv = sizeof(v.lg);
		} else {
			uint64_t ms = optname == SO_RCVTIMEO_OLD ? tp->rcvtimeo_ms : tp->sndtimeo_ms;

			v.tv.tv_sec = (time_t)(ms / 1000u);
			v.tv.tv_usec = (suseconds_t)(ms % 1000u) * 1000;
			lv = sizeof(v.tv);
		}
		return opt_out(optval, optlen, (size_t)len, &v, lv);
	}
	switch (optname) {
	case SO_RCVBUF:
		val = (int)tp->rcvbuf;
		break;
	case SO_SNDBUF:
		val = (int)tp->sndbuf;
		break;
	case SO_REUSEADDR:
		val = sk->reuse;
		break;
	case SO_REUSEPORT:
		val = sk->reuseport;
		break;
	case SO_KEEPALIVE:
		val = tp->keepalive;
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
		/* The pending error, else the soft one (an ICMP error kept by an
		 * established connection); reading clears it. */
		val = sk->err;
		sk->err = 0;
		if (!val) {
			val = tp->err_soft;
			tp->err_soft = 0;
		}
		break;
	default:
		return -ENOPROTOOPT;
	}
	return opt_out(optval, optlen, (size_t)len, &val, sizeof(val));
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

/* ---- SOL_TCP: mirrors do_tcp_setsockopt() / do_tcp_getsockopt() ---- */

static int sol_tcp_set(struct inet_sock *sk, int optname, const void *optval, socklen_t optlen)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int val;

	if (optlen < sizeof(int))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	memcpy(&val, optval, sizeof(val));
	switch (optname) {
	case TCP_NODELAY:
		tp->nodelay = val != 0;
		if (tp->nodelay)
			tcp_push(tp);   /* what Nagle held goes now */
		return 0;
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
		/* 1 .. MAX_TCP_KEEPIDLE / MAX_TCP_KEEPINTVL (32767 s) */
		if (val < 1 || val > 32767)
			return -EINVAL;
		if (optname == TCP_KEEPIDLE)
			tp->keepidle_s = (uint16_t)val;
		else
			tp->keepintvl_s = (uint16_t)val;
		/* keepalive_time_set(): a pending idle timer takes the new time. */
		if (optname == TCP_KEEPIDLE && tp->keepalive && tp->snd_una == tp->snd_max && !tp->snd_len &&
		    (sk->state == INET_ESTABLISHED || sk->state == INET_CLOSE_WAIT))
			tcp_timer_idle(tp);
		return 0;
	case TCP_KEEPCNT:
		if (val < 1 || val > 127)   /* MAX_TCP_KEEPCNT */
			return -EINVAL;
		tp->keepcnt = (uint8_t)val;
		return 0;
	case TCP_MAXSEG:
		/* TCP_MIN_MSS 88 .. MAX_TCP_WINDOW 32767; 0 clears. */
		if (val && (val < 88 || val > 32767))
			return -EINVAL;
		tp->user_mss = (uint16_t)val;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int sol_tcp_get(struct dtcp_stack *st, struct inet_sock *sk, int optname, void *optval, socklen_t *optlen)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int len = (int)*optlen, val;

	if (len < 0)
		return -EINVAL;
	switch (optname) {
	case TCP_NODELAY:
		val = tp->nodelay;
		break;
	case TCP_KEEPIDLE:
		val = (int)tp->keepidle_s;
		break;
	case TCP_KEEPINTVL:
		val = (int)tp->keepintvl_s;
		break;
	case TCP_KEEPCNT:
		val = tp->keepcnt;
		break;
	case TCP_MAXSEG:
		val = sk->state == INET_CLOSE || sk->state == INET_LISTEN ? (tp->user_mss ? tp->user_mss : 536)
		                                                            : (int)tcp_send_mss(tp);
		break;
	case TCP_INFO: {
		struct tcp_info ti;

		memset(&ti, 0, sizeof(ti));
		ti.tcpi_state = sk->state;
		ti.tcpi_retransmits = tp->retries;
		ti.tcpi_backoff = tp->rtt.backoff;
		ti.tcpi_options = (tp->ts_ok ? TCPI_OPT_TIMESTAMPS : 0) | (tp->sack_ok ? TCPI_OPT_SACK : 0) |
		                  (tp->ws_ok ? TCPI_OPT_WSCALE : 0);
		ti.tcpi_snd_wscale = tp->snd_wscale & 0xf;
		ti.tcpi_rcv_wscale = tp->rcv_wscale & 0xf;
		ti.tcpi_rto = tcp_rtt_rto(&tp->rtt);
		ti.tcpi_snd_mss = tcp_send_mss(tp);
		ti.tcpi_rcv_mss = tp->mss;
		ti.tcpi_unacked = (tp->snd_max - tp->snd_una + tcp_send_mss(tp) - 1) / tcp_send_mss(tp);
		ti.tcpi_rtt = tcp_rtt_srtt(&tp->rtt);
		ti.tcpi_rttvar = tp->rtt.rttvar8 >> 3;
		ti.tcpi_snd_ssthresh = tcp_cc_ssthresh(&tp->cc) / tcp_send_mss(tp);
		ti.tcpi_snd_cwnd = tcp_cc_cwnd(&tp->cc) / tcp_send_mss(tp);
		ti.tcpi_advmss = tp->mss;
		ti.tcpi_rcv_space = tcp_rcv_window(tp);
		ti.tcpi_total_retrans = tp->total_retrans;
		(void)st;
		return opt_out(optval, optlen, (size_t)len, &ti, sizeof(ti));
	}
	default:
		return -ENOPROTOOPT;
	}
	return opt_out(optval, optlen, (size_t)len, &val, sizeof(val));
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
		sk->ipv6_mtu = (uint16_t)DTCP_MIN((unsigned int)val, 65535u);
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
	return opt_out(optval, optlen, len, &val, sizeof(val));
}

int sock_setsockopt(struct dtcp_stack *st, struct inet_sock *sk, int level, int optname,
                    const void *optval, socklen_t optlen)
{
	if (level == SOL_SOCKET)
		return sol_socket_set(st, sk, optname, optval, optlen);
	if (level == SOL_TCP)
		return sol_tcp_set(sk, optname, optval, optlen);
	if (level == SOL_IP)
		return sol_ip_set(st, sk, optname, optval, optlen);
	if (level == SOL_IPV6 && sk->family == AF_INET6)
		return sol_ipv6_set(sk, optname, optval, optlen);
	return -ENOPROTOOPT;
}

int sock_getsockopt(struct dtcp_stack *st, struct inet_sock *sk, int level, int optname, void *optval,
                    socklen_t *optlen)
{
	if (level == SOL_SOCKET)
		return sol_socket_get(sk, optname, optval, optlen);
	if (level == SOL_TCP)
		return sol_tcp_get(st, sk, optname, optval, optlen);
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
