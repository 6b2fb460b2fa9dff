/* Loopback link (see link.h): a FIFO of packets from tx to rx. */
#include <errno.h>
#include <stdlib.h>

#include "link/link.h"
#include "util.h"

struct link_loopback {
	struct pkt_pool pool;
	struct dtcp_pkt **ring;
	uint32_t mask, head, tail;  /* head: next to receive, tail: next free */
	uint64_t drops;
};

struct link_loopback *link_loopback_create(uint32_t qlen, uint64_t pool_limit)
{
	struct link_loopback *lo = calloc(1, sizeof(*lo));

	qlen = roundup_pow2_u32(qlen ? qlen : 4096);
	if (!lo || !(lo->ring = calloc(qlen, sizeof(*lo->ring)))) {
		free(lo);
		return NULL;
	}
	lo->mask = qlen - 1;
	pkt_pool_init(&lo->pool, "lo_pkt", pool_limit);
	return lo;
}

void link_loopback_destroy(struct link_loopback *lo)
{
	if (!lo)
		return;
	while (lo->head != lo->tail)
		pkt_pool_free(&lo->pool, lo->ring[lo->head++ & lo->mask]);
	pkt_pool_fini(&lo->pool);
	free(lo->ring);
	free(lo);
}

uint64_t link_loopback_drops(const struct link_loopback *lo)
{
	return lo->drops;
}

static int lo_rx_burst(void *self, struct dtcp_pkt **pkts, int n)
{
	struct link_loopback *lo = self;
	int i = 0;

	while (i < n && lo->head != lo->tail)
		pkts[i++] = lo->ring[lo->head++ & lo->mask];
	return i;
}

static int lo_tx_burst(void *self, struct dtcp_pkt **pkts, int n)
{
	struct link_loopback *lo = self;
	int i = 0;

	while (i < n && lo->tail - lo->head <= lo->mask)
		lo->ring[lo->tail++ & lo->mask] = pkts[i++];
	lo->drops += (uint64_t)(n - i);   /* refused: the caller frees them */
	return i;
}

static struct dtcp_pkt *lo_pkt_alloc(void *self)
{
	return pkt_pool_alloc(&((struct link_loopback *)self)->pool);
}

static void lo_pkt_free(void *self, struct dtcp_pkt *p)
{
	pkt_pool_free(&((struct link_loopback *)self)->pool, p);
}

const struct dtcp_netdev_ops link_loopback_ops = {
	.rx_burst = lo_rx_burst,
	.tx_burst = lo_tx_burst,
	.pkt_alloc = lo_pkt_alloc,
	.pkt_free = lo_pkt_free,
};
