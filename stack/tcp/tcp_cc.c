/* NewReno congestion control (see tcp_cc.h): window growth, duplicate-ACK
 * counting, fast recovery with partial and full ACKs, the timeout response
 * and restart after idle. Stack thread only; never reads a clock. */
#include "tcp_cc.h"

#include <errno.h>

/* An idle connection has 512 bytes in all (DESIGN.md); congestion state takes 40. */
_Static_assert(sizeof(struct tcp_cc) <= 40, "struct tcp_cc grew");

/*
 * Sequence order modulo 2^32 (RFC 9293 section 3.4). Kept private on
 * purpose: the congestion state must not depend on the header module.
 */
static inline bool cc_seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* a + b, never past TCP_CC_WND_MAX. */
static inline uint32_t cc_wnd_add(uint32_t a, uint32_t b)
{
	uint64_t s = (uint64_t)a + b;

	return s > TCP_CC_WND_MAX ? TCP_CC_WND_MAX : (uint32_t)s;
}

/* RFC 5681 section 3.1 equation (4), also used on entering fast recovery
 * (3.2 step 2): ssthresh = max(FlightSize / 2, 2 * SMSS). FlightSize, not
 * cwnd: during recovery cwnd is inflated and means nothing here. */
static inline uint32_t cc_loss_ssthresh(const struct tcp_cc *cc, uint32_t flight)
{
	uint32_t half = flight / 2;

	return half > 2 * cc->smss ? half : 2 * cc->smss;
}

uint32_t tcp_cc_initial_window(uint32_t smss)
{
	uint64_t ten = 10 * (uint64_t)smss;
	uint64_t two = 2 * (uint64_t)smss;
	uint64_t floor = two > 14600 ? two : 14600;

	return (uint32_t)(ten < floor ? ten : floor);
}

int tcp_cc_init(struct tcp_cc *cc, uint32_t smss, uint32_t iss, uint64_t now)
{
	if (smss == 0 || smss > 65535)
		return -EINVAL;
	*cc = (struct tcp_cc){
		.last_xmit = (uint32_t)now,
		.cwnd = tcp_cc_initial_window(smss),
		.ssthresh = TCP_CC_WND_MAX,
		.smss = smss,
		/* RFC 6582 3.2 step 1: recover starts at the ISN, so the
		 * first loss (ack beyond the ISN) may fast-retransmit. */
		.recover = iss,
	};
	return 0;
}

/*
 * Window growth for @acked newly acknowledged bytes outside recovery.
 * Slow start while cwnd < ssthresh (RFC 5681 section 3.1, cwnd == ssthresh
 * is taken as congestion avoidance): cwnd += min(N, L), RFC 3465 section
 * 2.2 with L = 2 * SMSS, except L = 1 * SMSS in the slow start that follows
 * a timeout, where one ACK can cover data the receiver already held before
 * the go-back-N resend (RFC 3465 section 2.3). The increase is not cut at
 * ssthresh; RFC 5681 does not ask for it.
 * Congestion avoidance: byte counting (RFC 3465 section 2.1, the
 * "bytes_acked" method of RFC 5681 section 3.1): once a cwnd's worth of
 * bytes has been acknowledged, cwnd grows by one SMSS and that much is
 * taken off the count, so cwnd grows by one SMSS per window, however the
 * receiver spaces its ACKs.
 */
static void cc_grow(struct tcp_cc *cc, uint32_t acked)
{
	if (cc->cwnd < cc->ssthresh) {
		uint32_t limit = cc->after_rto ? cc->smss : 2 * cc->smss;

		cc->cwnd = cc_wnd_add(cc->cwnd, acked < limit ? acked : limit);
		return;
	}
	cc->after_rto = false;
	cc->bytes_acked = cc_wnd_add(cc->bytes_acked, acked);
	if (cc->bytes_acked >= cc->cwnd) {
		cc->bytes_acked -= cc->cwnd;
		cc->cwnd = cc_wnd_add(cc->cwnd, cc->smss);
	}
}

/* A duplicate ACK (all five conditions of RFC 5681 section 2 hold). */
static int cc_dupack(struct tcp_cc *cc, uint32_t ack, uint32_t snd_max, uint32_t flight)
{
	if (cc->dupacks < UINT8_MAX)
		cc->dupacks++;

	if (cc->in_recovery) {
		/* RFC 5681 3.2 step 4: each further duplicate means a segment
		 * left the network; inflate so a new one may be sent. */
		cc->cwnd = cc_wnd_add(cc->cwnd, cc->smss);
		return 0;
	}
	/* Below the threshold nothing happens here (RFC 3042 limited
	 * transmit, if the engine wants it, needs no congestion state).
	 * Past it, without recovery, the guard below already said no. */
	if (cc->dupacks != TCP_CC_DUPACK_THRESH)
		return 0;

	/* RFC 6582 3.2 step 2, the guard against multiple fast retransmits
	 * (the "bugfix" of RFC 2582): enter only if the ACK covers more than
	 * recover. Duplicates for data sent before the last loss response
	 * (e.g. provoked by go-back-N resends after a timeout) do not
	 * start another reduction, and ssthresh is left as it is. */
	if (!cc_seq_gt(ack, cc->recover))
		return 0;

	/* RFC 5681 3.2 steps 2-3, RFC 6582 3.2 step 2. */
	cc->recover = snd_max - 1;
	cc->ssthresh = cc_loss_ssthresh(cc, flight);
	cc->cwnd = cc_wnd_add(cc->ssthresh, 3 * cc->smss);
	cc->in_recovery = true;
	cc->partial_seen = false;
	cc->bytes_acked = 0;
	cc->after_rto = false;
	return TCP_CC_RETRANSMIT;
}

/* An ACK that advances SND.UNA by @acked bytes to @ack. */
static int cc_newack(struct tcp_cc *cc, uint32_t ack, uint32_t acked, uint32_t snd_max)
{
	int act;

	cc->dupacks = 0;
	/* The timed-out segment (if any) is acknowledged: a later timeout
	 * concerns new data and computes ssthresh afresh. */
	cc->rto_resent = false;

	if (cc->in_recovery && !cc_seq_gt(ack, cc->recover)) {
		/*
		 * Partial ACK, RFC 6582 3.2 step 3: the next hole starts at
		 * ack; resend it, deflate cwnd by the bytes this ACK took
		 * out of the network and add back one SMSS if it acked at
		 * least that much (the retransmission that left), so that
		 * about ssthresh is outstanding when recovery ends. Stay in
		 * recovery. cwnd is kept at one SMSS at least, the loss
		 * window (RFC 5681 3.1), in case the peer acks more than the
		 * inflation it paid for.
		 */
		cc->cwnd = cc->cwnd > acked ? cc->cwnd - acked : 0;
		if (acked >= cc->smss)
			cc->cwnd = cc_wnd_add(cc->cwnd, cc->smss);
		if (cc->cwnd < cc->smss)
			cc->cwnd = cc->smss;
		act = TCP_CC_RETRANSMIT;
		if (!cc->partial_seen)
			act |= TCP_CC_RESTART_TIMER;
		cc->partial_seen = true;
		return act;
	}

	if (cc->in_recovery) {
		/*
		 * Full ACK, RFC 6582 3.2 step 3, option (1):
		 *   cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS)
		 * with FlightSize what is still outstanding after this ACK.
		 * Option (2), cwnd = ssthresh, would let the engine burst up
		 * to ssthresh at once when little is in flight; (1) needs no
		 * burst limiter in the engine.
		 */
		uint32_t left = snd_max - ack;
		uint32_t deflated = cc_wnd_add(left > cc->smss ? left : cc->smss, cc->smss);

		cc->cwnd = deflated < cc->ssthresh ? deflated : cc->ssthresh;
		cc->in_recovery = false;
		cc->partial_seen = false;
		cc->bytes_acked = 0;
	} else {
		cc_grow(cc, acked);
	}

	/*
	 * Outside recovery, recover only matters while it is at or above
	 * SND.UNA (the guard in cc_dupack). Once the cumulative ACK passes
	 * it, keep it just below SND.UNA: same guard decisions, and it never
	 * falls 2^31 behind, where modulo comparison would flip and block
	 * every later fast retransmit.
	 */
	if (cc_seq_gt(ack, cc->recover))
		cc->recover = ack - 1;
	return TCP_CC_RESTART_TIMER;
}

int tcp_cc_ack(struct tcp_cc *cc, uint32_t ack, uint32_t snd_una, uint32_t snd_max, bool dup_ok)
{
	uint32_t flight = snd_max - snd_una;
	uint32_t acked = ack - snd_una;

	if (flight > INT32_MAX || acked > flight)
		return -EINVAL;
	if (acked > 0)
		return cc_newack(cc, ack, acked, snd_max);
	/* RFC 5681 section 2: (d) holds here; (a) needs data outstanding;
	 * (b), (c), (e) are the caller's. A non-duplicate ACK that does
	 * not move SND.UNA (window update, data) leaves the count alone. */
	if (!dup_ok || flight == 0)
		return 0;
	return cc_dupack(cc, ack, snd_max, flight);
}

int tcp_cc_timeout(struct tcp_cc *cc, uint32_t snd_una, uint32_t snd_max)
{
	uint32_t flight = snd_max - snd_una;

	if (flight > INT32_MAX)
		return -EINVAL;
	/* RFC 5681 3.1: equation (4) only the first time the timer resends
	 * this segment; a second expiry says nothing new about the path. */
	if (!cc->rto_resent)
		cc->ssthresh = cc_loss_ssthresh(cc, flight);
	cc->rto_resent = true;
	cc->cwnd = cc->smss;
	/* RFC 6582 3.2 step 4. */
	cc->recover = snd_max - 1;
	cc->in_recovery = false;
	cc->partial_seen = false;
	cc->dupacks = 0;
	cc->bytes_acked = 0;
	cc->after_rto = true;
	return 0;
}

bool tcp_cc_xmit(struct tcp_cc *cc, uint64_t now, uint32_t rto_us)
{
	/* Serial arithmetic on 32 bits, as the kernel's lsndtime: an idle
	 * time beyond 35 minutes reads as none, which only skips a restart. */
	int32_t since = (int32_t)((uint32_t)now - cc->last_xmit);
	bool idle = since > 0 && (uint32_t)since > rto_us;

	if (idle) {
		/* RFC 5681 4.1: RW = min(IW, cwnd). */
		uint32_t iw = tcp_cc_initial_window(cc->smss);

		if (cc->cwnd > iw) {
			cc->cwnd = iw;
			cc->bytes_acked = 0;
		}
	}
	if (since > 0)
		cc->last_xmit = (uint32_t)now;
	return idle;
}
