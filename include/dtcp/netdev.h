/* The one header a backend needs: packet buffers and the link operations
 * that a software link or a DPDK port implements. A buffer's layout is one a
 * DPDK mbuf can carry without a copy (headroom before the data, chained
 * segments, offload flags and header lengths).
 * Backends are called on their stack's thread only. */
#ifndef DTCP_NETDEV_H
#define DTCP_NETDEV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dtcp_stack;

/** Room kept before the data of a fresh buffer for headers to be prepended. */
#define DTCP_PKT_HEADROOM 128

/* ol_flags: receive side, set by the backend. */
#define DTCP_PKT_RX_IP_CKSUM_GOOD  (UINT64_C(1) << 0)
#define DTCP_PKT_RX_IP_CKSUM_BAD   (UINT64_C(1) << 1)
#define DTCP_PKT_RX_L4_CKSUM_GOOD  (UINT64_C(1) << 2)
#define DTCP_PKT_RX_L4_CKSUM_BAD   (UINT64_C(1) << 3)
#define DTCP_PKT_RX_FLOW_HASH      (UINT64_C(1) << 4)   /**< the stack's: flow_hash is set */
#define DTCP_PKT_LOCAL_ROUTE       (UINT64_C(1) << 5)   /**< the stack's: IPv4 routed to its own loopback */
/* ol_flags: transmit side, set by the stack when the device has the capability. */
#define DTCP_PKT_TX_IPV4           (UINT64_C(1) << 8)
#define DTCP_PKT_TX_IPV6           (UINT64_C(1) << 9)
#define DTCP_PKT_TX_IP_CKSUM       (UINT64_C(1) << 10)
#define DTCP_PKT_TX_TCP_CKSUM      (UINT64_C(1) << 11)
#define DTCP_PKT_TX_TCP_SEG        (UINT64_C(1) << 12)

/* Device capabilities (dtcp_netdev_info.capa). */
#define DTCP_NETDEV_RX_CKSUM   (UINT64_C(1) << 0)  /**< verifies IPv4/TCP checksums on receive */
#define DTCP_NETDEV_TX_CKSUM   (UINT64_C(1) << 1)  /**< fills IPv4/TCP checksums on transmit */
#define DTCP_NETDEV_TSO        (UINT64_C(1) << 2)  /**< segments large TCP sends */
#define DTCP_NETDEV_RAW_IP     (UINT64_C(1) << 3)  /**< no link layer: the link carries IP packets as they are */

/** One segment of a packet; the first segment carries the packet's totals. */
struct dtcp_pkt {
	uint8_t *buf;             /**< start of the buffer */
	struct dtcp_pkt *next;    /**< next segment of this packet, or NULL */
	void *owner;              /**< the backend's handle (e.g. its mbuf) */
	uint64_t ol_flags;        /**< DTCP_PKT_* */
	uint32_t buf_len;         /**< size of the buffer */
	uint32_t pkt_len;         /**< bytes in the whole chain (first segment only) */
	uint16_t data_off;        /**< where the data starts in buf */
	uint16_t data_len;        /**< bytes of data in this segment */
	uint16_t nb_segs;         /**< segments in the chain (first segment only) */
	uint16_t l2_len, l3_len, l4_len; /**< header lengths, for offloads */
	uint16_t tso_segsz;       /**< MSS for DTCP_PKT_TX_TCP_SEG */
	uint16_t ifindex;         /**< set by the stack: the interface whose link owns the buffer */
	uint64_t flow_hash;       /**< the stack's own, on receive (with DTCP_PKT_RX_FLOW_HASH): its
	                               connection table's hash of the segment's 4-tuple */
};

static inline uint8_t *dtcp_pkt_data(const struct dtcp_pkt *p)
{
	return p->buf + p->data_off;
}

/** What a link offers, given once when it is attached. */
struct dtcp_netdev_info {
	uint8_t mac[6];
	uint16_t mtu;
	uint64_t capa;            /**< DTCP_NETDEV_* */
};

/**
 * Link operations. Every operation gets the backend's own state first.
 * rx_burst fills up to n packets and returns how many; tx_burst takes up to
 * n packets, returns how many it took (their ownership passes to the
 * backend), the rest stay the caller's. pkt_alloc returns a one-segment
 * buffer with DTCP_PKT_HEADROOM of headroom and no data, or NULL.
 */
struct dtcp_netdev_ops {
	int (*rx_burst)(void *self, struct dtcp_pkt **pkts, int n);
	int (*tx_burst)(void *self, struct dtcp_pkt **pkts, int n);
	struct dtcp_pkt *(*pkt_alloc)(void *self);
	void (*pkt_free)(void *self, struct dtcp_pkt *pkt);   /**< frees the whole chain */
};

/**
 * Attach a link to a new interface named ifname; info gives its MAC, MTU and
 * capabilities. The link's backend state (self) must outlive the stack, or
 * at least its use by the stack.
 * @return the interface index, or -1 with errno EINVAL, EEXIST or ENOSPC.
 */
int dtcp_netdev_attach(struct dtcp_stack *st, const char *ifname, const struct dtcp_netdev_ops *ops,
                       void *self, const struct dtcp_netdev_info *info);

#ifdef __cplusplus
}
#endif
#endif
