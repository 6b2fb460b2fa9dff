/* Retransmission-timeout estimator of one TCP connection (RFC 6298): SRTT,
 * RTTVAR and RTO with clamping and exponential backoff, Karn's rule for the
 * one timed segment, and timestamp samples (RFC 7323 section 4). Pure state
 * on a small struct, time passed in by the caller; stack thread only. */
#ifndef DTCP_TCP_RTT_H
#define DTCP_TCP_RTT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Defaults. Where RFC 6298 and Linux differ we default to Linux, so that a
 * dtcp connection retransmits on the same schedule as a kernel one:
 * - minimum RTO 200 ms (Linux TCP_RTO_MIN); RFC 6298 (2.4) says 1 s. Set
 *   rto_min_us to 1000000 to get the RFC's value.
 * - maximum RTO 120 s (Linux TCP_RTO_MAX); RFC 6298 (2.5) allows any
 *   maximum of at least 60 s.
 * - initial RTO 1 s: RFC 6298 (2.1) and Linux agree.
 * - clock granularity G 1 ms: the stack's timer wheel ticks in milliseconds
 *   (stack.h), so a timer can fire up to one tick off; G keeps RTO above
 *   SRTT by at least that much (RFC 6298 section 4).
 */
#define TCP_RTT_RTO_MIN_US      200000u
#define TCP_RTT_RTO_MAX_US      120000000u
#define TCP_RTT_RTO_INITIAL_US  1000000u
#define TCP_RTT_GRANULARITY_US  1000u

/* Samples above this are clamped: it keeps 8 * R in 32 bits, and any RTO it
 * yields is above every sane rto_max anyway. */
#define TCP_RTT_SAMPLE_MAX_US   (UINT32_C(1) << 28)

/* Per-stack settings, shared by every connection; see tcp_rtt_params_check. */
struct tcp_rtt_params {
	uint32_t rto_min_us;
	uint32_t rto_max_us;
	uint32_t rto_initial_us;
	uint32_t granularity_us;       /* G of RFC 6298 section 2 */
};

/*
 * Per-connection state, 32 bytes. SRTT and RTTVAR are kept in eighths of a
 * microsecond so the gains alpha = 1/8 and beta = 1/4 need no floating
 * point; each update is the RFC 6298 formula rounded down to 1/8 us. Read
 * them through the accessors below; the fields are not an API.
 */
struct tcp_rtt {
	uint32_t timed_at;             /* when the timed segment was sent, us, modulo 2^32 */
	uint32_t timed_end;            /* sequence number just past it */
	uint32_t srtt8;                /* SRTT, 1/8 us */
	uint32_t rttvar8;              /* RTTVAR, 1/8 us */
	uint32_t rto_us;               /* timeout to arm now, backoff included */
	uint8_t backoff;               /* doublings since the last valid sample */
	bool timing;                   /* a segment is being timed */
	bool has_srtt;                 /* at least one sample taken */
};

/** Fill @p p with the defaults above. */
void tcp_rtt_params_default(struct tcp_rtt_params *p);

/**
 * Check a parameter set before installing it.
 * @return 0, or -EINVAL unless 0 < rto_min_us <= rto_initial_us <= rto_max_us.
 */
int tcp_rtt_params_check(const struct tcp_rtt_params *p);

/**
 * Start a connection's estimator: no SRTT yet, RTO = rto_initial_us
 * (RFC 6298 (2.1)), nothing timed, no backoff.
 * @p p must have passed tcp_rtt_params_check.
 */
void tcp_rtt_init(struct tcp_rtt *r, const struct tcp_rtt_params *p);

/**
 * The engine sent a segment of new data (never sent before) ending just
 * before @p end_seq (seq + len, SYN and FIN counted), at @p now (us).
 * If no segment is being timed, this one is; otherwise nothing changes, so
 * one measurement per round trip at most, as RFC 6298 section 3 allows.
 * Call it for every new segment; it picks.
 */
void tcp_rtt_segment_sent(struct tcp_rtt *r, uint32_t end_seq, uint64_t now);

/**
 * The engine retransmitted something (fast retransmit, partial-ACK
 * retransmit, go-back-N after a timeout). Karn's algorithm (RFC 6298
 * section 3): the measurement in progress is dropped, because an ACK that
 * covers the timed segment now also covers a retransmission and may have
 * been sent for either copy. The retransmission itself is never timed.
 */
void tcp_rtt_segment_resent(struct tcp_rtt *r);

/**
 * An ACK advanced SND.UNA to @p ack at @p now, and carried no timestamp
 * the engine can use (otherwise call tcp_rtt_ts_sample instead).
 * If it covers the timed segment, R = now - send time is a valid sample:
 * SRTT, RTTVAR and RTO are updated (RFC 6298 (2.2)/(2.3)) and the backoff
 * is cleared (section 5, "Note that..."), since this is an ACK for a
 * segment that was not retransmitted.
 * @return true if a sample was taken (the RTO may have changed).
 * A @p now earlier than the send time counts as R = 0.
 */
bool tcp_rtt_ack(struct tcp_rtt *r, const struct tcp_rtt_params *p, uint32_t ack, uint64_t now);

/**
 * A timestamp sample: an ACK that advanced SND.UNA carried a TSecr echoing
 * one of our TSvals, and @p rtt_us is now minus the time that TSval was
 * taken (the engine knows its TSval clock; the estimator does not).
 * RFC 7323 section 4.1 allows samples only from ACKs that advance SND.UNA;
 * the caller filters. The echo names the transmission that elicited the
 * ACK, so the sample is unambiguous even for retransmitted data, and Karn's
 * rule does not apply (RFC 6298 section 3). Updates SRTT, RTTVAR and RTO,
 * clears the backoff, and drops any segment timing so the same ACK is not
 * counted twice. Every such ACK is one sample at the RFC 6298 gains (the
 * gain reduction of RFC 7323 section 4.2 is not applied; Linux does not).
 * Samples above TCP_RTT_SAMPLE_MAX_US are clamped to it.
 */
void tcp_rtt_ts_sample(struct tcp_rtt *r, const struct tcp_rtt_params *p, uint32_t rtt_us);

/**
 * The retransmission timer expired: RTO doubles, capped at rto_max_us
 * (RFC 6298 (5.5), (2.5)), and the backoff count goes up (saturating at
 * 255; the engine compares it with its retry limit). The measurement in
 * progress is dropped (Karn): the engine is about to retransmit.
 * The backed-off RTO is kept until the next valid sample.
 * @return the new RTO in us, to arm the timer with.
 */
uint32_t tcp_rtt_backoff(struct tcp_rtt *r, const struct tcp_rtt_params *p);

/** Timeout to arm the retransmission timer with, in us (RFC 6298 section 5). */
static inline uint32_t tcp_rtt_rto(const struct tcp_rtt *r)
{
	return r->rto_us;
}

/** Smoothed RTT in us, rounded down; 0 before the first sample. */
static inline uint32_t tcp_rtt_srtt(const struct tcp_rtt *r)
{
	return r->srtt8 >> 3;
}

/** RTT variation in us, rounded down; 0 before the first sample. */
static inline uint32_t tcp_rtt_rttvar(const struct tcp_rtt *r)
{
	return r->rttvar8 >> 3;
}

/** Timer expiries since the last valid sample. */
static inline uint8_t tcp_rtt_backoff_count(const struct tcp_rtt *r)
{
	return r->backoff;
}

#endif
