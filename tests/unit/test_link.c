/* Packet buffers and the software links: loopback FIFO, and the pair's
 * delay, rate limit, loss, duplication and reordering on a virtual clock. */
#include <criterion/criterion.h>
#include <string.h>

#include "link/link.h"
#include "pkt.h"

static uint64_t now_ns;
static uint64_t rng = 12345;

static uint64_t clock_fn(void *arg)
{
	(void)arg;
	return now_ns;
}

static void rnd_fn(void *arg, void *buf, size_t len)
{
	uint8_t *p = buf;

	(void)arg;
	while (len--) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		*p++ = (uint8_t)rng;
	}
}

static const struct stack_env env = { .now_ns = clock_fn, .random_bytes = rnd_fn };

static struct dtcp_pkt *make_pkt(const struct dtcp_netdev_ops *ops, void *self, uint32_t tag, uint16_t len)
{
	struct dtcp_pkt *p = ops->pkt_alloc(self);
	uint8_t *d;

	cr_assert_not_null(p);
	d = pkt_append(p, len);
	cr_assert_not_null(d);
	memset(d, 0, len);
	memcpy(d, &tag, sizeof(tag));
	return p;
}

static uint32_t tag_of(const struct dtcp_pkt *p)
{
	uint32_t t;

	cr_assert(pkt_read(p, 0, &t, sizeof(t)));
	return t;
}

Test(pkt, prepend_adj_append_read)
{
	struct pkt_pool pp;
	struct dtcp_pkt *a, *b;
	uint8_t *h, buf[16];

	pkt_pool_init(&pp, "t", 4);
	a = pkt_pool_alloc(&pp);
	b = pkt_pool_alloc(&pp);
	cr_assert_eq(pkt_headroom(a), DTCP_PKT_HEADROOM);
	memcpy(pkt_append(a, 4), "abcd", 4);
	memcpy(pkt_append(b, 4), "efgh", 4);
	h = pkt_prepend(a, 2);
	cr_assert_not_null(h);
	memcpy(h, "XY", 2);
	cr_assert_null(pkt_prepend(a, DTCP_PKT_HEADROOM), "more than the headroom");
	pkt_chain(a, b);
	cr_assert_eq(a->pkt_len, 10);
	cr_assert_eq(a->nb_segs, 2);
	cr_assert(pkt_read(a, 0, buf, 10));
	cr_assert_eq(memcmp(buf, "XYabcdefgh", 10), 0);
	cr_assert(pkt_read(a, 5, buf, 3), "a read across the segment boundary");
	cr_assert_eq(memcmp(buf, "def", 3), 0);
	cr_assert(!pkt_read(a, 8, buf, 3), "past the end");
	cr_assert(pkt_adj(a, 2));
	cr_assert(!pkt_adj(a, 5), "more than the first segment");
	pkt_trim_to(a, 5);
	cr_assert_eq(a->pkt_len, 5);
	cr_assert(pkt_read(a, 0, buf, 5));
	cr_assert_eq(memcmp(buf, "abcde", 5), 0);
	cr_assert_eq(b->data_len, 1);
	cr_assert_not_null(pkt_pool_alloc(&pp));
	cr_assert_not_null(pkt_pool_alloc(&pp));
	cr_assert_null(pkt_pool_alloc(&pp), "the pool's limit");
	pkt_pool_free(&pp, a);
	cr_assert_eq(pp.pool.in_use, 2, "the whole chain went back");
	pkt_pool_fini(&pp);
}

Test(link, loopback_fifo_and_limit)
{
	struct link_loopback *lo = link_loopback_create(4, 16);
	struct dtcp_pkt *p[6], *r[8];

	cr_assert_not_null(lo);
	for (uint32_t i = 0; i < 6; i++)
		p[i] = make_pkt(&link_loopback_ops, lo, i, 60);
	cr_assert_eq(link_loopback_ops.tx_burst(lo, p, 6), 4, "four fit");
	cr_assert_eq(link_loopback_drops(lo), 2);
	link_loopback_ops.pkt_free(lo, p[4]);
	link_loopback_ops.pkt_free(lo, p[5]);
	cr_assert_eq(link_loopback_ops.rx_burst(lo, r, 8), 4);
	for (uint32_t i = 0; i < 4; i++) {
		cr_assert_eq(tag_of(r[i]), i, "in order");
		link_loopback_ops.pkt_free(lo, r[i]);
	}
	cr_assert_eq(link_loopback_ops.rx_burst(lo, r, 8), 0);
	link_loopback_destroy(lo);
}

Test(link, pair_delay_and_rate)
{
	struct link_pair_cfg cfg = { .delay_ns = 1000000, .rate_bps = 8000000 }; /* 1 ms, 1 byte/us */
	struct link_pair *lp;
	void *a, *b;
	struct dtcp_pkt *p[2], *r[4];

	now_ns = 0;
	lp = link_pair_create(&cfg, &env);
	a = link_pair_end(lp, 0);
	b = link_pair_end(lp, 1);
	p[0] = make_pkt(&link_pair_ops, a, 1, 1000);
	p[1] = make_pkt(&link_pair_ops, a, 2, 1000);
	cr_assert_eq(link_pair_ops.tx_burst(a, p, 2), 2);
	/* First: 1 ms on the wire + 1 ms delay; second 1 ms later. */
	now_ns = 1999999;
	cr_assert_eq(link_pair_ops.rx_burst(b, r, 4), 0);
	now_ns = 2000000;
	cr_assert_eq(link_pair_ops.rx_burst(b, r, 4), 1);
	cr_assert_eq(tag_of(r[0]), 1);
	link_pair_ops.pkt_free(b, r[0]);
	cr_assert_eq(link_pair_ops.rx_burst(a, r, 4), 0, "nothing comes back to the sender");
	now_ns = 3000000;
	cr_assert_eq(link_pair_ops.rx_burst(b, r, 4), 1);
	cr_assert_eq(tag_of(r[0]), 2);
	link_pair_ops.pkt_free(b, r[0]);
	cr_assert_eq(link_pair_pkts_in_use(lp), 0);
	link_pair_destroy(lp);
}

Test(link, pair_impairments)
{
	struct link_pair_cfg cfg = { .loss_ppm = 100000, .dup_ppm = 100000, .reorder_ppm = 100000,
	                             .delay_ns = 1000, .reorder_ns = 50000, .queue_limit = 20000 };
	struct link_pair *lp;
	void *a, *b;
	uint32_t got = 0, out_of_order = 0, last = 0;
	static uint8_t seen[10000];

	now_ns = 0;
	lp = link_pair_create(&cfg, &env);
	a = link_pair_end(lp, 0);
	b = link_pair_end(lp, 1);
	for (uint32_t i = 0; i < 10000; i++) {
		struct dtcp_pkt *p = make_pkt(&link_pair_ops, a, i, 64);

		cr_assert_eq(link_pair_ops.tx_burst(a, &p, 1), 1);
		now_ns += 100;
	}
	now_ns += 1000000;
	for (;;) {
		struct dtcp_pkt *r[32];
		int n = link_pair_ops.rx_burst(b, r, 32);

		if (!n)
			break;
		for (int k = 0; k < n; k++) {
			uint32_t t = tag_of(r[k]);

			if (t < last)
				out_of_order++;
			last = t;
			seen[t]++;
			got++;
			link_pair_ops.pkt_free(b, r[k]);
		}
	}
	const struct link_pair_stats *s = link_pair_stats(lp, 0);

	cr_assert_eq(s->sent, 10000);
	cr_assert(s->lost > 800 && s->lost < 1200, "lost %llu", (unsigned long long)s->lost);
	cr_assert(s->duplicated > 700 && s->duplicated < 1100);
	cr_assert(s->reordered > 700 && s->reordered < 1100);
	cr_assert_eq(got, s->sent - s->lost + s->duplicated);
	cr_assert_gt(out_of_order, 500);
	uint32_t twice = 0;

	for (int i = 0; i < 10000; i++)
		twice += seen[i] == 2;
	cr_assert_eq(twice, s->duplicated);
	cr_assert_eq(link_pair_pkts_in_use(lp), 0);
	link_pair_destroy(lp);
}

Test(link, pair_queue_limit_and_destroy_frees)
{
	struct link_pair_cfg cfg = { .delay_ns = 1000, .queue_limit = 3 };
	struct link_pair *lp = link_pair_create(&cfg, &env);
	void *a = link_pair_end(lp, 0);
	struct dtcp_pkt *p[5];

	now_ns = 0;
	for (uint32_t i = 0; i < 5; i++)
		p[i] = make_pkt(&link_pair_ops, a, i, 64);
	cr_assert_eq(link_pair_ops.tx_burst(a, p, 5), 3);
	cr_assert_eq(link_pair_stats(lp, 0)->queue_drops, 2);
	link_pair_ops.pkt_free(a, p[3]);
	link_pair_ops.pkt_free(a, p[4]);
	cr_assert_eq(link_pair_pkts_in_use(lp), 3);
	link_pair_destroy(lp);   /* frees the three in flight (valgrind/ASan would see a leak) */
}
