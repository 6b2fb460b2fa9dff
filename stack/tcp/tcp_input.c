/* The receive path (RFC 9293 3.10.7, "SEGMENT ARRIVES"): header and
 * checksum validation, demultiplexing (established table, then listeners),
 * the reset for a segment that reaches no socket (3.10.7.1), the passive and
 * active opens, and the synchronized states with RFC 5961's protections.
 * Stack thread only. */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "ip/csum.h"
#include "ip/ip.h"
#include "ip/pmtu.h"
#include "netif.h"
#include "pkt.h"
#include "stack.h"
#include "tcp/tcp.h"
#include "tcp/tcp_hdr.h"
#include "tcp/tcp_opts.h"
#include "tcp/tcp_sock.h"
#include "inet/inet_ops.h"
#include "sock/sock.h"

static uint64_t tcp_pseudo(const struct in6_addr *s, const struct in6_addr *d, uint32_t len)
{
	if (addr_is_mapped(s))
		return csum_pseudo_v4(addr_v4(s), addr_v4(d), IPPROTO_TCP, len);
	return csum_pseudo_v6(s, d, IPPROTO_TCP, len);
}

/* RFC 9293 3.10.7.1: no connection. An incoming RST is dropped; to an ACK
 * the reset takes its sequence from SEG.ACK; otherwise it is sequence 0
 * acknowledging everything the segment occupied. */
static void tcp_send_reset(struct dtcp_stack *st, struct netif *in, const struct tcp_hdr *th, uint32_t seg_len,
                           const struct in6_addr *saddr, const struct in6_addr *daddr)
{
	uint8_t flags = tcp_hdr_flags(th);
	struct dtcp_pkt *p;
	struct tcp_hdr *rh;

	if (flags & TCP_FLAG_RST)
		return;
	/* Never answer a broadcast or multicast destination. */
	if (addr_is_mapped(daddr) ? ifaddr_v4_class(&st->ifs, addr_v4(daddr)) != V4_LOCAL
	                          : addr_is_multicast6(daddr))
		return;
	p = netif_pkt_alloc(in);
	if (!p || !(rh = (struct tcp_hdr *)pkt_append(p, sizeof(*rh)))) {
		if (p)
			netif_pkt_free(in, p);
		return;
	}
	p->ifindex = (uint16_t)in->ifindex;
	memset(rh, 0, sizeof(*rh));
	rh->sport = th->dport;
	rh->dport = th->sport;
	tcp_hdr_set_doff(rh, sizeof(*rh));
	if (flags & TCP_FLAG_ACK) {
		rh->seq = th->ack;
		tcp_hdr_set_flags(rh, TCP_FLAG_RST);
	} else {
		seg_len += !!(flags & TCP_FLAG_SYN) + !!(flags & TCP_FLAG_FIN);
		rh->ack = htonl(ntohl(th->seq) + seg_len);
		tcp_hdr_set_flags(rh, TCP_FLAG_RST | TCP_FLAG_ACK);
	}
	rh->csum = csum_finish(csum_add_buf(tcp_pseudo(daddr, saddr, sizeof(*rh)), rh, sizeof(*rh), false));
	st->tcpc.TcpOutSegs++;
	st->tcpc.TcpOutRsts++;
	if (addr_is_mapped(saddr))
		ipv4_output(st, p, addr_v4(daddr), addr_v4(saddr), IPPROTO_TCP, 0, 64);
	else
		ipv6_output(st, p, daddr, saddr, IPPROTO_TCP, 64);
}

/* What a segment carries, parsed once. */
struct seg_info {
	const struct tcp_hdr *th;
	struct tcp_opts opts;
	uint32_t seq, ack, len;      /* len: payload bytes */
	uint32_t doff;
	uint16_t wnd;
	uint8_t flags;
	uint64_t hash;               /* the 4-tuple's established-table hash */
};

static void tcp_take_options(struct tcp_sock *tp, const struct seg_info *si)
{
	/* RFC 9293 3.7.1: without an MSS option, 536 (IPv4) or 1220 (IPv6). */
	uint16_t peer_mss = (si->opts.present & TCP_OPTS_MSS) ? si->opts.mss
	                    : addr_is_mapped(&tp->inet.daddr) ? 536 : 1220;
	uint16_t route = tcp_path_mss(tp);

	tp->mss = peer_mss < route ? peer_mss : route;
	if (tp->user_mss && tp->user_mss < tp->mss)
		tp->mss = tp->user_mss;   /* TCP_MAXSEG */
	/* Scaling only if both sides offered it (RFC 7323 2.2). */
	tp->ws_ok = !!(si->opts.present & TCP_OPTS_WSCALE);
	tp->snd_wscale = tp->ws_ok ? si->opts.wscale : 0;
	if (!tp->ws_ok)
		tp->rcv_wscale = 0;
	tp->sack_ok = !!(si->opts.present & TCP_OPTS_SACK_PERM);
	tp->ts_ok = !!(si->opts.present & TCP_OPTS_TS);
	if (tp->ts_ok)
		tp->ts_recent = si->opts.tsval;
}

/* The handshake's round trip: a first RTT sample, or after a retransmitted
 * SYN / SYN-ACK without one, RFC 6298 5.7's 3 s (Linux TCP_TIMEOUT_FALLBACK). */
static void tcp_rtt_synced(struct tcp_sock *tp, uint32_t ack)
{
	struct dtcp_stack *st = tp->st;

	if (!tcp_rtt_ack(&tp->rtt, &st->rtt_params, ack, stack_now_ns(st) / 1000u) && !tp->rtt.has_srtt &&
	    tp->retries) {
		tp->rtt.rto_us = 3000000;
		tp->rtt.backoff = 0;
	}
}

/* The connection is synchronized: congestion state from the agreed MSS. */
static void tcp_established_init(struct dtcp_stack *st, struct tcp_sock *tp)
{
	tcp_cc_init(&tp->cc, tcp_send_mss(tp), tp->iss, stack_now_ns(st) / 1000u);
	tp->quickacks = TCP_MAX_QUICKACKS;   /* data starts to flow: quick ACKs (tcp_incr_quickack) */
	tcp_sndbuf_expand(tp);               /* tcp_init_buffer_space() */
	tp->rcvq_space_seq = tp->rcv_nxt;
	tp->rcvq_space_at = (uint32_t)stack_ticks(st);
}

/* A SYN for a listener: a child in SYN_RECV, answered with a SYN-ACK. */
static void tcp_rcv_listen(struct dtcp_stack *st, struct tcp_sock *l, const struct seg_info *si,
                           const struct in6_addr *saddr, const struct in6_addr *daddr, struct netif *in)
{
	struct tcp_sock *c;
	struct inet_sock *csk;

	if (si->flags & TCP_FLAG_RST)
		return;
	if (si->flags & TCP_FLAG_ACK) {
		tcp_send_reset(st, in, si->th, si->len, saddr, daddr);
		return;
	}
	if (!(si->flags & TCP_FLAG_SYN) || (si->flags & TCP_FLAG_FIN))
		return;
	/* A full accept queue (sk_acceptq_is_full(): more than the backlog,
	 * so listen(fd, 0) still admits one), or a full SYN queue
	 * (tcp_max_syn_backlog): the SYN is dropped and counted; the peer
	 * retries. */
	if (l->acceptq_len > (uint32_t)l->inet.backlog || l->synq_len >= (uint32_t)st->sysctl.tcp_max_syn_backlog) {
		st->tcpc.TcpExtListenOverflows++;
		st->tcpc.TcpExtListenDrops++;
		return;
	}
	csk = sock_create(st, l->inet.family);
	if (!csk) {
		st->tcpc.TcpExtListenDrops++;
		return;
	}
	c = tcp_sk(csk);
	csk->rcv_saddr = *daddr;
	csk->daddr = *saddr;
	csk->dport = ntohs(si->th->sport);
	csk->sport = l->inet.num;
	csk->ipv6only = l->inet.ipv6only;
	csk->uid = l->inet.uid;
	/* sk_clone_lock(): the child starts with the listener's options. */
	c->rcvbuf = l->rcvbuf;
	c->sndbuf = l->sndbuf;
	c->rcvbuf_lock = l->rcvbuf_lock;
	c->sndbuf_lock = l->sndbuf_lock;
	c->nodelay = l->nodelay;
	c->keepalive = l->keepalive;
	c->keepidle_s = l->keepidle_s;
	c->keepintvl_s = l->keepintvl_s;
	c->keepcnt = l->keepcnt;
	c->linger_on = l->linger_on;
	c->linger_s = l->linger_s;
	c->user_mss = l->user_mss;
	c->rcvtimeo_ms = l->rcvtimeo_ms;
	c->sndtimeo_ms = l->sndtimeo_ms;
	if (inet_inherit_port(st, &l->inet, csk)) {
		sock_destroy(st, csk);
		st->tcpc.TcpExtListenDrops++;
		return;
	}
	inet_state_set(st, csk, INET_SYN_RECV);
	csk->ss = INET_SS_CONNECTED;
	ehash_insert_h(&st->eh, csk, si->hash);
	c->irs = si->seq;
	c->rcv_nxt = si->seq + 1;
	c->rcv_wscale = 7;
	tcp_take_options(c, si);
	c->snd_wnd = si->wnd;           /* a SYN's window is not scaled */
	c->snd_wl1 = si->seq;
	c->iss = tcp_isn(st, csk);
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->snd_nxt;
	c->snd_wl2 = c->iss;
	c->parent = l;
	hlist_add_head(&c->child_node, &l->synq);
	l->synq_len++;
	st->tcpc.TcpPassiveOpens++;
	tcp_send_segment(c, TCP_FLAG_SYN | TCP_FLAG_ACK, c->iss, 0, 0);
	tcp_rtt_segment_sent(&c->rtt, c->snd_nxt, stack_now_ns(st) / 1000u);
	tcp_rtx_arm(c, tcp_rto_ms(c));
}

/* RFC 9293 3.10.7.3: SYN_SENT. */
static void tcp_rcv_synsent(struct dtcp_stack *st, struct tcp_sock *tp, const struct seg_info *si,
                            const struct in6_addr *saddr, const struct in6_addr *daddr, struct netif *in)
{
	struct inet_sock *sk = &tp->inet;
	bool ack_ok = false;

	if (si->flags & TCP_FLAG_ACK) {
		if (seq_leq(si->ack, tp->iss) || seq_gt(si->ack, tp->snd_nxt)) {
			tcp_send_reset(st, in, si->th, si->len, saddr, daddr);
			return;
		}
		ack_ok = true;
	}
	if (si->flags & TCP_FLAG_RST) {
		if (ack_ok)
			tcp_done(tp, ECONNREFUSED);
		return;
	}
	if (!(si->flags & TCP_FLAG_SYN))
		return;
	tp->irs = si->seq;
	tp->rcv_nxt = si->seq + 1;
	tcp_take_options(tp, si);
	tp->snd_wnd = si->wnd;
	tp->max_sndwnd = si->wnd;
	tp->snd_wl1 = si->seq;
	tp->snd_wl2 = si->ack;
	if (ack_ok) {
		tp->snd_una = si->ack;
		tcp_rtt_synced(tp, si->ack);
		tcp_rtx_stop(tp);
		tp->retries = 0;
		inet_state_set(st, sk, INET_ESTABLISHED);
		tcp_established_init(st, tp);
		tcp_send_ack(tp);
		tcp_push(tp);
		return;
	}
	/* Simultaneous open (3.10.7.3 fourth step). */
	inet_state_set(st, sk, INET_SYN_RECV);
	tcp_send_segment(tp, TCP_FLAG_SYN | TCP_FLAG_ACK, tp->iss, 0, 0);
}

/* RFC 9293 3.10.7.4 first check: is the segment in the receive window? */
static bool tcp_seq_acceptable(const struct tcp_sock *tp, const struct seg_info *si)
{
	uint32_t wnd = tp->rcv_adv - tp->rcv_nxt, len = si->len + !!(si->flags & TCP_FLAG_SYN) +
	                                                   !!(si->flags & TCP_FLAG_FIN);

	if ((int32_t)wnd < 0)
		wnd = 0;
	if (!len)
		return wnd ? seq_geq(si->seq, tp->rcv_nxt) && seq_lt(si->seq, tp->rcv_nxt + wnd) : si->seq == tp->rcv_nxt;
	if (!wnd)
		return false;
	return (seq_geq(si->seq, tp->rcv_nxt) && seq_lt(si->seq, tp->rcv_nxt + wnd)) ||
	       (seq_geq(si->seq + len - 1, tp->rcv_nxt) && seq_lt(si->seq + len - 1, tp->rcv_nxt + wnd));
}

/* An established child joins its listener's accept queue. */
static void tcp_child_established(struct tcp_sock *c)
{
	struct tcp_sock *l = c->parent;

	if (!l)
		return;
	hlist_del(&c->child_node);
	l->synq_len--;
	c->in_acceptq = 1;
	c->acc_next = NULL;
	if (l->acceptq_tail)
		l->acceptq_tail->acc_next = c;
	else
		l->acceptq_head = c;
	l->acceptq_tail = c;
	l->acceptq_len++;
}

/* Queue in-order payload (zero copy: the packet itself, trimmed to it). */
static void tcp_queue_data(struct tcp_sock *tp, struct dtcp_pkt *p, uint32_t off, uint32_t len)
{
	DTCP_ASSERT(p->nb_segs == 1);
	pkt_adj(p, (uint16_t)off);
	pkt_trim_to(p, len);
	p->next = NULL;
	if (tp->rcvq_tail)
		tp->rcvq_tail->next = p;
	else
		tp->rcvq_head = p;
	tp->rcvq_tail = p;
	tp->rcvq_bytes += len;
	tp->rcv_nxt += len;
}

/* Receive buffer autotuning, Linux's dynamic right sizing in short
 * (tcp_rcv_space_adjust()): once per round trip (the handshake's RTT), the
 * bytes that arrived in order during it say what window the sender could
 * use; when twice that (plus 16 segments of slack) exceeds the buffer, the
 * buffer grows to it, up to net.ipv4.tcp_rmem[2], unless SO_RCVBUF fixed
 * it. A reader that falls behind (over half the buffer queued) stops the
 * growth: the buffer is for the path, not for a slow application. */
static void tcp_rcvbuf_autotune(struct tcp_sock *tp)
{
	uint32_t now = (uint32_t)stack_ticks(tp->st), rtt_ms, got;
	uint64_t want;
	uint32_t max = (uint32_t)tp->st->sysctl.tcp_rmem[2];

	if (tp->rcvbuf_lock || tp->rcvbuf >= max || !tp->rtt.has_srtt)
		return;
	rtt_ms = (tcp_rtt_srtt(&tp->rtt) + 999) / 1000;
	if (now - tp->rcvq_space_at < (rtt_ms ? rtt_ms : 1))
		return;
	got = tp->rcv_nxt - tp->rcvq_space_seq;
	tp->rcvq_space_seq = tp->rcv_nxt;
	tp->rcvq_space_at = now;
	if (tp->rcvq_bytes > tp->rcvbuf / 2)
		return;
	want = 2ull * got + 16ull * tp->mss;
	if (want > tp->rcvbuf)
		tp->rcvbuf = want < max ? (uint32_t)want : max;
}

/* The connection's reassembly queue, taken on first use. */
static struct tcp_ooo *tcp_ooo_get(struct tcp_sock *tp)
{
	struct dtcp_stack *st = tp->st;

	if (!tp->ooo) {
		tp->ooo = pool_get(&st->ooo_pool);
		if (!tp->ooo)
			return NULL;
		tcp_ooo_init(tp->ooo, &st->ooo_ctx, tp->rcvbuf, 1024);
	}
	return tp->ooo;
}

/* Give the reassembly queue back once nothing is held or owed in it. */
static void tcp_ooo_release_idle(struct tcp_sock *tp)
{
	if (tcp_ooo_empty(tp->ooo) && !tp->ooo->dsack_pending && !tp->ooo->fin) {
		tcp_ooo_purge(tp->ooo);
		pool_put(&tp->st->ooo_pool, tp->ooo);
		tp->ooo = NULL;
	}
}

/* Move what the reassembly queue holds at rcv_nxt to the receive queue;
 * give the queue back once it is empty. */
static void tcp_ooo_drain(struct tcp_sock *tp)
{
	struct dtcp_pkt *chain;
	uint32_t n;

	while ((n = tcp_ooo_pull(tp->ooo, &tp->rcv_nxt, &chain)) > 0) {
		while (chain) {
			struct dtcp_pkt *seg = chain;

			chain = seg->next;
			seg->next = NULL;
			seg->pkt_len = seg->data_len;
			seg->nb_segs = 1;
			if (!seg->data_len) {
				pkt_free_any(tp->st, seg);
				continue;
			}
			if (tp->rcvq_tail)
				tp->rcvq_tail->next = seg;
			else
				tp->rcvq_head = seg;
			tp->rcvq_tail = seg;
		}
		tp->rcvq_bytes += n;
	}
	tcp_ooo_release_idle(tp);
}

/* 3.10.7.4: the synchronized states. Returns true if it kept the packet. */
static bool tcp_rcv_state(struct dtcp_stack *st, struct tcp_sock *tp, struct seg_info *si, struct dtcp_pkt *p)
{
	struct inet_sock *sk = &tp->inet;
	bool kept = false, owe = false, ack_now = false, fin;

	if (sk->state == INET_TIME_WAIT) {
		/* A retransmitted FIN is acknowledged again and restarts the wait. */
		if ((si->flags & TCP_FLAG_FIN) && !(si->flags & TCP_FLAG_RST)) {
			tcp_send_ack(tp);
			tcp_rtx_arm(tp, TCP_MSL_TW_MS);
		} else if ((si->flags & TCP_FLAG_RST) && si->seq == tp->rcv_nxt) {
			/* tcp_timewait_state_process(): an exact reset ends it
			 * (TIME-WAIT assassination, RFC 1337, which Linux allows
			 * unless tcp_rfc1337); any other is ignored. */
			tcp_done(tp, 0);
		}
		return false;
	}
	/* Simultaneous open: in SYN_RECV the peer's SYN-ACK (its SYN again,
	 * acknowledging ours) completes the handshake, as Linux takes it. */
	if (sk->state == INET_SYN_RECV && (si->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) ==
	                                      (TCP_FLAG_SYN | TCP_FLAG_ACK) &&
	    si->seq == tp->irs && si->ack == tp->snd_nxt) {
		si->flags &= (uint8_t)~TCP_FLAG_SYN;
		si->seq++;
	}
	if (!tcp_seq_acceptable(tp, si)) {
		if (!(si->flags & TCP_FLAG_RST))
			tcp_send_ack(tp);
		return false;
	}
	if (si->flags & TCP_FLAG_RST) {
		/* RFC 5961 3.2: only an exact match resets; else a challenge ACK. */
		if (si->seq != tp->rcv_nxt) {
			st->tcpc.TcpExtTCPChallengeACK++;
			tcp_send_ack(tp);
			return false;
		}
		tcp_done(tp, sk->state == INET_CLOSE_WAIT ? EPIPE : ECONNRESET);
		return false;
	}
	if (si->flags & TCP_FLAG_SYN) {
		/* RFC 5961 4.2: a SYN in a synchronized state gets a challenge ACK. */
		st->tcpc.TcpExtTCPChallengeACK++;
		tcp_send_ack(tp);
		return false;
	}
	if (!(si->flags & TCP_FLAG_ACK))
		return false;
	/* The peer is alive: keepalive starts over, an ICMP error is old news. */
	tp->err_soft = 0;
	if (tp->keepalive) {
		tp->keep_probes_out = 0;
		if (tp->snd_una == tp->snd_max && !tp->snd_len)
			tcp_timer_idle(tp);
	}
	if (sk->state == INET_SYN_RECV) {
		if (seq_leq(si->ack, tp->snd_una) || seq_gt(si->ack, tp->snd_nxt)) {
			struct in6_addr s = sk->daddr, d = sk->rcv_saddr;

			tcp_send_reset(st, &st->ifs.ifs[p->ifindex - 1], si->th, si->len, &s, &d);
			return false;
		}
		inet_state_set(st, sk, INET_ESTABLISHED);
		tp->snd_wnd = (uint32_t)si->wnd << tp->snd_wscale;
		tp->max_sndwnd = tp->snd_wnd;
		tp->snd_wl1 = si->seq;
		tp->snd_wl2 = si->ack;
		tcp_rtt_synced(tp, si->ack);
		tp->retries = 0;
		tcp_established_init(st, tp);
		tcp_child_established(tp);
	}
	/* RFC 5961 5.2 and 3.10.7.4 fifth check: the acceptable ACK range
	 * (snd_max: after a go-back-N, ACKs may cover more than snd_nxt). */
	if (seq_gt(si->ack, tp->snd_max)) {
		tcp_send_ack(tp);
		return false;
	}
	if (seq_geq(si->ack, tp->snd_una) && tp->snd_una != tp->snd_max) {
		bool dup_ok = !si->len && !(si->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) &&
		              ((uint32_t)si->wnd << tp->snd_wscale) == tp->snd_wnd;
		int todo = tcp_cc_ack(&tp->cc, si->ack, tp->snd_una, tp->snd_max, dup_ok);
		uint32_t acked = si->ack - tp->snd_una;

		if (acked) {
			uint32_t data = acked < tp->snd_len ? acked : tp->snd_len;

			if (data)
				tcp_sndbuf_consume(tp, data);
			tp->snd_una = si->ack;
			if (seq_lt(tp->snd_nxt, tp->snd_una))
				tp->snd_nxt = tp->snd_una;
			tcp_rtt_ack(&tp->rtt, &st->rtt_params, si->ack, stack_now_ns(st) / 1000u);
			tp->retries = 0;
			/* tcp_new_space(): a writer held back by a full buffer
			 * gets a larger one as the window grows. */
			if (tp->snd_len + acked >= tp->sndbuf)
				tcp_sndbuf_expand(tp);
		}
		if (todo > 0 && (todo & TCP_CC_RETRANSMIT)) {
			/* Fast retransmit / a partial ACK: resend the segment at snd_una. */
			uint32_t keep = tp->snd_nxt;

			tp->snd_nxt = tp->snd_una;
			tcp_push_one(tp);
			if (seq_gt(keep, tp->snd_nxt))
				tp->snd_nxt = keep;
		}
		if (tp->snd_una == tp->snd_max)
			tcp_timer_idle(tp);
		else if (todo > 0 && (todo & TCP_CC_RESTART_TIMER))
			tcp_rtx_arm(tp, tcp_rto_ms(tp));
	}
	/* Window update (3.10.7.4): from a newer segment, or the same with a newer ACK. */
	if (seq_lt(tp->snd_wl1, si->seq) || (tp->snd_wl1 == si->seq && seq_leq(tp->snd_wl2, si->ack))) {
		tp->snd_wnd = (uint32_t)si->wnd << tp->snd_wscale;
		if (tp->snd_wnd > tp->max_sndwnd)
			tp->max_sndwnd = tp->snd_wnd;
		tp->snd_wl1 = si->seq;
		tp->snd_wl2 = si->ack;
	}
	if (tp->fin_out && !tp->snd_len && tp->snd_una == tp->snd_max) {
		/* Our FIN is acknowledged. */
		switch (sk->state) {
		case INET_FIN_WAIT1:
			inet_state_set(st, sk, INET_FIN_WAIT2);
			if (sk->fd < 0)
				tcp_rtx_arm(tp, TCP_FIN_TIMEOUT_MS);
			break;
		case INET_CLOSING:
			tcp_time_wait(tp);
			return false;
		case INET_LAST_ACK:
			tcp_done(tp, 0);
			return false;
		default:
			break;
		}
	}
	if (tp->ts_ok && (si->opts.present & TCP_OPTS_TS) && seq_leq(si->seq, tp->rcv_nxt))
		tp->ts_recent = si->opts.tsval;
	/* Text (seventh check): in order straight to the receive queue, out
	 * of order into the reassembly queue; the FIN counts only once
	 * everything before it has arrived. */
	if (si->len && (sk->state == INET_ESTABLISHED || sk->state == INET_FIN_WAIT1 ||
	                sk->state == INET_FIN_WAIT2) && !tp->rcv_shutdown) {
		uint32_t room = tcp_rcv_window(tp);

		owe = true;
		/* RFC 5681 4.2 / RFC 1122 4.2.3.2 as Linux applies them: ACK at
		 * once while in quick-ACK mode (the start of a transfer), for the
		 * second segment owed, and for anything that is not plain
		 * in-order data (a duplicate, data past the window, out of order,
		 * a filled hole); else within TCP_DELACK_MS. Linux's "more than
		 * one full frame" is counted here in segments, which ACKs small
		 * segments a little more often. */
		ack_now = tp->ack_sched || tp->quickacks;
		if (seq_leq(si->seq, tp->rcv_nxt) && (!tp->ooo || tcp_ooo_empty(tp->ooo))) {
			uint32_t skip = tp->rcv_nxt - si->seq;

			if (skip < si->len) {
				uint32_t len = si->len - skip;

				if (len > room)
					len = room;
				if (len) {
					tcp_queue_data(tp, p, si->doff + skip, len);
					tcp_rcvbuf_autotune(tp);
					kept = true;
				}
				if (len < si->len - skip) {
					si->flags &= (uint8_t)~TCP_FLAG_FIN;
					ack_now = true;
				}
			} else {
				/* A retransmission of what we have: Linux answers at
				 * once and goes back to quick ACKs. */
				tp->quickacks = TCP_MAX_QUICKACKS;
				ack_now = true;
			}
		} else if (room && tcp_ooo_get(tp)) {
			int r;

			pkt_adj(p, (uint16_t)si->doff);
			r = tcp_ooo_insert(tp->ooo, tp->rcv_nxt, room, si->seq, p, si->len);
			kept = true;
			if (r > 0 && (r & TCP_OOO_NEW))
				st->tcpc.TcpExtTCPOFOQueue++;
			if (r > 0 && (r & TCP_OOO_FILLED))
				tcp_ooo_drain(tp);
			if (!seq_leq(si->seq + si->len, tp->rcv_nxt) && (si->flags & TCP_FLAG_FIN)) {
				/* A FIN past a hole is kept with the queue and taken
				 * when the hole fills (as Linux's out-of-order queue
				 * keeps it), not left for the peer to send again. */
				if (tp->ooo) {
					tp->ooo->fin = true;
					tp->ooo->fin_seq = si->seq + si->len;
				}
				si->flags &= (uint8_t)~TCP_FLAG_FIN;
			}
			ack_now = true;
		} else {
			si->flags &= (uint8_t)~TCP_FLAG_FIN;
			ack_now = true;
		}
	}
	/* FIN (eighth check), once everything before it has arrived: this
	 * segment's, or one the reassembly queue kept whose hole just filled. */
	fin = (si->flags & TCP_FLAG_FIN) && si->seq + si->len == tp->rcv_nxt;
	if (tp->ooo && tp->ooo->fin && tp->ooo->fin_seq == tp->rcv_nxt) {
		tp->ooo->fin = false;
		tcp_ooo_release_idle(tp);
		fin = true;
	}
	if (fin && !tp->rcv_shutdown) {
		tp->rcv_nxt++;
		tp->rcv_shutdown = 1;
		switch (sk->state) {
		case INET_SYN_RECV:
		case INET_ESTABLISHED:
			/* tcp_fin(): the ACK is owed, not forced (the application's
			 * close usually sends it with our FIN). */
			inet_state_set(st, sk, INET_CLOSE_WAIT);
			owe = true;
			tp->quickacks = 0;
			break;
		case INET_FIN_WAIT1:
			tcp_send_ack(tp);
			if (tp->fin_out && !tp->snd_len && tp->snd_una == tp->snd_max)
				tcp_time_wait(tp);
			else
				inet_state_set(st, sk, INET_CLOSING);
			return kept;
		case INET_FIN_WAIT2:
			tcp_send_ack(tp);
			tcp_time_wait(tp);
			return kept;
		default:
			break;
		}
	}
	if (owe) {
		/* Owed first, so that data going out now carries the ACK. */
		if (ack_now)
			tp->ack_sched = 1;
		else
			tcp_delack_sched(tp);
	}
	tcp_push(tp);
	if (owe && ack_now && tp->ack_sched) {
		tcp_send_ack(tp);
		if (tp->ack_sched) {
			/* Not sent (no buffer, no route): the timer tries again. */
			tp->ack_sched = 0;
			tcp_delack_sched(tp);
		} else if (tp->quickacks) {
			tp->quickacks--;
		}
	}
	return kept;
}

void tcp_input(struct dtcp_stack *st, struct dtcp_pkt *p, const struct in6_addr *saddr,
               const struct in6_addr *daddr)
{
	struct tcp_counters *c = &st->tcpc;
	struct netif *in = &st->ifs.ifs[p->ifindex - 1];
	const struct tcp_hdr *th = pkt_header(p, sizeof(*th));
	struct tcp_hdr copy;
	struct seg_info si;
	struct inet_sock *sk;

	c->TcpInSegs++;
	if (!th || (si.doff = tcp_hdr_doff(th)) < sizeof(*th) || si.doff > p->pkt_len || !pkt_header(p, si.doff)) {
		c->TcpInErrs++;
		netif_pkt_free(in, p);
		return;
	}
	if ((p->ol_flags & DTCP_PKT_RX_L4_CKSUM_BAD) ||
	    (!in->loopback && !(p->ol_flags & DTCP_PKT_RX_L4_CKSUM_GOOD) &&
	     csum_fold(csum_add_pkt(tcp_pseudo(saddr, daddr, p->pkt_len), p, 0, p->pkt_len)) != 0xffff)) {
		c->TcpInErrs++;
		c->TcpInCsumErrors++;
		netif_pkt_free(in, p);
		return;
	}
	copy = *th;
	si.th = &copy;
	si.flags = tcp_hdr_flags(th);
	si.seq = ntohl(th->seq);
	si.ack = ntohl(th->ack);
	si.wnd = ntohs(th->window);
	si.len = p->pkt_len - si.doff;
	/* Malformed options are ignored as a whole, as Linux does. */
	memset(&si.opts, 0, sizeof(si.opts));
	if (tcp_opts_parse((const uint8_t *)th + sizeof(*th), si.doff - (uint32_t)sizeof(*th),
	                   si.flags & TCP_FLAG_SYN, &si.opts))
		memset(&si.opts, 0, sizeof(si.opts));
	si.hash = (p->ol_flags & DTCP_PKT_RX_FLOW_HASH)
	          ? p->flow_hash : ehash_hash(&st->eh, daddr, ntohs(th->dport), saddr, ntohs(th->sport));
	sk = ehash_lookup_h(&st->eh, si.hash, daddr, ntohs(th->dport), saddr, ntohs(th->sport));
	if (sk) {
		struct tcp_sock *tp = tcp_sk(sk);
		bool kept;

		struct tcp_sock *parent = tp->parent;

		if (sk->state == INET_SYN_SENT) {
			tcp_rcv_synsent(st, tp, &si, saddr, daddr, in);
			kept = false;
		} else {
			kept = tcp_rcv_state(st, tp, &si, p);
		}
		if (!kept)
			netif_pkt_free(in, p);
		/* Readiness may have changed (tcp_done frees orphans only, and
		 * an orphan has no watchers; a new child wakes its listener). */
		if (parent && tp->in_acceptq)
			sock_wakeup(st, &parent->inet);
		else if (sk->fd >= 0)
			sock_wakeup(st, sk);
		return;
	}
	sk = lhash_lookup(&st->lh, daddr, ntohs(th->dport));
	if (sk) {
		tcp_rcv_listen(st, tcp_sk(sk), &si, saddr, daddr, in);
		netif_pkt_free(in, p);
		return;
	}
	tcp_send_reset(st, in, &copy, si.len, saddr, daddr);
	netif_pkt_free(in, p);
}

/* The connection an ICMP error quotes, if it may act on it: not TIME_WAIT,
 * and the quoted sequence number one we sent and have not seen acked
 * (RFC 5927 4.1: a blind attacker rarely guesses one). *found tells whether
 * a connection matched at all. A listener's child in SYN_RECV is returned
 * whatever the sequence number; the caller checks it against the ISS. */
static struct tcp_sock *tcp_icmp_target(struct dtcp_stack *st, const struct in6_addr *laddr,
                                        const struct in6_addr *faddr, const uint8_t *th8, uint32_t *seq,
                                        bool *found)
{
	uint16_t lport = (uint16_t)(th8[0] << 8 | th8[1]), fport = (uint16_t)(th8[2] << 8 | th8[3]);
	struct inet_sock *sk = ehash_lookup(&st->eh, laddr, lport, faddr, fport);
	struct tcp_sock *tp;

	*seq = (uint32_t)th8[4] << 24 | (uint32_t)th8[5] << 16 | (uint32_t)th8[6] << 8 | th8[7];
	*found = sk != NULL;
	if (!sk || sk->state == INET_TIME_WAIT)
		return NULL;
	tp = tcp_sk(sk);
	if (sk->state == INET_SYN_RECV && tp->parent)
		return tp;
	if (seq_lt(*seq, tp->snd_una) || seq_lt(tp->snd_max, *seq)) {
		st->tcpc.TcpExtOutOfWindowIcmps++;
		return NULL;
	}
	return tp;
}

bool tcp_icmp_error(struct dtcp_stack *st, const struct in6_addr *laddr, const struct in6_addr *faddr,
                    const uint8_t *th8, int err, bool abort_req)
{
	uint32_t seq;
	bool found;
	struct tcp_sock *tp = tcp_icmp_target(st, laddr, faddr, th8, &seq, &found);
	struct inet_sock *sk;

	/* No connection, or one in TIME_WAIT: nothing to tell anyone. */
	if (!tp)
		return found;
	sk = &tp->inet;
	if (sk->state == INET_SYN_RECV && tp->parent) {
		/* A listener's child: only about our SYN-ACK, and only some kinds
		 * drop it; the listener is never told. */
		if (seq != tp->iss) {
			st->tcpc.TcpExtOutOfWindowIcmps++;
		} else if (abort_req) {
			st->tcpc.TcpExtListenDrops++;
			tcp_done(tp, err);
		}
		return true;
	}
	if (sk->state == INET_SYN_SENT || sk->state == INET_SYN_RECV) {
		tcp_done(tp, err);   /* wakes a connect() in progress */
		return true;
	}
	/* Without IP_RECVERR, only an error on timeout (RFC 1122 4.2.3.9:
	 * soft errors do not abort). */
	tp->err_soft = (uint8_t)err;
	return true;
}

bool tcp_icmp_pmtu(struct dtcp_stack *st, const struct in6_addr *laddr, const struct in6_addr *faddr,
                   const uint8_t *th8, uint32_t mtu)
{
	uint32_t seq, dev_mtu, path;
	bool found;
	struct tcp_sock *tp = tcp_icmp_target(st, laddr, faddr, th8, &seq, &found);
	struct netif *nif;
	uint16_t mss;

	/* tcp_v4_err() / tcp_v6_err(): a child in SYN_RECV ignores it (not
	 * fatal); so does a connection that is gone. */
	if (!tp || (tp->inet.state == INET_SYN_RECV && tp->parent))
		return found;
	/* tcp_v6_err(): a "packet too big" below the IPv6 minimum is ignored. */
	if (!addr_is_mapped(faddr) && mtu < PMTU_MIN_V6)
		return true;
	nif = ifaddr_route(&st->ifs, faddr);
	dev_mtu = nif ? nif->info.mtu : 1280;
	path = pmtu_report(st, faddr, mtu, dev_mtu);
	mss = (uint16_t)(path - (addr_is_mapped(faddr) ? 40 : 60));
	/* tcp_v4_mtu_reduced(): a smaller MSS from now on, and what is in
	 * flight goes again at the new size (tcp_simple_retransmit(): a
	 * repair, not a loss: cwnd is not cut). */
	if (tp->inet.state == INET_SYN_SENT || mss >= tp->mss)
		return true;
	tp->mss = mss;
	if (tp->user_mss && tp->user_mss < tp->mss)
		tp->mss = tp->user_mss;
	tp->cc.smss = tcp_send_mss(tp);
	st->tcpc.TcpExtPMTUReductions++;
	if (tp->snd_una != tp->snd_max) {
		tp->snd_nxt = tp->snd_una;
		tcp_push(tp);
	}
	return true;
}
