/* The TCP control block (RFC 9293 3.3.1), extending the inet PCB, and the
 * engine's internal calls between input, output and timers.
 * Stack thread only. */
#ifndef DTCP_TCP_SOCK_H
#define DTCP_TCP_SOCK_H

#include <stdint.h>

#include <dtcp/netdev.h>

#include "inet/inet_sock.h"
#include "tcp/tcp_hdr.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_ooo.h"
#include "tcp/tcp_rtt.h"
#include "timer.h"

struct dtcp_stack;

#define TCP_MSL_TW_MS 60000u        /* TIME_WAIT, as Linux's TCP_TIMEWAIT_LEN */
#define TCP_FIN_TIMEOUT_MS 60000u   /* net.ipv4.tcp_fin_timeout: an orphan in FIN_WAIT2 */
#define TCP_RTO_INIT_MS 1000u       /* RFC 6298 2.1 */
#define TCP_RTO_MAX_MS 120000u
#define TCP_SYN_RETRIES 6           /* net.ipv4.tcp_syn_retries */
#define TCP_SYNACK_RETRIES 5        /* net.ipv4.tcp_synack_retries */
#define TCP_RETRIES2 15             /* net.ipv4.tcp_retries2 */
#define TCP_DEFAULT_RCVBUF 131072u  /* tcp_rmem[1] */
#define TCP_DEFAULT_SNDBUF 16384u   /* tcp_wmem[1] */

#define TCP_DELACK_MS 40u           /* TCP_DELACK_MIN / TCP_ATO_MIN: the delayed-ACK timeout */
#define TCP_MAX_QUICKACKS 16u       /* ACKs sent at once when data starts to flow */

struct tcp_sock {
	struct inet_sock inet;
	struct dtcp_stack *st;
	/* One wheel timer serves two deadlines: the retransmission timer
	 * (also SYN/SYN-ACK retries, probes, keepalive, FIN_WAIT2 and TIME_WAIT)
	 * and the delayed ACK. It is armed at the earlier; see tcp_timer.c. */
	struct timer_node timer;
	/* send sequence space (3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
	uint32_t snd_max;                /* one past the highest sequence sent (go-back-N pulls snd_nxt back) */
	uint32_t max_sndwnd;             /* largest window the peer offered (SWS avoidance) */
	/* receive sequence space */
	uint32_t irs, rcv_nxt, rcv_adv;  /* rcv_adv: right edge last advertised */
	uint32_t ts_recent;
	struct tcp_rtt rtt;
	struct tcp_cc cc;
	uint32_t sndbuf;                 /* SO_SNDBUF (here, it fills what tcp_cc leaves) */
	struct tcp_ooo *ooo;             /* out-of-order data; taken while there is some */
	uint16_t mss;                    /* send MSS */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t retries;
	unsigned ts_ok : 1, sack_ok : 1, ws_ok : 1;
	unsigned fin_queued : 1;         /* close()/shutdown(WR): a FIN follows the data */
	unsigned fin_out : 1;            /* our FIN has been sent at least once */
	unsigned rcv_shutdown : 1;       /* the peer's FIN arrived (EOF for recv) */
	unsigned snd_shutdown : 1;
	unsigned orphan : 1;             /* no descriptor: freed when it reaches CLOSE */
	unsigned in_acceptq : 1;
	unsigned nodelay : 1;            /* TCP_NODELAY: no Nagle (RFC 9293 3.7.4) */
	unsigned user_rd_shutdown : 1;   /* shutdown(SHUT_RD) */
	unsigned linger_on : 1;          /* SO_LINGER */
	unsigned keepalive : 1;          /* SO_KEEPALIVE */
	unsigned rtx_on : 1;             /* the retransmission timer runs, due at rtx_at */
	unsigned ack_sched : 1;          /* a delayed ACK is owed (the timer fires by its deadline) */
	unsigned more : 1;               /* the last send() had MSG_MORE: a short segment waits */
	uint8_t keep_probes_out;
	uint8_t keepcnt;                 /* TCP_KEEPCNT (9) */
	uint8_t err_soft;                /* last ICMP error not fatal here: reported if the connection times out */
	uint16_t keepidle_s, keepintvl_s; /* TCP_KEEPIDLE (7200) / TCP_KEEPINTVL (75) */
	uint16_t linger_s;
	uint16_t user_mss;               /* TCP_MAXSEG */
	uint8_t quickacks;               /* ACKs still sent without delay (quick-ACK mode) */
	uint8_t sndbuf_lock : 1;         /* SO_SNDBUF was set: no automatic growth (SOCK_SNDBUF_LOCK) */
	uint8_t rcvbuf_lock : 1;         /* SO_RCVBUF was set (SOCK_RCVBUF_LOCK) */
	uint32_t rcvtimeo_ms, sndtimeo_ms; /* SO_RCVTIMEO / SO_SNDTIMEO, 0: forever */
	uint32_t total_retrans;
	/* The send queue: what the application wrote and the peer has not
	 * acknowledged yet, a ring taken on first write and freed when it drains. */
	uint8_t *snd_data;
	uint32_t snd_cap;                /* power of two */
	uint32_t snd_head;               /* offset of snd_una's byte */
	uint32_t snd_len;                /* bytes from snd_una */
	uint32_t rtx_at;                 /* the retransmission deadline, in stack ticks (ms), low 32 bits */
	/* received in-order data: a list of payload segments (pkt->next) */
	struct dtcp_pkt *rcvq_head, *rcvq_tail;
	uint32_t rcvq_bytes;
	uint32_t rcvbuf;                 /* SO_RCVBUF (grown by autotuning unless set) */
	uint32_t rcvq_space_seq;         /* autotuning: rcv_nxt when the current round trip began */
	uint32_t rcvq_space_at;          /* ... and its time, stack ticks (ms), low 32 bits */
	union {
		/* A listener: children established and not accepted yet (FIFO),
		 * and those still in SYN_RECV. */
		struct {
			struct tcp_sock *acceptq_head, *acceptq_tail;
			struct hhead synq;       /* by child_node */
			uint32_t acceptq_len, synq_len;
		};
		/* A child not accepted yet (zero once accepted: a socket is
		 * never both). */
		struct {
			struct hnode child_node;
			struct tcp_sock *parent;
			struct tcp_sock *acc_next;
		};
	};
};

static inline struct tcp_sock *tcp_sk(struct inet_sock *sk)
{
	return (struct tcp_sock *)sk;
}

/* tcp_output.c */
/* Send one segment of the connection: flags, the sequence number to use,
 * and len bytes of the send queue from offset off past snd_una. 0 or -errno. */
int tcp_send_segment(struct tcp_sock *tp, uint8_t flags, uint32_t seq, uint32_t off, uint32_t len);
/* Send what the windows allow (data, then a queued FIN). */
void tcp_push(struct tcp_sock *tp);
/* Send one segment at snd_nxt whatever cwnd says (fast retransmit). */
void tcp_push_one(struct tcp_sock *tp);
/* An ACK for what has been received. */
void tcp_send_ack(struct tcp_sock *tp);
/* A reset for the connection (abort). */
void tcp_send_active_reset(struct tcp_sock *tp);
/* The receive window to advertise, in bytes. */
uint32_t tcp_rcv_window(const struct tcp_sock *tp);
/* MSS from the device MTU of the route to the destination (what a SYN offers). */
uint16_t tcp_route_mss(struct tcp_sock *tp);
/* The same from the path MTU, where one was learnt (what we may send). */
uint16_t tcp_path_mss(struct tcp_sock *tp);

/* Payload bytes per segment: the MSS less the options every segment carries
 * (the 12 bytes of timestamps, RFC 7323 3.2). */
static inline uint32_t tcp_send_mss(const struct tcp_sock *tp)
{
	return tp->mss - (tp->ts_ok ? 12u : 0u);
}

/* tcp_timer.c */
void tcp_timer_init(struct tcp_sock *tp);
void tcp_rtx_arm(struct tcp_sock *tp, uint32_t ms);
void tcp_rtx_stop(struct tcp_sock *tp);
static inline bool tcp_rtx_pending(const struct tcp_sock *tp)
{
	return tp->rtx_on;
}
/* Owe the peer an ACK within TCP_DELACK_MS (RFC 1122 4.2.3.2, RFC 5681 4.2). */
void tcp_delack_sched(struct tcp_sock *tp);
/* Stop both deadlines (the connection is over). */
void tcp_timer_stop_all(struct tcp_sock *tp);
/* Nothing in flight: arm keepalive if it is on (RFC 1122 4.2.3.6), else stop. */
void tcp_timer_idle(struct tcp_sock *tp);

/* tcp_sock.c */
/* shutdown(2): 0, -EINVAL or -ENOTCONN. */
int tcp_shutdown(struct tcp_sock *tp, int how);
void tcp_sock_init(struct tcp_sock *tp, struct dtcp_stack *st);
/* Give back the send and receive buffers. */
void tcp_sock_free_buffers(struct tcp_sock *tp);
/* Append up to len bytes to the send queue; how many fit (0: full), or -ENOBUFS. */
int tcp_sndbuf_write(struct tcp_sock *tp, const void *buf, uint32_t len);
/* tcp_sndbuf_expand(): unless SO_SNDBUF fixed it, the send buffer grows
 * to hold two congestion windows (at least ten segments' worth), up to
 * net.ipv4.tcp_wmem[2]. */
void tcp_sndbuf_expand(struct tcp_sock *tp);
/* Free the send queue. */
void tcp_sndbuf_release(struct tcp_sock *tp);
/* Drop acked bytes from the front of the send queue. */
void tcp_sndbuf_consume(struct tcp_sock *tp, uint32_t n);
/* Start an active open on a socket that connect() put in SYN_SENT. */
int tcp_connect(struct tcp_sock *tp);
/* close(): the orderly close of RFC 9293 3.10.4 (or a reset, with unread
 * data); the socket loses its descriptor and lives on until it is done. */
void tcp_close(struct tcp_sock *tp);
/* The RTO in ms, for the timer wheel. */
uint32_t tcp_rto_ms(const struct tcp_sock *tp);

/* tcp_input.c / tcp_sock.c */
/* The connection is over: leave the tables, wake the owner with err (0: a
 * normal end), free it if it has no descriptor. */
void tcp_done(struct tcp_sock *tp, int err);
/* Enter TIME_WAIT for 60 s. */
void tcp_time_wait(struct tcp_sock *tp);
uint32_t tcp_isn(struct dtcp_stack *st, const struct inet_sock *sk);

#endif
