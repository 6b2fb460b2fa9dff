/* connect() port selection (see port_select.h; spec sections 5.4-5.6).
 *
 * The kernel walks the range one port at a time from a keyed starting point,
 * taking the first port that is not reserved, not bind-owned and unique for
 * the 4-tuple. Here each 64-port word of the range is judged at once from
 * four bitmaps (reserved ports, bind-owned ports, and the destination's live
 * and TIME_WAIT ports); only TIME_WAIT candidates are looked at one by one.
 * The walk order, and so the chosen port and the perturbation update, are the
 * kernel's. */
#include "inet/port_select.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "siphash.h"
#include "stack.h"

#define TIME_SEED_NS UINT64_C(10000000000) /* re-salt every 10 s */

uint64_t inet_port_offset(struct dtcp_stack *st, const struct in6_addr *saddr,
                          const struct in6_addr *daddr, uint16_t dport)
{
	uint32_t seed = (uint32_t)(stack_now_ns(st) / TIME_SEED_NS);
	uint16_t dport_be = htons(dport);
	uint8_t msg[38];
	size_t len;

	if (addr_is_mapped(daddr)) {
		uint32_t port32 = dport_be;

		memcpy(msg, &saddr->s6_addr32[3], 4);
		memcpy(msg + 4, &daddr->s6_addr32[3], 4);
		memcpy(msg + 8, &port32, 4);
		memcpy(msg + 12, &seed, 4);
		len = 16;
	} else {
		memcpy(msg, saddr, 16);
		memcpy(msg + 16, daddr, 16);
		memcpy(msg + 32, &seed, 4);
		memcpy(msg + 36, &dport_be, 2);
		len = 38;
	}
	return siphash24(st->secret, msg, len);
}

uint32_t *inet_perturb_table(struct dtcp_stack *st)
{
	if (!st->perturb) {
		st->perturb = malloc(PERTURB_SIZE * sizeof(uint32_t));
		if (st->perturb)
			st->env.random_bytes(st->env.arg, st->perturb, PERTURB_SIZE * sizeof(uint32_t));
	}
	return st->perturb;
}

bool inet_tw_recyclable(struct dtcp_stack *st, const struct inet_sock *tw, bool bound_port)
{
	int reuse = st->sysctl.tcp_tw_reuse;

	if (!tw->tw_has_ts)
		return false;
	if (bound_port)
		return true;
	if (reuse == 2)
		reuse = ifaddr_is_loopback(&tw->rcv_saddr) || ifaddr_is_loopback(&tw->daddr);
	if (tw->tw_fin_wait2)
		reuse = 0;
	if (!reuse)
		return false;
	/* 6.14+: strictly after the entry stamp plus tcp_tw_reuse_delay. */
	return (int32_t)(stack_now_ms(st) - (tw->tw_stamp_ms + (uint32_t)st->sysctl.tcp_tw_reuse_delay)) > 0;
}

/* Whether TIME_WAIT entries of this destination can be recycled at all now;
 * if not, they are as good as live and skipped with them. */
static bool dest_tw_candidates(struct dtcp_stack *st, const struct inet_sock *sk, const struct dest_entry *e)
{
	if (!e || !dest_tw_count(e))
		return false;
	if (st->sysctl.tcp_tw_reuse == 0)
		return false;
	if (st->sysctl.tcp_tw_reuse == 2)
		return ifaddr_is_loopback(&sk->rcv_saddr) || ifaddr_is_loopback(&sk->daddr);
	return true;
}

struct scan_ctx {
	struct dtcp_stack *st;
	struct inet_sock *sk;
	const struct dest_entry *dest;
	bool tw_ok;
	struct inet_sock *tw;
};

/* First usable port q in [a, b) with q = a (mod step), or -1. */
static int scan_segment(struct scan_ctx *c, uint32_t a, uint32_t b, uint32_t step)
{
	const uint64_t *reserved = c->st->sysctl.reserved, *owned = c->st->bt.bind_owned;
	uint64_t parity = step == 1 ? ~UINT64_C(0) : (a & 1) ? UINT64_C(0xaaaaaaaaaaaaaaaa)
	                                                     : UINT64_C(0x5555555555555555);

	const struct dest_dense *d = c->dest && c->dest->nsparse == DEST_DENSE ? c->dest->u.dense : NULL;

	if (a >= b)
		return -1;
	for (uint32_t w = a >> 6; w <= (b - 1) >> 6; w++) {
		uint64_t mask = parity, live, tw, avail;

		if (d) {
			/* Skip the words whose candidate ports this destination
			 * already holds, up to 64 words at once. */
			uint32_t ch = w / DEST_CHUNK_WORDS, o = w % DEST_CHUNK_WORDS;
			const uint64_t *f = c->tw_ok ? d->full_live[ch] : d->full_all[ch];
			uint64_t full = step == 1 ? f[0] & f[1] : f[a & 1];
			uint64_t run = ~(full >> o);

			if (!(run & 1)) {
				/* Words o .. o+k-1 are full: continue at o+k (or the next chunk). */
				w += run ? (uint32_t)__builtin_ctzll(run) - 1 : DEST_CHUNK_WORDS - o - 1;
				continue;
			}
		}

		if (w == a >> 6)
			mask &= ~UINT64_C(0) << (a & 63);
		if (w == (b - 1) >> 6 && (b & 63))
			mask &= ~UINT64_C(0) >> (64 - (b & 63));
		avail = mask & ~reserved[w] & ~owned[w];
		if (!avail)
			continue;
		dest_words(c->dest, w, &live, &tw);
		avail &= ~live;
		if (!c->tw_ok)
			avail &= ~tw;
		while (avail) {
			uint32_t bit = (uint32_t)__builtin_ctzll(avail);
			uint32_t q = (w << 6) | bit;

			avail &= avail - 1;
			if (tw & (UINT64_C(1) << bit)) {
				struct inet_sock *t = ehash_lookup(&c->st->eh, &c->sk->rcv_saddr, (uint16_t)q,
				                                   &c->sk->daddr, c->sk->dport);

				DTCP_ASSERT(t && t->dest_tw);
				if (!inet_tw_recyclable(c->st, t, false))
					continue;
				c->tw = t;
			}
			return (int)q;
		}
	}
	return -1;
}

int inet_connect_search(struct dtcp_stack *st, struct inet_sock *sk, uint64_t port_offset,
                        struct inet_sock **tw, uint64_t *ehash_h, bool defer_link)
{
	struct scan_ctx c = { .st = st, .sk = sk };
	uint32_t *perturb = inet_perturb_table(st);
	uint32_t remaining, offset, index, step, start, wrap, i, rnd;
	int low, high, q;
	bool local_ports;

	if (!perturb)
		return -ENOBUFS;
	local_ports = inet_sk_port_range(st, sk, &low, &high);
	step = local_ports ? 1 : 2;
	high++;
	remaining = (uint32_t)(high - low);
	if (!local_ports && remaining > 1)
		remaining &= ~1u;
	index = (uint32_t)(port_offset & (PERTURB_SIZE - 1));
	offset = (perturb[index] + (uint32_t)(port_offset >> 32)) % remaining;
	/* First pass: ports of the range's low parity (bind(0) prefers the other). */
	if (!local_ports)
		offset &= ~1u;

	c.dest = dest_lookup(&st->dt, &sk->rcv_saddr, &sk->daddr, sk->dport);
	c.tw_ok = dest_tw_candidates(st, sk, c.dest);
	/* The kernel walks p = low + offset + i (i < remaining) and wraps at
	 * high by subtracting remaining, which is one less than the range
	 * when an odd-sized range was rounded down: the walk is
	 * [start, min(high, start + remaining)) then [wrap, start), wrap being
	 * where the first wrapped p lands. */
	for (;;) {
		uint32_t n = (uint32_t)(high - low), v0;

		start = (uint32_t)low + offset;
		v0 = offset + (n - offset + step - 1) / step * step;   /* first i + offset >= n */
		wrap = (uint32_t)low + v0 - remaining;
		/* i < remaining also bounds the first part of the walk. */
		q = scan_segment(&c, start, DTCP_MIN((uint32_t)high, start + remaining), step);
		if (q < 0)
			q = scan_segment(&c, wrap, start, step);
		if (q >= 0)
			break;
		if (local_ports)
			goto exhausted;
		offset++;
		if (!((offset & 1) && remaining > 1))
			goto exhausted;
	}

	/* The port's bucket (and its first address bucket, on the next line)
	 * is read next, the established-table insert after the bind buckets:
	 * start loading both now, so that their misses overlap. */
	__builtin_prefetch(bind_table_port(&st->bt, (uint16_t)q));
	*ehash_h = ehash_hash(&st->eh, &sk->rcv_saddr, (uint16_t)q, &sk->daddr, sk->dport);
	ehash_prefetch(&st->eh, *ehash_h);
	/* A TIME_WAIT taken over leaves its bucket's owners at once: the
	 * list must hold this socket before then. */
	defer_link = defer_link && !c.tw;
	if (inet_bind_connect_port(st, sk, (uint16_t)q, defer_link))
		return -ENOBUFS;
	sk->sport = sk->num;
	/* i: how far the kernel's loop counter got in the successful pass. */
	i = (uint32_t)q >= start ? (uint32_t)q - start : (uint32_t)q - (uint32_t)low + remaining - offset;
	/* Random on low contention, none on high: max(i, step * rand(0..7)). */
	rnd = stack_random_below(st, 8) * step;
	perturb[index] += DTCP_MAX(i, rnd) + step;
	*tw = c.tw;
	return 0;

exhausted:
	st->cnt.connect_search_fail++;
	return -EADDRNOTAVAIL;
}
