/* The retransmission timer (RFC 6298) and its other uses: SYN and SYN-ACK
 * retries, zero-window probing when data waits, and the end of TIME_WAIT.
 * One timer per connection, on the stack's timer wheel. Stack thread only. */
#include <errno.h>

#include "stack.h"
#include "tcp/tcp_sock.h"

uint32_t tcp_rto_ms(const struct tcp_sock *tp)
{
	return (tcp_rtt_rto(&tp->rtt) + 999) / 1000;
}

void tcp_rtx_arm(struct tcp_sock *tp, uint32_t ms)
{
	timer_start(&tp->st->timers, &tp->rtx_timer, stack_ticks(tp->st) + ms);
}

void tcp_rtx_stop(struct tcp_sock *tp)
{
	timer_stop(&tp->st->timers, &tp->rtx_timer);
}

/* Resend the oldest unacknowledged segment. */
static void tcp_retransmit_head(struct tcp_sock *tp)
{
	uint32_t outstanding = tp->snd_nxt - tp->snd_una - (tp->fin_sent ? 1 : 0);
	uint32_t n = outstanding < tcp_send_mss(tp) ? outstanding : tcp_send_mss(tp);

	tcp_rtt_segment_resent(&tp->rtt);
	tp->st->tcpc.TcpRetransSegs++;
	if (n) {
		tcp_send_segment(tp, TCP_FLAG_ACK | TCP_FLAG_PSH, tp->snd_una, 0, n);
		return;
	}
	if (tp->fin_sent)
		tcp_send_segment(tp, TCP_FLAG_FIN | TCP_FLAG_ACK, tp->snd_nxt - 1, 0, 0);
}

static void tcp_rtx_fire(struct timer_node *t)
{
	struct tcp_sock *tp = DTCP_CONTAINER_OF(t, struct tcp_sock, rtx_timer);
	struct dtcp_stack *st = tp->st;

	switch (tp->inet.state) {
	case INET_TIME_WAIT:
		tcp_done(tp, 0);
		return;
	case INET_SYN_SENT:
		if (++tp->retries > TCP_SYN_RETRIES) {
			tcp_done(tp, ETIMEDOUT);
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
			tcp_done(tp, ETIMEDOUT);
			return;
		}
		tcp_rtt_backoff(&tp->rtt, &st->rtt_params);
		st->tcpc.TcpRetransSegs++;
		tcp_send_segment(tp, TCP_FLAG_SYN | TCP_FLAG_ACK, tp->iss, 0, 0);
		tcp_rtx_arm(tp, tcp_rto_ms(tp));
		return;
	default:
		break;
	}
	if (tp->snd_una == tp->snd_nxt) {
		/* Nothing in flight: a zero window holds data back (RFC 9293
		 * 3.8.6.1): probe with one byte past the window. */
		if (tp->snd.len && tp->snd_wnd == 0) {
			tcp_send_segment(tp, TCP_FLAG_ACK, tp->snd_nxt - 1, 0, 0);
			tcp_rtt_backoff(&tp->rtt, &st->rtt_params);
			tcp_rtx_arm(tp, tcp_rto_ms(tp));
		}
		return;
	}
	if (++tp->retries > TCP_RETRIES2) {
		tcp_done(tp, ETIMEDOUT);
		return;
	}
	tcp_rtt_backoff(&tp->rtt, &st->rtt_params);
	tcp_retransmit_head(tp);
	tcp_rtx_arm(tp, tcp_rto_ms(tp));
}

void tcp_timer_init(struct tcp_sock *tp)
{
	timer_init(&tp->rtx_timer, tcp_rtx_fire);
}
