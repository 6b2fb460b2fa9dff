/* The receive side's out-of-order queue and its SACK / D-SACK blocks (see
 * tcp_ooo.h for the overlap and memory rules). Ranges sit in a treap keyed
 * by their first sequence number and in a list in sequence order; the list
 * gives neighbours and both ends in O(1). Stack thread only. */
#include "tcp/tcp_ooo.h"

#include <errno.h>
#include <string.h>

#include "util.h"

/* Sequence-number order modulo 2^32 (RFC 9293 3.4): a is before b when b
 * lies less than 2^31 ahead of it. Every range lies within the window,
 * below 2^31 ahead of rcv_nxt, so the order is total over the queue. */
static inline bool ooo_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool ooo_seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline void ooo_pkt_free(const struct tcp_ooo *q, struct dtcp_pkt *p)
{
	q->ctx->pkt_free(q->ctx->pkt_self, p);
}

/* Free one buffer of a chain; the caller has kept the rest. */
static inline void ooo_seg_free(const struct tcp_ooo *q, struct dtcp_pkt *s)
{
	s->next = NULL;
	ooo_pkt_free(q, s);
}

/* The bytes a chain's buffers really hold, and how many buffers there are.
 * pkt_len is not trusted: the queue's byte accounting rests on these. */
static uint64_t ooo_chain_bytes(const struct dtcp_pkt *p, uint32_t *nsegs)
{
	uint64_t bytes = 0;
	uint32_t n = 0;

	for (; p; p = p->next) {
		bytes += p->data_len;
		n++;
	}
	*nsegs = n;
	return bytes;
}

/* Keep bytes [off, off + len) of chain p and free every buffer outside
 * them. Caller guarantees len > 0 and that the buffers hold off + len
 * bytes. Returns the new first buffer with pkt_len and nb_segs set, and
 * the last one in *tail. */
static struct dtcp_pkt *ooo_pkt_cut(const struct tcp_ooo *q, struct dtcp_pkt *p,
                                    uint32_t off, uint32_t len, struct dtcp_pkt **tail)
{
	struct dtcp_pkt *s, *rest;
	uint32_t left = len, nsegs = 0;

	while (off >= p->data_len) {
		struct dtcp_pkt *next = p->next;

		off -= p->data_len;
		ooo_seg_free(q, p);
		p = next;
	}
	p->data_off = (uint16_t)(p->data_off + off);
	p->data_len = (uint16_t)(p->data_len - off);
	for (s = p;; s = s->next) {
		nsegs++;
		if (left <= s->data_len) {
			s->data_len = (uint16_t)left;
			break;
		}
		left -= s->data_len;
	}
	rest = s->next;
	s->next = NULL;
	if (rest)
		ooo_pkt_free(q, rest);
	p->pkt_len = len;
	p->nb_segs = (uint16_t)nsegs;
	*tail = s;
	return p;
}

/* Append chain (p .. ptail) to range r's chain. The queue's segment cap
 * (TCP_OOO_MAX_SEGS, checked before any commit) keeps nb_segs exact. */
static void ooo_range_append(struct tcp_ooo_range *r, struct dtcp_pkt *p, struct dtcp_pkt *ptail)
{
	r->tail->next = p;
	r->head->pkt_len += p->pkt_len;
	r->head->nb_segs = (uint16_t)(r->head->nb_segs + p->nb_segs);
	r->tail = ptail;
}

/* Treap. Heap order on prio (parent's >= child's), search order on start.
 * Priorities come from the stack's secret seed, so the expected depth is
 * O(log n) whatever order a peer sends in, and inserting or removing a
 * node costs O(1) expected rotations. */

/* Make x the parent of its parent, keeping the in-order sequence. */
static void ooo_rotate_up(struct tcp_ooo *q, struct tcp_ooo_range *x)
{
	struct tcp_ooo_range *p = x->parent, *g = p->parent;

	if (p->left == x) {
		p->left = x->right;
		if (x->right)
			x->right->parent = p;
		x->right = p;
	} else {
		p->right = x->left;
		if (x->left)
			x->left->parent = p;
		x->left = p;
	}
	p->parent = x;
	x->parent = g;
	if (!g)
		q->root = x;
	else if (g->left == p)
		g->left = x;
	else
		g->right = x;
}

/* Put n, already linked in the list, into the tree. Between in-order
 * neighbours, either the predecessor has no right child or the successor
 * has no left child (it is then the leftmost node of the predecessor's right
 * subtree), so n attaches there without a search from the root. */
static void ooo_tree_link(struct tcp_ooo *q, struct tcp_ooo_range *n)
{
	struct tcp_ooo_range *pred = n->prev, *succ = n->next;

	n->left = NULL;
	n->right = NULL;
	if (pred && !pred->right) {
		pred->right = n;
		n->parent = pred;
	} else if (succ) {
		DTCP_ASSERT(!succ->left);
		succ->left = n;
		n->parent = succ;
	} else {
		DTCP_ASSERT(!q->root);
		q->root = n;
		n->parent = NULL;
	}
	while (n->parent && n->parent->prio < n->prio)
		ooo_rotate_up(q, n);
}

/* Take n out of the tree: rotate it down below its higher-priority child
 * until it has at most one child, then splice it out. */
static void ooo_tree_unlink(struct tcp_ooo *q, struct tcp_ooo_range *n)
{
	struct tcp_ooo_range *child;

	while (n->left && n->right)
		ooo_rotate_up(q, n->left->prio > n->right->prio ? n->left : n->right);
	child = n->left ? n->left : n->right;
	if (!n->parent)
		q->root = child;
	else if (n->parent->left == n)
		n->parent->left = child;
	else
		n->parent->right = child;
	if (child)
		child->parent = n->parent;
}

/* Link n into the list after pos (at the front when pos is NULL) and into
 * the tree. */
static void ooo_range_link(struct tcp_ooo *q, struct tcp_ooo_range *pos, struct tcp_ooo_range *n)
{
	n->prev = pos;
	n->next = pos ? pos->next : q->first;
	if (n->next)
		n->next->prev = n;
	else
		q->last = n;
	if (pos)
		pos->next = n;
	else
		q->first = n;
	n->prio = (uint32_t)mix64(q->nonce++, q->ctx->seed);
	ooo_tree_link(q, n);
	q->ranges++;
}

/* Unlink r from list and tree and return its node to the pool. Its buffers
 * and the byte and segment totals are the caller's to settle. */
static void ooo_range_remove(struct tcp_ooo *q, struct tcp_ooo_range *r)
{
	ooo_tree_unlink(q, r);
	if (r->prev)
		r->prev->next = r->next;
	else
		q->first = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		q->last = r->prev;
	q->ranges--;
	pool_put(q->ctx->ranges, r);
}

/* The last range starting at or before seq, or NULL. The two ends are
 * checked first: new data mostly extends the highest range (the sender
 * keeps sending past a loss) or fills the lowest hole (retransmissions). */
static struct tcp_ooo_range *ooo_floor(const struct tcp_ooo *q, uint32_t seq)
{
	struct tcp_ooo_range *r = q->last, *x, *best = NULL;

	if (!r || ooo_seq_leq(r->start, seq))
		return r;
	r = q->first;
	if (ooo_seq_lt(seq, r->start))
		return NULL;
	if (ooo_seq_lt(seq, r->next->start))
		return r;
	for (x = q->root; x;) {
		if (ooo_seq_leq(x->start, seq)) {
			best = x;
			x = x->right;
		} else {
			x = x->left;
		}
	}
	return best;
}

/* Record that the segment just received lies in range [start, end): it
 * becomes the first block of the next ACK, and the blocks it now contains
 * (ranges it merged or replaced, or its own earlier extent) go, since
 * RFC 2018 4 repeats only blocks that are not subsets of one already in
 * the option. The oldest block falls off the end. */
static void ooo_sack_note(struct tcp_ooo *q, uint32_t start, uint32_t end)
{
	struct tcp_ooo_block keep[TCP_OOO_SACK_MAX - 1];
	unsigned n = 0;

	for (unsigned i = 0; i < q->nr_sack; i++) {
		const struct tcp_ooo_block *b = &q->sack[i];

		if (ooo_seq_leq(start, b->start) && ooo_seq_leq(b->end, end))
			continue;
		if (n < TCP_OOO_SACK_MAX - 1)
			keep[n++] = *b;
	}
	q->sack[0].start = start;
	q->sack[0].end = end;
	memcpy(&q->sack[1], keep, n * sizeof(keep[0]));
	q->nr_sack = (uint8_t)(n + 1);
}

/* Remember [start, end) as this segment's duplicate unless a lower part was
 * found first: RFC 2883 4 allows one D-SACK block per ACK and does not say
 * which of several duplicate pieces; the lowest is the one the sender's
 * scoreboard is least likely to have reconciled. */
static void ooo_dup_note(struct tcp_ooo_block *dup, bool *have, uint32_t start, uint32_t end)
{
	if (*have)
		return;
	dup->start = start;
	dup->end = end;
	*have = true;
}

void tcp_ooo_range_pool_init(struct pool *p, uint64_t limit)
{
	pool_init(p, "tcp_ooo_range", sizeof(struct tcp_ooo_range), limit);
}

int tcp_ooo_init(struct tcp_ooo *q, const struct tcp_ooo_ctx *ctx,
                 uint32_t max_bytes, uint32_t max_segs)
{
	if (!ctx || !ctx->ranges || !ctx->pkt_free || max_segs > TCP_OOO_MAX_SEGS)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->ctx = ctx;
	q->max_bytes = max_bytes;
	q->max_segs = (uint16_t)max_segs;
	return 0;
}

void tcp_ooo_purge(struct tcp_ooo *q)
{
	struct tcp_ooo_range *r, *next;

	for (r = q->first; r; r = next) {
		next = r->next;
		ooo_pkt_free(q, r->head);
		pool_put(q->ctx->ranges, r);
	}
	q->root = NULL;
	q->first = NULL;
	q->last = NULL;
	q->bytes = 0;
	q->segs = 0;
	q->ranges = 0;
	q->nr_sack = 0;
	q->dsack_pending = false;
}

int tcp_ooo_insert(struct tcp_ooo *q, uint32_t rcv_nxt, uint32_t rcv_wnd,
                   uint32_t seq, struct dtcp_pkt *p, uint32_t len)
{
	struct tcp_ooo_range *l, *r, *cov, *t, *node = NULL, *c, *next;
	struct tcp_ooo_block dup = { 0, 0 };
	struct dtcp_pkt *tail;
	uint64_t new_bytes, new_segs;
	uint32_t nsegs, ns, ne, cov_bytes = 0, cov_segs = 0;
	int64_t lo, hi, ns_off, ne_off;
	bool have_dup = false, merge_l = false, merge_r = false;
	int flags = 0, err;

	/* RFC 2883 4: a D-SACK reports the most recent packet only. */
	q->dsack_pending = false;
	if (!p)
		return -EINVAL;
	if (len == 0 || len > p->pkt_len || rcv_wnd > (uint32_t)INT32_MAX ||
	    ooo_chain_bytes(p, &nsegs) < len || nsegs > TCP_OOO_MAX_SEGS) {
		err = -EINVAL;
		goto drop;
	}

	/* Acceptability, RFC 9293 3.10.7.4: keep only the part inside
	 * [rcv_nxt, rcv_nxt + rcv_wnd). Offsets from rcv_nxt make the wrap of
	 * 2^32 disappear: seq is taken as old when it lies up to 2^31 behind. */
	lo = (int32_t)(seq - rcv_nxt);
	hi = lo + len;
	if (lo < 0)
		ooo_dup_note(&dup, &have_dup, seq, rcv_nxt + (uint32_t)(hi < 0 ? hi : 0));
	if (hi > (int64_t)rcv_wnd)
		flags |= TCP_OOO_OUTSIDE;
	ns_off = lo > 0 ? lo : 0;
	ne_off = hi < (int64_t)rcv_wnd ? hi : (int64_t)rcv_wnd;
	if (ne_off <= ns_off)
		goto done_free;
	ns = rcv_nxt + (uint32_t)ns_off;
	ne = rcv_nxt + (uint32_t)ne_off;

	/* Queued bytes win: cut the front at the range reaching into it ... */
	l = ooo_floor(q, ns);
	if (l && ooo_seq_leq(ns, l->end)) {
		if (ooo_seq_leq(ne, l->end)) {
			/* Nothing new. The range still holds the segment that
			 * triggers the ACK, so it goes first (RFC 2018 4) and
			 * second behind the D-SACK (RFC 2883 4). */
			ooo_dup_note(&dup, &have_dup, ns, ne);
			ooo_sack_note(q, l->start, l->end);
			goto done_free;
		}
		if (ooo_seq_lt(ns, l->end)) {
			ooo_dup_note(&dup, &have_dup, ns, l->end);
			ns = l->end;
		}
		merge_l = true;
	}
	/* ... replace the ranges it covers whole ... */
	cov = l ? l->next : q->first;
	for (r = cov; r && ooo_seq_leq(r->end, ne); r = r->next) {
		ooo_dup_note(&dup, &have_dup, r->start, r->end);
		cov_bytes += r->end - r->start;
		cov_segs += r->head->nb_segs;
	}
	if (cov == r)
		cov = NULL;
	/* ... and cut the back at the range it reaches into. That range starts
	 * after ns (l is the last one starting at or before ns), so something
	 * is left. */
	if (r && ooo_seq_leq(r->start, ne)) {
		if (ooo_seq_lt(r->start, ne)) {
			ooo_dup_note(&dup, &have_dup, r->start, ne);
			ne = r->start;
		}
		merge_r = true;
	}
	p = ooo_pkt_cut(q, p, ns - seq, ne - ns, &tail);

	/* Compute, then commit: the limits and the node come first. */
	new_bytes = (uint64_t)q->bytes + (ne - ns) - cov_bytes;
	new_segs = (uint64_t)q->segs + p->nb_segs - cov_segs;
	if (new_segs > TCP_OOO_MAX_SEGS ||
	    (ns != rcv_nxt && (new_bytes > q->max_bytes || new_segs > q->max_segs))) {
		q->drops++;
		err = -ENOBUFS;
		goto drop;
	}
	if (!merge_l && !cov && !merge_r) {
		node = pool_get(q->ctx->ranges);
		if (!node) {
			q->drops++;
			q->nomem++;
			err = -ENOBUFS;
			goto drop;
		}
	}

	if (merge_l) {
		t = l;
		ooo_range_append(t, p, tail);
		t->end = ne;
	} else if (cov) {
		/* Reuse the first covered node: its new start still lies
		 * between its neighbours' keys, so the tree stays ordered. */
		t = cov;
		cov = t->next != r ? t->next : NULL;
		ooo_pkt_free(q, t->head);
		t->head = p;
		t->tail = tail;
		t->start = ns;
		t->end = ne;
	} else if (merge_r) {
		t = r;
		tail->next = r->head;
		p->pkt_len += r->head->pkt_len;
		p->nb_segs = (uint16_t)(p->nb_segs + r->head->nb_segs);
		r->head = p;
		r->start = ns;
	} else {
		t = node;
		t->head = p;
		t->tail = tail;
		t->start = ns;
		t->end = ne;
		ooo_range_link(q, l, t);
	}
	for (c = cov; c && c != r; c = next) {
		next = c->next;
		ooo_pkt_free(q, c->head);
		ooo_range_remove(q, c);
	}
	if (merge_r && t != r) {
		ooo_range_append(t, r->head, r->tail);
		t->end = r->end;
		ooo_range_remove(q, r);
	}
	q->bytes = (uint32_t)new_bytes;
	q->segs = (uint32_t)new_segs;
	ooo_sack_note(q, t->start, t->end);
	flags |= TCP_OOO_NEW;
	goto done;

done_free:
	ooo_pkt_free(q, p);
done:
	if (have_dup) {
		q->dsack = dup;
		q->dsack_pending = true;
		flags |= TCP_OOO_DUP;
	}
	if (q->first && ooo_seq_leq(q->first->start, rcv_nxt))
		flags |= TCP_OOO_FILLED;
	return flags;

drop:
	ooo_pkt_free(q, p);
	return err;
}

uint32_t tcp_ooo_pull(struct tcp_ooo *q, uint32_t *rcv_nxt, struct dtcp_pkt **out)
{
	struct dtcp_pkt *head = NULL, *tail = NULL, *p, *ptail;
	struct tcp_ooo_range *r;
	uint32_t nxt = *rcv_nxt, total = 0;
	unsigned n = 0;

	while ((r = q->first) && ooo_seq_leq(r->start, nxt)) {
		q->bytes -= r->end - r->start;
		q->segs -= r->head->nb_segs;
		p = r->head;
		ptail = r->tail;
		if (ooo_seq_leq(r->end, nxt)) {
			ooo_pkt_free(q, p);
			p = NULL;
		} else if (ooo_seq_lt(r->start, nxt)) {
			p = ooo_pkt_cut(q, p, nxt - r->start, r->end - nxt, &ptail);
		}
		if (p) {
			if (!head) {
				head = p;
			} else {
				/* The totals stay exact: all ranges together hold at
				 * most TCP_OOO_MAX_SEGS buffers. */
				tail->next = p;
				head->pkt_len += p->pkt_len;
				head->nb_segs = (uint16_t)(head->nb_segs + p->nb_segs);
			}
			tail = ptail;
			total += p->pkt_len;
			nxt = r->end;
		}
		ooo_range_remove(q, r);
	}
	*rcv_nxt = nxt;
	*out = head;

	/* Blocks now covered by the cumulative ACK are not SACKed again
	 * (RFC 2018 4: SACK reports data above the ACK only). */
	for (unsigned i = 0; i < q->nr_sack; i++)
		if (!ooo_seq_leq(q->sack[i].end, nxt))
			q->sack[n++] = q->sack[i];
	q->nr_sack = (uint8_t)n;
	return total;
}

/* Whether [start, end) is among out[from..k). */
static bool ooo_blocks_have(const struct tcp_ooo_block *out, int from, int k,
                            uint32_t start, uint32_t end)
{
	for (int i = from; i < k; i++)
		if (out[i].start == start && out[i].end == end)
			return true;
	return false;
}

int tcp_ooo_sack_blocks(struct tcp_ooo *q, uint32_t rcv_nxt, bool dsack,
                        struct tcp_ooo_block *out, int n)
{
	const struct tcp_ooo_range *r;
	int k = 0, first;

	if (n < 0 || n > TCP_OOO_SACK_MAX)
		return -EINVAL;
	/* RFC 2883 4: the D-SACK block goes first; each duplicate is reported
	 * in at most one of them, so it is used up here even when left out. */
	if (dsack && q->dsack_pending && k < n)
		out[k++] = q->dsack;
	q->dsack_pending = false;
	first = k;
	/* A block starting at or below rcv_nxt would be (partly) covered by
	 * the cumulative ACK; SACK reports data above it only (RFC 2018 3).
	 * None does once the caller has pulled. */
	for (unsigned i = 0; i < q->nr_sack && k < n; i++)
		if (ooo_seq_lt(rcv_nxt, q->sack[i].start))
			out[k++] = q->sack[i];
	/* RFC 2018 4 also asks for as many distinct blocks as fit. When merges
	 * left fewer remembered blocks than room, add the lowest queued ranges
	 * not yet in: the holes below them are the ones the sender fills next.
	 * At most n ranges already in are skipped, so this is O(1). */
	for (r = q->first; r && k < n; r = r->next)
		if (ooo_seq_lt(rcv_nxt, r->start) && !ooo_blocks_have(out, first, k, r->start, r->end))
			out[k++] = (struct tcp_ooo_block){ r->start, r->end };
	return k;
}

/* Tree checks for tcp_ooo_check(): parent links, heap order, and an
 * in-order walk that must meet the list's ranges in the list's order. */
static int ooo_check_tree(const struct tcp_ooo *q)
{
	const struct tcp_ooo_range *x = q->root, *want = q->first;
	uint32_t seen = 0;

	if (x && x->parent)
		return -EFAULT;
	while (x && x->left)
		x = x->left;
	while (x) {
		if (x != want || ++seen > q->ranges)
			return -EFAULT;
		if (x->left && (x->left->parent != x || x->left->prio > x->prio))
			return -EFAULT;
		if (x->right && (x->right->parent != x || x->right->prio > x->prio))
			return -EFAULT;
		want = want->next;
		if (x->right) {
			x = x->right;
			while (x->left)
				x = x->left;
		} else {
			while (x->parent && x->parent->right == x)
				x = x->parent;
			x = x->parent;
		}
	}
	return seen == q->ranges && !want ? 0 : -EFAULT;
}

int tcp_ooo_check(const struct tcp_ooo *q)
{
	const struct tcp_ooo_range *r, *prev = NULL;
	uint64_t bytes = 0, segs = 0;
	uint32_t ranges = 0;

	for (r = q->first; r; prev = r, r = r->next) {
		uint32_t nsegs;
		const struct dtcp_pkt *s;

		if (r->prev != prev || !ooo_seq_lt(r->start, r->end))
			return -EFAULT;
		/* Adjacent ranges would have been merged: a gap separates them. */
		if (prev && !ooo_seq_lt(prev->end, r->start))
			return -EFAULT;
		if (ooo_chain_bytes(r->head, &nsegs) != r->end - r->start ||
		    r->head->pkt_len != r->end - r->start || r->head->nb_segs != nsegs)
			return -EFAULT;
		for (s = r->head; s->next; s = s->next)
			;
		if (s != r->tail)
			return -EFAULT;
		bytes += r->end - r->start;
		segs += nsegs;
		ranges++;
	}
	if (prev != q->last || bytes != q->bytes || segs != q->segs || ranges != q->ranges)
		return -EFAULT;
	if (q->nr_sack > TCP_OOO_SACK_MAX)
		return -EFAULT;
	/* Every remembered block is a queued range as it stands now. */
	for (unsigned i = 0; i < q->nr_sack; i++) {
		const struct tcp_ooo_range *f = ooo_floor(q, q->sack[i].start);

		if (!f || f->start != q->sack[i].start || f->end != q->sack[i].end)
			return -EFAULT;
		for (unsigned j = 0; j < i; j++)
			if (q->sack[j].start == q->sack[i].start)
				return -EFAULT;
	}
	return ooo_check_tree(q);
}
