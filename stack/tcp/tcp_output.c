/* Segment transmission (RFC 9293 3.8, 3.10): building headers and options,
 * the receive window to advertise, and what the send window lets out.
 * No retransmission logic here (tcp_timer.c decides when). Stack thread only. */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "ip/csum.h"
#include "ip/ip.h"
#include "ip/pmtu.h"
#include "netif.h"
#include "pkt.h"
#include "stack.h"
#include "tcp/tcp_opts.h"
#include "tcp/tcp_sock.h"

static uint16_t mss_of_mtu(const struct tcp_sock *tp, uint32_t mtu)
{
	uint32_t hdrs = addr_is_mapped(&tp->inet.daddr) ? 40 : 60;

	return (uint16_t)(mtu > hdrs + 64 ? mtu - hdrs : 536);
}

uint16_t tcp_route_mss(struct tcp_sock *tp)
{
	struct netif *nif = ifaddr_route(&tp->st->ifs, &tp->inet.daddr);

	return mss_of_mtu(tp, nif ? nif->info.mtu : 1280);
}

uint16_t tcp_path_mss(struct tcp_sock *tp)
{
	struct netif *nif = ifaddr_route(&tp->st->ifs, &tp->inet.daddr);

	return mss_of_mtu(tp, pmtu_get(tp->st, &tp->inet.daddr, nif ? nif->info.mtu : 1280));
}

uint32_t tcp_rcv_window(const struct tcp_sock *tp)
{
	uint32_t free_space = tp->rcvbuf > tp->rcvq_bytes ? tp->rcvbuf - tp->rcvq_bytes : 0;
	uint32_t max = 65535u << tp->rcv_wscale;

	return free_space < max ? free_space : max;
}

static void sndbuf_copy(const struct tcp_sock *tp, uint32_t off, uint8_t *dst, uint32_t len)
{
	uint32_t pos = (tp->snd_head + off) & (tp->snd_cap - 1), first = tp->snd_cap - pos;

	if (first > len)
		first = len;
	memcpy(dst, tp->snd_data + pos, first);
	memcpy(dst + first, tp->snd_data, len - first);
}

int tcp_send_segment(struct tcp_sock *tp, uint8_t flags, uint32_t seq, uint32_t off, uint32_t len)
{
	struct dtcp_stack *st = tp->st;
	struct inet_sock *sk = &tp->inet;
	struct netif *nif = ifaddr_route(&st->ifs, &sk->daddr);
	struct tcp_opts o = { 0 };
	uint8_t obuf[TCP_OPTS_MAX_LEN];
	uint32_t olen, win;
	struct dtcp_pkt *p;
	struct tcp_hdr *th;
	bool syn = flags & TCP_FLAG_SYN;

	if (!nif || !nif->ops)
		return -ENETUNREACH;
	if (syn) {
		/* RFC 9293 3.7.1, RFC 7323, RFC 2018: offered on a SYN, echoed
		 * on a SYN-ACK only if the peer offered them. */
		bool synack = flags & TCP_FLAG_ACK;

		o.present |= TCP_OPTS_MSS;
		o.mss = tcp_route_mss(tp);
		if (tp->user_mss && tp->user_mss < o.mss)
			o.mss = tp->user_mss;
		if (!synack || tp->ws_ok) {
			o.present |= TCP_OPTS_WSCALE;
			o.wscale = tp->rcv_wscale;
		}
		if (!synack || tp->sack_ok)
			o.present |= TCP_OPTS_SACK_PERM;
	}
	if (syn ? (!(flags & TCP_FLAG_ACK) || tp->ts_ok) : tp->ts_ok) {
		o.present |= TCP_OPTS_TS;
		o.tsval = stack_now_ms(st);
		o.tsecr = tp->ts_recent;
	}
	if (!syn && tp->sack_ok && tp->ooo && (flags & TCP_FLAG_ACK)) {
		/* RFC 2018 4: what is held beyond a hole, most recent first
		 * (and a D-SACK first for a duplicate, RFC 2883); as many blocks
		 * as fit beside the payload within the MSS (4 + 8 bytes each). */
		struct tcp_ooo_block b[TCP_OOO_SACK_MAX];
		int room = (int)tp->mss - (int)len - (tp->ts_ok ? 12 : 0) - 4;
		int max = tp->ts_ok ? 3 : 4, nb = 0;

		if (room / 8 < max)
			max = room < 8 ? 0 : room / 8;
		if (max > 0)
			nb = tcp_ooo_sack_blocks(tp->ooo, tp->rcv_nxt, true, b, max);

		for (int i = 0; i < nb; i++) {
			o.sack[i].start = b[i].start;
			o.sack[i].end = b[i].end;
		}
		if (nb > 0) {
			o.present |= TCP_OPTS_SACK;
			o.nr_sack = (uint8_t)nb;
		}
	}
	olen = tcp_opts_build(obuf, sizeof(obuf), &o);
	p = netif_pkt_alloc(nif);
	if (!p)
		return -ENOBUFS;
	p->ifindex = (uint16_t)nif->ifindex;
	th = (struct tcp_hdr *)pkt_append(p, (uint16_t)(sizeof(*th) + olen + len));
	if (!th) {
		netif_pkt_free(nif, p);
		return -EMSGSIZE;
	}
	memset(th, 0, sizeof(*th));
	th->sport = htons(sk->num);
	th->dport = htons(sk->dport);
	th->seq = htonl(seq);
	if (flags & TCP_FLAG_ACK)
		th->ack = htonl(tp->rcv_nxt);
	tcp_hdr_set_doff(th, sizeof(*th) + olen);
	tcp_hdr_set_flags(th, flags);
	/* The window of a SYN is never scaled (RFC 7323 2.2). */
	win = tcp_rcv_window(tp);
	th->window = htons((uint16_t)(syn ? (win > 65535 ? 65535 : win) : win >> tp->rcv_wscale));
	memcpy(th + 1, obuf, olen);
	if (len)
		sndbuf_copy(tp, off, (uint8_t *)(th + 1) + olen, len);
	if (!nif->loopback) {
		uint32_t tlen = (uint32_t)sizeof(*th) + olen + len;
		uint64_t ph = addr_is_mapped(&sk->daddr)
		                  ? csum_pseudo_v4(addr_v4(&sk->rcv_saddr), addr_v4(&sk->daddr), IPPROTO_TCP, tlen)
		                  : csum_pseudo_v6(&sk->rcv_saddr, &sk->daddr, IPPROTO_TCP, tlen);

		th->csum = csum_finish(csum_add_buf(ph, th, tlen, false));
	}
	if (flags & TCP_FLAG_ACK)
		tp->ack_sched = 0;   /* whatever was owed goes with this segment */
	if (flags & TCP_FLAG_ACK)
		tp->rcv_adv = tp->rcv_nxt + (syn ? (win > 65535 ? 65535 : win) : (win >> tp->rcv_wscale) << tp->rcv_wscale);
	st->tcpc.TcpOutSegs++;
	if (addr_is_mapped(&sk->daddr))
		return ipv4_output(st, p, addr_v4(&sk->rcv_saddr), addr_v4(&sk->daddr), IPPROTO_TCP, 0, 64);
	return ipv6_output(st, p, &sk->rcv_saddr, &sk->daddr, IPPROTO_TCP, 64);
}

/* A segment without data carries RFC 9293's SND.NXT, the highest sequence
 * sent (snd_max): snd_nxt may have been pulled back to resend from snd_una
 * (go-back-N), and an ACK numbered from there would be below the peer's
 * RCV.NXT, unacceptable to it, and answered by an ACK of its own: two such
 * ends would trade ACKs for ever and never read each other's ACK fields
 * (Linux's pure ACKs carry its snd_nxt, which never moves back). */
void tcp_send_ack(struct tcp_sock *tp)
{
	tcp_send_segment(tp, TCP_FLAG_ACK, tp->snd_max, 0, 0);
}

void tcp_send_active_reset(struct tcp_sock *tp)
{
	tcp_send_segment(tp, TCP_FLAG_RST | TCP_FLAG_ACK, tp->snd_max, 0, 0);
	tp->st->tcpc.TcpOutRsts++;
}

/* Send len bytes at snd_nxt (or the FIN if fin), moving snd_nxt and
 * snd_max; anything below snd_max is a retransmission. */
static int tcp_xmit_at_nxt(struct tcp_sock *tp, uint32_t len, bool fin)
{
	struct dtcp_stack *st = tp->st;
	uint64_t now_us = stack_now_ns(st) / 1000u;
	uint32_t off = tp->snd_nxt - tp->snd_una;
	bool resend = seq_lt(tp->snd_nxt, tp->snd_max);
	int err;

	if (!resend)
		tcp_cc_xmit(&tp->cc, now_us, tcp_rtt_rto(&tp->rtt));
	err = tcp_send_segment(tp, fin ? TCP_FLAG_FIN | TCP_FLAG_ACK : TCP_FLAG_ACK | TCP_FLAG_PSH, tp->snd_nxt,
	                       fin ? 0 : off, len);
	if (err)
		return err;
	tp->snd_nxt += len + (fin ? 1 : 0);
	if (resend) {
		st->tcpc.TcpRetransSegs++;
		tp->total_retrans++;
		tcp_rtt_segment_resent(&tp->rtt);
	}
	if (seq_gt(tp->snd_nxt, tp->snd_max)) {
		tp->snd_max = tp->snd_nxt;
		tcp_rtt_segment_sent(&tp->rtt, tp->snd_nxt, now_us);
	}
	if (fin)
		tp->fin_out = 1;
	if (!tcp_rtx_pending(tp))
		tcp_rtx_arm(tp, tcp_rto_ms(tp));
	return 0;
}

void tcp_push(struct tcp_sock *tp)
{
	uint8_t state = tp->inet.state;

	if (state != INET_ESTABLISHED && state != INET_CLOSE_WAIT && state != INET_FIN_WAIT1 &&
	    state != INET_CLOSING && state != INET_LAST_ACK)
		return;
	for (;;) {
		uint32_t flight = tp->snd_nxt - tp->snd_una;
		uint32_t sent = flight < tp->snd_len ? flight : tp->snd_len;
		uint32_t unsent = tp->snd_len - sent;
		uint32_t wnd_end = tp->snd_una + tp->snd_wnd;
		uint32_t room = seq_lt(tp->snd_nxt, wnd_end) ? wnd_end - tp->snd_nxt : 0;
		uint32_t wroom = room;
		uint32_t cwnd = tcp_cc_cwnd(&tp->cc);
		uint32_t n = unsent < tcp_send_mss(tp) ? unsent : tcp_send_mss(tp);

		/* The congestion window bounds what is in flight (RFC 5681 3.1). */
		if (flight >= cwnd)
			return;
		if (room > cwnd - flight)
			room = cwnd - flight;
		if (n > room)
			n = room;
		/* Nagle (RFC 9293 3.7.4): a short segment waits while data is
		 * unacknowledged, unless TCP_NODELAY or the FIN follows it; after
		 * a send with MSG_MORE it waits regardless (corked). */
		if (n && n == unsent && n < tcp_send_mss(tp) && (tp->more || (flight && !tp->nodelay)) &&
		    !tp->fin_queued && !seq_lt(tp->snd_nxt, tp->snd_max))
			return;
		/* Sender SWS avoidance (RFC 9293 3.8.6.2.1): a short segment cut
		 * by the window goes only if it is half the largest window seen. */
		if (n && n == wroom && n < unsent && n < tcp_send_mss(tp) && n < tp->max_sndwnd / 2 &&
		    !seq_lt(tp->snd_nxt, tp->snd_max)) {
			if (!flight && !tcp_rtx_pending(tp))
				tcp_rtx_arm(tp, tcp_rto_ms(tp));
			return;
		}
		if (n) {
			if (tcp_xmit_at_nxt(tp, n, false))
				return;
			continue;
		}
		if (unsent) {
			/* A zero window holds data back: the timer probes it. */
			if (!flight && !tcp_rtx_pending(tp))
				tcp_rtx_arm(tp, tcp_rto_ms(tp));
			return;
		}
		/* Everything is out: the FIN follows (RFC 9293 3.10.4), once. */
		if (!tp->fin_queued || flight > tp->snd_len)
			return;
		tcp_xmit_at_nxt(tp, 0, true);
		return;
	}
}

void tcp_push_one(struct tcp_sock *tp)
{
	uint32_t flight = tp->snd_nxt - tp->snd_una;
	uint32_t sent = flight < tp->snd_len ? flight : tp->snd_len;
	uint32_t unsent = tp->snd_len - sent;
	uint32_t n = unsent < tcp_send_mss(tp) ? unsent : tcp_send_mss(tp);

	if (n)
		tcp_xmit_at_nxt(tp, n, false);
	else if (tp->fin_out && flight <= tp->snd_len)
		tcp_xmit_at_nxt(tp, 0, true);
}
