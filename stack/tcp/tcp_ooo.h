/* The receive side's out-of-order queue: segments held beyond rcv_nxt as
 * sorted, disjoint ranges that own their packet buffers, handed back in order
 * once the hole at rcv_nxt fills, and the SACK / D-SACK blocks the next ACK
 * carries (RFC 2018 4, RFC 2883 4). One queue per connection; called on its
 * stack's thread only. */
#ifndef DTCP_TCP_OOO_H
#define DTCP_TCP_OOO_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"
#include "pool.h"

/* RFC 2018 3: at most 4 SACK blocks fit in the option space. */
#define TCP_OOO_SACK_MAX 4

/* A queue's segment limit: every range's buffers form one chain whose first
 * segment counts them in the 16-bit nb_segs, so no queue may hold more. */
#define TCP_OOO_MAX_SEGS UINT16_MAX

/* tcp_ooo_insert() result bits. */
#define TCP_OOO_NEW     (1u << 0)  /* at least one byte not held before was queued */
#define TCP_OOO_FILLED  (1u << 1)  /* data is queued at rcv_nxt: call tcp_ooo_pull() */
#define TCP_OOO_DUP     (1u << 2)  /* some bytes had been received already (a D-SACK is pending) */
#define TCP_OOO_OUTSIDE (1u << 3)  /* some bytes lay at or beyond the window's right edge */

/* One SACK block (RFC 2018 3), host byte order: the left edge and the
 * sequence number just after the block's last byte. Same layout as
 * struct tcp_sack_block of tcp/tcp_opts.h, so output can copy it as is. */
struct tcp_ooo_block {
	uint32_t start;
	uint32_t end;
};

/* What every queue of one stack shares: where range nodes come from, how
 * packet buffers are freed, and the secret that seeds the tree's priorities
 * (a peer that cannot predict them cannot unbalance the tree). */
struct tcp_ooo_ctx {
	struct pool *ranges;                       /* tcp_ooo_range_pool_init() */
	void (*pkt_free)(void *self, struct dtcp_pkt *p); /* frees a whole chain */
	void *pkt_self;
	uint64_t seed;
};

/* One range of contiguous queued bytes [start, end). Its packets form one
 * chain: head->pkt_len == end - start, head->nb_segs counts the buffers,
 * tail is the last buffer (so appending is O(1)). Linked twice: a treap
 * keyed by start (search) and a list in sequence order (neighbours). */
struct tcp_ooo_range {
	struct tcp_ooo_range *left, *right, *parent;
	struct tcp_ooo_range *prev, *next;
	struct dtcp_pkt *head, *tail;
	uint32_t start, end;
	uint32_t prio;
};

/*
 * Overlap rule: bytes already queued stay; a new segment is cut at both
 * ends to the part that queued neighbours do not hold, and queued ranges
 * that lie wholly inside it are freed and replaced by it. Whatever the
 * arrival order, the new data then always fills one contiguous gap, so no
 * segment is ever split in two; and the bytes delivered are the sender's
 * bytes exactly once (TCP retransmits identical content, RFC 9293 3.4).
 *
 * Memory rule: a segment whose queuing would take the queue above max_bytes
 * payload bytes or max_segs packet buffers is dropped whole and counted in
 * drops (drop-newest). Queued ranges are never pruned, so data once reported
 * in a SACK block stays (no reneging, RFC 2018 8). A segment that starts at
 * rcv_nxt is exempt (up to TCP_OOO_MAX_SEGS): the caller pulls it at once,
 * together with the range it joins, so it frees memory rather than holding it.
 */
struct tcp_ooo {
	const struct tcp_ooo_ctx *ctx;
	struct tcp_ooo_range *root;                /* treap root */
	struct tcp_ooo_range *first, *last;        /* lowest and highest range */
	uint32_t bytes;                            /* queued payload bytes */
	uint32_t segs;                             /* queued packet buffers */
	uint32_t ranges;                           /* queued ranges */
	uint32_t max_bytes;
	uint16_t max_segs;
	uint8_t nr_sack;                           /* valid entries of sack[] */
	bool dsack_pending;
	bool fin;                                  /* a FIN came past a hole, at fin_seq */
	uint32_t fin_seq;                          /* the FIN's sequence number */
	/* Ranges in the order the segments they hold last arrived, most recent
	 * first: what RFC 2018 4 repeats in later ACKs. */
	struct tcp_ooo_block sack[TCP_OOO_SACK_MAX];
	struct tcp_ooo_block dsack;                /* valid when dsack_pending */
	uint32_t nonce;                            /* numbers the nodes' priorities */
	uint32_t drops;                            /* segments dropped at the limits */
	uint32_t nomem;                            /* ... of those, for want of a range node */
};

/* Per-connection state stays small (DESIGN: 512 bytes a connection in all). */
_Static_assert(sizeof(struct tcp_ooo) <= 128, "tcp_ooo stays within 128 bytes");

/** Set up the stack-wide pool of range nodes: at most limit ranges in all. */
void tcp_ooo_range_pool_init(struct pool *p, uint64_t limit);

/**
 * Make q an empty queue.
 *
 * @param ctx        shared by the stack's queues; outlives q
 * @param max_bytes  most payload bytes held out of order
 * @param max_segs   most packet buffers held, <= TCP_OOO_MAX_SEGS
 * @return 0, or -EINVAL for a NULL ctx or pool, no pkt_free, or max_segs too
 *         large (q is then left untouched).
 */
int tcp_ooo_init(struct tcp_ooo *q, const struct tcp_ooo_ctx *ctx,
                 uint32_t max_bytes, uint32_t max_segs);

/**
 * Free every queued buffer and range and forget the SACK state; q stays
 * usable. O(ranges + buffers). Counters are kept.
 */
void tcp_ooo_purge(struct tcp_ooo *q);

/**
 * Queue the payload of a received segment.
 *
 * The queue takes p in every case: it keeps the bytes it queues and frees
 * the rest. p's data starts at sequence number seq (headers stripped); only
 * its first len bytes are payload (link padding may follow). Bytes below
 * rcv_nxt, at or beyond rcv_nxt + rcv_wnd, or already queued are cut off
 * (RFC 9293 3.10.7.4: only the new part of a segment is processed, and data
 * beyond the window is not accepted). FIN is not data: the caller tracks it.
 *
 * Cost, besides O(buffers of p): O(1) expected when the segment lands at or
 * after the highest range's start (the sender sending on past a loss), or
 * before the second range's start (retransmissions filling the first hole,
 * in-order data), or the queue is empty; otherwise one O(log n) expected
 * treap search (n = ranges, at most max_segs). Plus O(1) per queued range
 * the segment replaces, each of which it frees.
 *
 * A D-SACK for the lowest duplicate part of this segment, if any, is kept
 * for the next tcp_ooo_sack_blocks() (RFC 2883 4: only the most recent
 * packet's duplicate is reported, so each insert forgets the previous one).
 *
 * @param rcv_wnd  the window offered, < 2^31 (RFC 7323 2.3 keeps it <= 2^30)
 * @return TCP_OOO_* bits (0 is impossible for valid input: a segment with no
 *         new byte is DUP or OUTSIDE; without NEW the caller should send a
 *         duplicate ACK, RFC 9293 3.10.7.4 and RFC 5681 4.2), or
 *         -EINVAL  p is NULL, len is 0, len exceeds the packet's data, or
 *                  rcv_wnd >= 2^31;
 *         -ENOBUFS the queue is at its byte or segment limit, or no range
 *                  node was left: the segment is dropped and counted.
 */
int tcp_ooo_insert(struct tcp_ooo *q, uint32_t rcv_nxt, uint32_t rcv_wnd,
                   uint32_t seq, struct dtcp_pkt *p, uint32_t len);

/**
 * Hand over the data queued at *rcv_nxt, if any, and advance *rcv_nxt past it.
 *
 * *out gets one chain holding every byte from the old to the new rcv_nxt in
 * order (its first segment carries pkt_len and nb_segs), or NULL. Ranges
 * wholly below *rcv_nxt (the caller moved it past them) are freed, and a
 * range straddling it is cut. O(1) per range handed over.
 *
 * @return the bytes handed over (the amount *rcv_nxt advanced).
 */
uint32_t tcp_ooo_pull(struct tcp_ooo *q, uint32_t *rcv_nxt, struct dtcp_pkt **out);

/**
 * The SACK blocks for the next ACK (RFC 2018 4): the first holds the
 * segment that arrived last; then the ranges most recently reported, none
 * a subset of another; then, while room is left (merges shrink the
 * remembered list), the lowest queued ranges not yet included, since the
 * RFC asks for as many distinct blocks as fit. No block starts at or below
 * rcv_nxt. With dsack, a pending D-SACK goes first (RFC 2883 4), and the
 * range holding its bytes, if queued, second. The pending D-SACK is
 * forgotten either way, so each duplicate is reported at most once.
 * O(n) in the blocks asked for, whatever the queue's length.
 *
 * @param n  room in out, <= TCP_OOO_SACK_MAX (3 beside timestamps)
 * @return blocks written (0..n), or -EINVAL for n out of range.
 */
int tcp_ooo_sack_blocks(struct tcp_ooo *q, uint32_t rcv_nxt, bool dsack,
                        struct tcp_ooo_block *out, int n);

/**
 * Check every invariant of q (ordering, disjointness, tree shape and heap
 * order, chain lengths, totals). For tests and debugging: O(n).
 *
 * @return 0, or -EFAULT at the first broken invariant.
 */
int tcp_ooo_check(const struct tcp_ooo *q);

static inline bool tcp_ooo_empty(const struct tcp_ooo *q)
{
	return q->first == NULL;
}

#endif
