/* In-memory link pair with impairments (see link.h). Each direction is a
 * min-heap of packets keyed by release time (then send order), so delay,
 * rate limit and reordering all come from one mechanism. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link/link.h"
#include "util.h"

struct flight {
	uint64_t release_ns;
	uint64_t seq;
	struct dtcp_pkt *pkt;
};

struct pair_dir {
	struct flight *heap;
	uint32_t n, cap;
	uint64_t busy_until_ns;     /* serialisation of the previous packet */
	struct link_pair_stats st;
};

struct pair_end {
	struct link_pair *lp;
	int side;
};

struct link_pair {
	struct link_pair_cfg cfg;
	struct stack_env env;
	struct pkt_pool pool;
	struct pair_dir dir[2];     /* dir[s]: sent by side s */
	struct pair_end end[2];
	uint64_t seq;
};

static bool flight_before(const struct flight *a, const struct flight *b)
{
	return a->release_ns < b->release_ns || (a->release_ns == b->release_ns && a->seq < b->seq);
}

static void heap_push(struct pair_dir *d, struct flight f)
{
	uint32_t i = d->n++;

	while (i) {
		uint32_t parent = (i - 1) / 2;

		if (!flight_before(&f, &d->heap[parent]))
			break;
		d->heap[i] = d->heap[parent];
		i = parent;
	}
	d->heap[i] = f;
}

static struct flight heap_pop(struct pair_dir *d)
{
	struct flight top = d->heap[0], last = d->heap[--d->n];
	uint32_t i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= d->n)
			break;
		if (c + 1 < d->n && flight_before(&d->heap[c + 1], &d->heap[c]))
			c++;
		if (!flight_before(&d->heap[c], &last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (d->n)
		d->heap[i] = last;
	return top;
}

struct link_pair *link_pair_create(const struct link_pair_cfg *cfg, const struct stack_env *env)
{
	struct link_pair *lp = calloc(1, sizeof(*lp));

	if (!lp)
		return NULL;
	lp->cfg = *cfg;
	if (!lp->cfg.queue_limit)
		lp->cfg.queue_limit = 4096;
	if (!lp->cfg.pool_limit)
		lp->cfg.pool_limit = 65536;
	lp->env = *env;
	for (int s = 0; s < 2; s++) {
		/* Room for every packet in flight and a duplicate of each. */
		lp->dir[s].cap = 2 * lp->cfg.queue_limit;
		lp->dir[s].heap = calloc(lp->dir[s].cap, sizeof(struct flight));
		if (!lp->dir[s].heap) {
			link_pair_destroy(lp);
			return NULL;
		}
		lp->end[s].lp = lp;
		lp->end[s].side = s;
	}
	pkt_pool_init(&lp->pool, "pair_pkt", lp->cfg.pool_limit);
	return lp;
}

void link_pair_destroy(struct link_pair *lp)
{
	if (!lp)
		return;
	for (int s = 0; s < 2; s++) {
		while (lp->dir[s].heap && lp->dir[s].n)
			pkt_pool_free(&lp->pool, heap_pop(&lp->dir[s]).pkt);
		free(lp->dir[s].heap);
	}
	pkt_pool_fini(&lp->pool);
	free(lp);
}

void *link_pair_end(struct link_pair *lp, int side)
{
	return &lp->end[side & 1];
}

const struct link_pair_stats *link_pair_stats(const struct link_pair *lp, int from)
{
	return &lp->dir[from & 1].st;
}

uint64_t link_pair_pkts_in_use(const struct link_pair *lp)
{
	return lp->pool.pool.in_use;
}

static bool chance(struct link_pair *lp, uint32_t ppm)
{
	uint32_t r;

	if (!ppm)
		return false;
	lp->env.random_bytes(lp->env.arg, &r, sizeof(r));
	return r % 1000000u < ppm;
}

/* A one-segment copy of a packet, or NULL. */
static struct dtcp_pkt *pair_copy(struct link_pair *lp, const struct dtcp_pkt *p)
{
	struct dtcp_pkt *c;
	uint8_t *dst;

	if (p->pkt_len > lp->pool.buf_size - DTCP_PKT_HEADROOM || !(c = pkt_pool_alloc(&lp->pool)))
		return NULL;
	dst = pkt_append(c, (uint16_t)p->pkt_len);
	pkt_read(p, 0, dst, p->pkt_len);
	c->ol_flags = p->ol_flags;
	return c;
}

static int pair_tx_burst(void *self, struct dtcp_pkt **pkts, int n)
{
	struct pair_end *e = self;
	struct link_pair *lp = e->lp;
	struct pair_dir *d = &lp->dir[e->side];
	uint64_t now = lp->env.now_ns(lp->env.arg);
	int i;

	for (i = 0; i < n; i++) {
		struct dtcp_pkt *p = pkts[i];
		struct flight f = { .pkt = p };
		uint64_t start = DTCP_MAX(now, d->busy_until_ns);

		if (d->n >= lp->cfg.queue_limit) {
			d->st.queue_drops += (uint64_t)(n - i);
			break;   /* the rest stay the caller's */
		}
		d->st.sent++;
		if (lp->cfg.rate_bps)
			d->busy_until_ns = start + (uint64_t)p->pkt_len * 8u * 1000000000u / lp->cfg.rate_bps;
		else
			d->busy_until_ns = start;
		if (chance(lp, lp->cfg.loss_ppm)) {
			d->st.lost++;
			pkt_pool_free(&lp->pool, p);
			continue;
		}
		f.release_ns = d->busy_until_ns + lp->cfg.delay_ns;
		if (chance(lp, lp->cfg.reorder_ppm)) {
			f.release_ns += lp->cfg.reorder_ns;
			d->st.reordered++;
		}
		if (chance(lp, lp->cfg.dup_ppm)) {
			struct flight dup = f;

			dup.pkt = pair_copy(lp, p);
			if (dup.pkt) {
				dup.seq = lp->seq++;
				heap_push(d, dup);
				d->st.duplicated++;
			}
		}
		f.seq = lp->seq++;
		heap_push(d, f);
	}
	return i;
}

static int pair_rx_burst(void *self, struct dtcp_pkt **pkts, int n)
{
	struct pair_end *e = self;
	struct link_pair *lp = e->lp;
	struct pair_dir *d = &lp->dir[!e->side];
	uint64_t now = lp->env.now_ns(lp->env.arg);
	int i = 0;

	while (i < n && d->n && d->heap[0].release_ns <= now) {
		pkts[i++] = heap_pop(d).pkt;
		d->st.delivered++;
	}
	return i;
}

static struct dtcp_pkt *pair_pkt_alloc(void *self)
{
	return pkt_pool_alloc(&((struct pair_end *)self)->lp->pool);
}

static void pair_pkt_free(void *self, struct dtcp_pkt *p)
{
	pkt_pool_free(&((struct pair_end *)self)->lp->pool, p);
}

const struct dtcp_netdev_ops link_pair_ops = {
	.rx_burst = pair_rx_burst,
	.tx_burst = pair_tx_burst,
	.pkt_alloc = pair_pkt_alloc,
	.pkt_free = pair_pkt_free,
};
