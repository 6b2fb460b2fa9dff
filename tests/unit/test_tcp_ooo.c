/* The out-of-order queue: byte-exact in-order delivery whatever the arrival
 * order (checked against a known byte stream and a bitmap model of what was
 * received), window trimming, sequence wrap, memory limits, and the SACK and
 * D-SACK blocks of RFC 2018 4 / 7 and RFC 2883 4. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"
#include "tcp/tcp_ooo.h"

static struct pkt_pool pp;
static struct pool ranges;
static struct tcp_ooo_ctx ctx;
static struct tcp_ooo q;
static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

/* Uniform-ish in [lo, hi]. */
static uint32_t rnd_in(uint32_t lo, uint32_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

/* The sender's byte at sequence number seq: neighbours differ, so a byte
 * delivered at the wrong place or twice shows. */
static uint8_t stream_byte(uint32_t seq)
{
	uint32_t x = seq * 2654435761u;

	x ^= x >> 15;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	return (uint8_t)x;
}

static void free_fn(void *self, struct dtcp_pkt *p)
{
	pkt_pool_free(self, p);
}

static void setup(void)
{
	pkt_pool_init(&pp, "ooo-pkt", 1u << 20);
	tcp_ooo_range_pool_init(&ranges, 1u << 20);
	ctx = (struct tcp_ooo_ctx){ .ranges = &ranges, .pkt_free = free_fn, .pkt_self = &pp,
	                            .seed = 0x5eed };
	cr_assert_eq(tcp_ooo_init(&q, &ctx, 1u << 30, TCP_OOO_MAX_SEGS), 0);
	rng_state = 0x9e3779b97f4a7c15ull;
}

static void teardown(void)
{
	tcp_ooo_purge(&q);
	pkt_pool_fini(&pp);
	pool_fini(&ranges);
}

/* Everything freed: no buffer and no range node left in use. */
static void assert_clean(void)
{
	cr_assert_eq(tcp_ooo_check(&q), 0);
	tcp_ooo_purge(&q);
	cr_assert_eq(pp.pool.in_use, 0, "%llu buffers leaked", (unsigned long long)pp.pool.in_use);
	cr_assert_eq(ranges.in_use, 0, "%llu range nodes leaked", (unsigned long long)ranges.in_use);
}

/*
 * A segment carrying the stream's bytes [seq, seq + len) as the receive
 * path hands it over: headers already stripped (so data_off is past the
 * headroom), pad bytes of link padding after the payload, and, with chunk
 * > 0, split over buffers of at most chunk bytes (random sizes).
 */
static struct dtcp_pkt *make_seg(uint32_t seq, uint32_t len, uint32_t pad, uint32_t chunk)
{
	struct dtcp_pkt *head = NULL;
	uint32_t done = 0, total = len + pad;

	while (done < total || !head) {
		struct dtcp_pkt *s = pkt_pool_alloc(&pp);
		uint32_t n = total - done;
		uint8_t *d;

		cr_assert_not_null(s);
		cr_assert_not_null(pkt_append(s, 40));
		cr_assert(pkt_adj(s, 40));
		if (chunk && n > chunk)
			n = rnd_in(1, chunk);
		if (n > 1500)
			n = 1500;
		d = pkt_append(s, (uint16_t)n);
		cr_assert_not_null(d);
		for (uint32_t i = 0; i < n; i++, done++)
			d[i] = done < len ? stream_byte(seq + done) : 0xee;
		if (head)
			pkt_chain(head, s);
		else
			head = s;
	}
	return head;
}

static int insert(uint32_t nxt, uint32_t wnd, uint32_t seq, uint32_t len)
{
	return tcp_ooo_insert(&q, nxt, wnd, seq, make_seg(seq, len, 0, 0), len);
}

/* Pull what is in order at *nxt and check it byte for byte, buffer by
 * buffer, against the stream. */
static uint32_t pull_check(uint32_t *nxt)
{
	struct dtcp_pkt *out, *s;
	uint32_t from = *nxt, n, off = 0, segs = 0;
	bool same = true;

	n = tcp_ooo_pull(&q, nxt, &out);
	cr_assert_eq(*nxt, from + n);
	if (!n) {
		cr_assert_null(out);
		return 0;
	}
	cr_assert_not_null(out);
	cr_assert_eq(out->pkt_len, n);
	for (s = out; s; s = s->next, segs++) {
		const uint8_t *d = dtcp_pkt_data(s);

		for (uint32_t i = 0; i < s->data_len; i++, off++)
			same &= d[i] == stream_byte(from + off);
	}
	cr_assert_eq(off, n, "buffers hold %u bytes, pkt_len says %u", off, n);
	cr_assert_eq(segs, out->nb_segs);
	cr_assert(same, "delivered bytes differ from the stream at %u..%u", from, from + n);
	pkt_pool_free(&pp, out);
	return n;
}

static void assert_blocks(const struct tcp_ooo_block *got, int n, const uint32_t *want, int nwant)
{
	cr_assert_eq(n, nwant, "%d blocks, want %d", n, nwant);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(got[i].start, want[2 * i], "block %d start %u, want %u", i, got[i].start, want[2 * i]);
		cr_assert_eq(got[i].end, want[2 * i + 1], "block %d end %u, want %u", i, got[i].end, want[2 * i + 1]);
	}
}

#define BLOCKS(nxt, dsack, nmax, ...)                                                  \
	do {                                                                           \
		struct tcp_ooo_block b_[TCP_OOO_SACK_MAX];                             \
		const uint32_t w_[] = { __VA_ARGS__ };                                 \
		int n_ = tcp_ooo_sack_blocks(&q, (nxt), (dsack), b_, (nmax));          \
		assert_blocks(b_, n_, w_, (int)(sizeof(w_) / sizeof(w_[0])) / 2);      \
	} while (0)

#define NO_BLOCKS(nxt, dsack, nmax)                                                    \
	do {                                                                           \
		struct tcp_ooo_block b_[TCP_OOO_SACK_MAX];                             \
		cr_assert_eq(tcp_ooo_sack_blocks(&q, (nxt), (dsack), b_, (nmax)), 0);  \
	} while (0)

TestSuite(tcp_ooo, .init = setup, .fini = teardown);

Test(tcp_ooo, in_order)
{
	uint32_t nxt = 1000;

	for (int i = 0; i < 10; i++) {
		int r = insert(nxt, 65535, nxt, 100);

		cr_assert_eq(r, TCP_OOO_NEW | TCP_OOO_FILLED);
		cr_assert_eq(pull_check(&nxt), 100);
		cr_assert(tcp_ooo_empty(&q));
		cr_assert_eq(q.bytes, 0);
	}
	cr_assert_eq(nxt, 2000);
	NO_BLOCKS(nxt, true, 4);
	assert_clean();
}

Test(tcp_ooo, reverse_order)
{
	uint32_t nxt = 1000;

	for (int i = 9; i >= 1; i--) {
		cr_assert_eq(insert(nxt, 65535, 1000 + 100 * (uint32_t)i, 100), TCP_OOO_NEW);
		cr_assert_eq(pull_check(&nxt), 0, "nothing is in order before the first segment");
		cr_assert_eq(q.ranges, 1, "adjacent segments merge into one range");
		cr_assert_eq(q.bytes, 100 * (10 - (uint32_t)i));
		cr_assert_eq(tcp_ooo_check(&q), 0);
	}
	cr_assert_eq(q.segs, 9);
	BLOCKS(nxt, true, 4, 1100, 2000);
	cr_assert_eq(insert(nxt, 65535, 1000, 100), TCP_OOO_NEW | TCP_OOO_FILLED);
	cr_assert_eq(q.first->head->nb_segs, 10);
	cr_assert_eq(pull_check(&nxt), 1000);
	cr_assert_eq(nxt, 2000);
	NO_BLOCKS(nxt, true, 4);
	assert_clean();
}

/*
 * Random arrival orders against a model: a bitmap of every byte received.
 * For each insert, NEW must say whether the segment held a byte not seen,
 * DUP whether it held one already seen (and the D-SACK must lie on seen
 * bytes inside the segment), FILLED whether the byte at rcv_nxt is there;
 * the first SACK block must be the whole run of received bytes around the
 * segment's new data. At the end every byte has been delivered once, in
 * order, and nothing is left allocated.
 */
Test(tcp_ooo, random_permutations)
{
	enum { MAX_TOTAL = 6000, MAX_SEGS_ROUND = 64 };
	static uint8_t have[MAX_TOTAL];
	uint32_t seg_a[MAX_SEGS_ROUND], seg_b[MAX_SEGS_ROUND];
	uint64_t inserts = 0, dups = 0, merges_over = 0;

	for (int round = 0; round < 10000; round++) {
		uint32_t total = rnd_in(1, MAX_TOTAL), isn, nxt, n = 0, end;

		/* A quarter of the rounds cross 2^32. */
		isn = round % 4 == 0 ? UINT32_MAX - rnd_in(0, total) : rnd();
		nxt = isn;
		end = isn + total;
		for (uint32_t a = 0; a < total && n < MAX_SEGS_ROUND - 16;) {
			uint32_t len = rnd_in(1, 1400);

			if (a + len > total || n == MAX_SEGS_ROUND - 17)
				len = total - a;
			seg_a[n] = a;
			seg_b[n++] = a + len;
			a += len;
		}
		/* Duplicates of whole segments, and overlapping ranges. */
		for (uint32_t k = rnd_in(0, 8), base = n; k--;) {
			uint32_t j = rnd() % base;

			seg_a[n] = seg_a[j];
			seg_b[n++] = seg_b[j];
		}
		for (uint32_t k = rnd_in(0, 8); k--;) {
			uint32_t a = rnd() % total, len = rnd_in(1, 3000);

			seg_a[n] = a;
			seg_b[n++] = a + len > total ? total : a + len;
		}
		for (uint32_t i = n - 1; i > 0; i--) {
			uint32_t j = rnd() % (i + 1), ta = seg_a[i], tb = seg_b[i];

			seg_a[i] = seg_a[j];
			seg_b[i] = seg_b[j];
			seg_a[j] = ta;
			seg_b[j] = tb;
		}
		memset(have, 0, total);

		for (uint32_t i = 0; i < n; i++) {
			uint32_t a = seg_a[i], b = seg_b[i], len = b - a, seen = 0;
			uint32_t pad = rnd_in(0, 3), chunk = rnd() % 3 ? 0 : 300;
			struct tcp_ooo_block blk[TCP_OOO_SACK_MAX];
			int r, nb, want = 0;

			for (uint32_t x = a; x < b; x++)
				seen += have[x];
			r = tcp_ooo_insert(&q, nxt, end - nxt, isn + a, make_seg(isn + a, len, pad, chunk), len);
			cr_assert_geq(r, 0, "round %d: insert gave %d", round, r);
			inserts++;
			if (seen < len)
				want |= TCP_OOO_NEW;
			if (seen > 0)
				want |= TCP_OOO_DUP;
			cr_assert_eq(r & (TCP_OOO_NEW | TCP_OOO_DUP | TCP_OOO_OUTSIDE), want,
			             "round %d seg [%u,%u): flags %#x, want %#x", round, a, b, r, want);
			if (seen > 0) {
				/* The D-SACK is the segment's lowest run of bytes
				 * received before. */
				uint32_t ds = a, de;

				while (!have[ds])
					ds++;
				for (de = ds; de < b && have[de]; de++)
					;
				dups++;
				cr_assert(q.dsack_pending);
				cr_assert_eq(q.dsack.start, isn + ds, "round %d: D-SACK start", round);
				cr_assert_eq(q.dsack.end, isn + de, "round %d: D-SACK end", round);
			}
			for (uint32_t x = a; x < b; x++)
				have[x] = 1;
			cr_assert_eq(!!(r & TCP_OOO_FILLED), nxt != end && have[nxt - isn]);
			if ((r & TCP_OOO_NEW) && !(r & TCP_OOO_FILLED)) {
				/* RFC 2018 4: first block = the received run holding
				 * the segment. */
				uint32_t s = a, e = b;

				while (s > 0 && have[s - 1])
					s--;
				while (e < total && have[e])
					e++;
				nb = tcp_ooo_sack_blocks(&q, nxt, false, blk, 4);
				cr_assert_geq(nb, 1);
				cr_assert_eq(blk[0].start, isn + s);
				cr_assert_eq(blk[0].end, isn + e);
				for (int k = 0; k < nb; k++) {
					uint32_t bs = blk[k].start - isn, be = blk[k].end - isn;

					cr_assert(bs > nxt - isn && bs < be && be <= total);
					cr_assert(have[bs] && have[be - 1] && !have[bs - 1] &&
					          (be == total || !have[be]), "block %d is a whole run", k);
				}
			}
			if (r & TCP_OOO_FILLED) {
				uint32_t before = nxt;

				pull_check(&nxt);
				cr_assert(nxt - isn == total || !have[nxt - isn], "pull stops at the hole");
				merges_over += (nxt - before) > len;
			}
			cr_assert_eq(tcp_ooo_check(&q), 0, "round %d after seg %u", round, i);
		}
		cr_assert_eq(nxt, end, "round %d: stream of %u incomplete at %u", round, total, nxt - isn);
		cr_assert(tcp_ooo_empty(&q));
		cr_assert_eq(q.bytes, 0);
		cr_assert_eq(q.segs, 0);
		cr_assert_eq(pp.pool.in_use, 0, "round %d leaked buffers", round);
		cr_assert_eq(ranges.in_use, 0);
	}
	cr_assert_gt(dups, 1000, "the rounds exercised duplicates");
	cr_assert_gt(merges_over, 1000, "the rounds filled holes that released queued data");
	cr_assert_gt(inserts, 100000);
	assert_clean();
}

/*
 * A retransmitting sender against a small window and small limits: segments
 * land anywhere from well below rcv_nxt to well past the right edge. Nothing
 * outside [rcv_nxt, rcv_nxt + wnd) is ever queued, the limits hold after
 * every pull, and the stream still arrives whole.
 */
Test(tcp_ooo, random_window_and_limits)
{
	uint64_t outside = 0, drops = 0;

	for (int round = 0; round < 600; round++) {
		uint32_t total = 20000, isn = rnd(), nxt = isn, end = isn + total;
		uint32_t wnd = rnd_in(500, 8000), max_bytes = rnd_in(0, 6000), max_segs = rnd_in(1, 12);
		int iter = 0;

		cr_assert_eq(tcp_ooo_init(&q, &ctx, max_bytes, max_segs), 0);
		while (nxt != end) {
			int32_t off = rnd() % 4 == 0 ? 0 : (int32_t)rnd_in(0, wnd + 4000) - 2000;
			uint32_t seq, len = rnd_in(1, 1400), chunk = rnd() % 4 ? 0 : 200;
			int r;

			cr_assert_lt(++iter, 200000, "no progress");
			seq = nxt + (uint32_t)off;
			if ((int32_t)(end - seq) <= 0)
				continue;
			if ((int32_t)(end - (seq + len)) < 0)
				len = end - seq;
			r = tcp_ooo_insert(&q, nxt, wnd, seq, make_seg(seq, len, rnd_in(0, 2), chunk), len);
			cr_assert(r >= 0 || r == -ENOBUFS, "insert gave %d", r);
			if (r == -ENOBUFS)
				drops++;
			else if (r & TCP_OOO_OUTSIDE)
				outside++;
			if (q.last)
				cr_assert((int32_t)(nxt + wnd - q.last->end) >= 0, "nothing past the right edge");
			if (r > 0 && (r & TCP_OOO_FILLED))
				pull_check(&nxt);
			cr_assert(q.bytes <= max_bytes && q.segs <= max_segs,
			          "limits hold: %u/%u bytes, %u/%u segs", q.bytes, max_bytes, q.segs, max_segs);
			cr_assert_eq(tcp_ooo_check(&q), 0);
		}
		cr_assert(tcp_ooo_empty(&q));
		cr_assert_eq(pp.pool.in_use, 0);
	}
	cr_assert_gt(outside, 100);
	cr_assert_gt(drops, 100);
	assert_clean();
}

Test(tcp_ooo, window_trimming)
{
	uint32_t nxt = 1000, wnd = 500;
	struct tcp_ooo_block b[4];

	/* Straddles the right edge at 1500: only [1400, 1500) is kept. */
	cr_assert_eq(insert(nxt, wnd, 1400, 200), TCP_OOO_NEW | TCP_OOO_OUTSIDE);
	cr_assert_eq(q.bytes, 100);
	cr_assert_eq(q.first->start, 1400);
	cr_assert_eq(q.first->end, 1500);
	cr_assert_eq(pp.pool.in_use, 1);
	/* Wholly beyond: freed, nothing new, no D-SACK (it is not a duplicate). */
	cr_assert_eq(insert(nxt, wnd, 1500, 100), TCP_OOO_OUTSIDE);
	cr_assert_eq(pp.pool.in_use, 1);
	cr_assert_eq(tcp_ooo_sack_blocks(&q, nxt, true, b, 4), 1);
	cr_assert_eq(b[0].start, 1400, "the range, not a D-SACK");
	/* Straddles rcv_nxt: the old part is cut and reported as duplicate. */
	cr_assert_eq(insert(nxt, wnd, 900, 200), TCP_OOO_NEW | TCP_OOO_FILLED | TCP_OOO_DUP);
	BLOCKS(nxt, true, 4, 900, 1000, 1400, 1500);
	cr_assert_eq(pull_check(&nxt), 100);
	cr_assert_eq(nxt, 1100);
	/* Wholly old: a duplicate, freed. */
	cr_assert_eq(insert(nxt, wnd, 1000, 100), TCP_OOO_DUP);
	BLOCKS(nxt, true, 4, 1000, 1100, 1400, 1500);
	/* Zero window: even the segment at rcv_nxt is not accepted. */
	cr_assert_eq(insert(nxt, 0, nxt, 10), TCP_OOO_OUTSIDE);
	/* Past both edges of a 300-byte window: [1100, 1400) is kept and joins
	 * the range at 1400. */
	cr_assert_eq(insert(nxt, 300, 1000, 1000),
	             TCP_OOO_NEW | TCP_OOO_FILLED | TCP_OOO_DUP | TCP_OOO_OUTSIDE);
	cr_assert_eq(pull_check(&nxt), 400);
	cr_assert_eq(nxt, 1500);
	/* The window shrank below queued data: that data stays (no reneging),
	 * and the new segment is cut at both the edge and the queued range. */
	cr_assert_eq(insert(nxt, 1000, 1600, 100), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 150, 1500, 1000),
	             TCP_OOO_NEW | TCP_OOO_FILLED | TCP_OOO_DUP | TCP_OOO_OUTSIDE);
	BLOCKS(nxt, true, 4, 1600, 1650);
	cr_assert_eq(pull_check(&nxt), 200);
	cr_assert_eq(nxt, 1700);
	cr_assert_eq(pp.pool.in_use, 0);
	assert_clean();
}

Test(tcp_ooo, padding_and_chains)
{
	uint32_t nxt = 5000;
	struct dtcp_pkt *p = make_seg(5100, 900, 6, 128);

	cr_assert_gt(p->nb_segs, 2);
	cr_assert_eq(tcp_ooo_insert(&q, nxt, 65535, 5100, p, 900), TCP_OOO_NEW);
	cr_assert_eq(q.bytes, 900, "the link padding is not payload");
	/* Overlapping at both ends of the queued range, cut across buffers. */
	p = make_seg(5050, 1000, 3, 64);
	cr_assert_eq(tcp_ooo_insert(&q, nxt, 65535, 5050, p, 1000), TCP_OOO_NEW | TCP_OOO_DUP);
	cr_assert_eq(q.first->start, 5050);
	cr_assert_eq(q.first->end, 6050);
	cr_assert_eq(tcp_ooo_check(&q), 0);
	p = make_seg(4900, 160, 0, 16);
	cr_assert_eq(tcp_ooo_insert(&q, nxt, 65535, 4900, p, 160),
	             TCP_OOO_NEW | TCP_OOO_DUP | TCP_OOO_FILLED);
	cr_assert_eq(pull_check(&nxt), 1050);
	assert_clean();
}

/* RFC 9293 3.4: sequence numbers are modulo 2^32; a stream crossing zero
 * delivers the same way, and SACK blocks may have start > end as integers. */
Test(tcp_ooo, sequence_wrap)
{
	uint32_t isn = UINT32_MAX - 4999, nxt = isn;
	static const int order[20] = { 3, 1, 19, 7, 5, 6, 18, 2, 4, 10, 8, 9, 11, 17, 15, 13, 12, 14, 16, 0 };

	for (int i = 0; i < 20; i++) {
		uint32_t seq = isn + 1000u * (uint32_t)order[i];
		int r = insert(nxt, 1u << 20, seq, 1000);

		cr_assert(r & TCP_OOO_NEW);
		if (i == 0)
			BLOCKS(nxt, false, 4, isn + 3000, isn + 4000);
		if (i == 3)
			BLOCKS(nxt, false, 4, isn + 7000, isn + 8000, isn + 19000, isn + 20000,
			       isn + 1000, isn + 2000, isn + 3000, isn + 4000);
		if (i == 4) {
			/* [isn+5000, isn+6000) starts exactly at 2^32, i.e. 0. */
			cr_assert_eq(isn + 5000, 0);
			BLOCKS(nxt, false, 4, 0, 1000, isn + 7000, isn + 8000, isn + 19000, isn + 20000,
			       isn + 1000, isn + 2000);
		}
		if (i == 5) {
			/* [isn+5000, isn+8000) joined up. With 3 blocks the
			 * remembered ones fill the option; with 4, the lowest
			 * range not in yet ([isn+3000, isn+4000), pushed out of
			 * the remembered four) takes the room the merge freed. */
			BLOCKS(nxt, false, 3, 0, 3000, isn + 19000, isn + 20000, isn + 1000, isn + 2000);
			BLOCKS(nxt, false, 4, 0, 3000, isn + 19000, isn + 20000, isn + 1000, isn + 2000,
			       isn + 3000, isn + 4000);
		}
		if (i == 7)
			BLOCKS(nxt, false, 4, isn + 1000, isn + 4000, isn + 18000, isn + 20000, 0, 3000);
		if (i == 8) {
			/* 4 joins [isn+1000, isn+4000) and [0, 3000): one block
			 * across the wrap, start > end as integers. */
			BLOCKS(nxt, false, 4, isn + 1000, 3000, isn + 18000, isn + 20000);
			cr_assert_gt(isn + 1000, 3000u);
		}
		if (r & TCP_OOO_FILLED)
			pull_check(&nxt);
		cr_assert_eq(tcp_ooo_check(&q), 0);
	}
	cr_assert_eq(nxt, isn + 20000);
	cr_assert_eq(nxt, 15000);
	assert_clean();
}

Test(tcp_ooo, memory_limit_drops_newest)
{
	uint32_t nxt = 1000;
	uint64_t before;

	cr_assert_eq(tcp_ooo_init(&q, &ctx, 3000, 100), 0);
	cr_assert_eq(insert(nxt, 65535, 2000, 1000), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 4000, 1000), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 6000, 1000), TCP_OOO_NEW);
	cr_assert_eq(q.bytes, 3000);
	before = pp.pool.in_use;
	/* One byte over: the new segment goes, the queued ones stay. */
	cr_assert_eq(insert(nxt, 65535, 8000, 1), -ENOBUFS);
	cr_assert_eq(q.drops, 1);
	cr_assert_eq(pp.pool.in_use, before, "the dropped segment's buffer is freed");
	cr_assert_eq(q.bytes, 3000);
	cr_assert_eq(q.last->start, 6000, "queued data is not pruned");
	BLOCKS(nxt, true, 4, 6000, 7000, 4000, 5000, 2000, 3000);
	/* A duplicate still answers (it adds nothing). */
	cr_assert_eq(insert(nxt, 65535, 4000, 500), TCP_OOO_DUP);
	/* Filling the gap at 3000 would add bytes: dropped too. */
	cr_assert_eq(insert(nxt, 65535, 3000, 1000), -ENOBUFS);
	cr_assert_eq(q.drops, 2);
	/* The segment at rcv_nxt is exempt: it is pulled at once with the range
	 * it joins, so it frees memory. */
	cr_assert_eq(insert(nxt, 65535, 1000, 1000), TCP_OOO_NEW | TCP_OOO_FILLED);
	cr_assert_eq(q.bytes, 4000);
	cr_assert_eq(pull_check(&nxt), 2000);
	cr_assert_eq(q.bytes, 2000);
	cr_assert_eq(insert(nxt, 65535, 3000, 1000), TCP_OOO_NEW | TCP_OOO_FILLED);
	cr_assert_eq(pull_check(&nxt), 2000);
	cr_assert_eq(q.drops, 2);
	assert_clean();
}

Test(tcp_ooo, segment_limit_and_range_nodes)
{
	struct pool few;
	struct tcp_ooo_ctx c2;
	uint32_t nxt = 0;

	/* max_segs counts buffers: a 3-buffer segment does not fit in 2. */
	cr_assert_eq(tcp_ooo_init(&q, &ctx, 1u << 20, 2), 0);
	cr_assert_eq(tcp_ooo_insert(&q, nxt, 65535, 100, make_seg(100, 300, 0, 100), 300), -ENOBUFS);
	cr_assert_eq(q.drops, 1);
	cr_assert_eq(insert(nxt, 65535, 100, 10), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 200, 10), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 300, 10), -ENOBUFS);
	cr_assert_eq(q.drops, 2);
	/* Replacing a queued range by a covering one of one buffer fits. */
	cr_assert_eq(insert(nxt, 65535, 190, 40), TCP_OOO_NEW | TCP_OOO_DUP);
	cr_assert_eq(q.segs, 2);
	cr_assert_eq(q.ranges, 2);
	tcp_ooo_purge(&q);
	cr_assert_eq(pp.pool.in_use, 0);

	/* The stack-wide node pool running dry drops too, counted apart. */
	pool_init(&few, "few", sizeof(struct tcp_ooo_range), 1);
	c2 = ctx;
	c2.ranges = &few;
	cr_assert_eq(tcp_ooo_init(&q, &c2, 1u << 20, 100), 0);
	cr_assert_eq(insert(nxt, 65535, 100, 10), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 110, 10), TCP_OOO_NEW, "merging needs no node");
	cr_assert_eq(insert(nxt, 65535, 300, 10), -ENOBUFS);
	cr_assert_eq(q.nomem, 1);
	cr_assert_eq(q.drops, 1);
	cr_assert_eq(insert(nxt, 65535, 0, 100), TCP_OOO_NEW | TCP_OOO_FILLED, "joins the range");
	cr_assert_eq(pull_check(&nxt), 120);
	cr_assert_eq(few.in_use, 0);
	tcp_ooo_purge(&q);
	pool_fini(&few);
	cr_assert_eq(tcp_ooo_init(&q, &ctx, 1u << 20, 100), 0);
	assert_clean();
}

Test(tcp_ooo, bad_input)
{
	struct tcp_ooo_block b[5];
	struct tcp_ooo_ctx bad = ctx;

	cr_assert_eq(tcp_ooo_insert(&q, 0, 100, 0, make_seg(0, 10, 0, 0), 0), -EINVAL);
	cr_assert_eq(tcp_ooo_insert(&q, 0, 100, 0, make_seg(0, 10, 0, 0), 11), -EINVAL);
	cr_assert_eq(tcp_ooo_insert(&q, 0, 1u << 31, 0, make_seg(0, 10, 0, 0), 10), -EINVAL);
	cr_assert_eq(tcp_ooo_insert(&q, 0, 100, 0, NULL, 10), -EINVAL);
	cr_assert_eq(pp.pool.in_use, 0, "the queue frees what it refuses");
	cr_assert_eq(q.drops, 0, "refusals are not limit drops");
	cr_assert_eq(tcp_ooo_sack_blocks(&q, 0, false, b, 5), -EINVAL);
	cr_assert_eq(tcp_ooo_sack_blocks(&q, 0, false, b, -1), -EINVAL);
	cr_assert_eq(tcp_ooo_init(&q, &ctx, 100, TCP_OOO_MAX_SEGS + 1), -EINVAL);
	cr_assert_eq(tcp_ooo_init(&q, NULL, 100, 10), -EINVAL);
	bad.pkt_free = NULL;
	cr_assert_eq(tcp_ooo_init(&q, &bad, 100, 10), -EINVAL);
	cr_assert_eq(q.ctx, &ctx, "a refused init leaves q alone");
	assert_clean();
}

Test(tcp_ooo, replace_covered_ranges)
{
	uint32_t nxt = 1000;

	cr_assert_eq(insert(nxt, 65535, 1100, 100), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 1300, 100), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 1500, 10), TCP_OOO_NEW);
	/* Covers the first two whole and touches the third: one range. */
	cr_assert_eq(insert(nxt, 65535, 1050, 450), TCP_OOO_NEW | TCP_OOO_DUP);
	cr_assert_eq(q.ranges, 1);
	cr_assert_eq(q.bytes, 460);
	cr_assert_eq(q.segs, 2, "the covered buffers were freed");
	cr_assert_eq(pp.pool.in_use, 2);
	/* The lowest duplicate piece is the D-SACK; the old blocks are subsets. */
	BLOCKS(nxt, true, 4, 1100, 1200, 1050, 1510);
	cr_assert_eq(insert(nxt, 65535, 1000, 50), TCP_OOO_NEW | TCP_OOO_FILLED);
	cr_assert_eq(pull_check(&nxt), 510);
	assert_clean();
}

/* Caller moved rcv_nxt without pulling: stale data is freed or cut. */
Test(tcp_ooo, pull_past_stale_ranges)
{
	uint32_t nxt = 1000;

	cr_assert_eq(insert(nxt, 65535, 1100, 100), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 1300, 100), TCP_OOO_NEW);
	nxt = 1350;
	NO_BLOCKS(nxt, false, 4);
	cr_assert_eq(pull_check(&nxt), 50);
	cr_assert_eq(nxt, 1400);
	cr_assert(tcp_ooo_empty(&q));
	NO_BLOCKS(nxt, false, 4);
	assert_clean();
}

/* RFC 2018 7, case 2: left edge 5000, eight 500-byte segments, the first
 * lost. Each ACK's first block grows with the range. */
Test(tcp_ooo, rfc2018_case2)
{
	uint32_t nxt = 5000;

	for (uint32_t s = 5500; s < 9000; s += 500) {
		cr_assert_eq(insert(nxt, 65535, s, 500), TCP_OOO_NEW);
		BLOCKS(nxt, true, 4, 5500, s + 500);
	}
	cr_assert_eq(insert(nxt, 65535, 5000, 500), TCP_OOO_NEW | TCP_OOO_FILLED);
	cr_assert_eq(pull_check(&nxt), 4000);
	NO_BLOCKS(nxt, true, 4);
	assert_clean();
}

/* RFC 2018 7, case 3: the 2nd, 4th, 6th and 8th segments lost, then the
 * 4th and the 2nd arrive. The blocks below are the ones the RFC lists. */
Test(tcp_ooo, rfc2018_case3)
{
	uint32_t nxt = 5000;

	cr_assert_eq(insert(nxt, 65535, 5000, 500), TCP_OOO_NEW | TCP_OOO_FILLED);
	cr_assert_eq(pull_check(&nxt), 500);
	NO_BLOCKS(nxt, true, 4);
	cr_assert_eq(insert(nxt, 65535, 6000, 500), TCP_OOO_NEW);
	BLOCKS(nxt, true, 4, 6000, 6500);
	cr_assert_eq(insert(nxt, 65535, 7000, 500), TCP_OOO_NEW);
	BLOCKS(nxt, true, 4, 7000, 7500, 6000, 6500);
	cr_assert_eq(insert(nxt, 65535, 8000, 500), TCP_OOO_NEW);
	BLOCKS(nxt, true, 4, 8000, 8500, 7000, 7500, 6000, 6500);
	/* The 4th segment: 6000-7500 is one block now, and first. */
	cr_assert_eq(insert(nxt, 65535, 6500, 500), TCP_OOO_NEW);
	BLOCKS(nxt, true, 4, 6000, 7500, 8000, 8500);
	/* The 2nd: ACK 7500, one block left. */
	cr_assert_eq(insert(nxt, 65535, 5500, 500), TCP_OOO_NEW | TCP_OOO_FILLED);
	cr_assert_eq(pull_check(&nxt), 2000);
	cr_assert_eq(nxt, 7500);
	BLOCKS(nxt, true, 4, 8000, 8500);
	assert_clean();
}

/* RFC 2018 4: beyond the first block, the most recently reported other
 * blocks, in that order, none a subset of one already included. */
Test(tcp_ooo, sack_most_recent_order)
{
	uint32_t nxt = 0;

	/* A..E = [100,110) [200,210) [300,310) [400,410) [500,510), sent C A E B D. */
	cr_assert_eq(insert(nxt, 65535, 300, 10), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 100, 10), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 500, 10), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 200, 10), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 400, 10), TCP_OOO_NEW);
	BLOCKS(nxt, true, 4, 400, 410, 200, 210, 500, 510, 100, 110);
	/* With timestamps only 3 fit: the oldest (C, then A) is left out. */
	BLOCKS(nxt, true, 3, 400, 410, 200, 210, 500, 510);
	BLOCKS(nxt, true, 1, 400, 410);
	NO_BLOCKS(nxt, true, 0);
	/* A duplicate inside E makes E first again (it holds the segment
	 * that triggers this ACK). */
	cr_assert_eq(insert(nxt, 65535, 502, 5), TCP_OOO_DUP);
	BLOCKS(nxt, false, 4, 500, 510, 400, 410, 200, 210, 100, 110);
	/* C was pushed out of the remembered four; extending it brings it back. */
	cr_assert_eq(insert(nxt, 65535, 310, 5), TCP_OOO_NEW);
	BLOCKS(nxt, false, 4, 300, 315, 500, 510, 400, 410, 200, 210);
	/* Bridging B and C: the merged block first, B and C not repeated. */
	cr_assert_eq(insert(nxt, 65535, 210, 90), TCP_OOO_NEW);
	BLOCKS(nxt, false, 3, 200, 315, 500, 510, 400, 410);
	/* The merge left room for a fourth: A, the lowest range not in. */
	BLOCKS(nxt, false, 4, 200, 315, 500, 510, 400, 410, 100, 110);
	cr_assert_eq(q.ranges, 4);
	/* Pulling up to 110 retires A; blocks at or below rcv_nxt never show. */
	cr_assert_eq(insert(nxt, 65535, 0, 100), TCP_OOO_NEW | TCP_OOO_FILLED);
	cr_assert_eq(pull_check(&nxt), 110);
	BLOCKS(nxt, false, 4, 200, 315, 500, 510, 400, 410);
	cr_assert_eq(insert(nxt, 65535, 110, 90), TCP_OOO_NEW | TCP_OOO_FILLED);
	cr_assert_eq(pull_check(&nxt), 205);
	BLOCKS(nxt, false, 4, 500, 510, 400, 410);
	assert_clean();
}

/* RFC 2883 4.1.1: ACKs lost, 3000-3499 retransmitted; the receiver, at
 * 4000, reports it as a D-SACK. */
Test(tcp_ooo, dsack_below_ack)
{
	uint32_t nxt = 3000;

	cr_assert_eq(insert(nxt, 65535, 3000, 500), TCP_OOO_NEW | TCP_OOO_FILLED);
	pull_check(&nxt);
	cr_assert_eq(insert(nxt, 65535, 3500, 500), TCP_OOO_NEW | TCP_OOO_FILLED);
	pull_check(&nxt);
	cr_assert_eq(insert(nxt, 65535, 3000, 500), TCP_OOO_DUP);
	BLOCKS(nxt, true, 4, 3000, 3500);
	/* Reported once only. */
	NO_BLOCKS(nxt, true, 4);
	/* Not reported when the caller does not ask, and then forgotten. */
	cr_assert_eq(insert(nxt, 65535, 3000, 500), TCP_OOO_DUP);
	NO_BLOCKS(nxt, false, 4);
	NO_BLOCKS(nxt, true, 4);
	assert_clean();
}

/* RFC 2883 4.1.2 shape: a duplicate below the ACK while out-of-order data
 * is queued: D-SACK first, then the SACK block. */
Test(tcp_ooo, dsack_with_sack)
{
	uint32_t nxt = 3000;

	cr_assert_eq(insert(nxt, 65535, 3000, 1000), TCP_OOO_NEW | TCP_OOO_FILLED);
	pull_check(&nxt);
	cr_assert_eq(insert(nxt, 65535, 4500, 500), TCP_OOO_NEW);
	BLOCKS(nxt, true, 4, 4500, 5000);
	cr_assert_eq(insert(nxt, 65535, 3000, 500), TCP_OOO_DUP);
	BLOCKS(nxt, true, 4, 3000, 3500, 4500, 5000);
	BLOCKS(nxt, true, 4, 4500, 5000);
	/* A D-SACK is about the most recent packet only: a later new segment
	 * makes the pending one go. */
	cr_assert_eq(insert(nxt, 65535, 3000, 500), TCP_OOO_DUP);
	cr_assert_eq(insert(nxt, 65535, 6000, 500), TCP_OOO_NEW);
	BLOCKS(nxt, true, 4, 6000, 6500, 4500, 5000);
	/* With room for one block, the D-SACK takes it. */
	cr_assert_eq(insert(nxt, 65535, 3200, 100), TCP_OOO_DUP);
	BLOCKS(nxt, true, 1, 3200, 3300);
	assert_clean();
}

/* RFC 2883 4 rule: a duplicate of out-of-order data is the D-SACK, and the
 * (larger) queued block holding it comes second. Partial duplicates report
 * only the duplicated bytes. */
Test(tcp_ooo, dsack_out_of_order_data)
{
	uint32_t nxt = 4000;

	cr_assert_eq(insert(nxt, 65535, 4500, 500), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 5000, 500), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 7000, 500), TCP_OOO_NEW);
	cr_assert_eq(insert(nxt, 65535, 4500, 500), TCP_OOO_DUP);
	BLOCKS(nxt, true, 4, 4500, 5000, 4500, 5500, 7000, 7500);
	/* Half duplicate, half new: the D-SACK is the old half. */
	cr_assert_eq(insert(nxt, 65535, 7300, 400), TCP_OOO_NEW | TCP_OOO_DUP);
	BLOCKS(nxt, true, 4, 7300, 7500, 7000, 7700, 4500, 5500);
	/* Old below the ACK and queued above it: the lowest piece is reported. */
	cr_assert_eq(insert(nxt, 65535, 3900, 700), TCP_OOO_NEW | TCP_OOO_DUP | TCP_OOO_FILLED);
	BLOCKS(nxt, true, 4, 3900, 4000, 7000, 7700);
	cr_assert_eq(pull_check(&nxt), 1500);
	assert_clean();
}

static unsigned tree_depth(const struct tcp_ooo_range *r)
{
	unsigned l, rt;

	if (!r)
		return 0;
	l = tree_depth(r->left);
	rt = tree_depth(r->right);
	return 1 + (l > rt ? l : rt);
}

/* Many holes in sequence order (a path in an unbalanced tree) and the
 * reverse: the treap stays shallow, and filling the holes front to back
 * delivers the lot. */
Test(tcp_ooo, many_ranges_stay_balanced)
{
	enum { N = 8192 };
	uint32_t nxt = 0;

	cr_assert_eq(tcp_ooo_init(&q, &ctx, 1u << 30, TCP_OOO_MAX_SEGS), 0);
	for (uint32_t i = 0; i < N / 2; i++)
		cr_assert_eq(insert(nxt, 1u << 30, 20 * i + 10, 10), TCP_OOO_NEW);
	for (uint32_t i = N - 1; i >= N / 2; i--)
		cr_assert_eq(insert(nxt, 1u << 30, 20 * i + 10, 10), TCP_OOO_NEW);
	cr_assert_eq(q.ranges, N);
	cr_assert_lt(tree_depth(q.root), 64, "depth %u for %u ranges", tree_depth(q.root), N);
	cr_assert_eq(tcp_ooo_check(&q), 0);
	/* Random holes next, through the tree search. */
	for (uint32_t k = 0; k < 2000; k++) {
		uint32_t i = rnd_in(1, N - 1);

		cr_assert_geq(insert(nxt, 1u << 30, 20 * i, 10), 0);
	}
	cr_assert_eq(tcp_ooo_check(&q), 0);
	cr_assert_lt(tree_depth(q.root), 64);
	for (uint32_t i = 0; i < N; i++) {
		int r;

		if (20 * i < nxt)
			continue;   /* the random pass filled this hole already */
		r = insert(nxt, 1u << 30, 20 * i, 10);
		cr_assert(r & TCP_OOO_FILLED);
		pull_check(&nxt);
	}
	cr_assert_eq(nxt, 20 * N);
	assert_clean();
}

Test(tcp_ooo, purge_frees_everything)
{
	for (uint32_t i = 0; i < 50; i++)
		cr_assert_eq(tcp_ooo_insert(&q, 0, 1u << 20, 100 + 1000 * i,
		                            make_seg(100 + 1000 * i, 500, 1, 100), 500), TCP_OOO_NEW);
	cr_assert_gt(pp.pool.in_use, 50);
	cr_assert_eq(ranges.in_use, 50);
	tcp_ooo_purge(&q);
	cr_assert(tcp_ooo_empty(&q));
	cr_assert_eq(pp.pool.in_use, 0);
	cr_assert_eq(ranges.in_use, 0);
	NO_BLOCKS(0, true, 4);
	/* Still usable. */
	cr_assert_eq(insert(0, 100, 0, 10), TCP_OOO_NEW | TCP_OOO_FILLED);
	assert_clean();
}
