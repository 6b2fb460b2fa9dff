/* RFC 6298 retransmission-timeout estimator (see tcp_rtt.h): the sample
 * update, RTO computation and clamping, backoff, and Karn's rule for the
 * timed segment. Stack thread only; never reads a clock. */
#include "tcp_rtt.h"

#include <errno.h>

/* An idle connection has 512 bytes in all (DESIGN.md); the estimator takes 32. */
_Static_assert(sizeof(struct tcp_rtt) <= 32, "struct tcp_rtt grew");

/* Sequence order modulo 2^32 (RFC 9293 section 3.4): a is at or after b. */
static inline bool rtt_seq_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

void tcp_rtt_params_default(struct tcp_rtt_params *p)
{
	p->rto_min_us = TCP_RTT_RTO_MIN_US;
	p->rto_max_us = TCP_RTT_RTO_MAX_US;
	p->rto_initial_us = TCP_RTT_RTO_INITIAL_US;
	p->granularity_us = TCP_RTT_GRANULARITY_US;
}

int tcp_rtt_params_check(const struct tcp_rtt_params *p)
{
	if (p->rto_min_us == 0 || p->rto_min_us > p->rto_initial_us ||
	    p->rto_initial_us > p->rto_max_us)
		return -EINVAL;
	return 0;
}

void tcp_rtt_init(struct tcp_rtt *r, const struct tcp_rtt_params *p)
{
	*r = (struct tcp_rtt){ .rto_us = p->rto_initial_us };
}

/*
 * RTO = SRTT + max(G, K * RTTVAR) with K = 4 (RFC 6298 (2.2)/(2.3)), then
 * bounded by [rto_min, rto_max] ((2.4), (2.5)). In eighths of a us both
 * terms are exact; the sum is rounded up to whole us so the timer never
 * fires before the formula says.
 */
static uint32_t rtt_rto_compute(const struct tcp_rtt *r, const struct tcp_rtt_params *p)
{
	uint64_t var8 = 4 * (uint64_t)r->rttvar8;
	uint64_t g8 = 8 * (uint64_t)p->granularity_us;
	uint64_t rto = ((uint64_t)r->srtt8 + (var8 > g8 ? var8 : g8) + 7) >> 3;

	if (rto < p->rto_min_us)
		rto = p->rto_min_us;
	if (rto > p->rto_max_us)
		rto = p->rto_max_us;
	return (uint32_t)rto;
}

/* One valid sample R (us): RFC 6298 (2.2) for the first, (2.3) after. */
static void rtt_sample(struct tcp_rtt *r, const struct tcp_rtt_params *p, uint32_t rtt_us)
{
	uint64_t r8;

	if (rtt_us > TCP_RTT_SAMPLE_MAX_US)
		rtt_us = TCP_RTT_SAMPLE_MAX_US;
	r8 = 8 * (uint64_t)rtt_us;

	if (!r->has_srtt) {
		/* (2.2): SRTT = R, RTTVAR = R/2 (exact in eighths). */
		r->srtt8 = (uint32_t)r8;
		r->rttvar8 = (uint32_t)(r8 / 2);
		r->has_srtt = true;
	} else {
		/* (2.3), in this order: RTTVAR uses the SRTT before the update.
		 *   RTTVAR = (1 - 1/4) * RTTVAR + 1/4 * |SRTT - R|
		 *   SRTT   = (1 - 1/8) * SRTT   + 1/8 * R
		 * Each is one division of an exact 64-bit numerator, so the
		 * only error is the final round-down (under 1/8 us). */
		uint64_t s8 = r->srtt8;
		uint64_t delta8 = s8 > r8 ? s8 - r8 : r8 - s8;

		r->rttvar8 = (uint32_t)((3 * (uint64_t)r->rttvar8 + delta8) / 4);
		r->srtt8 = (uint32_t)((7 * s8 + r8) / 8);
	}
	/* A new valid sample ends the backoff: the RTO comes from the
	 * estimate again (RFC 6298 section 5, after (5.7); Karn). */
	r->backoff = 0;
	r->rto_us = rtt_rto_compute(r, p);
}

void tcp_rtt_segment_sent(struct tcp_rtt *r, uint32_t end_seq, uint64_t now)
{
	if (r->timing)
		return;
	r->timing = true;
	r->timed_end = end_seq;
	r->timed_at = (uint32_t)now;
}

void tcp_rtt_segment_resent(struct tcp_rtt *r)
{
	r->timing = false;
}

bool tcp_rtt_ack(struct tcp_rtt *r, const struct tcp_rtt_params *p, uint32_t ack, uint64_t now)
{
	int32_t rtt;

	if (!r->timing || !rtt_seq_geq(ack, r->timed_end))
		return false;
	r->timing = false;
	/* Serial arithmetic on 32 bits of microseconds, as the kernel's u32
	 * timestamps: samples are far shorter than the 35 minutes it spans. */
	rtt = (int32_t)((uint32_t)now - r->timed_at);
	if (rtt < 0)
		rtt = 0;
	rtt_sample(r, p, (uint32_t)rtt > TCP_RTT_SAMPLE_MAX_US ? TCP_RTT_SAMPLE_MAX_US : (uint32_t)rtt);
	return true;
}

void tcp_rtt_ts_sample(struct tcp_rtt *r, const struct tcp_rtt_params *p, uint32_t rtt_us)
{
	r->timing = false;
	rtt_sample(r, p, rtt_us);
}

uint32_t tcp_rtt_backoff(struct tcp_rtt *r, const struct tcp_rtt_params *p)
{
	uint64_t rto = 2 * (uint64_t)r->rto_us;

	/* (5.5) back off, (2.5) but never past the maximum. */
	r->rto_us = rto > p->rto_max_us ? p->rto_max_us : (uint32_t)rto;
	if (r->backoff < UINT8_MAX)
		r->backoff++;
	r->timing = false;
	return r->rto_us;
}
