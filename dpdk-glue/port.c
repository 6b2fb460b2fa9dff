/* DPDK ports as dtcp links (see dtcp/dpdk.h): open (pool, offloads, queues,
 * start), close (drain, stop, release), in-process ring pairs, and the
 * port's info and counters. Control path: one thread at a time, never while
 * another thread polls the port's queues. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dtcp/dpdk.h>
#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "mbuf_pkt.h"
#include "port.h"

#define PORT_DEFAULT_DESC 1024
#define PORT_STACK_MBUFS 2048        /* per queue, for data the stack queues */
#define PORT_RING_PAIR_NAME_MAX 16

/* Devices checksum IPv4 and TCP together or we do not use the offload: the
 * stack asks for both at once. */
#define PORT_RX_CKSUM (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
#define PORT_TX_CKSUM (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM)

/* conf with its zeros replaced by the defaults. */
static void port_conf_fill(const struct dtcp_dpdk_port_conf *in, struct dtcp_dpdk_port_conf *c)
{
	*c = in ? *in : (struct dtcp_dpdk_port_conf){ 0 };
	if (!c->nb_queues)
		c->nb_queues = 1;
	if (!c->nb_rxd)
		c->nb_rxd = PORT_DEFAULT_DESC;
	if (!c->nb_txd)
		c->nb_txd = PORT_DEFAULT_DESC;
	if (!c->mtu)
		c->mtu = RTE_ETHER_MTU;
}

/* Mbufs a pool needs for nb_ports ports opened with c. */
static uint32_t port_pool_default(const struct dtcp_dpdk_port_conf *c, unsigned int nb_ports)
{
	return nb_ports * c->nb_queues * ((uint32_t)c->nb_rxd + c->nb_txd + PORT_STACK_MBUFS);
}

static int port_conf_check(const struct dtcp_dpdk_port_conf *c, unsigned int nb_ports)
{
	if (c->nb_queues > DTCP_DPDK_MAX_QUEUES)
		return -EINVAL;
	/* Devices that fill their rx rings at start take nb_rxd mbufs per queue
	 * for good; a pool no bigger could never hand one to the stack. */
	if (c->pool_size && c->pool_size <= (uint32_t)nb_ports * c->nb_queues * c->nb_rxd)
		return -EINVAL;
	return 0;
}

/* A pool of mbufs whose private area holds a dtcp_pkt and whose data room
 * fits a frame of the MTU after RTE_PKTMBUF_HEADROOM, so rx never needs to
 * scatter. */
static int port_pool_create(const char *name, uint32_t n, uint16_t mtu, int socket,
			    struct rte_mempool **out)
{
	uint32_t frame = (uint32_t)mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 2 * RTE_VLAN_HLEN;
	uint32_t room = RTE_PKTMBUF_HEADROOM + RTE_MAX(frame, (uint32_t)RTE_MBUF_DEFAULT_DATAROOM);
	/* A per-lcore cache at most 1/8 of the pool, so caches on every lcore
	 * cannot hide most of it (DPDK wants cache * 1.5 <= n). */
	unsigned int cache = RTE_MIN(256u, n / 8);
	struct rte_mempool *mp;

	if (room > UINT16_MAX)
		return -EINVAL;
	mp = rte_pktmbuf_pool_create(name, n, cache, MBUF_PKT_PRIV_SIZE, (uint16_t)room, socket);
	if (!mp)
		return port_rte_err(rte_errno);
	*out = mp;
	return 0;
}

static struct port_backing *port_backing_create(void)
{
	struct port_backing *b = calloc(1, sizeof(*b));

	if (b)
		b->refcnt = 1;
	return b;
}

/* Remove the ring devices, drain and free the rings, and free the pool if
 * every mbuf is back: -EBUSY (pool kept) if not, since freeing it would pull
 * memory from under whoever still holds them. */
static int port_backing_free(struct port_backing *b)
{
	int rc = 0;

	/* The devices go first: their queues point at the rings. A device whose
	 * port was already closed is only dropped from the vdev bus. */
	for (uint16_t i = 0; i < b->nb_vdevs; i++)
		rte_vdev_uninit(b->vdevs[i]);
	for (uint16_t i = 0; i < b->nb_rings; i++) {
		void *obj;

		while (rte_ring_dequeue(b->rings[i], &obj) == 0)
			rte_pktmbuf_free(obj);
		rte_ring_free(b->rings[i]);
	}
	if (b->pool) {
		if (rte_mempool_in_use_count(b->pool))
			rc = -EBUSY;
		else
			rte_mempool_free(b->pool);
	}
	free(b);
	return rc;
}

static void port_backing_get(struct port_backing *b)
{
	__atomic_add_fetch(&b->refcnt, 1, __ATOMIC_RELAXED);
}

/* Drop a reference: the two ports of a ring pair may be closed from
 * different threads. */
static int port_backing_put(struct port_backing *b)
{
	if (__atomic_sub_fetch(&b->refcnt, 1, __ATOMIC_ACQ_REL))
		return 0;
	return port_backing_free(b);
}

/* DTCP_NETDEV_* the device offers and conf allows, with the ethdev offload
 * bits that give them. */
static uint64_t port_capa_setup(const struct rte_eth_dev_info *di, uint64_t disable,
				uint64_t *rx_off, uint64_t *tx_off, uint64_t *tx_capa)
{
	uint64_t capa = 0;

	*rx_off = *tx_off = *tx_capa = 0;
	if ((di->rx_offload_capa & PORT_RX_CKSUM) == PORT_RX_CKSUM && !(disable & DTCP_NETDEV_RX_CKSUM)) {
		capa |= DTCP_NETDEV_RX_CKSUM;
		*rx_off |= PORT_RX_CKSUM;
	}
	if ((di->tx_offload_capa & PORT_TX_CKSUM) == PORT_TX_CKSUM && !(disable & DTCP_NETDEV_TX_CKSUM)) {
		capa |= DTCP_NETDEV_TX_CKSUM;
		*tx_off |= PORT_TX_CKSUM;
		*tx_capa |= DTCP_PKT_TX_IP_CKSUM | DTCP_PKT_TX_TCP_CKSUM;
	}
	/* TSO fills the checksums of the segments it cuts, so it needs both. */
	if ((capa & DTCP_NETDEV_TX_CKSUM) && (di->tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) &&
	    !(disable & DTCP_NETDEV_TSO)) {
		capa |= DTCP_NETDEV_TSO;
		*tx_off |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
		*tx_capa |= DTCP_PKT_TX_TCP_SEG;
	}
	/* The stack chains segments; devices that announce it must be told. Those
	 * that do not (net_ring, net_null) pass chains through anyway. */
	if (di->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		*tx_off |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	return capa;
}

/* Configure, set up the queues on b's pool, and start port_id. Takes a
 * reference on b if it succeeds; on failure the device is left configured
 * but stopped. */
static int port_setup(uint16_t port_id, const struct dtcp_dpdk_port_conf *c,
		      struct port_backing *b, struct dtcp_dpdk_port **out)
{
	struct rte_eth_conf ec = { 0 };
	struct rte_eth_dev_info di;
	struct rte_ether_addr mac;
	struct dtcp_dpdk_port *port;
	uint16_t nb_rxd = c->nb_rxd, nb_txd = c->nb_txd, mtu;
	uint64_t capa, rx_off, tx_off, tx_capa;
	int socket, rc;

	/* The stack prepends headers into the headroom without checking a
	 * device's; DPDK's build-time headroom must cover ours. */
	if (RTE_PKTMBUF_HEADROOM < DTCP_PKT_HEADROOM)
		return -ENOTSUP;
	if (!rte_eth_dev_is_valid_port(port_id))
		return -ENODEV;
	rc = rte_eth_dev_info_get(port_id, &di);
	if (rc < 0)
		return rc;
	if (c->nb_queues > di.max_rx_queues || c->nb_queues > di.max_tx_queues)
		return -EINVAL;
	if (c->mtu < di.min_mtu || c->mtu > di.max_mtu)
		return -EINVAL;
	capa = port_capa_setup(&di, c->capa_disable, &rx_off, &tx_off, &tx_capa);
	ec.rxmode.mtu = c->mtu;
	ec.rxmode.offloads = rx_off;
	ec.txmode.offloads = tx_off;
	if (c->nb_queues > 1 && (di.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP))) {
		ec.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		ec.rx_adv_conf.rss_conf.rss_hf = di.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP);
	}
	socket = rte_eth_dev_socket_id(port_id);
	port = rte_zmalloc_socket("dtcp_dpdk_port", sizeof(*port), RTE_CACHE_LINE_SIZE, socket);
	if (!port)
		return -ENOMEM;

	rc = rte_eth_dev_configure(port_id, c->nb_queues, c->nb_queues, &ec);
	if (rc < 0)
		goto free_port;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (rc < 0)
		goto free_port;
	for (uint16_t q = 0; q < c->nb_queues; q++) {
		rc = rte_eth_rx_queue_setup(port_id, q, nb_rxd, (unsigned int)socket, NULL, b->pool);
		if (rc < 0)
			goto free_port;
		rc = rte_eth_tx_queue_setup(port_id, q, nb_txd, (unsigned int)socket, NULL);
		if (rc < 0)
			goto free_port;
	}
	rc = rte_eth_dev_start(port_id);
	if (rc < 0)
		goto free_port;
	rc = rte_eth_macaddr_get(port_id, &mac);
	if (rc == 0)
		rc = rte_eth_dev_get_mtu(port_id, &mtu);
	if (rc < 0)
		goto stop_port;

	if (c->capture_path) {
		rc = capture_open(c->capture_path, port_id, c->capture_snaplen, mtu, c->nb_queues,
				  &port->cap);
		if (rc < 0)
			goto stop_port;
	}

	port->port_id = port_id;
	port->nb_queues = c->nb_queues;
	port->nb_rxd = nb_rxd;
	memcpy(port->info.mac, mac.addr_bytes, sizeof(port->info.mac));
	port->info.mtu = mtu;
	port->info.capa = capa;
	for (uint16_t q = 0; q < c->nb_queues; q++) {
		port->q[q].pool = b->pool;
		port->q[q].tx_capa = tx_capa;
		port->q[q].port_id = port_id;
		port->q[q].qid = q;
		port->q[q].cap = port->cap;
	}
	port->backing = b;
	port_backing_get(b);
	*out = port;
	return 0;

stop_port:
	rte_eth_dev_stop(port_id);
free_port:
	rte_free(port);
	/* ethdev calls give -errno; a few drivers' codes are not errno values. */
	return rc < 0 && rc > -__ELASTERROR ? rc : -EIO;
}

static int port_open(uint16_t port_id, const struct dtcp_dpdk_port_conf *conf,
		     struct dtcp_dpdk_port **out)
{
	struct dtcp_dpdk_port_conf c;
	struct port_backing *b;
	char name[RTE_MEMPOOL_NAMESIZE];
	int rc, rc2;

	if (!out)
		return -EINVAL;
	if (!rte_eth_dev_is_valid_port(port_id))
		return -ENODEV;
	port_conf_fill(conf, &c);
	rc = port_conf_check(&c, 1);
	if (rc < 0)
		return rc;
	b = port_backing_create();
	if (!b)
		return -ENOMEM;
	snprintf(name, sizeof(name), "dtcp_p%u", port_id);
	rc = port_pool_create(name, c.pool_size ? c.pool_size : port_pool_default(&c, 1), c.mtu,
			      rte_eth_dev_socket_id(port_id), &b->pool);
	if (rc == 0)
		rc = port_setup(port_id, &c, b, out);
	/* Drops the reference creation gave; the port holds its own. */
	rc2 = port_backing_put(b);
	return rc < 0 ? rc : rc2;
}

/* Free what the port's rx queues hold, while the port still runs (a stopped
 * port must not be polled). Bounded, since a real link keeps receiving: what
 * arrives after is freed by the queue release in rte_eth_dev_close(). */
static void port_rx_drain(struct dtcp_dpdk_port *port)
{
	struct rte_mbuf *mb[PORT_BURST];

	for (uint16_t q = 0; q < port->nb_queues; q++) {
		for (unsigned int i = 0; i <= port->nb_rxd / PORT_BURST + 1u; i++) {
			uint16_t nb = rte_eth_rx_burst(port->port_id, q, mb, PORT_BURST);

			if (!nb)
				break;
			rte_pktmbuf_free_bulk(mb, nb);
		}
	}
}

static int port_close(struct dtcp_dpdk_port *port)
{
	struct port_backing *b = port->backing;

	port_rx_drain(port);
	/* Errors are of no use here: the port is going whatever they say. */
	rte_eth_dev_stop(port->port_id);
	if (port->cap) {
		struct dtcp_dpdk_port_stats st;

		dtcp_dpdk_port_stats(port, &st);
		capture_close(port->cap, st.rx_pkts + st.tx_pkts, st.capture_fail);
	}
	rte_eth_dev_close(port->port_id);
	rte_free(port);
	return port_backing_put(b);
}

/* Rings and ring devices of a pair, recorded in b so that freeing b removes
 * them. */
static int port_ring_pair_create(const char *name, const struct dtcp_dpdk_port_conf *c,
				 struct port_backing *b, uint16_t ids[2])
{
	struct rte_ring *dir[2][DTCP_DPDK_MAX_QUEUES];   /* dir[s]: sent by side s */
	unsigned int socket = (int)rte_socket_id() < 0 ? 0 : rte_socket_id();
	char rname[RTE_RING_NAMESIZE], dname[RTE_ETH_NAME_MAX_LEN];

	for (int s = 0; s < 2; s++) {
		for (uint16_t q = 0; q < c->nb_queues; q++) {
			snprintf(rname, sizeof(rname), "%s_%s%u", name, s ? "ba" : "ab", q);
			/* One producer and one consumer per ring (the queue's
			 * thread at each end); EXACT_SZ so it holds nb_rxd. */
			dir[s][q] = rte_ring_create(rname, c->nb_rxd, SOCKET_ID_ANY,
						    RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
			if (!dir[s][q])
				return port_rte_err(rte_errno);
			b->rings[b->nb_rings++] = dir[s][q];
		}
	}
	for (int s = 0; s < 2; s++) {
		int id;

		snprintf(dname, sizeof(dname), "%s_%c", name, s ? 'b' : 'a');
		id = rte_eth_from_rings(dname, dir[!s], c->nb_queues, dir[s], c->nb_queues, socket);
		if (id < 0)
			return port_rte_err(rte_errno);
		ids[s] = (uint16_t)id;
		if (rte_eth_dev_get_name_by_port(ids[s], b->vdevs[b->nb_vdevs]) == 0)
			b->nb_vdevs++;
	}
	return 0;
}

/* net_ring ports have an all-zero MAC, so two stacks joined by a pair would
 * share one. Give each a locally administered address (02:64:74 = "dt")
 * made unique in the process by the port id. */
static void port_ring_pair_mac(struct dtcp_dpdk_port *port)
{
	struct rte_ether_addr mac = {
		.addr_bytes = { 0x02, 0x64, 0x74, 0x00, (uint8_t)(port->port_id >> 8),
				(uint8_t)port->port_id },
	};

	if (!rte_is_zero_ether_addr((const struct rte_ether_addr *)port->info.mac))
		return;
	/* The driver may keep it or not (ENOTSUP): the stack is told through
	 * info, and a ring filters no address anyway. */
	rte_eth_dev_default_mac_addr_set(port->port_id, &mac);
	memcpy(port->info.mac, mac.addr_bytes, sizeof(port->info.mac));
}

static int port_ring_pair_open(const char *name, const struct dtcp_dpdk_port_conf *conf,
			       struct dtcp_dpdk_port *ports[2])
{
	struct dtcp_dpdk_port_conf c;
	struct port_backing *b;
	char pname[RTE_MEMPOOL_NAMESIZE];
	uint16_t ids[2];
	int rc, rc2;

	if (!name || !*name || !ports)
		return -EINVAL;
	if (strlen(name) > PORT_RING_PAIR_NAME_MAX)
		return -ENAMETOOLONG;
	port_conf_fill(conf, &c);
	rc = port_conf_check(&c, 2);
	if (rc < 0)
		return rc;
	b = port_backing_create();
	if (!b)
		return -ENOMEM;
	rc = port_ring_pair_create(name, &c, b, ids);
	if (rc < 0)
		goto put;
	snprintf(pname, sizeof(pname), "dtcp_rp_%s", name);
	rc = port_pool_create(pname, c.pool_size ? c.pool_size : port_pool_default(&c, 2), c.mtu,
			      SOCKET_ID_ANY, &b->pool);
	if (rc < 0)
		goto put;
	rc = port_setup(ids[0], &c, b, &ports[0]);
	if (rc < 0)
		goto put;
	/* One capture file per pair: the second port would only see the same
	 * packets the other way round. */
	c.capture_path = NULL;
	rc = port_setup(ids[1], &c, b, &ports[1]);
	if (rc < 0) {
		port_close(ports[0]);
		goto put;
	}
	port_ring_pair_mac(ports[0]);
	port_ring_pair_mac(ports[1]);
put:
	/* On failure this last reference removes whatever was made. */
	rc2 = port_backing_put(b);
	return rc < 0 ? rc : rc2;
}

int dtcp_dpdk_port_lookup(const char *name, uint16_t *port_id)
{
	if (!name || !port_id)
		return port_api_ret(-EINVAL);
	return port_api_ret(rte_eth_dev_get_port_by_name(name, port_id) == 0 ? 0 : -ENODEV);
}

int dtcp_dpdk_port_open(uint16_t port_id, const struct dtcp_dpdk_port_conf *conf,
			struct dtcp_dpdk_port **out)
{
	return port_api_ret(port_open(port_id, conf, out));
}

int dtcp_dpdk_ring_pair_open(const char *name, const struct dtcp_dpdk_port_conf *conf,
			     struct dtcp_dpdk_port *ports[2])
{
	return port_api_ret(port_ring_pair_open(name, conf, ports));
}

int dtcp_dpdk_port_close(struct dtcp_dpdk_port *port)
{
	return port ? port_api_ret(port_close(port)) : 0;
}

void *dtcp_dpdk_port_netdev(struct dtcp_dpdk_port *port, uint16_t queue)
{
	if (!port || queue >= port->nb_queues) {
		errno = EINVAL;
		return NULL;
	}
	return &port->q[queue];
}

int dtcp_dpdk_port_info(const struct dtcp_dpdk_port *port, struct dtcp_netdev_info *info)
{
	if (!port || !info)
		return port_api_ret(-EINVAL);
	*info = port->info;
	return 0;
}

int dtcp_dpdk_port_id(const struct dtcp_dpdk_port *port)
{
	return port_api_ret(port ? port->port_id : -EINVAL);
}

int dtcp_dpdk_port_stats(const struct dtcp_dpdk_port *port, struct dtcp_dpdk_port_stats *st)
{
	const struct rte_mempool *mp;

	if (!port || !st)
		return port_api_ret(-EINVAL);
	memset(st, 0, sizeof(*st));
	for (uint16_t q = 0; q < port->nb_queues; q++) {
		const struct port_queue *pq = &port->q[q];

		st->rx_pkts += pq->rx_pkts;
		st->rx_foreign += pq->rx_foreign;
		st->tx_pkts += pq->tx_pkts;
		st->tx_full += pq->tx_full;
		st->tx_invalid += pq->tx_invalid;
		st->alloc_fail += pq->alloc_fail;
		st->capture_fail += pq->capture_fail;
	}
	mp = port->backing->pool;
	st->pool_size = mp->size;
	st->pool_in_use = rte_mempool_in_use_count(mp);
	return 0;
}

int dtcp_dpdk_port_link_wait(const struct dtcp_dpdk_port *port, unsigned int timeout_ms)
{
	struct timespec now;
	uint64_t deadline_ms;

	if (!port)
		return port_api_ret(-EINVAL);
	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000 + timeout_ms;
	for (;;) {
		struct rte_eth_link link;

		if (rte_eth_link_get_nowait(port->port_id, &link) < 0)
			return port_api_ret(-EIO);
		if (link.link_status == RTE_ETH_LINK_UP)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000 >= deadline_ms)
			return port_api_ret(-ETIMEDOUT);
		rte_delay_us_sleep(1000);
	}
}
