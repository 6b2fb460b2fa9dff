/* The DPDK backend: EAL start-up, ethdev ports as dtcp links, and in-process
 * ring pairs for tests and two-stack demos. No DPDK header is needed to use
 * it: ports are opaque. Control calls (everything but the netdev ops) from one
 * thread at a time; each queue's netdev ops from the one thread that polls it.
 * Public calls return -1 (or NULL) and set errno on failure. */
#ifndef DTCP_DPDK_H
#define DTCP_DPDK_H

#include <stdint.h>

#include <dtcp/netdev.h>

struct dtcp_stack;

#ifdef __cplusplus
extern "C" {
#endif

/** Most rx/tx queue pairs a port may be opened with. */
#define DTCP_DPDK_MAX_QUEUES 16

/** An opened ethdev port: its queues, mbuf pool and counters. */
struct dtcp_dpdk_port;

/** How to open a port. All-zero asks for the defaults given per field. */
struct dtcp_dpdk_port_conf {
	uint16_t nb_queues;     /**< rx/tx queue pairs, one per stack instance (0: 1) */
	uint16_t nb_rxd;        /**< rx descriptors per queue; a ring pair's ring size (0: 1024) */
	uint16_t nb_txd;        /**< tx descriptors per queue (0: 1024) */
	uint16_t mtu;           /**< IP MTU (0: 1500) */
	uint32_t pool_size;     /**< mbufs in the port's pool (0: enough for the
	                             descriptors plus 2048 per queue for the stack) */
	uint64_t capa_disable;  /**< DTCP_NETDEV_* offloads not to use even if the
	                             device has them; the stack then does the work */
	const char *capture_path; /**< NULL: no capture. Else a pcapng file (created
	                             or truncated) that gets every packet the port
	                             receives and sends, each a copy stamped with
	                             the time and its direction, after one interface
	                             block per DPDK port; closed, with a statistics
	                             block, by dtcp_dpdk_port_close(). Packets sent
	                             are recorded as the device takes them, so
	                             checksums and segments a device offload fills
	                             in later are not in the file. For a ring pair,
	                             ports[0] captures (one port sees both
	                             directions). Costs a copy per packet. */
	uint32_t capture_snaplen; /**< bytes of each packet kept in the capture (0:
	                             a frame of the MTU, headers included); longer
	                             packets (TSO) keep their original length */
};

/** Counters of a port, summed over its queues. */
struct dtcp_dpdk_port_stats {
	uint64_t rx_pkts;       /**< packets handed to the stack */
	uint64_t rx_foreign;    /**< received mbufs without room for a dtcp_pkt, freed */
	uint64_t tx_pkts;       /**< packets the device took */
	uint64_t tx_full;       /**< packets refused because the tx queue was full */
	uint64_t tx_invalid;    /**< packets refused as malformed or needing an offload
	                             the port lacks */
	uint64_t alloc_fail;    /**< pkt_alloc calls that found the pool empty */
	uint64_t capture_fail;  /**< packets missing from the capture file: no
	                             buffer for the copy, or the write failed
	                             (traffic is not affected) */
	uint32_t pool_size;     /**< mbufs in the pool */
	uint32_t pool_in_use;   /**< mbufs out of the pool: held by the stack, by the
	                             device's descriptors or, for a ring pair, in the rings */
};

/**
 * Start DPDK's EAL. Call once per process, before any other call here.
 * @return the number of arguments EAL consumed, or -1 with errno:
 *   EALREADY (EAL already started, or started and cleaned up: DPDK allows one
 *   start per process), EACCES, EINVAL, ENOMEM, ENODEV, EPROTO, ENOTSUP,
 *   EFAULT, ENOEXEC, as rte_eal_init() reports them; EIO if EAL gives no reason.
 */
int dtcp_dpdk_eal_init(int argc, char **argv);

/**
 * Release EAL's resources; every port must be closed first.
 * @return 0, or -1 with errno EFAULT (not started) or EIO.
 */
int dtcp_dpdk_eal_cleanup(void);

/**
 * The port id of a device by its name (e.g. "net_null0" from --vdev).
 * @return 0, or -1 with errno EINVAL (NULL argument) or ENODEV (no such device).
 */
int dtcp_dpdk_port_lookup(const char *name, uint16_t *port_id);

/**
 * Configure and start an ethdev port with its own mbuf pool, enabling the
 * IPv4/TCP checksum and TSO offloads the device has (minus conf->capa_disable).
 * @param conf NULL for the defaults.
 * @return 0 and *out, or -1 with errno: ENODEV (no such port), EINVAL (bad
 *   conf: queues beyond the device's or DTCP_DPDK_MAX_QUEUES, MTU out of the
 *   device's range, pool smaller than the rx descriptors, capture_snaplen over
 *   about 65,000), ENOTSUP (DPDK built
 *   with less headroom than DTCP_PKT_HEADROOM), EEXIST or EBUSY (the port is
 *   already open, or a pool a failed close kept still has its pool's name),
 *   ENOMEM, ENOSPC, EIO (the driver failed); and open(2)'s errno for the
 *   capture file (EACCES, ENOENT, EISDIR, ...).
 */
int dtcp_dpdk_port_open(uint16_t port_id, const struct dtcp_dpdk_port_conf *conf,
			struct dtcp_dpdk_port **out);

/**
 * Create two connected in-process ports ("<name>_a", "<name>_b" over
 * rte_eth_from_rings(), one ring per direction and queue, conf->nb_rxd
 * packets each) and open both with one shared mbuf pool: what port 0 sends,
 * port 1 receives, in the same buffers. net_ring has no MAC of its own, so
 * each port reports a distinct locally administered one (02:64:74:00:<port
 * id>). Close both with dtcp_dpdk_port_close();
 * the rings and the pool go when the second is closed.
 * @param name at most 16 characters, unique among live ring pairs.
 * @return 0 and ports[0], ports[1], or -1 with errno: EINVAL, ENAMETOOLONG,
 *   EEXIST (name in use), ENOMEM, ENOSPC, EIO, as dtcp_dpdk_port_open().
 */
int dtcp_dpdk_ring_pair_open(const char *name, const struct dtcp_dpdk_port_conf *conf,
			     struct dtcp_dpdk_port *ports[2]);

/**
 * Stop and close a port, once no thread polls it any more: drains its rx
 * queues, stops it, closes (and so releases) the ethdev, whose queue release
 * frees the mbufs the driver held, and frees the pool. A ring pair's rings are
 * drained and freed with the second port of the pair. NULL is a no-op.
 * @return 0, or -1 with errno EBUSY: the port is closed, but mbufs of its pool
 *   are still held (by the stack, or another port's queue), so the pool was
 *   kept rather than freed under them.
 */
int dtcp_dpdk_port_close(struct dtcp_dpdk_port *port);

/** The DPDK backend's link operations. */
const struct dtcp_netdev_ops *dtcp_dpdk_netdev_ops(void);

/**
 * The `self` argument of dtcp_dpdk_netdev_ops() for one queue of a port.
 * @return the queue's state, or NULL with errno EINVAL (no such queue).
 */
void *dtcp_dpdk_port_netdev(struct dtcp_dpdk_port *port, uint16_t queue);

/**
 * What the port offers a stack: MAC, MTU, DTCP_NETDEV_* capabilities.
 * @return 0, or -1 with errno EINVAL (NULL argument).
 */
int dtcp_dpdk_port_info(const struct dtcp_dpdk_port *port, struct dtcp_netdev_info *info);

/**
 * The DPDK port id behind a port.
 * @return the id, or -1 with errno EINVAL (NULL port).
 */
int dtcp_dpdk_port_id(const struct dtcp_dpdk_port *port);

/**
 * The port's counters. Exact once the polling threads are quiet.
 * @return 0, or -1 with errno EINVAL (NULL argument).
 */
int dtcp_dpdk_port_stats(const struct dtcp_dpdk_port *port, struct dtcp_dpdk_port_stats *st);

/**
 * Wait until the port's link is up, polling every millisecond. Some devices
 * (memif, tap) come up a moment after the port starts.
 * @return 0 once up, or -1 with errno ETIMEDOUT, or EIO (link state unknown).
 */
int dtcp_dpdk_port_link_wait(const struct dtcp_dpdk_port *port, unsigned int timeout_ms);

/** Rows of one /dtcp/ss reply at most (fewer when long rows would overflow
 *  DPDK 22.11's 16 KiB reply: the reply then says truncated). */
#define DTCP_TELEMETRY_SS_ROWS 200
/** How long a telemetry command waits for the stack's poll loop. */
#define DTCP_TELEMETRY_TIMEOUT_MS 1000

/**
 * Serve the stack's statistics to other processes through DPDK telemetry
 * (the socket /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2, which EAL
 * opens unless started with --no-telemetry; --no-shconf keeps it):
 *   /dtcp/counters   dict: nstat name -> value (dtcp_stack_counters())
 *   /dtcp/pools      dict: pool name -> {in_use, high_water, failures, limit, obj_size}
 *   /dtcp/ss,[@OFFSET ]EXPR   dict: matched, offset, truncated (0/1), rows:
 *                    "STATE RECV-Q SEND-Q LOCAL PEER" strings, at most
 *                    DTCP_TELEMETRY_SS_ROWS from match OFFSET on; EXPR as
 *                    dtcp_sock_filter_parse() (a bad one: {"error": reason})
 * Commands are answered by the stack's own thread, from a poll hook
 * (dtcp_stack_poll_hook()) that the stack runs at the end of each
 * dtcp_stack_poll(): the telemetry thread posts the request and waits up to
 * DTCP_TELEMETRY_TIMEOUT_MS, then replies {"error": "timed out ..."}. One
 * stack per process; call from the thread that polls it, after EAL started.
 * @return 0, or -1 with errno EINVAL (NULL), EBUSY (another stack is
 *   registered, or the stack has another poll hook), ENOSPC (DPDK refused
 *   the commands).
 */
int dtcp_dpdk_telemetry_register(struct dtcp_stack *st);

/**
 * Stop serving the stack (before freeing it), from its polling thread.
 * A request waiting gets an error reply.
 * @return 0, or -1 with errno EINVAL (not the registered stack).
 */
int dtcp_dpdk_telemetry_unregister(struct dtcp_stack *st);

#ifdef __cplusplus
}
#endif
#endif
