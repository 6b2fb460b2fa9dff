/* Zero-copy mapping between a DPDK mbuf chain and a struct dtcp_pkt chain:
 * each segment's dtcp_pkt lives in its mbuf's private area. Header only (the
 * fast path of every rx and tx burst); no state. Called on the thread that
 * owns the packet.
 *
 * Invariants (checked where a packet crosses the boundary):
 *  - A segment's dtcp_pkt is at rte_mbuf_to_priv(m), so the mbuf is found
 *    from the pkt by pointer arithmetic and p->owner == m. A pkt whose owner
 *    is anything else did not come from DPDK and is refused at tx.
 *  - Only mbufs whose priv_size holds a dtcp_pkt are wrapped: writing the
 *    private area of an mbuf from a foreign pool would overwrite its data.
 *  - p->buf == m->buf_addr and p->buf_len == m->buf_len for the mbuf's life;
 *    the stack never moves a buffer, it moves data_off.
 *  - From rx (or pkt_alloc) until tx (or pkt_free) the dtcp_pkt fields are the
 *    truth: the stack prepends, strips, appends, trims and (re)chains through
 *    them, and the mbuf's data_off/data_len/pkt_len/nb_segs/next/ol_flags are
 *    stale. mbuf_pkt_sync() writes them back before a packet goes to DPDK.
 */
#ifndef DTCP_DPDK_MBUF_PKT_H
#define DTCP_DPDK_MBUF_PKT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <dtcp/netdev.h>
#include <rte_mbuf.h>

/* Private area of every mbuf the glue creates: a dtcp_pkt, rounded to a cache
 * line so the data buffer after it stays cache-aligned (DPDK itself only asks
 * for RTE_MBUF_PRIV_ALIGN). */
#define MBUF_PKT_PRIV_SIZE RTE_ALIGN_CEIL(sizeof(struct dtcp_pkt), RTE_CACHE_LINE_SIZE)

_Static_assert(MBUF_PKT_PRIV_SIZE % RTE_MBUF_PRIV_ALIGN == 0,
	       "mempool private size must be a multiple of RTE_MBUF_PRIV_ALIGN");
_Static_assert(MBUF_PKT_PRIV_SIZE <= UINT16_MAX, "mbuf priv_size is 16 bits");

/* Transmit flags that ask the device to do work, and so need a capability. */
#define MBUF_PKT_TX_OFFLOADS (DTCP_PKT_TX_IP_CKSUM | DTCP_PKT_TX_TCP_CKSUM | DTCP_PKT_TX_TCP_SEG)
#define MBUF_PKT_TX_ALL (DTCP_PKT_TX_IPV4 | DTCP_PKT_TX_IPV6 | MBUF_PKT_TX_OFFLOADS)

/* mbuf flags that say how the buffer is to be freed: they survive a tx sync,
 * which otherwise rewrites ol_flags from the dtcp_pkt. */
#define MBUF_PKT_KEEP_FLAGS (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)

static inline struct dtcp_pkt *mbuf_pkt_of(struct rte_mbuf *m)
{
	return (struct dtcp_pkt *)rte_mbuf_to_priv(m);
}

/* The mbuf a dtcp_pkt sits in (whether or not it really is one: see
 * mbuf_pkt_is_ours()). */
static inline struct rte_mbuf *mbuf_of_pkt(const struct dtcp_pkt *p)
{
	return (struct rte_mbuf *)(uintptr_t)((const uint8_t *)p - sizeof(struct rte_mbuf));
}

/* True if p sits in the private area of the mbuf it names as owner. */
static inline bool mbuf_pkt_is_ours(const struct dtcp_pkt *p)
{
	return p->owner == (void *)mbuf_of_pkt(p);
}

/* RTE_MBUF_F_RX_* -> DTCP_PKT_RX_*. "NONE" means the checksum field is not
 * valid but the device verified the data's integrity (virtio does this), so
 * it counts as good, as Linux treats CHECKSUM_UNNECESSARY. */
static inline uint64_t mbuf_pkt_rx_flags(uint64_t ol)
{
	uint64_t f = 0;

	switch (ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
	case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
	case RTE_MBUF_F_RX_IP_CKSUM_NONE:
		f |= DTCP_PKT_RX_IP_CKSUM_GOOD;
		break;
	case RTE_MBUF_F_RX_IP_CKSUM_BAD:
		f |= DTCP_PKT_RX_IP_CKSUM_BAD;
		break;
	default:
		break;
	}
	switch (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
	case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
	case RTE_MBUF_F_RX_L4_CKSUM_NONE:
		f |= DTCP_PKT_RX_L4_CKSUM_GOOD;
		break;
	case RTE_MBUF_F_RX_L4_CKSUM_BAD:
		f |= DTCP_PKT_RX_L4_CKSUM_BAD;
		break;
	default:
		break;
	}
	return f;
}

/* DTCP_PKT_TX_* -> RTE_MBUF_F_TX_*; receive-side bits are dropped (a
 * forwarded packet may still carry them). */
static inline uint64_t mbuf_pkt_tx_flags(uint64_t f)
{
	uint64_t ol = 0;

	if (f & DTCP_PKT_TX_IPV4)
		ol |= RTE_MBUF_F_TX_IPV4;
	if (f & DTCP_PKT_TX_IPV6)
		ol |= RTE_MBUF_F_TX_IPV6;
	if (f & DTCP_PKT_TX_IP_CKSUM)
		ol |= RTE_MBUF_F_TX_IP_CKSUM;
	if (f & DTCP_PKT_TX_TCP_CKSUM)
		ol |= RTE_MBUF_F_TX_TCP_CKSUM;
	if (f & DTCP_PKT_TX_TCP_SEG)
		ol |= RTE_MBUF_F_TX_TCP_SEG;
	return ol;
}

/* Describe one segment as a dtcp_pkt (no totals, no flags). */
static inline struct dtcp_pkt *mbuf_pkt_wrap_seg(struct rte_mbuf *m)
{
	struct dtcp_pkt *p = mbuf_pkt_of(m);

	p->buf = (uint8_t *)m->buf_addr;
	p->next = NULL;
	p->owner = m;
	p->ol_flags = 0;
	p->buf_len = m->buf_len;
	p->pkt_len = 0;
	p->data_off = m->data_off;
	p->data_len = m->data_len;
	p->nb_segs = 0;
	p->l2_len = p->l3_len = p->l4_len = 0;
	p->tso_segsz = 0;
	p->ifindex = 0;           /* the stack sets it when it takes the packet */
	return p;
}

/* Wrap a received mbuf chain as a dtcp_pkt chain mirroring it, or return
 * NULL (nothing written) if a segment's private area cannot hold a dtcp_pkt,
 * i.e. it came from a pool the glue did not create. */
static inline struct dtcp_pkt *mbuf_pkt_wrap(struct rte_mbuf *head)
{
	struct dtcp_pkt *p, *prev = NULL;

	for (struct rte_mbuf *m = head; m; m = m->next)
		if (m->priv_size < sizeof(struct dtcp_pkt))
			return NULL;
	for (struct rte_mbuf *m = head; m; m = m->next) {
		p = mbuf_pkt_wrap_seg(m);
		if (prev)
			prev->next = p;
		prev = p;
	}
	p = mbuf_pkt_of(head);
	p->pkt_len = head->pkt_len;
	p->nb_segs = head->nb_segs;
	p->ol_flags = mbuf_pkt_rx_flags(head->ol_flags);
	return p;
}

/* Check that a packet may be handed to a device whose enabled transmit
 * offloads are tx_capa (a set of MBUF_PKT_TX_OFFLOADS bits): 0, -EINVAL for
 * a buffer that is not an mbuf, an empty packet or lengths that do
 * not add up, -EOPNOTSUPP
 * for an offload the device does not do. Changes nothing. */
static inline int mbuf_pkt_check(const struct dtcp_pkt *p, uint64_t tx_capa)
{
	uint64_t want = p->ol_flags & MBUF_PKT_TX_OFFLOADS;
	uint32_t sum = 0;

	if (!p->pkt_len)
		return -EINVAL;
	if (want & ~tx_capa)
		return -EOPNOTSUPP;
	if (want) {
		/* What rte_validate_tx_offload() asks of the flags and lengths;
		 * checked here because the mbuf bit-fields would truncate. */
		bool v4 = p->ol_flags & DTCP_PKT_TX_IPV4, v6 = p->ol_flags & DTCP_PKT_TX_IPV6;

		if (v4 == v6 || ((want & DTCP_PKT_TX_IP_CKSUM) && !v4))
			return -EINVAL;
		if (!p->l2_len || p->l2_len >= (1u << RTE_MBUF_L2_LEN_BITS) ||
		    !p->l3_len || p->l3_len >= (1u << RTE_MBUF_L3_LEN_BITS) ||
		    p->l4_len >= (1u << RTE_MBUF_L4_LEN_BITS))
			return -EINVAL;
		if ((want & DTCP_PKT_TX_TCP_SEG) && (!p->l4_len || !p->tso_segsz))
			return -EINVAL;
	}
	for (const struct dtcp_pkt *s = p; s; s = s->next) {
		if (!mbuf_pkt_is_ours(s) || s->buf != mbuf_of_pkt(s)->buf_addr)
			return -EINVAL;
		if ((uint32_t)s->data_off + s->data_len > s->buf_len)
			return -EINVAL;
		sum += s->data_len;
	}
	return sum == p->pkt_len ? 0 : -EINVAL;
}

/* Write a checked packet's dtcp_pkt fields into its mbufs, so DPDK sees what
 * the stack built, and return the head mbuf. Segments left empty after the
 * first (pkt_trim_to() leaves them) are unlinked and freed: some devices
 * reject zero-length descriptors, and dropping them changes no byte of the
 * packet, so the caller still owns a valid packet if the device refuses it. */
static inline struct rte_mbuf *mbuf_pkt_sync(struct dtcp_pkt *p)
{
	struct rte_mbuf *head = mbuf_of_pkt(p);
	struct dtcp_pkt *prev = p;
	uint16_t nb = 1;

	head->data_off = p->data_off;
	head->data_len = p->data_len;
	while (prev->next) {
		struct dtcp_pkt *s = prev->next;
		struct rte_mbuf *m = mbuf_of_pkt(s);

		if (!s->data_len) {
			prev->next = s->next;
			m->next = NULL;
			rte_pktmbuf_free_seg(m);
			continue;
		}
		m->data_off = s->data_off;
		m->data_len = s->data_len;
		mbuf_of_pkt(prev)->next = m;
		prev = s;
		nb++;
	}
	mbuf_of_pkt(prev)->next = NULL;
	p->nb_segs = nb;
	head->nb_segs = nb;
	head->pkt_len = p->pkt_len;
	head->ol_flags = (head->ol_flags & MBUF_PKT_KEEP_FLAGS) | mbuf_pkt_tx_flags(p->ol_flags);
	head->tx_offload = 0;
	if (p->ol_flags & MBUF_PKT_TX_OFFLOADS) {
		head->l2_len = p->l2_len;
		head->l3_len = p->l3_len;
		head->l4_len = p->l4_len;
		head->tso_segsz = p->tso_segsz;
	}
	return head;
}

#endif
