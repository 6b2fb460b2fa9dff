/* Private state of a DPDK port (dtcp/dpdk.h): per-queue fast-path state,
 * the port, and the "backing" (mbuf pool, and for a ring pair its rings and
 * devices) that one or two ports share. Control path on one thread at a time;
 * a queue on the one thread that polls it. */
#ifndef DTCP_DPDK_PORT_H
#define DTCP_DPDK_PORT_H

#include <errno.h>
#include <stdint.h>

#include <dtcp/dpdk.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "capture.h"

/* rx and tx work on bursts of at most this many mbufs at a time. */
#define PORT_BURST 64

/* Owned jointly by the ports opened on it; the last port to close frees it.
 * The pool is shared because a ring pair passes buffers between its ports
 * without copying: one port's pool must outlive the other's use of it. */
struct port_backing {
	unsigned int refcnt;
	struct rte_mempool *pool;
	uint16_t nb_rings;
	struct rte_ring *rings[2 * DTCP_DPDK_MAX_QUEUES];
	uint16_t nb_vdevs;
	char vdevs[2][RTE_ETH_NAME_MAX_LEN];   /* devices to remove with the rings */
};

/* One rx/tx queue pair: the `self` of the netdev ops. A cache line (or more)
 * of its own, since each is written by a different thread. */
struct port_queue {
	struct rte_mempool *pool;
	uint64_t tx_capa;            /* MBUF_PKT_TX_OFFLOADS the device does */
	uint16_t port_id;
	uint16_t qid;
	uint64_t rx_pkts, rx_foreign;
	uint64_t tx_pkts, tx_full, tx_invalid;
	uint64_t alloc_fail;
	struct port_capture *cap;    /* NULL: no capture */
	uint64_t capture_fail;
} __rte_cache_aligned;

struct dtcp_dpdk_port {
	uint16_t port_id;
	uint16_t nb_queues;
	uint16_t nb_rxd;
	struct dtcp_netdev_info info;
	struct port_backing *backing;
	struct port_capture *cap;
	struct port_queue q[DTCP_DPDK_MAX_QUEUES];
};

/* The one place an internal 0/-errno becomes the public -1 and errno. */
static inline int port_api_ret(int rc)
{
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}

/* rte_errno as a negative errno; DPDK's own codes (E_RTE_*, above
 * __ELASTERROR) and a missing reason become -EIO. */
static inline int port_rte_err(int e)
{
	return e > 0 && e < __ELASTERROR ? -e : -EIO;
}

#endif
