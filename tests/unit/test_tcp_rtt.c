/* RTO estimator (RFC 6298): hand-computed SRTT/RTTVAR/RTO sequences, the
 * first-sample rule, clamping, granularity, backoff and its cap, Karn's
 * rule, timestamp samples, parameter checks and sequence wrap. Every
 * expected value is worked out from the RFC formulas in the comments. */
#include <criterion/criterion.h>
#include <errno.h>

#include "tcp/tcp_rtt.h"

static struct tcp_rtt_params defaults(void)
{
	struct tcp_rtt_params p;

	tcp_rtt_params_default(&p);
	return p;
}

/* One timed segment: sent at t, acked at t + rtt. */
static bool timed_sample(struct tcp_rtt *r, const struct tcp_rtt_params *p,
                         uint32_t end, uint64_t t, uint32_t rtt)
{
	tcp_rtt_segment_sent(r, end, t);
	return tcp_rtt_ack(r, p, end, t + rtt);
}

Test(tcp_rtt, defaults_are_linux_values)
{
	struct tcp_rtt_params p = defaults();

	cr_assert_eq(p.rto_min_us, 200000);
	cr_assert_eq(p.rto_max_us, 120000000);
	cr_assert_eq(p.rto_initial_us, 1000000);
	cr_assert_eq(p.granularity_us, 1000);
	cr_assert_eq(tcp_rtt_params_check(&p), 0);
}

Test(tcp_rtt, params_check)
{
	struct tcp_rtt_params p = defaults();

	p.rto_min_us = 0;
	cr_assert_eq(tcp_rtt_params_check(&p), -EINVAL);
	p = defaults();
	p.rto_min_us = 1000001;                    /* above the initial RTO */
	cr_assert_eq(tcp_rtt_params_check(&p), -EINVAL);
	p = defaults();
	p.rto_max_us = 999999;                     /* below the initial RTO */
	cr_assert_eq(tcp_rtt_params_check(&p), -EINVAL);
	/* RFC 6298 as written: min 1 s (2.4), max 60 s (2.5). */
	p = (struct tcp_rtt_params){ 1000000, 60000000, 1000000, 1000 };
	cr_assert_eq(tcp_rtt_params_check(&p), 0);
}

Test(tcp_rtt, initial_state)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	tcp_rtt_init(&r, &p);
	cr_assert_eq(tcp_rtt_rto(&r), 1000000);    /* RFC 6298 (2.1) */
	cr_assert_eq(tcp_rtt_srtt(&r), 0);
	cr_assert_eq(tcp_rtt_rttvar(&r), 0);
	cr_assert_eq(tcp_rtt_backoff_count(&r), 0);
	cr_assert(!r.has_srtt);
	/* No segment timed: an ACK is no sample. */
	cr_assert(!tcp_rtt_ack(&r, &p, 12345, 500000));
	cr_assert_eq(tcp_rtt_rto(&r), 1000000);
}

Test(tcp_rtt, first_sample_rule)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	tcp_rtt_init(&r, &p);
	cr_assert(timed_sample(&r, &p, 1001, 7000000, 100000));
	/* (2.2): SRTT = R = 100 ms, RTTVAR = R/2 = 50 ms,
	 * RTO = 100 + max(1, 4 * 50) = 300 ms. */
	cr_assert_eq(r.srtt8, 800000);
	cr_assert_eq(r.rttvar8, 400000);
	cr_assert_eq(tcp_rtt_srtt(&r), 100000);
	cr_assert_eq(tcp_rtt_rttvar(&r), 50000);
	cr_assert_eq(tcp_rtt_rto(&r), 300000);
}

Test(tcp_rtt, sample_across_32_bit_wrap)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	/* Send times are kept modulo 2^32 us (71 minutes): a sample that
	 * spans the wrap still measures 100 ms, and one at 3 hours too. */
	tcp_rtt_init(&r, &p);
	cr_assert(timed_sample(&r, &p, 1001, 0xffffffffull - 50000, 100000));
	cr_assert_eq(tcp_rtt_srtt(&r), 100000);
	tcp_rtt_init(&r, &p);
	cr_assert(timed_sample(&r, &p, 1001, 3ull * 3600 * 1000000, 40000));
	cr_assert_eq(tcp_rtt_srtt(&r), 40000);
}

Test(tcp_rtt, first_sample_odd_halves_exactly)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	p.rto_min_us = 1;
	tcp_rtt_init(&r, &p);
	tcp_rtt_ts_sample(&r, &p, 3);
	/* RTTVAR = 1.5 us is exact in eighths (12/8). RTO = 3 + max(1000, 6). */
	cr_assert_eq(r.srtt8, 24);
	cr_assert_eq(r.rttvar8, 12);
	cr_assert_eq(tcp_rtt_rto(&r), 1003);
}

Test(tcp_rtt, rfc6298_sequence)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;
	uint64_t t = 0;

	tcp_rtt_init(&r, &p);
	/* R1 = 100 ms: SRTT 100, RTTVAR 50, RTO 300 ms. */
	cr_assert(timed_sample(&r, &p, 1000, t, 100000));
	cr_assert_eq(tcp_rtt_rto(&r), 300000);

	/* R2 = 200 ms, (2.3), RTTVAR first with the old SRTT:
	 * RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5 ms
	 * SRTT   = 7/8 * 100 + 1/8 * 200      = 112.5 ms
	 * RTO    = 112.5 + 4 * 62.5           = 362.5 ms */
	t += 1000000;
	cr_assert(timed_sample(&r, &p, 2000, t, 200000));
	cr_assert_eq(r.rttvar8, 500000);
	cr_assert_eq(r.srtt8, 900000);
	cr_assert_eq(tcp_rtt_rto(&r), 362500);

	/* R3 = 100 ms:
	 * RTTVAR = 3/4 * 62.5 + 1/4 * 12.5 = 50 ms
	 * SRTT   = 7/8 * 112.5 + 1/8 * 100 = 110.9375 ms
	 * RTO    = 110.9375 + 200 = 310.9375 ms, rounded up to 310938 us. */
	t += 1000000;
	cr_assert(timed_sample(&r, &p, 3000, t, 100000));
	cr_assert_eq(r.rttvar8, 400000);
	cr_assert_eq(r.srtt8, 887500);
	cr_assert_eq(tcp_rtt_rto(&r), 310938);

	/* R4 = 60 ms:
	 * RTTVAR = 3/4 * 50 + 1/4 * 50.9375 = 50.234375 ms (401875 / 8 us)
	 * SRTT   = 7/8 * 110.9375 + 1/8 * 60 = 104.5703125 ms
	 *        = 836562.5 / 8 us, stored rounded down: 836562
	 * RTO    = (836562 + 4 * 401875) / 8 = 305507.75, up to 305508 us. */
	t += 1000000;
	cr_assert(timed_sample(&r, &p, 4000, t, 60000));
	cr_assert_eq(r.rttvar8, 401875);
	cr_assert_eq(r.srtt8, 836562);
	cr_assert_eq(tcp_rtt_srtt(&r), 104570);
	cr_assert_eq(tcp_rtt_rttvar(&r), 50234);
	cr_assert_eq(tcp_rtt_rto(&r), 305508);
}

Test(tcp_rtt, clamp_to_minimum)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	/* R = 1 ms: 1 + max(1, 2) = 3 ms, below Linux's 200 ms floor. */
	tcp_rtt_init(&r, &p);
	tcp_rtt_ts_sample(&r, &p, 1000);
	cr_assert_eq(tcp_rtt_srtt(&r), 1000);
	cr_assert_eq(tcp_rtt_rto(&r), 200000);

	/* With RFC 6298's own floor of 1 s (2.4). */
	p.rto_min_us = 1000000;
	tcp_rtt_init(&r, &p);
	tcp_rtt_ts_sample(&r, &p, 1000);
	cr_assert_eq(tcp_rtt_rto(&r), 1000000);

	/* A floor of 1 us shows the unclamped value. */
	p.rto_min_us = 1;
	tcp_rtt_init(&r, &p);
	tcp_rtt_ts_sample(&r, &p, 1000);
	cr_assert_eq(tcp_rtt_rto(&r), 3000);
}

Test(tcp_rtt, clamp_to_maximum)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	/* R = 50 s: 50 + 4 * 25 = 150 s, above the 120 s ceiling. */
	tcp_rtt_init(&r, &p);
	tcp_rtt_ts_sample(&r, &p, 50000000);
	cr_assert_eq(tcp_rtt_rto(&r), 120000000);

	/* RFC 6298 (2.5) allows 60 s. */
	p.rto_max_us = 60000000;
	tcp_rtt_init(&r, &p);
	tcp_rtt_ts_sample(&r, &p, 50000000);
	cr_assert_eq(tcp_rtt_rto(&r), 60000000);

	/* R = 30 s: 30 + 60 = 90 s is under the default ceiling. */
	p = defaults();
	tcp_rtt_init(&r, &p);
	tcp_rtt_ts_sample(&r, &p, 30000000);
	cr_assert_eq(tcp_rtt_rto(&r), 90000000);
}

Test(tcp_rtt, absurd_sample_is_clamped)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	tcp_rtt_init(&r, &p);
	tcp_rtt_ts_sample(&r, &p, UINT32_MAX);
	cr_assert_eq(tcp_rtt_srtt(&r), TCP_RTT_SAMPLE_MAX_US);
	cr_assert_eq(r.srtt8, UINT32_C(1) << 31);
	cr_assert_eq(tcp_rtt_rto(&r), 120000000);
	/* The next sample still averages correctly from there:
	 * RTTVAR = 3/4 * 2^27 + 1/4 * (2^28 - 0) = 2^27 * 5/4
	 * SRTT = 7/8 * 2^28. */
	tcp_rtt_ts_sample(&r, &p, 0);
	cr_assert_eq(r.rttvar8, (UINT32_C(1) << 30) / 4 * 5);
	cr_assert_eq(r.srtt8, (UINT32_C(1) << 31) / 8 * 7);
}

Test(tcp_rtt, granularity_dominates_small_variance)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;
	int i;

	/* A steady 10 ms path. RTTVAR starts at 5 ms and shrinks by 3/4 per
	 * sample (|SRTT - R| = 0): in eighths 40000, 30000, 22500, 16875,
	 * 12656, 9492, 7119, 5339, 4004, 3003, 2252, 1689. After 12 samples
	 * 4 * RTTVAR = 844.5 us < G = 1000 us, so RTO = 10 + 1 ms. */
	p.rto_min_us = 1;
	tcp_rtt_init(&r, &p);
	for (i = 0; i < 11; i++)
		tcp_rtt_ts_sample(&r, &p, 10000);
	cr_assert_eq(r.rttvar8, 2252);
	cr_assert_eq(tcp_rtt_rto(&r), 11126);      /* 10000 + 4 * 281.5 = 11126 */
	tcp_rtt_ts_sample(&r, &p, 10000);
	cr_assert_eq(r.rttvar8, 1689);
	cr_assert_eq(r.srtt8, 80000);
	cr_assert_eq(tcp_rtt_rto(&r), 11000);

	/* G = 0: the same sequence gives SRTT + 4 * RTTVAR = 10844.5 -> 10845. */
	p.granularity_us = 0;
	tcp_rtt_init(&r, &p);
	for (i = 0; i < 12; i++)
		tcp_rtt_ts_sample(&r, &p, 10000);
	cr_assert_eq(tcp_rtt_rto(&r), 10845);

	/* A coarse G (500 ms) on the first sample: 100 + max(500, 200). */
	p.granularity_us = 500000;
	tcp_rtt_init(&r, &p);
	tcp_rtt_ts_sample(&r, &p, 100000);
	cr_assert_eq(tcp_rtt_rto(&r), 600000);
}

Test(tcp_rtt, backoff_doubles_to_cap)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;
	static const uint32_t want[] = { 2000000, 4000000, 8000000, 16000000, 32000000,
	                                 64000000, 120000000, 120000000, 120000000 };
	unsigned i;

	tcp_rtt_init(&r, &p);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert_eq(tcp_rtt_backoff(&r, &p), want[i], "expiry %u", i + 1);
		cr_assert_eq(tcp_rtt_rto(&r), want[i]);
		cr_assert_eq(tcp_rtt_backoff_count(&r), i + 1);
	}
	/* The count saturates instead of wrapping; the RTO stays capped. */
	for (i = 0; i < 300; i++)
		tcp_rtt_backoff(&r, &p);
	cr_assert_eq(tcp_rtt_backoff_count(&r), 255);
	cr_assert_eq(tcp_rtt_rto(&r), 120000000);
}

Test(tcp_rtt, backoff_from_estimate_and_odd_cap)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	/* Backoff starts from the computed RTO, and the cap need not be a
	 * power-of-two multiple of it. */
	p.rto_max_us = 1000000;
	tcp_rtt_init(&r, &p);
	tcp_rtt_ts_sample(&r, &p, 100000);         /* RTO 300 ms */
	cr_assert_eq(tcp_rtt_backoff(&r, &p), 600000);
	cr_assert_eq(tcp_rtt_backoff(&r, &p), 1000000);
	cr_assert_eq(tcp_rtt_backoff(&r, &p), 1000000);
}

Test(tcp_rtt, valid_sample_resets_backoff)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	tcp_rtt_init(&r, &p);
	cr_assert(timed_sample(&r, &p, 1000, 0, 100000));       /* RTO 300 ms */
	cr_assert_eq(tcp_rtt_backoff(&r, &p), 600000);
	cr_assert_eq(tcp_rtt_backoff(&r, &p), 1200000);
	/* The backed-off RTO holds until a sample from new data... */
	tcp_rtt_segment_resent(&r);
	cr_assert(!tcp_rtt_ack(&r, &p, 1000, 3000000));
	cr_assert_eq(tcp_rtt_rto(&r), 1200000);
	cr_assert_eq(tcp_rtt_backoff_count(&r), 2);
	/* ...which recomputes RTO from the estimate (R = 100 ms keeps
	 * SRTT at 100, RTTVAR = 3/4 * 50 = 37.5: RTO 250 ms). */
	cr_assert(timed_sample(&r, &p, 2000, 4000000, 100000));
	cr_assert_eq(tcp_rtt_backoff_count(&r), 0);
	cr_assert_eq(tcp_rtt_rto(&r), 250000);
}

Test(tcp_rtt, karn_retransmission_voids_timing)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	tcp_rtt_init(&r, &p);
	tcp_rtt_segment_sent(&r, 1000, 0);
	tcp_rtt_segment_resent(&r);
	/* The ACK may answer either copy: no sample. */
	cr_assert(!tcp_rtt_ack(&r, &p, 1000, 150000));
	cr_assert(!r.has_srtt);
	cr_assert_eq(tcp_rtt_rto(&r), 1000000);

	/* Timer expiry voids it too (the engine resends next). */
	tcp_rtt_segment_sent(&r, 2000, 200000);
	tcp_rtt_backoff(&r, &p);
	cr_assert(!tcp_rtt_ack(&r, &p, 2000, 300000));
	cr_assert(!r.has_srtt);
	cr_assert_eq(tcp_rtt_rto(&r), 2000000);

	/* A later new segment is timed again. */
	tcp_rtt_segment_sent(&r, 3000, 400000);
	cr_assert(tcp_rtt_ack(&r, &p, 3000, 480000));
	cr_assert_eq(tcp_rtt_srtt(&r), 80000);
	cr_assert_eq(tcp_rtt_rto(&r), 240000);
}

Test(tcp_rtt, one_segment_timed_at_a_time)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	tcp_rtt_init(&r, &p);
	tcp_rtt_segment_sent(&r, 1000, 0);
	tcp_rtt_segment_sent(&r, 2000, 50000);     /* not timed: one is already */
	/* An ACK short of the timed segment is no sample and keeps timing. */
	cr_assert(!tcp_rtt_ack(&r, &p, 999, 60000));
	cr_assert(r.timing);
	/* A cumulative ACK past it times the first segment: R = 100 ms, not
	 * the 50 ms the second would give. */
	cr_assert(tcp_rtt_ack(&r, &p, 2000, 100000));
	cr_assert_eq(tcp_rtt_srtt(&r), 100000);
	cr_assert(!tcp_rtt_ack(&r, &p, 2000, 120000));
	cr_assert_eq(tcp_rtt_srtt(&r), 100000);
}

Test(tcp_rtt, timestamp_sample_after_retransmission)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	tcp_rtt_init(&r, &p);
	tcp_rtt_segment_sent(&r, 1000, 0);
	cr_assert_eq(tcp_rtt_backoff(&r, &p), 2000000);
	tcp_rtt_segment_resent(&r);
	/* The echo names the retransmission: an unambiguous sample of 80 ms
	 * (RFC 7323 section 4): first-sample rule, backoff cleared. */
	tcp_rtt_ts_sample(&r, &p, 80000);
	cr_assert_eq(r.srtt8, 640000);
	cr_assert_eq(r.rttvar8, 320000);
	cr_assert_eq(tcp_rtt_rto(&r), 240000);
	cr_assert_eq(tcp_rtt_backoff_count(&r), 0);

	/* Timestamp samples follow (2.3) like any other:
	 * RTTVAR = 3/4 * 40 + 1/4 * 40 = 40, SRTT = 7/8 * 80 + 1/8 * 120 = 85,
	 * RTO = 85 + 160 = 245 ms. */
	tcp_rtt_ts_sample(&r, &p, 120000);
	cr_assert_eq(r.rttvar8, 320000);
	cr_assert_eq(r.srtt8, 680000);
	cr_assert_eq(tcp_rtt_rto(&r), 245000);
}

Test(tcp_rtt, timestamp_sample_supersedes_timing)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	tcp_rtt_init(&r, &p);
	tcp_rtt_segment_sent(&r, 1000, 0);
	tcp_rtt_ts_sample(&r, &p, 100000);
	/* The same ACK must not be counted a second time. */
	cr_assert(!tcp_rtt_ack(&r, &p, 1000, 250000));
	cr_assert_eq(r.srtt8, 800000);
	cr_assert_eq(r.rttvar8, 400000);
}

Test(tcp_rtt, timed_segment_across_wrap)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	tcp_rtt_init(&r, &p);
	/* Segment [0xfffffc00, 0x00000200) straddles 2^32. */
	tcp_rtt_segment_sent(&r, 0x00000200, 1000);
	cr_assert(!tcp_rtt_ack(&r, &p, 0xfffffe00, 2000));  /* before its end */
	cr_assert(!tcp_rtt_ack(&r, &p, 0x000001ff, 3000));
	cr_assert(tcp_rtt_ack(&r, &p, 0x00000200, 41000));
	cr_assert_eq(tcp_rtt_srtt(&r), 40000);

	/* End just below 2^32, acked by a cumulative ACK past the wrap. */
	tcp_rtt_init(&r, &p);
	tcp_rtt_segment_sent(&r, 0xfffffff0, 0);
	cr_assert(tcp_rtt_ack(&r, &p, 0x00000010, 70000));
	cr_assert_eq(tcp_rtt_srtt(&r), 70000);
}

Test(tcp_rtt, clock_behind_send_time_counts_as_zero)
{
	struct tcp_rtt_params p = defaults();
	struct tcp_rtt r;

	tcp_rtt_init(&r, &p);
	tcp_rtt_segment_sent(&r, 1000, 5000);
	cr_assert(tcp_rtt_ack(&r, &p, 1000, 4000));
	cr_assert(r.has_srtt);
	cr_assert_eq(r.srtt8, 0);
	cr_assert_eq(r.rttvar8, 0);
	cr_assert_eq(tcp_rtt_rto(&r), 200000);     /* max(G, 0) = 1 ms, floored */
}
