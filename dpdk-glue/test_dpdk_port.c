/* Tests of the DPDK backend: EAL start-up, ports opened by id and by vdev
 * name, ring pairs, and the zero-copy mbuf <-> dtcp_pkt mapping both ways.
 * Criterion runs each test in its own process, so each starts EAL itself
 * (--no-shconf: no shared config, so parallel processes do not collide). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <dtcp/dpdk.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "mbuf_pkt.h"
#include "pkt.h"

#define RING_DESC 64

static const struct dtcp_netdev_ops *ops;

/* Start EAL with the arguments DPDK-NOTES.md found to work here, plus up to
 * two more (--vdev ...). */
static void eal_start(const char *extra1, const char *extra2)
{
	char *argv[16];
	int argc = 0;
	const char *base[] = { "test_dpdk_port", "--no-huge", "--no-pci", "-m", "512",
			       "--no-shconf", "--log-level=*:warning" };

	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		argv[argc++] = (char *)base[i];
	if (extra1)
		argv[argc++] = (char *)extra1;
	if (extra2)
		argv[argc++] = (char *)extra2;
	argv[argc] = NULL;
	cr_assert_eq(dtcp_dpdk_eal_init(argc, argv), argc - 1, "EAL init: %s", strerror(errno));
	ops = dtcp_dpdk_netdev_ops();
}

static void eal_stop(void)
{
	cr_assert_eq(dtcp_dpdk_eal_cleanup(), 0);
}

static void pair_open(const char *name, const struct dtcp_dpdk_port_conf *conf,
		      struct dtcp_dpdk_port *ports[2], void *dev[2])
{
	cr_assert_eq(dtcp_dpdk_ring_pair_open(name, conf, ports), 0, "pair: %s", strerror(errno));
	for (int s = 0; s < 2; s++) {
		dev[s] = dtcp_dpdk_port_netdev(ports[s], 0);
		cr_assert_not_null(dev[s]);
	}
}

static uint32_t pool_in_use(const struct dtcp_dpdk_port *port)
{
	struct dtcp_dpdk_port_stats st;

	cr_assert_eq(dtcp_dpdk_port_stats(port, &st), 0);
	return st.pool_in_use;
}

static struct dtcp_dpdk_port_stats port_stats(const struct dtcp_dpdk_port *port)
{
	struct dtcp_dpdk_port_stats st;

	cr_assert_eq(dtcp_dpdk_port_stats(port, &st), 0);
	return st;
}

static uint8_t pattern(uint32_t seed, uint32_t i)
{
	return (uint8_t)(seed * 131u + i * 7u + (i >> 8));
}

/* A fresh buffer with len bytes of a pattern, appended as the stack would. */
static struct dtcp_pkt *pkt_make(void *dev, uint32_t seed, uint16_t len)
{
	struct dtcp_pkt *p = ops->pkt_alloc(dev);
	uint8_t *d;

	cr_assert_not_null(p);
	d = pkt_append(p, len);
	cr_assert_not_null(d);
	for (uint32_t i = 0; i < len; i++)
		d[i] = pattern(seed, i);
	return p;
}

static void pkt_expect(const struct dtcp_pkt *p, uint32_t seed, uint32_t len)
{
	static uint8_t got[16384];

	cr_assert_eq(p->pkt_len, len);
	cr_assert(pkt_read(p, 0, got, len));
	for (uint32_t i = 0; i < len; i++)
		cr_assert_eq(got[i], pattern(seed, i), "byte %u of packet %u", i, seed);
}

/* Every mbuf of the pair's pool is back, by DPDK's own count. */
static void pool_expect_full(const char *pair_name)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;

	snprintf(name, sizeof(name), "dtcp_rp_%s", pair_name);
	mp = rte_mempool_lookup(name);
	cr_assert_not_null(mp);
	cr_assert_eq(rte_mempool_avail_count(mp), mp->size);
}

Test(eal, second_init_is_an_error)
{
	char *argv[] = { "x", "--no-huge", "--no-pci", "-m", "512", "--no-shconf", NULL };

	eal_start(NULL, NULL);
	errno = 0;
	cr_assert_eq(dtcp_dpdk_eal_init(6, argv), -1);
	cr_assert_eq(errno, EALREADY);
	eal_stop();
	/* DPDK allows one start per process, cleanup included. */
	errno = 0;
	cr_assert_eq(dtcp_dpdk_eal_init(6, argv), -1);
	cr_assert_eq(errno, EALREADY);
	errno = 0;
	cr_assert_eq(dtcp_dpdk_eal_init(0, NULL), -1);
	cr_assert_eq(errno, EINVAL);
}

Test(port, bad_arguments_are_errors)
{
	struct dtcp_dpdk_port *port = NULL, *pair[2];
	struct dtcp_dpdk_port_conf conf = { 0 };
	uint16_t id;

	eal_start("--vdev=net_null0", NULL);
	errno = 0;
	cr_assert_eq(dtcp_dpdk_port_open(RTE_MAX_ETHPORTS + 7, NULL, &port), -1);
	cr_assert_eq(errno, ENODEV);
	cr_assert_null(port);
	cr_assert_eq(dtcp_dpdk_port_open(3, NULL, &port), -1);   /* only port 0 exists */
	cr_assert_eq(errno, ENODEV);
	cr_assert_eq(dtcp_dpdk_port_lookup("net_null9", &id), -1);
	cr_assert_eq(errno, ENODEV);
	cr_assert_eq(dtcp_dpdk_port_lookup("net_null0", &id), 0);

	cr_assert_eq(dtcp_dpdk_port_open(id, NULL, NULL), -1);
	cr_assert_eq(errno, EINVAL);
	conf.nb_queues = DTCP_DPDK_MAX_QUEUES + 1;
	cr_assert_eq(dtcp_dpdk_port_open(id, &conf, &port), -1);
	cr_assert_eq(errno, EINVAL);
	conf = (struct dtcp_dpdk_port_conf){ .mtu = 20 };   /* below IPv4's 68 */
	cr_assert_eq(dtcp_dpdk_port_open(id, &conf, &port), -1);
	cr_assert_eq(errno, EINVAL);
	conf = (struct dtcp_dpdk_port_conf){ .nb_rxd = 512, .pool_size = 512 };
	cr_assert_eq(dtcp_dpdk_port_open(id, &conf, &port), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_dpdk_ring_pair_open("a_name_longer_than_16", NULL, pair), -1);
	cr_assert_eq(errno, ENAMETOOLONG);
	cr_assert_eq(dtcp_dpdk_ring_pair_open("", NULL, pair), -1);
	cr_assert_eq(errno, EINVAL);

	/* The failures left nothing behind: the same port opens, once. */
	cr_assert_eq(dtcp_dpdk_port_open(id, NULL, &port), 0, "%s", strerror(errno));
	cr_assert_eq(dtcp_dpdk_port_id(port), id);
	cr_assert_null(dtcp_dpdk_port_netdev(port, 1));
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_dpdk_port_open(id, NULL, &pair[0]), -1);
	cr_assert(errno == EBUSY || errno == EEXIST, "errno %d", errno);
	cr_assert_eq(dtcp_dpdk_port_close(port), 0);
	cr_assert_eq(dtcp_dpdk_port_close(NULL), 0);
	eal_stop();
}

Test(ring_pair, frames_arrive_in_the_same_buffers)
{
	struct dtcp_dpdk_port *ports[2];
	struct dtcp_netdev_info ia, ib;
	void *dev[2];

	eal_start(NULL, NULL);
	pair_open("zc", NULL, ports, dev);
	cr_assert_eq(dtcp_dpdk_port_link_wait(ports[0], 1000), 0);
	cr_assert_eq(dtcp_dpdk_port_link_wait(ports[1], 1000), 0);
	cr_assert_eq(dtcp_dpdk_port_info(ports[0], &ia), 0);
	cr_assert_eq(dtcp_dpdk_port_info(ports[1], &ib), 0);
	cr_assert_eq(ia.mtu, 1500);
	cr_assert_eq(ia.capa, 0, "net_ring has no checksum offloads");
	cr_assert_neq(memcmp(ia.mac, ib.mac, 6), 0, "two stacks on a pair need two MACs");
	cr_assert_eq(ia.mac[0] & 3, 2, "locally administered, unicast");

	for (uint32_t round = 0; round < 4; round++) {
		struct dtcp_pkt *tx[32], *rx[64];
		uint8_t *bufs[32];
		uint16_t offs[32];

		for (uint32_t i = 0; i < 32; i++) {
			uint32_t seed = round * 32 + i;
			uint8_t *hdr;

			tx[i] = pkt_make(dev[0], seed, (uint16_t)(60 + seed * 11));
			/* A header in front, as the layers above prepend theirs:
			 * data_off moves and must reach the mbuf. */
			hdr = pkt_prepend(tx[i], 14);
			cr_assert_not_null(hdr);
			memset(hdr, 0xee, 14);
			bufs[i] = tx[i]->buf;
			offs[i] = tx[i]->data_off;
		}
		cr_assert_eq(ops->tx_burst(dev[0], tx, 32), 32);
		cr_assert_eq(pool_in_use(ports[0]), 32);
		cr_assert_eq(ops->rx_burst(dev[1], rx, 64), 32);
		for (uint32_t i = 0; i < 32; i++) {
			uint32_t seed = round * 32 + i, len = 60 + seed * 11;

			cr_assert_eq(rx[i], tx[i], "the descriptor is the sender's");
			cr_assert_eq(rx[i]->buf, bufs[i], "zero copy");
			cr_assert_eq(rx[i]->data_off, offs[i]);
			cr_assert_eq(rx[i]->nb_segs, 1);
			cr_assert_null(rx[i]->next);
			cr_assert_eq(rx[i]->owner, (void *)((uint8_t *)rx[i] - sizeof(struct rte_mbuf)));
			cr_assert_eq(rx[i]->ol_flags, 0);
			cr_assert_eq(rx[i]->data_len, len + 14);
			for (int b = 0; b < 14; b++)
				cr_assert_eq(dtcp_pkt_data(rx[i])[b], 0xee);
			cr_assert(pkt_adj(rx[i], 14));
			pkt_expect(rx[i], seed, len);
			ops->pkt_free(dev[1], rx[i]);
		}
		cr_assert_eq(ops->rx_burst(dev[1], rx, 64), 0);
	}
	cr_assert_eq(port_stats(ports[0]).tx_pkts, 128);
	cr_assert_eq(port_stats(ports[1]).rx_pkts, 128);
	cr_assert_eq(pool_in_use(ports[0]), 0);
	pool_expect_full("zc");
	cr_assert_eq(dtcp_dpdk_port_close(ports[1]), 0);
	cr_assert_eq(dtcp_dpdk_port_close(ports[0]), 0);
	cr_assert_null(rte_mempool_lookup("dtcp_rp_zc"), "the last close frees the pool");
	eal_stop();
}

Test(ring_pair, both_directions_and_queues)
{
	struct dtcp_dpdk_port_conf conf = { .nb_queues = 2, .nb_rxd = RING_DESC };
	struct dtcp_dpdk_port *ports[2];
	struct dtcp_pkt *p, *rx[8];
	void *a1, *b0, *b1;

	eal_start(NULL, NULL);
	cr_assert_eq(dtcp_dpdk_ring_pair_open("mq", &conf, ports), 0, "%s", strerror(errno));
	a1 = dtcp_dpdk_port_netdev(ports[0], 1);
	b0 = dtcp_dpdk_port_netdev(ports[1], 0);
	b1 = dtcp_dpdk_port_netdev(ports[1], 1);
	cr_assert(a1 && b0 && b1);
	cr_assert_null(dtcp_dpdk_port_netdev(ports[0], 2));

	p = pkt_make(a1, 7, 100);
	cr_assert_eq(ops->tx_burst(a1, &p, 1), 1);
	cr_assert_eq(ops->rx_burst(b0, rx, 8), 0, "queue 1's traffic stays on queue 1");
	cr_assert_eq(ops->rx_burst(b1, rx, 8), 1);
	pkt_expect(rx[0], 7, 100);
	/* Send the same buffer back the other way. */
	cr_assert_eq(ops->tx_burst(b1, rx, 1), 1);
	cr_assert_eq(ops->rx_burst(a1, rx, 8), 1);
	cr_assert_eq(rx[0], p);
	pkt_expect(rx[0], 7, 100);
	ops->pkt_free(a1, rx[0]);
	cr_assert_eq(pool_in_use(ports[1]), 0);
	cr_assert_eq(dtcp_dpdk_port_close(ports[0]), 0);
	cr_assert_eq(dtcp_dpdk_port_close(ports[1]), 0);
	eal_stop();
}

Test(ring_pair, chained_packet_arrives_whole)
{
	struct dtcp_dpdk_port *ports[2];
	struct dtcp_pkt *a, *b, *c, *rx[4];
	uint8_t want[3000], got[3000];
	void *dev[2];

	eal_start(NULL, NULL);
	pair_open("chain", NULL, ports, dev);

	/* Two segments of 1500 and 1200 bytes, one pattern across both. */
	a = pkt_make(dev[0], 1, 1500);
	b = pkt_make(dev[0], 1, 1200);
	for (uint32_t i = 0; i < 2700; i++)
		want[i] = pattern(1, i);
	memcpy(dtcp_pkt_data(b), want + 1500, 1200);
	pkt_chain(a, b);
	cr_assert_eq(a->nb_segs, 2);
	cr_assert_eq(ops->tx_burst(dev[0], &a, 1), 1);
	cr_assert_eq(ops->rx_burst(dev[1], rx, 4), 1);
	cr_assert_eq(rx[0], a);
	cr_assert_eq(rx[0]->nb_segs, 2);
	cr_assert_eq(rx[0]->pkt_len, 2700);
	cr_assert_eq(rx[0]->next, b, "the chain mirrors the mbuf chain");
	cr_assert_eq(rx[0]->next->data_len, 1200);
	cr_assert_null(rx[0]->next->next);
	cr_assert(pkt_read(rx[0], 0, got, 2700));
	cr_assert_eq(memcmp(got, want, 2700), 0);
	ops->pkt_free(dev[1], rx[0]);
	cr_assert_eq(pool_in_use(ports[0]), 0);

	/* Trimmed into the second segment: the third, left empty, is dropped
	 * before the device sees it, and freed. */
	a = pkt_make(dev[0], 2, 1000);
	b = pkt_make(dev[0], 3, 1000);
	c = pkt_make(dev[0], 4, 1000);
	pkt_chain(a, b);
	pkt_chain(a, c);
	pkt_trim_to(a, 1500);
	cr_assert_eq(c->data_len, 0);
	cr_assert_eq(ops->tx_burst(dev[0], &a, 1), 1);
	cr_assert_eq(pool_in_use(ports[0]), 2);
	cr_assert_eq(ops->rx_burst(dev[1], rx, 4), 1);
	cr_assert_eq(rx[0]->nb_segs, 2);
	cr_assert_eq(rx[0]->pkt_len, 1500);
	cr_assert_eq(rx[0]->next->data_len, 500);
	cr_assert_null(rx[0]->next->next);
	ops->pkt_free(dev[1], rx[0]);
	cr_assert_eq(pool_in_use(ports[0]), 0);

	/* A received chain re-chained by the stack: the second segment moved
	 * to a packet of its own, both freed separately. */
	a = pkt_make(dev[0], 5, 100);
	pkt_chain(a, pkt_make(dev[0], 6, 100));
	cr_assert_eq(ops->tx_burst(dev[0], &a, 1), 1);
	cr_assert_eq(ops->rx_burst(dev[1], rx, 4), 1);
	b = rx[0]->next;
	rx[0]->next = NULL;
	rx[0]->nb_segs = 1;
	rx[0]->pkt_len = 100;
	b->pkt_len = 100;
	b->nb_segs = 1;
	cr_assert_eq(ops->tx_burst(dev[1], &b, 1), 1);
	ops->pkt_free(dev[1], rx[0]);
	cr_assert_eq(pool_in_use(ports[0]), 1);
	cr_assert_eq(ops->rx_burst(dev[0], rx, 4), 1);
	cr_assert_eq(rx[0], b);
	pkt_expect(rx[0], 6, 100);
	ops->pkt_free(dev[0], rx[0]);

	pool_expect_full("chain");
	cr_assert_eq(dtcp_dpdk_port_close(ports[0]), 0);
	cr_assert_eq(dtcp_dpdk_port_close(ports[1]), 0);
	eal_stop();
}

Test(ring_pair, full_ring_leaves_the_rest_to_the_caller)
{
	struct dtcp_dpdk_port_conf conf = { .nb_rxd = RING_DESC };
	struct dtcp_dpdk_port *ports[2];
	struct dtcp_pkt *tx[100], *rx[128];
	void *dev[2];

	eal_start(NULL, NULL);
	pair_open("full", &conf, ports, dev);
	for (uint32_t i = 0; i < 100; i++)
		tx[i] = pkt_make(dev[0], i, 64);
	cr_assert_eq(ops->tx_burst(dev[0], tx, 100), RING_DESC);
	cr_assert_eq(port_stats(ports[0]).tx_full, 100 - RING_DESC);
	cr_assert_eq(ops->tx_burst(dev[0], tx + RING_DESC, 100 - RING_DESC), 0, "still full");
	/* The refused packets are intact and still ours. */
	for (uint32_t i = RING_DESC; i < 100; i++) {
		pkt_expect(tx[i], i, 64);
		ops->pkt_free(dev[0], tx[i]);
	}
	cr_assert_eq(pool_in_use(ports[0]), RING_DESC);
	cr_assert_eq(ops->rx_burst(dev[1], rx, 128), RING_DESC);
	for (uint32_t i = 0; i < RING_DESC; i++) {
		cr_assert_eq(rx[i], tx[i], "in order");
		ops->pkt_free(dev[1], rx[i]);
	}
	pool_expect_full("full");
	cr_assert_eq(dtcp_dpdk_port_close(ports[0]), 0);
	cr_assert_eq(dtcp_dpdk_port_close(ports[1]), 0);
	eal_stop();
}

Test(mapping, offload_flags_round_trip)
{
	static const struct {
		uint64_t rte, dtcp;
	} rx_map[] = {
		{ 0, 0 },
		{ RTE_MBUF_F_RX_IP_CKSUM_GOOD, DTCP_PKT_RX_IP_CKSUM_GOOD },
		{ RTE_MBUF_F_RX_IP_CKSUM_BAD, DTCP_PKT_RX_IP_CKSUM_BAD },
		{ RTE_MBUF_F_RX_IP_CKSUM_NONE, DTCP_PKT_RX_IP_CKSUM_GOOD },
		{ RTE_MBUF_F_RX_L4_CKSUM_GOOD, DTCP_PKT_RX_L4_CKSUM_GOOD },
		{ RTE_MBUF_F_RX_L4_CKSUM_BAD, DTCP_PKT_RX_L4_CKSUM_BAD },
		{ RTE_MBUF_F_RX_L4_CKSUM_NONE, DTCP_PKT_RX_L4_CKSUM_GOOD },
		{ RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD,
		  DTCP_PKT_RX_IP_CKSUM_GOOD | DTCP_PKT_RX_L4_CKSUM_BAD },
		{ RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_RSS_HASH | RTE_MBUF_F_TX_TCP_CKSUM, 0 },
	};
	static const struct {
		uint64_t dtcp, rte;
	} tx_map[] = {
		{ DTCP_PKT_TX_IPV4, RTE_MBUF_F_TX_IPV4 },
		{ DTCP_PKT_TX_IPV6, RTE_MBUF_F_TX_IPV6 },
		{ DTCP_PKT_TX_IP_CKSUM, RTE_MBUF_F_TX_IP_CKSUM },
		{ DTCP_PKT_TX_TCP_CKSUM, RTE_MBUF_F_TX_TCP_CKSUM },
		{ DTCP_PKT_TX_TCP_SEG, RTE_MBUF_F_TX_TCP_SEG },
		{ DTCP_PKT_RX_IP_CKSUM_GOOD | DTCP_PKT_RX_L4_CKSUM_BAD, 0 },
	};
	struct dtcp_dpdk_port *ports[2];
	struct dtcp_pkt *p, *rx[16];
	struct rte_mbuf *raw[16], *m;
	struct rte_mempool *mp;
	uint16_t n = sizeof(rx_map) / sizeof(rx_map[0]);
	void *dev[2];

	for (size_t i = 0; i < sizeof(rx_map) / sizeof(rx_map[0]); i++)
		cr_assert_eq(mbuf_pkt_rx_flags(rx_map[i].rte), rx_map[i].dtcp, "rx case %zu", i);
	for (size_t i = 0; i < sizeof(tx_map) / sizeof(tx_map[0]); i++)
		cr_assert_eq(mbuf_pkt_tx_flags(tx_map[i].dtcp), tx_map[i].rte, "tx case %zu", i);

	eal_start(NULL, NULL);
	pair_open("ol", NULL, ports, dev);

	/* Transmit side: what the stack sets reaches the mbuf, lengths too. */
	p = pkt_make(dev[0], 1, 1514);
	m = p->owner;
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD;   /* left over from a receive */
	p->ol_flags = DTCP_PKT_TX_IPV4 | DTCP_PKT_TX_IP_CKSUM | DTCP_PKT_TX_TCP_CKSUM |
		      DTCP_PKT_TX_TCP_SEG | DTCP_PKT_RX_L4_CKSUM_GOOD;
	p->l2_len = 14;
	p->l3_len = 20;
	p->l4_len = 32;
	p->tso_segsz = 1448;
	cr_assert_eq(mbuf_pkt_check(p, MBUF_PKT_TX_OFFLOADS), 0);
	cr_assert_eq(mbuf_pkt_check(p, DTCP_PKT_TX_IP_CKSUM | DTCP_PKT_TX_TCP_CKSUM), -EOPNOTSUPP);
	cr_assert_eq(mbuf_pkt_sync(p), m);
	cr_assert_eq(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
				  RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG);
	cr_assert_eq(m->l2_len, 14);
	cr_assert_eq(m->l3_len, 20);
	cr_assert_eq(m->l4_len, 32);
	cr_assert_eq(m->tso_segsz, 1448);
	cr_assert_eq(m->pkt_len, 1514);
	/* Lengths the mbuf's bit-fields cannot hold, or flags that contradict
	 * each other, are refused rather than truncated. */
	p->l2_len = 128;
	cr_assert_eq(mbuf_pkt_check(p, MBUF_PKT_TX_OFFLOADS), -EINVAL);
	p->l2_len = 14;
	p->ol_flags |= DTCP_PKT_TX_IPV6;
	cr_assert_eq(mbuf_pkt_check(p, MBUF_PKT_TX_OFFLOADS), -EINVAL);

	/* net_ring offers no offloads: a packet asking for one is refused,
	 * counted, and stays the caller's. */
	p->ol_flags = DTCP_PKT_TX_IPV4 | DTCP_PKT_TX_TCP_CKSUM;
	cr_assert_eq(ops->tx_burst(dev[0], &p, 1), 0);
	cr_assert_eq(port_stats(ports[0]).tx_invalid, 1);
	pkt_expect(p, 1, 1514);
	/* Flags that need no offload go through. */
	p->ol_flags = DTCP_PKT_TX_IPV4;
	cr_assert_eq(ops->tx_burst(dev[0], &p, 1), 1);
	cr_assert_eq(ops->rx_burst(dev[1], rx, 16), 1);
	cr_assert_eq(m->ol_flags, RTE_MBUF_F_TX_IPV4);
	cr_assert_eq(rx[0]->ol_flags, 0, "transmit flags are not receive flags");
	ops->pkt_free(dev[1], rx[0]);

	/* Receive side through the real rx path: mbufs carrying the flags a
	 * NIC would set, put straight into the ring behind port 1's rx. */
	mp = rte_mempool_lookup("dtcp_rp_ol");
	cr_assert_not_null(mp);
	cr_assert_eq(rte_pktmbuf_alloc_bulk(mp, raw, n), 0);
	for (uint16_t i = 0; i < n; i++) {
		cr_assert_not_null(rte_pktmbuf_append(raw[i], 60));
		raw[i]->ol_flags = rx_map[i].rte;
	}
	cr_assert_eq(rte_eth_tx_burst(dtcp_dpdk_port_id(ports[0]), 0, raw, n), n);
	cr_assert_eq(ops->rx_burst(dev[1], rx, 16), n);
	for (uint16_t i = 0; i < n; i++) {
		cr_assert_eq(rx[i]->owner, raw[i]);
		cr_assert_eq(rx[i]->ol_flags, rx_map[i].dtcp, "rx path case %u", i);
		cr_assert_eq(rx[i]->pkt_len, 60);
		ops->pkt_free(dev[1], rx[i]);
	}
	pool_expect_full("ol");
	cr_assert_eq(dtcp_dpdk_port_close(ports[0]), 0);
	cr_assert_eq(dtcp_dpdk_port_close(ports[1]), 0);
	eal_stop();
}

Test(netdev, pkt_alloc_headroom_and_exhaustion)
{
	struct dtcp_dpdk_port_conf conf = { .nb_rxd = RING_DESC, .pool_size = 200 };
	struct dtcp_dpdk_port *ports[2];
	struct dtcp_pkt *held[200], *p;
	struct rte_mbuf *m;
	void *dev[2];

	eal_start(NULL, NULL);
	pair_open("alloc", &conf, ports, dev);
	p = ops->pkt_alloc(dev[0]);
	cr_assert_not_null(p);
	m = p->owner;
	cr_assert_eq((void *)p, rte_mbuf_to_priv(m), "the pkt lives in the mbuf's private area");
	cr_assert_geq(m->priv_size, sizeof(struct dtcp_pkt));
	cr_assert_eq(m->priv_size % RTE_MBUF_PRIV_ALIGN, 0);
	cr_assert_eq(p->buf, m->buf_addr);
	cr_assert_eq(p->buf_len, m->buf_len);
	cr_assert_geq(p->data_off, DTCP_PKT_HEADROOM);
	cr_assert_eq(p->data_len, 0);
	cr_assert_eq(p->pkt_len, 0);
	cr_assert_eq(p->nb_segs, 1);
	cr_assert_null(p->next);
	cr_assert_geq(pkt_tailroom(p), 1518, "a full frame fits after the headroom");
	ops->pkt_free(dev[0], p);

	for (int i = 0; i < 200; i++) {
		held[i] = ops->pkt_alloc(dev[i & 1]);
		cr_assert_not_null(held[i], "buffer %d of 200", i);
	}
	cr_assert_null(ops->pkt_alloc(dev[0]));
	cr_assert_eq(port_stats(ports[0]).alloc_fail, 1);
	cr_assert_eq(pool_in_use(ports[1]), 200);
	for (int i = 0; i < 200; i++)
		ops->pkt_free(dev[0], held[i]);
	pool_expect_full("alloc");
	cr_assert_eq(dtcp_dpdk_port_close(ports[0]), 0);
	cr_assert_eq(dtcp_dpdk_port_close(ports[1]), 0);
	eal_stop();
}

Test(netdev, malformed_packets_are_refused)
{
	struct dtcp_dpdk_port *ports[2];
	struct dtcp_pkt fake = { 0 }, *p, *burst[3];
	uint8_t data[64] = { 0 };
	void *dev[2];

	eal_start(NULL, NULL);
	pair_open("bad", NULL, ports, dev);

	/* A buffer that is not an mbuf's (a software link's, say). */
	fake.buf = data;
	fake.buf_len = sizeof(data);
	fake.data_len = fake.pkt_len = 60;
	fake.nb_segs = 1;
	fake.owner = data;
	p = &fake;
	cr_assert_eq(ops->tx_burst(dev[0], &p, 1), 0);
	/* Lengths that do not add up, and an empty packet. */
	p = pkt_make(dev[0], 1, 100);
	p->pkt_len = 101;
	cr_assert_eq(ops->tx_burst(dev[0], &p, 1), 0);
	p->pkt_len = 100;
	p->data_off = (uint16_t)(p->buf_len - 50);
	cr_assert_eq(ops->tx_burst(dev[0], &p, 1), 0);
	p->data_off = RTE_PKTMBUF_HEADROOM;
	burst[0] = pkt_make(dev[0], 2, 100);
	burst[1] = ops->pkt_alloc(dev[0]);
	burst[2] = pkt_make(dev[0], 3, 100);
	cr_assert_eq(ops->tx_burst(dev[0], burst, 3), 1, "stops at the empty packet");
	cr_assert_eq(port_stats(ports[0]).tx_invalid, 4);
	cr_assert_eq(port_stats(ports[0]).tx_pkts, 1);
	ops->pkt_free(dev[0], burst[1]);
	ops->pkt_free(dev[0], burst[2]);
	cr_assert_eq(ops->tx_burst(dev[0], &p, 1), 1, "a fixed packet goes");
	cr_assert_eq(ops->rx_burst(dev[1], burst, 3), 2);
	pkt_expect(burst[0], 2, 100);
	pkt_expect(burst[1], 1, 100);
	ops->pkt_free(dev[1], burst[0]);
	ops->pkt_free(dev[1], burst[1]);
	pool_expect_full("bad");
	cr_assert_eq(dtcp_dpdk_port_close(ports[0]), 0);
	cr_assert_eq(dtcp_dpdk_port_close(ports[1]), 0);
	eal_stop();
}

Test(ring_pair, close_frees_packets_left_in_the_rings)
{
	struct dtcp_dpdk_port_conf conf = { .nb_rxd = 256 };
	struct dtcp_dpdk_port *ports[2];
	struct dtcp_pkt *tx[50];
	struct rte_mempool *mp;
	void *dev[2];

	eal_start(NULL, NULL);
	pair_open("close", &conf, ports, dev);
	mp = rte_mempool_lookup("dtcp_rp_close");
	cr_assert_not_null(mp);
	for (uint32_t i = 0; i < 50; i++)
		tx[i] = pkt_make(dev[0], i, 200);
	cr_assert_eq(ops->tx_burst(dev[0], tx, 50), 50);
	for (uint32_t i = 0; i < 20; i++)
		tx[i] = pkt_make(dev[1], i, 200);
	cr_assert_eq(ops->tx_burst(dev[1], tx, 20), 20);
	cr_assert_eq(rte_mempool_avail_count(mp), mp->size - 70);

	/* Port 0 drains what was sent to it; what it sent waits for port 1. */
	cr_assert_eq(dtcp_dpdk_port_close(ports[0]), 0);
	cr_assert_eq(pool_in_use(ports[1]), 50);
	cr_assert_eq(rte_mempool_avail_count(mp), mp->size - 50);
	/* The pool is freed only if every mbuf came back: close says EBUSY
	 * otherwise. */
	cr_assert_eq(dtcp_dpdk_port_close(ports[1]), 0, "%s", strerror(errno));
	cr_assert_null(rte_mempool_lookup("dtcp_rp_close"));

	/* Same again, but the stack keeps a buffer: the pool must outlive it. */
	pair_open("held", &conf, ports, dev);
	tx[0] = ops->pkt_alloc(dev[0]);
	tx[1] = pkt_make(dev[1], 1, 100);
	cr_assert_eq(ops->tx_burst(dev[1], &tx[1], 1), 1);
	cr_assert_eq(dtcp_dpdk_port_close(ports[1]), 0);
	errno = 0;
	cr_assert_eq(dtcp_dpdk_port_close(ports[0]), -1);
	cr_assert_eq(errno, EBUSY);
	mp = rte_mempool_lookup("dtcp_rp_held");
	cr_assert_not_null(mp, "kept, not freed under the held buffer");
	cr_assert_eq(rte_mempool_in_use_count(mp), 1);
	ops->pkt_free(NULL, tx[0]);
	cr_assert_eq(rte_mempool_in_use_count(mp), 0);
	rte_mempool_free(mp);
	eal_stop();
}

Test(vdev, null_port_opened_by_name)
{
	struct dtcp_dpdk_port_conf conf = { .nb_rxd = 128, .pool_size = 1024 };
	struct dtcp_dpdk_port *port;
	struct dtcp_netdev_info info;
	struct dtcp_pkt *rx[32];
	uint16_t id;
	void *dev;

	eal_start("--vdev=net_null0", NULL);
	cr_assert_eq(dtcp_dpdk_port_lookup("net_null0", &id), 0);
	cr_assert_eq(dtcp_dpdk_port_open(id, &conf, &port), 0, "%s", strerror(errno));
	cr_assert_eq(dtcp_dpdk_port_link_wait(port, 1000), 0);
	cr_assert_eq(dtcp_dpdk_port_info(port, &info), 0);
	cr_assert_eq(info.mtu, 1500);
	dev = dtcp_dpdk_port_netdev(port, 0);
	/* net_null receives an endless stream of 64-byte frames, built in
	 * mbufs from the queue's pool: ours. */
	cr_assert_eq(ops->rx_burst(dev, rx, 32), 32);
	for (int i = 0; i < 32; i++) {
		struct rte_mbuf *m = rx[i]->owner;

		cr_assert_eq((void *)rx[i], rte_mbuf_to_priv(m));
		cr_assert_eq(rx[i]->buf, m->buf_addr);
		cr_assert_eq(rx[i]->pkt_len, 64);
		cr_assert_eq(rx[i]->data_len, 64);
		cr_assert_eq(rx[i]->nb_segs, 1);
	}
	cr_assert_eq(pool_in_use(port), 32);
	/* ... and frees what it sends. */
	cr_assert_eq(ops->tx_burst(dev, rx, 32), 32);
	cr_assert_eq(pool_in_use(port), 0);
	cr_assert_eq(port_stats(port).rx_pkts, 32);
	cr_assert_eq(port_stats(port).tx_pkts, 32);
	cr_assert_eq(dtcp_dpdk_port_close(port), 0);
	eal_stop();
}

Test(vdev, ring_port_loops_back_and_closes_clean)
{
	struct dtcp_dpdk_port_conf conf = { .nb_rxd = 128, .pool_size = 1024 };
	struct dtcp_dpdk_port *port;
	struct dtcp_pkt *tx[32], *rx[64];
	uint16_t id;
	void *dev;

	eal_start("--vdev=net_ring0", NULL);
	cr_assert_eq(dtcp_dpdk_port_lookup("net_ring0", &id), 0);
	cr_assert_eq(dtcp_dpdk_port_open(id, &conf, &port), 0, "%s", strerror(errno));
	dev = dtcp_dpdk_port_netdev(port, 0);
	for (uint32_t i = 0; i < 32; i++)
		tx[i] = pkt_make(dev, i, 300);
	cr_assert_eq(ops->tx_burst(dev, tx, 32), 32);
	cr_assert_eq(ops->rx_burst(dev, rx, 64), 32);
	for (uint32_t i = 0; i < 32; i++) {
		cr_assert_eq(rx[i], tx[i]);
		pkt_expect(rx[i], i, 300);
	}
	/* Send them again and close with all 32 in the ring: close drains it,
	 * or it would report the pool busy. */
	cr_assert_eq(ops->tx_burst(dev, rx, 32), 32);
	cr_assert_eq(pool_in_use(port), 32);
	cr_assert_eq(dtcp_dpdk_port_close(port), 0, "%s", strerror(errno));
	cr_assert_null(rte_mempool_lookup("dtcp_p0"));
	eal_stop();
}

Test(ring_pair, foreign_mbufs_are_dropped_not_wrapped)
{
	struct dtcp_dpdk_port *ports[2];
	struct rte_mbuf *raw[2];
	struct dtcp_pkt *rx[8];
	struct rte_mempool *other;
	void *dev[2];

	eal_start(NULL, NULL);
	pair_open("foreign", NULL, ports, dev);
	/* Another application's pool, with no private area: wrapping its
	 * mbufs would write a dtcp_pkt over their buffers. */
	other = rte_pktmbuf_pool_create("foreign_pool", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					SOCKET_ID_ANY);
	cr_assert_not_null(other);
	cr_assert_eq(rte_pktmbuf_alloc_bulk(other, raw, 2), 0);
	for (int i = 0; i < 2; i++)
		cr_assert_not_null(rte_pktmbuf_append(raw[i], 60));
	cr_assert_eq(rte_eth_tx_burst(dtcp_dpdk_port_id(ports[0]), 0, raw, 2), 2);
	cr_assert_eq(ops->rx_burst(dev[1], rx, 8), 0);
	cr_assert_eq(port_stats(ports[1]).rx_foreign, 2);
	cr_assert_eq(rte_mempool_avail_count(other), 63, "freed back to their own pool");
	rte_mempool_free(other);
	pool_expect_full("foreign");
	cr_assert_eq(dtcp_dpdk_port_close(ports[0]), 0);
	cr_assert_eq(dtcp_dpdk_port_close(ports[1]), 0);
	eal_stop();
}
