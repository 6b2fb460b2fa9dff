/* NewReno congestion control: exact cwnd/ssthresh traces for the initial
 * window, slow start, congestion avoidance, one loss, several losses in a
 * window (partial ACKs), timeouts in and out of recovery, the guard against
 * repeated fast retransmits, restart after idle, bad input, and the same
 * traces with sequence numbers across 2^32. SMSS is 1000 bytes throughout,
 * so cwnd in bytes reads as segments times 1000. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp/tcp_cc.h"

#define MSS 1000u

/* A sender as the engine would drive it: SND.UNA and SND.MAX. */
struct conn {
	struct tcp_cc cc;
	uint32_t una, max;
};

static void c_init(struct conn *c, uint32_t iss)
{
	cr_assert_eq(tcp_cc_init(&c->cc, MSS, iss, 0), 0);
	c->una = c->max = iss + 1;          /* the SYN is acknowledged */
}

static void c_send(struct conn *c, uint32_t bytes)
{
	c->max += bytes;
}

/* ACK up to una + @bytes; the engine moves SND.UNA after the call. */
static int c_ack(struct conn *c, uint32_t bytes)
{
	int act = tcp_cc_ack(&c->cc, c->una + bytes, c->una, c->max, true);

	if (act >= 0)
		c->una += bytes;
	return act;
}

static int c_dup(struct conn *c)
{
	return tcp_cc_ack(&c->cc, c->una, c->una, c->max, true);
}

#define ASSERT_W(c, cw, ss) do {                                             \
		cr_assert_eq(tcp_cc_cwnd(&(c)->cc), (cw), "cwnd %u, want %u",        \
		             tcp_cc_cwnd(&(c)->cc), (unsigned)(cw));                 \
		cr_assert_eq(tcp_cc_ssthresh(&(c)->cc), (ss), "ssthresh %u, want %u", \
		             tcp_cc_ssthresh(&(c)->cc), (unsigned)(ss));             \
	} while (0)

/* Bases for the traces: far from the wrap, and with the window across it
 * (iss + 1 = 2^32 - 4500, so the 10-segment window crosses 2^32 mid-way). */
#define BASE_LOW  UINT32_C(1000)
#define BASE_WRAP UINT32_C(0xffffee6b)

Test(tcp_cc, initial_window_rfc6928)
{
	cr_assert_eq(tcp_cc_initial_window(1460), 14600);
	cr_assert_eq(tcp_cc_initial_window(1000), 10000);
	cr_assert_eq(tcp_cc_initial_window(536), 5360);
	cr_assert_eq(tcp_cc_initial_window(4000), 14600);   /* 14600 cap */
	cr_assert_eq(tcp_cc_initial_window(8000), 16000);   /* 2 * SMSS floor */
	cr_assert_eq(tcp_cc_initial_window(9000), 18000);
	cr_assert_eq(tcp_cc_initial_window(65535), 131070);
}

Test(tcp_cc, init)
{
	struct tcp_cc cc;

	cr_assert_eq(tcp_cc_init(&cc, 0, 1, 0), -EINVAL);
	cr_assert_eq(tcp_cc_init(&cc, 65536, 1, 0), -EINVAL);
	cr_assert_eq(tcp_cc_init(&cc, 1460, 77, 5), 0);
	cr_assert_eq(tcp_cc_cwnd(&cc), 14600);
	cr_assert_eq(tcp_cc_ssthresh(&cc), TCP_CC_WND_MAX);
	cr_assert_eq(TCP_CC_WND_MAX, 1073725440u);
	cr_assert_eq(tcp_cc_recover(&cc), 77);
	cr_assert(!tcp_cc_in_recovery(&cc));
	cr_assert_eq(tcp_cc_avail(&cc, 10000), 4600);
	cr_assert_eq(tcp_cc_avail(&cc, 20000), 0);
}

Test(tcp_cc, slow_start_byte_counting)
{
	struct conn c;
	int i;

	c_init(&c, BASE_LOW);
	c_send(&c, 10000);
	/* One ACK per segment: +1 SMSS each (RFC 5681 eq. 2). */
	for (i = 0; i < 4; i++)
		cr_assert_eq(c_ack(&c, 1000), TCP_CC_RESTART_TIMER);
	ASSERT_W(&c, 14000, TCP_CC_WND_MAX);
	/* Delayed ACK of two segments: +2 SMSS (RFC 3465 L = 2 SMSS). */
	cr_assert_eq(c_ack(&c, 2000), TCP_CC_RESTART_TIMER);
	ASSERT_W(&c, 16000, TCP_CC_WND_MAX);
	/* Stretch ACK of three segments: still +2 SMSS. */
	cr_assert_eq(c_ack(&c, 3000), TCP_CC_RESTART_TIMER);
	ASSERT_W(&c, 18000, TCP_CC_WND_MAX);
	/* A small ACK counts its bytes only (no ACK-division gain). */
	cr_assert_eq(c_ack(&c, 500), TCP_CC_RESTART_TIMER);
	ASSERT_W(&c, 18500, TCP_CC_WND_MAX);
	cr_assert_eq(c_ack(&c, 1), TCP_CC_RESTART_TIMER);
	ASSERT_W(&c, 18501, TCP_CC_WND_MAX);
	cr_assert_eq(c.una, BASE_LOW + 1 + 9501);
}

/* Drive a connection to cwnd = ssthresh = 10000 in congestion avoidance:
 * a timeout with 20000 bytes in flight gives ssthresh 10000, cwnd 1000,
 * then slow start (L = 1 SMSS after a timeout) climbs back. */
static void to_congestion_avoidance(struct conn *c, uint32_t base)
{
	int i;

	c_init(c, base);
	c_send(c, 20000);
	cr_assert_eq(tcp_cc_timeout(&c->cc, c->una, c->max), 0);
	ASSERT_W(c, 1000, 10000);
	/* After a timeout a 2-segment ACK grows cwnd by 1 SMSS only
	 * (RFC 3465 section 2.3). */
	cr_assert_eq(c_ack(c, 2000), TCP_CC_RESTART_TIMER);
	ASSERT_W(c, 2000, 10000);
	for (i = 0; i < 8; i++)
		c_ack(c, 2000);
	ASSERT_W(c, 10000, 10000);
	cr_assert_eq(c->una, c->max - 2000);
}

Test(tcp_cc, congestion_avoidance_byte_counting)
{
	struct conn c;
	int i;

	to_congestion_avoidance(&c, BASE_LOW);
	c_send(&c, 100000);
	/* cwnd == ssthresh is congestion avoidance: +1 SMSS per cwnd acked. */
	for (i = 0; i < 9; i++)
		c_ack(&c, 1000);
	ASSERT_W(&c, 10000, 10000);
	cr_assert_eq(c_ack(&c, 1000), TCP_CC_RESTART_TIMER);     /* 10000 acked */
	ASSERT_W(&c, 11000, 10000);
	/* Next step needs 11000 bytes; delayed ACKs make no difference. */
	for (i = 0; i < 5; i++)
		c_ack(&c, 2000);
	ASSERT_W(&c, 11000, 10000);
	c_ack(&c, 1000);
	ASSERT_W(&c, 12000, 10000);
	/* Excess carries over: 3 x 5000 = 15000 -> +1 SMSS, 3000 left... */
	for (i = 0; i < 3; i++)
		c_ack(&c, 5000);
	ASSERT_W(&c, 13000, 10000);
	/* ...so 10000 more reaches 13000. */
	c_ack(&c, 10000);
	ASSERT_W(&c, 14000, 10000);
	c_ack(&c, 13999);
	ASSERT_W(&c, 14000, 10000);
}

Test(tcp_cc, dupacks_below_threshold)
{
	struct conn c;

	c_init(&c, BASE_LOW);
	c_send(&c, 10000);
	cr_assert_eq(c_dup(&c), 0);
	cr_assert_eq(c_dup(&c), 0);
	ASSERT_W(&c, 10000, TCP_CC_WND_MAX);
	cr_assert(!tcp_cc_in_recovery(&c.cc));
	/* A new ACK restarts the count. */
	c_ack(&c, 1000);
	ASSERT_W(&c, 11000, TCP_CC_WND_MAX);
	cr_assert_eq(c_dup(&c), 0);
	cr_assert_eq(c_dup(&c), 0);
	cr_assert(!tcp_cc_in_recovery(&c.cc));
	/* Not duplicates: a window update / data segment (dup_ok false) and
	 * an ACK with nothing outstanding neither count nor reset. */
	cr_assert_eq(tcp_cc_ack(&c.cc, c.una, c.una, c.max, false), 0);
	cr_assert_eq(tcp_cc_ack(&c.cc, c.una, c.una, c.una, true), 0);
	ASSERT_W(&c, 11000, TCP_CC_WND_MAX);
	/* The third real duplicate fires: FlightSize 9000 -> ssthresh 4500. */
	cr_assert_eq(c_dup(&c), TCP_CC_RETRANSMIT);
	ASSERT_W(&c, 7500, 4500);
	cr_assert(tcp_cc_in_recovery(&c.cc));
}

/* One segment lost out of ten; three dup ACKs, inflation, full ACK. */
static void single_loss(uint32_t iss)
{
	struct conn c;
	uint32_t base;
	int i;

	c_init(&c, iss);
	base = c.una;
	c_send(&c, 10000);                                  /* segs 1..10 */
	/* Seg 1 lost; segs 2, 3 give dups below the threshold. */
	cr_assert_eq(c_dup(&c), 0);
	cr_assert_eq(c_dup(&c), 0);
	ASSERT_W(&c, 10000, TCP_CC_WND_MAX);
	/* Seg 4: fast retransmit. ssthresh = max(10000 / 2, 2000) = 5000,
	 * cwnd = 5000 + 3 * 1000, recover = highest sequence sent. */
	cr_assert_eq(c_dup(&c), TCP_CC_RETRANSMIT);
	ASSERT_W(&c, 8000, 5000);
	cr_assert(tcp_cc_in_recovery(&c.cc));
	cr_assert_eq(tcp_cc_recover(&c.cc), base + 9999);
	/* Segs 5..10: +1 SMSS each (inflation), never another retransmit. */
	for (i = 0; i < 6; i++)
		cr_assert_eq(c_dup(&c), 0);
	ASSERT_W(&c, 14000, 5000);
	cr_assert_eq(tcp_cc_avail(&c.cc, c.max - c.una), 4000);
	c_send(&c, 2000);                                   /* two new segs */
	/* The retransmission fills the hole: ACK of all 10 original segs,
	 * past recover. Full ACK, option (1): min(5000, max(2000, 1000) +
	 * 1000) = 3000 (option (2) would give 5000). */
	cr_assert_eq(c_ack(&c, 10000), TCP_CC_RESTART_TIMER);
	ASSERT_W(&c, 3000, 5000);
	cr_assert(!tcp_cc_in_recovery(&c.cc));
	/* Back to slow start below ssthresh: +1 SMSS. */
	c_ack(&c, 1000);
	ASSERT_W(&c, 4000, 5000);
}

Test(tcp_cc, single_loss_full_ack)
{
	single_loss(BASE_LOW);
}

Test(tcp_cc, single_loss_full_ack_across_wrap)
{
	single_loss(BASE_WRAP);
}

Test(tcp_cc, full_ack_with_much_outstanding_gives_ssthresh)
{
	struct conn c;
	int i;

	c_init(&c, BASE_LOW);
	c_send(&c, 10000);
	for (i = 0; i < 3; i++)
		c_dup(&c);
	for (i = 0; i < 6; i++)
		c_dup(&c);
	c_send(&c, 4000);
	/* 4000 still out: min(5000, 4000 + 1000) = 5000. */
	cr_assert_eq(c_ack(&c, 10000), TCP_CC_RESTART_TIMER);
	ASSERT_W(&c, 5000, 5000);
	/* cwnd == ssthresh: congestion avoidance from here. */
	c_ack(&c, 1000);
	ASSERT_W(&c, 5000, 5000);
}

/* Segs 1, 4 and 7 of ten lost: three holes, two partial ACKs, one full. */
static void multiple_losses(uint32_t iss)
{
	struct conn c;
	uint32_t base;
	int i;

	c_init(&c, iss);
	base = c.una;
	c_send(&c, 10000);
	/* Segs 2, 3 arrive: 2 dups. Seg 5: third dup. */
	c_dup(&c);
	c_dup(&c);
	cr_assert_eq(c_dup(&c), TCP_CC_RETRANSMIT);
	ASSERT_W(&c, 8000, 5000);
	cr_assert_eq(tcp_cc_recover(&c.cc), base + 9999);
	/* Segs 6, 8, 9, 10: four more dups. */
	for (i = 0; i < 4; i++)
		cr_assert_eq(c_dup(&c), 0);
	ASSERT_W(&c, 12000, 5000);
	c_send(&c, 2000);                                   /* segs 11, 12 */

	/* Resent seg 1 arrives: ACK covers segs 1-3 (3000), short of recover.
	 * Partial ACK: cwnd = 12000 - 3000 + 1000; resend seg 4; first
	 * partial ACK restarts the timer. */
	cr_assert_eq(c_ack(&c, 3000), TCP_CC_RETRANSMIT | TCP_CC_RESTART_TIMER);
	ASSERT_W(&c, 10000, 5000);
	cr_assert(tcp_cc_in_recovery(&c.cc));
	cr_assert_eq(tcp_cc_recover(&c.cc), base + 9999);
	/* Segs 11, 12 arrive: dups inflate again. */
	cr_assert_eq(c_dup(&c), 0);
	cr_assert_eq(c_dup(&c), 0);
	ASSERT_W(&c, 12000, 5000);

	/* Resent seg 4 arrives: ACK to seg 6 (3000 more). Partial again:
	 * resend seg 7, but no timer restart (RFC 6582 "Impatient"). */
	cr_assert_eq(c_ack(&c, 3000), TCP_CC_RETRANSMIT);
	ASSERT_W(&c, 10000, 5000);
	cr_assert(tcp_cc_in_recovery(&c.cc));

	/* Resent seg 7 arrives: ACK of everything (segs 7..12, 6000), past
	 * recover. Full ACK with nothing left: min(5000, 1000 + 1000). */
	cr_assert_eq(c_ack(&c, 6000), TCP_CC_RESTART_TIMER);
	ASSERT_W(&c, 2000, 5000);
	cr_assert(!tcp_cc_in_recovery(&c.cc));
	cr_assert_eq(c.una, c.max);
	/* recover is kept just below SND.UNA once passed. */
	cr_assert_eq(tcp_cc_recover(&c.cc), base + 11999);

	/* A fresh loss later is a new episode: the guard lets it through,
	 * and FlightSize (4000) sets ssthresh = max(2000, 2000). */
	c_send(&c, 4000);
	c_dup(&c);
	c_dup(&c);
	cr_assert_eq(c_dup(&c), TCP_CC_RETRANSMIT);
	ASSERT_W(&c, 5000, 2000);
}

Test(tcp_cc, multiple_losses_partial_acks)
{
	multiple_losses(BASE_LOW);
}

Test(tcp_cc, multiple_losses_partial_acks_across_wrap)
{
	multiple_losses(BASE_WRAP);
}

Test(tcp_cc, partial_ack_below_one_segment)
{
	struct conn c;
	int i;

	c_init(&c, BASE_LOW);
	c_send(&c, 10000);
	for (i = 0; i < 3; i++)
		c_dup(&c);
	ASSERT_W(&c, 8000, 5000);
	/* 500 new bytes: deflate by 500, no SMSS added back (RFC 6582 adds
	 * it only when the partial ACK covers at least one SMSS). */
	cr_assert_eq(c_ack(&c, 500), TCP_CC_RETRANSMIT | TCP_CC_RESTART_TIMER);
	ASSERT_W(&c, 7500, 5000);
	/* Exactly one SMSS: -1000 + 1000. */
	cr_assert_eq(c_ack(&c, 1000), TCP_CC_RETRANSMIT);
	ASSERT_W(&c, 7500, 5000);
	/* A partial ACK larger than cwnd keeps one segment (loss window):
	 * 7500 - 8000 -> 0, + 1000. */
	c_send(&c, 20000);
	cr_assert_eq(c_ack(&c, 8000), TCP_CC_RETRANSMIT);
	ASSERT_W(&c, 1000, 5000);
	cr_assert(tcp_cc_in_recovery(&c.cc));
	/* And a sub-segment partial ACK (SND.UNA is 9500 bytes in, recover
	 * at 9999) then cannot take it below one segment: 1000 - 400 would
	 * leave less than the retransmission needs. */
	cr_assert_eq(tcp_cc_recover(&c.cc) - c.una, 499);
	cr_assert_eq(c_ack(&c, 400), TCP_CC_RETRANSMIT);
	ASSERT_W(&c, 1000, 5000);
	cr_assert(tcp_cc_in_recovery(&c.cc));
}

Test(tcp_cc, timeout_during_recovery)
{
	struct conn c;
	uint32_t base;
	int i;

	c_init(&c, BASE_LOW);
	base = c.una;
	c_send(&c, 10000);
	for (i = 0; i < 3; i++)
		c_dup(&c);
	for (i = 0; i < 2; i++)
		c_dup(&c);
	ASSERT_W(&c, 10000, 5000);
	c_send(&c, 2000);
	/* The retransmission is lost too: RTO. FlightSize = 12000:
	 * ssthresh = 6000, cwnd = 1 SMSS, recovery over, recover = highest
	 * sequence sent. */
	cr_assert_eq(tcp_cc_timeout(&c.cc, c.una, c.max), 0);
	ASSERT_W(&c, 1000, 6000);
	cr_assert(!tcp_cc_in_recovery(&c.cc));
	cr_assert_eq(tcp_cc_recover(&c.cc), base + 11999);
	/* It expires again before any ACK: ssthresh is not recomputed
	 * (even though more is outstanding now), cwnd stays one segment. */
	c_send(&c, 4000);
	cr_assert_eq(tcp_cc_timeout(&c.cc, c.una, c.max), 0);
	ASSERT_W(&c, 1000, 6000);
	cr_assert_eq(tcp_cc_recover(&c.cc), base + 15999);
	/* The resend is acked with everything the receiver held (5 segs):
	 * slow start after a timeout grows by 1 SMSS per ACK. */
	cr_assert_eq(c_ack(&c, 5000), TCP_CC_RESTART_TIMER);
	ASSERT_W(&c, 2000, 6000);
	/* A timeout now concerns a new segment: ssthresh from FlightSize
	 * (11000 -> 5500). */
	cr_assert_eq(tcp_cc_timeout(&c.cc, c.una, c.max), 0);
	ASSERT_W(&c, 1000, 5500);
}

Test(tcp_cc, guard_against_multiple_fast_retransmits)
{
	struct conn c;
	uint32_t base;
	int i;

	c_init(&c, BASE_WRAP);
	base = c.una;
	c_send(&c, 10000);
	cr_assert_eq(tcp_cc_timeout(&c.cc, c.una, c.max), 0);
	ASSERT_W(&c, 1000, 5000);
	cr_assert_eq(tcp_cc_recover(&c.cc), base + 9999);
	/* Go-back-N after the timeout: the ACK for the resend covers 2
	 * segments the receiver already had... */
	c_ack(&c, 3000);
	ASSERT_W(&c, 2000, 5000);
	/* ...and the needless resends of segs 4.. provoke duplicates. They
	 * are for data sent before the timeout (ack <= recover): no fast
	 * retransmit, ssthresh untouched (RFC 6582 3.2 step 2). */
	for (i = 0; i < 5; i++)
		cr_assert_eq(c_dup(&c), 0);
	ASSERT_W(&c, 2000, 5000);
	cr_assert(!tcp_cc_in_recovery(&c.cc));

	/* An ACK exactly at recover does not cover "more than recover". */
	c_ack(&c, 6999);
	cr_assert_eq(c.una, base + 9999);
	ASSERT_W(&c, 3000, 5000);
	for (i = 0; i < 3; i++)
		cr_assert_eq(c_dup(&c), 0);
	cr_assert(!tcp_cc_in_recovery(&c.cc));

	/* One byte further it does: new data, new losses are real. */
	c_send(&c, 6000);
	c_ack(&c, 1);
	ASSERT_W(&c, 3001, 5000);
	c_dup(&c);
	c_dup(&c);
	cr_assert_eq(c_dup(&c), TCP_CC_RETRANSMIT);
	/* FlightSize 6000: ssthresh = max(3000, 2000), cwnd = 3000 + 3000. */
	cr_assert_eq(c.max - c.una, 6000);
	ASSERT_W(&c, 6000, 3000);
}

Test(tcp_cc, guard_stays_valid_after_2g_of_data)
{
	struct conn c;
	int i;

	/* 3 GiB acknowledged without a loss: recover must follow, or the
	 * modulo comparison with the ISN would flip and block every later
	 * fast retransmit. */
	c_init(&c, BASE_LOW);
	for (i = 0; i < 3; i++) {
		c_send(&c, 0x40000000);
		cr_assert_eq(c_ack(&c, 0x40000000), TCP_CC_RESTART_TIMER);
	}
	cr_assert_eq(c.una, BASE_LOW + 1 + 0xc0000000u);
	cr_assert_eq(tcp_cc_recover(&c.cc), c.una - 1);
	c_send(&c, 10000);
	c_dup(&c);
	c_dup(&c);
	cr_assert_eq(c_dup(&c), TCP_CC_RETRANSMIT);
	cr_assert_eq(tcp_cc_ssthresh(&c.cc), 5000);
}

Test(tcp_cc, cwnd_never_passes_ceiling)
{
	struct conn c;
	int i;

	c_init(&c, BASE_LOW);
	for (i = 0; i < 600000; i++) {
		uint32_t cw = tcp_cc_cwnd(&c.cc);

		c_send(&c, cw);
		c_ack(&c, cw);
		if (cw == TCP_CC_WND_MAX)
			break;
	}
	/* Slow start grows 2 SMSS per ACK here (one ACK per window), so it
	 * takes about half a million rounds to reach 2^30. */
	cr_assert_eq(tcp_cc_cwnd(&c.cc), TCP_CC_WND_MAX);
	c_send(&c, 1000);
	c_ack(&c, 1000);
	cr_assert_eq(tcp_cc_cwnd(&c.cc), TCP_CC_WND_MAX);
}

Test(tcp_cc, restart_after_idle)
{
	struct conn c;
	int i;

	c_init(&c, BASE_LOW);
	cr_assert(!tcp_cc_xmit(&c.cc, 1000, 300000));
	c_send(&c, 10000);
	for (i = 0; i < 10; i++)
		c_ack(&c, 1000);
	ASSERT_W(&c, 20000, TCP_CC_WND_MAX);
	/* Idle exactly one RTO: not "exceeding" it. */
	cr_assert(!tcp_cc_xmit(&c.cc, 301000, 300000));
	ASSERT_W(&c, 20000, TCP_CC_WND_MAX);
	/* Idle one RTO plus 1 us: RW = min(IW, cwnd) = 10000; ssthresh kept. */
	cr_assert(tcp_cc_xmit(&c.cc, 601001, 300000));
	ASSERT_W(&c, 10000, TCP_CC_WND_MAX);
	/* Sending keeps the clock fresh: no restart 200 ms later. */
	cr_assert(!tcp_cc_xmit(&c.cc, 801001, 300000));
	/* A window already below IW is not raised. */
	c_send(&c, 20000);
	tcp_cc_timeout(&c.cc, c.una, c.max);
	ASSERT_W(&c, 1000, 10000);
	cr_assert(tcp_cc_xmit(&c.cc, 5000000, 300000));
	ASSERT_W(&c, 1000, 10000);
	/* A clock behind the last send is not idle time. */
	cr_assert(!tcp_cc_xmit(&c.cc, 10, 0));
	/* The last send is kept modulo 2^32 us: idle across the wrap counts. */
	tcp_cc_xmit(&c.cc, 2000000000ull, 300000);
	tcp_cc_xmit(&c.cc, 4000000000ull, 300000);
	tcp_cc_xmit(&c.cc, 0xffffffffull - 1000, 300000);
	cr_assert(!tcp_cc_xmit(&c.cc, 0x100000000ull + 100000, 300000), "101 ms across the wrap");
	cr_assert(tcp_cc_xmit(&c.cc, 0x100000000ull + 500000, 300000), "400 ms later");
}

Test(tcp_cc, bad_input_changes_nothing)
{
	struct conn c;
	struct tcp_cc before;

	c_init(&c, BASE_WRAP);
	c_send(&c, 10000);
	c_dup(&c);
	memcpy(&before, &c.cc, sizeof(before));
	/* ACK of data never sent. */
	cr_assert_eq(tcp_cc_ack(&c.cc, c.max + 1, c.una, c.max, true), -EINVAL);
	/* ACK below SND.UNA (old duplicate). */
	cr_assert_eq(tcp_cc_ack(&c.cc, c.una - 1, c.una, c.max, true), -EINVAL);
	/* Half the sequence space outstanding is not a window. */
	cr_assert_eq(tcp_cc_ack(&c.cc, c.una, c.una, c.una + 0x80000000u, true), -EINVAL);
	cr_assert_eq(tcp_cc_timeout(&c.cc, c.una, c.una + 0x80000000u), -EINVAL);
	cr_assert_eq(memcmp(&before, &c.cc, sizeof(before)), 0);
	/* The dup count survived: two more make three. */
	c_dup(&c);
	cr_assert_eq(c_dup(&c), TCP_CC_RETRANSMIT);
}
