/* The life of a TCP control block: initial state, buffers, the active open,
 * close(), TIME_WAIT and the end of a connection. Stack thread only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "inet/inet_ops.h"
#include "netif.h"
#include "siphash.h"
#include "stack.h"
#include "tcp/tcp_sock.h"

void tcp_sock_init(struct tcp_sock *tp, struct dtcp_stack *st)
{
	tp->st = st;
	tcp_timer_init(tp);
	tcp_rtt_init(&tp->rtt, &st->rtt_params);
	/* tcp_init_sock(): the buffers start at tcp_rmem[1] / tcp_wmem[1]. */
	tp->rcvbuf = (uint32_t)st->sysctl.tcp_rmem[1];
	tp->sndbuf = (uint32_t)st->sysctl.tcp_wmem[1];
	tp->mss = 536;
	tp->keepidle_s = 7200;
	tp->keepintvl_s = 75;
	tp->keepcnt = 9;
}

static void rcvq_free(struct tcp_sock *tp)
{
	while (tp->rcvq_head) {
		struct dtcp_pkt *p = tp->rcvq_head;

		tp->rcvq_head = p->next;
		p->next = NULL;
		pkt_free_any(tp->st, p);
	}
	tp->rcvq_tail = NULL;
	tp->rcvq_bytes = 0;
}

void tcp_sock_free_buffers(struct tcp_sock *tp)
{
	rcvq_free(tp);
	if (tp->ooo) {
		tcp_ooo_purge(tp->ooo);
		pool_put(&tp->st->ooo_pool, tp->ooo);
		tp->ooo = NULL;
	}
	tcp_sndbuf_release(tp);
}

void tcp_sndbuf_release(struct tcp_sock *tp)
{
	free(tp->snd_data);
	tp->snd_data = NULL;
	tp->snd_cap = tp->snd_head = tp->snd_len = 0;
}

void tcp_sndbuf_expand(struct tcp_sock *tp)
{
	uint32_t smss = tcp_send_mss(tp), segs = tcp_cc_cwnd(&tp->cc) / (smss ? smss : 1);
	uint64_t want;
	uint32_t max = (uint32_t)tp->st->sysctl.tcp_wmem[2];

	if (tp->sndbuf_lock)
		return;
	if (segs < 10)
		segs = 10;
	want = 2ull * segs * smss;
	if (want > max)
		want = max;
	if (want > tp->sndbuf)
		tp->sndbuf = (uint32_t)want;
}

/* A larger ring for the send queue, its bytes moved to the front. */
static int sndbuf_regrow(struct tcp_sock *tp, uint32_t cap)
{
	uint8_t *d = malloc(cap);
	uint32_t first;

	if (!d)
		return -ENOBUFS;
	first = tp->snd_cap - tp->snd_head;
	if (first > tp->snd_len)
		first = tp->snd_len;
	memcpy(d, tp->snd_data + tp->snd_head, first);
	memcpy(d + first, tp->snd_data, tp->snd_len - first);
	free(tp->snd_data);
	tp->snd_data = d;
	tp->snd_cap = cap;
	tp->snd_head = 0;
	return 0;
}

int tcp_sndbuf_write(struct tcp_sock *tp, const void *buf, uint32_t len)
{
	uint32_t room, n, pos, first;

	if (!tp->snd_data) {
		/* Taken on first write, sized by SO_SNDBUF (power of two). */
		uint32_t cap = roundup_pow2_u32(tp->sndbuf);

		tp->snd_data = malloc(cap);
		if (!tp->snd_data)
			return -ENOBUFS;
		tp->snd_cap = cap;
		tp->snd_head = 0;
		tp->snd_len = 0;
	} else if (tp->sndbuf > tp->snd_cap && tp->snd_len + len > tp->snd_cap) {
		/* The buffer grew (tcp_sndbuf_expand, SO_SNDBUF): so does the ring. */
		int err = sndbuf_regrow(tp, roundup_pow2_u32(tp->sndbuf));

		if (err && tp->snd_len >= tp->snd_cap)
			return err;
	}
	room = (tp->sndbuf < tp->snd_cap ? tp->sndbuf : tp->snd_cap) - tp->snd_len;
	if ((int32_t)room <= 0)
		return 0;
	n = len < room ? len : room;
	pos = (tp->snd_head + tp->snd_len) & (tp->snd_cap - 1);
	first = tp->snd_cap - pos;
	if (first > n)
		first = n;
	memcpy(tp->snd_data + pos, buf, first);
	memcpy(tp->snd_data, (const uint8_t *)buf + first, n - first);
	tp->snd_len += n;
	return (int)n;
}

void tcp_sndbuf_consume(struct tcp_sock *tp, uint32_t n)
{
	DTCP_ASSERT(n <= tp->snd_len);
	tp->snd_head = (tp->snd_head + n) & (tp->snd_cap - 1);
	tp->snd_len -= n;
	if (!tp->snd_len)
		tcp_sndbuf_release(tp);   /* drained: idle connections hold no memory */
}

uint32_t tcp_isn(struct dtcp_stack *st, const struct inet_sock *sk)
{
	/* RFC 6528: a keyed hash of the connection's identity plus a clock
	 * that ticks every 64 ns (Linux's choice); for IPv4 the identity is
	 * its 12 bytes (addresses and ports), as Linux hashes it. */
	uint8_t msg[36];
	uint64_t h;

	if (addr_is_mapped(&sk->rcv_saddr) && addr_is_mapped(&sk->daddr)) {
		memcpy(msg, &sk->rcv_saddr.s6_addr32[3], 4);
		memcpy(msg + 4, &sk->daddr.s6_addr32[3], 4);
		memcpy(msg + 8, &sk->num, 2);
		memcpy(msg + 10, &sk->dport, 2);
		h = siphash24(st->secret, msg, 12);
	} else {
		memcpy(msg, &sk->rcv_saddr, 16);
		memcpy(msg + 16, &sk->daddr, 16);
		memcpy(msg + 32, &sk->num, 2);
		memcpy(msg + 34, &sk->dport, 2);
		h = siphash24(st->secret, msg, 36);
	}
	return (uint32_t)h + (uint32_t)(stack_now_ns(st) >> 6);
}

int tcp_connect(struct tcp_sock *tp)
{
	struct dtcp_stack *st = tp->st;
	int err;

	/* A connection that took over a TIME_WAIT starts past its sequence
	 * space (tcp_twsk_unique(): snd_nxt + 65535 + 2, never 0). */
	if (tp->inet.tw_taken) {
		tp->iss = tp->inet.tw_snd_nxt + 65537;
		if (!tp->iss)
			tp->iss = 1;
		tp->inet.tw_taken = 0;
	} else {
		tp->iss = tcp_isn(st, &tp->inet);
	}
	tp->snd_una = tp->iss;
	tp->snd_nxt = tp->iss + 1;
	tp->snd_max = tp->snd_nxt;
	tp->rcv_wscale = 7;
	tp->retries = 0;
	err = tcp_send_segment(tp, TCP_FLAG_SYN, tp->iss, 0, 0);
	if (err)
		return err;
	tcp_rtt_segment_sent(&tp->rtt, tp->snd_nxt, stack_now_ns(st) / 1000u);
	tcp_rtx_arm(tp, tcp_rto_ms(tp));
	st->tcpc.TcpActiveOpens++;
	return 0;
}

/* Free a socket that has no descriptor and holds nothing any more. */
static void tcp_free(struct tcp_sock *tp)
{
	inet_release(tp->st, &tp->inet);
	sock_destroy(tp->st, &tp->inet);
}

/* A child that never reached accept(): off its listener's books. */
static void tcp_unlink_child(struct tcp_sock *tp)
{
	struct tcp_sock *l = tp->parent;

	if (!l)
		return;
	if (tp->in_acceptq) {
		struct tcp_sock **pp = &l->acceptq_head, *prev = NULL;

		while (*pp && *pp != tp) {
			prev = *pp;
			pp = &(*pp)->acc_next;
		}
		if (*pp) {
			*pp = tp->acc_next;
			if (l->acceptq_tail == tp)
				l->acceptq_tail = prev;
			l->acceptq_len--;
		}
		tp->in_acceptq = 0;
	} else {
		hlist_del(&tp->child_node);
		l->synq_len--;
	}
	tp->parent = NULL;
}

void tcp_done(struct tcp_sock *tp, int err)
{
	struct inet_sock *sk = &tp->inet;
	struct dtcp_stack *st = tp->st;
	uint8_t old = sk->state;

	tcp_timer_stop_all(tp);
	if (old == INET_SYN_SENT || old == INET_SYN_RECV)
		st->tcpc.TcpAttemptFails++;
	else if (err == ECONNRESET && (old == INET_ESTABLISHED || old == INET_CLOSE_WAIT))
		st->tcpc.TcpEstabResets++;
	if (tp->parent) {
		/* Never accepted: nobody will see it. */
		tcp_unlink_child(tp);
		tcp_free(tp);
		return;
	}
	if (err)
		sk->err = err;
	if (sk->fd < 0) {
		tcp_free(tp);
		return;
	}
	if (old == INET_SYN_SENT) {
		/* A failed connect(): the port goes (unless bind() fixed it); the
		 * rest of spec 5.9's undo comes with the next connect() or the
		 * blocking connect() that waits for this. */
		inet_set_state_close(st, sk);
		sock_wakeup(st, sk);
		return;
	}
	inet_set_state_close(st, sk);
	tp->rcv_shutdown = 1;
	tp->snd_shutdown = 1;
	sock_wakeup(st, sk);
}

void tcp_time_wait(struct tcp_sock *tp)
{
	struct dtcp_stack *st = tp->st;

	st->tcpc.TcpExtTW++;
	if (tp->ack_sched)
		tcp_send_ack(tp);   /* an owed ACK goes before the send side closes */
	tp->inet.tw_snd_nxt = tp->snd_nxt;
	/* The send side is done; what was received stays readable while the
	 * application holds the descriptor (shutdown(SHUT_WR), then TIME_WAIT
	 * before it read everything). */
	if (tp->inet.fd < 0) {
		tcp_sock_free_buffers(tp);
	} else {
		tcp_sndbuf_release(tp);
		if (tp->ooo) {
			tcp_ooo_purge(tp->ooo);
			pool_put(&st->ooo_pool, tp->ooo);
			tp->ooo = NULL;
		}
	}
	tp->rcv_shutdown = 1;
	tp->snd_shutdown = 1;
	inet_enter_timewait(st, &tp->inet, tp->ts_ok, false);
	tcp_rtx_arm(tp, TCP_MSL_TW_MS);
}

/* Reset and free the children of a listener that closes. */
static void tcp_listen_stop(struct tcp_sock *l)
{
	while (l->acceptq_head) {
		struct tcp_sock *c = l->acceptq_head;

		tcp_send_active_reset(c);
		tcp_done(c, ECONNRESET);
	}
	while (l->synq.first) {
		struct tcp_sock *c = DTCP_CONTAINER_OF(l->synq.first, struct tcp_sock, child_node);

		tcp_send_active_reset(c);
		tcp_done(c, ECONNRESET);
	}
}

void tcp_close(struct tcp_sock *tp)
{
	struct inet_sock *sk = &tp->inet;
	struct dtcp_stack *st = tp->st;

	if (sk->fd >= 0) {
		socket_table_release(&st->socks, sk->fd);
		sk->fd = -1;
	}
	switch (sk->state) {
	case INET_LISTEN:
		tcp_listen_stop(tp);
		inet_release(st, sk);
		sock_destroy(st, sk);
		return;
	case INET_CLOSE:
	case INET_SYN_SENT:
		tcp_timer_stop_all(tp);
		tcp_free(tp);
		return;
	case INET_TIME_WAIT:
		return;   /* the timer frees it */
	default:
		break;
	}
	if (tp->rcvq_bytes || (tp->linger_on && !tp->linger_s)) {
		/* RFC 2525 2.17 (and Linux): unread data means an abort; so does
		 * SO_LINGER with a zero timeout. */
		if (tp->rcvq_bytes)
			st->tcpc.TcpExtTCPAbortOnData++;
		if (sk->state != INET_SYN_RECV || !tp->parent)
			tcp_send_active_reset(tp);
		tcp_done(tp, 0);
		return;
	}
	switch (sk->state) {
	case INET_SYN_RECV:
	case INET_ESTABLISHED:
		inet_state_set(st, sk, INET_FIN_WAIT1);
		break;
	case INET_CLOSE_WAIT:
		inet_state_set(st, sk, INET_LAST_ACK);
		break;
	case INET_FIN_WAIT2:
		tcp_rtx_arm(tp, TCP_FIN_TIMEOUT_MS);
		return;
	default:
		return;   /* a FIN is already on its way */
	}
	tp->fin_queued = 1;
	tp->snd_shutdown = 1;
	tcp_push(tp);
}

int tcp_shutdown(struct tcp_sock *tp, int how)
{
	struct inet_sock *sk = &tp->inet;

	/* inet_shutdown(): SHUT_RD, SHUT_WR or SHUT_RDWR, on a connected socket. */
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	switch (sk->state) {
	case INET_ESTABLISHED:
	case INET_CLOSE_WAIT:
	case INET_SYN_RECV:
	case INET_FIN_WAIT1:
	case INET_FIN_WAIT2:
	case INET_CLOSING:
	case INET_LAST_ACK:
	case INET_TIME_WAIT:
		break;
	case INET_SYN_SENT:
		/* Not connected yet: the connect is abandoned (tcp_disconnect). */
		tcp_done(tp, 0);
		return 0;
	default:
		return -ENOTCONN;
	}
	if (how != SHUT_WR)
		tp->user_rd_shutdown = 1;
	if (how == SHUT_RD || tp->snd_shutdown)
		return 0;
	/* The write side: a FIN after the queued data (RFC 9293 3.10.4). */
	if (sk->state == INET_ESTABLISHED || sk->state == INET_SYN_RECV)
		inet_state_set(tp->st, sk, INET_FIN_WAIT1);
	else if (sk->state == INET_CLOSE_WAIT)
		inet_state_set(tp->st, sk, INET_LAST_ACK);
	tp->fin_queued = 1;
	tp->snd_shutdown = 1;
	tcp_push(tp);
	return 0;
}
