/* connect() up to the SYN, disconnect, TIME_WAIT entry and release
 * (spec section 5). The TCP engine drives the states in between. */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "inet/inet_ops.h"
#include "inet/port_select.h"
#include "stack.h"

/* Drop a TIME_WAIT whose 4-tuple a new connection takes over; the new
 * connection starts its sequence space past the old one (spec 5.6). */
static void tw_recycle(struct dtcp_stack *st, struct inet_sock *sk, struct inet_sock *tw)
{
	sk->tw_taken = 1;
	sk->tw_snd_nxt = tw->tw_snd_nxt;
	st->cnt.tw_recycled++;
	sock_timewait_end(tw);
}

/* Mirrors __inet_hash_connect(): bound-port mode (5.3) or the search (5.4),
 * then the established-table insert (after the search; when defer_insert,
 * left to inet_connect_insert() with the rest of the port's accounting). */
static int inet_hash_connect(struct dtcp_stack *st, struct inet_sock *sk, bool defer_insert)
{
	struct inet_sock *tw = NULL;
	uint64_t h;
	int err;

	if (sk->num) {
		struct inet_sock *o = ehash_lookup(&st->eh, &sk->rcv_saddr, sk->num, &sk->daddr, sk->dport);

		if (o) {
			if (o->state != INET_TIME_WAIT || !inet_tw_recyclable(st, o, true))
				return -EADDRNOTAVAIL;
			tw = o;
		}
		/* A socket that moved into a connect-owned address bucket (bind
		 * to a wildcard, then connect) sits on a port the search may
		 * use: its 4-tuple must be visible there. */
		if (inet_bucket2_connect_owned(sk->tb2)) {
			int err = dest_add(&st->dt, sk);

			if (err)
				return err;
		}
		if (tw)
			tw_recycle(st, sk, tw);
		ehash_insert(&st->eh, sk);
		return 0;
	}
	err = inet_connect_search(st, sk, inet_port_offset(st, &sk->rcv_saddr, &sk->daddr, sk->dport), &tw, &h,
	                          defer_insert);
	if (err)
		return err;
	err = dest_add(&st->dt, sk);
	if (err) {
		inet_bind_connect_finish(st, sk);
		inet_put_port(st, sk);
		return err;
	}
	if (tw)
		tw_recycle(st, sk, tw);
	if (defer_insert) {
		/* The insert's group was prefetched when the port was chosen;
		 * connect() inserts once its SYN is out (no segment is handled
		 * before then), when the line has arrived. */
		st->connect_insert = sk;
		st->connect_insert_h = h;
	} else {
		ehash_insert_h(&st->eh, sk, h);
	}
	return 0;
}

void inet_connect_insert(struct dtcp_stack *st)
{
	struct inet_sock *sk = st->connect_insert;

	st->connect_insert = NULL;
	if (!sk)
		return;
	inet_bind_connect_finish(st, sk);
	/* Its slot is written at the table's next insert (the next connect(),
	 * or the next segment's child): the line has surely arrived then. */
	if (!sk->ehashed && sk->state == INET_SYN_SENT)
		ehash_insert_later(&st->eh, sk, st->connect_insert_h);
}

void inet_state_set(struct dtcp_stack *st, struct inet_sock *sk, uint8_t state)
{
	uint8_t old = sk->state;

	if (state == INET_ESTABLISHED ? old != INET_ESTABLISHED
	    : state == INET_CLOSE_WAIT ? old == INET_SYN_RECV : false)
		st->tcpc.TcpCurrEstab++;
	else if (state != INET_ESTABLISHED && state != INET_CLOSE_WAIT &&
	         (old == INET_ESTABLISHED || old == INET_CLOSE_WAIT))
		st->tcpc.TcpCurrEstab--;
	sk->state = state;
}

/* Mirrors tcp_set_state(CLOSE) from another state: leave the established
 * table, and give the port back unless bind() fixed it. */
void inet_set_state_close(struct dtcp_stack *st, struct inet_sock *sk)
{
	if (sk->state == INET_LISTEN)
		lhash_remove(&st->lh, sk);
	else
		ehash_remove(&st->eh, sk);
	dest_del(&st->dt, sk);
	if (sk->num && !sk->bindport_lock)
		inet_put_port(st, sk);
	inet_state_set(st, sk, INET_CLOSE);
}

/* Mirrors inet_bhash2_reset_saddr() and the rest of a connect() undo: the
 * address goes back to the wildcard unless bind() fixed it. */
static void connect_undo(struct dtcp_stack *st, struct inet_sock *sk)
{
	struct in6_addr any;

	if (!sk->bindaddr_lock) {
		addr_set_any(&any, sk->family);
		/* Moving back to the wildcard bucket cannot need a new bucket
		 * often; if memory is short the socket keeps the address. */
		(void)inet_bhash2_update_saddr(st, sk, &any);
	}
	sk->dport = 0;
	addr_set_any(&sk->daddr, sk->family);
}

/* Route lookup and source choice for an IPv4 (or mapped) destination:
 * mirrors ip_route_connect() for the connected routes dtcp has. */
static int route_v4(struct dtcp_stack *st, struct inet_sock *sk, uint32_t daddr, struct in6_addr *dst,
                    struct in6_addr *src)
{
	enum v4_addr_class cls;

	if (daddr == 0) {
		/* 0.0.0.0 means this host: the bound address, else loopback. */
		daddr = addr_is_mapped(&sk->rcv_saddr) && addr_v4(&sk->rcv_saddr) ? addr_v4(&sk->rcv_saddr)
		                                                                   : htonl(INADDR_LOOPBACK);
	}
	cls = ifaddr_v4_class(&st->ifs, daddr);
	if (cls == V4_MULTICAST || cls == V4_BROADCAST)
		return -ENETUNREACH;
	addr_set_mapped(dst, daddr);
	return ifaddr_select_source(&st->ifs, dst, src);
}

/* tcp_v4_connect() steps 1-3: arguments, route, source. */
static int connect4_route(struct dtcp_stack *st, struct inet_sock *sk, const struct sockaddr *uaddr,
                          socklen_t addrlen, struct in6_addr *dst, struct in6_addr *src, uint16_t *dport)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)uaddr;

	if (addrlen < sizeof(struct sockaddr_in))
		return -EINVAL;
	if (sin->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	*dport = ntohs(sin->sin_port);
	return route_v4(st, sk, sin->sin_addr.s_addr, dst, src);
}

/* tcp_v6_connect() steps 1-5; a mapped destination runs the IPv4 steps. */
static int connect6_route(struct dtcp_stack *st, struct inet_sock *sk, const struct sockaddr *uaddr,
                          socklen_t addrlen, struct in6_addr *dst, struct in6_addr *src, uint16_t *dport)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)uaddr;
	struct in6_addr d;

	if (addrlen < 24)
		return -EINVAL;
	if (sin6->sin6_family != AF_INET6)
		return -EAFNOSUPPORT;
	d = sin6->sin6_addr;
	*dport = ntohs(sin6->sin6_port);
	if (addr_is_any6(&d)) {
		/* :: means this host: ::1, or 127.0.0.1 for a socket bound mapped. */
		if (addr_is_mapped(&sk->rcv_saddr))
			addr_set_mapped(&d, htonl(INADDR_LOOPBACK));
		else
			d = (struct in6_addr)IN6ADDR_LOOPBACK_INIT;
	}
	if (addr_is_multicast6(&d))
		return -ENETUNREACH;
	if (addr_is_linklocal6(&d)) {
		uint32_t scope = addrlen >= sizeof(struct sockaddr_in6) ? sin6->sin6_scope_id : 0;

		if (scope) {
			if (sk->bound_dev_if && (uint32_t)sk->bound_dev_if != scope)
				return -EINVAL;
			sk->bound_dev_if = (int)scope;
		}
		if (!sk->bound_dev_if)
			return -EINVAL;
	}
	if (addr_is_mapped(&d)) {
		if (sk->ipv6only)
			return -ENETUNREACH;
		/* A native address bound without a port, V6ONLY cleared since:
		 * the kernel's IPv4 side sources from its placeholder
		 * 127.0.0.6 (LOOPBACK4_IPV6). */
		if (!addr_is_any6(&sk->rcv_saddr) && !addr_is_mapped(&sk->rcv_saddr) && !sk->num) {
			struct in6_addr ph;

			addr_set_mapped(&ph, htonl(0x7f000006));
			sk->rcv_saddr = ph;
		}
		return route_v4(st, sk, addr_v4(&d), dst, src);
	}
	/* A socket bound to a mapped address (::ffff:0.0.0.0 included)
	 * cannot reach a native IPv6 destination. */
	if (addr_is_mapped(&sk->rcv_saddr))
		return -EAFNOSUPPORT;
	*dst = d;
	return ifaddr_select_source(&st->ifs, dst, src);
}

int inet_connect(struct dtcp_stack *st, struct inet_sock *sk, const struct sockaddr *uaddr, socklen_t addrlen)
{
	return inet_connect_defer(st, sk, uaddr, addrlen, false);
}

int inet_connect_defer(struct dtcp_stack *st, struct inet_sock *sk, const struct sockaddr *uaddr, socklen_t addrlen,
                       bool defer_insert)
{
	struct in6_addr dst, src, saved = sk->rcv_saddr;
	uint16_t dport;
	int err;

	if (addrlen < sizeof(uaddr->sa_family))
		return -EINVAL;
	if (uaddr->sa_family == AF_UNSPEC) {
		inet_disconnect(st, sk);
		return 0;
	}
	switch (sk->ss) {
	case INET_SS_CONNECTED:
		return -EISCONN;
	case INET_SS_CONNECTING:
		/* __inet_stream_connect(): still handshaking, EALREADY; ended
		 * badly, the pending error (ECONNABORTED if it was read already)
		 * and the disconnect; done, this call reports success once. */
		if (sk->state == INET_SYN_SENT || sk->state == INET_SYN_RECV)
			return -EALREADY;
		if (sk->state == INET_CLOSE) {
			int err = sk->err ? sk->err : ECONNABORTED;

			sk->err = 0;
			inet_disconnect(st, sk);
			return -err;
		}
		sk->ss = INET_SS_CONNECTED;
		return 0;
	default:
		if (sk->state != INET_CLOSE)
			return -EISCONN;
	}
	if (sk->family == AF_INET6)
		err = connect6_route(st, sk, uaddr, addrlen, &dst, &src, &dport);
	else
		err = connect4_route(st, sk, uaddr, addrlen, &dst, &src, &dport);
	if (err) {
		if (!sk->num)
			sk->rcv_saddr = saved;
		return err;
	}
	/* No bound address: take the route's source (moving address buckets
	 * if the socket already holds a port). */
	if (addr_is_wildcard(&sk->rcv_saddr)) {
		err = inet_bhash2_update_saddr(st, sk, &src);
		if (err)
			return err;
	}
	sk->daddr = dst;
	sk->dport = dport;
	inet_state_set(st, sk, INET_SYN_SENT);
	err = inet_hash_connect(st, sk, defer_insert);
	if (err) {
		inet_set_state_close(st, sk);
		connect_undo(st, sk);
		if (!sk->num && sk->bindaddr_lock)
			sk->rcv_saddr = saved;
		return err;
	}
	sk->ss = INET_SS_CONNECTING;
	return 0;
}

void inet_disconnect(struct dtcp_stack *st, struct inet_sock *sk)
{
	/* Mirrors tcp_disconnect(): a socket already CLOSE keeps its port. */
	if (sk->state != INET_CLOSE)
		inet_set_state_close(st, sk);
	connect_undo(st, sk);
	sk->ss = INET_SS_UNCONNECTED;
}

void inet_enter_timewait(struct dtcp_stack *st, struct inet_sock *sk, bool peer_ts, bool fin_wait2)
{
	DTCP_ASSERT(ehash_hashed(sk));
	/* If the bitmap chunk cannot be had, the entry stays counted live: the
	 * search then treats the port as in use, which is safe. */
	(void)dest_to_timewait(&st->dt, sk);
	inet_state_set(st, sk, INET_TIME_WAIT);
	sk->tw_stamp_ms = stack_now_ms(st);
	sk->tw_has_ts = peer_ts;
	sk->tw_fin_wait2 = fin_wait2;
}

void inet_release(struct dtcp_stack *st, struct inet_sock *sk)
{
	if (sk->state == INET_LISTEN)
		lhash_remove(&st->lh, sk);
	else
		ehash_remove(&st->eh, sk);
	dest_del(&st->dt, sk);
	inet_put_port(st, sk);
	inet_state_set(st, sk, INET_CLOSE);
}
