/* Packet buffers: the software links' buffer pool, and the operations on a
 * struct dtcp_pkt chain that every layer uses (prepend and strip headers,
 * append data, copy out across segments). Stack thread only. */
#ifndef DTCP_PKT_H
#define DTCP_PKT_H

#include <dtcp/netdev.h>
#include <stdbool.h>
#include <string.h>

#include "pool.h"

#define PKT_BUF_SIZE 2176    /* headroom + a 1500-byte frame, rounded up */

/* A pool of one-segment buffers (struct dtcp_pkt followed by its data). */
struct pkt_pool {
	struct pool pool;
	uint32_t buf_size;
};

void pkt_pool_init(struct pkt_pool *pp, const char *name, uint64_t limit);
void pkt_pool_fini(struct pkt_pool *pp);
/* A fresh buffer with DTCP_PKT_HEADROOM of headroom, or NULL (counted). */
struct dtcp_pkt *pkt_pool_alloc(struct pkt_pool *pp);
/* Free a whole chain. */
void pkt_pool_free(struct pkt_pool *pp, struct dtcp_pkt *p);

static inline uint32_t pkt_headroom(const struct dtcp_pkt *p)
{
	return p->data_off;
}

static inline struct dtcp_pkt *pkt_last(struct dtcp_pkt *p)
{
	while (p->next)
		p = p->next;
	return p;
}

static inline uint32_t pkt_tailroom(const struct dtcp_pkt *seg)
{
	return seg->buf_len - seg->data_off - seg->data_len;
}

/* Room for a header in front of the data: its address, or NULL if the
 * headroom is too small (nothing changed then). */
static inline uint8_t *pkt_prepend(struct dtcp_pkt *p, uint16_t len)
{
	if (len > p->data_off)
		return NULL;
	p->data_off -= len;
	p->data_len += len;
	p->pkt_len += len;
	return dtcp_pkt_data(p);
}

/* Strip len bytes from the front of the first segment; false if it holds fewer. */
static inline bool pkt_adj(struct dtcp_pkt *p, uint16_t len)
{
	if (len > p->data_len)
		return false;
	p->data_off += len;
	p->data_len -= len;
	p->pkt_len -= len;
	return true;
}

/* Room for len more bytes at the end of the last segment, or NULL. */
static inline uint8_t *pkt_append(struct dtcp_pkt *p, uint16_t len)
{
	struct dtcp_pkt *last = pkt_last(p);
	uint8_t *tail;

	if (len > pkt_tailroom(last))
		return NULL;
	tail = dtcp_pkt_data(last) + last->data_len;
	last->data_len += len;
	p->pkt_len += len;
	return tail;
}

/* Cut the packet to len bytes (len <= pkt_len); empty trailing segments stay
 * chained with data_len 0. */
void pkt_trim_to(struct dtcp_pkt *p, uint32_t len);
/* Append segment chain tail to packet head. */
void pkt_chain(struct dtcp_pkt *head, struct dtcp_pkt *tail);
/* Copy len bytes from offset off of the packet into dst; false if the packet
 * is shorter. */
bool pkt_read(const struct dtcp_pkt *p, uint32_t off, void *dst, uint32_t len);

/* A contiguous view of the first len bytes of the first segment, or NULL if
 * they are not all there (callers then drop the packet as malformed). */
static inline const void *pkt_header(const struct dtcp_pkt *p, uint32_t len)
{
	return len <= p->data_len ? dtcp_pkt_data(p) : NULL;
}

#endif
