/* NewReno congestion control of one TCP connection: RFC 5681 slow start and
 * congestion avoidance (byte counting, RFC 3465), fast retransmit and
 * RFC 6582 fast recovery, the RTO response, restart after idle, and the
 * RFC 6928 initial window. Pure state: it tells the caller what to do and
 * never sends. Stack thread only; never reads a clock. */
#ifndef DTCP_TCP_CC_H
#define DTCP_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

/* Duplicate ACKs that trigger fast retransmit (RFC 5681 section 3.2). */
#define TCP_CC_DUPACK_THRESH 3

/* Largest window a peer can advertise (65535 << 14, RFC 7323 section 2.3):
 * the initial ssthresh ("arbitrarily high", RFC 5681 section 3.1) and the
 * ceiling cwnd never grows past, which keeps all sums in 32 bits. */
#define TCP_CC_WND_MAX (UINT32_C(65535) << 14)

/* Bits of tcp_cc_ack()'s result: what the engine must do for this ACK. */
enum {
	/* Retransmit one segment starting at SND.UNA (the value after this
	 * ACK) now, whatever cwnd says (RFC 5681 3.2 step 3; RFC 6582 3.2
	 * step 3, partial ACK), then tell tcp_rtt_segment_resent(). */
	TCP_CC_RETRANSMIT = 1 << 0,
	/* Restart the retransmission timer (RFC 6298 (5.3)), or stop it if
	 * nothing is outstanding ((5.2)). Absent on ACKs that advance SND.UNA
	 * during recovery other than the first partial ACK: that is the
	 * "Impatient" timer rule of RFC 6582 3.2 step 3, which lets a window
	 * with many losses fall back to the RTO instead of one hole per RTT. */
	TCP_CC_RESTART_TIMER = 1 << 1,
};

/* Per-connection state, 40 bytes. Read through the accessors; the fields
 * are not an API. */
struct tcp_cc {
	uint32_t last_xmit;            /* last data transmission, us modulo 2^32 (RFC 5681 4.1) */
	uint32_t cwnd;                 /* bytes */
	uint32_t ssthresh;             /* bytes */
	uint32_t smss;                 /* sender MSS, bytes */
	uint32_t recover;              /* RFC 6582 "recover" (see tcp_cc.c) */
	uint32_t bytes_acked;          /* RFC 3465 counter in congestion avoidance */
	uint8_t dupacks;               /* consecutive duplicate ACKs, saturating */
	bool in_recovery : 1;          /* between fast retransmit and the full ACK */
	bool partial_seen : 1;         /* a partial ACK came in this recovery */
	bool rto_resent : 1;           /* SND.UNA's segment was already resent by the timer */
	bool after_rto : 1;            /* in the slow start that follows an RTO */
};

/** Initial window for a sender MSS (RFC 6928 section 2):
 *  min(10 * SMSS, max(2 * SMSS, 14600)). */
uint32_t tcp_cc_initial_window(uint32_t smss);

/**
 * Start a connection's congestion state once the MSS is known:
 * cwnd = IW (RFC 6928), ssthresh = TCP_CC_WND_MAX, recover = @p iss
 * (RFC 6582 3.2 step 1), not in recovery, last transmission = @p now (us).
 * @return 0, or -EINVAL if @p smss is 0 or above 65535.
 */
int tcp_cc_init(struct tcp_cc *cc, uint32_t smss, uint32_t iss, uint64_t now);

/**
 * Process one ACK, before the engine moves SND.UNA.
 * @param ack     SEG.ACK.
 * @param snd_una SND.UNA before this ACK.
 * @param snd_max one past the highest sequence number sent so far (SND.MAX;
 *                not SND.NXT, which a go-back-N retransmission pulls back).
 *                FlightSize is snd_max - snd_una.
 * @param dup_ok  the segment carries no data, has neither SYN nor FIN, and
 *                leaves the advertised window unchanged: RFC 5681 section 2
 *                "duplicate acknowledgment" conditions (b), (c), (e). The
 *                module checks (a) data outstanding and (d) ack == snd_una.
 * Duplicate ACKs count towards fast retransmit; the third one enters fast
 * recovery unless the RFC 6582 guard (ack not beyond recover) forbids it;
 * further ones inflate cwnd by SMSS. ACKs of new data grow cwnd (slow start
 * or congestion avoidance) or, in recovery, are partial or full ACKs.
 * An ACK with ack == snd_una that is not a duplicate changes nothing.
 * After any call the engine runs its output as usual: cwnd may allow more.
 * @return a mask of TCP_CC_RETRANSMIT and TCP_CC_RESTART_TIMER (possibly 0),
 *         or -EINVAL, state unchanged, if ack is outside [snd_una, snd_max]
 *         or snd_max - snd_una is 2^31 or more (the engine must drop such
 *         ACKs itself, RFC 9293 section 3.10.7.4).
 */
int tcp_cc_ack(struct tcp_cc *cc, uint32_t ack, uint32_t snd_una, uint32_t snd_max, bool dup_ok);

/**
 * The retransmission timer expired (call it once per expiry, before
 * retransmitting SND.UNA's segment). RFC 5681 section 3.1 equation (4):
 * ssthresh = max(FlightSize / 2, 2 * SMSS), unless this segment was already
 * resent by the timer (then ssthresh is kept: "has not yet been resent by
 * way of the retransmission timer"); cwnd = 1 SMSS (the loss window).
 * Fast recovery ends and recover = snd_max - 1 (RFC 6582 3.2 step 4), so
 * duplicate ACKs for data sent before the timeout cannot start a fast
 * retransmit.
 * @param snd_una SND.UNA; @param snd_max as for tcp_cc_ack.
 * @return 0, or -EINVAL, state unchanged, if snd_max - snd_una >= 2^31.
 */
int tcp_cc_timeout(struct tcp_cc *cc, uint32_t snd_una, uint32_t snd_max);

/**
 * The engine is about to transmit data (new or retransmitted) at @p now (us);
 * call it before sizing the burst, and only when at least one data segment
 * will go out. Restart after idle (RFC 5681 section 4.1): if no data was
 * sent for more than @p rto_us (the current RTO), cwnd = min(cwnd, IW)
 * first. ssthresh is left alone, as RFC 5681 says (Linux also raises it,
 * following RFC 2861; we do not). Records @p now as the last transmission.
 * @return true if cwnd was restarted.
 */
bool tcp_cc_xmit(struct tcp_cc *cc, uint64_t now, uint32_t rto_us);

/** Congestion window, bytes. */
static inline uint32_t tcp_cc_cwnd(const struct tcp_cc *cc)
{
	return cc->cwnd;
}

/** Slow-start threshold, bytes. */
static inline uint32_t tcp_cc_ssthresh(const struct tcp_cc *cc)
{
	return cc->ssthresh;
}

/** True between fast retransmit and the ACK that covers recover. */
static inline bool tcp_cc_in_recovery(const struct tcp_cc *cc)
{
	return cc->in_recovery;
}

/** RFC 6582 recover: the highest sequence number sent when the last loss
 *  was detected (kept just below SND.UNA once passed, see tcp_cc.c). */
static inline uint32_t tcp_cc_recover(const struct tcp_cc *cc)
{
	return cc->recover;
}

/** Bytes cwnd lets the engine send beyond @p flight (snd_nxt - snd_una
 *  as the engine counts it); the engine also applies the peer's window. */
static inline uint32_t tcp_cc_avail(const struct tcp_cc *cc, uint32_t flight)
{
	return cc->cwnd > flight ? cc->cwnd - flight : 0;
}

#endif
