/* The retransmission timer (RFC 6298) and its other uses: SYN and SYN-ACK
 * retries, zero-window probing when data waits, keepalive, the end of
 * FIN_WAIT2 and TIME_WAIT; and the delayed ACK (RFC 1122 4.2.3.2).
 *
 * One wheel timer per connection carries both deadlines (a second timer
 * node would cost 32 bytes in each of millions of connections). Invariant:
 * while rtx_on, the timer is pending and due no later than rtx_at; while
 * ack_sched, it is pending and due no later than the ACK's deadline. When it
 * fires, an owed ACK goes out (early, if the retransmission deadline came
 * first: a retransmission would carry it anyway), then the retransmission
 * work runs if rtx_at has come, else the timer moves on to rtx_at.
 * Stack thread only. */
#include <errno.h>

#include "stack.h"
#include "tcp/tcp_sock.h"

uint32_t tcp_rto_ms(const struct tcp_sock *tp)
{
	return (tcp_rtt_rto(&tp->rtt) + 999) / 1000;
}

void tcp_rtx_arm(struct tcp_sock *tp, uint32_t ms)
{
	uint64_t due = stack_ticks(tp->st) + ms;

	tp->rtx_at = (uint32_t)due;
	tp->rtx_on = 1;
	/* An owed ACK due earlier keeps the timer; its firing moves it here. */
	if (tp->ack_sched && timer_pending(&tp->timer) && tp->timer.expires <= due)
		return;
	timer_start(&tp->st->timers, &tp->timer, due);
}

void tcp_rtx_stop(struct tcp_sock *tp)
{
	tp->rtx_on = 0;
	if (!tp->ack_sched)
		timer_stop(&tp->st->timers, &tp->timer);
}

void tcp_delack_sched(struct tcp_sock *tp)
{
	uint64_t due = stack_ticks(tp->st) + TCP_DELACK_MS;

	if (tp->ack_sched)
		return;   /* the first owed byte sets the deadline */
	tp->ack_sched = 1;
	if (!timer_pending(&tp->timer) || tp->timer.expires > due)
		timer_start(&tp->st->timers, &tp->timer, due);
}

void tcp_timer_stop_all(struct tcp_sock *tp)
{
	tp->rtx_on = 0;
	tp->ack_sched = 0;
	timer_stop(&tp->st->timers, &tp->timer);
}

/* Retries exhausted (tcp_write_err()): the last ICMP error kept, if any,
 * else ETIMEDOUT. */
static void tcp_give_up(struct tcp_sock *tp)
{
	tcp_done(tp, tp->err_soft ? tp->err_soft : ETIMEDOUT);
}

static void tcp_rtx_fire(struct tcp_sock *tp)
{
	struct dtcp_stack *st = tp->st;

	switch (tp->inet.state) {
	case INET_TIME_WAIT:
		tcp_done(tp, 0);
		return;
	case INET_FIN_WAIT2:
		/* An orphan waits for the peer's FIN tcp_fin_timeout (60 s) at most. */
		if (tp->inet.fd < 0 && tp->snd_una == tp->snd_max) {
			tcp_done(tp, 0);
			return;
		}
		break;
	case INET_SYN_SENT:
		if (++tp->retries > TCP_SYN_RETRIES) {
			tcp_give_up(tp);
			return;
		}
		tcp_rtt_backoff(&tp->rtt, &st->rtt_params);
		tcp_rtt_segment_resent(&tp->rtt);
		st->tcpc.TcpRetransSegs++;
		tcp_send_segment(tp, TCP_FLAG_SYN, tp->iss, 0, 0);
		tcp_rtx_arm(tp, tcp_rto_ms(tp));
		return;
	case INET_SYN_RECV:
		if (++tp->retries > TCP_SYNACK_RETRIES) {
			tcp_give_up(tp);
			return;
		}
		tcp_rtt_backoff(&tp->rtt, &st->rtt_params);
		tcp_rtt_segment_resent(&tp->rtt);
		st->tcpc.TcpRetransSegs++;
		tcp_send_segment(tp, TCP_FLAG_SYN | TCP_FLAG_ACK, tp->iss, 0, 0);
		tcp_rtx_arm(tp, tcp_rto_ms(tp));
		return;
	default:
		break;
	}
	if (tp->snd_una == tp->snd_max) {
		/* Nothing in flight and data held back by a zero or too small
		 * window (RFC 9293 3.8.6.1, 3.8.6.2.1): probe with an old sequence
		 * number, which the peer answers with its window. */
		if (tp->snd_len) {
			tcp_send_segment(tp, TCP_FLAG_ACK, tp->snd_una - 1, 0, 0);
			tcp_rtt_backoff(&tp->rtt, &st->rtt_params);
			tcp_rtx_arm(tp, tcp_rto_ms(tp));
			return;
		}
		/* Keepalive (RFC 1122 4.2.3.6): an idle peer is probed
		 * TCP_KEEPCNT times, TCP_KEEPINTVL apart, then given up. */
		if (tp->keepalive) {
			if (tp->keep_probes_out >= tp->keepcnt) {
				tcp_give_up(tp);
				return;
			}
			tcp_send_segment(tp, TCP_FLAG_ACK, tp->snd_una - 1, 0, 0);
			tp->keep_probes_out++;
			tcp_rtx_arm(tp, tp->keepintvl_s * 1000u);
		}
		return;
	}
	if (++tp->retries > TCP_RETRIES2) {
		tcp_give_up(tp);
		return;
	}
	/* RFC 6298 5.4-5.6 and RFC 5681 3.1: back off, collapse cwnd, and
	 * send again from the oldest unacknowledged byte (go-back-N). */
	tcp_rtt_backoff(&tp->rtt, &st->rtt_params);
	tcp_cc_timeout(&tp->cc, tp->snd_una, tp->snd_max);
	tp->snd_nxt = tp->snd_una;
	tcp_rtx_stop(tp);
	tcp_push(tp);
	if (!tcp_rtx_pending(tp))
		tcp_rtx_arm(tp, tcp_rto_ms(tp));
}

void tcp_timer_idle(struct tcp_sock *tp)
{
	uint8_t state = tp->inet.state;

	if (tp->keepalive && (state == INET_ESTABLISHED || state == INET_CLOSE_WAIT || state == INET_FIN_WAIT2))
		tcp_rtx_arm(tp, tp->keepidle_s * 1000u);
	else
		tcp_rtx_stop(tp);
}

static void tcp_timer_fire(struct timer_node *t)
{
	struct tcp_sock *tp = DTCP_CONTAINER_OF(t, struct tcp_sock, timer);
	uint32_t now = (uint32_t)stack_ticks(tp->st);

	if (tp->ack_sched) {
		tp->st->tcpc.TcpExtDelayedACKs++;
		tcp_send_ack(tp);   /* clears ack_sched */
		tp->ack_sched = 0;
	}
	if (!tp->rtx_on)
		return;
	if ((int32_t)(now - tp->rtx_at) < 0) {
		timer_start(&tp->st->timers, &tp->timer, stack_ticks(tp->st) + (uint32_t)(tp->rtx_at - now));
		return;
	}
	tp->rtx_on = 0;
	tcp_rtx_fire(tp);
}

void tcp_timer_init(struct tcp_sock *tp)
{
	timer_init(&tp->timer, tcp_timer_fire);
}
