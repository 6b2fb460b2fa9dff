/* The DPDK backend's struct dtcp_netdev_ops: rx/tx bursts and buffers on one
 * queue of a port, zero copy both ways (see mbuf_pkt.h for the layout). Each
 * queue on the one thread that polls it. */
#include <dtcp/dpdk.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "mbuf_pkt.h"
#include "port.h"
#include "util.h"

static int dpdk_rx_burst(void *self, struct dtcp_pkt **pkts, int n)
{
	struct port_queue *q = self;
	struct rte_mbuf *mb[PORT_BURST];
	int got = 0;

	while (got < n) {
		uint16_t want = (uint16_t)RTE_MIN(n - got, PORT_BURST);
		uint16_t nb = rte_eth_rx_burst(q->port_id, q->qid, mb, want);

		if (unlikely(q->cap != NULL) && nb) {
			struct rte_mbuf *cp[PORT_BURST];

			/* Before wrapping: the mbuf fields are the truth
			 * until the stack takes the packets. */
			capture_copy(q->cap, q->qid, mb, nb, RTE_PCAPNG_DIRECTION_IN, cp,
				     &q->capture_fail);
			capture_write(q->cap, cp, nb, nb, &q->capture_fail);
		}
		for (uint16_t i = 0; i < nb; i++) {
			struct dtcp_pkt *p = mbuf_pkt_wrap(mb[i]);

			if (!p) {
				/* An mbuf from a pool without room for our
				 * descriptor (another application's, over a
				 * shared ring): wrapping it would write over
				 * its data. */
				rte_pktmbuf_free(mb[i]);
				q->rx_foreign++;
				continue;
			}
			pkts[got++] = p;
		}
		if (nb < want)
			break;
	}
	q->rx_pkts += (uint64_t)got;
	return got;
}

/* Takes a prefix of pkts: it stops at the first packet the device refuses,
 * because its queue is full (tx_full counts every packet left) or because
 * the packet cannot be sent here (tx_invalid counts that one): a buffer not
 * from DPDK, lengths that do not add up, an offload the port lacks, or one
 * rte_eth_tx_prepare() rejects. The packets not taken are the caller's,
 * unchanged but for empty segments after the first, which are freed. */
static int dpdk_tx_burst(void *self, struct dtcp_pkt **pkts, int n)
{
	struct port_queue *q = self;
	struct rte_mbuf *mb[PORT_BURST], *cp[PORT_BURST];
	int done = 0;

	while (done < n) {
		uint16_t k = 0, ready, sent;
		bool invalid = false;

		while (k < PORT_BURST && done + k < n) {
			if (mbuf_pkt_check(pkts[done + k], q->tx_capa) < 0) {
				invalid = true;
				break;
			}
			mb[k] = mbuf_pkt_sync(pkts[done + k]);
			k++;
		}
		/* Lets the driver adjust what it needs for the offloads asked
		 * (the TCP pseudo-header sum, for most NICs); a no-op for
		 * drivers without a prepare step. */
		ready = rte_eth_tx_prepare(q->port_id, q->qid, mb, k);
		if (ready < k)
			invalid = true;
		/* Copied after the sync (and prepare) but before the device
		 * takes them: from then on they are not ours to read. Only
		 * what the device took is written. */
		if (unlikely(q->cap != NULL) && ready)
			capture_copy(q->cap, q->qid, mb, ready, RTE_PCAPNG_DIRECTION_OUT, cp,
				     &q->capture_fail);
		sent = rte_eth_tx_burst(q->port_id, q->qid, mb, ready);
		if (unlikely(q->cap != NULL) && ready)
			capture_write(q->cap, cp, sent, ready, &q->capture_fail);
		done += sent;
		if (sent < ready) {
			q->tx_full += (uint64_t)(n - done);
			break;
		}
		if (invalid) {
			q->tx_invalid++;
			break;
		}
	}
	q->tx_pkts += (uint64_t)done;
	return done;
}

static struct dtcp_pkt *dpdk_pkt_alloc(void *self)
{
	struct port_queue *q = self;
	struct rte_mbuf *m = rte_pktmbuf_alloc(q->pool);
	struct dtcp_pkt *p;

	if (!m) {
		q->alloc_fail++;
		return NULL;
	}
	/* rte_pktmbuf_alloc() leaves RTE_PKTMBUF_HEADROOM, which port open
	 * checked is at least DTCP_PKT_HEADROOM. */
	p = mbuf_pkt_wrap_seg(m);
	p->nb_segs = 1;
	return p;
}

/* The dtcp_pkt chain is the truth (the stack may have re-chained it), so
 * the mbuf links are rewritten from it before DPDK frees the chain. */
static void dpdk_pkt_free(void *self, struct dtcp_pkt *p)
{
	(void)self;   /* an mbuf goes back to its own pool, whichever port this is */
	if (!p)
		return;
	for (struct dtcp_pkt *s = p; s; s = s->next) {
		DTCP_ASSERT(mbuf_pkt_is_ours(s));
		mbuf_of_pkt(s)->next = s->next ? mbuf_of_pkt(s->next) : NULL;
	}
	rte_pktmbuf_free(mbuf_of_pkt(p));
}

static const struct dtcp_netdev_ops dpdk_netdev_ops = {
	.rx_burst = dpdk_rx_burst,
	.tx_burst = dpdk_tx_burst,
	.pkt_alloc = dpdk_pkt_alloc,
	.pkt_free = dpdk_pkt_free,
};

const struct dtcp_netdev_ops *dtcp_dpdk_netdev_ops(void)
{
	return &dpdk_netdev_ops;
}
