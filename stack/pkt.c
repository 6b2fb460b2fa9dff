/* Packet buffers (see pkt.h). */
#include "pkt.h"

#include <string.h>

#include "util.h"

#define PKT_HDR_SIZE ((sizeof(struct dtcp_pkt) + 63) & ~(size_t)63)

void pkt_pool_init(struct pkt_pool *pp, const char *name, uint64_t limit)
{
	pp->buf_size = PKT_BUF_SIZE;
	pool_init(&pp->pool, name, (uint32_t)(PKT_HDR_SIZE + PKT_BUF_SIZE), limit);
}

void pkt_pool_fini(struct pkt_pool *pp)
{
	pool_fini(&pp->pool);
}

struct dtcp_pkt *pkt_pool_alloc(struct pkt_pool *pp)
{
	/* The descriptor is cleared, the buffer is not: every byte the stack
	 * sends it writes first. */
	struct dtcp_pkt *p = pool_get_raw(&pp->pool);

	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->buf = (uint8_t *)p + PKT_HDR_SIZE;
	p->buf_len = pp->buf_size;
	p->data_off = DTCP_PKT_HEADROOM;
	p->nb_segs = 1;
	p->owner = pp;
	return p;
}

void pkt_pool_free(struct pkt_pool *pp, struct dtcp_pkt *p)
{
	while (p) {
		struct dtcp_pkt *next = p->next;

		DTCP_ASSERT(p->owner == pp);
		pool_put(&pp->pool, p);
		p = next;
	}
}

void pkt_trim_to(struct dtcp_pkt *p, uint32_t len)
{
	uint32_t left = len;

	DTCP_ASSERT(len <= p->pkt_len);
	p->pkt_len = len;
	for (struct dtcp_pkt *s = p; s; s = s->next) {
		if (s->data_len > left)
			s->data_len = (uint16_t)left;
		left -= s->data_len;
	}
}

void pkt_chain(struct dtcp_pkt *head, struct dtcp_pkt *tail)
{
	pkt_last(head)->next = tail;
	head->pkt_len += tail->pkt_len;
	head->nb_segs = (uint16_t)(head->nb_segs + tail->nb_segs);
}

bool pkt_read(const struct dtcp_pkt *p, uint32_t off, void *dst, uint32_t len)
{
	uint8_t *out = dst;

	if ((uint64_t)off + len > p->pkt_len)
		return false;
	for (const struct dtcp_pkt *s = p; s && len; s = s->next) {
		uint32_t n;

		if (off >= s->data_len) {
			off -= s->data_len;
			continue;
		}
		n = DTCP_MIN(len, (uint32_t)s->data_len - off);
		memcpy(out, dtcp_pkt_data(s) + off, n);
		out += n;
		len -= n;
		off = 0;
	}
	return len == 0;
}
